/* cpu/msr.c — RDMSR/WRMSR over the table in cpu/msr.def, plus the
 * MTRR ranges.  An index with no row raises #GP(0). */
#include <stddef.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"


#define MTRR_PHYS_FIRST 0x200 /* IA32_MTRR_PHYSBASE0 .. PHYSMASK7 */
#define MTRR_PHYS_LAST  0x20f
static const uint32_t mtrr_fixed_idx[11] = {0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                            0x26b, 0x26c, 0x26d, 0x26e, 0x26f};

struct msr_row {
    uint32_t index;
    size_t offset; /* 0: handled in code */
};

static const struct msr_row msr_rows[] = {
#define SPECIAL 0
#define FIELD(f) offsetof(struct cpu, f)
#define MSR(name, idx, where) {idx, where},
#include "cpu/msr.def"
#undef MSR
#undef FIELD
#undef SPECIAL
};

static uint64_t *plain_field(struct cpu *c, uint32_t index)
{
    for (size_t k = 0; k < sizeof(msr_rows) / sizeof(msr_rows[0]); k++)
        if (msr_rows[k].index == index && msr_rows[k].offset)
            return (uint64_t *)((char *)c + msr_rows[k].offset);
    if (index >= MTRR_PHYS_FIRST && index <= MTRR_PHYS_LAST)
        return &c->mtrr_var[index - MTRR_PHYS_FIRST];
    for (unsigned k = 0; k < 11; k++)
        if (mtrr_fixed_idx[k] == index)
            return &c->mtrr_fixed[k];
    return NULL;
}

/* MSRs that live in the local APIC: the x2APIC range and the timer's
 * TSC deadline (SDM 10.5.4.1) */
static bool is_apic_msr(uint32_t index)
{
    return (index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST) ||
           index == MSR_IA32_TSC_DEADLINE;
}

bool cpu_msr_read(struct cpu *c, uint32_t index, uint64_t *v)
{
    if (is_apic_msr(index))
        return c->apic_msr_read && c->apic_msr_read(c->apic_opaque, index, v);
    switch (index) {
    case MSR_IA32_TSC: *v = cpu_tsc(c); return true;
    case MSR_IA32_PLATFORM_ID: *v = 0; return true;
    case MSR_IA32_BIOS_SIGN_ID: *v = 0; return true;
    case MSR_IA32_MTRRCAP: *v = 0x508; return true; /* 8 variable, fixed, WC */
    case MSR_IA32_MCG_CAP: *v = 0; return true;
    case MSR_IA32_MCG_STATUS: *v = 0; return true;
    case MSR_IA32_EFER: *v = c->mmu.efer; return true;
    case MSR_IA32_FS_BASE: *v = c->seg[SEG_FS].base; return true;
    case MSR_IA32_GS_BASE: *v = c->seg[SEG_GS].base; return true;
    default: break;
    }
    uint64_t *f = plain_field(c, index);
    if (!f)
        return false;
    *v = *f;
    return true;
}

/* Canonical for the CPU's linear-address width: 57 bits when 5-level
 * paging is supported (CPUID.7.0:ECX.LA57), whatever CR4.LA57 says, so
 * a kernel can load 57-bit bases before and after enabling it. */
static bool msr_canonical(const struct cpu *c, uint64_t v)
{
    unsigned sh = cpu_has_feature(c, "la57") ? 7 : 16;
    return (uint64_t)((int64_t)(v << sh) >> sh) == v;
}

bool cpu_msr_write(struct cpu *c, uint32_t index, uint64_t v)
{
    if (is_apic_msr(index))
        return c->apic_msr_write && c->apic_msr_write(c->apic_opaque, index, v);
    switch (index) {
    case MSR_IA32_TSC: c->tsc_offset = v - c->icount; return true;
    case MSR_IA32_BIOS_SIGN_ID: return true;
    case MSR_IA32_PLATFORM_ID:
    case MSR_IA32_MTRRCAP:
    case MSR_IA32_MCG_CAP: return false; /* read-only */
    case MSR_IA32_MCG_STATUS: return v == 0;
    case MSR_IA32_EFER: {
        /* SCE, LME, NXE writable; LMA is read-only (SDM 2.2.1) */
        if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
            return false;
        if ((c->mmu.cr0 & CR0_PG) && ((v ^ c->mmu.efer) & EFER_LME))
            return false;
        cpu_write_efer(c, (v & ~EFER_LMA) | (c->mmu.efer & EFER_LMA));
        return true;
    }
    case MSR_IA32_FS_BASE:
    case MSR_IA32_GS_BASE:
    case MSR_IA32_KERNEL_GS_BASE:
    case MSR_IA32_LSTAR:
    case MSR_IA32_CSTAR:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        if (!msr_canonical(c, v))
            return false;
        if (index == MSR_IA32_FS_BASE) {
            c->seg[SEG_FS].base = v;
            return true;
        }
        if (index == MSR_IA32_GS_BASE) {
            c->seg[SEG_GS].base = v;
            return true;
        }
        break;
    case MSR_IA32_APIC_BASE:
        /* base (MAXPHYADDR bits), BSP bit 8 (read-only), x2APIC bit 10, enable bit 11 */
        if (v & ~(((1ull << MMU_MAXPHYADDR) - 1) & ~0x2ffull))
            return false;
        v = (v & ~0x100ull) | (c->apic_base & 0x100);
        c->apic_base = v;
        if (c->apic_base_write)
            c->apic_base_write(c->apic_opaque, v);
        return true;
    case MSR_IA32_FEATURE_CONTROL:
        if (c->feature_control & 1) /* locked until reset */
            return false;
        break;
    case MSR_IA32_MISC_ENABLE:
        v = (v & ~MISC_ENABLE_RO) | (c->misc_enable & MISC_ENABLE_RO);
        break;
    case MSR_IA32_PAT:
        for (int k = 0; k < 8; k++) {
            unsigned t = (v >> (8 * k)) & 0xff;
            if (t == 2 || t == 3 || t > 7)
                return false;
        }
        break;
    default:
        break;
    }
    uint64_t *f = plain_field(c, index);
    if (!f)
        return false;
    *f = v;
    return true;
}
