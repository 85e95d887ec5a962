/* testsuite/difftest/difftest.h — the differential tester: random
 * user-mode instruction sequences run on the host CPU (the oracle) and
 * in nest86's interpreter, then compared.  README.md in this folder
 * describes the whole tool; this header is the contract between its
 * parts:
 *
 *   forms_int.c, forms_simd.c  the form tables (what can be generated)
 *   fixed.c                    the fixed cases every run compares first
 *   fixups.c                   how a host of another vendor is made to give
 *                              Intel's result, by the rows of the test
 *                              suite's Intel/AMD table (../vendor_diffs.h)
 *   gen.c                      encoder, operand choice, sequences, flag model
 *   native.c                   runs a case on the host in a forked child
 *   emu.c                      runs a case in nest86 (64-bit mode, CPL 3)
 *   main.c                     the runner: compare, report, minimize, blame
 */
#ifndef NEST86_DIFFTEST_H
#define NEST86_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testsuite/vendor_diffs.h"

/* The same linear addresses on both sides.  The code page and the data
 * window are user pages; everything else a sequence might touch is
 * unmapped, so a stray access is a #PF on both sides. */
#define DT_CODE_ADDR  0x10000000ull
#define DT_CODE_SIZE  0x2000u
#define DT_DATA_ADDR  0x20000000ull
#define DT_DATA_SIZE  0x8000u
#define DT_STACK_LO   (DT_DATA_ADDR + 0x4800)  /* the stack zone inside the window */
#define DT_STACK_HI   (DT_DATA_ADDR + 0x7c00)
#define DT_UNMAPPED   0x30000000ull           /* never mapped: fault targets */
#define DT_GS_BASE    (DT_DATA_ADDR + 0x3000)  /* GS base on both sides (FS is the host's TLS) */

/* RFLAGS bits the comparison looks at: arithmetic flags, DF, ID. */
#define DT_CF 0x001u
#define DT_PF 0x004u
#define DT_AF 0x010u
#define DT_ZF 0x040u
#define DT_SF 0x080u
#define DT_OF 0x800u
#define DT_DF 0x400u
#define DT_ID 0x200000u
#define DT_ARITH (DT_CF | DT_PF | DT_AF | DT_ZF | DT_SF | DT_OF)
#define DT_CMP_FLAGS (DT_ARITH | DT_DF | DT_ID)

/* Register state; native.c's entry stub depends on this layout. */
struct dt_state {
    uint64_t r[16];   /* RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 */
    uint64_t rip;
    uint64_t rflags;
};

/* ---- Intel/AMD differences (../vendor_diffs.h, fixups.c) ----
 * nest86 follows Intel.  On an Intel host the host CPU is the oracle for
 * every case.  Where the vendors are documented to differ (a row of
 * vendor_diffs[]), a host of another vendor is made to give Intel's
 * result by the row's means (enum vd_how). */
/* Apply the rows on the host side: true on a host that is not Intel
 * (main.c sets it from CPUID before the host child starts). */
extern bool dt_vendor_fixups;
/* Instances of each row generated (or, for VD_KEPT_OUT, avoided). */
extern unsigned long dt_vendor_hits[VD_COUNT];

/* One use of a row by a unit: bytes [off, off + len) of the unit. */
struct dt_fixup {
    uint8_t rule;         /* VD_* (enum vd_id) */
    uint8_t off, len;     /* SUBST: the bytes replaced; MODEL: the instruction */
    uint8_t sub[4];       /* SUBST: what the host runs instead */
    uint8_t arg[4];       /* MODEL: the instruction's operands (fixups.c) */
    uint64_t addr;        /* MODEL: a memory operand's linear address */
};

#define DT_MAX_FIX 32
/* One test case: what both executors start from. */
struct dt_case {
    struct dt_state in;
    uint32_t code_len;
    uint8_t code[DT_CODE_SIZE];
    uint8_t data[DT_DATA_SIZE];
    int nfix;             /* the rules the case meets, at absolute addresses */
    struct dt_case_fix {
        uint64_t rip;     /* address of the fixup's first byte */
        struct dt_fixup f;
    } fix[DT_MAX_FIX];
};

/* Applies a VD_MODEL row's model, in the host child's SIGTRAP handler,
 * to the case's state at the instruction ('uc' is the handler's
 * ucontext_t).  Returns 0 when it did (the caller resumes after the
 * instruction), -1 when the row does not fit the state (why says how). */
int dt_vendor_reference(const struct dt_fixup *f, void *uc, char *why, size_t n);

enum dt_status {
    DT_OK,        /* stopped at an exception (the final INT3 included) */
    DT_TIMEOUT,   /* never reached an exception */
    DT_BROKEN,    /* the executor itself failed (child died, triple fault) */
};

struct dt_result {
    int status;
    int vector;       /* exception vector; 3 with rip == end for a normal end */
    uint64_t err;     /* error code for #PF/#GP */
    uint64_t cr2;     /* #PF linear address */
    struct dt_state out;  /* at the exception: rip is the faulting (or trap) RIP */
    char why[200];    /* for DT_BROKEN / DT_TIMEOUT */
    uint8_t data[DT_DATA_SIZE];
};

/* ---- executors ---- */
int native_start(void);                 /* 0, or -1 with a message on stderr */
void native_run(const struct dt_case *tc, struct dt_result *res);
void native_stop(void);
bool native_probe_lzcnt(void);          /* does the host execute F3 0F BD as LZCNT? */

int emu_start(void);
void emu_run(const struct dt_case *tc, struct dt_result *res);

/* ---- the generator ---- */

struct gen;
struct dt_form;
typedef void (*dt_emit_fn)(struct gen *g, const struct dt_form *f);

/* form attributes */
enum {
    DT_A_STACK = 1 << 0,  /* moves RSP: not inside a branch body */
    DT_A_CTRL = 1 << 1,   /* a branch with a body: not inside a body */
    DT_A_FAULT = 1 << 2,  /* meant to fault: ends its sequence */
    DT_A_MEM = 1 << 3,    /* touches memory through a generated operand */
};

/* One row of a form table.  'writes', 'undef' and 'reads' are the SDM
 * flag effects of the form (Vol. 2 "Flags Affected"); 'undef' is the
 * subset of 'writes' the SDM leaves undefined, which the comparison
 * masks.  An emitter whose effect depends on its operands (a shift by a
 * count, a REP with rCX = 0) refines them for the instance it emits. */
struct dt_form {
    const char *name;
    const char *group;
    dt_emit_fn emit;
    int arg, arg2;
    uint32_t writes, undef, reads;
    unsigned sizes;     /* operand sizes: bit mask of 1, 2, 4, 8 */
    unsigned attr;
    const char *needs;  /* host feature the form needs, or NULL */
};

/* Tables end with a row whose name is NULL. */
extern const struct dt_form dt_forms_int[];
extern const struct dt_form dt_forms_simd[];


/* Known nest86 bugs in files the tester does not own (main.c): each is
 * one exact case the generator keeps out while 'active' (the default;
 * --known-issues generates them to see whether they are fixed).  The
 * table ends with a row whose name is NULL; generator code consults
 * its own entry by index. */
struct dt_known {
    const char *name;
    const char *why;
    bool active;
    unsigned long hits;
};
extern struct dt_known dt_known[];
int dt_known_index(const char *name);  /* -1: no such entry */

/* One generated unit: setup moves, then the instruction under test (or
 * a branch with its body).  Units are position-independent byte strings
 * except for RIP-relative displacements, which are relocated when the
 * case is linked, so a sequence can lose units while it is minimized. */
#define DT_ITEM_MAX 128
struct dt_item {
    int form;           /* index into the combined form table */
    uint8_t len, main_off, main_len;
    uint8_t bytes[DT_ITEM_MAX];
    /* flag effect: after = (before & ~writes) | undef, in terms of the
     * set of undefined flags; 'join' items may be skipped by a branch */
    uint32_t writes, undef, reads;
    bool join;
    bool fault_ok;      /* an exception here is expected and fine */
    int nreloc;
    struct { uint8_t off, end; uint64_t target; } reloc[2];
    int nfix;           /* Intel/AMD differences the unit meets */
    struct dt_fixup fix[2];
    /* a branch unit's body: another form's unit inside this one */
    uint8_t body_off, body_len;
    int body_form;          /* -1: none */
};

#define DT_MAX_ITEMS 48
struct dt_seq {
    int n;
    struct dt_item item[DT_MAX_ITEMS];
    struct dt_state init;
    uint64_t data_seed;   /* the data window's bytes come from this */
    uint32_t code_off;    /* where the code starts in the code pages */
};

/* combined table (int then simd), built by gen_init */
extern const struct dt_form **dt_forms;
extern int dt_nforms;

struct dt_gen_opts {
    const char *only_group;   /* NULL: all */
    uint64_t host_missing;    /* bit per dt_forms index: host lacks the feature */
};

void gen_init(void);
int gen_group_count(void);
const char *gen_group_name(int k);
bool gen_form_skipped(int form);     /* excluded: feature the host lacks, etc. */
void gen_set_excluded(int form, const char *why);
const char *gen_excluded_why(int form);
/* Builds a sequence whose units come mostly from 'focus' (a group name). */
void gen_sequence(uint64_t seed, const char *focus, struct dt_seq *s);
/* Links a sequence into a case: code, initial state, data window.
 * Returns false if some unit reads a flag left undefined before it
 * (only possible for a sequence being minimized). */
bool gen_link(const struct dt_seq *s, struct dt_case *tc);
/* Undefined-flag set in force at an address (the end, or a faulting RIP). */
uint32_t gen_undef_at(const struct dt_seq *s, uint64_t rip, int *item_index);
/* Item index containing a code address, or -1. */
int gen_item_at(const struct dt_seq *s, uint64_t rip);

/* ---- emitter toolkit (gen.c), used by the form tables ---- */

struct dt_mem {
    int base, index;          /* -1: none; base -2: RIP-relative */
    unsigned scale;           /* 0..3 */
    int64_t disp;
    bool addr32;
    uint64_t target;          /* RIP-relative target address */
    bool long_disp;           /* encode disp32 even if it fits in 8 bits */
};

/* One instruction being put together. */
struct dt_ins {
    uint8_t legacy[4];        /* lock/rep/segment prefixes, in order */
    int nlegacy;
    bool p66, p67;
    bool rex_any;             /* a REX prefix is present */
    uint8_t rex;              /* W R X B bits (0x4x) */
    uint8_t opc[4];
    int nopc;
    bool modrm;
    unsigned reg;             /* ModRM.reg (0-15) */
    bool rm_mem;
    unsigned rm;              /* register when !rm_mem */
    struct dt_mem mem;
    int imm_size;
    uint64_t imm;
    int imm2_size;            /* ENTER's second immediate */
    uint64_t imm2;
    uint8_t byte_mode;        /* byte registers: 0 undecided, 1 no REX (AH..BH), 2 REX */
};

uint64_t gen_rand(struct gen *g);
unsigned gen_below(struct gen *g, unsigned n);
bool gen_chance(struct gen *g, unsigned percent);
uint64_t gen_value(struct gen *g, unsigned size);  /* an "interesting" random value */

void ins_init(struct dt_ins *in);
/* Picks an operand size from 'mask' and sets 66/REX.W for it. */
unsigned gen_size(struct gen *g, struct dt_ins *in, unsigned mask);
/* Byte forms: decide whether a REX prefix is present (SPL..DIL and
 * R8B.. reachable) or not (AH..BH reachable).  Call before choosing regs. */
void gen_byte_rex(struct gen *g, struct dt_ins *in, unsigned size);
/* A register operand of 'size'; 'dst' registers avoid RSP (and RBP
 * while a frame is open) and 'avoid' (bit mask of GPRs, by effect). */
unsigned gen_reg(struct gen *g, struct dt_ins *in, unsigned size, bool dst, unsigned avoid);
/* The GPR a register operand number really touches (AH -> RAX). */
unsigned gen_reg_gpr(const struct dt_ins *in, unsigned size, unsigned r);
/* ModRM.rm: a register or (pct_mem percent of the time) a memory
 * operand of 'size' bytes in the data window, with setup moves. */
void gen_rm(struct gen *g, struct dt_ins *in, unsigned size, bool dst, unsigned avoid,
            unsigned pct_mem);
void gen_rm_mem(struct gen *g, struct dt_ins *in, unsigned size, unsigned avoid);
/* A memory operand addressing 'target' (a linear address), with setup. */
void gen_mem_at(struct gen *g, struct dt_ins *in, uint64_t target, unsigned avoid);
/* Any addressing form with whatever the registers hold (LEA, NOP). */
void gen_mem_any(struct gen *g, struct dt_ins *in);
/* A random data-window address with room for 'size' bytes. */
uint64_t gen_data_addr(struct gen *g, unsigned size);
/* Emits a setup move: reg (full GPR number) := value, 'size' bytes
 * written (1 = low byte without REX for 0-3, 8 = 64-bit). */
void gen_setup_mov(struct gen *g, unsigned reg, unsigned size, uint64_t value);
/* Emits a load or store between a GPR and a memory operand (setup). */
void gen_setup_mem(struct gen *g, unsigned reg, unsigned size, const struct dt_mem *m, bool store);
void gen_setup_bytes(struct gen *g, const uint8_t *b, unsigned n);
/* Occasional harmless prefixes (ignored segment overrides). */
void gen_noise_prefix(struct gen *g, struct dt_ins *in);
void gen_lock(struct gen *g, struct dt_ins *in, unsigned pct);
/* Emits the instruction under test. */
void gen_emit(struct gen *g, struct dt_ins *in);

/* A string unit (forms_int.c), for the random forms and the fixed
 * cases: the setup of rCX, rSI, rDI with these values, then the
 * instruction. */
struct dt_string_args {
    unsigned op;        /* 0 MOVS 1 STOS 2 LODS 3 CMPS 4 SCAS */
    unsigned rep;       /* 0 none, 1 REP/REPE (F3), 2 REPNE (F2) */
    unsigned size;      /* 1 2 4 8 */
    bool p66_and_w;     /* a 66 prefix beside REX.W (which wins) */
    bool a32;           /* 67: 32-bit address size */
    bool gs;            /* GS override on the source */
    bool noise;         /* ignored prefixes now and then */
    uint64_t rcx, rsi, rdi;
};
void dt_string_unit(struct gen *g, const struct dt_string_args *a);

/* A vector unit (forms_simd.c) with its choices made, for the random
 * forms and the fixed cases.  'preset', when not NULL, holds the
 * block's inputs as 24 dwords: 0-11 destination, source, XMM0; 16
 * MXCSR (its exception masks are set regardless); 20-23 the memory
 * operand (with 'mis' 0).  The result is stored at blk + 48, MXCSR at
 * blk + 68. */
struct dt_vec_args {
    bool mmx, w, mem, noise, edx_only;
    unsigned base;        /* the GPR that points at the block */
    uint64_t blk;         /* the block's address (16-byte aligned) */
    unsigned d, s;        /* vector registers */
    unsigned mis;         /* the memory operand's misalignment */
    unsigned imm;
    uint64_t rax, rdx;    /* explicit lengths (PCMPESTRx) */
    const uint32_t *preset;
};
void dt_vec_unit(struct gen *g, const struct dt_form *f, const struct dt_vec_args *a);

/* ---- fixed cases (fixed.c) ----
 * Hand-written cases that run in every run, before the random ones: the
 * Intel/AMD differences and the defects worth pinning, each with the
 * values the SDM (or Intel's measured behaviour) gives, which both the
 * host's result and nest86's must show. */
enum { DT_EXP_END, DT_EXP_REG, DT_EXP_MEM32, DT_EXP_FLAGS };
struct dt_expect {
    int kind;
    uint64_t where;       /* register number, or linear address */
    uint64_t value;       /* for DT_EXP_FLAGS: the DT_CMP_FLAGS bits */
};
struct dt_fixed {
    const char *name;
    const char *form;     /* the form table row it exercises */
    const char *known;    /* a dt_known entry it depends on, or NULL */
    const struct dt_state *init;
    const struct dt_string_args *str;  /* one of these two */
    const struct dt_vec_args *vec;
    struct dt_expect expect[8];
};
extern const struct dt_fixed dt_fixed[];  /* ends with a NULL name */
/* Builds a fixed case's sequence; false if its form is unknown. */
bool gen_fixed_sequence(const struct dt_fixed *fx, struct dt_seq *s);
/* Index of a form by name, or -1. */
int gen_form_index(const char *name);

/* what the emitter knows about the item it is building */
struct dt_item *gen_item(struct gen *g);
int64_t gen_rsp(struct gen *g);            /* tracked RSP */
void gen_rsp_move(struct gen *g, int64_t delta);
void gen_rsp_ea_adjust(struct gen *g, int64_t delta); /* POP m: EA uses the popped RSP */
void gen_frame(struct gen *g, bool open);  /* RBP holds a frame: don't clobber */
bool gen_frame_open(struct gen *g);
/* A branch body: one random non-branch, non-stack unit from 'focus'. */
void gen_body(struct gen *g, struct dt_item *body);
/* Appends a body to the unit being built (bytes, relocations) and
 * records where it lies, for gen_item_drop_body(). */
void gen_put_body(struct gen *g, const struct dt_item *body);
/* Replaces an item's body by NOPs of the same length. */
void gen_item_drop_body(struct dt_item *it);
/* The unit being built meets Intel/AMD difference 'rule' (VD_*) at its
 * bytes [off, off + len) (offsets in the unit); counts it.  Returns the
 * fixup to fill in (sub, arg, addr), or NULL when the unit has no room
 * (it is then dropped). */
struct dt_fixup *gen_fixup(struct gen *g, int rule, unsigned off, unsigned len);
/* Counts an instance of a VD_KEPT_OUT row the generator avoided. */
void gen_vendor_avoided(int rule);
/* flags a condition code reads */
uint32_t gen_cc_reads(unsigned cc);

#endif
