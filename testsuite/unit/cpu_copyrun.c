/* testsuite/unit/cpu_copyrun.c — the run copier (cpu/copyrun.c) on
 * handlers written here in assembly, so that each relocation case is
 * present whatever the compiler makes of nest86's own handlers: a
 * short branch inside the handler, a branch back, a conditional jump
 * to another function, a call, a RIP-relative load, %rsi stepped with
 * ADD, SUB and LEA (through a callee-saved register across a call), a
 * two-entry handler, and a dispatch whose %rsi the copier cannot prove.
 * A copied run must leave exactly what the threaded entries leave, the
 * entries must be back on their handlers after the arena is emptied,
 * and a handler the copier cannot take stays threaded. */
#include <string.h>

#include "cpu/copyrun.h"
#include "cpu/icache.h"
#include "cpu/insn.h"
#include "testsuite/unit/unit.h"

/* what the handlers work on, passed where the CPU would be (%rdi) */
struct fake {
    uint64_t a, b, c, d, e, calls, poison;
};

uint64_t copyrun_test_const = 0x1234;
uint32_t copyrun_test_count;

__attribute__((used)) void copyrun_test_helper(struct fake *f)
{
    f->calls++;
}

/* Each handler: name, then its body; all end like nest86's threaded
 * entries, in a jump through the next entry's 'run' (8(%rsi)). */
#define HANDLER(name, body)                                                              \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n" #name ":\n" body     \
            "\n.size " #name ", .-" #name "\n");                                          \
    void name(struct cpu *c, const struct insn *i);

/* a += 1 */
HANDLER(t_inc_a, "addq $1, 0(%rdi)\n add $0x40, %rsi\n jmp *8(%rsi)")
/* if (b) c += 10: a short branch forward inside the handler */
HANDLER(t_cond, "cmpq $0, 8(%rdi)\n je 1f\n addq $10, 16(%rdi)\n1: add $0x40, %rsi\n"
                "jmp *8(%rsi)")
/* calls the C helper, keeping i in %rbx across the call */
HANDLER(t_call, "push %rbx\n push %r12\n sub $8, %rsp\n mov %rsi, %rbx\n mov %rdi, %r12\n"
                "call copyrun_test_helper\n mov %r12, %rdi\n lea 0x40(%rbx), %rsi\n"
                "add $8, %rsp\n pop %r12\n pop %rbx\n jmp *8(%rsi)")
/* d += copyrun_test_const; copyrun_test_count += 1: RIP-relative
 * operands, the second with an immediate after its displacement */
HANDLER(t_riprel, "mov copyrun_test_const(%rip), %rax\n add %rax, 24(%rdi)\n"
                  "addl $1, copyrun_test_count(%rip)\n add $0x40, %rsi\n jmp *8(%rsi)")
/* a >= 5: a conditional jump to another function, which finishes the
 * entry and goes on threaded */
HANDLER(t_slow_ext, "addq $100, 32(%rdi)\n add $0x40, %rsi\n jmp *8(%rsi)")
HANDLER(t_slow, "cmpq $5, 0(%rdi)\n jae t_slow_ext\n add $0x40, %rsi\n jmp *8(%rsi)")
/* a branch back inside the handler, two dispatches */
HANDLER(t_back, "jmp 2f\n1: addq $1, 24(%rdi)\n lea 0x40(%rsi), %rsi\n jmp *8(%rsi)\n"
                "2: cmpq $0, 8(%rdi)\n jne 1b\n add $0x40, %rsi\n jmp *8(%rsi)")
/* two entries at once (the next one never runs): %rsi by SUB of -128 */
HANDLER(t_pair, "addq $7, 0(%rdi)\n sub $-128, %rsi\n jmp *8(%rsi)")
/* skips the next entry when b is set: that dispatch (%rsi two entries
 * on) must not become the fall into the next copy */
HANDLER(t_skip_if_b, "cmpq $0, 8(%rdi)\n jne 1f\n add $0x40, %rsi\n jmp *8(%rsi)\n"
                     "1: add $0x80, %rsi\n jmp *8(%rsi)")
/* calls a helper that steps %rsi one entry on (no ABI allows relying
 * on %rsi after a call; this one makes the copier's assumption that a
 * call may change it visible): the dispatch after it skips an entry */
HANDLER(t_step_helper, "add $0x40, %rsi\n ret")
HANDLER(t_call_skip, "sub $8, %rsp\n call t_step_helper\n add $8, %rsp\n add $0x40, %rsi\n"
                     "jmp *8(%rsi)")
HANDLER(t_mark_e, "addq $1000, 32(%rdi)\n add $0x40, %rsi\n jmp *8(%rsi)")
/* e += fields of the entry: the byte at 0x1e zero-extended, the 8
 * bytes at 0x30, the 4 at 0x28 sign-extended, the byte at 0x1f
 * sign-extended to 32 bits and the 2 at 0x10, read through %rsi,
 * through %rbx and through %rsi stepped past the entry; the copier
 * holds them as immediates */
HANDLER(t_fields, "push %rbx\n mov %rsi, %rbx\n movzbl 0x1e(%rsi), %eax\n add %rax, 32(%rdi)\n"
                  "mov 0x30(%rbx), %rcx\n add %rcx, 32(%rdi)\n movslq 0x28(%rsi), %rdx\n"
                  "add %rdx, 32(%rdi)\n movsbl 0x1f(%rbx), %r9d\n add %r9, 32(%rdi)\n"
                  "add $0x40, %rsi\n movzwl -0x30(%rsi), %r10d\n add %r10, 32(%rdi)\n"
                  "pop %rbx\n jmp *8(%rsi)")
/* e += the next entry's byte at 0x1e: a field of another entry, which
 * may yet change (a stop entry becomes an instruction), is read */
HANDLER(t_peek_next, "movzbl 0x5e(%rsi), %eax\n add %rax, 32(%rdi)\n add $0x40, %rsi\n"
                     "jmp *8(%rsi)")
/* f[rm] += f[reg] as MOV r64, r/m64 does with guest registers: the
 * register numbers become displacements and their moves vanish; the
 * same through %r12 (a base that needs a SIB byte) with a displacement;
 * and a number used both as an index and as data (its move stays) */
HANDLER(t_regs, "movzbl 0x1e(%rsi), %eax\n add $0x40, %rsi\n mov (%rdi,%rax,8), %rdx\n"
                "movzbl -0x21(%rsi), %eax\n add %rdx, (%rdi,%rax,8)\n jmp *8(%rsi)")
HANDLER(t_regs_r12, "push %r12\n mov %rdi, %r12\n movzbl 0x1e(%rsi), %r8d\n"
                    "mov 8(%r12,%r8,8), %rdx\n movzbl 0x1f(%rsi), %ecx\n"
                    "add %rcx, (%r12,%rcx,8)\n addq $3, (%rdi,%rcx,8)\n pop %r12\n"
                    "add $0x40, %rsi\n jmp *8(%rsi)")
/* e += f[reg], the number's register written by the load itself: its
 * move dies too */
HANDLER(t_load_over, "movzbl 0x1e(%rsi), %eax\n mov (%rdi,%rax,8), %rax\n add %rax, 32(%rdi)\n"
                     "add $0x40, %rsi\n jmp *8(%rsi)")
/* e += b << rm: a shift by CL whose count is a field becomes a shift by
 * an immediate, and the moves into %ecx die (one overwritten, one at
 * the dispatch) */
HANDLER(t_shift, "movzbl 0x1f(%rsi), %ecx\n mov 8(%rdi), %rax\n shl %cl, %rax\n add %rax, 32(%rdi)\n"
                 "movzbl 0x1e(%rsi), %ecx\n add $0x40, %rsi\n jmp *8(%rsi)")
/* must never run: the second entry of t_pair */
HANDLER(t_poison, "movq $1, 48(%rdi)\n add $0x40, %rsi\n jmp *8(%rsi)")
/* %rsi through XCHG, which the copier does not follow: the dispatch
 * stays a jump through the next entry */
HANDLER(t_unknown, "xchg %rsi, %rax\n xchg %rax, %rsi\n addq $2, 0(%rdi)\n add $0x40, %rsi\n"
                   "jmp *8(%rsi)")
/* longer than the copier takes */
HANDLER(t_long, ".fill 700, 1, 0x90\n add $0x40, %rsi\n jmp *8(%rsi)")
/* the stop entry: back to the caller */
HANDLER(t_stop, "ret")

COPYRUN_REGISTER(t_inc_a, 1);
COPYRUN_REGISTER(t_cond, 1);
COPYRUN_REGISTER(t_call, 1);
COPYRUN_REGISTER(t_riprel, 1);
COPYRUN_REGISTER(t_slow, 1);
COPYRUN_REGISTER(t_back, 1);
COPYRUN_REGISTER(t_pair, 2);
COPYRUN_REGISTER(t_unknown, 1);
COPYRUN_REGISTER(t_skip_if_b, 1);
COPYRUN_REGISTER(t_mark_e, 1);
COPYRUN_REGISTER(t_call_skip, 1);
COPYRUN_REGISTER(t_fields, 1);
COPYRUN_REGISTER(t_peek_next, 1);
COPYRUN_REGISTER(t_regs, 1);
COPYRUN_REGISTER(t_regs_r12, 1);
COPYRUN_REGISTER(t_load_over, 1);
COPYRUN_REGISTER(t_shift, 1);
COPYRUN_REGISTER(t_long, 1);

static struct icache *ic;

/* Fills block b with the handlers in 'h' and the stop entry. */
static void fill(struct block *b, insn_fn const *h, unsigned n)
{
    icache_reserve(ic, b, n + 1, 0);
    memset(b->insn, 0, (n + 1) * sizeof(struct insn));
    for (unsigned k = 0; k < n; k++)
        b->insn[k].run = h[k];
    b->insn[n].run = t_stop;
    b->n = (uint8_t)n;
    b->code_size = 8;
    b->copied_n = 0;
}

static void run(struct block *b, struct fake *f)
{
    b->insn[0].run((struct cpu *)f, &b->insn[0]);
}

static const insn_fn mixed[] = {t_inc_a, t_cond,   t_call,  t_riprel,    t_slow,
                                t_back,  t_pair,   t_poison, t_skip_if_b, t_mark_e,
                                t_call_skip, t_mark_e, t_unknown, t_inc_a, t_slow,
                                t_inc_a};
#define MIXED_N (sizeof mixed / sizeof mixed[0])

static bool same(const struct fake *x, const struct fake *y)
{
    return memcmp(x, y, sizeof(*x)) == 0;
}

/* The copied run does what the threaded entries do, for both ways of
 * each branch inside a handler and of the jump to another function. */
static void copy_matches_threaded(void)
{
    struct copyrun *cr = copyrun_new(1u << 20);
    UNIT_CHECK(cr != NULL);
    struct block *b = &ic->blocks[5];
    fill(b, mixed, MIXED_N);
    static const struct fake starts[] = {
        {.a = 0, .b = 0}, {.a = 3, .b = 1}, {.a = 9, .b = 0}, {.a = 100, .b = 7},
    };
    for (unsigned s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        struct fake want = starts[s], got = starts[s];
        for (unsigned k = 0; k < MIXED_N; k++)
            b->insn[k].run = mixed[k];
        b->copied_n = 0;
        uint32_t count = copyrun_test_count;
        run(b, &want);
        UNIT_CHECK(copyrun_test_count == count + 1);
        copyrun_block(cr, ic, b);
        UNIT_CHECKF(b->insn[0].run != mixed[0], "start %u: the run was not copied", s);
        UNIT_CHECK(copyrun_handler_of(cr, &b->insn[0]) == (const void *)mixed[0]);
        run(b, &got);
        UNIT_CHECKF(copyrun_test_count == count + 2, "the count moved by %u",
                    copyrun_test_count - count - 1);
        UNIT_CHECKF(same(&want, &got),
                    "start %u: threaded a=%llu c=%llu d=%llu e=%llu calls=%llu, copied a=%llu "
                    "c=%llu d=%llu e=%llu calls=%llu",
                    s, (unsigned long long)want.a, (unsigned long long)want.c,
                    (unsigned long long)want.d, (unsigned long long)want.e,
                    (unsigned long long)want.calls, (unsigned long long)got.a,
                    (unsigned long long)got.c, (unsigned long long)got.d,
                    (unsigned long long)got.e, (unsigned long long)got.calls);
        UNIT_CHECK(want.poison == 0 && want.calls == 1);
    }
    /* the whole block but the XCHG handler's dispatch is one run */
    struct copyrun_stats st;
    copyrun_get_stats(cr, &st);
    UNIT_CHECKF(st.runs == 4 && st.entries == 4 * MIXED_N, "%llu runs, %llu entries",
                (unsigned long long)st.runs, (unsigned long long)st.entries);
    copyrun_free(cr);
}

/* A dispatch with %rsi past the entry becomes the fall into the next
 * copy (three bytes fewer); one the copier cannot prove stays; short
 * branches become their long forms; too long a handler is refused. */
static void template_shapes(void)
{
    struct copyrun *cr = copyrun_new(1u << 20);
    UNIT_CHECK(cr != NULL);
    /* addq $1,(%rdi) is 4 bytes; add $0x40,%rsi 4; the jump dropped */
    UNIT_CHECKF(copyrun_template_len(cr, (const void *)t_inc_a) == 8, "t_inc_a: %d",
                copyrun_template_len(cr, (const void *)t_inc_a));
    /* two 2-byte XCHGs, addq 4, add 4, and the 3-byte dispatch kept */
    int u = copyrun_template_len(cr, (const void *)t_unknown);
    UNIT_CHECKF(u == 2 + 2 + 4 + 4 + 3, "t_unknown: %d", u);
    /* cmpq 5, je rel8 -> rel32 (6), addq 5, add 4: the jump dropped */
    UNIT_CHECKF(copyrun_template_len(cr, (const void *)t_cond) == 5 + 6 + 5 + 4, "t_cond: %d",
                copyrun_template_len(cr, (const void *)t_cond));
    UNIT_CHECK(copyrun_template_len(cr, (const void *)t_long) == -1);
    UNIT_CHECK(copyrun_template_len(cr, (const void *)t_stop) == -1); /* not registered */
    copyrun_free(cr);
}

/* A run that does not fit sets the arena to be emptied; the next copy
 * empties it first, and every entry is back on its own handler. */
static void full_arena_empties(void)
{
    struct copyrun *cr = copyrun_new(1500); /* room for one block of the two */
    UNIT_CHECK(cr != NULL);
    struct block *a = &ic->blocks[7], *b = &ic->blocks[8];
    insn_fn many[40];
    for (unsigned k = 0; k < 40; k++)
        many[k] = k % 2 ? t_inc_a : t_call;
    fill(a, many, 40);
    copyrun_block(cr, ic, a);
    UNIT_CHECK(a->insn[0].run != many[0]);
    fill(b, many, 40);
    copyrun_block(cr, ic, b); /* no room: b stays threaded */
    UNIT_CHECK(b->insn[0].run == many[0]);
    struct copyrun_stats st;
    copyrun_get_stats(cr, &st);
    UNIT_CHECK(st.flushes == 0 && st.runs == 1);
    copyrun_block(cr, ic, b); /* empties the arena, then copies b */
    copyrun_get_stats(cr, &st);
    UNIT_CHECKF(st.flushes == 1 && st.runs == 2, "%llu flushes, %llu runs",
                (unsigned long long)st.flushes, (unsigned long long)st.runs);
    UNIT_CHECK(a->insn[0].run == many[0] && a->copied_n == 0);
    UNIT_CHECK(b->insn[0].run != many[0]);
    struct fake f = {0};
    run(a, &f);
    run(b, &f);
    UNIT_CHECK(f.a == 40 && f.calls == 40);
    copyrun_free(cr);
}

/* Fields of the copy's own entries are read once, when it is made
 * (zero- and sign-extended as the handler's loads do); a field of an
 * entry after the handler's own is read each time it runs. */
static void fields_become_immediates(void)
{
    struct copyrun *cr = copyrun_new(1u << 20);
    UNIT_CHECK(cr != NULL);
    struct block *b = &ic->blocks[11];
    insn_fn h[4] = {t_fields, t_fields, t_peek_next, t_inc_a};
    fill(b, h, 4);
    for (unsigned k = 0; k < 4; k++) {
        b->insn[k].reg = (uint8_t)(0x90 + k);   /* 0x1e */
        b->insn[k].rm = (uint8_t)(0xf0 - k);    /* 0x1f: negative as a signed byte */
        b->insn[k].op = (uint16_t)(0x8100 + k); /* 0x10 */
        b->insn[k].disp = -12345 - (int64_t)k;  /* 0x28 */
        b->insn[k].imm = 0x123456789abcdef0ull + k; /* 0x30 */
    }
    struct fake want = {0}, got = {0};
    run(b, &want);
    copyrun_block(cr, ic, b);
    UNIT_CHECK(b->insn[0].run != h[0]);
    run(b, &got);
    UNIT_CHECKF(want.e == got.e, "threaded e=%#llx, copied e=%#llx", (unsigned long long)want.e,
                (unsigned long long)got.e);
    /* the loads became moves of immediates: movzbl (4 bytes) -> mov
     * $imm32 (5); mov 8 bytes (4) -> movabs (10); movslq (4) -> mov
     * $simm32, %r64 (7); movsbl into %r9d (5) -> mov $imm32 (6); movzwl
     * into %r10d (5) -> mov $imm32 (6) */
    int len = copyrun_template_len(cr, (const void *)t_fields);
    UNIT_CHECKF(len == 1 + 3 + 5 + 4 + 10 + 4 + 7 + 4 + 6 + 4 + 4 + 6 + 4 + 1, "t_fields: %d",
                len);
    /* the entry after t_peek_next changes: the copy must see it */
    b->insn[3].reg = 0x7f;
    for (unsigned k = 0; k < 4; k++)
        b->insn[k].run = h[k];
    struct fake again_t = {0}, again_c = {0};
    run(b, &again_t);
    b->copied_n = 0;
    copyrun_block(cr, ic, b);
    b->insn[3].reg = 0x11;
    again_t.e += 0x11 - 0x7f;
    run(b, &again_c);
    UNIT_CHECKF(again_t.e == again_c.e, "the copy read the next entry's old field: %#llx, %#llx",
                (unsigned long long)again_t.e, (unsigned long long)again_c.e);
    copyrun_free(cr);
}

/* Register numbers used as indexes become displacements, counts of
 * shifts by CL immediates, and their moves go when nothing else reads
 * them. */
static void register_numbers_become_displacements(void)
{
    struct copyrun *cr = copyrun_new(1u << 20);
    UNIT_CHECK(cr != NULL);
    struct block *b = &ic->blocks[12];
    insn_fn h[5] = {t_regs, t_regs_r12, t_load_over, t_shift, t_regs_r12};
    static const uint8_t regno[5][2] = {{0, 2}, {1, 3}, {4, 0}, {1, 70}, {2, 5}}; /* reg, rm */
    fill(b, h, 5);
    for (unsigned k = 0; k < 5; k++) {
        b->insn[k].reg = regno[k][0];
        b->insn[k].rm = regno[k][1];
    }
    struct fake want = {1, 20, 300, 4000, 50000, 600000, 7000000}, got = want;
    run(b, &want);
    copyrun_block(cr, ic, b);
    UNIT_CHECK(b->insn[0].run != h[0]);
    run(b, &got);
    UNIT_CHECKF(same(&want, &got), "threaded %llu %llu %llu %llu %llu %llu, copied %llu %llu %llu %llu %llu %llu",
                (unsigned long long)want.a, (unsigned long long)want.b, (unsigned long long)want.c,
                (unsigned long long)want.d, (unsigned long long)want.e,
                (unsigned long long)want.calls, (unsigned long long)got.a,
                (unsigned long long)got.b, (unsigned long long)got.c, (unsigned long long)got.d,
                (unsigned long long)got.e, (unsigned long long)got.calls);
    /* t_regs: both MOVZX gone, mov disp32(%rdi), %rdx (7), add %rdx,
     * disp32(%rdi) (7), add $0x40, %rsi (4) */
    int len = copyrun_template_len(cr, (const void *)t_regs);
    UNIT_CHECKF(len == 7 + 7 + 4, "t_regs: %d", len);
    /* t_regs_r12: push (2), mov (3), the %r8d move gone, mov
     * disp32(%r12) (8: SIB), mov $imm32, %ecx kept (5: %rcx is data
     * too), add %rcx, disp32(%r12) (8), addq $3, disp32(%rdi) (8), pop
     * (2), add (4) */
    len = copyrun_template_len(cr, (const void *)t_regs_r12);
    UNIT_CHECKF(len == 2 + 3 + 8 + 5 + 8 + 8 + 2 + 4, "t_regs_r12: %d", len);
    /* t_load_over: the move gone, mov disp32(%rdi), %rax (7), add (4),
     * add (4) */
    len = copyrun_template_len(cr, (const void *)t_load_over);
    UNIT_CHECKF(len == 7 + 4 + 4, "t_load_over: %d", len);
    /* t_shift: both moves gone, mov (4), shl $imm8 (4), add (4), add (4) */
    len = copyrun_template_len(cr, (const void *)t_shift);
    UNIT_CHECKF(len == 4 + 4 + 4 + 4, "t_shift: %d", len);
    copyrun_free(cr);
}

/* Copying a block again after it grew replaces the run; one that did
 * not change keeps its copy. */
static void growth_recopies(void)
{
    struct copyrun *cr = copyrun_new(1u << 20);
    UNIT_CHECK(cr != NULL);
    struct block *b = &ic->blocks[9];
    insn_fn h[6] = {t_inc_a, t_inc_a, t_inc_a, t_inc_a, t_inc_a, t_inc_a};
    fill(b, h, 3);
    copyrun_block(cr, ic, b);
    insn_fn first = b->insn[0].run;
    copyrun_block(cr, ic, b);
    UNIT_CHECK(b->insn[0].run == first);
    b->insn[3].run = t_inc_a;
    b->insn[4].run = t_inc_a;
    b->insn[5].run = t_stop;
    b->n = 5;
    copyrun_block(cr, ic, b);
    UNIT_CHECK(b->insn[0].run != first);
    struct fake f = {0};
    run(b, &f);
    UNIT_CHECK(f.a == 5);
    copyrun_free(cr);
}

int main(void)
{
    ic = icache_alloc();
    if (!ic)
        return 1;
    UNIT_RUN(template_shapes);
    UNIT_RUN(copy_matches_threaded);
    UNIT_RUN(full_arena_empties);
    UNIT_RUN(growth_recopies);
    UNIT_RUN(fields_become_immediates);
    UNIT_RUN(register_numbers_become_displacements);
    icache_free(ic);
    return unit_done();
}
