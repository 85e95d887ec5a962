/*
 * pm32_v86: virtual-8086 mode (SDM Vol. 3A chapter 20).  IRET with
 * EFLAGS.VM = 1 from CPL 0 enters V86 mode with real-mode segments; an
 * INT n (IOPL 3) or a #GP (CLI with IOPL 0) leaves it through a 32-bit
 * ring-0 gate, on the TSS's SS0:ESP0 stack, with the V86 frame: EIP, CS,
 * EFLAGS, ESP, SS, ES, DS, FS, GS (SDM Figure 6-5 / 20.3.1.1), and
 * DS/ES/FS/GS cleared.
 */
#include "rt.h"

#define SEL_TSS 0x30
#define GDT_N 7
#define V86_CODE 0x2000u /* conventional memory below the kernel */
#define V86_SEG 0x0200u  /* V86 CS/DS/ES/SS: base 0x2000 */

struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t rest[22];
    uint16_t trap, iomap;
};

static uint64_t gdt[GDT_N] __attribute__((aligned(8)));
static struct tss32 tss __attribute__((aligned(128)));
static uint8_t ring0_stack[4096] __attribute__((aligned(16)));

/* filled by the exit stubs below */
volatile uint32_t v86_frame[10], v86_eax, v86_ebx, v86_vector, v86_saved_esp, v86_resume;
volatile uint16_t v86_ds_after;
volatile uint32_t v86_eflags; /* the image IRET loads (a global: ESP moves while pushing) */

/* Two ring-0 entry points: INT 0x40 (no error code) and #GP (error code).
 * They reload DS (null after leaving V86), copy the frame, and resume
 * the test on its own stack. */
__asm__(".text\n"
        ".globl v86_int_entry, v86_gp_entry\n"
        "v86_int_entry:\n"
        "  movl $0x40, %ecx\n"
        "  jmp v86_common\n"
        "v86_gp_entry:\n"
        "  movl $0x0d, %ecx\n"
        "v86_common:\n"
        "  movw %ds, %dx\n"
        "  pushl $0x10\n"
        "  popl %ds\n"
        "  movw %dx, v86_ds_after\n"
        "  movl %ecx, v86_vector\n"
        "  movl %eax, v86_eax\n"
        "  movl %ebx, v86_ebx\n"
        "  movl %esp, %esi\n"
        "  movl $v86_frame, %edi\n"
        "  movl $10, %ecx\n"
        "1: movl (%esi), %eax\n"
        "  movl %eax, (%edi)\n"
        "  addl $4, %esi\n"
        "  addl $4, %edi\n"
        "  loop 1b\n"
        "  pushl $0x10\n"
        "  popl %es\n"
        "  movl v86_saved_esp, %esp\n"
        "  jmp *v86_resume\n");
void v86_int_entry(void);
void v86_gp_entry(void);

static void setup(void)
{
    tss.ss0 = RT_SEL_DATA;
    tss.esp0 = (uint32_t)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap = sizeof(tss);
    /* available 32-bit TSS (type 9), present */
    gdt[SEL_TSS >> 3] = rt_desc((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0);
    rt_gdt_load(gdt, GDT_N);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
    /* gate DPL 3 so INT n from V86 (CPL 3) may use it; 0x8E|0x60 */
    rt_idt_set_gate(0x40, (uintptr_t)v86_int_entry, 0xEE, RT_SEL_CODE32);
    rt_idt_set_gate(13, (uintptr_t)v86_gp_entry, 0x8E, RT_SEL_CODE32);
}

/* Enters V86 at V86_SEG:0 with the given IOPL; returns when a stub resumes. */
static void run_v86(const uint8_t *code, unsigned len, unsigned iopl)
{
    for (unsigned k = 0; k < len; k++)
        ((volatile uint8_t *)V86_CODE)[k] = code[k];
    v86_eflags = 0x2 | (1u << 17) | (iopl << 12);
    __asm__ volatile("movl $1f, v86_resume\n\t"
                     "movl %%esp, v86_saved_esp\n\t"
                     "pushl %[seg]\n\t" /* GS */
                     "pushl %[seg]\n\t" /* FS */
                     "pushl %[seg]\n\t" /* DS */
                     "pushl %[seg]\n\t" /* ES */
                     "pushl %[seg]\n\t" /* SS */
                     "pushl $0x0ff0\n\t" /* ESP */
                     "pushl v86_eflags\n\t"
                     "pushl %[seg]\n\t" /* CS */
                     "pushl $0\n\t"      /* EIP */
                     "iret\n"
                     "1:"
                     :
                     : [seg] "i"(V86_SEG)
                     : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
    __asm__ volatile("pushl $0x10; popl %%fs; pushl $0x10; popl %%gs" ::: "memory");
}

static void test_int_leaves_v86(void)
{
    static const uint8_t code[] = {
        0xb8, 0x34, 0x12, /* mov ax, 0x1234 */
        0x8c, 0xdb,       /* mov bx, ds */
        0xcd, 0x40,       /* int 0x40 */
    };
    run_v86(code, sizeof(code), 3);
    ASSERT_EQ(v86_vector, 0x40);
    ASSERT_EQ(v86_eax & 0xffff, 0x1234);
    ASSERT_EQ(v86_ebx & 0xffff, V86_SEG); /* segment registers hold paragraphs */
    ASSERT_EQ(v86_ds_after, 0);           /* DS/ES/FS/GS cleared on the way out */
    ASSERT_EQ(v86_frame[0], 7);           /* EIP after INT 0x40 */
    ASSERT_EQ(v86_frame[1], V86_SEG);     /* CS */
    ASSERT_NE(v86_frame[2] & (1u << 17), 0); /* saved EFLAGS.VM */
    ASSERT_EQ(v86_frame[3], 0x0ff0);      /* ESP */
    ASSERT_EQ(v86_frame[4], V86_SEG);     /* SS */
    ASSERT_EQ(v86_frame[5], V86_SEG);     /* ES */
    ASSERT_EQ(v86_frame[6], V86_SEG);     /* DS */
    ASSERT_EQ(v86_frame[7], V86_SEG);     /* FS */
    ASSERT_EQ(v86_frame[8], V86_SEG);     /* GS */
}

static void test_cli_iopl0_faults(void)
{
    static const uint8_t code[] = {
        0x90, /* nop */
        0xfa, /* cli: IOPL-sensitive in V86 (SDM 20.2.7) */
    };
    run_v86(code, sizeof(code), 0);
    ASSERT_EQ(v86_vector, 13);
    ASSERT_EQ(v86_frame[0], 0);       /* #GP(0) error code */
    ASSERT_EQ(v86_frame[1], 1);       /* EIP of the CLI */
    ASSERT_EQ(v86_frame[2], V86_SEG); /* CS */
}

static void test_int_iopl0_faults(void)
{
    static const uint8_t code[] = {0xcd, 0x40}; /* INT n with IOPL < 3: #GP(0) */
    run_v86(code, sizeof(code), 0);
    ASSERT_EQ(v86_vector, 13);
    ASSERT_EQ(v86_frame[0], 0);
    ASSERT_EQ(v86_frame[1], 0);
}

void test_main(void)
{
    setup();
    RUN_TEST(test_int_leaves_v86);
    RUN_TEST(test_cli_iopl0_faults);
    RUN_TEST(test_int_iopl0_faults);
}
