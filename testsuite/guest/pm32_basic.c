/*
 * pm32_basic: 32-bit protected-mode sanity: arithmetic and its flags,
 * shifts, multiply/divide, BCD, string instructions, CALL/RET/ENTER.
 * Expected values follow the instruction pages of SDM Vol. 2 and the
 * EFLAGS definitions of SDM Vol. 1, 3.4.3.
 */
#include "rt.h"

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define STATUS (CF | PF | AF | ZF | SF | OF)

/* Run "insn src, dst" on 32-bit registers; give the result and the six
   status flags. `pre` runs first (e.g. "stc" to feed ADC/SBB). */
#define ALU(pre, insn, a, b, res)                                          \
    ({                                                                     \
        uint32_t f_, r_ = (a);                                             \
        __asm__ volatile(pre "\n\t" insn " %2, %0\n\tpushf\n\tpop %1"     \
                         : "+r"(r_), "=&r"(f_)                             \
                         : "ri"((uint32_t)(b))                             \
                         : "cc");                                          \
        (res) = r_;                                                        \
        f_ & STATUS;                                                       \
    })

static void test_add_sub_flags(void)
{
    uint32_t r;
    /* 7FFFFFFFH + 1: signed overflow, carry out of bit 3, low byte 00H
       has even parity. */
    ASSERT_EQ(ALU("", "addl", 0x7FFFFFFFu, 1, r), OF | SF | AF | PF);
    ASSERT_EQ(r, 0x80000000u);
    ASSERT_EQ(ALU("", "addl", 0xFFFFFFFFu, 1, r), CF | ZF | AF | PF);
    ASSERT_EQ(r, 0);
    /* 0 - 1 borrows (CF) out of bit 31 and bit 3 (AF). */
    ASSERT_EQ(ALU("", "subl", 0, 1, r), CF | SF | AF | PF);
    ASSERT_EQ(r, 0xFFFFFFFFu);
    ASSERT_EQ(ALU("", "subl", 0x80000000u, 1, r), OF | AF | PF);
    ASSERT_EQ(r, 0x7FFFFFFFu);
    /* ADC/SBB add/subtract CF (set by STC). */
    ASSERT_EQ(ALU("stc", "adcl", 5, 6, r), PF);
    ASSERT_EQ(r, 12);
    ASSERT_EQ(ALU("stc", "sbbl", 10, 3, r), PF);
    ASSERT_EQ(r, 6);
    /* CMP sets flags like SUB: -1 < 1 signed, but not unsigned. */
    ASSERT_EQ(ALU("", "cmpl", 0xFFFFFFFFu, 1, r), SF); /* FEH: odd parity */
    ASSERT_EQ(r, 0xFFFFFFFFu);
}

static void test_logic_inc_neg(void)
{
    uint32_t r;
    /* AND/OR/XOR clear OF and CF; AF is undefined (masked out). */
    ASSERT_EQ(ALU("", "andl", 0xF0F0F0F0u, 0x0FF00FF0u, r) & ~AF, PF);
    ASSERT_EQ(r, 0x00F000F0u);
    ASSERT_EQ(ALU("stc", "xorl", 0x5A5A5A5Au, 0x5A5A5A5Au, r) & ~AF,
              ZF | PF);
    ASSERT_EQ(r, 0);

    /* INC leaves CF alone (SDM Vol. 2A, INC: "CF flag is not affected"). */
    uint32_t f, v = 0xFFFFFFFFu;
    __asm__ volatile("stc\n\tincl %0\n\tpushf\n\tpop %1"
                     : "+r"(v), "=r"(f)::"cc");
    ASSERT_EQ(v, 0);
    ASSERT_EQ(f & STATUS, CF | ZF | AF | PF);

    /* NEG: CF = (source != 0). */
    v = 5;
    __asm__ volatile("negl %0\n\tpushf\n\tpop %1" : "+r"(v), "=r"(f)::"cc");
    ASSERT_EQ(v, 0xFFFFFFFBu);
    ASSERT_EQ(f & CF, CF);
    v = 0;
    __asm__ volatile("negl %0\n\tpushf\n\tpop %1" : "+r"(v), "=r"(f)::"cc");
    ASSERT_EQ(f & (CF | ZF), ZF);
}

static void test_shift_rotate(void)
{
    uint32_t r;
    /* SHL by 1: CF = bit shifted out, OF = MSB(result) XOR CF. */
    ASSERT_EQ(ALU("", "shll", 0x80000001u, 1, r) & (CF | OF | ZF | SF),
              CF | OF);
    ASSERT_EQ(r, 2);
    /* SHR by 4: CF = last bit shifted out = bit 3 of the source. */
    ASSERT_EQ(ALU("", "shrl", 0x1Fu, 4, r) & CF, CF);
    ASSERT_EQ(r, 1);
    ASSERT_EQ(ALU("", "sarl", 0x80000000u, 31, r) & CF, 0);
    ASSERT_EQ(r, 0xFFFFFFFFu);
    /* ROL: CF = LSB of the result; ROR: CF = MSB of the result. */
    ASSERT_EQ(ALU("", "roll", 0x12345678u, 4, r) & CF, CF);
    ASSERT_EQ(r, 0x23456781u);
    ASSERT_EQ(ALU("", "rorl", 0x12345678u, 8, r) & CF, 0);
    ASSERT_EQ(r, 0x78123456u);
    /* The count is masked to 5 bits: a count of 32 changes nothing. */
    uint32_t v = 0xCAFEu;
    __asm__ volatile("movb $32, %%cl\n\tshll %%cl, %0" : "+r"(v)::"ecx", "cc");
    ASSERT_EQ(v, 0xCAFEu);
}

static void test_mul_div(void)
{
    uint32_t lo = 0x80000000u, hi, f;
    /* MUL: EDX:EAX = EAX * src; CF = OF = (EDX != 0). */
    __asm__ volatile("mull %3\n\tpushf\n\tpop %2"
                     : "+a"(lo), "=d"(hi), "=r"(f) : "r"(4u) : "cc");
    ASSERT_EQ(hi, 2);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(f & (CF | OF), CF | OF);

    int32_t s = -3;
    __asm__ volatile("imull $7, %0, %0" : "+r"(s)::"cc");
    ASSERT_EQ(s, -21);
    s = 0x40000000;
    __asm__ volatile("imull $2, %0, %0\n\tpushf\n\tpop %1"
                     : "+r"(s), "=r"(f)::"cc");
    ASSERT_EQ(f & (CF | OF), CF | OF); /* result does not fit 32 bits */

    /* DIV: EDX:EAX / src -> EAX quotient, EDX remainder. */
    lo = 5;
    hi = 1;
    __asm__ volatile("divl %2" : "+a"(lo), "+d"(hi) : "r"(0x10u) : "cc");
    ASSERT_EQ(lo, 0x10000000u);
    ASSERT_EQ(hi, 5);
    /* IDIV truncates toward zero; the remainder has the dividend's sign. */
    int32_t q = -7, rem;
    __asm__ volatile("cltd\n\tidivl %2" : "+a"(q), "=&d"(rem) : "r"(2) : "cc");
    ASSERT_EQ(q, -3);
    ASSERT_EQ(rem, -1);
}

static void test_bits_and_moves(void)
{
    uint32_t r, f;
    __asm__ volatile("bsfl %1, %0" : "=r"(r) : "r"(0x00010000u) : "cc");
    ASSERT_EQ(r, 16);
    __asm__ volatile("bsrl %1, %0" : "=r"(r) : "r"(0x00010001u) : "cc");
    ASSERT_EQ(r, 16);
    r = 0;
    __asm__ volatile("bsfl %2, %0\n\tpushf\n\tpop %1"
                     : "+r"(r), "=r"(f) : "r"(0u) : "cc");
    ASSERT_EQ(f & ZF, ZF); /* source 0: ZF=1, destination undefined */

    r = 0x12345678u;
    __asm__ volatile("bswap %0" : "+r"(r));
    ASSERT_EQ(r, 0x78563412u);

    uint32_t a = 0x80000000u, d;
    __asm__ volatile("cltd" : "+a"(a), "=d"(d)); /* CDQ */
    ASSERT_EQ(d, 0xFFFFFFFFu);
    uint8_t b = 0x80;
    __asm__ volatile("movsbl %1, %0" : "=r"(r) : "q"(b));
    ASSERT_EQ(r, 0xFFFFFF80u);
    __asm__ volatile("movzbl %1, %0" : "=r"(r) : "q"(b));
    ASSERT_EQ(r, 0x80);

    /* CMPXCHG: equal -> ZF=1 and the store; else ZF=0 and EAX = dest. */
    uint32_t mem = 7, exp = 7;
    __asm__ volatile("cmpxchgl %3, %1\n\tpushf\n\tpop %2"
                     : "+a"(exp), "+m"(mem), "=r"(f) : "r"(9u) : "cc");
    ASSERT_EQ(mem, 9);
    ASSERT_EQ(f & ZF, ZF);
    exp = 1;
    __asm__ volatile("cmpxchgl %3, %1\n\tpushf\n\tpop %2"
                     : "+a"(exp), "+m"(mem), "=r"(f) : "r"(3u) : "cc");
    ASSERT_EQ(exp, 9);
    ASSERT_EQ(mem, 9);
    ASSERT_EQ(f & ZF, 0);

    /* XADD: dest = dest + src, src = old dest. */
    r = 10;
    __asm__ volatile("xaddl %0, %1" : "+r"(r), "+m"(mem)::"cc");
    ASSERT_EQ(r, 9);
    ASSERT_EQ(mem, 19);

    /* PUSHF: bit 1 of EFLAGS always reads 1 (SDM Vol. 1, 3.4.3). */
    ASSERT_EQ(read_flags() & 2, 2);
}

static void test_bcd(void)
{
    /* The worked examples of SDM Vol. 2A, DAA and DAS. */
    uint32_t ax = 0x79, f;
    __asm__ volatile("addb $0x35, %%al\n\tdaa\n\tpushf\n\tpop %1"
                     : "+a"(ax), "=r"(f)::"cc");
    ASSERT_EQ(ax & 0xFF, 0x14);
    ASSERT_EQ(f & (CF | AF | ZF | SF | PF), CF | AF | PF);
    ax = 0x35;
    __asm__ volatile("subb $0x47, %%al\n\tdas\n\tpushf\n\tpop %1"
                     : "+a"(ax), "=r"(f)::"cc");
    ASSERT_EQ(ax & 0xFF, 0x88);
    ASSERT_EQ(f & (CF | AF | ZF | SF | PF), CF | AF | SF | PF);
    /* AAM: AH = AL / 10, AL = AL % 10; AAD: AL = AH * 10 + AL, AH = 0. */
    ax = 63;
    __asm__ volatile("aam" : "+a"(ax)::"cc");
    ASSERT_EQ(ax & 0xFFFF, 0x0603);
    __asm__ volatile("aad" : "+a"(ax)::"cc");
    ASSERT_EQ(ax & 0xFFFF, 63);
}

static void test_strings(void)
{
    static const char src[] = "hello, nest86";
    char dst[16];
    memset(dst, 0, sizeof(dst));
    const char *si = src;
    char *di = dst;
    uint32_t cx = 14;
    /* REP MOVSB with DF=0: ESI/EDI advance by ECX, ECX ends at 0. */
    __asm__ volatile("cld\n\trep movsb"
                     : "+S"(si), "+D"(di), "+c"(cx)::"memory");
    ASSERT_EQ(cx, 0);
    ASSERT_EQ((uintptr_t)si, (uintptr_t)src + 14);
    ASSERT_EQ((uintptr_t)di, (uintptr_t)dst + 14);
    ASSERT_EQ(memcmp(dst, src, 14), 0);

    /* DF=1 walks down: an overlapping move to a higher address. */
    char buf[8] = "abcdef";
    si = buf + 4; /* last source byte: 'e' */
    di = buf + 5;
    cx = 5;
    __asm__ volatile("std\n\trep movsb\n\tcld"
                     : "+S"(si), "+D"(di), "+c"(cx)::"memory");
    ASSERT_EQ(memcmp(buf, "aabcde", 6), 0);
    ASSERT_EQ((uintptr_t)si, (uintptr_t)buf - 1);

    uint32_t words[4] = { 0 };
    uint32_t *wp = words;
    cx = 3;
    __asm__ volatile("rep stosl"
                     : "+D"(wp), "+c"(cx) : "a"(0xDEADBEEFu) : "memory");
    ASSERT_EQ(words[2], 0xDEADBEEFu);
    ASSERT_EQ(words[3], 0);

    /* REPNE SCASB as strlen: ECX counts down once per byte compared. */
    di = (char *)src;
    cx = 0xFFFFFFFFu;
    __asm__ volatile("repne scasb" : "+D"(di), "+c"(cx) : "a"(0) : "cc");
    ASSERT_EQ(~cx - 1, 13);

    /* REPE CMPSB stops after the first difference (index 3): 4 compares. */
    uint32_t f;
    si = "abcdef";
    di = (char *)"abcxef";
    cx = 6;
    __asm__ volatile("repe cmpsb\n\tpushf\n\tpop %3"
                     : "+S"(si), "+D"(di), "+c"(cx), "=r"(f)::"cc");
    ASSERT_EQ(cx, 2);
    ASSERT_EQ(f & ZF, 0);
}

static void test_call_ret_enter(void)
{
    uint32_t depth, retaddr, expect_ret, after;
    /* CALL pushes the address of the next instruction; RET 8 pops it and
       8 more bytes (SDM Vol. 2A, CALL; Vol. 2B, RET). */
    __asm__ volatile("mov %%esp, %%ecx\n\t"
                     "push $0x11\n\t"
                     "push $0x22\n\t"
                     "call 1f\n"
                     "2: jmp 3f\n"
                     "1: mov %%ecx, %0\n\t"
                     "sub %%esp, %0\n\t"
                     "mov (%%esp), %1\n\t"
                     "ret $8\n"
                     "3: mov $2b, %2\n\t"
                     "mov %%ecx, %3\n\t"
                     "sub %%esp, %3"
                     : "=&r"(depth), "=&r"(retaddr), "=&r"(expect_ret),
                       "=&r"(after)
                     :
                     : "ecx", "memory");
    ASSERT_EQ(depth, 12); /* two pushes and the return address */
    ASSERT_EQ(retaddr, expect_ret);
    ASSERT_EQ(after, 0); /* ESP back where it started */

    /* ENTER 16,0: push EBP, EBP = ESP, ESP -= 16; LEAVE undoes it. Fixed
       registers keep gcc from handing EBP itself to an output. */
    uint32_t esp0, ebp_in, esp_in, esp1;
    __asm__ volatile("mov %%esp, %0\n\t"
                     "enter $16, $0\n\t"
                     "mov %%ebp, %1\n\t"
                     "mov %%esp, %2\n\t"
                     "leave\n\t"
                     "mov %%esp, %3"
                     : "=&a"(esp0), "=&b"(ebp_in), "=&c"(esp_in), "=&d"(esp1)
                     :
                     : "memory");
    ASSERT_EQ(ebp_in, esp0 - 4);
    ASSERT_EQ(esp_in, esp0 - 4 - 16);
    ASSERT_EQ(esp1, esp0);

    /* LOOP decrements ECX and branches while it is non-zero. */
    uint32_t n = 5, count = 0;
    __asm__ volatile("1: incl %1\n\tloop 1b" : "+c"(n), "+r"(count)::"cc");
    ASSERT_EQ(count, 5);
    ASSERT_EQ(n, 0);
}

void test_main(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    ASSERT_EQ(cs, RT_SEL_CODE32);
    ASSERT_EQ(read_cr0() & (CR0_PE | CR0_PG), CR0_PE); /* no paging */
    RUN_TEST(test_add_sub_flags);
    RUN_TEST(test_logic_inc_neg);
    RUN_TEST(test_shift_rotate);
    RUN_TEST(test_mul_div);
    RUN_TEST(test_bits_and_moves);
    RUN_TEST(test_bcd);
    RUN_TEST(test_strings);
    RUN_TEST(test_call_ret_enter);
}
