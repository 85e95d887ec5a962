/*
 * testsuite/kvm/client.c — nest86's own KVM client: runs small guests
 * through /dev/kvm with plain ioctls (Documentation/virt/kvm/api.rst)
 * and checks each one's exits, printing one line per guest:
 *
 *   NEST86_KVM_GUEST <name> PASS
 *   NEST86_KVM_GUEST <name> FAIL <why>
 *
 * It runs inside Linux inside nest86 (the KVM initramfs, /init with
 * nest86.kvm), so what it checks is nest86's VMX and EPT as Debian's
 * kvm_intel uses them.  The guests (guests.S) start in long mode, set
 * up with KVM_SET_SREGS on the client's own 4-level page tables —
 * except the realmode guest, which KVM runs through unrestricted guest
 * or, without it (ept=0), as a virtual-8086 task with CR4.VME.  intr injects interrupts with KVM_INTERRUPT (a VMM's own
 * interrupt controller); timer uses KVM's in-kernel irqchip.
 *
 * Usage: nest86-kvm-client [-s SUFFIX] [GUEST...]   (default: all)
 *        nest86-kvm-client [-s SUFFIX] linux BZIMAGE INITRD CMDLINE
 *   -s SUFFIX  report NAME-SUFFIX instead of NAME (the same guests again
 *              under another kvm_intel configuration, e.g. ept=0)
 *   linux      boot a Linux kernel as the guest (linux.c)
 * Exit status: 0 when no guest failed, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "linux.h"
#include "vm.h"

extern const uint8_t guest_io[], guest_io_hlt[], guest_io_end[];
extern const uint8_t guest_dirty[], guest_dirty_end[];
extern const uint8_t guest_fault[], guest_fault_ud[], guest_fault_gp[], guest_fault_pf[];
extern const uint8_t guest_fault_h_ud[], guest_fault_h_gp[], guest_fault_h_pf[];
extern const uint8_t guest_fault_h_other[], guest_fault_end[];
extern const uint8_t guest_mmio[], guest_mmio_end[];
extern const uint8_t guest_real[], guest_real_end[];
extern const uint8_t guest_intr[], guest_intr_a[], guest_intr_win[], guest_intr_hlt[];
extern const uint8_t guest_intr_h_a[], guest_intr_h_hlt[], guest_intr_h_win[], guest_intr_end[];
extern const uint8_t guest_timer[], guest_timer_h[], guest_timer_h_ioapic[], guest_timer_end[];

/* The guest address of LABEL inside the blob that starts at BLOB. */
#define GADDR(blob, label) ((uint64_t)GUEST_CODE + (uint64_t)((label) - (blob)))


/* A 64-bit interrupt gate (SDM Vol. 3A 6.14.1) to HANDLER, CS 0x08. */
static void idt_gate(uint8_t *mem, unsigned vector, uint64_t handler)
{
    uint64_t lo = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) |
                  ((handler >> 16 & 0xffff) << 48);
    put64(mem, GUEST_IDT + vector * 16, lo);
    put64(mem, GUEST_IDT + vector * 16 + 8, handler >> 32);
}

/*
 * Long mode with the client's own tables: 4-level identity paging of
 * the first GiB (PT below 2 MiB, FAULT_PAGE not present; 2 MiB pages
 * above), a GDT with a 64-bit code segment (0x08) and a data segment
 * (0x10) for IRETQ, an empty IDT, the code of CODE..END at GUEST_CODE.
 */
static int setup_long_mode(struct vm *vm, const uint8_t *code, const uint8_t *end)
{
    uint8_t *m = vm->mem;
    const uint64_t P = 1, W = 2, PS = 0x80;
    put64(m, GUEST_PML4, GUEST_PDPT | P | W);
    put64(m, GUEST_PDPT, GUEST_PD | P | W);
    put64(m, GUEST_PD, GUEST_PT | P | W);
    for (uint64_t i = 1; i < 512; i++)
        put64(m, GUEST_PD + i * 8, (i << 21) | P | W | PS);
    for (uint64_t i = 0; i < 512; i++)
        put64(m, GUEST_PT + i * 8, (i << 12) | P | W);
    /* 3-4 GiB, uncached (PCD, PWT): the LAPIC and IOAPIC registers */
    put64(m, GUEST_PDPT + 3 * 8, GUEST_PD_HI | P | W);
    for (uint64_t i = 0; i < 512; i++)
        put64(m, GUEST_PD_HI + i * 8, ((3ull << 30) + (i << 21)) | P | W | PS | 0x18);
    put64(m, FAULT_PTE, FAULT_PAGE | W); /* not present */
    if ((size_t)(end - code) > GUEST_STACK_TOP - GUEST_CODE)
        return fail(vm, "guest code too large");
    memcpy(m + GUEST_CODE, code, (size_t)(end - code));
    const struct long_mode lm = {
        .gdt = GUEST_GDT, .cs = 0x08, .ds = 0x10, .cr3 = GUEST_PML4,
        .idt = GUEST_IDT, .idt_limit = 256 * 16 - 1,
    };
    struct kvm_regs r = { .rip = GUEST_CODE, .rsp = GUEST_STACK_TOP, .rflags = 2 };
    return enter_long_mode(vm, &lm, &r);
}

/* ---- running a guest against a script of expected exits ---- */

/* S_OUT_ANY: an OUT whose data the step's check looks at */
enum step_kind { S_OUT, S_IN, S_MMIO_W, S_MMIO_R, S_HLT, S_WINDOW, S_OUT_ANY };

struct step {
    enum step_kind kind;
    uint64_t addr;     /* port, MMIO address, or for S_HLT and S_WINDOW the RIP (0: any) */
    unsigned size;     /* bytes */
    uint64_t data;     /* expected (OUT, MMIO write) or given (IN, MMIO read) */
    int (*check)(struct vm *vm); /* run after this exit, before the next KVM_RUN */
};


static const char *const step_names[] = {
    "OUT", "IN", "MMIO write", "MMIO read", "HLT", "IRQ_WINDOW_OPEN", "OUT",
};


static int run_script(struct vm *vm, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct step *st = &steps[i];
        struct kvm_run *run = vm->run;
        char got[200];
        if (run_once(vm) < 0)
            return -1;
        describe_exit(vm, got, sizeof got);
        int ok = 0;
        switch (st->kind) {
        case S_OUT:
        case S_OUT_ANY:
        case S_IN: {
            unsigned dir = st->kind == S_IN ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
            if (run->exit_reason != KVM_EXIT_IO || run->io.direction != dir ||
                run->io.port != st->addr || run->io.size != st->size || run->io.count != 1)
                break;
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            if (st->kind == S_OUT) {
                uint64_t d = 0;
                memcpy(&d, data, st->size);
                ok = d == st->data;
            } else if (st->kind == S_OUT_ANY) {
                ok = 1;
            } else {
                memcpy(data, &st->data, st->size);
                ok = 1;
            }
            break;
        }
        case S_MMIO_W:
        case S_MMIO_R:
            if (run->exit_reason != KVM_EXIT_MMIO || run->mmio.phys_addr != st->addr ||
                run->mmio.len != st->size || run->mmio.is_write != (st->kind == S_MMIO_W))
                break;
            if (st->kind == S_MMIO_W) {
                uint64_t d = 0;
                memcpy(&d, run->mmio.data, st->size);
                ok = d == st->data;
            } else {
                memcpy(run->mmio.data, &st->data, st->size);
                ok = 1;
            }
            break;
        case S_HLT:
        case S_WINDOW:
            if (run->exit_reason != (st->kind == S_HLT ? KVM_EXIT_HLT : KVM_EXIT_IRQ_WINDOW_OPEN))
                break;
            ok = 1;
            if (st->addr) {
                struct kvm_regs r;
                if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0)
                    return fail(vm, "KVM_GET_REGS: %s", strerror(errno));
                if (r.rip != st->addr)
                    return fail(vm, "step %zu: %s exit with rip 0x%llx, expected 0x%llx", i,
                                step_names[st->kind], (unsigned long long)r.rip,
                                (unsigned long long)st->addr);
            }
            break;
        }
        if (!ok) {
            if (st->kind == S_HLT || st->kind == S_WINDOW)
                return fail(vm, "step %zu: expected %s, got %s", i, step_names[st->kind], got);
            return fail(vm, "step %zu: expected %s 0x%llx size %u data 0x%llx, got %s", i,
                        step_names[st->kind], (unsigned long long)st->addr, st->size,
                        (unsigned long long)st->data, got);
        }
        if (st->check && st->check(vm) < 0)
            return -1;
    }
    return 0;
}

/* ---- the guests ---- */

static int guest_io_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_OUT, PORT_IO, 1, 0xab, NULL },
        { S_OUT, PORT_IO, 2, 0x5678, NULL },
        { S_OUT, PORT_IO, 4, 0xdeadbeef, NULL },
        { S_IN, PORT_IO, 4, IO_IN_VALUE, NULL },
        { S_OUT, PORT_RESULT, 4, IO_IN_VALUE + 1, NULL },
        { S_HLT, GADDR(guest_io, guest_io_hlt) + 1, 0, 0, NULL },
    };
    if (vm_create(vm, SLOT0_SIZE, 0) < 0 || setup_long_mode(vm, guest_io, guest_io_end) < 0)
        return -1;
    if (run_script(vm, steps, sizeof steps / sizeof steps[0]) < 0)
        return -1;
    struct kvm_regs r;
    if (ioctl(vm->vcpu, KVM_GET_REGS, &r) < 0)
        return fail(vm, "KVM_GET_REGS: %s", strerror(errno));
    if (r.rax != 0x600d)
        return fail(vm, "rax 0x%llx after HLT, expected 0x600d", (unsigned long long)r.rax);
    return 0;
}

/* KVM_GET_DIRTY_LOG of slot 1 must be exactly the pages in WANT. */
static int check_dirty_log(struct vm *vm, const char *phase, const uint8_t *want)
{
    uint64_t bitmap[DIRTY_SLOT_PAGES / 64] = { 0 };
    struct kvm_dirty_log log = { .slot = 1, .dirty_bitmap = bitmap };
    if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return fail(vm, "%s: KVM_GET_DIRTY_LOG: %s", phase, strerror(errno));
    unsigned missing = 0, extra = 0, first_missing = 0, first_extra = 0;
    for (unsigned p = 0; p < DIRTY_SLOT_PAGES; p++) {
        int got = bitmap[p / 64] >> (p % 64) & 1;
        if (want[p] && !got && !missing++)
            first_missing = p;
        if (!want[p] && got && !extra++)
            first_extra = p;
    }
    if (missing || extra)
        return fail(vm, "%s: dirty log has %u written pages missing (first %u), "
                    "%u others set (first %u)", phase, missing, first_missing, extra, first_extra);
    return 0;
}

static int dirty_phase1(struct vm *vm)
{
    for (uint64_t i = 0; i < DIRTY_PAGES; i++) {
        uint64_t v;
        memcpy(&v, vm->dirty + i * 4096 + i * 8, 8);
        if (v != (DIRTY_MAGIC | i))
            return fail(vm, "page %llu of the slot holds 0x%llx, expected 0x%llx",
                        (unsigned long long)i, (unsigned long long)v,
                        (unsigned long long)(DIRTY_MAGIC | i));
    }
    uint8_t want[DIRTY_SLOT_PAGES] = { 0 };
    memset(want, 1, DIRTY_PAGES);
    return check_dirty_log(vm, "phase 1", want);
}

static int dirty_phase2(struct vm *vm)
{
    static const struct { unsigned page, off; uint64_t v; } w[] = {
        { 7, 0x100, 0x11 }, { 123, 0x200, 0x22 }, { 299, 0xff8, 0x33 }, { 450, 0, 0x44 },
    };
    uint8_t want[DIRTY_SLOT_PAGES] = { 0 };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        uint64_t v;
        memcpy(&v, vm->dirty + w[i].page * 4096 + w[i].off, 8);
        if (v != w[i].v)
            return fail(vm, "phase 2: page %u holds 0x%llx, expected 0x%llx", w[i].page,
                        (unsigned long long)v, (unsigned long long)w[i].v);
        want[w[i].page] = 1;
    }
    return check_dirty_log(vm, "phase 2", want);
}

static int guest_dirty_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_OUT, PORT_RESULT, 4, 1, dirty_phase1 },
        { S_OUT, PORT_RESULT, 4, 2, dirty_phase2 },
        { S_HLT, 0, 0, 0, NULL },
    };
    if (vm_create(vm, SLOT0_SIZE, VM_DIRTY) < 0 || setup_long_mode(vm, guest_dirty, guest_dirty_end) < 0)
        return -1;
    return run_script(vm, steps, sizeof steps / sizeof steps[0]);
}

static int guest_fault_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_OUT, PORT_VECTOR, 4, 6, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_fault, guest_fault_ud), NULL },
        { S_OUT, PORT_VECTOR, 4, 13, NULL },
        { S_OUT, PORT_ERRCODE, 4, 0, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_fault, guest_fault_gp), NULL },
        { S_OUT, PORT_VECTOR, 4, 14, NULL },
        { S_OUT, PORT_ERRCODE, 4, 2, NULL },  /* write to a not-present page, CPL 0 */
        { S_OUT, PORT_CR2, 4, FAULT_PAGE + 8, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_fault, guest_fault_pf), NULL },
        { S_OUT, PORT_RESULT, 4, 0x600dbeef, NULL },
        { S_HLT, 0, 0, 0, NULL },
    };
    if (vm_create(vm, SLOT0_SIZE, 0) < 0 || setup_long_mode(vm, guest_fault, guest_fault_end) < 0)
        return -1;
    for (unsigned v = 0; v < 32; v++)
        idt_gate(vm->mem, v, GADDR(guest_fault, guest_fault_h_other));
    idt_gate(vm->mem, 6, GADDR(guest_fault, guest_fault_h_ud));
    idt_gate(vm->mem, 13, GADDR(guest_fault, guest_fault_h_gp));
    idt_gate(vm->mem, 14, GADDR(guest_fault, guest_fault_h_pf));
    return run_script(vm, steps, sizeof steps / sizeof steps[0]);
}

static int guest_mmio_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_MMIO_W, MMIO_BASE, 4, 0x12345678, NULL },
        { S_MMIO_W, MMIO_BASE + 0x10, 1, 0x9a, NULL },
        { S_MMIO_R, MMIO_BASE + 0x20, 4, MMIO_IN_VALUE, NULL },
        { S_OUT, PORT_RESULT, 4, MMIO_IN_VALUE, NULL },
        { S_MMIO_W, MMIO_BASE + 0x28, 8, 0x1122334455667788ull, NULL },
        { S_HLT, 0, 0, 0, NULL },
    };
    if (vm_create(vm, SLOT0_SIZE, 0) < 0 || setup_long_mode(vm, guest_mmio, guest_mmio_end) < 0)
        return -1;
    return run_script(vm, steps, sizeof steps / sizeof steps[0]);
}

/*
 * intr: KVM_INTERRUPT, as a VMM without an in-kernel irqchip injects.
 * KVM reports in kvm_run whether the guest can take one now
 * (if_flag, ready_for_interrupt_injection); when it cannot, the VMM
 * sets request_interrupt_window and KVM exits with IRQ_WINDOW_OPEN as
 * soon as it can — through the CPU's interrupt-window exiting.
 */
static int inject(struct vm *vm, unsigned vector)
{
    struct kvm_interrupt irq = { .irq = vector };
    if (ioctl(vm->vcpu, KVM_INTERRUPT, &irq) < 0)
        return fail(vm, "KVM_INTERRUPT 0x%x: %s", vector, strerror(errno));
    return 0;
}

static int intr_open_inject(struct vm *vm)
{
    if (!vm->run->if_flag || !vm->run->ready_for_interrupt_injection)
        return fail(vm, "after STI: if_flag %u ready_for_interrupt_injection %u, expected 1 1",
                    vm->run->if_flag, vm->run->ready_for_interrupt_injection);
    return inject(vm, INTR_VEC_A);
}

static int intr_closed_request(struct vm *vm)
{
    if (vm->run->if_flag || vm->run->ready_for_interrupt_injection)
        return fail(vm, "after CLI: if_flag %u ready_for_interrupt_injection %u, expected 0 0",
                    vm->run->if_flag, vm->run->ready_for_interrupt_injection);
    vm->run->request_interrupt_window = 1;
    return 0;
}

static int intr_window_inject(struct vm *vm)
{
    vm->run->request_interrupt_window = 0;
    if (!vm->run->if_flag || !vm->run->ready_for_interrupt_injection)
        return fail(vm, "at the window: if_flag %u ready_for_interrupt_injection %u",
                    vm->run->if_flag, vm->run->ready_for_interrupt_injection);
    return inject(vm, INTR_VEC_WIN);
}

static int intr_hlt_inject(struct vm *vm)
{
    return inject(vm, INTR_VEC_HLT);
}

static int guest_intr_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_OUT, PORT_RESULT, 4, 1, intr_open_inject },
        { S_OUT, PORT_VECTOR, 4, INTR_VEC_A, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_intr, guest_intr_a), NULL },
        { S_OUT, PORT_RESULT, 4, 2, NULL },
        { S_OUT, PORT_RESULT, 4, 3, intr_closed_request },
        { S_WINDOW, GADDR(guest_intr, guest_intr_win), 0, 0, intr_window_inject },
        { S_OUT, PORT_VECTOR, 4, INTR_VEC_WIN, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_intr, guest_intr_win), NULL },
        { S_OUT, PORT_RESULT, 4, 4, NULL },
        { S_HLT, GADDR(guest_intr, guest_intr_hlt), 0, 0, intr_hlt_inject },
        { S_OUT, PORT_VECTOR, 4, INTR_VEC_HLT, NULL },
        { S_OUT, PORT_RIP, 4, GADDR(guest_intr, guest_intr_hlt), NULL },
        { S_OUT, PORT_RESULT, 4, 5, NULL },
        { S_HLT, 0, 0, 0, NULL },
    };
    if (vm_create(vm, SLOT0_SIZE, 0) < 0 || setup_long_mode(vm, guest_intr, guest_intr_end) < 0)
        return -1;
    idt_gate(vm->mem, INTR_VEC_A, GADDR(guest_intr, guest_intr_h_a));
    idt_gate(vm->mem, INTR_VEC_HLT, GADDR(guest_intr, guest_intr_h_hlt));
    idt_gate(vm->mem, INTR_VEC_WIN, GADDR(guest_intr, guest_intr_h_win));
    return run_script(vm, steps, sizeof steps / sizeof steps[0]);
}

/*
 * timer: KVM's in-kernel LAPIC and IOAPIC.  The LAPIC timer ticks
 * inside KVM (kvm_intel drives it with the VMX-preemption timer when
 * it may, else with a host hrtimer); the guest's HLTs never reach the
 * client.  Then the client raises a GSI with KVM_IRQ_LINE and the
 * IOAPIC delivers the vector the guest routed it to.
 */
static int timer_version(struct vm *vm)
{
    uint32_t v;
    memcpy(&v, (uint8_t *)vm->run + vm->run->io.data_offset, 4);
    /* SDM 10.4.8: bits 7:0 the version (KVM's integrated APIC: 0x14),
     * bits 23:16 the number of LVT entries minus 1 */
    if ((v & 0xff) != 0x14 || (v >> 16 & 0xff) < 4)
        return fail(vm, "LAPIC version register 0x%x, expected version 0x14 and >= 5 LVTs", v);
    return 0;
}

static int timer_raise(struct vm *vm)
{
    struct kvm_irq_level l = { .irq = IOAPIC_GSI, .level = 1 };
    if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
        return fail(vm, "KVM_IRQ_LINE %u high: %s", IOAPIC_GSI, strerror(errno));
    l.level = 0;
    if (ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0)
        return fail(vm, "KVM_IRQ_LINE %u low: %s", IOAPIC_GSI, strerror(errno));
    return 0;
}

static int guest_timer_run(struct vm *vm)
{
    struct step steps[3 + TIMER_TICKS + 4];
    size_t n = 0;
    steps[n++] = (struct step){ S_OUT_ANY, PORT_INFO, 4, 0, timer_version };
    for (unsigned i = 0; i < TIMER_TICKS; i++)
        steps[n++] = (struct step){ S_OUT, PORT_VECTOR, 4, TIMER_VEC, NULL };
    steps[n++] = (struct step){ S_OUT, PORT_RESULT, 4, TIMER_TICKS, NULL };
    steps[n++] = (struct step){ S_OUT, PORT_RESULT, 4, TIMER_DONE, NULL };
    steps[n++] = (struct step){ S_OUT, PORT_RESULT, 4, IOAPIC_READY, timer_raise };
    steps[n++] = (struct step){ S_OUT, PORT_VECTOR, 4, IOAPIC_VEC, NULL };
    steps[n++] = (struct step){ S_OUT, PORT_RESULT, 4, IOAPIC_DONE, NULL };
    if (vm_create(vm, SLOT0_SIZE, VM_IRQCHIP) < 0 ||
        setup_long_mode(vm, guest_timer, guest_timer_end) < 0)
        return -1;
    idt_gate(vm->mem, TIMER_VEC, GADDR(guest_timer, guest_timer_h));
    idt_gate(vm->mem, IOAPIC_VEC, GADDR(guest_timer, guest_timer_h_ioapic));
    return run_script(vm, steps, n);
}

static int guest_real_run(struct vm *vm)
{
    const struct step steps[] = {
        { S_OUT, PORT_RESULT, 1, 0x42, NULL },
        { S_MMIO_W, REAL_MMIO_SEG * 16 + 0x10, 2, 0xbeef, NULL },
        { S_HLT, 0, 0, 0, NULL },
    };
    if (vm_create(vm, 0x10000, 0) < 0)
        return -1;
    memcpy(vm->mem + GUEST_REAL_CODE, guest_real, (size_t)(guest_real_end - guest_real));
    struct kvm_sregs s;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0)
        return fail(vm, "KVM_GET_SREGS: %s", strerror(errno));
    if (s.cr0 & 1)
        return fail(vm, "a new vCPU has CR0.PE set (0x%llx)", (unsigned long long)s.cr0);
    s.cs.selector = 0;
    s.cs.base = 0;
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &s) < 0)
        return fail(vm, "KVM_SET_SREGS (real mode): %s", strerror(errno));
    struct kvm_regs r = { .rip = GUEST_REAL_CODE, .rflags = 2 };
    if (ioctl(vm->vcpu, KVM_SET_REGS, &r) < 0)
        return fail(vm, "KVM_SET_REGS: %s", strerror(errno));
    return run_script(vm, steps, sizeof steps / sizeof steps[0]);
}

static const struct guest {
    const char *name;
    int (*run)(struct vm *vm);
} guests[] = {
    { "io", guest_io_run },
    { "dirty", guest_dirty_run },
    { "fault", guest_fault_run },
    { "mmio", guest_mmio_run },
    { "realmode", guest_real_run },
    { "intr", guest_intr_run },
    { "timer", guest_timer_run },
};

static void report(const char *name, const char *suffix, int rc, const struct vm *vm)
{
    if (rc == 0)
        printf("NEST86_KVM_GUEST %s%s%s PASS\n", name, *suffix ? "-" : "", suffix);
    else
        printf("NEST86_KVM_GUEST %s%s%s FAIL %s\n", name, *suffix ? "-" : "", suffix,
               vm->why[0] ? vm->why : "?");
}

static int wanted(const char *name, int first, int argc, char **argv)
{
    if (first >= argc)
        return 1;
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    vm_timeouts_init();

    const char *suffix = "";
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "-s")) {
        suffix = argv[2];
        first = 3;
    }
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("NEST86_KVM_CLIENT cannot open /dev/kvm: %s\n", strerror(errno));
        return 1;
    }
    int api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        printf("NEST86_KVM_CLIENT KVM API version %d, expected %d\n", api, KVM_API_VERSION);
        return 1;
    }
    int failed = 0;
    if (first < argc && !strcmp(argv[first], "linux")) {
        if (argc - first != 4) {
            printf("NEST86_KVM_CLIENT usage: linux BZIMAGE INITRD CMDLINE\n");
            return 2;
        }
        struct vm vm;
        int rc = guest_linux_run(&vm, argv[first + 1], argv[first + 2], argv[first + 3]);
        report("linux", suffix, rc, &vm);
        vm_destroy(&vm);
        return rc != 0;
    }
    for (size_t i = 0; i < sizeof guests / sizeof guests[0]; i++) {
        const struct guest *g = &guests[i];
        if (!wanted(g->name, first, argc, argv))
            continue;
        struct vm vm;
        int rc = g->run(&vm);
        report(g->name, suffix, rc, &vm);
        failed |= rc != 0;
        vm_destroy(&vm);
    }
    return failed;
}
