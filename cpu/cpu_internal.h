/* cpu/cpu_internal.h — helpers shared by the instruction handlers.
 * Not for use outside cpu/ (other modules use cpu/cpu.h). */
#ifndef NEST86_CPU_INTERNAL_H
#define NEST86_CPU_INTERNAL_H

#include "cpu/cpu.h"
#include "cpu/insn.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

extern const char *const cpu_op_names[0x400];

/* every handler named in cpu/opcodes.def */
#define OP(code, name, fn, flags) void fn(struct cpu *c, const struct insn *i);
#include "cpu/opcodes.def"
#undef OP

/* swaps in a constant-folded variant of a hot handler (cpu/ops_fast.c) */
void cpu_specialize(const struct cpu *c, struct insn *i);
/* Instructions in a row in a 64-bit block: a register CMP/TEST/SUB/
 * ADD/AND and a Jcc become one threaded step; flag writers before an
 * instruction that overwrites every flag skip theirs (cpu/fuse.c). */
void cpu_fuse(struct insn *insn, unsigned k); /* insn[k] was just decoded */
/* A register ALU op, shift, rotate or IMUL whose flags are dead: its
 * threaded entry leaves them alone (cpu/ops_fast.c); false if 'i' is
 * not one (or reads flags, as ADC and RCL do). */
bool cpu_flagless(struct insn *i);

/* ---- lazy flags (cpu/flags.c) ---- */
bool flag_cf_slow(const struct cpu *c);

/* The lazy ops whose CF flag_cf_inline() derives without a call: the
 * commonest producers (ADD/ADC, SUB/SBB/CMP, logic, MUL), as carry
 * chains (ADC, SBB, SETC) read CF on every step. */
#define LF_CF_INLINE                                                                    \
    ((1u << LF_NONE) | (1u << LF_ADD) | (1u << LF_ADC) | (1u << LF_SUB) | (1u << LF_SBB) | \
     (1u << LF_LOGIC) | (1u << LF_MUL))

static inline bool flag_cf_inline_ok(const struct cpu *c)
{
    return (LF_CF_INLINE >> c->lf_op) & 1;
}

/* CF for an op in LF_CF_INLINE (anything else gives false) */
static inline __attribute__((always_inline)) bool flag_cf_inline(const struct cpu *c)
{
    uint64_t a = c->lf_a, b = c->lf_b, r = c->lf_res;
    unsigned top = c->lf_size * 8 - 1, op = c->lf_op;
    /* tests, not a switch: GCC makes the switch a jump table, one
     * indirect branch per ADC of a carry chain, whose predecessor
     * alternates between ADD and ADC.  ADD and SUB keep their operands
     * masked to the size (lf_set's callers), so their carry is one
     * unsigned compare: a sum that wrapped is below an addend, and a
     * difference borrows when a < b. */
    if (op == LF_SUB)
        return a < b;
    if (op == LF_ADD)
        return r < a;
    if (op == LF_ADC)
        return (((a & b) | ((a | b) & ~r)) >> top) & 1;
    if (op == LF_SBB)
        return (((~a & b) | ((~a | b) & r)) >> top) & 1;
    if (op == LF_NONE)
        return (c->rflags & FL_CF) != 0;
    return op == LF_MUL && b != 0;
}

static inline bool flag_cf(const struct cpu *c)
{
    return flag_cf_inline_ok(c) ? flag_cf_inline(c) : flag_cf_slow(c);
}
bool flag_zf(const struct cpu *c);
bool flag_sf(const struct cpu *c);
bool flag_of(const struct cpu *c);
bool flag_pf(const struct cpu *c);
bool flag_af(const struct cpu *c);
bool cpu_cond_slow(const struct cpu *c, unsigned cc);

static inline void lf_set(struct cpu *c, enum lf_op op, unsigned size, uint64_t a, uint64_t b,
                          uint64_t res)
{
    c->lf_op = (uint8_t)op;
    c->lf_size = (uint8_t)size;
    c->lf_a = a;
    c->lf_b = b;
    c->lf_res = res & size_mask(size);
}

/* Logic ops: CF = OF = AF = 0 and the rest come from the result, so the
 * operands need not be kept (cpu/flags.c never reads them for LF_LOGIC). */
static inline void lf_set_logic(struct cpu *c, unsigned size, uint64_t res)
{
    c->lf_op = LF_LOGIC;
    c->lf_size = (uint8_t)size;
    c->lf_res = res & size_mask(size);
}

/* Sets the six arithmetic flags eagerly (for ops that are not lazy). */
void flags_set_arith(struct cpu *c, uint32_t arith_bits);
/* Moves the lazily-held flags into c->rflags (LF_NONE afterwards). */
void flags_materialize(struct cpu *c);
bool parity8(uint64_t v);

/* Condition pair cc >> 1 (SDM Vol. 2 Appendix B.1.4; the odd code of
 * each pair is its negation) after a subtraction a - b = res of 'size'
 * bytes (CMP, SUB; operands and result masked to the size), straight
 * from the operands; false for PF, which needs the flags derived. */
static inline __attribute__((always_inline)) bool cond_after_sub(unsigned pair, unsigned size,
                                                                 uint64_t a, uint64_t b,
                                                                 uint64_t res, bool *r)
{
    unsigned sh = 64 - 8 * size;
    int64_t sa = (int64_t)(a << sh), sb = (int64_t)(b << sh);
    switch (pair) {
    case 0: *r = (int64_t)(((a ^ b) & (a ^ res)) << sh) < 0; return true; /* OF */
    case 1: *r = a < b; return true;                                      /* CF */
    case 2: *r = a == b; return true;                                     /* ZF */
    case 3: *r = a <= b; return true;                                     /* CF | ZF */
    case 4: *r = (int64_t)(res << sh) < 0; return true;                   /* SF */
    case 6: *r = sa < sb; return true;                                    /* SF != OF */
    case 7: *r = sa <= sb; return true;                                   /* ZF | SF != OF */
    default: return false;                                                /* PF */
    }
}

/* The same after an addition a + b = res (ADD): a carry out wraps the
 * result below an operand, an overflow gives it the sign neither
 * operand has. */
static inline __attribute__((always_inline)) bool cond_after_add(unsigned pair, unsigned size,
                                                                 uint64_t a, uint64_t b,
                                                                 uint64_t res, bool *r)
{
    unsigned sh = 64 - 8 * size;
    bool cf = res < a, zf = res == 0, sf = (int64_t)(res << sh) < 0;
    bool of = (int64_t)(((a ^ res) & (b ^ res)) << sh) < 0;
    switch (pair) {
    case 0: *r = of; return true;
    case 1: *r = cf; return true;
    case 2: *r = zf; return true;
    case 3: *r = cf || zf; return true;
    case 4: *r = sf; return true;
    case 6: *r = sf != of; return true;
    case 7: *r = zf || sf != of; return true;
    default: return false;
    }
}

/* The same after a logic op (AND, OR, XOR, TEST): CF = OF = 0, the rest
 * from the result. */
static inline __attribute__((always_inline)) bool cond_after_logic(unsigned pair, unsigned size,
                                                                   uint64_t res, bool *r)
{
    int64_t s = (int64_t)(res << (64 - 8 * size));
    switch (pair) {
    case 0:
    case 1: *r = false; return true;
    case 2:
    case 3: *r = s == 0; return true;
    case 4:
    case 6: *r = s < 0; return true;
    case 7: *r = s <= 0; return true;
    default: return false;
    }
}

/* Jcc/SETcc/CMOVcc condition code 0-15, where it needs no call: after
 * CMP/SUB (LF_SUB) and logic ops (LF_LOGIC) — most conditions in
 * practice — straight from the operands; after other lazy ops ZF and SF
 * from the kept result and CF as flag_cf_inline() has it; from RFLAGS
 * itself when no op is pending.  Returns false when the flags must be
 * derived (cpu_cond_slow()).  Always inlined: in the Jcc, SETcc and
 * CMOVcc fast paths it folds to the one case their condition needs. */
static inline __attribute__((always_inline)) bool cpu_cond_fast(const struct cpu *c, unsigned cc,
                                                                 bool *out)
{
    bool r;
    unsigned sh = 64 - 8 * c->lf_size;
    if (c->lf_op == LF_SUB) {
        if (!cond_after_sub(cc >> 1, c->lf_size, c->lf_a, c->lf_b, c->lf_res, &r))
            return false;
    } else if (c->lf_op == LF_LOGIC) {
        if (!cond_after_logic(cc >> 1, c->lf_size, c->lf_res, &r))
            return false;
    } else if (c->lf_op == LF_NONE) {
        uint64_t f = c->rflags;
        bool of = f & FL_OF, zf = f & FL_ZF, sf = f & FL_SF;
        switch (cc >> 1) {
        case 0: r = of; break;
        case 1: r = f & FL_CF; break;
        case 2: r = zf; break;
        case 3: r = (f & FL_CF) || zf; break;
        case 4: r = sf; break;
        case 5: r = f & FL_PF; break;
        case 6: r = sf != of; break;
        default: r = zf || sf != of; break;
        }
    } else {
        switch (cc >> 1) {
        case 1:
            if (!flag_cf_inline_ok(c))
                return false;
            r = flag_cf_inline(c);
            break;
        case 2: r = c->lf_res == 0; break;
        case 4: r = (int64_t)(c->lf_res << sh) < 0; break;
        default: return false;
        }
    }
    *out = r ^ (cc & 1);
    return true;
}

static inline bool cpu_cond(const struct cpu *c, unsigned cc)
{
    bool r;
    return cpu_cond_fast(c, cc, &r) ? r : cpu_cond_slow(c, cc);
}

/* ALU core used by the ALU-form handlers and string compares:
 * op is ModRM.reg numbering: 0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp */
static inline uint64_t alu_op_cf(struct cpu *c, unsigned op, unsigned size, uint64_t a,
                                 uint64_t b, bool cf)
{
    uint64_t m = size_mask(size), r;
    a &= m;
    b &= m;
    switch (op) {
    case 0: r = a + b; lf_set(c, LF_ADD, size, a, b, r); break;
    case 1: r = a | b; lf_set_logic(c, size, r); break;
    case 2: r = a + b + cf; lf_set(c, LF_ADC, size, a, b, r); break;
    case 3: r = a - b - cf; lf_set(c, LF_SBB, size, a, b, r); break;
    case 4: r = a & b; lf_set_logic(c, size, r); break;
    case 5:
    case 7: r = a - b; lf_set(c, LF_SUB, size, a, b, r); break;
    default: r = a ^ b; lf_set_logic(c, size, r); break;
    }
    return r & m;
}

/* with the carry in (ADC, SBB) read from the flags */
static inline uint64_t alu_op(struct cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t b)
{
    return alu_op_cf(c, op, size, a, b, (op == 2 || op == 3) && flag_cf(c));
}

/* ---- segments (cpu/seg.c) ---- */
/* Access rights of a descriptor's low 8 bytes in the VMCS layout that
 * struct seg uses (descriptor bits 47:40 and 55:52). */
static inline unsigned desc_ar(uint64_t lo)
{
    return (unsigned)(((lo >> 40) & 0xff) | (((lo >> 52) & 0xf) << 12));
}
/* Reads the descriptor for a selector that must not be null: #GP(0) for
 * a null selector, #GP(selector) outside the table; returns its rights. */
unsigned seg_fetch(struct cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi);
/* The checks RETF and IRET make on the code segment they return to
 * (SDM Vol. 2 "RET", "IRET"): #GP(sel) / #NP(sel). */
void seg_check_return_cs(struct cpu *c, uint16_t sel, uint64_t lo);
/* Loads a data/stack segment register by the protected-mode rules
 * (SDM Vol. 3A 5.4-5.6), faulting as hardware does. */
void seg_load(struct cpu *c, int seg, uint16_t sel);
/* Real/V86-mode load: base = sel << 4, attributes kept */
void seg_load_real(struct cpu *c, int seg, uint16_t sel);
/* descriptor fetch: returns false if the selector is outside the table */
bool seg_read_descriptor(struct cpu *c, uint16_t sel, uint64_t *desc_lo, uint64_t *desc_hi);
void seg_from_descriptor(struct seg *s, uint16_t sel, uint64_t lo, uint64_t hi);
void seg_set_accessed(struct cpu *c, uint16_t sel, uint64_t lo);
/* far transfers (cpu/farxfer.c) */
void cpu_far_jump(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize);
void cpu_far_call(struct cpu *c, uint16_t sel, uint64_t off, unsigned opsize);
void cpu_far_return(struct cpu *c, unsigned opsize, uint16_t pop_bytes);
void cpu_load_cs(struct cpu *c, uint16_t sel, uint64_t lo, uint64_t hi, unsigned cpl);

/* ---- debug registers (cpu/debugreg.c) ---- */
void cpu_dr7_changed(struct cpu *c);
void cpu_dr_exec_check(struct cpu *c, uint64_t lin);
void cpu_dr_data_access(struct cpu *c, uint64_t lin, unsigned size, bool write);
void cpu_dr_general_detect(struct cpu *c);
void cpu_dr_deliver_traps(struct cpu *c, bool single_step);

/* ---- task switches (cpu/task.c) ---- */
enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };
void cpu_task_switch(struct cpu *c, uint16_t tss_sel, enum task_reason why, bool has_error,
                     uint32_t error);

/* ---- interrupts (cpu/interrupt.c) ---- */
enum int_kind { /* the public names are enum cpu_event_kind in cpu.h */
    INT_EXCEPTION = CPU_EVENT_EXCEPTION, INT_SOFTWARE = CPU_EVENT_SOFTWARE,
    INT_EXTERNAL = CPU_EVENT_EXTERNAL, INT_NMI = CPU_EVENT_NMI,
    INT_PRIV_SW = CPU_EVENT_PRIV_SW /* INT1 */
};
void cpu_deliver(struct cpu *c, int vector, enum int_kind kind, bool has_error, uint32_t error);
void cpu_iret(struct cpu *c, unsigned opsize);
/* cpu/vme.c: CR4.VME and CR4.PVI, the instructions' paths where IOPL
 * is too low for them (each does the work or raises #GP); INT n's in
 * V86 mode returns false when the redirection bit map says the IDT. */
void vme_cli_sti(struct cpu *c, bool sti);
void vme_pushf(struct cpu *c, unsigned opsize);
void vme_popf(struct cpu *c, unsigned opsize);
void vme_iret(struct cpu *c, unsigned opsize);
bool vme_int_redirect(struct cpu *c, unsigned vector);

/* ---- stack (cpu/stack.c) ---- */
void cpu_push(struct cpu *c, unsigned size, uint64_t v);
uint64_t cpu_pop(struct cpu *c, unsigned size);
uint64_t cpu_peek(struct cpu *c, unsigned size, unsigned depth);
static inline uint64_t sp_mask(const struct cpu *c)
{
    return size_mask(c->stack_size);
}

/* Ends the running block after this instruction (see PEND_BREAK). */
static inline void cpu_break_block(struct cpu *c)
{
    c->pending |= PEND_BREAK;
}

/* SDM 6.8.3: after STI (setting IF) and MOV SS/POP SS, interrupts wait
 * for one more instruction; after MOV SS/POP SS debug exceptions and
 * the single-step trap wait too ('block_debug'). */
static inline void cpu_inhibit_events(struct cpu *c, bool block_debug)
{
    c->inhibit_irq = true;
    if (block_debug)
        c->inhibit_debug = true;
    cpu_break_block(c);
}

/* ---- privileged-instruction checks ---- */
static inline void require_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        cpu_raise(c, EX_GP, 0);
}

/* branch target in the current code size (wraps 16/32-bit IP) */
static inline void cpu_jump_near(struct cpu *c, uint64_t target, unsigned opsize)
{
    if (opsize == 2)
        target &= 0xffff;
    else if (opsize == 4)
        target &= 0xffffffff;
    if (c->mode == MODE_LONG && c->code_size == 8) {
        /* canonical: bits 63..va-1 all equal (shift unsigned: a signed
         * left shift of a negative value is undefined in C) */
        unsigned sh = 64 - ((c->mmu.cr4 & CR4_LA57) ? 57 : 48);
        if ((uint64_t)((int64_t)(target << sh) >> sh) != target)
            cpu_raise(c, EX_GP, 0);
    } else if (target > c->seg[SEG_CS].limit) {
        cpu_raise(c, EX_GP, 0);
    }
    c->rip = target;
}

/* ---- MSRs, CPUID, control registers ---- */
void cpu_cpuid(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4]);
void cpu_write_cr0(struct cpu *c, uint64_t v);
void cpu_write_cr3(struct cpu *c, uint64_t v);
void cpu_write_cr4(struct cpu *c, uint64_t v);
uint64_t cpu_cr4_allowed(const struct cpu *c); /* bits MOV to CR4 may set */
void cpu_write_efer(struct cpu *c, uint64_t v);
uint64_t cpu_tsc(const struct cpu *c);

/* I/O with the TSS permission-bitmap check (SDM Vol. 1 19.5) */
uint32_t cpu_io_in(struct cpu *c, uint16_t port, unsigned size);
void cpu_io_out(struct cpu *c, uint16_t port, uint32_t v, unsigned size);
/* VMX non-root operation: the I/O VM exit, if the controls ask for one,
 * after the checks that have priority over it (flags: VMX_IO_*) */
void cpu_io_nonroot(struct cpu *c, const struct insn *i, uint16_t port, unsigned size,
                    unsigned flags);
/* INS/OUTS: the linear address of the first element (ES:rDI for INS,
 * seg:rSI for OUTS) after the segment and alignment checks that come
 * before an I/O VM exit (SDM Vol. 3C 25.1.1) (cpu/ops_string.c) */
uint64_t cpu_io_string_operand(struct cpu *c, const struct insn *i, unsigned size, bool in);

#endif
