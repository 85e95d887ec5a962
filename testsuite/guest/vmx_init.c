/*
 * vmx_init: INIT and start-up IPIs in VMX operation, and the shutdown
 * and wait-for-SIPI activity states (SDM Vol. 3C 24.4.2, 25.2,
 * 26.3.1.5, 26.6.2, 27.2.1, 27.3.4, 33.2; Appendix A.6).
 *
 * nest86 has one processor, so it sends INIT and SIPI to itself through
 * its local APIC's ICR (no shorthand, its own APIC ID).  An INIT in VMX
 * non-root operation is a VM exit (3) after the instruction that sent
 * it; VMX root operation holds it, and the next VM entry exits with it
 * before the guest's first instruction, whatever the guest's activity
 * state (which the exit saves).  A SIPI is discarded unless the guest
 * waits for one.
 *
 * With `-append sipi` (testsuite/cli/vmx_sipi.sh) the kernel also puts
 * a guest in the wait-for-SIPI state, which only another processor's
 * SIPI ends: the debugger's `ipi sipi` stands in for it.  Then it leaves
 * VMX operation with an INIT held, and the INIT resets the machine.
 */
#include "rt.h"
#include "vmx.h"

#define APIC_BASE 0xfee00000ul
#define APIC_ID 0x20
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_INIT_ASSERT ((5u << 8) | (1u << 14)) /* delivery mode 101, level assert */
#define ICR_SIPI(v) ((6u << 8) | (v))            /* delivery mode 110 */

#define PIN_TIMER (1u << 6)
#define PROC_INTR_WINDOW (1u << 2)
#define INFO_VALID 0x80000000u

enum { ACTIVE = 0, HLT = 1, SHUTDOWN = 2, WAIT_SIPI = 3 };
enum { EXIT_INIT = 3, EXIT_SIPI = 4, EXIT_INTR_WINDOW = 7, EXIT_VMCALL = 18,
       EXIT_TIMER = 52 };

static uint8_t guest_stack[4096] __attribute__((aligned(16)));

/* g_icr: the guest writes ESI to the ICR at RDI, then VMCALL */
void g_icr(void), g_icr_done(void), g_vmcall(void);
__asm__(".text\n"
        "g_icr:\n  movl %esi, (%rdi)\n"
        "g_icr_done:\n  vmcall\n  ud2\n"
        "g_vmcall:\n  vmcall\n  ud2\n");

static uint32_t apic_read(unsigned reg)
{
    return *(volatile uint32_t *)(APIC_BASE + reg);
}

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

/* The ICR's destination is this processor's own APIC ID (xAPIC: bits
 * 31:24 of both registers). */
static void aim_at_self(void)
{
    apic_write(APIC_ICR_HI, apic_read(APIC_ID) & 0xff000000u);
}

static void send_self(uint32_t icr_lo)
{
    aim_at_self();
    apic_write(APIC_ICR_LO, icr_lo);
}

static void setup(void (*rip)(void), unsigned activity)
{
    vmx_setup_guest(rip, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, activity);
}

static void arm_timer(uint32_t value)
{
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) | PIN_TIMER);
    vmwrite(VMCS_PREEMPTION_TIMER_VALUE, value);
}

static void test_capabilities(void)
{
    /* A.6: bits 8:6 — HLT, shutdown and wait-for-SIPI */
    ASSERT_EQ((rdmsr(MSR_VMX_MISC) >> 6) & 7, 7);
}

/* 25.2: the guest's own INIT exits after the MOV that sent it; it is
 * consumed (the next VM entry runs on to the VMCALL) */
static void test_init_from_the_guest(void)
{
    aim_at_self();
    setup(g_icr, ACTIVE);
    vmx_guest.rdi = APIC_BASE + APIC_ICR_LO;
    vmx_guest.rsi = ICR_INIT_ASSERT;
    ASSERT_EQ(vmx_launch_exit(), EXIT_INIT);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_icr_done);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO) & INFO_VALID, 0);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), ACTIVE);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_icr_done);
}

/* 33.2: root operation blocks INIT; it waits for the next VM entry,
 * which exits with it before the guest runs an instruction */
static void test_init_held_in_root_operation(void)
{
    send_self(ICR_INIT_ASSERT);
    /* still here: not reset */
    setup(g_vmcall, ACTIVE);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INIT);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
}

/* the exit saves the inactive state the INIT found (27.3.4) */
static void test_init_ends_hlt_and_shutdown(void)
{
    static const unsigned states[] = {HLT, SHUTDOWN};
    for (unsigned k = 0; k < 2; k++) {
        send_self(ICR_INIT_ASSERT);
        setup(g_vmcall, states[k]);
        vmwrite(VMCS_GUEST_RFLAGS, 0x2); /* IF = 0: no interrupt wakes HLT */
        ASSERT_EQ(vmx_launch_exit(), EXIT_INIT);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
        ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), states[k]);
    }
}

/* 25.5.1: the preemption timer wakes the shutdown state; the exit saves
 * activity state shutdown and the guest's RIP unchanged */
static void test_timer_ends_shutdown(void)
{
    setup(g_vmcall, SHUTDOWN);
    arm_timer(100);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TIMER);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), SHUTDOWN);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    /* resumed in the active state, the guest runs */
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVE);
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) & ~PIN_TIMER);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
}

/* 26.6.2: shutdown blocks external interrupts, so interrupt-window exits
 * (which wake what an interrupt would, 25.2) do not end it; HLT they do */
static void test_interrupt_window_and_inactive_states(void)
{
    static const struct { unsigned state, exit; } cases[] = {
        {HLT, EXIT_INTR_WINDOW},
        {SHUTDOWN, EXIT_TIMER},
    };
    for (unsigned k = 0; k < 2; k++) {
        setup(g_vmcall, cases[k].state);
        vmwrite(VMCS_GUEST_RFLAGS, 0x202); /* IF = 1 */
        vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | PROC_INTR_WINDOW);
        arm_timer(200);
        ASSERT_EQ(vmx_launch_exit(), cases[k].exit);
        ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), cases[k].state);
    }
}

/* 26.3.1.5: what each activity state lets VM entry inject */
static void test_entry_checks(void)
{
    /* shutdown: NMIs and machine checks only; an external interrupt fails */
    setup(g_vmcall, SHUTDOWN);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_ENTRY_INTR_INFO, INFO_VALID | 0x20); /* external interrupt, vector 0x20 */
    vmx_expect_bad_guest();
    /* wait-for-SIPI: nothing, not even an NMI */
    setup(g_vmcall, WAIT_SIPI);
    vmwrite(VMCS_ENTRY_INTR_INFO, INFO_VALID | (2u << 8) | 2); /* NMI */
    vmx_expect_bad_guest();
    /* no inactive state with blocking by STI */
    setup(g_vmcall, WAIT_SIPI);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 1);
    vmx_expect_bad_guest();
    /* activity states above 3 do not exist */
    setup(g_vmcall, 4);
    vmx_expect_bad_guest();
}

/* 26.6.2: an active guest (and root operation) discard SIPIs */
static void test_sipi_discarded(void)
{
    aim_at_self();
    setup(g_icr, ACTIVE);
    vmx_guest.rdi = APIC_BASE + APIC_ICR_LO;
    vmx_guest.rsi = ICR_SIPI(0x9a);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    send_self(ICR_SIPI(0x9b));
    setup(g_vmcall, ACTIVE);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
}

/* -append sipi: the debugger sends INIT (held: wait-for-SIPI blocks
 * it) and SIPI 0x9a; the preemption timer, already at zero, causes
 * nothing while the guest waits (25.5.1, 26.6.2) */
static void test_wait_for_sipi(void)
{
    setup(g_vmcall, WAIT_SIPI);
    arm_timer(0);
    rt_printf("waiting for SIPI\n");
    ASSERT_EQ(vmx_launch_exit(), EXIT_SIPI);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x9a);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), WAIT_SIPI);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    /* what the wait held comes now, in priority order: the INIT (which
     * root operation held in turn) before the timer (6.9, 25.2) */
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVE);
    ASSERT_EQ(vmx_resume_exit(), EXIT_INIT);
    ASSERT_EQ(vmx_resume_exit(), EXIT_TIMER);
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) & ~PIN_TIMER);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
}

void test_main(void)
{
    apic_write(APIC_SVR, 0x1ff); /* software-enable the local APIC */
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_init_from_the_guest);
    RUN_TEST(test_init_held_in_root_operation);
    RUN_TEST(test_init_ends_hlt_and_shutdown);
    RUN_TEST(test_timer_ends_shutdown);
    RUN_TEST(test_interrupt_window_and_inactive_states);
    RUN_TEST(test_entry_checks);
    RUN_TEST(test_sipi_discarded);
    if (rt_cmdline_has("sipi")) {
        RUN_TEST(test_wait_for_sipi);
        /* 33.2: VMXOFF unblocks a held INIT, which resets the processor
         * (nest86: the machine) — why an OS leaves VMX operation before
         * it restarts with INIT */
        send_self(ICR_INIT_ASSERT);
        rt_printf("INIT held; VMXOFF\n");
    }
    vmx_disable();
}
