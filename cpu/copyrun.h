/* cpu/copyrun.h — straight runs of a block's threaded entries copied
 * into one piece of host code.
 *
 * In the threaded chain (cpu/thread.h) every guest instruction ends in
 * an indirect jump to the next entry's 'run'.  For a hot block, the
 * threaded handlers' own machine code is copied one after another into
 * an executable arena, each handler's jump to the next entry replaced
 * by falling into the next copy, and the run's first entry's 'run'
 * pointed at the copy.  Nothing else changes: the copy keeps %rsi
 * stepping through the entries exactly as the handlers do, so every
 * way out of a copy (a slow path's jump to a full handler, a taken
 * branch entering the next block, a dispatch the copier could not
 * prove is the fall-through) lands in the original threaded code at
 * the right entry and goes on there.  A copy is thus always equivalent
 * to the entries it replaces; it saves the indirect jump per
 * instruction and lets the host's front end run the handlers as one
 * straight line.
 *
 * A handler is copied from its machine code as the compiler made it
 * (cpu/copyrun_tmpl.c makes the templates, this file's copier the runs):
 * Capstone decodes it within its ELF symbol's extent, relative branches
 * and calls and RIP-relative operands are re-aimed at their original
 * targets (or, inside the handler, at the copy), and %rsi is followed
 * through ADD/SUB/LEA so that a dispatch is replaced only where %rsi
 * has stepped past the handler's entries.  A load of one of the
 * handler's own entries' fields (a register number, an immediate, a
 * displacement: MOV, MOVZX, MOVSX, MOVSXD from [entry + offset]) becomes
 * a move of the field's value as an immediate, read when the copy is
 * made: those fields never change after decoding.  A register number
 * so loaded and used as an index ([c + reg*8], a guest register) goes
 * into the displacement instead, and the move dies when nothing else
 * reads it, so a copied MOV r64, r/m64 is one load and one store at
 * constant offsets from the CPU structure.  Handlers that
 * cannot be copied this way (no symbol, an unknown form, too long) stay
 * threaded.
 *
 * A copy stays right for as long as its entries do: after decoding, an
 * entry changes only its 'run' (cpu_fuse() pairing it or dropping its
 * dead flags), and the copy of the handler it had before still does
 * that instruction.  A block slot taken for other code starts again
 * with no copies (cpu/run.c lookup_block), and a grown block is copied
 * again on its next visit.
 */
#ifndef NEST86_CPU_COPYRUN_H
#define NEST86_CPU_COPYRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct icache;
struct block;
struct insn;

/* A threaded handler whose fall-through goes on to the entry 'step'
 * places after its own (2 for a fused pair), or 0 for one that always
 * branches (JMP, CALL, RET), which ends a run.  The macros of
 * cpu/thread.h, the Jcc and fused-pair handlers and cpu_run_generic
 * register theirs in this section; any other handler stays threaded. */
struct copyrun_handler {
    const void *run;
    unsigned step;
};

#define COPYRUN_REGISTER(fn, steps)                                                \
    static const struct copyrun_handler fn##_copyable                              \
        __attribute__((used, section("nest86_copyrun"), aligned(sizeof(void *)))) = \
            {(const void *)(fn), (steps)}

struct copyrun;

/* The loop copies a block's runs the 64th time it goes to the block
 * with runs not yet copied: copying costs a template lookup and a copy
 * per entry, and only code that runs often gains from it.  In the KVM
 * scenario (user time, medians of six alternating runs each): every
 * block copied 3.97 s, the 2nd visit 3.99 s, the 16th 3.82 s, the 32nd
 * 3.70 s, the 64th 3.71 s (4,024 runs, 5.5 MB of host code), the 128th
 * 3.63 s; threaded 3.93-4.14 s in the same rounds. */
#define COPYRUN_HEAT_DEFAULT 64

/* The arena for one instruction cache: 'bytes' of host code (0: the
 * default).  NULL when copying is off: the host refused an executable
 * mapping near nest86's code, or the binary has no symbol table. */
struct copyrun *copyrun_new(size_t bytes);
/* Why the last copyrun_new() returned NULL, in words */
const char *copyrun_why_not(void);
void copyrun_free(struct copyrun *cr);

/* Copies block b's runs of two or more registered entries that changed
 * since its last copy (cpu/run.c calls it from the loop, never inside
 * a chain: a full arena is emptied first, which points every entry of
 * every block back at its threaded handler). */
void copyrun_block(struct copyrun *cr, struct icache *ic, struct block *b);

/* The threaded handler behind entry i: its 'run', or the handler a copy
 * starting at i replaced. */
const void *copyrun_handler_of(const struct copyrun *cr, const struct insn *i);

struct copyrun_stats {
    uint64_t runs;     /* runs copied */
    uint64_t entries;  /* entries those runs cover */
    uint64_t bytes;    /* arena bytes used by them, all flushes together */
    uint64_t flushes;  /* times the arena was emptied */
    unsigned handlers; /* handlers with a copy template */
    unsigned refused;  /* registered handlers the copier could not take */
};
void copyrun_get_stats(const struct copyrun *cr, struct copyrun_stats *s);

/* The template of a registered handler, for tests: its copied length,
 * or -1 when it is not copyable (or not registered). */
int copyrun_template_len(struct copyrun *cr, const void *run);

#endif
