/* testsuite/difftest/main.c — the differential tester's runner.
 *
 *   difftest [--seed N | --random-seed] [--count N] [--time SECONDS]
 *            [--group NAME] [--only K] [--no-minimize] [--known-issues]
 *            [--vendor-fixups | --no-vendor-fixups] [--fixed NAME | --no-fixed]
 *            [--list] [-v]
 *
 * Sequence K of a run is generated from (seed, K) alone and focuses on
 * group K mod (number of groups), so `--seed N --only K` replays one
 * sequence of a run exactly.  Results use testsuite/run's protocol: one
 * `PASS group` / `FAIL group: why` / `SKIP name: why` line per form
 * group, then the coverage per form.  README.md has the details. */
#include <cpuid.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "testsuite/difftest/difftest.h"

static const char *const reg_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                          "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                          "r12", "r13", "r14", "r15"};

struct opts {
    uint64_t seed;
    bool random_seed;
    long count;           /* sequences; <0: until --time runs out */
    double time_limit;    /* seconds; 0: none */
    const char *group;
    long only;            /* -1: all */
    bool minimize;
    bool verbose;
    bool list;
    bool known_issues;    /* generate the known-issue cases too */
    int vendor_fixups;    /* -1 by the host's vendor, 0 never, 1 always */
    bool fixed;           /* run the fixed cases */
    const char *fixed_name; /* --fixed NAME: only that fixed case */
    int max_reports;      /* detailed reports per group */
};

/* Known nest86 bugs outside the files this tester may fix.  Each is
 * kept out of generation by name (the generator code, or a fixed case's
 * 'known') and reported as a SKIP line with its reason; --known-issues
 * generates them again.  None is open.
 *
 * Fixed: seg-prefix-after-fs-gs (cpu/decode.c let a CS/DS/ES/SS prefix
 * after FS/GS replace it in 64-bit mode; 65 36 8B 03 must read
 * GS:[RBX]), fixed in 0ce6c3b; dpps-nan-order (cpu/sse_fp.c summed
 * DPPS/DPPD products in AMD's order), fixed in 93eb80c. */
struct dt_known dt_known[] = {
    {NULL, NULL, false, 0},
};

int dt_known_index(const char *name)
{
    for (int k = 0; dt_known[k].name; k++)
        if (!strcmp(dt_known[k].name, name))
            return k;
    return -1;
}

/* ---- host features ---- */

static bool host_has(const char *feat)
{
    unsigned a, b, c, d;
    if (!strcmp(feat, "lzcnt"))
        return native_probe_lzcnt();
    if (!strcmp(feat, "bmi1"))
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 3 & 1);
    if (!strcmp(feat, "lahf"))
        return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & 1);
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    if (!strcmp(feat, "movbe"))
        return c >> 22 & 1;
    if (!strcmp(feat, "popcnt"))
        return c >> 23 & 1;
    if (!strcmp(feat, "sse4.2"))
        return c >> 20 & 1;
    if (!strcmp(feat, "cx16"))
        return c >> 13 & 1;
    if (!strcmp(feat, "aes"))
        return c >> 25 & 1;
    if (!strcmp(feat, "pclmulqdq"))
        return c >> 1 & 1;
    return false;
}

/* ---- comparing ---- */

struct mismatch {
    char kind[80];      /* signature used while minimizing */
    char text[4096];
};

static void addf(struct mismatch *mm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct mismatch *mm, const char *fmt, ...)
{
    size_t n = strlen(mm->text);
    if (n + 1 >= sizeof(mm->text))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mm->text + n, sizeof(mm->text) - n, fmt, ap);
    va_end(ap);
}

static void flag_names(uint32_t f, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        {DT_CF, "CF"}, {DT_PF, "PF"}, {DT_AF, "AF"}, {DT_ZF, "ZF"}, {DT_SF, "SF"},
        {DT_OF, "OF"}, {DT_DF, "DF"}, {DT_ID, "ID"}};
    buf[0] = 0;
    for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (f & names[k].bit) {
            size_t n = strlen(buf);
            snprintf(buf + n, len - n, "%s%s", n ? " " : "", names[k].name);
        }
    if (!buf[0])
        snprintf(buf, len, "-");
}

static const char *vec_name(int v)
{
    static const char *const n[32] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                      "#DF", "?9",  "#TS", "#NP", "#SS", "#GP", "#PF", "?15",
                                      "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
    return v >= 0 && v < 32 && n[v] ? n[v] : "?";
}

/* Returns true when the results differ; fills *mm. */
static bool compare(const struct dt_seq *s, const struct dt_case *tc, const struct dt_result *nat,
                    const struct dt_result *emu, struct mismatch *mm)
{
    mm->kind[0] = mm->text[0] = 0;
    uint64_t end = DT_CODE_ADDR + tc->code_len;
    if (emu->status != DT_OK) {
        snprintf(mm->kind, sizeof(mm->kind), "status");
        addf(mm, "  nest86 did not stop at an exception: %s\n", emu->why);
        addf(mm, "  host: %s at %#" PRIx64 "\n", vec_name(nat->vector), nat->out.rip);
        return true;
    }
    bool normal = nat->vector == 3 && nat->out.rip == end;
    if (nat->vector != emu->vector || nat->out.rip != emu->out.rip) {
        snprintf(mm->kind, sizeof(mm->kind), "exception");
        addf(mm, "  exception: host %s (%d) at %#" PRIx64 ", nest86 %s (%d) at %#" PRIx64 "\n",
             vec_name(nat->vector), nat->vector, nat->out.rip, vec_name(emu->vector),
             emu->vector, emu->out.rip);
    } else if (!normal) {
        addf(mm, "  both stopped with %s at %#" PRIx64 "\n", vec_name(nat->vector), nat->out.rip);
        /* The P bit is compared only where both sides agree on what is
         * mapped: above the low pages (nest86's supervisor-only tables
         * and stubs) and below the kernel half (for which Linux reports
         * every user fault as a protection fault). */
        uint64_t pmask = nat->cr2 >= DT_CODE_ADDR && nat->cr2 < (1ull << 47) ? 7 : 6;
        if (nat->vector == 14 && (nat->cr2 != emu->cr2 || (nat->err & pmask) != (emu->err & pmask))) {
            snprintf(mm->kind, sizeof(mm->kind), "pf-info");
            addf(mm, "  #PF: host CR2 %#" PRIx64 " error %#" PRIx64 ", nest86 CR2 %#" PRIx64
                     " error %#" PRIx64 " (P/W/U compared, P only for user addresses)\n",
                 nat->cr2, nat->err, emu->cr2, emu->err);
        }
        if (nat->vector == 13 && nat->err != emu->err) {
            snprintf(mm->kind, sizeof(mm->kind), "gp-error");
            addf(mm, "  #GP error code: host %#" PRIx64 ", nest86 %#" PRIx64 "\n", nat->err,
                 emu->err);
        }
    }
    for (int r = 0; r < 16; r++)
        if (nat->out.r[r] != emu->out.r[r]) {
            if (!mm->kind[0])
                snprintf(mm->kind, sizeof(mm->kind), "reg %s", reg_names[r]);
            addf(mm, "  %-6s host %016" PRIx64 "  nest86 %016" PRIx64 "\n", reg_names[r],
                 nat->out.r[r], emu->out.r[r]);
        }
    uint32_t undef = gen_undef_at(s, normal ? end : nat->out.rip, NULL);
    uint32_t cmp = DT_CMP_FLAGS & ~undef;
    uint32_t diff = (uint32_t)(nat->out.rflags ^ emu->out.rflags) & cmp;
    if (diff) {
        char d[64], u[64];
        flag_names(diff, d, sizeof(d));
        flag_names(undef, u, sizeof(u));
        if (!mm->kind[0])
            snprintf(mm->kind, sizeof(mm->kind), "flags %s", d);
        addf(mm, "  rflags host %08" PRIx64 "  nest86 %08" PRIx64 "  differ in: %s  (undefined, not compared: %s)\n",
             nat->out.rflags, emu->out.rflags, d, u);
    }
    int shown = 0, total = 0;
    for (unsigned k = 0; k < DT_DATA_SIZE; k++)
        if (nat->data[k] != emu->data[k]) {
            if (!total && !mm->kind[0])
                snprintf(mm->kind, sizeof(mm->kind), "memory");
            total++;
            if (shown++ < 16)
                addf(mm, "  mem %#" PRIx64 ": host %02x nest86 %02x (was %02x)\n",
                     (uint64_t)(DT_DATA_ADDR + k), nat->data[k], emu->data[k], tc->data[k]);
        }
    if (total > 16)
        addf(mm, "  ... %d differing bytes in all\n", total);
    return mm->kind[0] != 0;
}

/* ---- reporting ---- */

static csh cs;
static bool cs_ok;

static void disasm_line(const uint8_t *b, unsigned n, uint64_t addr, const char *tag)
{
    cs_insn *ins;
    size_t cnt = cs_ok ? cs_disasm(cs, b, n, addr, 0, &ins) : 0;
    size_t done = 0;
    for (size_t k = 0; k < cnt; k++) {
        char hex[64] = "";
        for (unsigned j = 0; j < ins[k].size && j < 15; j++)
            snprintf(hex + 3 * j, sizeof(hex) - 3 * j, "%02x ", ins[k].bytes[j]);
        printf("    %08" PRIx64 ": %-45s %s %s%s\n", ins[k].address, hex, ins[k].mnemonic,
               ins[k].op_str, k + 1 == cnt ? tag : "");
        done += ins[k].size;
    }
    if (cnt)
        cs_free(ins, cnt);
    if (done < n) {
        printf("    %08" PRIx64 ": ", addr + done);
        for (size_t j = done; j < n; j++)
            printf("%02x ", b[j]);
        printf("(capstone cannot decode)%s\n", tag);
    }
}

static void print_sequence(const struct dt_seq *s)
{
    uint64_t a = DT_CODE_ADDR + s->code_off;
    for (int k = 0; k < s->n; k++) {
        const struct dt_item *it = &s->item[k];
        char tag[160];
        snprintf(tag, sizeof(tag), "    <- [%s] %s", it->form >= 0 ? dt_forms[it->form]->group : "?",
                 it->form >= 0 ? dt_forms[it->form]->name : "?");
        /* relink the unit's bytes as they sit in the case */
        uint8_t b[DT_ITEM_MAX];
        memcpy(b, it->bytes, it->len);
        for (int r = 0; r < it->nreloc; r++) {
            int32_t d = (int32_t)(it->reloc[r].target - (a + it->reloc[r].end));
            memcpy(b + it->reloc[r].off, &d, 4);
        }
        unsigned main_end = it->main_len ? (unsigned)it->main_off + it->main_len : it->len;
        if (it->main_off)
            disasm_line(b, it->main_off, a, "    (setup)");
        disasm_line(b + it->main_off, main_end - it->main_off, a + it->main_off, tag);
        if (main_end < it->len)
            disasm_line(b + main_end, it->len - main_end, a + main_end, "    (after)");
        a += it->len;
    }
    printf("    %08" PRIx64 ": cc                                            int3 (end)\n", a);
}

static void print_state(const struct dt_state *st)
{
    for (int r = 0; r < 16; r++)
        printf("%s%-3s=%016" PRIx64, r % 4 ? "  " : "    ", reg_names[r], st->r[r]),
            fputs(r % 4 == 3 ? "\n" : "", stdout);
    printf("    rflags=%08" PRIx64 "\n", st->rflags);
}

/* Which Intel rules the host side ran with, when it did. */
static void print_fixups(const struct dt_case *c)
{
    for (int k = 0; dt_vendor_fixups && k < c->nfix; k++) {
        const struct vendor_diff *v = &vendor_diffs[c->fix[k].f.rule];
        printf("  host side at %#" PRIx64 ": Intel rule %s (%s)\n", c->fix[k].rip, v->name,
               v->how == VD_SUBST ? "other bytes" : "model");
    }
}

/* ---- running ---- */

static struct dt_case tc;
static struct dt_result nat_res, emu_res;
static long host_errors;
static char first_host_error[200];

/* Host-side runs that fail (the child dies, hangs or never reaches an
 * exception) are not compared.  One now and then is noise on a loaded
 * machine; more than this many fail the run, because a broken oracle
 * would otherwise leave nothing but skipped sequences. */
#define HOST_ERROR_LIMIT 5

/* Runs a sequence on both sides; 1 mismatch, 0 same, -1 not comparable. */
static int run_seq(const struct dt_seq *s, struct mismatch *mm)
{
    if (!gen_link(s, &tc))
        return -1;
    native_run(&tc, &nat_res);
    if (nat_res.status != DT_OK) {
        if (!host_errors++)
            snprintf(first_host_error, sizeof(first_host_error), "%s", nat_res.why);
        if (host_errors <= HOST_ERROR_LIMIT)
            fprintf(stderr, "difftest: %s\n", nat_res.why);
        return -1;
    }
    emu_run(&tc, &emu_res);
    if (compare(s, &tc, &nat_res, &emu_res, mm))
        return 1;
    /* Again, from the same state: the code is decoded and cached now, so
     * this run executes the threaded forms (cpu/thread.h) and their fast
     * paths, which the first run, decoding each instruction as it
     * reaches it, does not. */
    emu_run(&tc, &emu_res);
    return compare(s, &tc, &nat_res, &emu_res, mm) ? 1 : 0;
}

/* Drops units one at a time while the same kind of mismatch remains. */
static void minimize(struct dt_seq *s, const char *kind)
{
    static struct dt_seq cand;
    struct mismatch mm;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int k = s->n - 1; k >= 0; k--) {
            cand = *s;
            memmove(&cand.item[k], &cand.item[k + 1], sizeof(cand.item[0]) * (size_t)(cand.n - k - 1));
            cand.n--;
            if (run_seq(&cand, &mm) == 1 && !strcmp(mm.kind, kind)) {
                *s = cand;
                changed = true;
            }
        }
    }
}

/* The form responsible for a mismatch: the unit after which the two
 * sides first differ (the shortest prefix of the sequence that shows a
 * difference ends with it), which is the unit whose removal makes the
 * difference vanish; later units only carry the difference to where it
 * is compared.  A unit with a branch body is tried with its body turned
 * into NOPs, so a defect in the body is blamed on the body's form, not
 * on the branch.  *how says what was found.  Clobbers the last case run. */
static int responsible_form(const struct dt_seq *s, const char **how)
{
    static struct dt_seq cand;
    struct mismatch mm;
    int k = 0;
    for (; k < s->n; k++) {
        cand = *s;
        cand.n = k + 1;
        if (run_seq(&cand, &mm) == 1)
            break;
    }
    if (k == s->n) { /* only the whole sequence differs: should not happen */
        *how = "no shorter prefix differs; the last unit";
        return s->n > 0 ? s->item[s->n - 1].form : -1;
    }
    const struct dt_item *it = &s->item[k];
    if (it->body_form >= 0) {
        gen_item_drop_body(&cand.item[k]);
        if (run_seq(&cand, &mm) == 0) {
            *how = "the first unit after which the sides differ is a branch whose body this "
                   "is; with the body made NOPs they agree";
            return it->body_form;
        }
    }
    cand = *s;
    memmove(&cand.item[k], &cand.item[k + 1], sizeof(cand.item[0]) * (size_t)(cand.n - k - 1));
    cand.n--;
    *how = run_seq(&cand, &mm) == 0 ? "the first unit after which the sides differ; without it "
                                      "they agree"
                                    : "the first unit after which the sides differ; another "
                                      "difference remains without it";
    return it->form;
}

/* A fixed case's stated values against one side's result; what
 * differs goes into mm.  True when all hold. */
static bool check_expect(const struct dt_fixed *fx, const struct dt_case *c,
                         const struct dt_result *r, const char *side, struct mismatch *mm)
{
    bool ok = true;
    if (r->vector != 3 || r->out.rip != DT_CODE_ADDR + c->code_len) {
        addf(mm, "  %s: stopped with %s at %#" PRIx64 ", not at the end\n", side,
             vec_name(r->vector), r->out.rip);
        return false;
    }
    for (unsigned k = 0; k < sizeof(fx->expect) / sizeof(fx->expect[0]); k++) {
        const struct dt_expect *e = &fx->expect[k];
        uint64_t got;
        char what[40];
        if (e->kind == DT_EXP_END)
            break;
        if (e->kind == DT_EXP_REG) {
            got = r->out.r[e->where & 15];
            snprintf(what, sizeof(what), "%s", reg_names[e->where & 15]);
        } else if (e->kind == DT_EXP_MEM32) {
            uint32_t v;
            memcpy(&v, r->data + (e->where - DT_DATA_ADDR), 4);
            got = v;
            snprintf(what, sizeof(what), "dword %#" PRIx64, e->where);
        } else {
            got = r->out.rflags & DT_CMP_FLAGS;
            snprintf(what, sizeof(what), "rflags (compared bits)");
        }
        if (got != e->value) {
            addf(mm, "  %s: %s is %#" PRIx64 ", Intel gives %#" PRIx64 "\n", side, what, got,
                 e->value);
            ok = false;
        }
    }
    return ok;
}

/* Runs the fixed cases (fixed.c).  Prints a report for each that
 * differs and returns how many did; *ran counts those compared. */
static long run_fixed(const struct opts *o, long *ran)
{
    static struct dt_seq s;
    long bad = 0;
    *ran = 0;
    for (const struct dt_fixed *fx = dt_fixed; fx->name; fx++) {
        if (o->fixed_name && strcmp(o->fixed_name, fx->name))
            continue;
        int f = gen_form_index(fx->form);
        if (f < 0 || !gen_fixed_sequence(fx, &s)) {
            printf("FAIL fixed %s: cannot be built (form '%s')\n", fx->name, fx->form);
            bad++;
            continue;
        }
        if (o->group && strcmp(o->group, dt_forms[f]->group))
            continue;
        if (gen_excluded_why(f)) {
            printf("SKIP fixed %s: the host CPU lacks %s\n", fx->name, gen_excluded_why(f));
            continue;
        }
        int kn = fx->known ? dt_known_index(fx->known) : -1;
        if (fx->known && kn < 0) { /* a stale name would run the case unnoticed */
            printf("FAIL fixed %s: names known issue '%s', which main.c does not list\n",
                   fx->name, fx->known);
            bad++;
            continue;
        }
        if (kn >= 0 && dt_known[kn].active) {
            dt_known[kn].hits++;
            printf("SKIP fixed %s: known issue %s\n", fx->name, fx->known);
            continue;
        }
        struct mismatch mm;
        int r = run_seq(&s, &mm);
        if (r < 0)
            continue;
        ++*ran;
        if (r == 0)
            mm.text[0] = 0;
        bool host_ok = check_expect(fx, &tc, &nat_res, "host", &mm);
        bool emu_ok = check_expect(fx, &tc, &emu_res, "nest86", &mm);
        if (r == 0 && host_ok && emu_ok) {
            if (o->verbose || o->fixed_name) {
                print_sequence(&s);
                printf("  fixed case %s: the same result on both sides, Intel's\n", fx->name);
            }
            continue;
        }
        bad++;
        printf("mismatch: fixed case %s [%s] '%s'%s\n", fx->name, dt_forms[f]->group, fx->form,
               r == 0 ? " (the sides agree, but not with Intel's values)" : "");
        printf("  replay: build/difftest --fixed %s\n", fx->name);
        printf("  code:\n");
        print_sequence(&s);
        printf("  initial state:\n");
        print_state(&tc.in);
        print_fixups(&tc);
        fputs(mm.text, stdout);
    }
    return bad;
}

static uint64_t seq_seed(uint64_t seed, long k)
{
    uint64_t z = seed ^ ((uint64_t)k * 0xd1b54a32d192ed03ull) ^ 0x5851f42d4c957f2dull;
    z = (z ^ (z >> 31)) * 0x7fb5d329728ea185ull;
    z = (z ^ (z >> 27)) * 0x81dadef4bc2dd44dull;
    return z ^ (z >> 33);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: difftest [--seed N | --random-seed] [--count N] [--time SECONDS]\n"
               "                [--group NAME] [--only K] [--no-minimize] [--known-issues]\n"
               "                [--vendor-fixups | --no-vendor-fixups] [--fixed NAME | --no-fixed]\n"
               "                [--list] [-v]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        const char *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--seed") && v) {
            o->seed = strtoull(v, NULL, 0);
            k++;
        } else if (!strcmp(a, "--random-seed")) {
            o->random_seed = true;
        } else if (!strcmp(a, "--count") && v) {
            o->count = strtol(v, NULL, 0);
            k++;
        } else if (!strcmp(a, "--time") && v) {
            o->time_limit = strtod(v, NULL);
            k++;
        } else if (!strcmp(a, "--group") && v) {
            o->group = v;
            k++;
        } else if (!strcmp(a, "--only") && v) {
            o->only = strtol(v, NULL, 0);
            k++;
        } else if (!strcmp(a, "--minimize")) {
            o->minimize = true;
        } else if (!strcmp(a, "--no-minimize")) {
            o->minimize = false;
        } else if (!strcmp(a, "--known-issues")) {
            o->known_issues = true;
        } else if (!strcmp(a, "--fixed") && v) {
            o->fixed_name = v;
            k++;
        } else if (!strcmp(a, "--no-fixed")) {
            o->fixed = false;
        } else if (!strcmp(a, "--vendor-fixups")) {
            o->vendor_fixups = 1;
        } else if (!strcmp(a, "--no-vendor-fixups")) {
            o->vendor_fixups = 0;
        } else if (!strcmp(a, "--list")) {
            o->list = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "difftest: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* The Intel/AMD table names forms as the form tables do: a name that
 * matches none is a stale row or a renamed form, and the row would not
 * say what it covers. */
static bool vendor_table_ok(void)
{
    bool ok = true;
    for (int k = 0; k < VD_COUNT; k++)
        for (const char *const *f = vendor_diffs[k].forms; *f; f++)
            if (gen_form_index(*f) < 0) {
                fprintf(stderr,
                        "difftest: testsuite/vendor_diffs.h row %s names form '%s', which "
                        "forms_int.c and forms_simd.c do not have\n",
                        vendor_diffs[k].name, *f);
                ok = false;
            }
    return ok;
}

int main(int argc, char **argv)
{
    struct opts o = {.seed = 1, .count = 20000, .only = -1, .minimize = true, .max_reports = 3,
                     .vendor_fixups = -1, .fixed = true};
    if (parse(argc, argv, &o))
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    gen_init();
    if (!vendor_table_ok())
        return 2;
    if (o.fixed_name) {
        const struct dt_fixed *fx = dt_fixed;
        while (fx->name && strcmp(fx->name, o.fixed_name))
            fx++;
        if (!fx->name) {
            fprintf(stderr, "difftest: no fixed case '%s' (--list names them)\n", o.fixed_name);
            return 2;
        }
    }
    if (o.list) {
        for (int f = 0; f < dt_nforms; f++)
            printf("%-10s %s\n", dt_forms[f]->group, dt_forms[f]->name);
        for (const struct dt_fixed *fx = dt_fixed; fx->name; fx++)
            printf("%-10s %s (fixed case of '%s')\n", "fixed", fx->name, fx->form);
        for (int k = 0; k < VD_COUNT; k++) {
            printf("%-10s %s:", "vendor", vendor_diffs[k].name);
            for (const char *const *f = vendor_diffs[k].forms; *f; f++)
                printf("%s '%s'", f == vendor_diffs[k].forms ? "" : ",", *f);
            printf("\n");
        }
        return 0;
    }
    if (o.random_seed) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        o.seed = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
        if (o.count == 20000 && o.time_limit > 0)
            o.count = -1;
    }
    printf("difftest: seed %" PRIu64 " (replay with --seed %" PRIu64 ")\n", o.seed, o.seed);
    cs_ok = cs_open(CS_ARCH_X86, CS_MODE_64, &cs) == CS_ERR_OK;

    int ngroups = gen_group_count();
    for (int f = 0; f < dt_nforms; f++) {
        const char *need = dt_forms[f]->needs;
        if (need && !host_has(need)) {
            gen_set_excluded(f, need);
            printf("SKIP form %s: the host CPU lacks %s\n", dt_forms[f]->name, need);
        }
    }
    for (int k = 0; dt_known[k].name; k++) {
        dt_known[k].active = !o.known_issues;
        if (dt_known[k].active)
            printf("SKIP known-issue %s: %s\n", dt_known[k].name, dt_known[k].why);
    }
    bool intel = vd_host_is_intel();
    dt_vendor_fixups = o.vendor_fixups < 0 ? !intel : o.vendor_fixups == 1;
    printf("host: %s; Intel/AMD differences: %s\n", intel ? "Intel" : "not Intel",
           dt_vendor_fixups ? "Intel's rule applied on the host side (testsuite/vendor_diffs.h)"
                            : "the host's own result");
    if (native_start() || emu_start())
        return 2;

    long *runs = calloc((size_t)ngroups, sizeof(long));
    long *tried = calloc((size_t)ngroups, sizeof(long));
    long *fails = calloc((size_t)ngroups, sizeof(long));
    char (*first)[160] = calloc((size_t)ngroups, sizeof(*first));
    unsigned long *cover = calloc((size_t)dt_nforms, sizeof(unsigned long));
    static struct dt_seq s;
    static unsigned long outcomes[33]; /* by vector; [32]: reached the end */
    struct mismatch mm;
    double t0 = now();
    long done = 0, total_fail = 0, k0 = o.only >= 0 ? o.only : 0;

    /* the fixed cases first, in every run but a replay of one sequence */
    long fixed_ran = 0, fixed_bad = 0;
    bool fixed_on = o.only < 0 && (o.fixed || o.fixed_name);
    if (fixed_on)
        fixed_bad = run_fixed(&o, &fixed_ran);
    done += fixed_ran;

    for (long k = k0; !o.fixed_name; k++) {
        if (o.only >= 0 && k > o.only)
            break;
        if (o.only < 0 && o.count >= 0 && k >= o.count)
            break;
        if (o.time_limit > 0 && (k & 63) == 0 && now() - t0 > o.time_limit)
            break;
        int gi = (int)(k % ngroups);
        const char *focus = gen_group_name(gi);
        if (o.group && strcmp(o.group, focus)) {
            if (o.only < 0)
                continue;
            focus = o.group;
            for (int j = 0; j < ngroups; j++)
                if (!strcmp(gen_group_name(j), o.group))
                    gi = j;
        }
        gen_sequence(seq_seed(o.seed, k), focus, &s);
        tried[gi]++;
        int r = run_seq(&s, &mm);
        if (r < 0)
            continue;
        done++;
        runs[gi]++;
        if (nat_res.vector == 3 && nat_res.out.rip == DT_CODE_ADDR + tc.code_len)
            outcomes[32]++;
        else
            outcomes[nat_res.vector & 31]++;
        for (int j = 0; j < s.n; j++)
            cover[s.item[j].form]++;
        if (r == 0) {
            if (o.verbose && o.only >= 0) {
                print_sequence(&s);
                printf("  same result on both sides\n");
            }
            continue;
        }
        total_fail++;
        char kind[80];
        snprintf(kind, sizeof(kind), "%s", mm.kind);
        if (o.minimize)
            minimize(&s, kind);
        /* blame the group of the form responsible, not the group the
         * sequence focused on or whatever unit happens to come last */
        const char *how;
        int bf = responsible_form(&s, &how);
        run_seq(&s, &mm);
        int blame = gi;
        if (bf >= 0)
            for (int j = 0; j < ngroups; j++)
                if (!strcmp(gen_group_name(j), dt_forms[bf]->group))
                    blame = j;
        fails[blame]++;
        if (!first[blame][0])
            snprintf(first[blame], sizeof(first[blame]), "%s in '%s' (--seed %" PRIu64 " --only %ld)",
                     kind, bf >= 0 ? dt_forms[bf]->name : "?", o.seed, k);
        if (fails[blame] <= o.max_reports || o.only >= 0) {
            printf("mismatch: seed %" PRIu64 " sequence %ld (focus %s): %s\n", o.seed, k, focus, kind);
            printf("  replay: build/difftest --seed %" PRIu64 " --only %ld\n", o.seed, k);
            printf("  responsible: '%s' [%s] (%s)\n", bf >= 0 ? dt_forms[bf]->name : "?",
                   bf >= 0 ? dt_forms[bf]->group : "?", how);
            printf("  code%s:\n", o.minimize ? " (minimized)" : "");
            print_sequence(&s);
            printf("  initial state:\n");
            print_state(&tc.in);
            print_fixups(&tc);
            fputs(mm.text, stdout);
        }
    }
    double secs = now() - t0;

    for (int gi = 0; gi < ngroups; gi++) {
        const char *g = gen_group_name(gi);
        if (o.group && strcmp(o.group, g) && !fails[gi])
            continue; /* a failure blamed on another group is still shown */
        if (fails[gi])
            printf("FAIL %s: %ld sequences differ (%ld focused on this group); first: %s\n", g, fails[gi], runs[gi],
                   first[gi]);
        else if (runs[gi])
            printf("PASS %s\n", g);
        else if (tried[gi])
            printf("FAIL %s: none of its %ld sequences could be compared\n", g, tried[gi]);
        else if (o.only < 0 && !o.fixed_name)
            printf("SKIP %s: no sequence ran\n", g);
    }
    if (fixed_on) {
        if (fixed_bad)
            printf("FAIL fixed-cases: %ld of %ld differ (fixed.c; each is reported above)\n",
                   fixed_bad, fixed_ran);
        else if (fixed_ran)
            printf("PASS fixed-cases (%ld compared)\n", fixed_ran);
    }
    /* a run whose oracle failed, or that compared nothing, is no pass */
    bool run_bad = fixed_bad != 0;
    if (host_errors > HOST_ERROR_LIMIT) {
        printf("FAIL host-runs: %ld host-side runs failed (more than %d allowed); first: %s\n",
               host_errors, HOST_ERROR_LIMIT, first_host_error);
        run_bad = true;
    } else if (host_errors) {
        printf("PASS host-runs (%ld failed, at most %d allowed; first: %s)\n", host_errors,
               HOST_ERROR_LIMIT, first_host_error);
    } else {
        printf("PASS host-runs\n");
    }
    if (!done) {
        printf("FAIL compared: no sequence was compared\n");
        run_bad = true;
    }
    printf("coverage (units per form, over %ld sequences):\n", done);
    int col = 0;
    for (int f = 0; f < dt_nforms; f++) {
        if (gen_excluded_why(f))
            continue;
        char cell[64];
        snprintf(cell, sizeof(cell), "%s", dt_forms[f]->name);
        printf("  %-28s %7lu%s", cell, cover[f], ++col % 3 ? "" : "\n");
    }
    if (col % 3)
        printf("\n");
    printf("outcomes: %lu reached the end", outcomes[32]);
    for (int v = 0; v < 32; v++)
        if (outcomes[v])
            printf(", %lu %s", outcomes[v], vec_name(v));
    printf("\n");
    printf("Intel/AMD differences (testsuite/vendor_diffs.h; instances generated, and how "
           "the host gave Intel's result):\n");
    for (int k = 0; k < VD_COUNT; k++) {
        const struct vendor_diff *v = &vendor_diffs[k];
        const char *how = v->how == VD_KEPT_OUT ? "kept out"
                          : dt_vendor_fixups    ? v->how == VD_SUBST ? "substituted" : "model"
                                                : "native";
        printf("  %-24s %7lu  %-11s  %s\n", v->name, dt_vendor_hits[k], how, v->cases);
    }
    for (int k = 0; dt_known[k].name; k++)
        if (dt_known[k].active)
            printf("known issue %s: %lu cases kept out\n", dt_known[k].name, dt_known[k].hits);
    printf("difftest: %ld sequences, %ld mismatches, %ld host errors, %.1f s, seed %" PRIu64 "\n",
           done, total_fail, host_errors, secs, o.seed);
    native_stop();
    return total_fail || run_bad ? 1 : 0;
}
