/*
 * vmx_timer: the VMX-preemption timer (SDM Vol. 3C 24.6.1, 25.5.1,
 * 27.3.4, A.6): it counts down from the VMCS field at VM entry, once per
 * 2^X TSC ticks (X = IA32_VMX_MISC bits 4:0), and at zero causes a VM
 * exit (reason 52): before the guest's first instruction when it starts
 * at zero, out of a loop, and out of HLT (activity state HLT saved).
 * With "save VMX-preemption timer value" the exit stores what is left.
 */
#include "rt.h"
#include "vmx.h"

#define PIN_TIMER (1u << 6)
#define EXIT_SAVE_TIMER (1u << 22)

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
void g_loop(void), g_hlt(void), g_hlt_at(void), g_vmcall(void), g_count(void), g_count_loop(void);
__asm__(".text\n"
        "g_loop:\n  jmp g_loop\n"
        "g_hlt:\n  cli\n"
        "g_hlt_at:\n  hlt\n  jmp g_hlt_at\n"
        "g_vmcall:\n  vmcall\n  ud2\n"
        "g_count:\n  xor %eax, %eax\n"
        "g_count_loop:\n  inc %rax\n  jmp g_count_loop\n");

static void setup(void (*rip)(void), uint32_t value, bool save)
{
    vmx_setup_guest(rip, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmwrite(VMCS_PIN_BASED_CONTROLS, vmread(VMCS_PIN_BASED_CONTROLS) | PIN_TIMER);
    if (save)
        vmwrite(VMCS_EXIT_CONTROLS, vmread(VMCS_EXIT_CONTROLS) | EXIT_SAVE_TIMER);
    vmwrite(VMCS_PREEMPTION_TIMER_VALUE, value);
}

static void test_capabilities(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PINBASED) >> 32) & PIN_TIMER, PIN_TIMER);
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_EXIT) >> 32) & EXIT_SAVE_TIMER, EXIT_SAVE_TIMER);
    ASSERT_EQ(rdmsr(MSR_VMX_MISC) & 0x1f, 5); /* one tick per 32 TSC ticks */
}

static void test_zero_exits_before_the_first_instruction(void)
{
    setup(g_vmcall, 0, true);
    ASSERT_EQ(vmx_launch_exit(), 52);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0);
}

static void test_expires_in_a_loop(void)
{
    setup(g_loop, 1000, true);
    ASSERT_EQ(vmx_launch_exit(), 52);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_loop);
    ASSERT_EQ(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0); /* not an event-carrying exit */
}

/* The exit comes at the tick the timer reaches zero, not a slice or a
 * block later: VALUE ticks are 32 * VALUE TSC ticks, less the part of
 * the first tick already gone at entry (< 32); nest86's TSC advances one
 * per instruction, and each loop iteration is two instructions. */
static void test_expires_on_time(void)
{
    const uint64_t value = 5000;
    setup(g_count, (uint32_t)value, true);
    ASSERT_EQ(vmx_launch_exit(), 52);
    uint64_t rip = vmread(VMCS_GUEST_RIP);
    ASSERT(rip == (uintptr_t)g_count_loop || rip == (uintptr_t)g_count_loop + 3);
    uint64_t insns = 1 + 2 * vmx_guest.rax + (rip != (uintptr_t)g_count_loop);
    ASSERT(insns > 32 * value - 32 && insns <= 32 * value);
}

/* 25.2: debug traps come before the timer's exit.  A single-step trap
 * pending at VM entry (pending debug exceptions BS, with RFLAGS.TF) and
 * a timer already at zero: the #DB first (exit 0 through the exception
 * bitmap, qualification BS), the timer's exit at the next VM entry,
 * both before the guest's first instruction. */
static void test_single_step_trap_before_timer(void)
{
    setup(g_vmcall, 0, true);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2 | 0x100); /* TF */
    vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14); /* BS */
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 1);
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000301); /* hardware exception, #DB */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 1u << 14);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmx_resume_exit(), 52);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
}

static void test_wakes_hlt(void)
{
    /* HLT with interrupts disabled: only the timer can end it */
    setup(g_hlt, 2000, false);
    ASSERT_EQ(vmx_launch_exit(), 52);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_hlt_at + 1);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1); /* HLT */
    ASSERT_EQ(vmread(VMCS_PREEMPTION_TIMER_VALUE), 2000); /* not saved */
}

static void test_saves_what_is_left(void)
{
    setup(g_vmcall, 100000, true);
    ASSERT_EQ(vmx_launch_exit(), 18); /* VMCALL first */
    /* a handful of instructions ran: at most a tick went by */
    uint64_t left = vmread(VMCS_PREEMPTION_TIMER_VALUE);
    ASSERT(left >= 99999 && left <= 100000);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_zero_exits_before_the_first_instruction);
    RUN_TEST(test_expires_in_a_loop);
    RUN_TEST(test_expires_on_time);
    RUN_TEST(test_single_step_trap_before_timer);
    RUN_TEST(test_wakes_hlt);
    RUN_TEST(test_saves_what_is_left);
    vmx_disable();
}
