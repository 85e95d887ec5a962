/* testsuite/unit/cpu_msr.c — every MSR exists exactly when the CPUID
 * feature that enumerates it is on (SDM Vol. 4 Table 2-2), walking the
 * rows of cpu/msr.def through cpu_msr_row(): with the row's features on
 * RDMSR works (and WRMSR of the value read, unless read-only); with
 * them off both fail, so -cpu nest86,FEATURE=off removes the MSR.
 * Also the MSRs CPUID does not advertise, and the IA32_EFER and
 * IA32_APIC_BASE bits that depend on a feature. */
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "testsuite/unit/dev_stubs.h"

static struct cpu c;

/* The local APIC's MSRs answer through these hooks on the real board. */
static bool apic_read(void *opaque, uint32_t index, uint64_t *v)
{
    (void)opaque;
    *v = index;
    return true;
}

static bool apic_write(void *opaque, uint32_t index, uint64_t v)
{
    (void)opaque;
    (void)index;
    (void)v;
    return true;
}

static void fresh_cpu(uint64_t disabled)
{
    static bool board;
    if (!board) {
        board = true;
        test_board(1u << 20, false);
        if (phys_init(&test_m.phys, 1u << 20)) {
            perror("phys_init");
            exit(2);
        }
    } else {
        cpu_free(&c);
    }
    if (cpu_init(&c, &test_m, &test_m.phys)) {
        perror("cpu_init");
        exit(2);
    }
    c.feat_disabled = disabled;
    c.apic_msr_read = apic_read;
    c.apic_msr_write = apic_write;
}

/* Read-only MSRs: a WRMSR is #GP even with the value just read.  The
 * VMX capability MSRs (SDM Appendix A) are all read-only. */
static bool read_only(uint32_t index)
{
    return index == MSR_IA32_PLATFORM_ID || index == MSR_IA32_MTRRCAP ||
           index == MSR_IA32_ARCH_CAPABILITIES ||
           (index >= MSR_IA32_VMX_BASIC && index <= MSR_IA32_VMX_VMFUNC);
}

/* Write-only MSRs (Table 2-2 "WO"): RDMSR is #GP, so a WRMSR of 0
 * is what shows they exist. */
static bool write_only(uint32_t index)
{
    return index == MSR_IA32_PRED_CMD;
}

/* The MSR answers: RDMSR, or for a write-only one WRMSR of 0. */
static bool exists(uint32_t index, uint64_t *v)
{
    if (write_only(index)) {
        *v = 0;
        return !cpu_msr_read(&c, index, v) && cpu_msr_write(&c, index, 0);
    }
    return cpu_msr_read(&c, index, v);
}

/* Rows whose MSR exists only when a capability the model does not offer
 * yet is there (vmx/caps.c decides; here it must #GP).  None today:
 * IA32_VMX_PROCBASED_CTLS2, IA32_VMX_EPT_VPID_CAP and IA32_VMX_VMFUNC
 * exist now that the secondary controls offer EPT and VM functions
 * (A.3.3, A.10, A.11). */
static bool absent_for_now(uint32_t index)
{
    (void)index;
    return false;
}

static uint64_t all_features(void)
{
    return CPU_NFEATURES == 64 ? ~0ull : (1ull << CPU_NFEATURES) - 1;
}

static void each_row_follows_its_feature(void)
{
    struct cpu_msr_info m;
    unsigned rows = 0, gated = 0;
    for (size_t k = 0; cpu_msr_row(k, &m); k++, rows++) {
        uint64_t v = 0;
        if (absent_for_now(m.index)) {
            fresh_cpu(0);
            UNIT_CHECKF(!cpu_msr_read(&c, m.index, &v), "%s: RDMSR works", m.name);
            continue;
        }
        /* every feature on */
        fresh_cpu(0);
        UNIT_CHECKF(exists(m.index, &v), "%s: RDMSR #GP with every feature on", m.name);
        UNIT_CHECKF(cpu_msr_write(&c, m.index, v) == !read_only(m.index),
                    "%s: WRMSR of its own value 0x%llx", m.name, (unsigned long long)v);
        /* only this row's features on (every other feature off) */
        fresh_cpu(all_features() & ~m.gate);
        UNIT_CHECKF(exists(m.index, &v), "%s: RDMSR #GP with just its features on", m.name);
        if (!m.gate)
            continue;
        gated++;
        /* each of its features alone enables it */
        for (unsigned f = 0; f < CPU_NFEATURES; f++)
            if (m.gate >> f & 1) {
                fresh_cpu(all_features() & ~(1ull << f));
                UNIT_CHECKF(exists(m.index, &v), "%s: RDMSR #GP with feature %u on", m.name, f);
            }
        /* all of them off: gone for RDMSR and WRMSR alike */
        fresh_cpu(m.gate);
        UNIT_CHECKF(!cpu_msr_read(&c, m.index, &v), "%s: RDMSR works with its feature off",
                    m.name);
        UNIT_CHECKF(!cpu_msr_write(&c, m.index, 0), "%s: WRMSR works with its feature off",
                    m.name);
    }
    UNIT_CHECKF(rows > 40 && gated > 30, "%u rows, %u gated", rows, gated);
}

/* The gates the SDM gives for a few rows, spelled out so that a wrong
 * column in cpu/msr.def fails here. */
static void gates_match_the_sdm(void)
{
    static const struct {
        uint32_t index;
        uint64_t gate;
    } want[] = {
        {0x010, CPU_FEAT_BIT(tsc)},
        {0x174, CPU_FEAT_BIT(sep)},
        {0x0fe, CPU_FEAT_BIT(mtrr)},
        {0x200, CPU_FEAT_BIT(mtrr)},
        {0x26f, CPU_FEAT_BIT(mtrr)},
        {0x277, CPU_FEAT_BIT(pat)},
        {0x6e0, CPU_FEAT_BIT(tsc_deadline_timer)},
        {0xc0000080, CPU_FEAT_BIT(nx) | CPU_FEAT_BIT(lm)},
        {0xc0000082, CPU_FEAT_BIT(lm)},
        {0xc0000102, CPU_FEAT_BIT(lm)},
        {0xc0000103, CPU_FEAT_BIT(rdtscp) | CPU_FEAT_BIT(rdpid)},
        {0x01b, 0},
        {0x1a0, 0},
        {0x048, CPU_FEAT_BIT(spec_ctrl)},
        {0x049, CPU_FEAT_BIT(spec_ctrl)},
        {0x10a, CPU_FEAT_BIT(arch_capabilities)},
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        struct cpu_msr_info m;
        bool found = false;
        for (size_t r = 0; cpu_msr_row(r, &m); r++)
            if (m.index == want[k].index) {
                found = true;
                UNIT_CHECKF(m.gate == want[k].gate, "%s: gate 0x%llx, want 0x%llx", m.name,
                            (unsigned long long)m.gate, (unsigned long long)want[k].gate);
            }
        UNIT_CHECKF(found, "MSR 0x%x has no row", want[k].index);
    }
}

/* Nothing in CPUID enumerates these, so they #GP (see cpu/msr.def). */
static void unadvertised_msrs_fault(void)
{
    static const uint32_t absent[] = {
        0x03b, /* IA32_TSC_ADJUST: CPUID.7.0:EBX[1] = 0 */
        0x10b, /* IA32_FLUSH_CMD: CPUID.7.0:EDX[28] = 0 */
        0x179, /* IA32_MCG_CAP: CPUID.1:EDX.MCA[14] = 0 */
        0x17a, /* IA32_MCG_STATUS */
        0x0c1, /* IA32_PMC0: no PMU */
        0x38f, /* IA32_PERF_GLOBAL_CTRL */
    };
    fresh_cpu(0);
    for (size_t k = 0; k < sizeof(absent) / sizeof(absent[0]); k++) {
        uint64_t v;
        UNIT_CHECKF(!cpu_msr_read(&c, absent[k], &v), "RDMSR 0x%x works", absent[k]);
        UNIT_CHECKF(!cpu_msr_write(&c, absent[k], 0), "WRMSR 0x%x works", absent[k]);
    }
}

/* IA32_EFER: SCE needs SYSCALL, LME needs LM, NXE needs NX
 * (CPUID.80000001H:EDX bits 11, 29, 20); x2APIC registers and
 * IA32_APIC_BASE.EXTD (bit 10) need CPUID.1:ECX.x2APIC. */
static void feature_dependent_bits(void)
{
    static const struct {
        uint64_t efer_bit, feature;
    } bits[] = {
        {EFER_SCE, CPU_FEAT_BIT(syscall)},
        {EFER_LME, CPU_FEAT_BIT(lm)},
        {EFER_NXE, CPU_FEAT_BIT(nx)},
    };
    for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
        fresh_cpu(0);
        UNIT_CHECK(cpu_msr_write(&c, MSR_IA32_EFER, bits[k].efer_bit));
        fresh_cpu(bits[k].feature);
        UNIT_CHECKF(!cpu_msr_write(&c, MSR_IA32_EFER, bits[k].efer_bit),
                    "EFER bit 0x%llx set with its feature off",
                    (unsigned long long)bits[k].efer_bit);
        UNIT_CHECK(cpu_msr_write(&c, MSR_IA32_EFER, 0));
    }
    uint64_t v, base = 0xfee00000ull | 1u << 11 | 1u << 8;
    fresh_cpu(0);
    UNIT_CHECK(cpu_msr_read(&c, 0x802, &v)); /* x2APIC ID, through the hook */
    UNIT_CHECK(cpu_msr_write(&c, MSR_IA32_APIC_BASE, base | 1u << 10));
    fresh_cpu(CPU_FEAT_BIT(x2apic));
    UNIT_CHECK(!cpu_msr_read(&c, 0x802, &v));
    UNIT_CHECK(!cpu_msr_write(&c, 0x80b, 0)); /* x2APIC EOI */
    UNIT_CHECK(!cpu_msr_write(&c, MSR_IA32_APIC_BASE, base | 1u << 10));
    UNIT_CHECK(cpu_msr_write(&c, MSR_IA32_APIC_BASE, base));
}

/* IA32_ARCH_CAPABILITIES reads the *_NO bits Linux's cpu_set_bug_bits()
 * and bugs.c test (their positions from Table 2-2), and eIBRS; the bits
 * that would announce an MSR nest86 lacks (TSX_CTRL 7, MCU_CONTROL 9,
 * GDS_CTRL 25, ...) and RSBA (2, "RSB alternate": a weakness) stay 0.
 * IA32_SPEC_CTRL takes IBRS only (STIBP 1 and SSBD 2 are not
 * enumerated); IA32_PRED_CMD takes IBPB and reads as #GP. */
static void speculation_msrs(void)
{
    fresh_cpu(0);
    uint64_t v;
    UNIT_CHECK(cpu_msr_read(&c, 0x10a, &v));
    static const unsigned set[] = {0, 1, 3, 4, 5, 6, 8, 13, 14, 15, 20, 24, 26, 27, 62};
    uint64_t want = 0;
    for (size_t k = 0; k < sizeof(set) / sizeof(set[0]); k++)
        want |= 1ull << set[k];
    UNIT_CHECKF(v == want, "IA32_ARCH_CAPABILITIES 0x%llx, want 0x%llx", (unsigned long long)v,
                (unsigned long long)want);
    UNIT_CHECK(!cpu_msr_write(&c, 0x10a, 0));
    UNIT_CHECK(cpu_msr_read(&c, 0x48, &v) && v == 0);
    UNIT_CHECK(cpu_msr_write(&c, 0x48, 1));
    UNIT_CHECK(cpu_msr_read(&c, 0x48, &v) && v == 1);
    UNIT_CHECK(!cpu_msr_write(&c, 0x48, 2));
    UNIT_CHECK(!cpu_msr_write(&c, 0x48, 4));
    UNIT_CHECK(!cpu_msr_write(&c, 0x48, 1ull << 10));
    UNIT_CHECK(cpu_msr_write(&c, 0x49, 1));
    UNIT_CHECK(!cpu_msr_write(&c, 0x49, 2));
    UNIT_CHECK(!cpu_msr_read(&c, 0x49, &v));
    cpu_reset(&c);
    UNIT_CHECK(cpu_msr_read(&c, 0x48, &v) && v == 0); /* SDM Table 9-1: cleared by reset */
}

int main(void)
{
    UNIT_RUN(each_row_follows_its_feature);
    UNIT_RUN(gates_match_the_sdm);
    UNIT_RUN(unadvertised_msrs_fault);
    UNIT_RUN(feature_dependent_bits);
    UNIT_RUN(speculation_msrs);
    return unit_done();
}
