/*
 * vmx_basic: enabling VMX and the VMCS-management instructions, SDM Vol.
 * 3C chapters 23, 24 and 30: CPUID and IA32_FEATURE_CONTROL, the
 * capability MSRs, VMXON/VMXOFF, VMCLEAR/VMPTRLD/VMPTRST, VMREAD/VMWRITE
 * field widths and errors, and each instruction's outcome (VMsucceed,
 * VMfailInvalid, VMfailValid with the error numbers of 30.4).
 */
#include "rt.h"
#include "vmx.h"

static void test_cpuid_vmx(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    ASSERT_EQ((r[2] >> 5) & 1, 1); /* CPUID.1:ECX.VMX[bit 5] */
}

static void do_vmxon_region(void)
{
    uint64_t pa = (uintptr_t)vmx_on_region;
    __asm__ volatile("vmxon %0" ::"m"(pa) : "cc", "memory");
}

static void do_vmread(void)
{
    uint64_t v;
    __asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(0x681eull) : "cc");
}

static void test_vmxon_needs_cr4_vmxe(void)
{
    ASSERT_EQ(read_cr4() & CR4_VMXE, 0);
    expect_fault(6, do_vmxon_region); /* #UD: CR4.VMXE = 0 */
    expect_fault(6, do_vmread);       /* #UD: not in VMX operation */
}

static void test_feature_control(void)
{
    /* firmware leaves it unlocked; VMXON #GPs until it is locked with
     * bit 2 ("enable VMX outside SMX") set (SDM 23.7) */
    ASSERT_EQ(rdmsr(MSR_FEATURE_CONTROL), 0);
    *(uint32_t *)vmx_on_region = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    write_cr0(read_cr0() | CR0_NE);
    write_cr4(read_cr4() | CR4_VMXE);
    expect_fault(13, do_vmxon_region);
    wrmsr(MSR_FEATURE_CONTROL, 4); /* VMX on but not locked */
    expect_fault(13, do_vmxon_region);
    wrmsr(MSR_FEATURE_CONTROL, 5); /* locked, VMX outside SMX */
    write_cr4(read_cr4() & ~CR4_VMXE);
}

static void test_feature_control_locked(void)
{
    /* once locked, writes #GP until reset (SDM Vol. 4, Table 2-2) */
    static uint64_t v;
    v = rdmsr(MSR_FEATURE_CONTROL);
    ASSERT_EQ(v, 5);
    int vec = catch_asm(RT_CATCH_BEGIN "wrmsr" RT_CATCH_END ::"c"(MSR_FEATURE_CONTROL), "a"(1),
                        "d"(0) : "memory");
    ASSERT_EQ(vec, 13);
}

static void test_capability_msrs(void)
{
    uint64_t basic = rdmsr(MSR_VMX_BASIC);
    ASSERT_EQ(basic >> 31 & 1, 0);          /* revision id bit 31 is 0 */
    ASSERT_EQ((basic >> 32) & 0x1fff, 4096); /* VMCS region size */
    ASSERT_EQ((basic >> 48) & 1, 0);        /* 64-bit physical addresses */
    ASSERT_EQ((basic >> 50) & 0xf, 6);      /* write-back VMCS memory */
    ASSERT_EQ((basic >> 54) & 1, 1);        /* INS/OUTS instruction information */
    ASSERT_EQ((basic >> 55) & 1, 1);        /* TRUE controls */
    ASSERT_EQ(rdmsr(MSR_VMX_CR0_FIXED0), 0x80000021); /* PG, NE, PE */
    ASSERT_EQ(rdmsr(MSR_VMX_CR4_FIXED0), 0x2000);     /* VMXE */
    ASSERT_EQ(rdmsr(MSR_VMX_CR4_FIXED1) & 0x2000, 0x2000);
    /* the allowed-0 (low) bits are a subset of the allowed-1 (high) bits */
    static const uint32_t ctls[8] = {MSR_VMX_PINBASED, MSR_VMX_PROCBASED, MSR_VMX_EXIT,
                                     MSR_VMX_ENTRY, MSR_VMX_TRUE_PINBASED,
                                     MSR_VMX_TRUE_PROCBASED, MSR_VMX_TRUE_EXIT,
                                     MSR_VMX_TRUE_ENTRY};
    for (int k = 0; k < 8; k++) {
        uint64_t m = rdmsr(ctls[k]);
        ASSERT_EQ((uint32_t)m & ~(uint32_t)(m >> 32), 0);
    }
    /* default1 classes (SDM A.2): pin bits 1, 2, 4; processor-based 1,
     * 4-6, 8, 13-16, 26; exit 0-8, 10, 11, 13, 14, 16, 17; entry 0-8, 12 */
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_PINBASED), 0x16);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_PROCBASED), 0x0401e172);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_EXIT), 0x00036dff);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_ENTRY), 0x000011ff);
    /* TRUE views let the implemented default1 controls be 0: CR3-load
     * and -store exiting, save/load debug controls */
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_TRUE_PROCBASED), 0x0401e172 & ~0x18000u);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_TRUE_EXIT), 0x00036dff & ~4u);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_TRUE_ENTRY), 0x000011ff & ~4u);
    /* allowed-1 processor-based controls: the default1 bits and the
     * implemented ones — interrupt window 2, TSC offsetting 3, HLT 7,
     * INVLPG 9, MWAIT 10, RDPMC 11, RDTSC 12, CR3-load/-store 15/16,
     * CR8-load/-store 19/20, use TPR shadow 21, NMI window 22, MOV-DR 23,
     * unconditional I/O 24, I/O bitmaps 25, monitor trap flag 27, MSR
     * bitmaps 28, MONITOR 29, PAUSE 30, activate secondary controls 31 */
    ASSERT_EQ(rdmsr(MSR_VMX_PROCBASED) >> 32, 0xfff9fffe);
    ASSERT_EQ(rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32, 0xfff9fffe);
    /* IA32_VMX_PROCBASED_CTLS2 (A.3.3): "virtualize APIC accesses" (bit
     * 0), "enable EPT" (1), "descriptor-table exiting" (2), "enable
     * RDTSCP" (3), "virtualize x2APIC mode" (4), "enable VPID" (5),
     * "WBINVD exiting" (6), "unrestricted guest" (7), "APIC-register
     * virtualization" (8), "virtual-interrupt delivery" (9), "PAUSE-loop
     * exiting" (10), "RDRAND exiting" (11), "enable INVPCID" (12),
     * "enable VM functions" (13), "VMCS shadowing" (14), "RDSEED
     * exiting" (16), "enable PML" (17), "EPT-violation #VE" (18),
     * "mode-based execute control for EPT" (22) and "use TSC scaling"
     * (25) */
    ASSERT_EQ(rdmsr(MSR_VMX_PROCBASED2), 0x02477fff00000000ull);
    /* MISC: 4 CR3-target values, VMWRITE to exit-information fields */
    uint64_t misc = rdmsr(MSR_VMX_MISC);
    ASSERT_EQ((misc >> 16) & 0x1ff, 4);
    ASSERT_EQ((misc >> 29) & 1, 1);
    /* bits 8:6: VM entry accepts activity states HLT, shutdown and
     * wait-for-SIPI; bit 5: exits store EFER.LMA in "IA-32e mode guest" */
    ASSERT_EQ((misc >> 5) & 0xf, 0xf);
    /* VMCS_ENUM bits 9:1: the highest index of any field that exists:
     * the TSC multiplier (2032H, index 19H) */
    ASSERT_EQ(rdmsr(MSR_VMX_VMCS_ENUM), 0x19 << 1);
}

static void test_vmxon_outcomes(void)
{
    uint32_t rev = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    write_cr4(read_cr4() | CR4_VMXE);
    *(uint32_t *)vmx_on_region = rev + 1; /* wrong revision: VMfailInvalid */
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_FAIL_INVALID);
    *(uint32_t *)vmx_on_region = rev | 0x80000000u; /* bit 31 set */
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_FAIL_INVALID);
    *(uint32_t *)vmx_on_region = rev;
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region + 8), VMX_FAIL_INVALID); /* not aligned */
    ASSERT_EQ(vmxon(1ull << 52), VMX_FAIL_INVALID); /* beyond MAXPHYADDR */
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_OK);
    /* in VMX root operation with no current VMCS: VMfailInvalid */
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_FAIL_INVALID);
    ASSERT_EQ(vmptrst(), ~0ull); /* no current VMCS */
    uint64_t v = 0;
    ASSERT_EQ(vmread_checked(VMCS_GUEST_RIP, &v), VMX_FAIL_INVALID);
    ASSERT_EQ(vmwrite_checked(VMCS_GUEST_RIP, 1), VMX_FAIL_INVALID);
}

static void do_clear_vmxe(void) { write_cr4(read_cr4() & ~CR4_VMXE); }
static void do_clear_ne(void) { write_cr0(read_cr0() & ~CR0_NE); }

static void test_fixed_bits_in_vmx_operation(void)
{
    /* SDM 23.8: CR0/CR4 keep their fixed bits in VMX operation */
    expect_fault(13, do_clear_vmxe);
    expect_fault(13, do_clear_ne);
    ASSERT(read_cr4() & CR4_VMXE);
}

static void test_vmptrld_vmclear_errors(void)
{
    uint32_t rev = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    *(uint32_t *)vmx_vmcs_a = rev;
    *(uint32_t *)vmx_vmcs_b = rev + 1;
    /* no current VMCS: failures are VMfailInvalid */
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a + 4), VMX_FAIL_INVALID);
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmptrst(), (uintptr_t)vmx_vmcs_a);
    /* with a current VMCS: VMfailValid and the error number (30.4) */
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a + 4), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 9);  /* VMPTRLD with invalid physical address */
    ASSERT_EQ(vmptrld((uintptr_t)vmx_on_region), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 10); /* VMPTRLD with VMXON pointer */
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_b), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 11); /* incorrect VMCS revision identifier */
    ASSERT_EQ(vmptrst(), (uintptr_t)vmx_vmcs_a); /* failures keep the current VMCS */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a + 0x10), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 2);  /* VMCLEAR with invalid physical address */
    ASSERT_EQ(vmclear((uintptr_t)vmx_on_region), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 3);  /* VMCLEAR with VMXON pointer */
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 15); /* VMXON executed in VMX root operation */
    unsigned long f;
    __asm__ volatile("vmcall\n\tpushf\n\tpop %0" : "=r"(f)::"cc", "memory");
    ASSERT_EQ(vmx_outcome(f), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 1);  /* VMCALL executed in VMX root operation */
    /* VMRESUME of a VMCS never launched; VMLAUNCH and VMRESUME fail
     * before any entry check */
    ASSERT_EQ(vmx_run(0), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 5);  /* VMRESUME with non-launched VMCS */
    /* VMCLEAR of the current VMCS makes it not current */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmptrst(), ~0ull);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_INVALID);
}

static void test_vmread_vmwrite_widths(void)
{
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);
    /* 16-bit field: the upper bits of the source are dropped (24.11.2) */
    vmwrite(VMCS_GUEST_ES_SELECTOR, 0x12345678);
    ASSERT_EQ(vmread(VMCS_GUEST_ES_SELECTOR), 0x5678);
    /* 32-bit field */
    vmwrite(VMCS_GUEST_ES_LIMIT, 0xfedcba9876543210ull);
    ASSERT_EQ(vmread(VMCS_GUEST_ES_LIMIT), 0x76543210);
    /* 64-bit field: full access and the high half (encoding + 1) */
    vmwrite(VMCS_TSC_OFFSET, 0x1122334455667788ull);
    ASSERT_EQ(vmread(VMCS_TSC_OFFSET), 0x1122334455667788ull);
    ASSERT_EQ(vmread(VMCS_TSC_OFFSET + 1), 0x11223344);
    vmwrite(VMCS_TSC_OFFSET + 1, 0xaabbccdd);
    ASSERT_EQ(vmread(VMCS_TSC_OFFSET), 0xaabbccdd55667788ull);
    /* natural width: 64 bits on a 64-bit processor */
    vmwrite(VMCS_GUEST_RIP, 0xffff800012345678ull);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), 0xffff800012345678ull);
    /* memory operands */
    static uint64_t mem = 0x4321;
    unsigned long f;
    __asm__ volatile("vmwrite %1, %2\n\tpushf\n\tpop %0" : "=r"(f) : "m"(mem), "r"(0x4002ull)
                     : "cc", "memory");
    ASSERT_EQ(vmx_outcome(f), VMX_OK);
    mem = 0;
    __asm__ volatile("vmread %2, %1\n\tpushf\n\tpop %0" : "=r"(f), "=m"(mem) : "r"(0x4002ull)
                     : "cc", "memory");
    ASSERT_EQ(vmx_outcome(f), VMX_OK);
    ASSERT_EQ(mem, 0x4321);
    /* the exit-information fields accept VMWRITE: IA32_VMX_MISC[29] */
    vmwrite(VMCS_EXIT_QUALIFICATION, 0x77);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x77);
}

static void test_unsupported_fields(void)
{
    static const uint64_t bad[] = {
        0x0001,          /* high access to a 16-bit field */
        0x4001,          /* ... to a 32-bit field */
        0x6801,          /* ... to a natural-width field */
        0x1000 | 0x0800, /* bit 12 is reserved */
        0x8000,          /* bits 31:15 reserved */
        0x100000000ull | 0x681e, /* bits 63:32 in 64-bit mode */
        0x0c0e,          /* no 16-bit host field at index 7 */
        0x2036,          /* no 64-bit control field at index 1BH */
        0x2030,          /* SPP-table pointer: no sub-page write permissions */
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        uint64_t v = 0x5a5a;
        ASSERT_EQ(vmread_checked(bad[k], &v), VMX_FAIL_VALID);
        ASSERT_EQ(vmx_error(), 12); /* unsupported VMCS component */
        ASSERT_EQ(v, 0x5a5a);       /* destination untouched */
        ASSERT_EQ(vmwrite_checked(bad[k], 1), VMX_FAIL_VALID);
        ASSERT_EQ(vmx_error(), 12);
    }
}

static void test_vmcs_data_follows_the_pointer(void)
{
    uint32_t rev = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    *(uint32_t *)vmx_vmcs_b = rev;
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_b), VMX_OK);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);
    vmwrite(VMCS_GUEST_RSP, 0xaaaa);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_b), VMX_OK);
    vmwrite(VMCS_GUEST_RSP, 0xbbbb);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), 0xaaaa);
    /* VMCLEAR writes the data back; VMPTRLD reads it again */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_b), VMX_OK);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), 0xbbbb);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), 0xaaaa);
}

static void test_vmxoff(void)
{
    ASSERT_EQ(vmxoff(), VMX_OK);
    expect_fault(6, do_vmread); /* #UD outside VMX operation */
    write_cr4(read_cr4() & ~CR4_VMXE); /* allowed again */
    ASSERT_EQ(read_cr4() & CR4_VMXE, 0);
}

void test_main(void)
{
    RUN_TEST(test_cpuid_vmx);
    RUN_TEST(test_vmxon_needs_cr4_vmxe);
    RUN_TEST(test_feature_control);
    RUN_TEST(test_feature_control_locked);
    RUN_TEST(test_capability_msrs);
    RUN_TEST(test_vmxon_outcomes);
    RUN_TEST(test_fixed_bits_in_vmx_operation);
    RUN_TEST(test_vmptrld_vmclear_errors);
    RUN_TEST(test_vmread_vmwrite_widths);
    RUN_TEST(test_unsupported_fields);
    RUN_TEST(test_vmcs_data_follows_the_pointer);
    RUN_TEST(test_vmxoff);
}
