/*
 * lm64_smc: self-modifying and cross-modifying code (SDM Vol. 3A 11.6):
 * a store to code that has already run must be seen the next time it
 * runs, and a store to the very next instruction must be seen before it
 * executes (same-thread SMC needs no serialisation).  nest86 caches
 * decoded blocks, so these exercise its invalidation.
 */
#include "rt.h"

static uint8_t code[4096] __attribute__((aligned(4096)));
static uint8_t code2[4096] __attribute__((aligned(4096)));
static uint8_t cross[8192] __attribute__((aligned(4096)));

typedef uint64_t (*fn_t)(void);

/* mov eax, imm32 ; ret */
static void emit_return(uint8_t *p, uint32_t value)
{
    p[0] = 0xb8;
    p[1] = (uint8_t)value;
    p[2] = (uint8_t)(value >> 8);
    p[3] = (uint8_t)(value >> 16);
    p[4] = (uint8_t)(value >> 24);
    p[5] = 0xc3;
}

static void test_rewrite_then_call(void)
{
    fn_t f = (fn_t)(uintptr_t)code;
    emit_return(code, 1);
    ASSERT_EQ(f(), 1);
    ASSERT_EQ(f(), 1); /* now cached */
    emit_return(code, 2);
    ASSERT_EQ(f(), 2);
    code[1] = 3; /* change only the immediate */
    ASSERT_EQ(f(), 3);
}

/* The code patches its own next instruction: the store lands in the
 * immediate of the MOV that follows it in the same straight-line run. */
static void test_patch_next_instruction(void)
{
    uint8_t *p = code + 64;
    /* mov byte [rip+1], 0x77 ; mov eax, 0x11 ; ret
     * C6 05 disp32 imm8: the disp32 points at the MOV's immediate byte */
    p[0] = 0xc6;
    p[1] = 0x05;
    p[2] = 0x01; /* disp32 = 1: RIP after this insn (p+7) + 1 = p+8 */
    p[3] = p[4] = p[5] = 0;
    p[6] = 0x77;
    p[7] = 0xb8; /* mov eax, 0x11 */
    p[8] = 0x11;
    p[9] = p[10] = p[11] = 0;
    p[12] = 0xc3;
    fn_t f = (fn_t)(uintptr_t)p;
    ASSERT_EQ(f(), 0x77); /* the patched immediate is what executes */
    p[8] = 0x11;
    ASSERT_EQ(f(), 0x77); /* and again after the code was reset and re-cached */
}

/* As above, but the next instruction is already decoded and cached when
 * the store hits it: the first call stores nothing (REP STOSB with
 * RCX = 0), so the whole straight-line run is cached; the second call's
 * store must still be seen by the MOV right after it. */
typedef uint64_t (*fn2_t)(uint64_t count, uint64_t value);

static void test_patch_cached_next_instruction(void)
{
    static const uint8_t body[] = {
        0x48, 0x89, 0xf9,                   /* mov rcx, rdi */
        0x89, 0xf0,                         /* mov eax, esi */
        0x48, 0x8d, 0x3d, 0x03, 0, 0, 0,    /* lea rdi, [rip+3]: the imm32 below */
        0xf3, 0xaa,                         /* rep stosb */
        0xb8, 0x11, 0, 0, 0,                /* mov eax, 0x11 */
        0xc3,                               /* ret */
    };
    uint8_t *p = code + 256;
    for (unsigned k = 0; k < sizeof(body); k++)
        p[k] = body[k];
    fn2_t f = (fn2_t)(uintptr_t)p;
    ASSERT_EQ(f(0, 0x99), 0x11); /* nothing stored; everything now decoded */
    ASSERT_EQ(f(0, 0x99), 0x11);
    ASSERT_EQ(f(1, 0x99), 0x99); /* the store patched the cached MOV */
}

/* The same bytes reached through a second linear alias: the patch made
 * through one mapping is seen through the other (the caches are keyed by
 * physical location). */
static void test_alias_mapping(void)
{
    uint64_t alias = 0x0000004000000000ull; /* an unused 512 GiB slot */
    rt_map_4k(alias, (uint64_t)(uintptr_t)code, PTE_P | PTE_W);
    fn_t f = (fn_t)(uintptr_t)code, g = (fn_t)alias;
    emit_return(code, 5);
    ASSERT_EQ(g(), 5);
    ((volatile uint8_t *)alias)[1] = 6; /* write through the alias */
    ASSERT_EQ(f(), 6);
    ASSERT_EQ(g(), 6);
}

/* Execution that has gone from one block to another remembers the way
 * (block links, followed without a fresh lookup).  The successor is
 * rewritten between runs and the way there is the same each time: from
 * one call site in a loop, and by a JMP on another page, which the
 * store does not touch. */
static void test_linked_successor(void)
{
    fn_t f = (fn_t)(uintptr_t)(code + 512);
    uint64_t seen[4];
    for (unsigned k = 0; k < 4; k++) {
        emit_return(code + 512, 100 + k);
        seen[k] = f(); /* one call site: the same link every time */
    }
    for (unsigned k = 0; k < 4; k++)
        ASSERT_EQ(seen[k], 100 + k);

    /* code2: jmp rel32 to code + 768 */
    int32_t rel = (int32_t)((code + 768) - (code2 + 5));
    code2[0] = 0xe9;
    for (unsigned b = 0; b < 4; b++)
        code2[1 + b] = (uint8_t)((uint32_t)rel >> (8 * b));
    fn_t g = (fn_t)(uintptr_t)code2;
    for (unsigned k = 0; k < 4; k++) {
        emit_return(code + 768, 200 + k);
        seen[k] = g(); /* code2's block links to code + 768 */
    }
    for (unsigned k = 0; k < 4; k++)
        ASSERT_EQ(seen[k], 200 + k);
}

/* A RET into code rewritten since it last returned there: code + 1024
 * calls a helper on code2 (a bare RET) and then returns an immediate,
 * which is rewritten between runs.  The helper's RET reaches the same
 * return address every time, the way a function returns to one of
 * its callers; that way must not lead into the old decode.
 *   code + 1024: call code2 + 1024; mov eax, imm32; ret */
static void test_return_into_rewritten_code(void)
{
    uint8_t *p = code + 1024;
    int32_t rel = (int32_t)((code2 + 1024) - (p + 5));
    p[0] = 0xe8;
    for (unsigned b = 0; b < 4; b++)
        p[1 + b] = (uint8_t)((uint32_t)rel >> (8 * b));
    code2[1024] = 0xc3;
    fn_t f = (fn_t)(uintptr_t)p;
    uint64_t seen[4];
    for (unsigned k = 0; k < 4; k++) {
        emit_return(p + 5, 300 + k);
        seen[k] = f();
        seen[k] += f() == seen[k] ? 0 : 1000; /* and once more, from the cache */
    }
    for (unsigned k = 0; k < 4; k++)
        ASSERT_EQ(seen[k], 300 + k);
}

/* A straight run longer than one cached block (41 instructions) that
 * ends in an instruction whose bytes cross onto the next page, run
 * several times so every part of it is cached and linked; then the
 * crossing instruction's immediate is rewritten on the second page.
 *   xor eax, eax; 40 x inc eax; add eax, imm32 (crosses); ret */
typedef uint32_t (*fn32_t)(void);

static void test_full_block_then_page_crossing(void)
{
    uint8_t *p = cross + 4094 - 2 - 80;
    unsigned k = 0;
    p[k++] = 0x31; /* xor eax, eax */
    p[k++] = 0xc0;
    for (unsigned n = 0; n < 40; n++) {
        p[k++] = 0xff; /* inc eax */
        p[k++] = 0xc0;
    }
    ASSERT_EQ((uint64_t)(uintptr_t)(p + k), (uint64_t)(uintptr_t)(cross + 4094));
    p[k++] = 0x05; /* add eax, imm32: opcode and one byte on the first page */
    p[k++] = 0x00;
    p[k++] = 0x01; /* the rest on the second */
    p[k++] = 0x00;
    p[k++] = 0x00;
    p[k++] = 0xc3; /* ret */
    fn32_t f = (fn32_t)(uintptr_t)(cross + 4094 - 2 - 80);
    for (unsigned n = 0; n < 3; n++)
        ASSERT_EQ(f(), 40 + 0x100);
    cross[4096] = 0x02; /* imm32 byte 1, on the second page */
    for (unsigned n = 0; n < 3; n++)
        ASSERT_EQ(f(), 40 + 0x200);
}

void test_main(void)
{
    RUN_TEST(test_rewrite_then_call);
    RUN_TEST(test_patch_next_instruction);
    RUN_TEST(test_patch_cached_next_instruction);
    RUN_TEST(test_alias_mapping);
    RUN_TEST(test_linked_successor);
    RUN_TEST(test_return_into_rewritten_code);
    RUN_TEST(test_full_block_then_page_crossing);
}
