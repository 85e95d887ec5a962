/*
 * exit_bochs_shutdown: power off through the Bochs shutdown port 0x8900:
 * the bytes of "Shutdown" written one at a time (devices/debugexit.c).
 * A power-off ends nest86 with status 0 (exit_bochs_shutdown.status).
 */
#include "rt.h"

void test_main(void)
{
    /* A false start first: the device must restart its match on 'S'. */
    for (const char *p = "ShuShutdown"; *p; p++)
        outb(0x8900, (uint8_t)*p);
    rt_printf("FAIL still running after \"Shutdown\" at port 0x8900\n");
    rt_exit(RT_EXIT_ASSERT);
}
