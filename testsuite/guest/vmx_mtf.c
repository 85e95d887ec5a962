/*
 * vmx_mtf: the monitor trap flag (SDM Vol. 3C 24.6.2 bit 27, 25.5.2,
 * 26.6.8, 26.2.1.3): an MTF VM exit (reason 37) on the boundary after
 * each instruction the guest completes — with the guest RIP of the next
 * instruction — and after each iteration of a REP string instruction;
 * after the delivery of an event (injected by VM entry or raised by an
 * instruction), before the handler's first instruction; at once after
 * VM entry injects a pending MTF VM exit (type 7, vector 0), even with
 * the control 0.  Instructions that exit do not also cause MTF exits.
 * Priority: an injected pending MTF exit comes before the VMX-preemption
 * timer, a pending MTF exit before an interrupt-window exit, and before
 * a single-step trap, which stays in the pending debug exceptions field
 * (27.3.4) for the next VM entry to deliver (26.6.3).
 */
#include "rt.h"
#include "vmx.h"

#define P_INTR_WINDOW (1u << 2)
#define P_MTF (1u << 27)
#define PIN_TIMER (1u << 6)

enum { R_INTR_WINDOW = 7, R_VMCALL = 18, R_MTF = 37, R_TIMER = 52 };
/* VM-entry interruption information (24.8.3): vector, type 10:8, valid 31 */
#define INJECT_MTF 0x80000700u /* type 7 "other event", vector 0 */
#define INJECT_UD 0x80000306u  /* hardware exception #UD */
#define INJECT_BP 0x80000603u  /* software exception #BP (INT3), length 1 */

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint8_t buf[16];

void g_steps(void), g_steps_2(void), g_steps_3(void), g_steps_vmcall(void);
void g_rep(void), g_rep_stos(void), g_rep_done(void);
void g_ud(void), g_hlt(void), g_hlt_after(void);
void g_sti(void), g_sti_nop(void), g_sti_vmcall(void);
__asm__(".text\n"
        "g_steps: nop\n"
        "g_steps_2: nop\n"
        "g_steps_3: inc %rax\n"
        "g_steps_vmcall: vmcall\n"
        "  ud2\n"
        "g_rep: mov $3, %ecx\n"
        "g_rep_stos: rep stosb\n"
        "g_rep_done: vmcall\n"
        "  ud2\n"
        "g_ud: ud2\n"
        "g_hlt: hlt\n"
        "g_hlt_after: vmcall\n"
        "g_sti: sti\n"
        "g_sti_nop: nop\n"
        "g_sti_vmcall: vmcall\n"
        "  ud2\n");

static void setup(void (*rip)(void), uint32_t proc)
{
    vmx_setup_guest(rip, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | proc);
}

/* the guest shares the kernel's IDT: the handler of 'vector' */
static uint64_t idt_handler(unsigned vector)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    const uint64_t *gate = (const uint64_t *)(idtr.base + 16 * vector);
    return (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000) | (gate[1] << 32);
}

/* an MTF exit at 'rip': reason 37, qualification 0, no event recorded */
#define EXPECT_MTF(rip)                                                                        \
    do {                                                                                       \
        ASSERT_EQ(vmread(VMCS_EXIT_REASON), R_MTF);                                            \
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uint64_t)(rip));                                    \
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);                                         \
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0);                                             \
        ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0);                                         \
    } while (0)

static void test_capability(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32) & P_MTF, P_MTF);
}

static void test_single_steps(void)
{
    setup(g_steps, P_MTF);
    vmx_guest.rax = 41;
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_steps_2); /* the first NOP completed */
    ASSERT_EQ(vmx_resume_exit(), R_MTF);
    EXPECT_MTF(g_steps_3);
    ASSERT_EQ(vmx_resume_exit(), R_MTF);
    EXPECT_MTF(g_steps_vmcall);
    ASSERT_EQ(vmx_guest.rax, 42);
    /* VMCALL exits: no MTF exit after it */
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_steps_vmcall);
    /* without the control the guest runs to the VMCALL */
    setup(g_steps, 0);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
}

static void test_rep_iterations(void)
{
    /* 25.5.2: each iteration of a REP string instruction is followed by
     * an MTF exit, with RIP still at the instruction until the last */
    setup(g_rep, P_MTF);
    vmx_guest.rdi = (uintptr_t)buf;
    vmx_guest.rax = 0xab;
    memset(buf, 0, sizeof(buf));
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_rep_stos);
    for (uint64_t left = 2; left != (uint64_t)-1; left--) {
        ASSERT_EQ(vmx_resume_exit(), R_MTF);
        EXPECT_MTF(left ? (uintptr_t)g_rep_stos : (uintptr_t)g_rep_done);
        ASSERT_EQ(vmx_guest.rcx, left);
        ASSERT_EQ(vmx_guest.rdi, (uintptr_t)buf + 3 - left);
    }
    ASSERT_EQ(buf[2], 0xab);
    ASSERT_EQ(buf[3], 0);
}

static void test_after_injected_event(void)
{
    /* 25.5.2: with the control 1, a VM entry that injects an event has
     * an MTF exit pending before the handler's first instruction */
    setup(g_steps, P_MTF);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_UD);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(idt_handler(VEC_UD));
    ASSERT_EQ(vmread(VMCS_ENTRY_INTR_INFO) >> 31, 0); /* the valid bit cleared (24.8.3) */
    /* a software exception: the frame's return address follows the
     * "instruction" of VM-entry instruction length 1 */
    setup(g_steps, P_MTF);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_BP);
    vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, 1);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(idt_handler(VEC_BP));
    ASSERT_EQ(*(const uint64_t *)vmread(VMCS_GUEST_RSP), (uintptr_t)g_steps_2);
}

static void test_after_fault_delivery(void)
{
    /* UD2 faults; the #UD goes through the guest IDT (exception bitmap
     * 0) and the MTF exit comes before the handler's first instruction */
    setup(g_ud, P_MTF);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(idt_handler(VEC_UD));
    ASSERT_EQ(*(const uint64_t *)vmread(VMCS_GUEST_RSP), (uintptr_t)g_ud); /* a fault */
}

static void test_hlt(void)
{
    /* HLT completes into the HLT state; the MTF exit wakes it and saves
     * activity state HLT with RIP after the HLT */
    setup(g_hlt, P_MTF);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_hlt_after);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1);
}

static void test_pending_mtf_injection(void)
{
    /* 26.5.2/25.5.2: type 7 vector 0 injects a pending MTF exit; it
     * happens before any guest instruction, even with the control 0 */
    setup(g_steps, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_MTF);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_steps);
    ASSERT_EQ(vmread(VMCS_ENTRY_INTR_INFO) >> 31, 0);
    /* only once: the guest then runs to its VMCALL */
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    /* 26.2.1.3: type 7 needs vector 0 */
    setup(g_steps, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_MTF | 1);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

static void test_priority_over_timer(void)
{
    /* 26.6.8: a pending MTF exit comes before the preemption timer's
     * exit (which the timer value 0 makes due at once) ... */
    setup(g_steps, 0);
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) | PIN_TIMER);
    vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_MTF);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_steps);
    /* ... while with the control alone nothing is pending before the
     * first instruction: the timer exits first */
    setup(g_steps, P_MTF);
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) | PIN_TIMER);
    vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0);
    ASSERT_EQ(vmx_launch_exit(), R_TIMER);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_steps);
}

static void test_priority_over_interrupt_window(void)
{
    /* STI; NOP; VMCALL with IF = 0 and interrupt-window exiting: after
     * STI the window is still shut (blocking by STI, saved as
     * interruptibility bit 0); after the NOP it is open, yet the MTF
     * exit comes first (25.5.2: before debug traps and lower events) */
    setup(g_sti, P_MTF | P_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 2);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_sti_nop);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 1);
    ASSERT_EQ(vmx_resume_exit(), R_MTF);
    EXPECT_MTF(g_sti_vmcall);
    /* the control cleared: now the window exit */
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) & ~P_MTF);
    ASSERT_EQ(vmx_resume_exit(), R_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_sti_vmcall);
}

/* ---- MTF before debug traps; pending debug exceptions at entry ---- */

#define RFLAGS_TF 0x100u
#define PDBG_BS (1u << 14) /* pending debug exceptions (Table 24-4) */
#define INFO_DB 0x80000301u

static void test_priority_over_single_step(void)
{
    /* TF = 1: after the first NOP both a single-step #DB and the MTF
     * exit are due; the MTF exit comes first, the #DB stays pending
     * (BS), DR6 untouched */
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    setup(g_steps, P_MTF);
    vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_TF);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_DB);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_steps_2);
    ASSERT_EQ(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), PDBG_BS);
    uint64_t dr6_now;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6_now));
    ASSERT_EQ(dr6_now, dr6);
    /* VMRESUME delivers it before the next instruction: the #DB exits
     * through the bitmap with qualification BS, RIP still at NOP 2 */
    ASSERT_EQ(vmx_resume_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_DB);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), PDBG_BS);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_steps_2);
    ASSERT_EQ(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
}

static void test_pending_dbg_at_entry(void)
{
    /* 26.6.3: B0 and "enabled breakpoint" pending at VM entry: a #DB
     * before the first instruction (qualification B0) */
    setup(g_steps, 0);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x1001);
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_DB);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_steps);
    /* an injected pending MTF exit (not a vectoring entry) comes first
     * (26.6.3), and the debug exception is still pending after it */
    setup(g_steps, 0);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_DB);
    vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PDBG_BS);
    vmwrite(VMCS_ENTRY_INTR_INFO, INJECT_MTF);
    ASSERT_EQ(vmx_launch_exit(), R_MTF);
    EXPECT_MTF(g_steps);
    ASSERT_EQ(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), PDBG_BS);
    ASSERT_EQ(vmx_resume_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_DB);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), PDBG_BS);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_steps);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capability);
    RUN_TEST(test_single_steps);
    RUN_TEST(test_rep_iterations);
    RUN_TEST(test_after_injected_event);
    RUN_TEST(test_after_fault_delivery);
    RUN_TEST(test_hlt);
    RUN_TEST(test_pending_mtf_injection);
    RUN_TEST(test_priority_over_timer);
    RUN_TEST(test_priority_over_interrupt_window);
    RUN_TEST(test_priority_over_single_step);
    RUN_TEST(test_pending_dbg_at_entry);
    vmx_disable();
}
