/*
 * lm64_rings: privilege transitions in IA-32e mode. IRETQ to ring 3 and
 * back through a DPL-3 interrupt gate; INT n through a DPL-0 gate from
 * ring 3; SYSCALL/SYSRET; SYSENTER/SYSEXIT; a 64-bit call gate and RETF.
 */
#include "rt.h"

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_FMASK 0xC0000084u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define EFER_SCE 1ull

#define RFLAGS_DF 0x400ull
#define RFLAGS_AC 0x40000ull
#define VEC_PROBE 0x83 /* DPL-3 gate */
#define VEC_DPL0 0x84  /* DPL-0 gate */
#define SEL_GATE RT_SEL_SPARE

/* Filled by lm64_rings.S; the meaning of each word depends on the path. */
struct seen {
    uint64_t w0, w1, w2;
    uint64_t cs, ss, rsp, w6;
};
extern volatile struct seen rings_seen;
volatile struct seen rings_seen;
extern char rings_syscall_entry[], rings_sysenter_entry[];
extern char rings_gate_target[], rings_int_entry[];

static uint64_t sysenter_stack[64] __attribute__((aligned(16)));

/* ---- ring-3 code ---------------------------------------------------------- */

/* Segment registers as ring 3 sees them after IRETQ. */
RT_USER_TEXT static uint64_t user_segments(uint64_t arg)
{
    (void)arg;
    uint64_t cs, ss, ds;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1\n\tmov %%ds, %2"
                     : "=r"(cs), "=r"(ss), "=r"(ds));
    return cs | ss << 16 | ds << 32;
}

/* INT n: the address of the instruction after it comes back in bits. */
RT_USER_TEXT static uint64_t user_int_probe(uint64_t arg)
{
    (void)arg;
    uint64_t after;
    __asm__ volatile("lea 1f(%%rip), %0\n\tint $0x83\n1:" : "=r"(after)
                     :: "rax", "memory");
    return after;
}

RT_USER_TEXT static uint64_t user_int_dpl0(uint64_t arg)
{
    (void)arg;
    __asm__ volatile("int $0x84" ::: "memory");
    return 0;
}

/* SYSCALL with DF and AC set; back from SYSRET the user reads CS, SS and
   RFLAGS. Returns CS | SS << 16 | (RFLAGS & (DF|AC)) << 32. */
RT_USER_TEXT static uint64_t user_syscall(uint64_t arg)
{
    uint64_t cs, ss, fl;
    __asm__ volatile("std\n\t"
                     "pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\t"
                     "syscall\n\t"
                     "pushfq\n\tpopq %2\n\t"
                     "cld\n\t"
                     "pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq\n\t"
                     "mov %%cs, %0\n\tmov %%ss, %1"
                     : "=r"(cs), "=r"(ss), "=r"(fl)
                     : "D"(arg)
                     : "rcx", "r11", "rax", "memory");
    return cs | ss << 16 | (fl & (RFLAGS_DF | RFLAGS_AC)) << 32;
}

RT_USER_TEXT static uint64_t user_sysenter(uint64_t arg)
{
    (void)arg;
    uint64_t cs, ss;
    __asm__ volatile("mov %%rsp, %%rcx\n\t"
                     "lea 1f(%%rip), %%rdx\n\t"
                     "sysenter\n"
                     "1:\tmov %%cs, %0\n\tmov %%ss, %1"
                     : "=r"(cs), "=r"(ss)::"rcx", "rdx", "memory");
    return cs | ss << 16;
}

/* Far call through the call gate; the offset of the far pointer is
   ignored for a gate (SDM Vol. 2A, CALL). */
RT_USER_DATA static struct __attribute__((packed)) {
    uint32_t off;
    uint16_t sel;
} gate_ptr = { 0, SEL_GATE | 3 };

RT_USER_TEXT static uint64_t user_call_gate(uint64_t arg)
{
    (void)arg;
    uint64_t cs, after;
    __asm__ volatile("lea 1f(%%rip), %1\n\t"
                     "lcall *%2\n"
                     "1:\tmov %%cs, %0"
                     : "=r"(cs), "=&r"(after)
                     : "m"(gate_ptr)
                     : "rax", "memory");
    return cs | after << 16;
}

/* ---- tests ----------------------------------------------------------------- */

/* IRETQ to CPL 3 loads CS and SS from the frame; DS held a DPL-0 data
   selector, which IRET to an outer level replaces by NULL (SDM Vol. 2A,
   IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
static void test_iretq_to_ring3(void)
{
    uint64_t r = rt_user_call(user_segments, 0);
    ASSERT_EQ(rt_fault.vector, -1);
    ASSERT_EQ(r & 0xFFFF, RT_SEL_UCODE64 | 3);
    ASSERT_EQ((r >> 16) & 0xFFFF, RT_SEL_UDATA | 3);
    ASSERT_EQ((r >> 32) & 0xFFFF, 0);
}

/* INT n from CPL 3 through a DPL-3 interrupt gate: stack switch to
   TSS.RSP0, frame SS, RSP, RFLAGS, CS, RIP (SDM Vol. 3A, 6.14.2, Figure
   6-9); in 64-bit mode the new SS is NULL with RPL = new CPL (6.14.4).
   IF is cleared by an interrupt gate. */
static void test_int_dpl3_gate(void)
{
    rt_user_init();
    rt_idt_set_gate(VEC_PROBE, (uintptr_t)rings_int_entry, 0xEE, 0);
    uint64_t after = rt_user_call(user_int_probe, 0);
    ASSERT_EQ(rt_fault.vector, -1);
    ASSERT_EQ(rings_seen.w0, after);                 /* RIP: next insn */
    ASSERT_EQ(rings_seen.w1, RT_SEL_UCODE64 | 3);    /* CS */
    ASSERT_EQ(rings_seen.w2 & 0x3, 0x2);             /* RFLAGS bit 1 */
    ASSERT_EQ(rings_seen.w6, RT_SEL_UDATA | 3);      /* SS */
    ASSERT_EQ(rings_seen.cs, RT_SEL_CODE64);
    ASSERT_EQ(rings_seen.ss, 0);
}

/* INT n with DPL(gate) < CPL: #GP with the IDT error code vector*8 + 2
   (IDT bit 1 set, EXT clear; SDM Vol. 3A, 6.12.1.1 and 6.13; Vol. 2A
   INT n). The fault is taken at the INT: saved CS is the user's. */
static void test_int_dpl0_gate_gp(void)
{
    rt_user_init();
    rt_idt_set_gate(VEC_DPL0, (uintptr_t)rings_int_entry, 0x8E, 0);
    rt_user_call(user_int_dpl0, 0);
    ASSERT_EQ(rt_fault.vector, VEC_GP);
    /* QEMU 7.2 TCG reports vector*16 + 2 in 64-bit mode (the byte offset
       of the 16-byte gate); tolerated only with the qemu-tcg word. */
    if (rt_fault.error == VEC_DPL0 * 16 + 2 && rt_cmdline_has("qemu-tcg"))
        rt_printf("# qemu-tcg: #GP error 0x%x for INT 0x84 (SDM: 0x%x)\n",
                  VEC_DPL0 * 16 + 2, VEC_DPL0 * 8 + 2);
    else
        ASSERT_EQ(rt_fault.error, VEC_DPL0 * 8 + 2);
    ASSERT_EQ(rt_fault.cs, RT_SEL_UCODE64 | 3);
}

/* SYSCALL: CS = STAR[47:32], SS = STAR[47:32] + 8, RCX = next RIP, R11 =
   RFLAGS, RFLAGS &= ~FMASK. SYSRET (REX.W): CS = STAR[63:48] + 16, SS =
   STAR[63:48] + 8, both RPL 3, RFLAGS = R11 (SDM Vol. 2B, SYSCALL and
   SYSRET; Vol. 3A, 5.8.8). */
static void test_syscall_sysret(void)
{
    rt_user_init();
    uint32_t r[4];
    cpuid(0x80000001, 0, r);
    if (!(r[3] & (1u << 11)))
        rt_fail(RT_FILE, __LINE__, "CPUID.80000001H:EDX.SYSCALL[11] is 0");
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, (uint64_t)RT_SEL_UCODE32 << 48 |
                        (uint64_t)RT_SEL_KCODE << 32);
    wrmsr(MSR_LSTAR, (uintptr_t)rings_syscall_entry);
    wrmsr(MSR_FMASK, RFLAGS_DF | 0x200 | 0x100); /* DF, IF, TF */
    uint64_t v = rt_user_call(user_syscall, 0);
    ASSERT_EQ(rt_fault.vector, -1);
    ASSERT_EQ(rings_seen.cs, RT_SEL_KCODE);
    ASSERT_EQ(rings_seen.ss, RT_SEL_KDATA);
    ASSERT_EQ(rings_seen.w1 & (RFLAGS_DF | RFLAGS_AC),
              RFLAGS_DF | RFLAGS_AC);                    /* R11 */
    ASSERT_EQ(rings_seen.w2 & (RFLAGS_DF | RFLAGS_AC), RFLAGS_AC);
    ASSERT_EQ(v & 0xFFFF, RT_SEL_UCODE64 | 3);
    ASSERT_EQ((v >> 16) & 0xFFFF, RT_SEL_UDATA | 3);
    ASSERT_EQ(v >> 32, RFLAGS_DF | RFLAGS_AC);           /* from R11 */
    extern char __user_start[], __user_end[];
    ASSERT(rings_seen.w0 >= (uintptr_t)__user_start &&
           rings_seen.w0 < (uintptr_t)__user_end);       /* RCX */
    /* SYSCALL does not switch stacks: RSP is still the user stack. */
    ASSERT(rings_seen.rsp >= (uintptr_t)__user_start &&
           rings_seen.rsp < (uintptr_t)__user_end);
}

/* SYSENTER: CS = SYSENTER_CS, SS = +8, RSP/RIP from the MSRs. SYSEXIT
   with REX.W: CS = SYSENTER_CS + 32, SS = + 40, RPL 3, RIP = RDX, RSP =
   RCX (SDM Vol. 2B, SYSENTER and SYSEXIT). */
static void test_sysenter_sysexit(void)
{
    rt_user_init();
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] & (1u << 11)))
        rt_fail(RT_FILE, __LINE__, "CPUID.01H:EDX.SEP[11] is 0");
    uint64_t ksp = (uintptr_t)&sysenter_stack[64];
    wrmsr(MSR_SYSENTER_CS, RT_SEL_KCODE);
    wrmsr(MSR_SYSENTER_ESP, ksp);
    wrmsr(MSR_SYSENTER_EIP, (uintptr_t)rings_sysenter_entry);
    uint64_t v = rt_user_call(user_sysenter, 0);
    /* QEMU's default CPU model has the AMD vendor string, and TCG then
       makes SYSENTER #UD in long mode as AMD processors do. */
    if (rt_fault.vector == VEC_UD && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: SYSENTER in 64-bit mode is #UD (AMD model)\n");
        return;
    }
    ASSERT_EQ(rt_fault.vector, -1);
    ASSERT_EQ(rings_seen.cs, RT_SEL_KCODE);
    ASSERT_EQ(rings_seen.ss, RT_SEL_KDATA);
    ASSERT_EQ(rings_seen.rsp, ksp);
    ASSERT_EQ(rings_seen.w2 & 0x200, 0); /* SYSENTER clears IF */
    ASSERT_EQ(v & 0xFFFF, (RT_SEL_KCODE + 32) | 3);
    ASSERT_EQ((v >> 16) & 0xFFFF, (RT_SEL_KCODE + 40) | 3);
}

/* A 64-bit call gate (type 0xC, 16 bytes; SDM Vol. 3A, 5.8.3.1, Figure
   5-9) with DPL 3 to a DPL-0 64-bit code segment: CALL switches to
   TSS.RSP0, loads SS with NULL (RPL 0), and pushes SS, RSP, CS, RIP of
   the caller (5.8.5, 5.8.6). RETF (REX.W) returns to ring 3. */
static void test_call_gate(void)
{
    rt_user_init();
    uint64_t off = (uintptr_t)rings_gate_target;
    rt_gdt_set(SEL_GATE, (off & 0xFFFF) | (uint64_t)RT_SEL_CODE64 << 16 |
                             0xECull << 40 | ((off >> 16) & 0xFFFF) << 48);
    rt_gdt_set(SEL_GATE + 8, off >> 32);
    uint64_t v = rt_user_call(user_call_gate, 0);
    ASSERT_EQ(rt_fault.vector, -1);
    ASSERT_EQ(rings_seen.cs, RT_SEL_CODE64);
    ASSERT_EQ(rings_seen.ss, 0);
    ASSERT_EQ(rings_seen.w0, v >> 16);                  /* return RIP */
    ASSERT_EQ(rings_seen.w1, RT_SEL_UCODE64 | 3);       /* caller CS */
    ASSERT_EQ(rings_seen.w6, RT_SEL_UDATA | 3);         /* caller SS */
    ASSERT_EQ(rings_seen.rsp, rt_tss.rsp[0] - 32);      /* 4 pushes */
    ASSERT_EQ(v & 0xFFFF, RT_SEL_UCODE64 | 3);
}

/* The same code reaching the same target at CPL 0 and then at CPL 3:
 * ring 3 may not fetch from a supervisor page (SDM Vol. 3A 4.6.1), so
 * the second time is #PF with P and U/S set and CR2 = the target, even
 * though the first time the way there was already taken (and nest86
 * remembers it: its block links must not outlive the CPL). */
static uint64_t supervisor_answer(void)
{
    return 42;
}

RT_USER_TEXT static uint64_t user_call_target(uint64_t target)
{
    uint64_t r;
    __asm__ volatile("call *%1"
                     : "=a"(r)
                     : "r"(target)
                     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
    return r;
}

static void test_supervisor_target_after_cpl_change(void)
{
    uint64_t target = (uint64_t)(uintptr_t)supervisor_answer;
    ASSERT_EQ(user_call_target(target), 42); /* CPL 0: allowed (no SMEP) */
    ASSERT_EQ(user_call_target(target), 42);
    rt_fault_reset();
    rt_user_call(user_call_target, target);
    ASSERT_EQ(rt_fault.vector, VEC_PF);
    ASSERT_EQ(rt_fault.error & (PF_P | PF_U), PF_P | PF_U);
    ASSERT_EQ(rt_fault.cr2, target);
}

void test_main(void)
{
    RUN_TEST(test_iretq_to_ring3);
    RUN_TEST(test_int_dpl3_gate);
    RUN_TEST(test_int_dpl0_gate_gp);
    RUN_TEST(test_syscall_sysret);
    RUN_TEST(test_sysenter_sysexit);
    RUN_TEST(test_call_gate);
    RUN_TEST(test_supervisor_target_after_cpl_change);
}
