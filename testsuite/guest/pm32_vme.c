/*
 * pm32_vme: the virtual-8086 mode extensions (CR4.VME) and protected-
 * mode virtual interrupts (CR4.PVI), SDM Vol. 3B 20.3-20.4 and the CLI,
 * STI, PUSHF, POPF, IRET and INT n pseudocode of Vol. 2.
 *
 * Each case enters V86 (or ring 3) with IRET and a chosen EFLAGS, runs
 * a few bytes, and leaves through a ring-0 gate: #GP (HLT at CPL 3
 * always raises it, so HLT ends a case) or INT 0x40.  The exit stub
 * records the frame, so the cases assert on the EFLAGS image the
 * processor saved: VIF, VIP, IF, IOPL, TF as the instructions left them.
 *
 * Vector 0x30 is clear in the TSS's software interrupt redirection bit
 * map (redirected to the 8086 program's vector table at linear 0);
 * vector 0x40 is set there (the protected-mode IDT).
 */
#include <stddef.h>

#include "rt.h"

#define SEL_TSS 0x30
#define SEL_UCODE 0x3b /* GDT index 7, RPL 3: 32-bit code, DPL 3 */
#define SEL_UDATA 0x43 /* GDT index 8, RPL 3: data, DPL 3 */
#define GDT_N 9
#define V86_CODE 0x2000u /* conventional memory below the kernel */
#define V86_SEG 0x0200u  /* V86 CS/DS/ES/FS/GS/SS: base 0x2000 */
#define V86_SP 0x0ff0u
#define VEC_IVT 0x30     /* redirection bit clear */
#define VEC_PM 0x40      /* redirection bit set; DPL-3 gate */
#define IVT_HANDLER 0x40 /* offset in V86_SEG of the 8086 handler for VEC_IVT */

#define FL_CF 0x1u
#define FL_FIXED 0x2u
#define FL_TF 0x100u
#define FL_IF 0x200u
#define FL_IOPL 0x3000u
#define FL_VM 0x20000u
#define FL_VIF 0x80000u
#define FL_VIP 0x100000u
#define IOPL(n) ((uint32_t)(n) << 12)
#define CR4_VME 0x1ul
#define CR4_PVI 0x2ul

struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t rest[22];
    uint16_t trap, iomap;
    uint8_t redirect[32]; /* software interrupt redirection bit map (SDM Figure 20-5) */
    uint8_t io_end;       /* the I/O bit map's closing 0xFF: no port allowed */
};

static uint64_t gdt[GDT_N] __attribute__((aligned(8)));
static struct tss32 tss __attribute__((aligned(128)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));
static uint8_t ring3_stack[1024] __attribute__((aligned(16)));

/* the IRET frame enter() pushes (last word first), and what the exit
 * stub saw: frame[0] error code (0 for INT 0x40), frame[1] EIP, [2] CS,
 * [3] EFLAGS, [4] ESP, [5] SS, then ES, DS, FS, GS from V86 */
volatile uint32_t vme_iret_frame[9], vme_iret_words;
volatile uint32_t vme_frame[10], vme_vector, vme_eax, vme_ebx, vme_saved_esp, vme_resume;

__asm__(".text\n"
        ".globl vme_gp_entry, vme_int_entry\n"
        "vme_gp_entry:\n"
        "  pushl $13\n"
        "  jmp 1f\n"
        "vme_int_entry:\n"
        "  pushl $0\n" /* no error code: keep #GP's frame layout */
        "  pushl $0x40\n"
        "1:\n"
        "  movl %eax, %ss:vme_eax\n"
        "  movl %ebx, %ss:vme_ebx\n"
        "  movl $0x10, %eax\n"
        "  movw %ax, %ds\n"
        "  movw %ax, %es\n"
        "  movw %ax, %fs\n"
        "  movw %ax, %gs\n"
        "  popl vme_vector\n"
        "  movl %esp, %esi\n"
        "  movl $vme_frame, %edi\n"
        "  movl $10, %ecx\n"
        "  cld\n"
        "  rep movsl\n"
        "  movl vme_saved_esp, %esp\n"
        "  jmp *vme_resume\n"
        /* ring-3 code for the PVI cases: one instruction, then INT 0x40 */
        ".globl vme_ring3_cli, vme_ring3_sti\n"
        "vme_ring3_cli:\n"
        "  cli\n"
        "  int $0x40\n"
        "vme_ring3_sti:\n"
        "  sti\n"
        "  int $0x40\n");
void vme_gp_entry(void);
void vme_int_entry(void);
void vme_ring3_cli(void);
void vme_ring3_sti(void);

/* low memory (the V86 program's vector table and code) through a
 * pointer the compiler cannot see as a constant */
static volatile uint8_t *low(uint32_t addr)
{
    uintptr_t p = addr;
    __asm__("" : "+r"(p));
    return (volatile uint8_t *)p;
}

static uint16_t low16(uint32_t addr)
{
    return (uint16_t)(low(addr)[0] | (low(addr)[1] << 8));
}

static void setup(void)
{
    tss.ss0 = RT_SEL_DATA;
    tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap = offsetof(struct tss32, redirect) + sizeof(tss.redirect);
    tss.redirect[VEC_PM / 8] |= 1u << (VEC_PM % 8);
    tss.io_end = 0xff;
    gdt[SEL_TSS >> 3] = rt_desc((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0);
    gdt[SEL_UCODE >> 3] = rt_desc(0, 0xfffff, 0xfa, 0xc); /* G, D */
    gdt[SEL_UDATA >> 3] = rt_desc(0, 0xfffff, 0xf2, 0xc);
    rt_gdt_load(gdt, GDT_N);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
    rt_idt_set_gate(VEC_PM, (uintptr_t)vme_int_entry, 0xEE, RT_SEL_CODE32);
    rt_idt_set_gate(13, (uintptr_t)vme_gp_entry, 0x8E, RT_SEL_CODE32);
    /* the 8086 program's vector table: VEC_IVT -> V86_SEG:IVT_HANDLER */
    volatile uint8_t *ivt = low(VEC_IVT * 4);
    ivt[0] = IVT_HANDLER & 0xff;
    ivt[1] = IVT_HANDLER >> 8;
    ivt[2] = V86_SEG & 0xff;
    ivt[3] = V86_SEG >> 8;
    /* cases run with IF = 1: no interrupt may arrive */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/* IRETs to the frame in vme_iret_frame; returns when a stub resumes */
static void enter(void)
{
    __asm__ volatile("movl $1f, vme_resume\n\t"
                     "movl %%esp, vme_saved_esp\n\t"
                     "movl vme_iret_words, %%ecx\n"
                     "2: pushl vme_iret_frame-4(,%%ecx,4)\n\t"
                     "loop 2b\n\t"
                     "iret\n"
                     "1:"
                     :
                     :
                     : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
    write_cr4(read_cr4() & ~(CR4_VME | CR4_PVI));
}

/* Runs code at V86_SEG:0 in V86 mode with EFLAGS = FIXED | VM | extra
 * (IOPL, IF, VIF, VIP, TF), CR4 as given, SP = V86_SP; a byte at
 * IVT_HANDLER is the 8086 handler (HLT: ends the case) */
static void run_v86(const uint8_t *code, unsigned len, uint32_t flags, unsigned long cr4)
{
    for (unsigned k = 0; k < 0x100; k++)
        low(V86_CODE)[k] = k < len ? code[k] : 0xf4; /* hlt */
    low(V86_CODE)[IVT_HANDLER] = 0xf4; /* hlt */
    const uint32_t frame[9] = {0, V86_SEG, FL_FIXED | FL_VM | flags, V86_SP, V86_SEG,
                               V86_SEG, V86_SEG, V86_SEG, V86_SEG};
    for (unsigned k = 0; k < 9; k++)
        vme_iret_frame[k] = frame[k];
    vme_iret_words = 9;
    vme_vector = 0xff;
    write_cr4((read_cr4() & ~(CR4_VME | CR4_PVI)) | cr4);
    enter();
}

/* Runs fn at CPL 3 in protected mode (32-bit, flat) */
static void run_ring3(void (*fn)(void), uint32_t flags, unsigned long cr4)
{
    const uint32_t frame[5] = {(uint32_t)(uintptr_t)fn, SEL_UCODE, FL_FIXED | flags,
                               (uint32_t)(uintptr_t)(ring3_stack + sizeof(ring3_stack)),
                               SEL_UDATA};
    for (unsigned k = 0; k < 5; k++)
        vme_iret_frame[k] = frame[k];
    vme_iret_words = 5;
    vme_vector = 0xff;
    write_cr4((read_cr4() & ~(CR4_VME | CR4_PVI)) | cr4);
    enter();
}

#define GP_AT(eip)                                                         \
    do {                                                                   \
        ASSERT_EQ(vme_vector, 13);                                         \
        ASSERT_EQ(vme_frame[0], 0); /* #GP(0) */                           \
        ASSERT_EQ(vme_frame[1], (eip));                                    \
        ASSERT_EQ(vme_frame[2], V86_SEG);                                  \
    } while (0)
#define EFL vme_frame[3]

static void test_cpuid_and_cr4(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    ASSERT_NE(r[3] & (1u << 1), 0); /* CPUID.1:EDX.VME */
    unsigned long cr4 = read_cr4();
    write_cr4(cr4 | CR4_VME | CR4_PVI);
    ASSERT_EQ(read_cr4() & (CR4_VME | CR4_PVI), CR4_VME | CR4_PVI);
    write_cr4(cr4);
    ASSERT_EQ(read_cr4() & (CR4_VME | CR4_PVI), 0);
}

/* without VME, V86 at IOPL < 3 keeps the 8086 behaviour: #GP (20.2.7) */
static void test_no_vme_cli_faults(void)
{
    static const uint8_t code[] = {0xfa}; /* cli */
    run_v86(code, sizeof(code), IOPL(0) | FL_IF | FL_VIF, 0);
    GP_AT(0);
    ASSERT_NE(EFL & FL_VIF, 0);
}

static void test_no_vme_pushf_faults(void)
{
    static const uint8_t code[] = {0x9c}; /* pushf */
    run_v86(code, sizeof(code), IOPL(0), 0);
    GP_AT(0);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* "CLI": V86, VME, IOPL < 3 clears VIF and leaves IF */
static void test_cli_clears_vif(void)
{
    static const uint8_t code[] = {0xfa, 0xf4}; /* cli; hlt */
    run_v86(code, sizeof(code), IOPL(0) | FL_IF | FL_VIF, CR4_VME);
    GP_AT(1);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_VM | FL_IOPL), FL_IF | FL_VM);
}

/* "STI": sets VIF and leaves IF */
static void test_sti_sets_vif(void)
{
    static const uint8_t code[] = {0xfb, 0xf4}; /* sti; hlt */
    run_v86(code, sizeof(code), IOPL(1), CR4_VME);
    GP_AT(1);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_VIP), FL_VIF);
}

/* "STI": a pending virtual interrupt (VIP) is #GP(0), VIF unchanged */
static void test_sti_with_vip_faults(void)
{
    static const uint8_t code[] = {0xfb}; /* sti */
    run_v86(code, sizeof(code), IOPL(0) | FL_VIP, CR4_VME);
    GP_AT(0);
    ASSERT_EQ(EFL & (FL_VIF | FL_VIP), FL_VIP);
}

/* "PUSHF": the image has VIF in place of IF and IOPL 3 */
static void test_pushf_image(void)
{
    static const uint8_t code[] = {
        0xf9,       /* stc */
        0x9c, 0x58, /* pushf; pop ax   (VIF 0, IF 1) */
        0xfb,       /* sti */
        0x9c, 0x5b, /* pushf; pop bx   (VIF 1) */
        0xf4,       /* hlt */
    };
    run_v86(code, sizeof(code), IOPL(0) | FL_IF, CR4_VME);
    GP_AT(6);
    ASSERT_EQ(vme_eax & 0xffff, 0x3003); /* IOPL 3, IF 0 (VIF), bit 1, CF */
    ASSERT_EQ(vme_ebx & 0xffff, 0x3203); /* IF 1 (VIF) */
    ASSERT_EQ(EFL & (FL_IF | FL_VIF | FL_IOPL), FL_IF | FL_VIF);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* "PUSHF"/"POPF": only the 16-bit forms; PUSHFD is #GP(0) */
static void test_pushfd_faults(void)
{
    static const uint8_t code[] = {0x66, 0x9c}; /* pushfd */
    run_v86(code, sizeof(code), IOPL(0), CR4_VME);
    GP_AT(0);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* "POPF": IF of the image goes to VIF; IF and IOPL keep their values */
static void test_popf_loads_vif(void)
{
    static const uint8_t code[] = {
        0xb8, 0x01, 0x32, /* mov ax, 0x3201: IOPL 3, IF, CF */
        0x50,             /* push ax */
        0x9d,             /* popf */
        0xf4,             /* hlt */
    };
    run_v86(code, sizeof(code), IOPL(0), CR4_VME);
    GP_AT(5);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_IOPL | FL_CF), FL_VIF | FL_CF);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* "POPF": setting IF with VIP set, or setting TF, is #GP(0) with SP
 * unchanged */
static void test_popf_faults(void)
{
    static const uint8_t code_if[] = {0xb8, 0x00, 0x02, 0x50, 0x9d}; /* IF */
    run_v86(code_if, sizeof(code_if), IOPL(0) | FL_VIP, CR4_VME);
    GP_AT(4);
    ASSERT_EQ(vme_frame[4], V86_SP - 2);
    ASSERT_EQ(EFL & (FL_VIF | FL_VIP), FL_VIP);

    static const uint8_t code_tf[] = {0xb8, 0x00, 0x01, 0x50, 0x9d}; /* TF */
    run_v86(code_tf, sizeof(code_tf), IOPL(0), CR4_VME);
    GP_AT(4);
    ASSERT_EQ(vme_frame[4], V86_SP - 2);
    ASSERT_EQ(EFL & FL_TF, 0);
}

/* "IRET": the 16-bit form returns within V86, FLAGS.IF to VIF */
static void test_iret16_loads_vif(void)
{
    static const uint8_t code[] = {
        0xb8, 0x01, 0x02, /* mov ax, 0x0201: IF, CF */
        0x50,             /* push ax */
        0x0e,             /* push cs */
        0xb8, 0x20, 0x00, /* mov ax, 0x20 */
        0x50,             /* push ax */
        0xcf,             /* iret */
        [0x20] = 0xf4,    /* hlt */
    };
    run_v86(code, sizeof(code), IOPL(0), CR4_VME);
    GP_AT(0x20);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_CF), FL_VIF | FL_CF);
    ASSERT_EQ(vme_frame[4], V86_SP);

    static const uint8_t code32[] = {0x66, 0xcf}; /* iretd: #GP(0) */
    run_v86(code32, sizeof(code32), IOPL(0), CR4_VME);
    GP_AT(0);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* "INT n", method 6 (Table 20-2): bit clear, IOPL < 3: to the 8086
 * handler; FLAGS pushed with IF = VIF and IOPL 3; VIF and TF cleared */
static void test_int_redirected_vif(void)
{
    static const uint8_t code[] = {0xf9, 0xcd, VEC_IVT}; /* stc; int 0x30 */
    run_v86(code, sizeof(code), IOPL(0) | FL_IF | FL_VIF, CR4_VME);
    GP_AT(IVT_HANDLER); /* the HLT there */
    ASSERT_EQ(vme_frame[4], V86_SP - 6);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_IOPL | FL_VM), FL_IF | FL_VM);
    uint32_t sp = V86_CODE + V86_SP - 6;
    ASSERT_EQ(low16(sp), 3);           /* IP after INT 0x30 */
    ASSERT_EQ(low16(sp + 2), V86_SEG); /* CS */
    ASSERT_EQ(low16(sp + 4), 0x3203);  /* IOPL 3, IF (= VIF), bit 1, CF */
}

/* the redirected INT clears TF (pushed set): no single-step trap in
 * the handler, whose HLT faults with TF clear */
static void test_int_redirected_clears_tf(void)
{
    static const uint8_t code[] = {0xcd, VEC_IVT}; /* int 0x30 */
    run_v86(code, sizeof(code), IOPL(0) | FL_TF, CR4_VME);
    GP_AT(IVT_HANDLER);
    ASSERT_EQ(EFL & FL_TF, 0);
    ASSERT_EQ(low16(V86_CODE + V86_SP - 2), 0x3102); /* IOPL 3, TF, bit 1 */
}

/* method 5: bit clear, IOPL 3: the real IF is pushed and cleared */
static void test_int_redirected_iopl3(void)
{
    static const uint8_t code[] = {0xcd, VEC_IVT}; /* int 0x30 */
    run_v86(code, sizeof(code), IOPL(3) | FL_IF, CR4_VME);
    GP_AT(IVT_HANDLER);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF | FL_IOPL), IOPL(3));
    uint32_t sp = V86_CODE + V86_SP - 6;
    ASSERT_EQ(low16(sp), 2);
    ASSERT_EQ(low16(sp + 4), 0x3202); /* IF as it was, IOPL 3 */
}

/* method 4: bit set, IOPL 3: the protected-mode IDT, leaving V86 */
static void test_int_bitmap_set_to_idt(void)
{
    static const uint8_t code[] = {0xcd, VEC_PM}; /* int 0x40 */
    run_v86(code, sizeof(code), IOPL(3), CR4_VME);
    ASSERT_EQ(vme_vector, VEC_PM);
    ASSERT_EQ(vme_frame[1], 2);
    ASSERT_EQ(vme_frame[2], V86_SEG);
    ASSERT_NE(EFL & FL_VM, 0);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* method 3: bit set, IOPL < 3: #GP(0) */
static void test_int_bitmap_set_faults(void)
{
    static const uint8_t code[] = {0xcd, VEC_PM}; /* int 0x40 */
    run_v86(code, sizeof(code), IOPL(0) | FL_VIF, CR4_VME);
    GP_AT(0);
    ASSERT_EQ(vme_frame[4], V86_SP);
}

/* without VME the bit map is not read: IOPL 3 goes to the IDT even for
 * a vector whose bit is clear */
static void test_no_vme_int_to_idt(void)
{
    rt_idt_set_gate(VEC_IVT, (uintptr_t)vme_int_entry, 0xEE, RT_SEL_CODE32);
    static const uint8_t code[] = {0xcd, VEC_IVT}; /* int 0x30 */
    run_v86(code, sizeof(code), IOPL(3), 0);
    ASSERT_EQ(vme_vector, VEC_PM); /* the stub records 0x40 for either gate */
    ASSERT_EQ(vme_frame[1], 2);
}

/* PVI (20.4): CPL 3 in protected mode, IOPL < 3: CLI/STI on VIF */
static void test_pvi_cli_sti(void)
{
    run_ring3(vme_ring3_cli, IOPL(0) | FL_IF | FL_VIF, CR4_PVI);
    ASSERT_EQ(vme_vector, VEC_PM);
    ASSERT_EQ(vme_frame[2], SEL_UCODE);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF), FL_IF);

    run_ring3(vme_ring3_sti, IOPL(0), CR4_PVI);
    ASSERT_EQ(vme_vector, VEC_PM);
    ASSERT_EQ(EFL & (FL_VIF | FL_IF), FL_VIF);

    /* STI with VIP: #GP(0) */
    run_ring3(vme_ring3_sti, IOPL(0) | FL_VIP, CR4_PVI);
    ASSERT_EQ(vme_vector, 13);
    ASSERT_EQ(vme_frame[1], (uint32_t)(uintptr_t)vme_ring3_sti);
    ASSERT_EQ(EFL & FL_VIF, 0);

    /* without PVI (VME alone does not count outside V86): #GP(0) */
    run_ring3(vme_ring3_cli, IOPL(0) | FL_VIF, CR4_VME);
    ASSERT_EQ(vme_vector, 13);
    ASSERT_EQ(vme_frame[1], (uint32_t)(uintptr_t)vme_ring3_cli);
    ASSERT_NE(EFL & FL_VIF, 0);
}

void test_main(void)
{
    setup();
    RUN_TEST(test_cpuid_and_cr4);
    RUN_TEST(test_no_vme_cli_faults);
    RUN_TEST(test_no_vme_pushf_faults);
    RUN_TEST(test_cli_clears_vif);
    RUN_TEST(test_sti_sets_vif);
    RUN_TEST(test_sti_with_vip_faults);
    RUN_TEST(test_pushf_image);
    RUN_TEST(test_pushfd_faults);
    RUN_TEST(test_popf_loads_vif);
    RUN_TEST(test_popf_faults);
    RUN_TEST(test_iret16_loads_vif);
    RUN_TEST(test_int_redirected_vif);
    RUN_TEST(test_int_redirected_clears_tf);
    RUN_TEST(test_int_redirected_iopl3);
    RUN_TEST(test_int_bitmap_set_to_idt);
    RUN_TEST(test_int_bitmap_set_faults);
    RUN_TEST(test_no_vme_int_to_idt);
    RUN_TEST(test_pvi_cli_sti);
}
