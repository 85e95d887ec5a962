/*
 * lm64_branch: near CALL and JMP through a register or memory (FF /2,
 * FF /4) in 64-bit mode, SDM Vol. 2A "CALL" and "JMP": the operand is
 * the 64-bit target; CALL pushes the address of the next instruction.
 * A non-canonical target is #GP(0) raised by the branch itself: RIP in
 * the frame is the branch's, RSP is unchanged and nothing was pushed.
 * Every case runs three times from one site, and after a run that went
 * to a canonical target from the same site.
 */
#include "rt.h"

#define NONCANON 0x0000800000000000ull /* bit 47 set, 63:48 clear */

static volatile uint64_t slot; /* the memory operand */

static __attribute__((noinline)) uint64_t target_fn(void)
{
    return 0x7A7A;
}

/* CALL through rcx, or through 'slot': the vector (-1: none); in *ret
 * what the call returned, *rip_ok whether a fault's RIP was the CALL's,
 * *rsp_ok whether RSP after it (returned or caught) is what it was */
static int call_reg(uint64_t target, uint64_t *ret, bool *rip_ok, bool *rsp_ok)
{
    uint64_t addr, r = 0, before, after;
    int v = catch_asm("mov %%rsp, %[b]\n\t" RT_INSN_ADDR RT_CATCH_BEGIN
                      "8764: call *%[t]" RT_CATCH_END "mov %%rsp, %[a]"
                      : "=&r"(addr), [b] "=&r"(before), [a] "=&r"(after), "=a"(r), [t] "+c"(target)
                      :
                      : "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
    *ret = r;
    *rip_ok = v < 0 || rt_fault.ip == addr;
    *rsp_ok = before == after;
    return v;
}

static int call_mem(uint64_t target, uint64_t *ret, bool *rip_ok, bool *rsp_ok)
{
    uint64_t addr, r = 0, before, after;
    slot = target;
    int v = catch_asm("mov %%rsp, %[b]\n\t" RT_INSN_ADDR RT_CATCH_BEGIN
                      "8764: call *%[s]" RT_CATCH_END "mov %%rsp, %[a]"
                      : "=&r"(addr), [b] "=&r"(before), [a] "=&r"(after), "=a"(r)
                      : [s] "m"(slot)
                      : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
    *ret = r;
    *rip_ok = v < 0 || rt_fault.ip == addr;
    *rsp_ok = before == after;
    return v;
}

/* JMP through rax to label 1 (or a non-canonical address) */
static int jmp_reg(uint64_t target_or_0, bool *rip_ok)
{
    uint64_t addr, t;
    int v = catch_asm(RT_INSN_ADDR "lea 1f(%%rip), %[t]\n\t"
                      "test %[x], %[x]\n\tcmovnz %[x], %[t]\n\t" RT_CATCH_BEGIN
                      "8764: jmp *%[t]\n\tud2\n1:" RT_CATCH_END
                      : "=&r"(addr), [t] "=&r"(t)
                      : [x] "r"(target_or_0)
                      : "memory", "cc");
    *rip_ok = v < 0 || rt_fault.ip == addr;
    return v;
}

static void test_call(void)
{
    uint64_t ret;
    bool rip_ok, rsp_ok;
    for (int k = 0; k < 3; k++) {
        ASSERT_EQ(call_reg((uint64_t)(uintptr_t)target_fn, &ret, &rip_ok, &rsp_ok), -1);
        ASSERT_EQ(ret, 0x7A7A);
        ASSERT(rsp_ok);
        ASSERT_EQ(call_mem((uint64_t)(uintptr_t)target_fn, &ret, &rip_ok, &rsp_ok), -1);
        ASSERT_EQ(ret, 0x7A7A);
        ASSERT(rsp_ok);
    }
    for (int k = 0; k < 3; k++) {
        ASSERT_EQ(call_reg(NONCANON, &ret, &rip_ok, &rsp_ok), VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
        ASSERT(rip_ok);
        ASSERT(rsp_ok);
        ASSERT_EQ(call_mem(NONCANON, &ret, &rip_ok, &rsp_ok), VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
        ASSERT(rip_ok);
        ASSERT(rsp_ok);
        ASSERT_EQ(call_reg((uint64_t)(uintptr_t)target_fn, &ret, &rip_ok, &rsp_ok), -1);
        ASSERT_EQ(ret, 0x7A7A);
    }
}

static void test_jmp(void)
{
    bool rip_ok;
    for (int k = 0; k < 3; k++) {
        ASSERT_EQ(jmp_reg(0, &rip_ok), -1);
        ASSERT_EQ(jmp_reg(NONCANON, &rip_ok), VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
        ASSERT(rip_ok);
    }
}

/* The return address a CALL pushes is the next instruction's: a callee
 * that reads it finds the label after the CALL. */
static __attribute__((noinline)) uint64_t read_return(void)
{
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static void test_pushed_address(void)
{
    for (int k = 0; k < 3; k++) {
        uint64_t got, want;
        slot = (uint64_t)(uintptr_t)read_return;
        __asm__ volatile("call *%[s]\n2:\n\tlea 2b(%%rip), %[w]"
                         : "=a"(got), [w] "=r"(want)
                         : [s] "m"(slot)
                         : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
        ASSERT_EQ(got, want);
    }
}

void test_main(void)
{
    RUN_TEST(test_call);
    RUN_TEST(test_jmp);
    RUN_TEST(test_pushed_address);
}
