/*
 * lm64_branch: near CALL and JMP through a register or memory (FF /2,
 * FF /4) in 64-bit mode, SDM Vol. 2A "CALL" and "JMP": the operand is
 * the 64-bit target; CALL pushes the address of the next instruction.
 * A non-canonical target is #GP(0) raised by the branch itself: RIP in
 * the frame is the branch's, RSP is unchanged and nothing was pushed.
 * Every case runs three times from one site, and after a run that went
 * to a canonical target from the same site.  Then JMP and Jcc rel32
 * whose target leaves the canonical range: #GP(0) at the branch.
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

/* Relative branches out of the canonical range (SDM Vol. 2A "JMP",
 * "Jcc": #GP(0) in 64-bit mode if the target is non-canonical), from
 * the last page below 0x800000000000: JMP rel32, JZ rel32 after XOR
 * (ZF = 1) and JZ rel32 after CMP rax, rax (the pair an emulator may
 * fuse), each to 0x1000 past its end.  The #GP is the branch's: RIP in
 * the frame is the branch instruction's. */
#define TOP_PAGE 0x00007ffffffff000ull
#define AT_JMP (TOP_PAGE + 0xfd0)
#define AT_JZ (TOP_PAGE + 0xfe0)
#define AT_FUSED (TOP_PAGE + 0xfec)
static uint8_t top_code[4096] __attribute__((aligned(4096)));

static void put_rel32(uint8_t *p, int32_t d)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)((uint32_t)d >> (8 * k));
}

static uint64_t entry;
static void call_entry(void)
{
    __asm__ volatile("call *%0" ::"r"(entry)
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void test_relative_out_of_range(void)
{
    uint8_t *j = top_code + 0xfd0, *z = top_code + 0xfe0, *f = top_code + 0xfec;
    j[0] = 0xE9; /* JMP rel32 */
    put_rel32(j + 1, 0x1000);
    z[0] = 0x31; /* XOR eax, eax */
    z[1] = 0xC0;
    z[2] = 0x0F; /* JZ rel32 */
    z[3] = 0x84;
    put_rel32(z + 4, 0x1000);
    f[0] = 0x48; /* CMP rax, rax */
    f[1] = 0x39;
    f[2] = 0xC0;
    f[3] = 0x0F; /* JZ rel32 */
    f[4] = 0x84;
    put_rel32(f + 5, 0x1000);
    volatile uint64_t *pte = rt_pt_entry(TOP_PAGE, 1, true);
    *pte = (uintptr_t)top_code | PTE_P | PTE_W;
    invlpg(TOP_PAGE);
    static const struct {
        uint64_t entry, branch;
    } cases[] = {{AT_JMP, AT_JMP}, {AT_JZ, AT_JZ + 2}, {AT_FUSED, AT_FUSED + 3}};
    for (int k = 0; k < 3; k++)
        for (unsigned c = 0; c < 3; c++) {
            entry = cases[c].entry;
            ASSERT_EQ(rt_try(call_entry), VEC_GP);
            ASSERT_EQ(rt_fault.error, 0);
            ASSERT_EQ(rt_fault.ip, cases[c].branch);
        }
    *pte = 0;
    invlpg(TOP_PAGE);
}

void test_main(void)
{
    RUN_TEST(test_call);
    RUN_TEST(test_jmp);
    RUN_TEST(test_pushed_address);
    RUN_TEST(test_relative_out_of_range);
}
