/* cpu/ops_system.c — system instructions: flag control, HLT, port I/O,
 * descriptor-table registers, control and debug registers, MSRs, TSC,
 * CPUID, fast system calls. */
#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/mem.h"
#include "cpu/msr.h"
#include "cpu/simd.h"
#include "vmx/caps.h"
#include "devices/machine.h"

static unsigned iopl(const struct cpu *c)
{
    return (c->rflags & FL_IOPL) >> 12;
}

static bool legacy_real(const struct cpu *c)
{
    return c->mode == MODE_REAL || c->mode == MODE_V86;
}

void op_flagop(struct cpu *c, const struct insn *i)
{
    flags_materialize(c);
    switch (i->op) {
    case 0xf5: c->rflags ^= FL_CF; break;
    case 0xf8: c->rflags &= ~(uint64_t)FL_CF; break;
    case 0xf9: c->rflags |= FL_CF; break;
    case 0xfc: c->rflags &= ~(uint64_t)FL_DF; break;
    default: c->rflags |= FL_DF; break;
    }
}

/* CLI/STI: IOPL-sensitive (SDM Vol. 2A "CLI", Vol. 2B "STI"); below
 * the IOPL they may work on VIF instead (cpu/vme.c) */
void op_cli(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->mode != MODE_REAL && c->cpl > iopl(c)) {
        vme_cli_sti(c, false);
        return;
    }
    c->rflags &= ~(uint64_t)FL_IF;
}

void op_sti(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->mode != MODE_REAL && c->cpl > iopl(c)) {
        vme_cli_sti(c, true);
        return;
    }
    if (!(c->rflags & FL_IF))
        cpu_inhibit_events(c, false); /* SDM "STI": interrupts wait one instruction */
    c->rflags |= FL_IF;
}

void op_hlt(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_HLT_EXITING))
        vmx_exit_insn(c, VMX_EXIT_HLT, 0);
    c->halted = true;
    cpu_break_block(c);
}

void op_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->mmu.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise_noerr(c, EX_NM);
    x87_check_pending(c); /* a pending unmasked x87 exception: #MF (cpu/x87_state.c) */
}

void op_wbinvd(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    if (!c->vmx.nonroot)
        return;
    if (i->op == 0x108) /* INVD exits unconditionally (SDM 25.1.2) */
        vmx_exit_insn(c, VMX_EXIT_INVD, 0);
    /* WBINVD, and WBNOINVD (F3 0F 09, which decodes here too): exit 54
     * with "WBINVD exiting" (25.1.3), after the CPL check (25.1.1) */
    if (VMX_PROC2_CONTROLS(c) & PROC2_WBINVD_EXITING)
        vmx_exit_insn(c, VMX_EXIT_WBINVD, 0);
}

void op_clts(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    c->mmu.cr0 &= ~CR0_TS;
}

/* ---- port I/O ---- */

/* SDM Vol. 1 19.5.2: I/O permission bitmap check when CPL > IOPL or in V86 */
static void io_check(struct cpu *c, uint16_t port, unsigned size)
{
    if (c->mode == MODE_REAL || (c->mode != MODE_V86 && c->cpl <= iopl(c)))
        return;
    unsigned type = AR_TYPE(c->tr.ar);
    if ((c->tr.ar & AR_UNUSABLE) || (type != 9 && type != 11) || c->tr.limit < 103)
        cpu_raise(c, EX_GP, 0);
    uint32_t base = (uint32_t)sys_read(c, c->tr.base + 102, 2);
    uint32_t at = base + port / 8;
    if (at + 1 > c->tr.limit)
        cpu_raise(c, EX_GP, 0);
    uint32_t bits = (uint32_t)sys_read(c, c->tr.base + at, 2);
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        cpu_raise(c, EX_GP, 0);
}

uint32_t cpu_io_in(struct cpu *c, uint16_t port, unsigned size)
{
    io_check(c, port, size);
    return io_in(&c->machine->io, port, size);
}

void cpu_io_out(struct cpu *c, uint16_t port, uint32_t v, unsigned size)
{
    io_check(c, port, size);
    io_out(&c->machine->io, port, v, size);
}

/* VMX non-root operation (SDM 25.1.3): an I/O instruction that exits
 * does so after the checks SDM 25.1.1 gives priority: the IOPL/TSS
 * permission check and, for INS/OUTS, the relevant segment's usability,
 * limit and alignment (cpu_io_string_operand). */
void cpu_io_nonroot(struct cpu *c, const struct insn *i, uint16_t port, unsigned size,
                    unsigned flags)
{
    if (!vmx_io_exits(c, port, size))
        return;
    io_check(c, port, size);
    uint64_t lin = 0;
    if (flags & VMX_IO_STRING)
        lin = cpu_io_string_operand(c, i, size, flags & VMX_IO_IN);
    vmx_exit_io(c, i, port, size, flags, lin);
}

static unsigned io_size(const struct insn *i)
{
    return (i->op & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
}

void op_in_imm(struct cpu *c, const struct insn *i)
{
    unsigned sz = io_size(i);
    uint16_t port = (uint16_t)(i->imm & 0xff);
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, VMX_IO_IN | VMX_IO_IMM);
    reg_write(c, i, R_RAX, sz, cpu_io_in(c, port, sz));
}

void op_out_imm(struct cpu *c, const struct insn *i)
{
    unsigned sz = io_size(i);
    uint16_t port = (uint16_t)(i->imm & 0xff);
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, VMX_IO_IMM);
    cpu_io_out(c, port, (uint32_t)c->r[R_RAX] & (uint32_t)size_mask(sz), sz);
}

void op_in_dx(struct cpu *c, const struct insn *i)
{
    unsigned sz = io_size(i);
    uint16_t port = (uint16_t)c->r[R_RDX];
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, VMX_IO_IN);
    reg_write(c, i, R_RAX, sz, cpu_io_in(c, port, sz));
}

void op_out_dx(struct cpu *c, const struct insn *i)
{
    unsigned sz = io_size(i);
    uint16_t port = (uint16_t)c->r[R_RDX];
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, 0);
    cpu_io_out(c, port, (uint32_t)c->r[R_RAX] & (uint32_t)size_mask(sz), sz);
}

/* ---- descriptor-table instructions (0F 00, 0F 01) ---- */

static void umip_check(struct cpu *c)
{
    if ((c->mmu.cr4 & CR4_UMIP) && c->cpl > 0)
        cpu_raise(c, EX_GP, 0);
}

/* Non-root with "descriptor-table exiting": LGDT, LIDT, SGDT, SIDT
 * (exit 46) and LLDT, LTR, SLDT, STR (exit 47) exit after the #UD and
 * privilege checks and before their memory operand is touched (SDM
 * 25.1.1, 25.1.3); ModRM.reg is the instruction identity of the
 * instruction-information field (vmx/nonroot.c). */
static void desc_table_exit(struct cpu *c, const struct insn *i, unsigned reason)
{
    if (c->vmx.nonroot && (VMX_PROC2_CONTROLS(c) & PROC2_DESCRIPTOR_TABLE_EXITING))
        vmx_exit_insn_info(c, i, reason);
}

/* The base of a 16-byte system descriptor (SDM Vol. 3A 8.2.3): in
 * IA-32e mode LLDT and LTR raise #GP(selector) when it is not canonical
 * (for the CPU's maximum linear-address width: cpu_canonical_max). */
static uint64_t desc_base64(uint64_t lo, uint64_t hi)
{
    return ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000) | (hi << 32);
}

static void load_ldt(struct cpu *c, uint16_t sel)
{
    bool lma = c->mmu.efer & EFER_LMA;
    if ((sel & ~3u) == 0) {
        c->ldtr.sel = sel;
        c->ldtr.ar = AR_UNUSABLE;
        c->ldtr.base = 0;
        c->ldtr.limit = 0;
        return;
    }
    if (sel & 4)
        cpu_raise(c, EX_GP, sel & 0xfffc);
    uint64_t lo, hi;
    struct seg saved = c->ldtr;
    c->ldtr.ar = AR_UNUSABLE; /* the LDT selector always indexes the GDT */
    bool ok = seg_read_descriptor(c, sel, &lo, lma ? &hi : NULL);
    c->ldtr = saved;
    if (!ok)
        cpu_raise(c, EX_GP, sel & 0xfffc);
    unsigned ar = (unsigned)((lo >> 40) & 0xff);
    if ((ar & AR_S) || AR_TYPE(ar) != 2)
        cpu_raise(c, EX_GP, sel & 0xfffc);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, sel & 0xfffc);
    if (lma && !cpu_canonical_max(c, desc_base64(lo, hi)))
        cpu_raise(c, EX_GP, sel & 0xfffc);
    seg_from_descriptor(&c->ldtr, sel, lo, lma ? hi : 0);
}

static void load_tr(struct cpu *c, uint16_t sel)
{
    bool lma = c->mmu.efer & EFER_LMA;
    if ((sel & ~3u) == 0 || (sel & 4))
        cpu_raise(c, EX_GP, sel & 0xfffc);
    uint32_t off = sel & ~7u;
    if (off + (lma ? 15u : 7u) > c->gdtr.limit)
        cpu_raise(c, EX_GP, sel & 0xfffc);
    uint64_t lo = sys_read(c, c->gdtr.base + off, 8);
    uint64_t hi = lma ? sys_read(c, c->gdtr.base + off + 8, 8) : 0;
    unsigned ar = (unsigned)((lo >> 40) & 0xff);
    unsigned type = AR_TYPE(ar);
    /* available TSS: type 9 (32/64-bit) or 1 (16-bit, legacy only) */
    if ((ar & AR_S) || !(type == 9 || (!lma && type == 1)))
        cpu_raise(c, EX_GP, sel & 0xfffc);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, sel & 0xfffc);
    if (lma && !cpu_canonical_max(c, desc_base64(lo, hi)))
        cpu_raise(c, EX_GP, sel & 0xfffc); /* before the busy bit is set */
    sys_write(c, c->gdtr.base + off + 5, 1, (lo >> 40 & 0xff) | 2); /* mark busy */
    seg_from_descriptor(&c->tr, sel, lo | (2ull << 40), hi);
}

/* VERR/VERW (SDM Vol. 2B): ZF = 1 when the segment is accessible */
static void verify(struct cpu *c, uint16_t sel, bool write)
{
    flags_materialize(c);
    c->rflags &= ~(uint64_t)FL_ZF;
    if ((sel & ~3u) == 0)
        return;
    uint64_t lo;
    if (!seg_read_descriptor(c, sel, &lo, NULL))
        return;
    unsigned ar = (unsigned)((lo >> 40) & 0xff), type = AR_TYPE(ar), dpl = AR_DPL(ar);
    if (!(ar & AR_S))
        return;
    bool conforming_code = (type & 0xc) == 0xc;
    if (!conforming_code && (dpl < c->cpl || dpl < (sel & 3u)))
        return;
    bool ok = write ? !(type & 8) && (type & 2) : !(type & 8) || (type & 2);
    if (ok)
        c->rflags |= FL_ZF;
}

void op_grp6(struct cpu *c, const struct insn *i)
{
    if (legacy_real(c))
        cpu_raise(c, EX_UD, 0);
    switch (i->reg & 7) {
    case 0:
        umip_check(c);
        desc_table_exit(c, i, VMX_EXIT_LDTR_TR_ACCESS);
        if (i->mod == 3)
            reg_write(c, i, i->rm, i->opsize, c->ldtr.sel);
        else
            mem_write(c, i->seg, insn_ea(c, i), 2, c->ldtr.sel);
        return;
    case 1:
        umip_check(c);
        desc_table_exit(c, i, VMX_EXIT_LDTR_TR_ACCESS);
        if (i->mod == 3)
            reg_write(c, i, i->rm, i->opsize, c->tr.sel);
        else
            mem_write(c, i->seg, insn_ea(c, i), 2, c->tr.sel);
        return;
    case 2:
        require_cpl0(c);
        desc_table_exit(c, i, VMX_EXIT_LDTR_TR_ACCESS);
        load_ldt(c, (uint16_t)rm_read(c, i, 2));
        return;
    case 3:
        require_cpl0(c);
        desc_table_exit(c, i, VMX_EXIT_LDTR_TR_ACCESS);
        load_tr(c, (uint16_t)rm_read(c, i, 2));
        return;
    case 4:
    case 5:
        verify(c, (uint16_t)rm_read(c, i, 2), i->reg & 1);
        return;
    default:
        cpu_raise(c, EX_UD, 0);
    }
}

static void store_dtr(struct cpu *c, const struct insn *i, const struct dtr *d)
{
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    uint64_t ea = insn_ea(c, i);
    mem_probe_write(c, i->seg, ea, long64 ? 10 : 6);
    mem_write(c, i->seg, ea, 2, d->limit);
    if (long64)
        mem_write(c, i->seg, (ea + 2) & size_mask(i->adsize), 8, d->base);
    else
        mem_write(c, i->seg, (ea + 2) & size_mask(i->adsize), 4, d->base & 0xffffffffu);
}

static void load_dtr(struct cpu *c, const struct insn *i, struct dtr *d)
{
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    uint64_t ea = insn_ea(c, i);
    uint16_t limit = (uint16_t)mem_read(c, i->seg, ea, 2);
    uint64_t base;
    if (long64) {
        base = mem_read(c, i->seg, (ea + 2) & size_mask(i->adsize), 8);
        if (!cpu_canonical_max(c, base))
            cpu_raise(c, EX_GP, 0);
    } else {
        base = mem_read(c, i->seg, (ea + 2) & size_mask(i->adsize), 4);
        if (i->opsize == 2)
            base &= 0xffffff; /* SDM "LGDT": 16-bit operand size loads 24 bits */
    }
    d->limit = limit;
    d->base = base;
}

/* MONITOR/MWAIT (SDM Vol. 2B): CPL 0 only here (no MISC_ENABLE
 * override); extensions other than ECX bit 0 are #GP.  With one CPU and
 * no DMA into the monitored line, MWAIT is woken only by interrupts: it
 * halts when one can wake it (IF = 1, or ECX bit 0 "interrupts as break
 * events"), and otherwise returns at once, which the SDM permits. */
static void monitor_mwait(struct cpu *c, const struct insn *i, bool mwait)
{
    if (c->cpl != 0 || !cpu_has_feature(c, "monitor"))
        cpu_raise(c, EX_UD, 0);
    /* non-root: the exit comes after those #UDs and before the #GP;
     * MWAIT's qualification says whether the monitor is armed (27.2.1) */
    if (c->vmx.nonroot &&
        (VMX_PROC_CONTROLS(c) & (mwait ? PROC_MWAIT_EXITING : PROC_MONITOR_EXITING)))
        vmx_exit_insn(c, mwait ? VMX_EXIT_MWAIT : VMX_EXIT_MONITOR, mwait && c->monitor_armed);
    if ((uint32_t)c->r[R_RCX] & (mwait ? ~1u : ~0u))
        cpu_raise(c, EX_GP, 0);
    if (!mwait) {
        uint64_t off = c->r[R_RAX] & size_mask(i->adsize);
        mem_read(c, i->seg, off, 1); /* the address must be readable */
        c->monitor_armed = true;
        return;
    }
    bool armed = c->monitor_armed;
    c->monitor_armed = false;
    if (!armed)
        return;
    bool break_masked = (c->r[R_RCX] & 1) != 0;
    if (!(c->rflags & FL_IF) && !break_masked)
        return;
    c->halted = true;
    c->mwait_break_masked = break_masked;
    cpu_break_block(c);
}

void op_grp7(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    if (i->mod != 3) {
        switch (r) {
        case 0:
        case 1:
            umip_check(c);
            desc_table_exit(c, i, VMX_EXIT_GDTR_IDTR_ACCESS);
            store_dtr(c, i, r == 0 ? &c->gdtr : &c->idtr);
            return;
        case 2:
        case 3:
            require_cpl0(c);
            desc_table_exit(c, i, VMX_EXIT_GDTR_IDTR_ACCESS);
            load_dtr(c, i, r == 2 ? &c->gdtr : &c->idtr);
            return;
        case 4: umip_check(c); mem_write(c, i->seg, insn_ea(c, i), 2, c->mmu.cr0 & 0xffff); return;
        case 6: {
            require_cpl0(c);
            uint64_t v = rm_read(c, i, 2);
            /* LMSW changes PE, MP, EM, TS only and cannot clear PE */
            uint64_t cr0 = (c->mmu.cr0 & ~0xeull) | (v & 0xf);
            cpu_write_cr0(c, cr0 | (c->mmu.cr0 & CR0_PE));
            return;
        }
        case 7: { /* INVLPG */
            require_cpl0(c);
            /* Vol. 2A INVLPG: its only faults are #GP(0) at CPL > 0 and
             * #UD, so the address gets no segment check, and a
             * non-canonical one (for the CPU's width, as INVPCID) makes
             * INVLPG a no-op. */
            uint64_t lin = insn_ea(c, i);
            if (c->mode == MODE_LONG) {
                if (i->seg >= SEG_FS)
                    lin += c->seg[i->seg].base;
            } else {
                lin = (uint32_t)(lin + c->seg[i->seg].base);
            }
            /* non-root: the exit's qualification is that linear
             * address, canonical or not (SDM 27.2.1 Table 27-1) */
            if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_INVLPG_EXITING))
                vmx_exit_insn(c, VMX_EXIT_INVLPG, lin);
            if (c->mode == MODE_LONG && !cpu_canonical_max(c, lin))
                return;
            mmu_flush_page(&c->mmu, lin);
            return;
        }
        default: cpu_raise(c, EX_UD, 0);
        }
    }
    if (vmx_grp7(c, i))
        return;
    unsigned rm = i->rm & 7;
    switch (r) {
    case 1:
        if (rm == 0 || rm == 1) {
            monitor_mwait(c, i, rm == 1);
            return;
        }
        if (rm == 2 || rm == 3) {
            /* CLAC/STAC (SDM Vol. 2A): #UD when CPUID.7.EBX.SMAP = 0 or
             * CPL > 0; CR4.SMAP does not matter */
            if (c->cpl != 0 || !cpu_has_feature(c, "smap"))
                cpu_raise(c, EX_UD, 0);
            if (rm == 2)
                c->rflags &= ~(uint64_t)FL_AC;
            else
                c->rflags |= FL_AC;
            cpu_ac_changed(c);
            return;
        }
        break;
    case 2:
        if (rm == 0) { /* XGETBV */
            if (!(c->mmu.cr4 & CR4_OSXSAVE))
                cpu_raise(c, EX_UD, 0);
            if ((uint32_t)c->r[R_RCX] != 0)
                cpu_raise(c, EX_GP, 0);
            c->r[R_RAX] = c->xcr0 & 0xffffffffu;
            c->r[R_RDX] = c->xcr0 >> 32;
            return;
        }
        if (rm == 1) { /* XSETBV: XCR0 takes the components sse_xcr0_valid() allows */
            if (!(c->mmu.cr4 & CR4_OSXSAVE))
                cpu_raise(c, EX_UD, 0);
            if (c->vmx.nonroot) /* exits unconditionally (SDM 25.1.2) */
                vmx_exit_insn(c, VMX_EXIT_XSETBV, 0);
            require_cpl0(c);
            uint64_t v = ((c->r[R_RDX] & 0xffffffffu) << 32) | (c->r[R_RAX] & 0xffffffffu);
            if ((uint32_t)c->r[R_RCX] != 0 || !sse_xcr0_valid(v))
                cpu_raise(c, EX_GP, 0);
            c->xcr0 = v;
            return;
        }
        break;
    case 4:
        umip_check(c);
        reg_write(c, i, i->rm, i->opsize, c->mmu.cr0 & size_mask(i->opsize));
        return;
    case 5:
        if (rm == 6 || rm == 7) { /* RDPKRU / WRPKRU (SDM Vol. 2B) */
            if (!(c->mmu.cr4 & CR4_PKE))
                cpu_raise(c, EX_UD, 0);
            if ((uint32_t)c->r[R_RCX] != 0 || (rm == 7 && (uint32_t)c->r[R_RDX] != 0))
                cpu_raise(c, EX_GP, 0);
            if (rm == 6) {
                c->r[R_RAX] = c->mmu.pkru;
                c->r[R_RDX] = 0;
            } else {
                c->mmu.pkru = (uint32_t)c->r[R_RAX];
                mmu_flush_all(&c->mmu); /* TLB permissions fold PKRU in */
            }
            return;
        }
        break;
    case 6: {
        require_cpl0(c);
        uint64_t v = rm_read(c, i, 2);
        cpu_write_cr0(c, ((c->mmu.cr0 & ~0xeull) | (v & 0xf)) | (c->mmu.cr0 & CR0_PE));
        return;
    }
    case 7:
        if (rm == 0) { /* SWAPGS: 64-bit mode, CPL 0 */
            if (!(c->mode == MODE_LONG && c->code_size == 8))
                cpu_raise(c, EX_UD, 0);
            require_cpl0(c);
            uint64_t t = c->seg[SEG_GS].base;
            c->seg[SEG_GS].base = c->kernel_gs_base;
            c->kernel_gs_base = t;
            return;
        }
        if (rm == 1) { /* RDTSCP */
            /* non-root with "enable RDTSCP" 0: #UD before any other
             * exception (SDM 25.3) */
            if (c->vmx.nonroot && !(VMX_PROC2_CONTROLS(c) & PROC2_ENABLE_RDTSCP))
                cpu_raise(c, EX_UD, 0);
            if ((c->mmu.cr4 & CR4_TSD) && c->cpl > 0)
                cpu_raise(c, EX_GP, 0);
            uint64_t t = cpu_tsc(c);
            if (c->vmx.nonroot)
                t = vmx_rdtsc(c, t, true);
            c->r[R_RAX] = t & 0xffffffffu;
            c->r[R_RDX] = t >> 32;
            c->r[R_RCX] = c->tsc_aux & 0xffffffffu;
            return;
        }
        break;
    default:
        break;
    }
    cpu_raise(c, EX_UD, 0);
}

void op_lar_lsl(struct cpu *c, const struct insn *i)
{
    if (legacy_real(c))
        cpu_raise(c, EX_UD, 0);
    uint16_t sel = (uint16_t)rm_read(c, i, 2);
    bool lsl = i->op == 0x103;
    bool lma = c->mmu.efer & EFER_LMA;
    flags_materialize(c);
    c->rflags &= ~(uint64_t)FL_ZF;
    uint64_t lo, hi;
    if ((sel & ~3u) == 0 || !seg_read_descriptor(c, sel, &lo, &hi))
        return;
    unsigned ar = (unsigned)((lo >> 40) & 0xff), type = AR_TYPE(ar), dpl = AR_DPL(ar);
    if (!(ar & AR_S)) {
        /* valid system types per SDM "LAR"/"LSL" tables */
        static const uint16_t legacy_lar = 0x1eb6, legacy_lsl = 0x0a06, long_lar = 0x1a04,
                              long_lsl = 0x0a04;
        uint16_t ok = lma ? (lsl ? long_lsl : long_lar) : (lsl ? legacy_lsl : legacy_lar);
        if (!((ok >> type) & 1))
            return;
    }
    bool conforming_code = (ar & AR_S) && (type & 0xc) == 0xc;
    if (!conforming_code && (dpl < c->cpl || dpl < (sel & 3u)))
        return;
    uint64_t v;
    if (lsl) {
        struct seg s;
        seg_from_descriptor(&s, sel, lo, 0);
        v = s.limit;
    } else {
        v = lo >> 32 & 0x00f0ff00ull;
    }
    reg_write(c, i, i->reg, i->opsize, v);
    c->rflags |= FL_ZF;
}

/* ---- control and debug registers ---- */

void op_mov_r_cr(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    uint64_t v;
    switch (i->reg) {
    case 0: v = c->vmx.nonroot ? vmx_cr_read(c, 0, c->mmu.cr0) : c->mmu.cr0; break;
    case 2: v = c->cr2; break;
    case 3:
        if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_CR3_STORE_EXITING))
            vmx_exit_insn(c, VMX_EXIT_CR_ACCESS, vmx_cr_qualification(3, 1, i->rm));
        v = c->mmu.cr3;
        break;
    case 4: v = c->vmx.nonroot ? vmx_cr_read(c, 4, c->mmu.cr4) : c->mmu.cr4; break;
    case 8:
        /* CR8-store exiting: CR 8, access type 1 (MOV from CR), Table 27-3 */
        if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_CR8_STORE_EXITING))
            vmx_exit_insn(c, VMX_EXIT_CR_ACCESS, vmx_cr_qualification(8, 1, i->rm));
        if (c->vmx.nonroot && vmx_apicv_cr8_read(c, &v))
            break; /* "use TPR shadow": VTPR[7:4] (SDM 29.3) */
        v = c->apic_tpr_read ? c->apic_tpr_read(c->apic_opaque) : c->cr8;
        break;
    default: cpu_raise(c, EX_UD, 0);
    }
    c->r[i->rm] = c->mode == MODE_LONG ? v : (uint32_t)v;
}

void op_mov_cr_r(struct cpu *c, const struct insn *i)
{
    require_cpl0(c);
    uint64_t v = c->r[i->rm];
    if (c->mode != MODE_LONG)
        v &= 0xffffffffu;
    if (c->vmx.nonroot) {
        if (i->reg == 0 || i->reg == 4)
            v = vmx_cr_write(c, i->reg, v, i->rm, i->reg == 0 ? c->mmu.cr0 : c->mmu.cr4);
        else if (i->reg == 3)
            vmx_cr3_write_check(c, v, i->rm);
        else if (i->reg == 8 && (VMX_PROC_CONTROLS(c) & PROC_CR8_LOAD_EXITING))
            /* before the reserved-bit #GP (25.1.1) */
            vmx_exit_insn(c, VMX_EXIT_CR_ACCESS, vmx_cr_qualification(8, 0, i->rm));
    }
    switch (i->reg) {
    case 0: cpu_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: cpu_write_cr3(c, v); break;
    case 4: cpu_write_cr4(c, v); break;
    case 8:
        if (v & ~0xfull)
            cpu_raise(c, EX_GP, 0);
        if (c->vmx.nonroot && vmx_apicv_cr8_write(c, v))
            break; /* "use TPR shadow": VTPR, then TPR virtualization (SDM 29.3) */
        c->cr8 = v;
        if (c->apic_tpr_write)
            c->apic_tpr_write(c->apic_opaque, (uint8_t)v);
        break;
    default: cpu_raise(c, EX_UD, 0);
    }
}

static unsigned dr_index(struct cpu *c, unsigned r)
{
    if (r == 4 || r == 5) {
        if (c->mmu.cr4 & CR4_DE)
            cpu_raise(c, EX_UD, 0);
        return r + 2; /* DR4/DR5 alias DR6/DR7 when CR4.DE = 0 */
    }
    if (r > 7)
        cpu_raise(c, EX_UD, 0);
    return r;
}

/* SDM 25.1.3: a MOV DR exit takes priority over the #GP for CPL > 0 and
 * the #UD for DR4/DR5 with CR4.DE, unlike other exits; and, as every
 * fault-like exit, over the general-detect #DB.  DR8-DR15 stay #UD. */
static void mov_dr_nonroot(struct cpu *c, const struct insn *i, bool from_dr)
{
    if ((VMX_PROC_CONTROLS(c) & PROC_MOV_DR_EXITING) && i->reg < 8)
        vmx_exit_insn(c, VMX_EXIT_DR_ACCESS, vmx_dr_qualification(i->reg, from_dr, i->rm));
}

void op_mov_r_dr(struct cpu *c, const struct insn *i)
{
    if (c->vmx.nonroot)
        mov_dr_nonroot(c, i, true);
    require_cpl0(c);
    unsigned r = dr_index(c, i->reg);
    cpu_dr_general_detect(c);
    c->r[i->rm] = c->mode == MODE_LONG ? c->dr[r] : (uint32_t)c->dr[r];
}

void op_mov_dr_r(struct cpu *c, const struct insn *i)
{
    if (c->vmx.nonroot)
        mov_dr_nonroot(c, i, false);
    require_cpl0(c);
    unsigned r = dr_index(c, i->reg);
    cpu_dr_general_detect(c);
    uint64_t v = c->r[i->rm];
    if (c->mode != MODE_LONG)
        v &= 0xffffffffu;
    if ((r == 6 || r == 7) && (v >> 32))
        cpu_raise(c, EX_GP, 0);
    if (r == 6)
        v = (v & 0x1e00f) | 0xffff0ff0ull; /* reserved bits read as 1 */
    else if (r == 7)
        v = (v & ~0xd800ull) | 0x400;
    c->dr[r] = v;
    if (r == 7 || r < 4)
        cpu_dr7_changed(c);
}

/* ---- MSRs, TSC, CPUID ---- */

void op_rdmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    if (c->vmx.nonroot && vmx_msr_exits(c, (uint32_t)c->r[R_RCX], false))
        vmx_exit_insn(c, VMX_EXIT_RDMSR, 0);
    uint64_t v;
    /* "virtualize x2APIC mode" reads some of 800H-8FFH from the
     * virtual-APIC page (SDM 29.5) */
    if (!(c->vmx.nonroot && vmx_apicv_rdmsr(c, (uint32_t)c->r[R_RCX], &v)) &&
        !cpu_msr_read(c, (uint32_t)c->r[R_RCX], &v))
        cpu_raise(c, EX_GP, 0);
    /* RDMSR that the MSR bitmap lets run in non-root operation reads
     * IA32_TIME_STAMP_COUNTER with the TSC offset (SDM 25.3) */
    if (c->vmx.nonroot && (uint32_t)c->r[R_RCX] == MSR_IA32_TSC)
        v = vmx_guest_tsc(c, v);
    c->r[R_RAX] = v & 0xffffffffu;
    c->r[R_RDX] = v >> 32;
}

void op_wrmsr(struct cpu *c, const struct insn *i)
{
    (void)i;
    require_cpl0(c);
    if (c->vmx.nonroot && vmx_msr_exits(c, (uint32_t)c->r[R_RCX], true))
        vmx_exit_insn(c, VMX_EXIT_WRMSR, 0);
    uint64_t v = ((c->r[R_RDX] & 0xffffffffu) << 32) | (c->r[R_RAX] & 0xffffffffu);
    int virt = c->vmx.nonroot ? vmx_apicv_wrmsr(c, (uint32_t)c->r[R_RCX], v) : 0;
    if (virt < 0 || (virt == 0 && !cpu_msr_write(c, (uint32_t)c->r[R_RCX], v)))
        cpu_raise(c, EX_GP, 0);
}

uint64_t cpu_tsc(const struct cpu *c)
{
    return c->icount + c->tsc_offset;
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->mmu.cr4 & CR4_TSD) && c->cpl > 0)
        cpu_raise(c, EX_GP, 0); /* before the RDTSC exit (SDM 25.1.1) */
    uint64_t t = cpu_tsc(c);
    if (c->vmx.nonroot)
        t = vmx_rdtsc(c, t, false);
    c->r[R_RAX] = t & 0xffffffffu;
    c->r[R_RDX] = t >> 32;
}

void op_rdpmc(struct cpu *c, const struct insn *i)
{
    (void)i;
    /* SDM 25.1.1: the privilege #GP (CPL > 0 with CR4.PCE = 0) comes
     * before the exit; the #GP for an invalid counter comes after it */
    if (c->cpl > 0 && !(c->mmu.cr4 & CR4_PCE))
        cpu_raise(c, EX_GP, 0);
    if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_RDPMC_EXITING))
        vmx_exit_insn(c, VMX_EXIT_RDPMC, 0);
    /* no performance counters are advertised (CPUID leaf 0xA is zero) */
    cpu_raise(c, EX_GP, 0);
}

void op_cpuid(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->vmx.nonroot) /* CPUID exits unconditionally (SDM 25.1.2) */
        vmx_exit_insn(c, VMX_EXIT_CPUID, 0);
    uint32_t out[4];
    cpu_cpuid(c, (uint32_t)c->r[R_RAX], (uint32_t)c->r[R_RCX], out);
    c->r[R_RAX] = out[0];
    c->r[R_RBX] = out[1];
    c->r[R_RCX] = out[2];
    c->r[R_RDX] = out[3];
}

/* ---- SYSCALL/SYSRET, SYSENTER/SYSEXIT: fixed flat descriptors ---- */

static void set_flat(struct seg *s, uint16_t sel, bool code, unsigned dpl, bool l64)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->ar = (code ? 0xb : 0x3) | AR_S | (dpl << 5) | AR_P | AR_G |
            (code && l64 ? AR_L : AR_DB);
}

void op_syscall(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->mmu.efer & EFER_SCE) || !(c->mmu.efer & EFER_LMA))
        cpu_raise(c, EX_UD, 0); /* Intel: SYSCALL only in 64-bit mode */
    if (c->code_size != 8)
        cpu_raise(c, EX_UD, 0);
    uint16_t cs = (uint16_t)(c->star >> 32) & 0xfffc;
    c->r[R_RCX] = c->rip;
    c->r[R_R11] = cpu_get_flags(c);
    cpu_set_flags(c, c->r[R_R11] & ~(c->sfmask | FL_RF));
    set_flat(&c->seg[SEG_CS], cs, true, 0, true);
    set_flat(&c->seg[SEG_SS], (uint16_t)(cs + 8), false, 0, false);
    c->cpl = 0;
    c->rip = c->lstar;
    cpu_update_mode(c);
}

void op_sysret(struct cpu *c, const struct insn *i)
{
    if (!(c->mmu.efer & EFER_SCE) || c->mode != MODE_LONG)
        cpu_raise(c, EX_UD, 0);
    require_cpl0(c);
    uint16_t base = (uint16_t)(c->star >> 48);
    uint64_t rip;
    if (i->opsize == 8) {
        if (!mem_canonical(c, c->r[R_RCX]))
            cpu_raise(c, EX_GP, 0);
        rip = c->r[R_RCX];
        set_flat(&c->seg[SEG_CS], (uint16_t)((base + 16) | 3), true, 3, true);
    } else {
        rip = c->r[R_RCX] & 0xffffffffu;
        set_flat(&c->seg[SEG_CS], (uint16_t)(base | 3), true, 3, false);
    }
    /* SS selector from STAR, descriptor cache left as Intel does (flat) */
    set_flat(&c->seg[SEG_SS], (uint16_t)((base + 8) | 3), false, 3, false);
    cpu_set_flags(c, (c->r[R_R11] & 0x3c7fd7) | FL_FIXED1);
    c->cpl = 3;
    c->rip = rip;
    cpu_update_mode(c);
}

void op_sysenter(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->mode == MODE_REAL || (c->sysenter_cs & 0xfffc) == 0)
        cpu_raise(c, EX_GP, 0);
    bool lma = c->mmu.efer & EFER_LMA;
    uint16_t cs = (uint16_t)c->sysenter_cs & 0xfffc;
    flags_materialize(c);
    c->rflags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
    set_flat(&c->seg[SEG_CS], cs, true, 0, lma);
    set_flat(&c->seg[SEG_SS], (uint16_t)(cs + 8), false, 0, false);
    c->cpl = 0;
    c->r[R_RSP] = lma ? c->sysenter_esp : (uint32_t)c->sysenter_esp;
    c->rip = lma ? c->sysenter_eip : (uint32_t)c->sysenter_eip;
    cpu_update_mode(c);
}

void op_sysexit(struct cpu *c, const struct insn *i)
{
    if (c->mode == MODE_REAL || c->mode == MODE_V86 || (c->sysenter_cs & 0xfffc) == 0)
        cpu_raise(c, EX_GP, 0);
    require_cpl0(c);
    bool to64 = i->opsize == 8;
    uint16_t cs = (uint16_t)((c->sysenter_cs + (to64 ? 32 : 16)) | 3);
    set_flat(&c->seg[SEG_CS], cs, true, 3, to64);
    set_flat(&c->seg[SEG_SS], (uint16_t)((c->sysenter_cs + (to64 ? 40 : 24)) | 3), false, 3,
             false);
    c->cpl = 3;
    c->r[R_RSP] = to64 ? c->r[R_RCX] : (uint32_t)c->r[R_RCX];
    c->rip = to64 ? c->r[R_RDX] : (uint32_t)c->r[R_RDX];
    cpu_update_mode(c);
}

/* ---- 0F AE and 0F C7 groups ---- */

void op_grp15(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    if (i->mod == 3) {
        if (i->rep == REP_F3 && r < 4) { /* RD/WR FS/GS BASE */
            if (c->mode != MODE_LONG || !(c->mmu.cr4 & CR4_FSGSBASE))
                cpu_raise(c, EX_UD, 0);
            int s = (r & 1) ? SEG_GS : SEG_FS;
            unsigned size = i->opsize == 8 ? 8 : 4;
            if (r < 2) {
                reg_write(c, i, i->rm, size, c->seg[s].base);
            } else {
                uint64_t v = reg_read(c, i, i->rm, size);
                if (!cpu_canonical_max(c, v)) /* a base, like WRMSR FS_BASE */
                    cpu_raise(c, EX_GP, 0);
                c->seg[s].base = v;
            }
            return;
        }
        if (!i->rep && r >= 5)
            return; /* LFENCE, MFENCE, SFENCE: one CPU, in order */
        cpu_raise(c, EX_UD, 0);
    }
    if (r == 7 || (r == 6 && i->p66 && !i->rep)) {
        /* CLFLUSH / CLFLUSHOPT (66 /7) / CLWB (66 /6): the line must be addressable */
        mem_read(c, i->seg, insn_ea(c, i), 1);
        return;
    }
    sse_grp15_mem(c, i); /* FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE, XRSTOR, XSAVEOPT */
}

static bool rand64(struct cpu *c, uint64_t *out)
{
    /* deterministic: a xorshift stream seeded by the instruction count */
    uint64_t x = c->icount * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    *out = x;
    return true;
}

void op_grp9(struct cpu *c, const struct insn *i)
{
    if (vmx_grp9(c, i))
        return;
    unsigned r = i->reg & 7;
    if (i->mod != 3 && r == 1) { /* CMPXCHG8B / CMPXCHG16B */
        bool wide = i->opsize == 8;
        unsigned half = wide ? 8 : 4;
        uint64_t ea = insn_ea(c, i);
        if (wide && (ea & 15))
            cpu_raise(c, EX_GP, 0);
        mem_probe_write(c, i->seg, ea, half * 2);
        uint64_t lo = mem_read(c, i->seg, ea, half);
        uint64_t hi = mem_read(c, i->seg, (ea + half) & size_mask(i->adsize), half);
        uint64_t m = size_mask(half);
        bool eq = lo == (c->r[R_RAX] & m) && hi == (c->r[R_RDX] & m);
        flags_materialize(c);
        if (eq) {
            mem_write(c, i->seg, ea, half, c->r[R_RBX]);
            mem_write(c, i->seg, (ea + half) & size_mask(i->adsize), half, c->r[R_RCX]);
            c->rflags |= FL_ZF;
        } else {
            mem_write(c, i->seg, ea, half, lo); /* always a write cycle */
            c->rflags &= ~(uint64_t)FL_ZF;
            struct insn none = {0};
            reg_write(c, &none, R_RAX, half, lo);
            reg_write(c, &none, R_RDX, half, hi);
        }
        return;
    }
    if (i->mod != 3 && r == 4 && !i->p66 && !i->rep) { /* XSAVEC (cpu/sse_state.c) */
        sse_xsave(c, i, true);
        return;
    }
    if (i->mod == 3 && (r == 6 || (r == 7 && i->rep != REP_F3))) { /* RDRAND / RDSEED */
        /* #UD without their CPUID bits (Vol. 2B), before the exits 57
         * and 61 their controls give in non-root operation (25.1.3) */
        if (r == 6 ? !CPU_HAS(c, rdrand) : !CPU_HAS(c, rdseed))
            cpu_raise(c, EX_UD, 0);
        if (c->vmx.nonroot &&
            (VMX_PROC2_CONTROLS(c) & (r == 6 ? PROC2_RDRAND_EXITING : PROC2_RDSEED_EXITING)))
            vmx_exit_insn_info(c, i, r == 6 ? VMX_EXIT_RDRAND : VMX_EXIT_RDSEED);
        uint64_t v;
        rand64(c, &v);
        reg_write(c, i, i->rm, i->opsize, v);
        flags_set_arith(c, FL_CF);
        return;
    }
    if (i->mod == 3 && r == 7 && i->rep == REP_F3) { /* RDPID */
        c->r[i->rm] = c->tsc_aux & 0xffffffffu;
        return;
    }
    cpu_raise(c, EX_UD, 0);
}

/* INVPCID (SDM Vol. 2A): type in the register operand, descriptor
 * {PCID, linear address} in memory. */
void op_invpcid(struct cpu *c, const struct insn *i)
{
    if (!i->p66 || c->mode == MODE_REAL || c->mode == MODE_V86 || !CPU_HAS(c, invpcid))
        cpu_raise(c, EX_UD, 0);
    /* non-root with "enable INVPCID" 0: #UD before any other exception
     * (SDM 25.3); with it, "INVLPG exiting" makes INVPCID exit (58)
     * after the CPL check and before the descriptor is read (25.1.3) */
    if (c->vmx.nonroot && !(VMX_PROC2_CONTROLS(c) & PROC2_ENABLE_INVPCID))
        cpu_raise(c, EX_UD, 0);
    require_cpl0(c);
    if (c->vmx.nonroot && (VMX_PROC_CONTROLS(c) & PROC_INVLPG_EXITING))
        vmx_exit_insn_info(c, i, VMX_EXIT_INVPCID);
    uint64_t type = c->mode == MODE_LONG ? c->r[i->reg] : (uint32_t)c->r[i->reg];
    uint64_t ea = insn_ea(c, i);
    uint64_t pcid = mem_read(c, i->seg, ea, 8);
    uint64_t lin = mem_read(c, i->seg, (ea + 8) & size_mask(i->adsize), 8);
    /* descriptor bits 63:12 are reserved whatever the type */
    if (type > 3 || (pcid >> 12))
        cpu_raise(c, EX_GP, 0);
    if ((type <= 1) && !(c->mmu.cr4 & CR4_PCIDE) && pcid != 0)
        cpu_raise(c, EX_GP, 0);
    switch (type) {
    case 0: /* individual address, canonical for the CPU's width */
        if (!cpu_canonical_max(c, lin))
            cpu_raise(c, EX_GP, 0);
        mmu_flush_page_pcid(&c->mmu, lin, (uint16_t)pcid);
        break;
    case 1: mmu_flush_pcid(&c->mmu, (uint16_t)pcid, true); break; /* single context */
    case 2: mmu_flush_all(&c->mmu); break;                          /* all, incl. global */
    default: mmu_flush_nonglobal(&c->mmu); break;                   /* all but global */
    }
}
