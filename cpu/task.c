/* cpu/task.c — hardware task switching (SDM Vol. 3A 7.3), for 32-bit
 * and 16-bit TSSs, reached by JMP/CALL to a TSS or task gate, by an
 * interrupt or exception through a task gate, and by IRET with NT = 1.
 * IA-32e mode has no task switching: callers raise #GP there. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

#define TSS_AVAIL16 0x1
#define TSS_BUSY16  0x3
#define TSS_AVAIL32 0x9
#define TSS_BUSY32  0xb
#define TSS_BUSY_BIT (2ull << 40) /* type bit 1 in the descriptor */

/* The dynamic fields of a TSS, SDM Figures 7-2 (32-bit) and 7-11 (16-bit). */
struct tss_layout {
    unsigned ip, flags, gpr, gpr_step, seg, seg_step, ldt, cr3, width;
    uint32_t min_limit;
};
static const struct tss_layout tss32 = {32, 36, 40, 4, 72, 4, 96, 28, 4, 0x67};
static const struct tss_layout tss16 = {14, 16, 18, 2, 34, 2, 42, 0, 2, 0x2b};

static unsigned desc_type(uint64_t lo)
{
    return (unsigned)((lo >> 40) & 0xf);
}

static uint64_t gdt_entry_addr(const struct cpu *c, uint16_t sel)
{
    return c->gdtr.base + (sel & ~7u);
}

/* Loads one segment register of the incoming task; faults are #TS
 * (or #NP/#SS) with the selector, raised in the new task's context. */
static void load_task_seg(struct cpu *c, int seg, uint16_t sel)
{
    uint16_t err = sel & 0xfffc;
    if (c->rflags & FL_VM) {
        seg_load_real(c, seg, sel);
        return;
    }
    if ((sel & ~3u) == 0) {
        if (seg == SEG_CS || seg == SEG_SS)
            cpu_raise(c, EX_TS, err);
        c->seg[seg].sel = sel;
        c->seg[seg].ar = AR_UNUSABLE;
        return;
    }
    uint64_t lo, hi;
    if (!seg_read_descriptor(c, sel, &lo, &hi))
        cpu_raise(c, EX_TS, err);
    unsigned ar = desc_ar(lo);
    unsigned type = AR_TYPE(ar), dpl = AR_DPL(ar), rpl = sel & 3;
    if (!(ar & AR_S))
        cpu_raise(c, EX_TS, err);
    if (seg == SEG_CS) {
        bool conforming = (type & 4) != 0;
        if (!(type & 8) || (conforming ? dpl > rpl : dpl != rpl))
            cpu_raise(c, EX_TS, err);
        if (!(ar & AR_P))
            cpu_raise(c, EX_NP, err);
    } else if (seg == SEG_SS) {
        if ((type & 8) || !(type & 2) || rpl != c->cpl || dpl != c->cpl)
            cpu_raise(c, EX_TS, err);
        if (!(ar & AR_P))
            cpu_raise(c, EX_SS, err);
    } else {
        if ((type & 8) && !(type & 2))
            cpu_raise(c, EX_TS, err);
        bool conforming_code = (type & 0xc) == 0xc;
        if (!conforming_code && (dpl < c->cpl || dpl < rpl))
            cpu_raise(c, EX_TS, err);
        if (!(ar & AR_P))
            cpu_raise(c, EX_NP, err);
    }
    seg_set_accessed(c, sel, lo);
    seg_from_descriptor(&c->seg[seg], sel, lo | (1ull << 40), 0);
}

/*
 * A task switch in VMX non-root operation (SDM Vol. 3C 26.4.2): never
 * carried out but VM exit 9, once the checks on a task gate and on the
 * TSS descriptor's privilege (made by the callers) have passed, before
 * any check of the new task.  Qualification (Table 28-2): the new TSS's
 * selector, and in bits 31:30 the source — 0 CALL, 1 IRET, 2 JMP, 3 a
 * task gate in the IDT.  The instruction's RIP and length are what an
 * instruction's exit records; during event delivery the IDT-vectoring
 * information adds the event (vmx_exit_event_fields).
 */
static _Noreturn void task_switch_exit(struct cpu *c, uint16_t sel, enum task_reason why)
{
    static const enum vmx_task_source source[] = {
        [TASK_CALL] = VMX_TASK_CALL, [TASK_IRET] = VMX_TASK_IRET,
        [TASK_JMP] = VMX_TASK_JMP, [TASK_INT] = VMX_TASK_IDT,
    };
    vmx_exit_insn(c, VMX_EXIT_TASK_SWITCH, vmx_task_switch_qualification(sel, source[why]));
}

void cpu_task_switch(struct cpu *c, uint16_t sel, enum task_reason why, bool has_error,
                     uint32_t error)
{
    if (c->vmx.nonroot)
        task_switch_exit(c, sel, why);
    uint16_t err = sel & 0xfffc;
    if ((sel & 4) || (sel & ~3u) == 0)
        cpu_raise(c, EX_TS, err); /* a TSS descriptor lives in the GDT */
    if ((sel | 7u) > c->gdtr.limit)
        cpu_raise(c, EX_TS, err);
    uint64_t nlo = sys_read(c, gdt_entry_addr(c, sel), 8);
    unsigned ntype = desc_type(nlo);
    bool busy = ntype == TSS_BUSY16 || ntype == TSS_BUSY32;
    if ((nlo & (1ull << 44)) ||
        !(ntype == TSS_AVAIL16 || ntype == TSS_AVAIL32 || ntype == TSS_BUSY16 || ntype == TSS_BUSY32))
        cpu_raise(c, EX_GP, err);
    /* IRET returns to a busy task; anything else needs an available one */
    if (why == TASK_IRET ? !busy : busy)
        cpu_raise(c, why == TASK_IRET ? EX_TS : EX_GP, err);
    if (!(nlo & (1ull << 47)))
        cpu_raise(c, EX_NP, err);
    struct seg ntr;
    seg_from_descriptor(&ntr, sel, nlo, 0);
    const struct tss_layout *nl = (ntype & 8) ? &tss32 : &tss16;
    if (ntr.limit < nl->min_limit)
        cpu_raise(c, EX_TS, err);

    /* save the outgoing task's dynamic state (SDM 7.3, step 9) */
    const struct tss_layout *ol = (AR_TYPE(c->tr.ar) & 8) ? &tss32 : &tss16;
    uint64_t ob = c->tr.base;
    /* a fault delivered through a task gate saves RF = 1 (SDM 17.3.1.1) */
    uint64_t oflags = cpu_get_flags(c) | (c->event_rf ? FL_RF : 0);
    if (why == TASK_IRET)
        oflags &= ~(uint64_t)FL_NT;
    /* probe the old TSS before writing anything */
    sys_read(c, ob + ol->seg + 5 * ol->seg_step, 2);
    sys_write(c, ob + ol->ip, ol->width, c->rip);
    sys_write(c, ob + ol->flags, ol->width, oflags);
    for (unsigned r = 0; r < 8; r++)
        sys_write(c, ob + ol->gpr + r * ol->gpr_step, ol->width, c->r[r]);
    for (unsigned s = 0; s < 6; s++)
        sys_write(c, ob + ol->seg + s * ol->seg_step, 2, c->seg[s].sel);

    /* old descriptor: busy cleared on JMP and IRET (step 6) */
    if (why == TASK_JMP || why == TASK_IRET) {
        uint64_t olo = sys_read(c, gdt_entry_addr(c, c->tr.sel), 8);
        sys_write(c, gdt_entry_addr(c, c->tr.sel), 8, olo & ~TSS_BUSY_BIT);
    }
    /* new descriptor: busy set unless returning with IRET (step 10) */
    if (why != TASK_IRET)
        sys_write(c, gdt_entry_addr(c, sel), 8, nlo | TSS_BUSY_BIT);
    uint64_t nb = ntr.base;
    if (why == TASK_CALL || why == TASK_INT)
        sys_write(c, nb, 2, c->tr.sel); /* previous-task link */

    /* read the incoming state */
    uint64_t nip = sys_read(c, nb + nl->ip, nl->width);
    uint64_t nflags = sys_read(c, nb + nl->flags, nl->width);
    uint64_t ngpr[8];
    for (unsigned r = 0; r < 8; r++)
        ngpr[r] = sys_read(c, nb + nl->gpr + r * nl->gpr_step, nl->width);
    uint16_t nseg[6];
    for (unsigned s = 0; s < 6; s++)
        nseg[s] = (uint16_t)sys_read(c, nb + nl->seg + s * nl->seg_step, 2);
    uint16_t nldt = (uint16_t)sys_read(c, nb + nl->ldt, 2);
    uint64_t ncr3 = nl == &tss32 ? sys_read(c, nb + nl->cr3, 4) : c->mmu.cr3;

    /* commit: from here faults belong to the new task (SDM 7.3, step 12) */
    ntr.ar |= 2; /* busy */
    c->tr = ntr;
    c->tr.sel = sel;
    c->mmu.cr0 |= CR0_TS;
    if (nl == &tss16)
        nflags = (c->rflags & ~0xffffull) | (nflags & 0xffff);
    if (why == TASK_CALL || why == TASK_INT)
        nflags |= FL_NT;
    cpu_set_flags(c, nflags);
    c->rip = nip;
    c->insn_rip = nip;
    for (unsigned r = 0; r < 8; r++)
        c->r[r] = nl == &tss16 ? (c->r[r] & ~0xffffull) | (ngpr[r] & 0xffff) : ngpr[r];
    if ((c->mmu.cr0 & CR0_PG) && nl == &tss32)
        cpu_write_cr3(c, ncr3);
    for (unsigned s = 0; s < 6; s++)
        c->seg[s].sel = nseg[s]; /* selectors first; descriptors below */
    c->cpl = (c->rflags & FL_VM) ? 3 : nseg[SEG_CS] & 3;

    /* LDTR, then the segment registers, checked in the new context */
    if (nldt & 4)
        cpu_raise(c, EX_TS, nldt & 0xfffc);
    if ((nldt & ~3u) == 0) {
        c->ldtr.sel = nldt;
        c->ldtr.ar = AR_UNUSABLE;
    } else {
        uint64_t llo;
        if ((nldt | 7u) > c->gdtr.limit)
            cpu_raise(c, EX_TS, nldt & 0xfffc);
        llo = sys_read(c, gdt_entry_addr(c, nldt), 8);
        if ((llo & (1ull << 44)) || desc_type(llo) != 2)
            cpu_raise(c, EX_TS, nldt & 0xfffc);
        if (!(llo & (1ull << 47)))
            cpu_raise(c, EX_NP, nldt & 0xfffc);
        seg_from_descriptor(&c->ldtr, nldt, llo, 0);
    }
    if (c->rflags & FL_VM) {
        c->mode = MODE_V86;
        for (int s = 0; s < 6; s++)
            seg_load_real(c, s, nseg[s]);
    } else {
        load_task_seg(c, SEG_CS, nseg[SEG_CS]);
        cpu_update_mode(c);
        load_task_seg(c, SEG_SS, nseg[SEG_SS]);
        static const int data[] = {SEG_ES, SEG_DS, SEG_FS, SEG_GS};
        for (unsigned k = 0; k < 4; k++)
            load_task_seg(c, data[k], nseg[data[k]]);
    }
    cpu_update_mode(c);
    cpu_break_block(c);

    /* an exception's error code goes on the new task's stack (step 13) */
    if (has_error)
        cpu_push(c, nl == &tss32 ? 4 : 2, error);
    if (c->rip > c->seg[SEG_CS].limit)
        cpu_raise(c, EX_GP, 0);
}
