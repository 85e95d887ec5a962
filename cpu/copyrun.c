/* cpu/copyrun.c — copies of threaded handlers strung into runs
 * (cpu/copyrun.h): the arena, the runs of a block, the templates of
 * cpu/copyrun_tmpl.c filled in for each entry. */
#include <stdlib.h>
#include <string.h>

#include "cpu/copyrun.h"
#include "cpu/copyrun_tmpl.h"
#include "cpu/icache.h"
#include "cpu/insn.h"
#include "mmu/hostmem.h"

#define TMPL_HASH_BITS 12

struct copyrun {
    uint8_t *base;
    size_t size, used;
    bool flush_due;
    struct tmpl_decoder *dec;
    struct tmpl **tmpls; /* open hash by handler address */
    unsigned n_tmpls;
    struct copyrun_stats st;
};

static struct tmpl *template_of(struct copyrun *cr, uintptr_t run)
{
    unsigned mask = (1u << TMPL_HASH_BITS) - 1;
    unsigned h = (unsigned)((run >> 4) ^ (run >> 16)) & mask;
    for (;; h = (h + 1) & mask) {
        struct tmpl *t = cr->tmpls[h];
        if (!t)
            break;
        if (t->run == run)
            return t->len >= 0 ? t : NULL;
    }
    if (!tmpl_registered(run))
        return NULL; /* never copied (nor remembered) */
    if (cr->n_tmpls >= (mask + 1) / 2)
        return NULL; /* keep the table sparse */
    struct tmpl *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    cr->tmpls[h] = t;
    cr->n_tmpls++;
    if (!tmpl_build(cr->dec, t, run)) {
        cr->st.refused++;
        return NULL;
    }
    cr->st.handlers++;
    return t;
}

/* ---- the arena ---- */

#define ARENA_DEFAULT (16u << 20)

/* Each copy: this header, then its code (16-byte aligned). */
struct copy_head {
    const void *orig;  /* the first entry's threaded handler */
    uint32_t entries;  /* the entries the copy runs */
    uint32_t bytes;
};

static const char *why_not = "";

const char *copyrun_why_not(void)
{
    return why_not;
}

struct copyrun *copyrun_new(size_t bytes)
{
    if (!tmpl_symbols()) {
        why_not = "the executable has no symbol table (stripped?) to find its handlers in";
        return NULL;
    }
    struct copyrun *cr = calloc(1, sizeof(*cr));
    if (!cr) {
        why_not = "out of memory";
        return NULL;
    }
    cr->size = bytes ? bytes : ARENA_DEFAULT;
    cr->tmpls = calloc(1u << TMPL_HASH_BITS, sizeof(*cr->tmpls));
    cr->dec = tmpl_decoder_new();
    /* rel32 reach of the handlers the copies call and jump to */
    cr->base = host_code_alloc_near((const void *)&copyrun_block, cr->size);
    if (!cr->tmpls || !cr->dec || !cr->base) {
        why_not = !cr->base ? "the host gave no executable memory within 2 GiB of nest86's code"
                            : "out of memory (or Capstone would not open)";
        if (cr->base)
            host_ram_free(cr->base, cr->size);
        tmpl_decoder_free(cr->dec);
        free(cr->tmpls);
        free(cr);
        return NULL;
    }
    return cr;
}

void copyrun_free(struct copyrun *cr)
{
    if (!cr)
        return;
    tmpl_decoder_free(cr->dec);
    host_ram_free(cr->base, cr->size);
    for (unsigned h = 0; h < (1u << TMPL_HASH_BITS); h++)
        free(cr->tmpls[h]);
    free(cr->tmpls);
    free(cr);
}

static bool in_arena(const struct copyrun *cr, const void *p)
{
    return (const uint8_t *)p >= cr->base && (const uint8_t *)p < cr->base + cr->size;
}

static const struct copy_head *head_of(const void *code)
{
    return (const struct copy_head *)((const uint8_t *)code - sizeof(struct copy_head));
}

const void *copyrun_handler_of(const struct copyrun *cr, const struct insn *i)
{
    const void *r = (const void *)i->run;
    if (cr && in_arena(cr, r))
        return head_of(r)->orig;
    return r;
}

/* Every entry back on its threaded handler; the arena empty. */
static void flush(struct copyrun *cr, struct icache *ic)
{
    for (size_t s = 0; s < (1u << BLOCK_BITS); s++) {
        struct block *b = &ic->blocks[s];
        if (!b->insn)
            continue;
        for (unsigned k = 0; k < b->n; k++)
            if (in_arena(cr, (const void *)b->insn[k].run))
                b->insn[k].run = (insn_fn)head_of((const void *)b->insn[k].run)->orig;
        b->copied_n = 0;
    }
    cr->used = 0;
    cr->flush_due = false;
    cr->st.flushes++;
}

/* Copies entries [s, e) of b (their templates in t[]) as one run. */
static void emit(struct copyrun *cr, struct block *b, unsigned s, unsigned e,
                 struct tmpl **t, unsigned nt, unsigned bytes)
{
    size_t need = sizeof(struct copy_head) + bytes + 3;
    size_t at = (cr->used + 15) & ~(size_t)15;
    /* the code starts 16-byte aligned, the header just before it */
    size_t code_at = at + 16;
    if (code_at + need > cr->size) {
        cr->flush_due = true;
        return;
    }
    uint8_t *code = cr->base + code_at;
    struct copy_head *h = (struct copy_head *)(code - sizeof(*h));
    h->orig = copyrun_handler_of(cr, &b->insn[s]);
    h->entries = e - s;
    h->bytes = bytes + 3;
    uint8_t *p = code;
    unsigned j = s;
    for (unsigned k = 0; k < nt; k++) {
        memcpy(p, t[k]->code, (size_t)t[k]->len);
        for (unsigned r = 0; r < t[k]->nrel; r++) {
            uint8_t *f = p + t[k]->rel_off[r];
            put32(f, (int64_t)(t[k]->rel_to[r] - (uintptr_t)(f + 4)));
        }
        for (unsigned r = 0; r < t[k]->nfold; r++) {
            const uint8_t *src = (const uint8_t *)&b->insn[j] + t[k]->fold_off[r];
            uint64_t v = 0;
            memcpy(&v, src, t[k]->fold_size[r]);
            unsigned bits = 8u * t[k]->fold_size[r];
            if (t[k]->fold_sign[r] && bits < 64 && ((v >> (bits - 1)) & 1))
                v |= ~0ull << bits;
            if (t[k]->fold_scale[r]) /* a byte: the displacement stays within 32 bits */
                v = (uint64_t)((int64_t)t[k]->fold_disp[r] + (int64_t)(t[k]->fold_scale[r] * v));
            memcpy(p + t[k]->fold_at[r], &v, t[k]->fold_imm[r]);
        }
        p += t[k]->len;
        j += t[k]->step ? t[k]->step : 1;
    }
    /* the last copy's fall-through: the entry after the run, threaded */
    p[0] = 0xff;
    p[1] = 0x66;
    p[2] = 0x08;
    cr->used = code_at + bytes + 3;
    b->insn[s].run = (insn_fn)(void *)code;
    cr->st.runs++;
    cr->st.entries += e - s;
    cr->st.bytes += bytes + 3;
}

void copyrun_block(struct copyrun *cr, struct icache *ic, struct block *b)
{
    if (cr->flush_due)
        flush(cr, ic);
    unsigned n = b->n;
    struct tmpl *t[BLOCK_MAX];
    unsigned j = 0;
    while (j < n) {
        /* the longest run of copyable entries from j */
        unsigned k = j, nt = 0, bytes = 0;
        for (;;) {
            if (k >= n)
                break;
            struct tmpl *x = template_of(cr, (uintptr_t)copyrun_handler_of(cr, &b->insn[k]));
            if (!x || k + (x->step ? x->step : 1) > n)
                break;
            t[nt++] = x;
            bytes += (unsigned)x->len;
            if (!x->step) { /* always branches: the run ends with it */
                k++;
                break;
            }
            k += x->step;
        }
        if (nt >= 2) {
            const void *r = (const void *)b->insn[j].run;
            bool same = in_arena(cr, r) && head_of(r)->entries == k - j;
            /* entries inside the run go back to their handlers: a copy
             * starting there is no longer entered from this run */
            for (unsigned m = j + 1; m < k; m++)
                b->insn[m].run = (insn_fn)copyrun_handler_of(cr, &b->insn[m]);
            if (!same)
                emit(cr, b, j, k, t, nt, bytes);
        } else if (k > j) {
            b->insn[j].run = (insn_fn)copyrun_handler_of(cr, &b->insn[j]);
        }
        j = k > j ? k : j + 1;
    }
    b->copied_n = (uint8_t)n;
}

void copyrun_get_stats(const struct copyrun *cr, struct copyrun_stats *s)
{
    if (!cr) {
        memset(s, 0, sizeof(*s));
        return;
    }
    *s = cr->st;
}

int copyrun_template_len(struct copyrun *cr, const void *run)
{
    if (!cr)
        return -1;
    const struct tmpl *t = template_of(cr, (uintptr_t)run);
    return t ? t->len : -1;
}
