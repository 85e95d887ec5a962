/*
 * vmx_entry: VM entry and VM exit, SDM Vol. 3C chapters 25-27.  A 64-bit
 * guest that shares this kernel's page tables runs small code snippets;
 * each exit's reason, qualification, instruction length and saved guest
 * state are checked against the SDM, and each VM-entry check is broken
 * once on an otherwise valid VMCS: VMfailValid 7 (controls) or 8 (host
 * state), or an entry-failure exit 33 with bit 31 set (guest state).
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

/* guest code: each label marks the instruction that should exit */
void g_vmcall(void), g_vmcall_at(void);
void g_sequence(void), g_seq_cpuid(void), g_seq_hlt(void), g_seq_vmcall(void);
void g_cr(void), g_cr_mov0(void), g_cr_read0(void), g_cr_mov3(void), g_cr_done(void);
void g_ud2(void), g_ud2_at(void);
void g_pf(void), g_pf_at(void);
void g_rdmsr(void), g_rdmsr_at(void);
void g_vmx_insn(void), g_vmx_insn_at(void);
void g_triple(void);
void g_io(void), g_io_81(void), g_io_span(void), g_io_wrap(void), g_io_done(void);
void g_msrs(void), g_msrs_174(void), g_msrs_efer(void), g_msrs_outside(void), g_msrs_done(void);
__asm__(".text\n"
        "g_vmcall:\n"
        "  mov $0x1234, %rax\n"
        "  mov $0x5678, %r15\n"
        "g_vmcall_at:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_sequence:\n"
        "  mov $1, %eax\n"
        "g_seq_cpuid:\n"
        "  cpuid\n"
        "g_seq_hlt:\n"
        "  hlt\n"
        "  add $1, %rbx\n"
        "g_seq_vmcall:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_cr:\n"
        "  mov %cr0, %rax\n"
        "  xor $8, %rax\n"      /* flip CR0.TS */
        "g_cr_mov0:\n"
        "  mov %rax, %cr0\n"
        "g_cr_read0:\n"
        "  mov %cr0, %rdx\n"
        "  mov %cr3, %rcx\n"
        "g_cr_mov3:\n"
        "  mov %rcx, %cr3\n"
        "g_cr_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_ud2:\n"
        "g_ud2_at:\n"
        "  ud2\n"
        "g_pf:\n"
        "  mov $0x40000000000, %rax\n"
        "g_pf_at:\n"
        "  mov (%rax), %rbx\n"
        "  ud2\n"
        "g_rdmsr:\n"
        "  mov $0x10, %ecx\n"
        "g_rdmsr_at:\n"
        "  rdmsr\n"
        "  ud2\n"
        "g_vmx_insn:\n"
        "g_vmx_insn_at:\n"
        "  vmxoff\n"
        "  ud2\n"
        "g_io:\n"
        "  in $0x80, %al\n"      /* bit clear: runs in the guest */
        "g_io_81:\n"
        "  out %al, $0x81\n"     /* bit set in bitmap A */
        "  mov $0x7fff, %dx\n"
        "g_io_span:\n"
        "  in %dx, %ax\n"        /* 7FFFH and 8000H: 8000H's bit is set in B */
        "  mov $0xfffe, %dx\n"
        "  in %dx, %al\n"        /* FFFEH: clear */
        "g_io_wrap:\n"
        "  in %dx, %eax\n"       /* FFFEH-10001H wraps: always exits */
        "g_io_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_msrs:\n"
        "  mov $0x10, %ecx\n"
        "  rdmsr\n"             /* bit clear: runs in the guest */
        "  mov $0x174, %ecx\n"
        "g_msrs_174:\n"
        "  rdmsr\n"             /* read-low bit set */
        "  mov $0xc0000080, %ecx\n"
        "  rdmsr\n"             /* read-high bit clear */
        "g_msrs_efer:\n"
        "  wrmsr\n"             /* write-high bit set */
        "  mov $0x40000000, %ecx\n"
        "g_msrs_outside:\n"
        "  rdmsr\n"             /* outside both ranges: always exits */
        "g_msrs_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_triple:\n"
        "  lidt 8f(%rip)\n"
        "  ud2\n"
        "8: .word 0\n"
        "  .quad 0\n");

static void setup(void (*rip)(void))
{
    vmx_setup_guest(rip, GUEST_RSP);
}

static void test_vmcall_exit(void)
{
    setup(g_vmcall);
    ASSERT_EQ(vmx_launch_exit(), 18);                 /* VMCALL */
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3);  /* 0F 01 C1 */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall_at);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), GUEST_RSP);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmx_guest.rax, 0x1234);
    ASSERT_EQ(vmx_guest.r15, 0x5678);
    /* VMLAUNCH of a launched VMCS: VMfailValid 4 */
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 4);
}

static void test_exit_sequence(void)
{
    setup(g_sequence);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 7)); /* HLT exiting */
    ASSERT_EQ(vmx_launch_exit(), 10);                 /* CPUID exits unconditionally */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_seq_cpuid);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
    ASSERT_EQ(vmx_guest.rax, 1);                       /* CPUID did not run */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 12);                 /* HLT */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_seq_hlt);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 0);  /* HLT did not run */
    vmx_skip_insn();
    vmx_guest.rbx = 41;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_seq_vmcall);
    ASSERT_EQ(vmx_guest.rbx, 42);                      /* guest registers round-trip */
}

static void test_cr_access(void)
{
    setup(g_cr);
    uint64_t cr0 = read_cr0();
    /* the VMM owns CR0.TS; the guest sees TS = 1 in the shadow */
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, 8);
    vmwrite(VMCS_CR0_READ_SHADOW, cr0 | 8);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 15));
    ASSERT_EQ(vmx_launch_exit(), 28);                 /* control-register access */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_cr_mov0);
    /* SDM Table 27-3: CR 0, type 0 (MOV to CR), register RAX (0) */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x000);
    ASSERT_EQ(vmx_guest.rax, (cr0 | 8) ^ 8);          /* it read the shadow's TS */
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), cr0);           /* unchanged */
    /* a write that matches the shadow in the owned bits does not exit */
    vmx_guest.rax = cr0 | 8;
    ASSERT_EQ(vmx_resume_exit(), 28);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_cr_mov3);
    ASSERT_EQ(vmx_guest.rdx, cr0 | 8);                /* the read shows the shadow */
    ASSERT_EQ(vmread(VMCS_GUEST_CR0) & 8, cr0 & 8);   /* the real TS is the host's */
    /* CR3-load exiting: CR 3, type 0, register RCX (1) */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x103);
    /* with the value among the CR3-target values it does not exit */
    vmwrite(VMCS_CR3_TARGET_VALUE0, read_cr3());
    vmwrite(VMCS_CR3_TARGET_COUNT, 1);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_cr_done);
}

static void test_exception_bitmap(void)
{
    setup(g_ud2);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 6);
    ASSERT_EQ(vmx_launch_exit(), 0);                  /* exception or NMI */
    /* 24.9.2: vector 6, type 3 (hardware exception), valid */
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000306);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ud2_at);
}

static void test_page_fault_exit(void)
{
    setup(g_pf);
    uint64_t cr2 = 0x1357;
    write_cr2(cr2);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 14);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 0);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 0);
    ASSERT_EQ(vmx_launch_exit(), 0);
    /* #PF, type 3, error code valid; error 0: not present, read, CPL 0 */
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0e);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x40000000000ull); /* the linear address */
    ASSERT_EQ(read_cr2(), cr2);                        /* CR2 untouched (27.1) */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_pf_at);
    /* bit 14 set but the error code does not match: #PF stays in the
     * guest; with the bit clear and a match it exits (25.2) */
    setup(g_pf);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 0);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 1); /* never equal: inverts the bit */
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0e);
}

static void test_rdmsr_exits(void)
{
    setup(g_rdmsr);
    ASSERT_EQ(vmx_launch_exit(), 31); /* RDMSR: no MSR bitmaps, always exits */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_rdmsr_at);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
}

static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));

static void test_msr_bitmaps(void)
{
    /* SDM 24.6.9: read-low at 0, read-high at 1024, write-low at 2048,
     * write-high at 3072, one bit per MSR */
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    msr_bitmap[0x174 / 8] |= 1u << (0x174 % 8);
    msr_bitmap[3072 + 0x80 / 8] |= 1u << (0x80 % 8);
    setup(g_msrs);
    vmwrite(VMCS_MSR_BITMAP, (uintptr_t)msr_bitmap);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 28));
    ASSERT_EQ(vmx_launch_exit(), 31);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_msrs_174);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 32);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_msrs_efer);
    ASSERT_EQ(vmx_guest.rax | (vmx_guest.rdx << 32), rdmsr(MSR_EFER)); /* it read EFER */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 31);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_msrs_outside);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_msrs_done);
}

static uint8_t io_bitmap_a[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_b[4096] __attribute__((aligned(4096)));

static void test_io_bitmaps(void)
{
    /* SDM 24.6.4, 25.1.3: with "use I/O bitmaps", "unconditional I/O
     * exiting" is ignored and each port's bit decides */
    memset(io_bitmap_a, 0, sizeof(io_bitmap_a));
    memset(io_bitmap_b, 0, sizeof(io_bitmap_b));
    io_bitmap_a[0x81 / 8] |= 1u << (0x81 % 8);
    io_bitmap_b[0] |= 1u; /* port 8000H */
    setup(g_io);
    vmwrite(VMCS_IO_BITMAP_A, (uintptr_t)io_bitmap_a);
    vmwrite(VMCS_IO_BITMAP_B, (uintptr_t)io_bitmap_b);
    vmwrite(VMCS_PROC_BASED_CONTROLS,
            vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 25) | (1u << 24));
    ASSERT_EQ(vmx_launch_exit(), 30);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_io_81);
    /* Table 27-5: size 1 (0), OUT (bit 3 = 0), immediate (bit 6), port 81H */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), (0x81ull << 16) | (1u << 6));
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 30);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_io_span);
    /* size 2 (1), IN (bit 3), DX form, port 7FFFH */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), (0x7fffull << 16) | (1u << 3) | 1u);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 30);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_io_wrap);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), (0xfffeull << 16) | (1u << 3) | 3u);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_io_done);
}

static uint64_t msr_store_area[2 * 2] __attribute__((aligned(16)));

static inline uint64_t host_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void test_msr_store_list_saves_real_tsc(void)
{
    /* SDM 27.4: the VM-exit MSR-store list stores IA32_TSC as the
     * processor's TSC, not the guest's offset view, even with TSC
     * offsetting on (when nest86 offers it) */
    setup(g_vmcall);
    msr_store_area[0] = 0x10; /* IA32_TSC */
    msr_store_area[1] = 0;
    msr_store_area[2] = 0x174; /* IA32_SYSENTER_CS: the guest's value */
    msr_store_area[3] = 0;
    vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uintptr_t)msr_store_area);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 2);
    vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, 0x4321);
    vmwrite(VMCS_TSC_OFFSET, 1ull << 62);
    if (rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32 & (1u << 3)) /* "use TSC offsetting" */
        vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 3));
    uint64_t before = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), 18);
    uint64_t after = host_tsc();
    ASSERT(msr_store_area[1] >= before && msr_store_area[1] <= after);
    ASSERT_EQ(msr_store_area[3], 0x4321);
}

static void test_vmx_instruction_exits(void)
{
    setup(g_vmx_insn);
    ASSERT_EQ(vmx_launch_exit(), 26); /* VMXOFF in non-root operation */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmx_insn_at);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3);
}

static void test_triple_fault_exit(void)
{
    setup(g_triple);
    ASSERT_EQ(vmx_launch_exit(), 2); /* triple fault: #UD, #GP, #DF all undeliverable */
}

/* ---- VM-entry checks: one broken field each ---- */

struct entry_case {
    const char *what;
    uint64_t field, value;
    int outcome;      /* VMX_FAIL_VALID or VMX_OK (an entry-failure exit) */
    uint32_t expect;  /* VM-instruction error, or exit reason */
    uint64_t field2, value2; /* a second field to write, when field2 != 0 */
};

static void run_case(const struct entry_case *k)
{
    setup(g_vmcall);
    vmwrite(k->field, k->value);
    if (k->field2)
        vmwrite(k->field2, k->value2);
    int r = vmx_run(1);
    if (r != k->outcome)
        rt_fail(RT_FILE, __LINE__, "%s: outcome %d, expected %d", k->what, r, k->outcome);
    uint32_t got = (uint32_t)(r == VMX_OK ? vmread(VMCS_EXIT_REASON) : vmx_error());
    if (got != k->expect)
        rt_fail(RT_FILE, __LINE__, "%s: got 0x%x, expected 0x%x", k->what, got, k->expect);
    if (r == VMX_OK) /* an entry failure leaves the VMCS not launched */
        ASSERT_EQ(vmx_run(0), VMX_FAIL_VALID);
}

#define ENTRY_FAIL 0x80000021u /* bit 31 | 33: invalid guest state */

static void test_entry_checks(void)
{
    /* the unbroken VMCS enters (the control case) */
    setup(g_vmcall);
    ASSERT_EQ(vmx_launch_exit(), 18);

    uint32_t pin = (uint32_t)rdmsr(MSR_VMX_TRUE_PINBASED);
    uint32_t proc = (uint32_t)rdmsr(MSR_VMX_TRUE_PROCBASED);
    uint32_t exit = (uint32_t)rdmsr(MSR_VMX_TRUE_EXIT) | (1u << 9);
    uint32_t entry = (uint32_t)rdmsr(MSR_VMX_TRUE_ENTRY) | (1u << 9);
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    const struct entry_case cases[] = {
        /* 26.2.1: controls -> VMfailValid 7 */
        {"pin-based default1 bit clear", VMCS_PIN_BASED_CONTROLS, pin & ~2u, VMX_FAIL_VALID, 7, 0, 0},
        {"pin-based unsupported bit", VMCS_PIN_BASED_CONTROLS, pin | (1u << 7), VMX_FAIL_VALID, 7, 0, 0},
        {"proc-based unsupported bit (activate tertiary controls)", VMCS_PROC_BASED_CONTROLS, proc | (1u << 17), VMX_FAIL_VALID, 7, 0, 0},
        {"I/O bitmap A not aligned", VMCS_PROC_BASED_CONTROLS, proc | (1u << 25), VMX_FAIL_VALID, 7,
         VMCS_IO_BITMAP_A, 0x1008},
        {"secondary unsupported bit (ENCLS exiting)", VMCS_PROC_BASED_CONTROLS,
         proc | (1u << 31), VMX_FAIL_VALID, 7, VMCS_SECONDARY_PROC_CONTROLS, 1u << 15},
        {"unrestricted guest without enable EPT", VMCS_PROC_BASED_CONTROLS, proc | (1u << 31),
         VMX_FAIL_VALID, 7, VMCS_SECONDARY_PROC_CONTROLS, 1u << 7},
        {"enable VPID with VPID 0", VMCS_PROC_BASED_CONTROLS, proc | (1u << 31), VMX_FAIL_VALID, 7,
         VMCS_SECONDARY_PROC_CONTROLS, 1u << 5},
        {"proc-based default1 bit clear", VMCS_PROC_BASED_CONTROLS, proc & ~2u, VMX_FAIL_VALID, 7, 0, 0},
        {"CR3-target count 5", VMCS_CR3_TARGET_COUNT, 5, VMX_FAIL_VALID, 7, 0, 0},
        {"exit control unsupported", VMCS_EXIT_CONTROLS, exit | (1u << 28), VMX_FAIL_VALID, 7, 0, 0},
        {"exit MSR-store address misaligned", VMCS_EXIT_MSR_STORE_COUNT, 1, VMX_FAIL_VALID, 7,
         VMCS_EXIT_MSR_STORE_ADDR, 0x1008},
        {"entry MSR-load address beyond MAXPHYADDR", VMCS_ENTRY_MSR_LOAD_COUNT, 1, VMX_FAIL_VALID, 7,
         VMCS_ENTRY_MSR_LOAD_ADDR, 1ull << 52},
        {"entry control unsupported", VMCS_ENTRY_CONTROLS, entry | (1u << 10), VMX_FAIL_VALID, 7, 0, 0},
        {"injection type 1", VMCS_ENTRY_INTR_INFO, 0x80000100u, VMX_FAIL_VALID, 7, 0, 0},
        {"injected NMI vector 3", VMCS_ENTRY_INTR_INFO, 0x80000203u, VMX_FAIL_VALID, 7, 0, 0},
        {"#GP without error code", VMCS_ENTRY_INTR_INFO, 0x8000030du, VMX_FAIL_VALID, 7, 0, 0},
        {"#UD with error code", VMCS_ENTRY_INTR_INFO, 0x80000b06u, VMX_FAIL_VALID, 7, 0, 0},
        {"software interrupt length 0", VMCS_ENTRY_INTR_INFO, 0x80000420u, VMX_FAIL_VALID, 7, 0, 0},
        /* 26.2.2-26.2.4: host state -> VMfailValid 8 */
        {"host CR0.PE clear", VMCS_HOST_CR0, cr0 & ~1ull, VMX_FAIL_VALID, 8, 0, 0},
        {"host CR4.VMXE clear", VMCS_HOST_CR4, cr4 & ~CR4_VMXE, VMX_FAIL_VALID, 8, 0, 0},
        {"host CR3 beyond MAXPHYADDR", VMCS_HOST_CR3, 1ull << 52, VMX_FAIL_VALID, 8, 0, 0},
        {"host CS selector null", VMCS_HOST_CS_SELECTOR, 0, VMX_FAIL_VALID, 8, 0, 0},
        {"host TR selector null", VMCS_HOST_TR_SELECTOR, 0, VMX_FAIL_VALID, 8, 0, 0},
        {"host DS selector RPL 3", VMCS_HOST_DS_SELECTOR, RT_SEL_DATA | 3, VMX_FAIL_VALID, 8, 0, 0},
        {"host SYSENTER_EIP not canonical", VMCS_HOST_IA32_SYSENTER_EIP, 1ull << 63, VMX_FAIL_VALID, 8, 0, 0},
        {"host GDTR base not canonical", VMCS_HOST_GDTR_BASE, 0x0100000000000000ull, VMX_FAIL_VALID, 8, 0, 0},
        {"host EFER.LMA clear with a 64-bit host", VMCS_EXIT_CONTROLS, exit | (1u << 21),
         VMX_FAIL_VALID, 8, VMCS_HOST_IA32_EFER, 0x100},
        {"host address-space size 0 in IA-32e mode", VMCS_EXIT_CONTROLS, exit & ~(1u << 9), VMX_FAIL_VALID, 8, 0, 0},
        /* 26.3.1: guest state -> exit reason 33 with bit 31 */
        {"guest CR0.PE clear", VMCS_GUEST_CR0, cr0 & ~1ull, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest CR4.VMXE clear", VMCS_GUEST_CR4, cr4 & ~CR4_VMXE, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest CS.L and CS.D both set", VMCS_GUEST_CS_AR, 0xe09b, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest CS type data", VMCS_GUEST_CS_AR, 0xa093, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest CS not present", VMCS_GUEST_CS_AR, 0xa01b, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest SS.DPL 3 with RPL 0", VMCS_GUEST_SS_AR, 0xc0f3, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest DS limit vs G", VMCS_GUEST_DS_LIMIT, 0xfffff000, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest TR unusable", VMCS_GUEST_TR_AR, 0x1008b, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest TR type 32-bit busy in IA-32e", VMCS_GUEST_TR_AR, 0x83, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest LDTR usable with type 3", VMCS_GUEST_LDTR_AR, 0x83, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest GDTR limit > 16 bits", VMCS_GUEST_GDTR_LIMIT, 0x10000, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest RIP not canonical", VMCS_GUEST_RIP, 0x0100000000000000ull, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest RFLAGS bit 1 clear", VMCS_GUEST_RFLAGS, 0, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest RFLAGS.VM in IA-32e mode", VMCS_GUEST_RFLAGS, 0x20002, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest activity state shutdown injecting #UD", VMCS_GUEST_ACTIVITY_STATE, 2, VMX_OK,
         ENTRY_FAIL, VMCS_ENTRY_INTR_INFO, 0x80000306u},
        {"guest activity state wait-for-SIPI injecting #MC", VMCS_GUEST_ACTIVITY_STATE, 3, VMX_OK,
         ENTRY_FAIL, VMCS_ENTRY_INTR_INFO, 0x80000312u},
        {"guest activity state 4", VMCS_GUEST_ACTIVITY_STATE, 4, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest activity state HLT with MOV SS blocking", VMCS_GUEST_ACTIVITY_STATE, 1, VMX_OK,
         ENTRY_FAIL, VMCS_GUEST_INTERRUPTIBILITY, 2},
        {"guest activity state HLT injecting #GP", VMCS_GUEST_ACTIVITY_STATE, 1, VMX_OK,
         ENTRY_FAIL, VMCS_ENTRY_INTR_INFO, 0x80000b0du},
        {"guest activity state HLT injecting #UD", VMCS_GUEST_ACTIVITY_STATE, 1, VMX_OK,
         ENTRY_FAIL, VMCS_ENTRY_INTR_INFO, 0x80000306u},
        {"guest STI and MOV SS blocking", VMCS_GUEST_INTERRUPTIBILITY, 3, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest STI blocking with IF clear", VMCS_GUEST_INTERRUPTIBILITY, 1, VMX_OK, ENTRY_FAIL, 0, 0},
        {"VMCS link pointer to a page without a VMCS", VMCS_VMCS_LINK_POINTER, 0, VMX_OK, ENTRY_FAIL, 0, 0},
        {"guest EFER.LMA clear with IA-32e guest", VMCS_ENTRY_CONTROLS, entry | (1u << 15), VMX_OK,
         ENTRY_FAIL, VMCS_GUEST_IA32_EFER, 0x100},
        {"guest PAT invalid type", VMCS_ENTRY_CONTROLS, entry | (1u << 14), VMX_OK, ENTRY_FAIL,
         VMCS_GUEST_IA32_PAT, 2},
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        run_case(&cases[k]);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_vmcall_exit);
    RUN_TEST(test_exit_sequence);
    RUN_TEST(test_cr_access);
    RUN_TEST(test_exception_bitmap);
    RUN_TEST(test_page_fault_exit);
    RUN_TEST(test_rdmsr_exits);
    RUN_TEST(test_msr_bitmaps);
    RUN_TEST(test_io_bitmaps);
    RUN_TEST(test_msr_store_list_saves_real_tsc);
    RUN_TEST(test_vmx_instruction_exits);
    RUN_TEST(test_triple_fault_exit);
    RUN_TEST(test_entry_checks);
    vmx_disable();
}
