/*
 * exit_debug_value: the debug-exit port 0xF4 turns a written V into
 * nest86 exit status (V << 1) | 1. V = 0x42 must give 0x85 = 133
 * (exit_debug_value.status), with the full 32-bit value taken from OUT.
 */
#include "rt.h"

void test_main(void)
{
    rt_printf("# writing 0x42 to port 0xF4: expect status 0x85\n");
    rt_exit(0x42);
}
