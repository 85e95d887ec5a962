/* devices/pc.c — the PC board: memory map, CPU, device set, kernel
 * loading, virtual clock and the main run loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/copyrun.h"
#include "cpu/cpuid.h"
#include "cpu/icache.h"
#include "vmx/caps.h"
#include "devices/acpi.h"
#include "devices/boot.h"
#include "devices/devutil.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/pc.h"
#include "devices/pc_devices.h"
#include "devices/pic.h"
#include "devices/vga.h"
#include "mmu/hostmem.h"

/* Guest time advances in slices of this many instructions between
 * timer and console checks (1 ms of guest time). */
#define SLICE_NS 1000000ull

uint64_t machine_clock_ns(const struct machine *m)
{
    return m->cpu->icount + m->clock_offset;
}

void machine_cpu_intr(struct machine *m, bool level)
{
    cpu_set_intr(m->cpu, level);
}

void machine_cpu_nmi(struct machine *m)
{
    cpu_set_nmi(m->cpu);
}

void machine_cpu_init(struct machine *m)
{
    cpu_signal_init(m->cpu);
}

void machine_cpu_sipi(struct machine *m, uint8_t vector)
{
    cpu_signal_sipi(m->cpu, vector);
}

uint64_t machine_tsc(const struct machine *m)
{
    /* what RDTSC returns (cpu_tsc): the TSC runs at 1 GHz */
    return m->cpu->icount + m->cpu->tsc_offset;
}

void machine_memory_map_changed(struct machine *m)
{
    mmu_flush_all(&m->cpu->mmu);
}

void machine_request_stop(struct machine *m, enum machine_stop why, int exit_status,
                          const char *message)
{
    if (m->stop == MACHINE_EXIT)
        return; /* the first exit request wins */
    m->stop = why;
    m->exit_status = exit_status;
    snprintf(m->stop_message, sizeof(m->stop_message), "%s", message ? message : "");
    cpu_request_stop(m->cpu);
}

void machine_a20_changed(struct machine *m)
{
    /* translations cached with the old mask are wrong now */
    mmu_flush_all(&m->cpu->mmu);
}

static int load_kernel(struct machine *m, char *err, size_t errlen)
{
    struct boot_image img;
    /* firmware's part first: the kernel finds the tables in RAM */
    if (acpi_build_tables(m)) {
        snprintf(err, errlen, "guest RAM does not reach the ACPI table area");
        return -1;
    }
    if (m->vga)
        vga_clear_text(m->vga);
    if (boot_read_file(m->cfg->kernel, &img, err, errlen))
        return -1;
    int rc = multiboot_load(m, &img, err, errlen);
    if (rc > 0)
        rc = linux_load(m, &img, err, errlen);
    if (rc > 0)
        snprintf(err, errlen,
                 "'%s' is not a kernel nest86 can boot (neither a Multiboot image nor a Linux "
                 "bzImage)",
                 m->cfg->kernel);
    boot_free_image(&img);
    return rc ? -1 : 0;
}

struct machine *pc_create(const struct config *cfg, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    /* 3 MB (the TLB) that cpu_init() clears at once: huge pages, not
     * 700 host page faults (mmu/hostmem.h) */
    struct cpu *c = host_ram_alloc(sizeof(*c));
    if (!m || !c) {
        snprintf(err, errlen, "out of memory");
        free(m);
        if (c)
            host_ram_free(c, sizeof(*c));
        return NULL;
    }
    m->cfg = cfg;
    if (phys_init(&m->phys, cfg->ram_size)) {
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(cfg->ram_size >> 20));
        free(m);
        host_ram_free(c, sizeof(*c));
        return NULL;
    }
    io_init(&m->io);
    m->cpu = c;
    if (cpu_init(c, m, &m->phys)) {
        snprintf(err, errlen, "out of memory for the instruction cache");
        pc_destroy(m);
        return NULL;
    }
    if (cfg->copy_runs) {
        c->icache->copies = copyrun_new(cfg->copy_arena);
        if (!c->icache->copies) /* the guest runs the same, only slower */
            fprintf(stderr, "nest86: -accel copy: %s; running threaded\n", copyrun_why_not());
        c->icache->copy_heat = (uint8_t)cfg->copy_heat;
    }
    if (cpu_configure(c, cfg->cpu_model, err, errlen)) {
        pc_destroy(m);
        return NULL;
    }
    pc_devices_create(m);
    if (!cfg->kernel && cfg->loadvm)
        return m; /* the snapshot brings RAM, registers and fw_cfg's kernel copy */
    if (!cfg->kernel) {
        snprintf(err, errlen, "no -kernel given (nest86 has no BIOS; boot a kernel directly)");
        pc_destroy(m);
        return NULL;
    }
    if (load_kernel(m, err, errlen)) {
        pc_destroy(m);
        return NULL;
    }
    return m;
}

void pc_destroy(struct machine *m)
{
    if (!m)
        return;
    phys_free(&m->phys);
    if (m->cpu) {
        cpu_free(m->cpu);
        host_ram_free(m->cpu, sizeof(*m->cpu));
    }
    fwcfg_destroy(m->fwcfg);
    machine_free_owned(m);
    free(m);
}

/* A system reset: devices and CPU to power-on state, kernel reloaded
 * (there is no firmware to boot it again). */
static bool pc_reset(struct machine *m)
{
    char err[256];
    if (!m->cfg->kernel) {
        fprintf(stderr, "nest86: reset: no kernel to boot again\n");
        return false;
    }
    bus_reset_all(&m->io);
    cpu_reset(m->cpu);
    pc_devices_attach_cpu(m);
    memset(m->phys.ram, 0, m->phys.ram_size);
    m->phys.a20_enabled = true;
    m->stop = MACHINE_RUNNING;
    if (load_kernel(m, err, sizeof(err))) {
        fprintf(stderr, "nest86: reset: %s\n", err);
        return false;
    }
    return true;
}

int pc_run(struct machine *m, const struct pc_frontend *fe)
{
    struct cpu *c = m->cpu;
    for (;;) {
        uint64_t now = machine_clock_ns(m);
        uint64_t next = m->timers ? m->timers->deadline : UINT64_MAX;
        uint64_t end = now + SLICE_NS;
        if (next < end)
            end = next > now ? next : now + 1;
        if (m->slice_max_ns && end - now > m->slice_max_ns)
            end = now + m->slice_max_ns;
        cpu_run(c, c->icount + (end - now));
        if (m->slice_done)
            m->slice_done(m->slice_opaque, c);
        machine_run_timers(m);
        if (fe && fe->poll)
            fe->poll(m, fe->opaque);

        switch (m->stop) {
        case MACHINE_RUNNING:
            break;
        case MACHINE_DEBUG:
            m->stop = MACHINE_RUNNING;
            if (fe && fe->debug)
                fe->debug(m, fe->opaque);
            if (m->stop != MACHINE_RUNNING)
                continue; /* the debugger asked to quit or reset */
            break;
        case MACHINE_EXIT:
            return m->exit_status;
        case MACHINE_TRIPLE_FAULT:
            if (m->cfg->no_reboot) {
                fprintf(stderr, "nest86: triple fault at RIP=0x%llx (-no-reboot): stopping\n",
                        (unsigned long long)c->rip);
                return PC_EXIT_TRIPLE_FAULT;
            }
            /* a triple fault resets the machine */
            __attribute__((fallthrough));
        case MACHINE_RESET:
            if (m->cfg->no_reboot) {
                fprintf(stderr, "nest86: guest requested a reset%s%s%s (-no-reboot): stopping\n",
                        m->stop_message[0] ? " (" : "", m->stop_message,
                        m->stop_message[0] ? ")" : "");
                return PC_EXIT_POWEROFF;
            }
            if (!pc_reset(m))
                return PC_EXIT_USAGE;
            continue;
        }

        if (c->halted) {
            /* a VMX guest waiting for a SIPI wakes for nothing else */
            bool wfs = c->vmx.nonroot && c->vmx.activity == VMX_ACTIVITY_WAIT_SIPI;
            bool nmi = (c->pending & PEND_NMI) && !wfs;
            bool can_wake = cpu_intr_can_wake(c) || nmi || c->mwait_break_masked;
            next = m->timers ? m->timers->deadline : UINT64_MAX;
            if (c->vmx.nonroot && c->vmx.timer_armed &&
                c->vmx.activity != VMX_ACTIVITY_WAIT_SIPI) {
                /* a VMX guest halted with its preemption timer running
                 * wakes when it expires (SDM 25.5.1); TSC ticks and the
                 * clock's nanoseconds advance together */
                uint64_t tsc = c->icount + c->tsc_offset;
                uint64_t due = c->vmx.timer_deadline << VMX_TIMER_RATE;
                uint64_t at = machine_clock_ns(m) + (due > tsc ? due - tsc : 0);
                if (at < next)
                    next = at;
            }
            if (!can_wake && wfs) {
                fprintf(stderr, "nest86: VMX guest in the wait-for-SIPI state at RIP=0x%llx: "
                                "only a start-up IPI ends it, and no other processor can send one "
                                "(the debugger's `ipi sipi VECTOR` can)\n",
                        (unsigned long long)c->rip);
                return PC_EXIT_HUNG;
            }
            if (!can_wake && !nmi) {
                /* only an NMI could wake it, and nothing generates one */
                fprintf(stderr, "nest86: guest halted with interrupts disabled at RIP=0x%llx\n",
                        (unsigned long long)c->rip);
                return PC_EXIT_HUNG;
            }
            if (!(c->pending & PEND_INTR) && next != UINT64_MAX) {
                now = machine_clock_ns(m);
                if (next > now) {
                    /* skip idle time to the next event; the TSC skips with
                     * the clock, so guest time sources agree */
                    m->clock_offset += next - now;
                    c->tsc_offset += next - now;
                }
            } else if (!(c->pending & PEND_INTR) && next == UINT64_MAX && !(fe && fe->poll)) {
                fprintf(stderr, "nest86: guest halted with no timer armed at RIP=0x%llx\n",
                        (unsigned long long)c->rip);
                return PC_EXIT_HUNG;
            }
        }
    }
}
