/*
 * modes: 32-bit protected mode -> 64-bit mode (done by the runtime) ->
 * compatibility mode -> legacy protected mode -> back to 64-bit mode,
 * checking what CS.L / CS.D select (SDM Vol. 3A, 3.4.5 "L flag", 5.2.1;
 * Vol. 1, 3.6 operand-size and address-size attributes).
 */
#include "rt.h"

extern uint32_t modes_compat_push_size, modes_compat_rex_result;
extern uint32_t modes_compat_opsize_result;
extern uint32_t modes_legacy_efer, modes_legacy_cr0, modes_reentered_efer;
extern uint16_t modes_compat_cs;
extern char modes_compat_ud2_insn[];
void modes_compat_probe(void);
void modes_compat_ud2(void);

static void test_64bit_mode(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    ASSERT_EQ(cs, RT_SEL_CODE64);
    ASSERT_EQ(rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);

    /* PUSH is 64 bits wide in 64-bit mode (Vol. 1, 3.6.1). */
    uint64_t before, after;
    __asm__ volatile("mov %%rsp, %0\n\tpush %%rax\n\tmov %%rsp, %1\n\t"
                     "pop %%rax"
                     : "=&r"(before), "=&r"(after)::"rax", "memory");
    ASSERT_EQ(before - after, 8);

    /* 48H is REX.W: 48 FF C0 is INC RAX (Vol. 2A, 2.2.1). */
    uint64_t v = 0xFFFFFFFFull;
    __asm__ volatile(".byte 0x48, 0xff, 0xc0" : "+a"(v)::"cc");
    ASSERT_EQ(v, 0x100000000ull);

    /* A 32-bit destination is zero-extended to 64 bits (Vol. 1, 3.4.1.1). */
    v = ~0ull;
    __asm__ volatile("movl $1, %k0" : "+r"(v));
    ASSERT_EQ(v, 1);
}

static void test_compat_mode(void)
{
    modes_compat_probe();
    ASSERT_EQ(modes_compat_cs, RT_SEL_CODE32);
    ASSERT_EQ(modes_compat_push_size, 4);          /* 32-bit stack, D=1 */
    ASSERT_EQ(modes_compat_rex_result, 5);         /* DEC EAX; INC EAX */
    ASSERT_EQ(modes_compat_opsize_result, 0x1234ABCDu);
}

static void test_leave_and_reenter_long_mode(void)
{
    /* modes_compat_probe() already made the round trip. */
    ASSERT_EQ(modes_legacy_efer & (EFER_LME | EFER_LMA), EFER_LME);
    ASSERT_EQ(modes_legacy_cr0 & (CR0_PE | CR0_PG), CR0_PE);
    ASSERT_EQ(modes_reentered_efer & (EFER_LME | EFER_LMA),
              EFER_LME | EFER_LMA);
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    ASSERT_EQ(cs, RT_SEL_CODE64);
}

static void test_compat_exception(void)
{
    /* An exception in compatibility mode goes through the 64-bit IDT; the
       frame holds the 32-bit CS and EIP (Vol. 3A, 6.14). */
    expect_fault(VEC_UD, modes_compat_ud2);
    ASSERT_EQ(rt_fault.cs, RT_SEL_CODE32);
    ASSERT_EQ(rt_fault.ip, (uintptr_t)modes_compat_ud2_insn);
}

void test_main(void)
{
    RUN_TEST(test_64bit_mode);
    RUN_TEST(test_compat_mode);
    RUN_TEST(test_leave_and_reenter_long_mode);
    RUN_TEST(test_compat_exception);
}
