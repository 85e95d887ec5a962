/* cpu/msr.c — RDMSR/WRMSR over the table in cpu/msr.def.  An index
 * with no row, or whose CPUID feature is off, raises #GP(0). */
#include <stddef.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/mem.h"
#include "cpu/msr.h"

struct msr_row {
    const char *name;
    uint32_t index;
    size_t offset;  /* 0: handled in code */
    uint64_t gate;  /* CPU_FEAT_BIT()s, any of which enables it; 0: always */
};

static const struct msr_row msr_rows[] = {
#define SPECIAL 0
#define FIELD(f) offsetof(struct cpu, f)
#define ALWAYS 0
#define NEEDS(f) CPU_FEAT_BIT(f)
#define NEEDS2(f, g) (CPU_FEAT_BIT(f) | CPU_FEAT_BIT(g))
#define MSR(name, idx, where, gate) {#name, idx, where, gate},
#include "cpu/msr.def"
#undef MSR
#undef NEEDS2
#undef NEEDS
#undef ALWAYS
#undef FIELD
#undef SPECIAL
};
#define NROWS (sizeof(msr_rows) / sizeof(msr_rows[0]))

bool cpu_msr_row(size_t k, struct cpu_msr_info *out)
{
    if (k >= NROWS)
        return false;
    out->name = msr_rows[k].name;
    out->index = msr_rows[k].index;
    out->gate = msr_rows[k].gate;
    return true;
}

static bool gate_open(const struct cpu *c, uint64_t gate)
{
    return !gate || (gate & ~c->feat_disabled);
}

/* The row for an MSR the model has with its features as configured. */
static const struct msr_row *present_row(const struct cpu *c, uint32_t index)
{
    for (size_t k = 0; k < NROWS; k++)
        if (msr_rows[k].index == index)
            return gate_open(c, msr_rows[k].gate) ? &msr_rows[k] : NULL;
    return NULL;
}

/* The x2APIC registers (SDM 10.12.1.2) and IA32_TSC_DEADLINE (10.5.4.1)
 * live in the local APIC, behind cpu->apic_msr_*; the x2APIC range
 * exists only when CPUID.1:ECX.x2APIC[21] is advertised. */
static bool in_x2apic_range(uint32_t index)
{
    return index >= MSR_X2APIC_FIRST && index <= MSR_X2APIC_LAST;
}

bool cpu_msr_read(struct cpu *c, uint32_t index, uint64_t *v)
{
    if (in_x2apic_range(index) || index == MSR_IA32_TSC_DEADLINE) {
        if (in_x2apic_range(index) ? !cpu_feat_on(c, CPU_FEAT_x2apic) : !present_row(c, index))
            return false;
        return c->apic_msr_read && c->apic_msr_read(c->apic_opaque, index, v);
    }
    const struct msr_row *row = present_row(c, index);
    if (!row)
        return false;
    if (index >= MSR_IA32_VMX_BASIC && index <= MSR_IA32_VMX_VMFUNC)
        return vmx_msr_read(c, index, v);
    if (row->offset) {
        *v = *(const uint64_t *)((const char *)c + row->offset);
        return true;
    }
    switch (index) {
    case MSR_IA32_TSC: *v = cpu_tsc(c); return true;
    case MSR_IA32_PLATFORM_ID: *v = 0; return true;
    case MSR_IA32_BIOS_SIGN_ID: *v = 0; return true;
    case MSR_IA32_MTRRCAP: *v = 0x508; return true; /* 8 variable, fixed, WC */
    case MSR_IA32_ARCH_CAPABILITIES: *v = ARCH_CAPABILITIES_VALUE; return true;
    case MSR_IA32_EFER: *v = c->mmu.efer; return true;
    case MSR_IA32_FS_BASE: *v = c->seg[SEG_FS].base; return true;
    case MSR_IA32_GS_BASE: *v = c->seg[SEG_GS].base; return true;
    default: return false;
    }
}

/* IA32_EFER bits a WRMSR may set: each exists with its CPUID feature
 * (SDM Vol. 4 Table 2-2; SCE: CPUID.80000001H:EDX.SYSCALL[11], LME/LMA:
 * LM[29], NXE: NX[20]).  LMA is accepted and ignored (read-only). */
static uint64_t efer_writable(const struct cpu *c)
{
    uint64_t ok = 0;
    if (cpu_feat_on(c, CPU_FEAT_syscall))
        ok |= EFER_SCE;
    if (cpu_feat_on(c, CPU_FEAT_lm))
        ok |= EFER_LME | EFER_LMA;
    if (cpu_feat_on(c, CPU_FEAT_nx))
        ok |= EFER_NXE;
    return ok;
}

bool cpu_msr_write(struct cpu *c, uint32_t index, uint64_t v)
{
    if (in_x2apic_range(index) || index == MSR_IA32_TSC_DEADLINE) {
        if (in_x2apic_range(index) ? !cpu_feat_on(c, CPU_FEAT_x2apic) : !present_row(c, index))
            return false;
        return c->apic_msr_write && c->apic_msr_write(c->apic_opaque, index, v);
    }
    const struct msr_row *row = present_row(c, index);
    if (!row)
        return false;
    switch (index) {
    case MSR_IA32_TSC: c->tsc_offset = v - c->icount; return true;
    case MSR_IA32_BIOS_SIGN_ID: return true;
    case MSR_IA32_PLATFORM_ID:
    case MSR_IA32_MTRRCAP:
    case MSR_IA32_ARCH_CAPABILITIES: return false; /* read-only */
    case MSR_IA32_PRED_CMD:
        return !(v & ~PRED_CMD_IBPB); /* a barrier with nothing to flush */
    case MSR_IA32_SPEC_CTRL:
        if (v & ~SPEC_CTRL_IBRS)
            return false;
        break;
    case MSR_IA32_EFER:
        if (v & ~efer_writable(c))
            return false;
        if ((c->mmu.cr0 & CR0_PG) && ((v ^ c->mmu.efer) & EFER_LME))
            return false;
        cpu_write_efer(c, (v & ~EFER_LMA) | (c->mmu.efer & EFER_LMA));
        return true;
    case MSR_IA32_FS_BASE:
    case MSR_IA32_GS_BASE:
    case MSR_IA32_KERNEL_GS_BASE:
    case MSR_IA32_LSTAR:
    case MSR_IA32_CSTAR:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        if (!cpu_canonical_max(c, v)) /* whatever CR4.LA57 says */
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
    case MSR_IA32_APIC_BASE: {
        /* base (MAXPHYADDR bits), BSP bit 8 (read-only), enable bit 11,
         * x2APIC enable bit 10 (reserved without CPUID x2APIC, SDM 10.12.1) */
        uint64_t ok = ((1ull << MMU_MAXPHYADDR) - 1) & ~0x2ffull;
        if (!cpu_feat_on(c, CPU_FEAT_x2apic))
            ok &= ~(1ull << 10);
        if (v & ~ok)
            return false;
        v = (v & ~0x100ull) | (c->apic_base & 0x100);
        c->apic_base = v;
        if (c->apic_base_write)
            c->apic_base_write(c->apic_opaque, v);
        return true;
    }
    case MSR_IA32_DEBUGCTL:
        /* SDM Vol. 4 Table 2-2: FREEZE_PERFMON_ON_PMI (12) needs a PMU of
         * version 2 or more, FREEZE_WHILE_SMM (14) IA32_PERF_CAPABILITIES
         * and RTM_DEBUG (15) RTM; with none advertised they are reserved,
         * as are bits 63:16 */
        if (v & ~0x2fffull)
            return false;
        break;
    case MSR_IA32_FEATURE_CONTROL:
        if (c->feature_control & 1) /* locked until reset (SDM Vol. 4 Table 2-2) */
            return false;
        /* lock (bit 0) and "VMX outside SMX" (bit 2) only: the row exists
         * with VMX, and SMX, SGX and LMCE are not offered */
        if (v & ~5ull)
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
    if (!row->offset)
        return false;
    *(uint64_t *)((char *)c + row->offset) = v;
    return true;
}
