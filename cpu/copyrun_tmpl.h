/* cpu/copyrun_tmpl.h — the copier's templates (cpu/copyrun.h): a
 * registered threaded handler's machine code, decoded with Capstone
 * within its ELF symbol and laid out again so that it can be copied
 * anywhere within rel32 reach of nest86's code.  Internal to
 * cpu/copyrun.c. */
#ifndef NEST86_CPU_COPYRUN_TMPL_H
#define NEST86_CPU_COPYRUN_TMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A template: the handler's code, position-independent but for the
 * rel32 fields aimed outside it and the immediates that hold fields of
 * the entry it is copied for (filled in by cpu/copyrun.c emit()) */

#define TMPL_MAX_CODE  1024 /* room for the longest handler taken, grown */
#define TMPL_MAX_RELS  16

struct tmpl {
    uintptr_t run;        /* the handler; 0: free hash slot */
    int len;              /* bytes of code, -1: not copyable */
    unsigned step;
    unsigned nrel;
    uint16_t rel_off[TMPL_MAX_RELS];   /* rel32 fields ... */
    uintptr_t rel_to[TMPL_MAX_RELS];   /* ... and the absolute targets they reach */
    /* immediates that hold a field of the copy's entry (fold_of()) */
    unsigned nfold;
    uint16_t fold_at[TMPL_MAX_RELS];   /* the immediate's offset in the code */
    int16_t fold_off[TMPL_MAX_RELS];   /* the field's offset from the entry */
    uint8_t fold_size[TMPL_MAX_RELS];  /* the field's bytes */
    uint8_t fold_imm[TMPL_MAX_RELS];   /* the immediate's bytes: 1, 4 or 8 */
    bool fold_sign[TMPL_MAX_RELS];     /* sign-extend the field */
    uint8_t fold_scale[TMPL_MAX_RELS]; /* nonzero: a disp32, fold_disp + scale * field */
    int32_t fold_disp[TMPL_MAX_RELS];
    uint8_t code[TMPL_MAX_CODE];
};

/* A rel32 or disp32 field */
static inline void put32(uint8_t *p, int64_t v)
{
    uint32_t u = (uint32_t)(int32_t)v;
    memcpy(p, &u, 4);
}

/* True when the executable's symbol table gave the registered handlers
 * their extents (read once) */
bool tmpl_symbols(void);

/* Whether 'run' is a registered handler (COPYRUN_REGISTER) */
bool tmpl_registered(uintptr_t run);

/* Capstone and the decoding's scratch space, one per copier */
struct tmpl_decoder;
struct tmpl_decoder *tmpl_decoder_new(void);
void tmpl_decoder_free(struct tmpl_decoder *dec);

/* Builds t for the registered handler 'run' (its run, step and code);
 * false, with t->len = -1, when the copier cannot take it. */
bool tmpl_build(struct tmpl_decoder *dec, struct tmpl *t, uintptr_t run);

#endif
