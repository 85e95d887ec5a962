/*
 * vmx_vmfunc: VM functions and EPTP switching (SDM Vol. 3C 24.6.14,
 * 25.5.6, 26.2.1.1, 30.3 "VMFUNC", A.11).  Two EPT hierarchies: A maps
 * guest-physical [0, 1 GiB) onto itself; B also maps [1 GiB, 2 GiB)
 * onto [0, 1 GiB), so a read of 1 GiB + X sees X under B and is an EPT
 * violation under A.  The guest switches between them with VMFUNC leaf
 * 0 through the EPTP list; anything VMFUNC cannot do is exit 59, and
 * without "enable VM functions" (or outside a guest) VMFUNC is #UD.
 */
#include "rt.h"
#include "vmx.h"

#define P_SECONDARY (1u << 31)
#define P2_EPT (1u << 1)
#define P2_VPID (1u << 5)
#define P2_VMFUNC (1u << 13)
#define MSR_VMX_VMFUNC 0x491
#define VMFUNC_EPTP_SWITCHING 1ull
#define GIB (1ull << 30)

enum { R_EXCEPTION = 0, R_VMCALL = 18, R_EPT_VIOLATION = 48, R_VMFUNC = 59 };
#define INFO_UD 0x80000306u /* #UD: vector 6, type 3 (24.9.2) */

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
/* the EPTP list, and after it a page whose first entry would be a valid
 * EPTP: index 512 must not reach it */
static uint64_t eptp_pages[2][512] __attribute__((aligned(4096)));
#define eptp_list eptp_pages[0]
static uint64_t b_pml4[512] __attribute__((aligned(4096)));
static uint64_t b_pdpt[512] __attribute__((aligned(4096)));
static volatile uint64_t magic = 0x5eedf00dcafe1234ull;
static uint64_t eptp_a, eptp_b;

/* EAX = function, ECX = list index; VMFUNC, then a read of [RDX] */
void g_vmfunc(void), g_vmfunc_at(void), g_vmfunc_read(void), g_vmfunc_done(void);
/* two switches: to ECX, read [RDX] into RBX, to R8, read [RDX] into RSI */
void g_twice(void), g_twice_2(void), g_twice_read2(void);
__asm__(".text\n"
        "g_vmfunc:\n"
        "g_vmfunc_at: vmfunc\n"              /* 0F 01 D4 */
        "g_vmfunc_read: mov (%rdx), %rbx\n"
        "g_vmfunc_done: vmcall\n"
        "  ud2\n"
        "g_twice:\n"
        "  vmfunc\n"
        "  mov (%rdx), %rbx\n"
        "  mov %r8, %rcx\n"
        "g_twice_2: vmfunc\n"
        "g_twice_read2: mov (%rdx), %rsi\n"
        "  vmcall\n"
        "  ud2\n");

/* B: A's PDPTE 0 for [0, 1 GiB) and a 1-GiB leaf at host-physical 0
 * for [1 GiB, 2 GiB) (Table 28-3: R, W, X, WB memory type, bit 7) */
static void build_b(void)
{
    b_pdpt[0] = *vmx_ept_entry(0, 3);
    b_pdpt[1] = EPT_RWX | EPT_WB | EPT_PS;
    b_pml4[0] = (uintptr_t)b_pdpt | EPT_RWX;
    eptp_b = (uintptr_t)b_pml4 | EPTP_WB_4LEVEL;
}

/* a guest with EPT A, VM functions enabled, EPTP switching on, the list
 * {A, B, A with a bad walk length}; it starts at rip with EAX = 0 */
static void setup(void (*rip)(void), uint64_t index)
{
    vmx_setup_guest(rip, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    eptp_a = vmx_ept_identity(2);
    build_b();
    vmx_use_ept(eptp_a);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | P2_VMFUNC);
    vmwrite(VMCS_VM_FUNCTION_CONTROLS, VMFUNC_EPTP_SWITCHING);
    memset(eptp_pages, 0, sizeof(eptp_pages));
    eptp_pages[1][0] = eptp_b;
    eptp_list[0] = eptp_a;
    eptp_list[1] = eptp_b;
    eptp_list[2] = (eptp_a & ~0x38ull) | (2ull << 3); /* walk length 3: not a valid EPTP */
    eptp_list[511] = eptp_b;
    vmwrite(VMCS_EPTP_LIST_ADDR, (uintptr_t)eptp_list);
    vmx_guest.rax = 0;
    vmx_guest.rcx = index;
    vmx_guest.rdx = GIB + (uintptr_t)&magic;
    vmx_guest.rbx = 0;
}

static void test_capabilities(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & P2_VMFUNC, P2_VMFUNC);
    /* A.11: only EPTP switching (function 0) */
    ASSERT_EQ(rdmsr(MSR_VMX_VMFUNC), VMFUNC_EPTP_SWITCHING);
}

static void test_eptp_switching(void)
{
    setup(g_vmfunc, 1);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    /* 25.5.6.3: the EPTP is list entry 1, and the read went through B */
    ASSERT_EQ(vmread(VMCS_EPT_POINTER), eptp_b);
    ASSERT_EQ(vmx_guest.rbx, magic);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmfunc_done);
    /* the last entry (511) is in the list too */
    setup(g_vmfunc, 511);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmx_guest.rbx, magic);
    /* under A the same read is an EPT violation at 1 GiB + &magic */
    setup(g_vmfunc, 0);
    ASSERT_EQ(vmx_launch_exit(), R_EPT_VIOLATION);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmfunc_read);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), GIB + (uintptr_t)&magic);
    ASSERT_EQ(vmread(VMCS_EPT_POINTER), eptp_a);
}

/* 25.5.6.3: with "EPT-violation #VE" supported, EPTP switching loads
 * ECX[15:0] into the EPTP-index field, which a #VE then reports
 * (25.5.7.2); a VMFUNC that exits leaves it alone.  Entry 3 holds A
 * too, so the read after the switch is a #VE, which the exception
 * bitmap turns into exit 0 after the information area was written. */
static uint8_t ve_area[4096] __attribute__((aligned(4096)));

static void test_eptp_index(void)
{
    setup(g_vmfunc, 511);
    vmwrite(VMCS_EPTP_INDEX, 7);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_EPTP_INDEX), 511);
    setup(g_vmfunc, 512);
    vmwrite(VMCS_EPTP_INDEX, 7);
    ASSERT_EQ(vmx_launch_exit(), R_VMFUNC);
    ASSERT_EQ(vmread(VMCS_EPTP_INDEX), 7);

    setup(g_vmfunc, 3);
    eptp_list[3] = eptp_a;
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | (1u << 18));
    vmwrite(VMCS_VE_INFO_ADDR, (uintptr_t)ve_area);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 20);
    memset(ve_area, 0, sizeof ve_area);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000314); /* #VE, hardware exception */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmfunc_read);
    uint16_t index;
    uint64_t gpa;
    memcpy(&index, ve_area + 32, 2);
    memcpy(&gpa, ve_area + 24, 8);
    ASSERT_EQ(index, 3);
    ASSERT_EQ(gpa, GIB + (uintptr_t)&magic);
}

/* the VMFUNC exit: reason 59 at the VMFUNC, length 3, qualification 0,
 * the EPTP unchanged */
static void expect_vmfunc_exit(void)
{
    ASSERT_EQ(vmx_launch_exit(), R_VMFUNC);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmfunc_at);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmread(VMCS_EPT_POINTER), eptp_a);
}

static void test_vmfunc_exits(void)
{
    setup(g_vmfunc, 512); /* beyond the 512-entry list */
    expect_vmfunc_exit();
    setup(g_vmfunc, 0x100000001ull); /* ECX is 32 bits: 1 is fine */
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_EPT_POINTER), eptp_b);
    setup(g_vmfunc, 2); /* the entry is not a valid EPTP */
    expect_vmfunc_exit();
    setup(g_vmfunc, 3); /* an empty entry (memory type UC, walk length 1) */
    expect_vmfunc_exit();
    setup(g_vmfunc, 1);
    vmx_guest.rax = 1; /* function 1 is not enabled (nor offered) */
    expect_vmfunc_exit();
    setup(g_vmfunc, 1);
    vmx_guest.rax = 64; /* no function 64 */
    expect_vmfunc_exit();
    setup(g_vmfunc, 1);
    vmwrite(VMCS_VM_FUNCTION_CONTROLS, 0); /* EPTP switching not enabled */
    expect_vmfunc_exit();
}

static void test_vmfunc_ud(void)
{
    /* without "enable VM functions", VMFUNC is #UD */
    setup(g_vmfunc, 1);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) & ~P2_VMFUNC);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmfunc_at);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_UD);
    /* nor with the secondary controls deactivated (24.6.2) */
    setup(g_vmfunc, 1);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) & ~P_SECONDARY);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_UD);
}

static void vmfunc_in_root(void)
{
    __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\tvmfunc" ::: "rax", "rcx");
}

static void test_vmfunc_ud_in_root(void)
{
    expect_fault(VEC_UD, vmfunc_in_root);
}

static void test_vpid_switching_drops_nothing_stale(void)
{
    /* with a VPID the TLB keeps translations across entries and exits;
     * EPTP switching must still not let B's mapping of 1 GiB + &magic
     * serve the guest under A: B, read, A, read -> EPT violation at the
     * second read */
    setup(g_twice, 1);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | P2_VPID);
    vmwrite(VMCS_VPID, 7);
    vmx_guest.r8 = 0;
    ASSERT_EQ(vmx_launch_exit(), R_EPT_VIOLATION);
    ASSERT_EQ(vmx_guest.rbx, magic);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_twice_read2);
    ASSERT_EQ(vmread(VMCS_EPT_POINTER), eptp_a);
    /* and back to B: the read works again */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_twice);
    vmx_guest.rbx = 0;
    vmx_guest.rcx = 1;
    vmx_guest.r8 = 1;
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmx_guest.rsi, magic);
}

/* one broken field, VMLAUNCH: VMfailValid with error 7 (26.2.1.1) */
static void expect_entry_fails(void)
{
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

static void test_entry_checks(void)
{
    setup(g_vmfunc, 1);
    vmwrite(VMCS_VM_FUNCTION_CONTROLS, 2); /* function 1: not in IA32_VMX_VMFUNC */
    expect_entry_fails();
    setup(g_vmfunc, 1);
    vmwrite(VMCS_EPTP_LIST_ADDR, (uintptr_t)eptp_list + 8); /* not 4-KiB aligned */
    expect_entry_fails();
    setup(g_vmfunc, 1);
    vmwrite(VMCS_EPTP_LIST_ADDR, 1ull << 52); /* beyond the physical-address width */
    expect_entry_fails();
    setup(g_vmfunc, 1);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) & ~P2_EPT);
    expect_entry_fails(); /* EPTP switching without "enable EPT" */
    /* with the function disabled, neither the list nor EPT matters */
    setup(g_vmfunc, 1);
    vmwrite(VMCS_VM_FUNCTION_CONTROLS, 0);
    vmwrite(VMCS_EPTP_LIST_ADDR, 0x123);
    ASSERT_EQ(vmx_launch_exit(), R_VMFUNC);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_eptp_switching);
    RUN_TEST(test_vmfunc_exits);
    RUN_TEST(test_eptp_index);
    RUN_TEST(test_vmfunc_ud);
    RUN_TEST(test_vmfunc_ud_in_root);
    RUN_TEST(test_vpid_switching_drops_nothing_stale);
    RUN_TEST(test_entry_checks);
    vmx_disable();
}
