/*
 * testsuite/kvm/linux.c — the client's "linux" guest: a Linux kernel
 * (Debian's, in make check) booted as KVM's guest, inside Linux inside
 * nest86, to a shell command that prints a line and ends the machine.
 *
 * The client is the VMM: it loads a bzImage and its initramfs with the
 * 64-bit boot protocol (Documentation/x86/boot.rst, "64-bit Boot
 * Protocol"), gives the guest KVM's in-kernel PIC, IOAPIC, LAPIC and
 * PIT, and emulates one device itself: a 16450 UART at COM1 (0x3f8,
 * IRQ 4), enough for the kernel's 8250 driver to probe it, print its
 * console polled and let /init's output through on THRE interrupts.
 * There is no ACPI, so the guest cannot power off; it ends with
 * `reboot -f`, and with reboot=t on its command line the kernel
 * restarts by triple fault, which KVM reports as KVM_EXIT_SHUTDOWN: the
 * end of the machine.  (A keyboard-controller reset pulse, OUT 0xfe to
 * port 0x64, ends it too; reboot=k would first poll the absent
 * controller's status 65536 times, each an exit to this client.)
 *
 * Each console line of the guest is echoed as "NEST86_KVM_LINUX | ...";
 * the guest passes when a line holds LINUX_MARK before the machine
 * ends.  "NEST86_KVM_LINUX_STATS" gives the wall time and the
 * exits that reached the client.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "linux.h"
#include "vm.h"

#define LX_MEM          (256ull << 20) /* the guest's RAM, from 0 */
#define LX_GDT          0x6000
#define LX_ZERO_PAGE    0x7000
#define LX_PML4         0x9000
#define LX_PDPT         0xa000
#define LX_PD           0xb000         /* 1 GiB of 2 MiB pages */
#define LX_STACK_TOP    0x5000
#define LX_CMDLINE      0x20000
#define LX_CMDLINE_MAX  0x10000
#define LX_DEFAULT_LOAD 0x1000000      /* where a kernel without pref_address goes */
#define LX_TOTAL_S      600            /* the whole boot; KVM_RUN itself has GUEST_TIMEOUT_S */

/* The zero page (Documentation/x86/zero-page.rst) and setup header
 * (boot.rst) offsets this loader uses. */
#define BP_SIZE          4096
#define BP_E820_ENTRIES  0x1e8
#define BP_E820_TABLE    0x2d0
#define HDR_SETUP_SECTS  0x1f1
#define HDR_JUMP         0x200         /* its second byte: the header's end - 0x202 */
#define HDR_MAGIC        0x202         /* "HdrS" */
#define HDR_VERSION      0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS    0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_MAX   0x22c
#define HDR_KERNEL_ALIGN 0x230
#define HDR_XLOADFLAGS   0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE    0x260
#define LOADFLAGS_LOADED_HIGH 0x01
#define XLF_KERNEL_64    0x01          /* a 64-bit entry at load + 0x200 */
#define E820_RAM         1
#define E820_RESERVED    2

/* COM1, the i8042's command port, the CMOS RTC */
#define COM1            0x3f8
#define COM1_IRQ        4
#define I8042_CMD       0x64
#define I8042_RESET     0xfe
#define CMOS_INDEX      0x70
#define CMOS_DATA       0x71

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t *read_file(struct vm *vm, const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(vm, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (buf = malloc((size_t)st.st_size)) &&
        fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
        *size = (size_t)st.st_size;
    } else {
        fail(vm, "cannot read %s", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* ---- the 16450 UART (no FIFO), as the 8250 driver probes and drives it ---- */

struct uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    int thre_pending; /* the "THR empty" interrupt is due (cleared by reading IIR) */
    int line;         /* the level last given to IRQ 4 */
    char text[256];   /* the console line being received */
    size_t len;
    int marked;       /* a line held LINUX_MARK */
};

static void uart_line_done(struct uart *u)
{
    u->text[u->len] = 0;
    printf("NEST86_KVM_LINUX | %s\n", u->text);
    if (strstr(u->text, LINUX_MARK))
        u->marked = 1;
    u->len = 0;
}

static void uart_tx(struct uart *u, uint8_t ch)
{
    if (ch == '\n') {
        uart_line_done(u);
    } else if (ch != '\r' && u->len < sizeof u->text - 1) {
        u->text[u->len++] = (char)ch;
    }
}

/* The interrupt line: THRE interrupt enabled and due (no receive data
 * ever arrives, so that is the only source). */
static int uart_irq(struct vm *vm, struct uart *u)
{
    int level = (u->ier & 0x02) && u->thre_pending;
    if (level == u->line)
        return 0;
    u->line = level;
    struct kvm_irq_level l = { .irq = COM1_IRQ, .level = (uint32_t)level };
    if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
        return fail(vm, "KVM_IRQ_LINE %d: %s", COM1_IRQ, strerror(errno));
    return 0;
}

static void uart_out(struct uart *u, unsigned reg, uint8_t v)
{
    int dlab = u->lcr & 0x80;
    switch (reg) {
    case 0:
        if (dlab) {
            u->dll = v;
        } else if (!(u->mcr & 0x10)) { /* loopback sends nothing out */
            uart_tx(u, v);
            u->thre_pending = 1; /* sent at once: THR empty again */
        }
        break;
    case 1:
        if (dlab) {
            u->dlm = v;
        } else {
            if ((v & 0x02) && !(u->ier & 0x02))
                u->thre_pending = 1; /* enabling it with THR empty raises it */
            u->ier = v & 0x0f;
        }
        break;
    case 3: u->lcr = v; break;
    case 4: u->mcr = v & 0x1f; break;
    case 7: u->scr = v; break;
    default: break; /* FCR (no FIFO on a 16450), LSR, MSR */
    }
}

static uint8_t uart_in(struct uart *u, unsigned reg)
{
    int dlab = u->lcr & 0x80;
    switch (reg) {
    case 0: return dlab ? u->dll : 0; /* no receive data */
    case 1: return dlab ? u->dlm : u->ier;
    case 2:                            /* IIR: THRE, or none; FIFO bits 0 */
        if ((u->ier & 0x02) && u->thre_pending) {
            u->thre_pending = 0;
            return 0x02;
        }
        return 0x01;
    case 3: return u->lcr;
    case 4: return u->mcr;
    case 5: return 0x60;              /* LSR: THR and transmitter empty */
    case 6:
        if (u->mcr & 0x10) /* loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
            return (uint8_t)((u->mcr & 0x01) << 5 | (u->mcr & 0x02) << 3 |
                             (u->mcr & 0x04) << 4 | (u->mcr & 0x08) << 4);
        return 0xb0;                   /* DCD, DSR, CTS */
    default: return u->scr;
    }
}

/*
 * The CMOS RTC, read-only and stopped at one valid time: the kernel
 * reads it at boot and, finding no RTC, would poll for a clear
 * update-in-progress bit (thousands of exits to this client).
 * Registers (MC146818): 0-9 the time in BCD, A with UIP clear, B 24-hour
 * BCD, D "valid", 0x32 the century.
 */
static uint8_t cmos_read(uint8_t index)
{
    static const uint8_t regs[0x80] = {
        [0x00] = 0x00, [0x02] = 0x00, [0x04] = 0x00, /* 00:00:00 */
        [0x06] = 0x07, [0x07] = 0x05, [0x08] = 0x12, [0x09] = 0x26, /* Sat 2026-12-05 */
        [0x0a] = 0x26, [0x0b] = 0x02, [0x0d] = 0x80, [0x32] = 0x20,
    };
    return regs[index & 0x7f];
}

/* ---- loading the kernel ---- */

static int load_kernel(struct vm *vm, const char *kernel, const char *initrd,
                       const char *cmdline, uint64_t *entry)
{
    size_t ksize = 0, isize = 0;
    uint8_t *k = read_file(vm, kernel, &ksize);
    if (!k)
        return -1;
    int rc = -1;
    uint8_t *rd = NULL;
    if (ksize < 0x1000 || memcmp(k + HDR_MAGIC, "HdrS", 4)) {
        fail(vm, "%s is not a bzImage (no HdrS header)", kernel);
        goto out;
    }
    unsigned version = k[HDR_VERSION] | k[HDR_VERSION + 1] << 8;
    unsigned xflags = k[HDR_XLOADFLAGS] | k[HDR_XLOADFLAGS + 1] << 8;
    if (version < 0x020c || !(xflags & XLF_KERNEL_64)) {
        fail(vm, "%s: boot protocol %x.%02x without a 64-bit entry", kernel, version >> 8,
             version & 0xff);
        goto out;
    }
    size_t setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    size_t pm_off = (setup_sects + 1) * 512;
    if (pm_off >= ksize) {
        fail(vm, "%s: truncated", kernel);
        goto out;
    }
    uint8_t *bp = vm->mem + LX_ZERO_PAGE;
    memset(bp, 0, BP_SIZE);
    size_t hdr_end = HDR_MAGIC + k[HDR_JUMP + 1];
    if (hdr_end > BP_SIZE)
        hdr_end = BP_SIZE;
    memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);

    uint64_t load = rd64(bp + HDR_PREF_ADDRESS);
    uint64_t align = rd32(bp + HDR_KERNEL_ALIGN);
    if (!load)
        load = LX_DEFAULT_LOAD;
    if (align && load % align)
        load += align - load % align;
    uint64_t init_size = rd32(bp + HDR_INIT_SIZE);
    size_t pm_size = ksize - pm_off;
    if (init_size < pm_size)
        init_size = pm_size;
    if (load + init_size > LX_MEM) {
        fail(vm, "%s needs %llu MiB from %llu MiB on: more than the guest's RAM", kernel,
             (unsigned long long)(init_size >> 20), (unsigned long long)(load >> 20));
        goto out;
    }
    memcpy(vm->mem + load, k + pm_off, pm_size);
    bp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined loader */
    bp[HDR_LOADFLAGS] |= LOADFLAGS_LOADED_HIGH;
    wr32(bp + HDR_CODE32_START, (uint32_t)load);

    size_t cl = strlen(cmdline);
    uint32_t cl_max = rd32(bp + HDR_CMDLINE_SIZE);
    if (cl >= LX_CMDLINE_MAX || cl > cl_max) {
        fail(vm, "the command line is %zu bytes; the kernel takes %u", cl, cl_max);
        goto out;
    }
    memcpy(vm->mem + LX_CMDLINE, cmdline, cl + 1);
    wr32(bp + HDR_CMD_LINE_PTR, LX_CMDLINE);

    rd = read_file(vm, initrd, &isize);
    if (!rd)
        goto out;
    /* the initramfs at the top of RAM (below initrd_addr_max), page aligned */
    uint64_t top = LX_MEM;
    uint64_t max = rd32(bp + HDR_INITRD_MAX);
    if (max && top > max + 1)
        top = max + 1;
    uint64_t at = (top - isize) & ~0xfffull;
    if (isize >= top || at < load + init_size) {
        fail(vm, "%s (%zu bytes) does not fit above the kernel", initrd, isize);
        goto out;
    }
    memcpy(vm->mem + at, rd, isize);
    wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)at);
    wr32(bp + HDR_RAMDISK_SIZE, (uint32_t)isize);

    /* e820: conventional memory, the legacy hole, then the rest */
    const uint64_t map[][3] = {
        { 0, 0x9fc00, E820_RAM },
        { 0x9fc00, 0x400, E820_RESERVED },
        { 0xf0000, 0x10000, E820_RESERVED },
        { 0x100000, LX_MEM - 0x100000, E820_RAM },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        wr64(bp + BP_E820_TABLE + 20 * i, map[i][0]);
        wr64(bp + BP_E820_TABLE + 20 * i + 8, map[i][1]);
        wr32(bp + BP_E820_TABLE + 20 * i + 16, (uint32_t)map[i][2]);
    }
    bp[BP_E820_ENTRIES] = sizeof map / sizeof map[0];
    *entry = load + 0x200;
    rc = 0;
out:
    free(k);
    free(rd);
    return rc;
}

/* The 64-bit boot protocol's CPU state: long mode on 1:1 paging of the
 * first GiB, __BOOT_CS (0x10) and __BOOT_DS (0x18) flat, interrupts
 * off, RSI = the zero page. */
static int boot_cpu_state(struct vm *vm, uint64_t entry)
{
    uint8_t *m = vm->mem;
    const uint64_t P = 1, W = 2, PS = 0x80;
    put64(m, LX_PML4, LX_PDPT | P | W);
    put64(m, LX_PDPT, LX_PD | P | W);
    for (uint64_t i = 0; i < 512; i++)
        put64(m, LX_PD + i * 8, (i << 21) | P | W | PS);
    const struct long_mode lm = { .gdt = LX_GDT, .cs = 0x10, .ds = 0x18, .cr3 = LX_PML4 };
    struct kvm_regs r = {
        .rip = entry, .rsi = LX_ZERO_PAGE, .rsp = LX_STACK_TOP, .rflags = 2,
    };
    return enter_long_mode(vm, &lm, &r);
}

/* ---- running it ---- */

int guest_linux_run(struct vm *vm, const char *kernel, const char *initrd, const char *cmdline)
{
    if (vm_create(vm, LX_MEM, VM_IRQCHIP) < 0)
        return -1;
    struct kvm_pit_config pit = { .flags = 0 };
    if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
        return fail(vm, "KVM_CREATE_PIT2: %s", strerror(errno));
    uint64_t entry;
    if (load_kernel(vm, kernel, initrd, cmdline, &entry) < 0 || boot_cpu_state(vm, entry) < 0)
        return -1;

    struct uart u = { 0 };
    uint8_t cmos_index = 0;
    unsigned long io_exits = 0, mmio_exits = 0, other_exits = 0;
    static unsigned long port_exits[0x10000];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ended = 0;
    const char *how = "?";
    while (!ended) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > LX_TOTAL_S)
            return fail(vm, "still running after %d s", LX_TOTAL_S);
        if (run_once(vm) < 0)
            return -1;
        struct kvm_run *run = vm->run;
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            io_exits++;
            port_exits[run->io.port]++;
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            for (unsigned c = 0; c < run->io.count; c++, data += run->io.size) {
                unsigned port = run->io.port;
                if (port >= COM1 && port < COM1 + 8 && run->io.size == 1) {
                    if (run->io.direction == KVM_EXIT_IO_OUT)
                        uart_out(&u, port - COM1, data[0]);
                    else
                        data[0] = uart_in(&u, port - COM1);
                } else if (run->io.direction == KVM_EXIT_IO_OUT) {
                    if (port == I8042_CMD && data[0] == I8042_RESET) {
                        ended = 1;
                        how = "reset (i8042)";
                    }
                    if (port == CMOS_INDEX)
                        cmos_index = data[0];
                } else if (port == CMOS_DATA) {
                    data[0] = cmos_read(cmos_index);
                } else {
                    memset(data, 0xff, run->io.size); /* nothing there */
                }
            }
            if (uart_irq(vm, &u) < 0)
                return -1;
            break;
        }
        case KVM_EXIT_MMIO:
            mmio_exits++;
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0xff, sizeof run->mmio.data);
            break;
        case KVM_EXIT_SHUTDOWN:
            ended = 1;
            how = "triple fault";
            break;
        case KVM_EXIT_INTR:
            other_exits++;
            break;
        default: {
            char got[200];
            describe_exit(vm, got, sizeof got);
            if (u.len)
                uart_line_done(&u);
            return fail(vm, "unexpected exit: %s", got);
        }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (u.len)
        uart_line_done(&u);
    printf("NEST86_KVM_LINUX_STATS seconds %.2f io_exits %lu mmio_exits %lu other %lu end %s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, io_exits,
           mmio_exits, other_exits, how);
    /* the busiest ports: where the guest's time at the client goes */
    for (int k = 0; k < 3; k++) {
        unsigned best = 0;
        for (unsigned p = 1; p < 0x10000; p++)
            if (port_exits[p] > port_exits[best])
                best = p;
        if (!port_exits[best])
            break;
        printf("NEST86_KVM_LINUX_STATS port 0x%x exits %lu\n", best, port_exits[best]);
        port_exits[best] = 0;
    }
    if (!u.marked)
        return fail(vm, "the guest ended (%s) without printing %s", how, LINUX_MARK);
    return 0;
}
