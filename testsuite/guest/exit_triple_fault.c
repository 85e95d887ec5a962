/*
 * exit_triple_fault: a kernel whose every exception escalates to a triple
 * fault. With an IDT limit of 0 no vector can be delivered: INT3 finds
 * vector 3 beyond the limit -> #GP; #GP's own lookup fails -> #DF; #DF's
 * lookup fails -> shutdown (SDM Vol. 3A, 6.15 "Interrupt 8", Table 6-5,
 * and 6.10: a vector beyond the IDT limit is a #GP). nest86 under
 * -no-reboot then exits with status 4 (README, exit statuses);
 * exit_triple_fault.status says so to testsuite/run.
 */
#include "rt.h"

void test_main(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = { 0, 0 };
    rt_printf("# loading an IDT with limit 0, then INT3: expect shutdown\n");
    __asm__ volatile("lidt %0\n\tint3" ::"m"(empty) : "memory");
    /* Not reached on a conforming CPU; if it is, report a failure. */
    rt_printf("FAIL INT3 returned with an empty IDT\n");
    rt_exit(RT_EXIT_ASSERT);
}
