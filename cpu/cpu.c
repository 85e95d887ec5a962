/* cpu/cpu.c — reset state, mode bookkeeping, control-register writes
 * and the fault entry point. */
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/icache.h"
#include "cpu/mem.h"
#include "cpu/msr.h"

/* A store reached a page with cached code (mmu/phys.h) */
static void code_written(void *mmu)
{
    mmu_new_epoch(mmu);
}

int cpu_init(struct cpu *c, struct machine *m, struct phys *phys)
{
    memset(c, 0, sizeof(*c));
    c->machine = m;
    mmu_init(&c->mmu, phys);
    cpu_reset(c);
    c->icache = icache_alloc();
    /* stores to cached code end the running block (cpu/icache.h) */
    phys->code_write_word = &c->pending;
    phys->code_write_bit = PEND_BREAK;
    /* and move the epochs that block links are stamped with */
    phys->code_written = code_written;
    phys->code_written_opaque = &c->mmu;
    return c->icache ? 0 : -1;
}

void cpu_free(struct cpu *c)
{
    icache_free(c->icache);
    c->icache = NULL;
}

/* Power-on state, SDM Vol. 3A 9.1.1 Table 9-1 */
void cpu_reset(struct cpu *c)
{
    uint64_t keep_disabled = c->feat_disabled;
    struct machine *m = c->machine;
    struct phys *phys = c->mmu.phys;
    /* The MMU epoch goes on from where it was: block links made before
     * the reset carry stamps of the old count, and a count started
     * again would meet them (a rebooted kernel patches its code at the
     * same addresses). */
    uint64_t seq = c->mmu.epoch_seq;
    memset(c, 0, offsetof(struct cpu, fault_jmp));
    c->feat_disabled = keep_disabled;
    c->machine = m;
    mmu_init(&c->mmu, phys);
    c->mmu.epoch_seq += seq;
    c->mmu.epoch += seq;
    c->mmu.gepoch = c->mmu.epoch_seq;
    c->mmu.cr0 = CR0_ET | CR0_CD | CR0_NW;
    c->rflags = FL_FIXED1;
    c->rip = 0xfff0;
    c->r[R_RDX] = 0x600 | 0x57; /* processor signature, as CPUID.1:EAX low bits */
    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = 0;
        c->seg[s].base = 0;
        c->seg[s].limit = 0xffff;
        c->seg[s].ar = AR_P | AR_S | 0x3; /* read/write data, accessed */
    }
    c->seg[SEG_CS].sel = 0xf000;
    c->seg[SEG_CS].base = 0xffff0000;
    c->seg[SEG_CS].ar = AR_P | AR_S | 0xb;
    c->gdtr.limit = c->idtr.limit = 0xffff;
    c->ldtr.ar = AR_P | 0x2;
    c->ldtr.limit = 0xffff;
    c->tr.ar = AR_P | 0xb;
    c->tr.limit = 0xffff;
    c->dr[6] = 0xffff0ff0;
    c->dr[7] = 0x400;
    c->mxcsr = 0x1f80;
    /* x87 power-on state (SDM Vol. 3A Table 9-1, RESET column): FCW 0040H,
     * FTW 5555H (every register tagged "zero"); FNINIT gives 037FH/FFFFH */
    c->fpu.fcw = 0x0040;
    c->fpu.ftw = 0x5555;
    c->xcr0 = 1;
    c->apic_base = 0xfee00000 | (1u << 11) | (1u << 8);
    c->pat = 0x0007040600070406ull;
    c->misc_enable = MISC_ENABLE_RESET;
    c->delivering = -1;
    c->fast_mask = 0xff;
    c->link_code_size = 0; /* no block link survives a reset */
    cpu_update_mode(c);
}

void cpu_update_mode(struct cpu *c)
{
    const struct seg *cs = &c->seg[SEG_CS];
    uint8_t old_code_size = c->code_size;
    if (!(c->mmu.cr0 & CR0_PE)) {
        c->mode = MODE_REAL;
        c->cpl = 0;
    } else if (c->mmu.efer & EFER_LMA) {
        c->mode = (cs->ar & AR_L) ? MODE_LONG : MODE_COMPAT;
    } else if (c->rflags & FL_VM) {
        c->mode = MODE_V86;
        c->cpl = 3;
    } else {
        c->mode = MODE_PROT;
    }
    if (c->mode == MODE_LONG)
        c->code_size = 8;
    else if (c->mode == MODE_V86)
        c->code_size = 2;
    else
        c->code_size = (cs->ar & AR_DB) ? 4 : 2;
    if (c->mode == MODE_LONG)
        c->stack_size = 8;
    else
        c->stack_size = (c->seg[SEG_SS].ar & AR_DB) && c->mode != MODE_V86 ? 4 : 2;
    if (c->code_size != old_code_size)
        c->pending |= PEND_BREAK; /* blocks are decoded for one code size */
    /* Block links (cpu/icache.h) hold for the CS base, mode and code size
     * they were made under.  A CS load that changes none of them (an
     * IRET to the same ring, which Linux's sync_core() does by the
     * hundred thousand while booting) keeps them.  The CPL is in each
     * link's stamp, so a system call's trip to ring 0 and back keeps
     * the links of both rings. */
    if (c->mode != c->link_mode || c->code_size != c->link_code_size ||
        cs->base != c->link_cs_base) {
        c->link_mode = c->mode;
        c->link_code_size = c->code_size;
        c->link_cs_base = cs->base;
        mmu_new_epoch(&c->mmu);
    }
    c->mmu.epoch = (c->mmu.epoch & ~(uint64_t)(MMU_EPOCH_STEP - 1)) | c->cpl;
    cpu_fast_need_update(c);
}

/* Block slots initialised for code sizes other than 'size' so far */
static uint64_t other_inits(const struct cpu *c, uint8_t size)
{
    const uint64_t *n = c->icache->inits;
    return n[2] + n[4] + n[8] - n[size];
}

void cpu_links_leave_root(struct cpu *c)
{
    const struct mmu *m = &c->mmu;
    c->root_links = (struct cpu_root_links){
        .epoch = m->epoch & ~(uint64_t)(MMU_EPOCH_STEP - 1),
        .gepoch = m->gepoch,
        .cr0 = m->cr0, .cr3 = m->cr3, .cr4 = m->cr4, .efer = m->efer,
        .cs_base = c->link_cs_base, .mode = c->link_mode, .code_size = c->link_code_size,
        .code_writes = m->phys->code_writes,
        .other_inits = other_inits(c, c->link_code_size),
    };
}

/* KVM's vCPU loop enters its guests hundreds of times in the KVM
 * scenario, each VM exit moved the epoch (the guest's mode and TLB
 * context differ), and the root came back to find every link and
 * jump-cache entry of its own code stale: about 470 block lookups per
 * exit, nearly all of them finding the block the stale entry named.
 * With a VPID the root's translations are tagged apart and nothing the
 * guest does invalidates them (SDM 28.3.3.3; INVLPG, MOV CR3 and
 * INVPCID in the guest reach only its own VPID), so they are what the
 * root's links were made under — unless code was written meanwhile
 * (links do not check the block's generation), a slot was taken over
 * for code of another size (a link to it would take a block decoded
 * for another mode), or the root does not come back to the paging and
 * mode state it left.  The epochs come back as they were: every epoch
 * and global epoch is a value never handed out before (mmu_new_epoch),
 * so no link the guest made can match them. */
bool cpu_links_resume_root(struct cpu *c)
{
    struct mmu *m = &c->mmu;
    const struct cpu_root_links rec = c->root_links, *r = &rec;
    c->root_links.epoch = 0; /* used once */
    bool same = r->epoch && r->code_writes == m->phys->code_writes &&
                r->other_inits == other_inits(c, r->code_size) && r->cr0 == m->cr0 &&
                r->cr3 == m->cr3 && r->cr4 == m->cr4 && r->efer == m->efer &&
                r->mode == c->link_mode && r->code_size == c->link_code_size &&
                r->cs_base == c->link_cs_base;
    if (!same)
        return false;
    m->epoch = r->epoch | (m->epoch & (MMU_EPOCH_STEP - 1));
    m->gepoch = r->gepoch;
    m->stat_resumes++;
    return true;
}

void cpu_fast_need_update(struct cpu *c)
{
    bool on = c->mode == MODE_LONG && c->fast_mask;
    bool user = c->cpl == 3;
    for (unsigned type = MMU_READ; type <= MMU_WRITE; type++)
        for (unsigned ac = 0; ac < 2; ac++)
            c->fast_need[type][ac] =
                on && !(user && ac) ? mmu_need_bit((enum mmu_access_type)type, user, ac) : 0;
    cpu_ac_changed(c);
}

_Noreturn void cpu_raise(struct cpu *c, int vector, uint32_t error_code)
{
    c->exc_vector = vector;
    c->exc_error = error_code;
    /* SDM Table 6-1: vectors that push an error code */
    c->exc_has_error = vector == EX_DF || (vector >= EX_TS && vector <= EX_PF) ||
                       vector == EX_AC || vector == EX_CP;
    longjmp(c->fault_jmp, 1);
}

_Noreturn void cpu_raise_noerr(struct cpu *c, int vector)
{
    cpu_raise(c, vector, 0);
}

/* ---- control registers, SDM Vol. 3A 2.5 and Vol. 2 "MOV—Move to/from Control Registers" ---- */

#define CR4_KNOWN (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | \
                   CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | \
                   CR4_PCIDE | CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_PKE)

uint64_t cpu_cr4_allowed(const struct cpu *c)
{
    uint64_t ok = CR4_KNOWN | CR4_VMXE;
    if (!CPU_HAS(c, vmx))
        ok &= ~CR4_VMXE;
    if (!CPU_HAS(c, pcid))
        ok &= ~CR4_PCIDE;
    if (!CPU_HAS(c, smep))
        ok &= ~CR4_SMEP;
    if (!CPU_HAS(c, smap))
        ok &= ~CR4_SMAP;
    if (!CPU_HAS(c, umip))
        ok &= ~CR4_UMIP;
    if (!CPU_HAS(c, la57))
        ok &= ~CR4_LA57;
    if (!CPU_HAS(c, pku))
        ok &= ~CR4_PKE;
    if (!CPU_HAS(c, fsgsbase))
        ok &= ~CR4_FSGSBASE;
    if (!CPU_HAS(c, xsave))
        ok &= ~CR4_OSXSAVE;
    /* CPUID.1:EDX.VME enumerates both CR4.VME and CR4.PVI (SDM Vol. 3A
     * 2.5, and 20.4: PVI came with the virtual-8086 mode extensions) */
    if (!CPU_HAS(c, vme))
        ok &= ~(CR4_VME | CR4_PVI);
    return ok;
}

void cpu_write_cr0(struct cpu *c, uint64_t v)
{
    struct mmu *m = &c->mmu;
    if (v >> 32)
        cpu_raise(c, EX_GP, 0);
    v |= CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_raise(c, EX_GP, 0);
    /* SDM 23.8; an unrestricted guest may clear PE and PG (25.3) */
    if (c->vmx.on && !vmx_guest_cr0_allowed(c, v, c->vmx.nonroot && vmx_unrestricted_guest(c)))
        cpu_raise(c, EX_GP, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_raise(c, EX_GP, 0);
    if (!(v & CR0_WP) && (m->cr4 & CR4_CET))
        cpu_raise(c, EX_GP, 0);
    bool pg_on = (v & CR0_PG) && !(m->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (m->cr0 & CR0_PG);
    if (pg_on && (m->efer & EFER_LME)) {
        /* entering IA-32e mode needs PAE (SDM 9.8.5) */
        if (!(m->cr4 & CR4_PAE))
            cpu_raise(c, EX_GP, 0);
        if (c->seg[SEG_CS].ar & AR_L)
            cpu_raise(c, EX_GP, 0);
    } else if (pg_on && (m->cr4 & CR4_PAE)) {
        uint64_t old = m->cr0;
        m->cr0 = v;
        struct mmu_fault f;
        if (mmu_load_pdptes_fault(m, &f)) {
            m->cr0 = old;
            mem_raise_fault(c, &f); /* #GP(0), or an EPT VM exit */
        }
    }
    if (pg_off && c->mode == MODE_LONG)
        cpu_raise(c, EX_GP, 0); /* leave 64-bit mode through compatibility mode */
    if (pg_off && (m->cr4 & CR4_PCIDE))
        cpu_raise(c, EX_GP, 0);
    uint64_t changed = v ^ m->cr0;
    m->cr0 = v;
    if (pg_on && (m->efer & EFER_LME))
        m->efer |= EFER_LMA;
    if (pg_off)
        m->efer &= ~EFER_LMA;
    if (changed & (CR0_PG | CR0_WP | CR0_PE))
        mmu_flush_all(m);
    cpu_update_mode(c);
}

void cpu_write_cr3(struct cpu *c, uint64_t v)
{
    struct mmu *m = &c->mmu;
    bool noflush = false;
    if (m->cr4 & CR4_PCIDE) {
        noflush = v >> 63;
        v &= ~(1ull << 63);
    }
    if ((m->efer & EFER_LMA) && (v >> MMU_MAXPHYADDR))
        cpu_raise(c, EX_GP, 0);
    if (!(m->efer & EFER_LMA) && (m->cr4 & CR4_PAE) && (m->cr0 & CR0_PG)) {
        uint64_t old = m->cr3;
        m->cr3 = v;
        struct mmu_fault f;
        if (mmu_load_pdptes_fault(m, &f)) {
            m->cr3 = old;
            mem_raise_fault(c, &f); /* #GP(0), or an EPT VM exit */
        }
    }
    if (m->cr4 & CR4_PCIDE) {
        /* a new epoch, or the one this space had if nothing it may use
         * changed since it was left */
        mmu_switch_space(m, v, noflush);
        if (!noflush)
            mmu_flush_pcid(m, m->pcid, true);
    } else {
        m->cr3 = v;
        mmu_flush_nonglobal(m); /* a new epoch */
    }
}

void cpu_write_cr4(struct cpu *c, uint64_t v)
{
    struct mmu *m = &c->mmu;
    if (v & ~cpu_cr4_allowed(c))
        cpu_raise(c, EX_GP, 0);
    /* in VMX operation CR4 keeps the IA32_VMX_CR4_FIXED bits (VMXE among
     * them): SDM 23.8 */
    if (c->vmx.on && !vmx_cr_allowed(c, 4, v))
        cpu_raise(c, EX_GP, 0);
    bool lma = m->efer & EFER_LMA;
    if (lma && !(v & CR4_PAE))
        cpu_raise(c, EX_GP, 0);
    if (lma && ((v ^ m->cr4) & CR4_LA57))
        cpu_raise(c, EX_GP, 0);
    if ((v & CR4_PCIDE) && !(m->cr4 & CR4_PCIDE) && (!lma || (m->cr3 & 0xfff)))
        cpu_raise(c, EX_GP, 0);
    if ((v & CR4_PAE) && !(m->cr4 & CR4_PAE) && (m->cr0 & CR0_PG) && !lma) {
        uint64_t old = m->cr4;
        m->cr4 = v;
        struct mmu_fault f;
        if (mmu_load_pdptes_fault(m, &f)) {
            m->cr4 = old;
            mem_raise_fault(c, &f); /* #GP(0), or an EPT VM exit */
        }
    }
    uint64_t changed = v ^ m->cr4;
    m->cr4 = v;
    m->pcid = (v & CR4_PCIDE) ? m->cr3 & 0xfff : 0;
    /* SDM 4.10.4.1: these changes invalidate all TLB entries */
    if (changed & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE |
                   CR4_LA57))
        mmu_flush_all(m);
}

void cpu_write_efer(struct cpu *c, uint64_t v)
{
    uint64_t changed = v ^ c->mmu.efer;
    c->mmu.efer = v;
    if (changed & EFER_NXE)
        mmu_flush_all(&c->mmu);
    cpu_update_mode(c);
}

void cpu_set_seg_flat32(struct cpu *c, int seg, uint16_t sel, bool code)
{
    struct seg *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->ar = (code ? 0xb : 0x3) | AR_S | AR_P | AR_DB | AR_G;
}
