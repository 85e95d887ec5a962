/* cpu/farxfer.c — far JMP, far CALL and far RET in every mode,
 * including call gates (SDM Vol. 3A 5.8; Vol. 2 "JMP", "CALL", "RET"). */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

#define SYS_CALLGATE16 0x4
#define SYS_TASKGATE   0x5
#define SYS_CALLGATE32 0xc /* also the 64-bit call gate in IA-32e mode */

static bool legacy_real(const struct cpu *c)
{
    return c->mode == MODE_REAL || c->mode == MODE_V86;
}

static void real_far(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize)
{
    uint64_t ip = off & size_mask(opsize);
    if (ip > c->seg[SEG_CS].limit)
        cpu_raise(c, EX_GP, 0);
    seg_load_real(c, SEG_CS, sel);
    c->rip = ip;
}

/* Checks a code-segment descriptor as a far JMP/CALL target. */
static void check_code_target(struct cpu *c, uint16_t sel, uint64_t lo, bool via_gate)
{
    unsigned ar = desc_ar(lo), dpl = AR_DPL(ar), rpl = sel & 3;
    uint16_t err = sel & 0xfffc;
    if (!(ar & AR_S) || !(AR_TYPE(ar) & 8))
        cpu_raise(c, EX_GP, err);
    bool conforming = AR_TYPE(ar) & 4;
    if (!via_gate) {
        if (conforming ? dpl > c->cpl : (rpl > c->cpl || dpl != c->cpl))
            cpu_raise(c, EX_GP, err);
    } else if (dpl > c->cpl) {
        cpu_raise(c, EX_GP, err);
    }
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, err);
    if ((c->mmu.efer & EFER_LMA) && (ar & AR_L) && (ar & AR_DB))
        cpu_raise(c, EX_GP, err);
}

static uint32_t target_limit(uint64_t lo)
{
    struct seg s;
    seg_from_descriptor(&s, 0, lo, 0);
    return s.limit;
}

static bool target_is64(const struct cpu *c, uint64_t lo)
{
    return (c->mmu.efer & EFER_LMA) && (desc_ar(lo) & AR_L);
}

static void set_rip_checked(struct cpu *c, uint64_t lo, uint64_t ip)
{
    if (!target_is64(c, lo) && ip > target_limit(lo))
        cpu_raise(c, EX_GP, 0);
    c->rip = ip;
}

/* Reads a call gate; returns its target selector and offset. */
static void read_gate(struct cpu *c, uint16_t sel, uint64_t lo, uint64_t hi, uint16_t *tsel,
                      uint64_t *toff, unsigned *params)
{
    unsigned ar = desc_ar(lo), dpl = AR_DPL(ar);
    uint16_t err = sel & 0xfffc;
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_raise(c, EX_GP, err);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, err);
    *tsel = (uint16_t)(lo >> 16);
    *toff = (lo & 0xffff) | (AR_TYPE(ar) == SYS_CALLGATE32 ? ((lo >> 32) & 0xffff0000ull) : 0);
    if (c->mmu.efer & EFER_LMA)
        *toff |= (hi & 0xffffffffull) << 32;
    *params = (unsigned)((lo >> 32) & 0x1f);
}

/* JMP/CALL to a TSS descriptor or a task gate (SDM 7.3, step 2): the
 * descriptor's DPL must admit both CPL and RPL; IA-32e mode has none. */
static void task_transfer(struct cpu *c, uint16_t sel, uint64_t lo, enum task_reason why)
{
    unsigned ar = desc_ar(lo), type = AR_TYPE(ar), dpl = AR_DPL(ar);
    uint16_t err = sel & 0xfffc;
    bool tss = type == 0x1 || type == 0x9 || type == 0x3 || type == 0xb;
    if ((c->mmu.efer & EFER_LMA) || !(tss || type == SYS_TASKGATE))
        cpu_raise(c, EX_GP, err);
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_raise(c, EX_GP, err);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, err);
    uint16_t tss_sel = type == SYS_TASKGATE ? (uint16_t)(lo >> 16) : sel;
    cpu_task_switch(c, tss_sel, why, false, 0);
}

/* A call gate resolved to its code segment (SDM 5.8.3-5.8.4). */
struct gate_target {
    uint16_t sel;
    uint64_t off, lo, hi;
    unsigned params; /* dwords/words to copy on a privilege change */
    unsigned size;   /* 2 (16-bit gate), 4 (32-bit), 8 (IA-32e) */
};

/* Follows the call gate described by lo/hi; false when it is not a call
 * gate valid in the current mode (then it may be a TSS or task gate). */
static bool follow_call_gate(struct cpu *c, uint16_t sel, uint64_t lo, uint64_t hi,
                             struct gate_target *t)
{
    unsigned type = AR_TYPE(desc_ar(lo));
    bool lma = c->mmu.efer & EFER_LMA;
    if (!(type == SYS_CALLGATE32 || (!lma && type == SYS_CALLGATE16)))
        return false;
    read_gate(c, sel, lo, hi, &t->sel, &t->off, &t->params);
    seg_fetch(c, t->sel, &t->lo, &t->hi);
    check_code_target(c, t->sel, t->lo, true);
    t->size = lma ? 8 : type == SYS_CALLGATE16 ? 2 : 4;
    if (t->size == 2)
        t->off &= 0xffff;
    if (lma)
        t->params = 0; /* 64-bit call gates copy no parameters */
    return true;
}

/* Pushes the far return address CS:IP, checking both slots first so a
 * fault leaves rSP untouched (SDM "CALL": no state changes on a fault). */
static void push_far_return(struct cpu *c, unsigned size, uint16_t cs, uint64_t ip)
{
    mem_probe_write(c, SEG_SS, (c->r[R_RSP] - 2 * size) & sp_mask(c), 2 * size);
    cpu_push(c, size, cs);
    cpu_push(c, size, ip);
}

void cpu_far_jump(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize)
{
    if (legacy_real(c)) {
        real_far(c, sel, off, opsize);
        return;
    }
    uint64_t lo, hi;
    unsigned ar = seg_fetch(c, sel, &lo, &hi);
    if (ar & AR_S) {
        check_code_target(c, sel, lo, false);
        set_rip_checked(c, lo, off & size_mask(opsize));
        cpu_load_cs(c, sel, lo, hi, c->cpl);
        return;
    }
    struct gate_target t;
    if (follow_call_gate(c, sel, lo, hi, &t)) {
        /* JMP through a gate never changes privilege (SDM 5.8.6) */
        unsigned tar = desc_ar(t.lo);
        if (!(AR_TYPE(tar) & 4) && AR_DPL(tar) != c->cpl)
            cpu_raise(c, EX_GP, t.sel & 0xfffc);
        set_rip_checked(c, t.lo, t.off);
        cpu_load_cs(c, t.sel, t.lo, t.hi, c->cpl);
        return;
    }
    task_transfer(c, sel, lo, TASK_JMP);
}

/* SDM 5.8.5/5.8.6: a call through a gate to a more privileged
 * non-conforming segment switches to the inner stack from the TSS. */
static void call_gate_inner(struct cpu *c, uint16_t tsel, uint64_t tlo, uint64_t thi,
                            uint64_t toff, unsigned gate_size, unsigned params)
{
    unsigned new_cpl = AR_DPL(desc_ar(tlo));
    uint16_t old_ss = c->seg[SEG_SS].sel, old_cs = c->seg[SEG_CS].sel;
    uint64_t old_sp = c->r[R_RSP], old_ip = c->rip;
    uint8_t saved_cpl = c->cpl;
    if (c->mmu.efer & EFER_LMA) {
        /* 64-bit gate: RSPn from the 64-bit TSS, SS becomes NULL with RPL = CPL */
        uint64_t rsp = sys_read(c, c->tr.base + 4 + 8 * new_cpl, 8);
        c->cpl = (uint8_t)new_cpl;
        c->seg[SEG_SS].sel = (uint16_t)new_cpl;
        c->seg[SEG_SS].ar = AR_UNUSABLE | (new_cpl << 5);
        c->seg[SEG_SS].base = 0;
        c->mode = MODE_LONG;
        c->stack_size = 8;
        c->r[R_RSP] = rsp;
        cpu_push(c, 8, old_ss);
        cpu_push(c, 8, old_sp);
        cpu_push(c, 8, old_cs);
        cpu_push(c, 8, old_ip);
        c->rip = toff;
        cpu_load_cs(c, tsel, tlo, thi, new_cpl);
        return;
    }
    bool tss32 = (AR_TYPE(c->tr.ar) & 8) != 0;
    uint64_t sp_off = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
    uint64_t new_sp = sys_read(c, c->tr.base + sp_off, tss32 ? 4 : 2);
    uint16_t new_ss = (uint16_t)sys_read(c, c->tr.base + sp_off + (tss32 ? 4 : 2), 2);
    /* the parameters come from the old stack */
    uint64_t args[32];
    for (unsigned k = 0; k < params; k++)
        args[k] = cpu_peek(c, gate_size, k * gate_size);
    c->cpl = (uint8_t)new_cpl;
    if ((new_ss & ~3u) == 0) {
        c->cpl = saved_cpl;
        cpu_raise(c, EX_TS, new_ss & 0xfffc);
    }
    seg_load(c, SEG_SS, new_ss);
    c->r[R_RSP] = new_sp;
    cpu_update_mode(c);
    cpu_push(c, gate_size, old_ss);
    cpu_push(c, gate_size, old_sp);
    for (unsigned k = params; k-- > 0;)
        cpu_push(c, gate_size, args[k]);
    cpu_push(c, gate_size, old_cs);
    cpu_push(c, gate_size, old_ip);
    set_rip_checked(c, tlo, toff);
    cpu_load_cs(c, tsel, tlo, thi, new_cpl);
}

void cpu_far_call(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize)
{
    uint16_t old_cs = c->seg[SEG_CS].sel;
    uint64_t old_ip = c->rip;
    if (legacy_real(c)) {
        uint64_t ip = off & size_mask(opsize);
        if (ip > c->seg[SEG_CS].limit)
            cpu_raise(c, EX_GP, 0);
        push_far_return(c, opsize, old_cs, old_ip);
        seg_load_real(c, SEG_CS, sel);
        c->rip = ip;
        return;
    }
    uint64_t lo, hi;
    unsigned ar = seg_fetch(c, sel, &lo, &hi);
    if (ar & AR_S) {
        check_code_target(c, sel, lo, false);
        uint64_t ip = off & size_mask(opsize);
        if (!target_is64(c, lo) && ip > target_limit(lo))
            cpu_raise(c, EX_GP, 0);
        push_far_return(c, opsize, old_cs, old_ip);
        c->rip = ip;
        cpu_load_cs(c, sel, lo, hi, c->cpl);
        return;
    }
    struct gate_target t;
    if (follow_call_gate(c, sel, lo, hi, &t)) {
        unsigned tar = desc_ar(t.lo);
        if (!(AR_TYPE(tar) & 4) && AR_DPL(tar) < c->cpl) {
            call_gate_inner(c, t.sel, t.lo, t.hi, t.off, t.size, t.params);
            return;
        }
        if (!target_is64(c, t.lo) && t.off > target_limit(t.lo))
            cpu_raise(c, EX_GP, 0);
        push_far_return(c, t.size, old_cs, old_ip);
        c->rip = t.off;
        cpu_load_cs(c, t.sel, t.lo, t.hi, c->cpl);
        return;
    }
    task_transfer(c, sel, lo, TASK_CALL);
}

/* Data segment registers that the new, less privileged CPL may not use
 * are nulled on a return to an outer level (SDM "RET", "IRET"). */
void cpu_null_inaccessible_segs(struct cpu *c);
void cpu_null_inaccessible_segs(struct cpu *c)
{
    static const int segs[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
    for (unsigned k = 0; k < 4; k++) {
        struct seg *s = &c->seg[segs[k]];
        if (s->ar & AR_UNUSABLE)
            continue;
        bool data_or_nc = !(AR_TYPE(s->ar) & 8) || !(AR_TYPE(s->ar) & 4);
        if (data_or_nc && AR_DPL(s->ar) < c->cpl) {
            s->sel = 0;
            s->ar = AR_UNUSABLE;
        }
    }
}

void cpu_far_return(struct cpu *c, unsigned opsize, uint16_t pop_bytes)
{
    uint64_t ip = cpu_peek(c, opsize, 0);
    uint16_t sel = (uint16_t)cpu_peek(c, opsize, opsize);
    if (legacy_real(c)) {
        ip &= size_mask(opsize);
        if (ip > c->seg[SEG_CS].limit)
            cpu_raise(c, EX_GP, 0);
        c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) |
                      ((c->r[R_RSP] + 2 * opsize + pop_bytes) & sp_mask(c));
        seg_load_real(c, SEG_CS, sel);
        c->rip = ip;
        return;
    }
    unsigned rpl = sel & 3;
    uint64_t lo, hi;
    seg_fetch(c, sel, &lo, &hi);
    seg_check_return_cs(c, sel, lo);
    ip &= size_mask(opsize);
    if (rpl == c->cpl) {
        set_rip_checked(c, lo, ip);
        c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) |
                      ((c->r[R_RSP] + 2 * opsize + pop_bytes) & sp_mask(c));
        cpu_load_cs(c, sel, lo, hi, rpl);
        return;
    }
    /* return to an outer privilege level: SS:rSP follow on the stack */
    uint64_t new_sp = cpu_peek(c, opsize, 2 * opsize + pop_bytes);
    uint16_t new_ss = (uint16_t)cpu_peek(c, opsize, 3 * opsize + pop_bytes);
    set_rip_checked(c, lo, ip);
    cpu_load_cs(c, sel, lo, hi, rpl);
    seg_load(c, SEG_SS, new_ss);
    c->r[R_RSP] = new_sp + pop_bytes;
    if (c->stack_size != 8)
        c->r[R_RSP] &= sp_mask(c);
    cpu_null_inaccessible_segs(c);
}
