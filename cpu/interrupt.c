/* cpu/interrupt.c — exception and interrupt delivery in real,
 * protected, V86 and IA-32e mode, and IRET (SDM Vol. 3A chapter 6,
 * Vol. 2 "INT n", "IRET"). */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

void cpu_null_inaccessible_segs(struct cpu *c);

#define GATE_TASK   0x5
#define GATE_INT16  0x6
#define GATE_TRAP16 0x7
#define GATE_INT32  0xe /* the 64-bit interrupt gate in IA-32e mode */
#define GATE_TRAP32 0xf

/* The error code's EXT bit: set when the event was not caused by the
 * program (external interrupts, or an exception during delivery). */
static uint32_t ext_bit(enum int_kind kind)
{
    return (kind == INT_EXTERNAL || kind == INT_NMI || kind == INT_EXCEPTION) ? 1 : 0;
}

static void deliver_real(struct cpu *c, int vector)
{
    uint64_t off = (uint64_t)vector * 4;
    if (off + 3 > c->idtr.limit)
        cpu_raise(c, EX_GP, 0);
    uint32_t ent = (uint32_t)sys_read(c, c->idtr.base + off, 4);
    uint64_t flags = cpu_get_flags(c);
    cpu_push(c, 2, flags);
    cpu_push(c, 2, c->seg[SEG_CS].sel);
    cpu_push(c, 2, c->rip);
    c->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    cpu_ac_changed(c);
    seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
    c->rip = ent & 0xffff;
}

static void deliver_protected(struct cpu *c, int vector, enum int_kind kind, bool has_error,
                              uint32_t error)
{
    bool lma = (c->mmu.efer & EFER_LMA) != 0;
    unsigned gsize = lma ? 16 : 8;
    uint32_t idt_err = (uint32_t)vector * 8 + 2 + ext_bit(kind);
    uint64_t off = (uint64_t)vector * gsize;
    if (off + gsize - 1 > c->idtr.limit)
        cpu_raise(c, EX_GP, idt_err);
    uint64_t lo = sys_read(c, c->idtr.base + off, 8);
    uint64_t hi = lma ? sys_read(c, c->idtr.base + off + 8, 8) : 0;
    unsigned ar = desc_ar(lo), type = AR_TYPE(ar);
    bool ok_type = lma ? (type == GATE_INT32 || type == GATE_TRAP32)
                       : (type == GATE_INT16 || type == GATE_TRAP16 || type == GATE_INT32 ||
                          type == GATE_TRAP32 || type == GATE_TASK);
    if ((ar & AR_S) || !ok_type)
        cpu_raise(c, EX_GP, idt_err);
    /* software INT n/INT3/INTO check the gate DPL (SDM 6.12.1.1) */
    if (kind == INT_SOFTWARE && AR_DPL(ar) < c->cpl)
        cpu_raise(c, EX_GP, idt_err);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, idt_err);
    if (type == GATE_TASK) {
        cpu_task_switch(c, (uint16_t)(lo >> 16), TASK_INT, has_error, error);
        return;
    }

    uint16_t tsel = (uint16_t)(lo >> 16);
    uint64_t toff = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | ((hi & 0xffffffffull) << 32);
    if (type == GATE_INT16 || type == GATE_TRAP16)
        toff &= 0xffff;
    uint32_t ts_err = (tsel & 0xfffc) | ext_bit(kind);
    if ((tsel & ~3u) == 0)
        cpu_raise(c, EX_GP, ext_bit(kind));
    uint64_t clo, chi;
    if (!seg_read_descriptor(c, tsel, &clo, &chi))
        cpu_raise(c, EX_GP, ts_err);
    unsigned car = desc_ar(clo);
    if (!(car & AR_S) || !(AR_TYPE(car) & 8) || AR_DPL(car) > c->cpl)
        cpu_raise(c, EX_GP, ts_err);
    if (!(car & AR_P))
        cpu_raise(c, EX_NP, ts_err);
    if (lma && (!(car & AR_L) || (car & AR_DB)))
        cpu_raise(c, EX_GP, ts_err);

    bool conforming = AR_TYPE(car) & 4;
    unsigned new_cpl = conforming ? c->cpl : AR_DPL(car);
    bool from_v86 = c->mode == MODE_V86;
    if (from_v86 && new_cpl != 0)
        cpu_raise(c, EX_GP, ts_err);
    unsigned ist = lma ? (unsigned)((lo >> 32) & 7) : 0;
    unsigned psize = lma ? 8 : (type == GATE_INT32 || type == GATE_TRAP32) ? 4 : 2;

    uint64_t old_flags = cpu_get_flags(c) | (c->event_rf ? FL_RF : 0);
    uint16_t old_cs = c->seg[SEG_CS].sel, old_ss = c->seg[SEG_SS].sel;
    uint64_t old_rsp = c->r[R_RSP], old_rip = c->rip;

    if (lma) {
        /* SDM 6.14.2-6.14.5: 64-bit frame, stack from RSPn or IST, aligned */
        uint64_t rsp = old_rsp;
        if (ist)
            rsp = sys_read(c, c->tr.base + 36 + 8 * (ist - 1), 8);
        else if (new_cpl < c->cpl)
            rsp = sys_read(c, c->tr.base + 4 + 8 * new_cpl, 8);
        rsp &= ~0xfull;
        struct seg ss = c->seg[SEG_SS];
        if (new_cpl < c->cpl) {
            ss.sel = (uint16_t)new_cpl;
            ss.base = 0;
            ss.limit = 0;
            ss.ar = AR_UNUSABLE | (new_cpl << 5);
        }
        /* write the frame at the new privilege; then commit */
        uint8_t saved_cpl = c->cpl;
        enum cpu_mode saved_mode = c->mode;
        uint8_t saved_ss_size = c->stack_size;
        c->cpl = (uint8_t)new_cpl;
        c->mode = MODE_LONG;
        c->stack_size = 8;
        uint64_t frame[6] = {old_ss, old_rsp, old_flags, old_cs, old_rip, error};
        unsigned n = has_error ? 6 : 5;
        uint64_t sp = rsp;
        for (unsigned k = 0; k < n; k++) {
            sp -= 8;
            uint64_t lin = sp;
            if (!mem_canonical(c, lin)) {
                c->cpl = saved_cpl;
                c->mode = saved_mode;
                c->stack_size = saved_ss_size;
                cpu_raise(c, EX_SS, 0);
            }
            sys_write(c, lin, 8, frame[k]);
        }
        c->r[R_RSP] = sp;
        c->seg[SEG_SS] = ss;
    } else {
        uint64_t sp = old_rsp;
        if (new_cpl < c->cpl) {
            bool tss32 = (AR_TYPE(c->tr.ar) & 8) != 0;
            uint64_t sp_off = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
            uint64_t nsp = sys_read(c, c->tr.base + sp_off, tss32 ? 4 : 2);
            uint16_t nss = (uint16_t)sys_read(c, c->tr.base + sp_off + (tss32 ? 4 : 2), 2);
            uint8_t saved_cpl = c->cpl;
            enum cpu_mode saved_mode = c->mode;
            c->cpl = (uint8_t)new_cpl;
            if (from_v86) {
                /* leaving V86 (SDM 20.3.1.1): the handler's stack and
                 * segments are protected-mode ones; old_flags kept VM */
                c->rflags &= ~(uint64_t)FL_VM;
                c->mode = MODE_PROT;
            }
            if ((nss & ~3u) == 0) {
                c->cpl = saved_cpl;
                c->mode = saved_mode;
                cpu_raise(c, EX_TS, (nss & 0xfffc) | ext_bit(kind));
            }
            seg_load(c, SEG_SS, nss);
            c->r[R_RSP] = nsp;
            cpu_update_mode(c);
            if (from_v86) {
                cpu_push(c, psize, c->seg[SEG_GS].sel);
                cpu_push(c, psize, c->seg[SEG_FS].sel);
                cpu_push(c, psize, c->seg[SEG_DS].sel);
                cpu_push(c, psize, c->seg[SEG_ES].sel);
            }
            cpu_push(c, psize, old_ss);
            cpu_push(c, psize, old_rsp);
        }
        (void)sp;
        cpu_push(c, psize, old_flags);
        cpu_push(c, psize, old_cs);
        cpu_push(c, psize, old_rip);
        if (has_error)
            cpu_push(c, psize, error);
        if (from_v86) {
            static const int segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
            for (unsigned k = 0; k < 4; k++) {
                c->seg[segs[k]].sel = 0;
                c->seg[segs[k]].ar = AR_UNUSABLE;
            }
        }
    }
    c->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_VM | FL_RF);
    if (type == GATE_INT32 || type == GATE_INT16)
        c->rflags &= ~(uint64_t)FL_IF;
    c->rip = toff;
    cpu_load_cs(c, tsel, clo, chi, new_cpl);
}

void cpu_deliver(struct cpu *c, int vector, enum int_kind kind, bool has_error, uint32_t error)
{
    bool guest = c->vmx.nonroot;
    if (__builtin_expect(guest, 0))
        vmx_delivery_begin(c, vector, kind, has_error, error); /* IDT vectoring, NMI blocking */
    else if (kind == INT_NMI)
        c->nmi_blocked = true;
    if (kind == INT_SOFTWARE || kind == INT_PRIV_SW)
        c->sw_int = true; /* no single-step trap for this instruction */
    if (c->mode == MODE_REAL)
        deliver_real(c, vector);
    else
        deliver_protected(c, vector, kind, has_error, error);
    if (__builtin_expect(guest, 0))
        c->vmx.vectoring = 0; /* delivered: no longer "during event delivery" */
    c->halted = false;
    if (c->dbg_event)
        c->dbg_event(c->dbg_opaque, c, vector, kind);
}

/* ---- IRET ---- */

static void iret_real(struct cpu *c, unsigned opsize)
{
    uint64_t ip = cpu_peek(c, opsize, 0);
    uint16_t cs = (uint16_t)cpu_peek(c, opsize, opsize);
    uint64_t fl = cpu_peek(c, opsize, 2 * opsize);
    ip &= size_mask(opsize);
    if (ip > c->seg[SEG_CS].limit)
        cpu_raise(c, EX_GP, 0);
    uint64_t writable = 0x257fd5; /* SDM "IRET" real-address mode: VM, VIF, VIP kept */
    if (c->mode == MODE_V86)
        writable &= ~(uint64_t)FL_IOPL;
    if (opsize == 2)
        writable &= 0xffff;
    c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) | ((c->r[R_RSP] + 3 * opsize) & sp_mask(c));
    seg_load_real(c, SEG_CS, cs);
    c->rip = ip;
    uint64_t f = cpu_get_flags(c);
    cpu_set_flags(c, (f & ~writable) | (fl & writable));
}

void cpu_iret(struct cpu *c, unsigned opsize)
{
    if (__builtin_expect(c->vmx.nonroot, 0))
        vmx_iret(c); /* NMI exiting and virtual NMIs change what IRET unblocks */
    else
        c->nmi_blocked = false;
    if (c->mode == MODE_REAL) {
        iret_real(c, opsize);
        return;
    }
    if (c->mode == MODE_V86) {
        if (((c->rflags & FL_IOPL) >> 12) < 3)
            vme_iret(c, opsize); /* IF's bit to VIF, or #GP */
        else
            iret_real(c, opsize);
        return;
    }
    bool lma = (c->mmu.efer & EFER_LMA) != 0;
    if (c->rflags & FL_NT) {
        /* return to the previous task (SDM "IRET"; none in IA-32e mode) */
        if (lma)
            cpu_raise(c, EX_GP, 0);
        cpu_task_switch(c, (uint16_t)sys_read(c, c->tr.base, 2), TASK_IRET, false, 0);
        return;
    }
    uint64_t ip = cpu_peek(c, opsize, 0);
    uint16_t sel = (uint16_t)cpu_peek(c, opsize, opsize);
    uint64_t fl = cpu_peek(c, opsize, 2 * opsize);
    unsigned cpl = c->cpl;

    if (!lma && (fl & FL_VM) && cpl == 0 && opsize == 4) {
        /* return to virtual-8086 mode, SDM "IRET" */
        uint64_t esp = cpu_peek(c, 4, 12);
        uint16_t ss = (uint16_t)cpu_peek(c, 4, 16);
        uint16_t es = (uint16_t)cpu_peek(c, 4, 20), ds = (uint16_t)cpu_peek(c, 4, 24);
        uint16_t fs = (uint16_t)cpu_peek(c, 4, 28), gs = (uint16_t)cpu_peek(c, 4, 32);
        cpu_set_flags(c, fl);
        c->cpl = 3;
        c->mode = MODE_V86;
        seg_load_real(c, SEG_CS, sel);
        seg_load_real(c, SEG_SS, ss);
        seg_load_real(c, SEG_ES, es);
        seg_load_real(c, SEG_DS, ds);
        seg_load_real(c, SEG_FS, fs);
        seg_load_real(c, SEG_GS, gs);
        c->r[R_RSP] = esp & 0xffffffffull;
        c->rip = ip & 0xffff;
        cpu_update_mode(c);
        return;
    }

    unsigned rpl = sel & 3;
    uint64_t lo, hi;
    unsigned ar = seg_fetch(c, sel, &lo, &hi);
    seg_check_return_cs(c, sel, lo);

    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    bool outer = rpl > cpl || long64; /* 64-bit IRET always pops SS:RSP */
    uint64_t new_sp = 0;
    uint16_t new_ss = 0;
    if (outer) {
        new_sp = cpu_peek(c, opsize, 3 * opsize);
        new_ss = (uint16_t)cpu_peek(c, opsize, 4 * opsize);
    }
    bool target64 = lma && (ar & AR_L);
    if (!target64) {
        ip &= size_mask(opsize);
        struct seg t;
        seg_from_descriptor(&t, sel, lo, 0);
        if (ip > t.limit)
            cpu_raise(c, EX_GP, 0);
    }

    /* RFLAGS update per privilege (SDM "IRET", protected-mode return) */
    uint64_t writable = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_RF | FL_IF |
                        FL_IOPL | FL_VIF | FL_VIP;
    unsigned iopl = (c->rflags & FL_IOPL) >> 12;
    if (cpl > 0)
        writable &= ~(uint64_t)(FL_IOPL | FL_VIF | FL_VIP);
    if (cpl > iopl)
        writable &= ~(uint64_t)FL_IF;
    if (opsize == 2)
        writable &= 0xffff;
    uint64_t f = cpu_get_flags(c);
    f = (f & ~writable) | (fl & writable);

    c->rip = ip;
    cpu_load_cs(c, sel, lo, hi, rpl);
    cpu_set_flags(c, f);
    if (outer) {
        if ((new_ss & ~3u) == 0 && lma && rpl < 3) {
            c->seg[SEG_SS].sel = new_ss;
            c->seg[SEG_SS].base = 0;
            c->seg[SEG_SS].ar = AR_UNUSABLE | (rpl << 5);
            cpu_update_mode(c);
        } else {
            seg_load(c, SEG_SS, new_ss);
        }
        c->r[R_RSP] = new_sp;
        if (c->stack_size != 8)
            c->r[R_RSP] &= c->stack_size == 4 ? 0xffffffffull : ~0ull;
        if (rpl > cpl)
            cpu_null_inaccessible_segs(c);
    } else {
        c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) | ((c->r[R_RSP] + 3 * opsize) & sp_mask(c));
    }
}
