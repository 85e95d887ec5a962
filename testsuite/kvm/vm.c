/*
 * testsuite/kvm/vm.c — what every guest of nest86's KVM client needs:
 * a VM with one vCPU and its memory slots (plain /dev/kvm ioctls,
 * Documentation/virt/kvm/api.rst), KVM_RUN with a timeout, and a
 * readable description of an exit for failure messages.
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
#include "vm.h"

int kvm_fd = -1;

int fail(struct vm *vm, const char *fmt, ...)
{
    if (!vm->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vm->why, sizeof vm->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void on_alarm(int sig)
{
    (void)sig; /* only there to interrupt KVM_RUN with EINTR */
}

void vm_timeouts_init(void)
{
    struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: KVM_RUN ends */
    sigaction(SIGALRM, &sa, NULL);
}

void *map_anon(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int set_slot(struct vm *vm, unsigned slot, uint64_t gpa, void *host, size_t size,
                    unsigned flags)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot, .flags = flags, .guest_phys_addr = gpa,
        .memory_size = size, .userspace_addr = (uintptr_t)host,
    };
    if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return fail(vm, "KVM_SET_USER_MEMORY_REGION slot %u: %s", slot, strerror(errno));
    return 0;
}

/*
 * A VM with one vCPU and slot 0 of MEM_SIZE bytes; with VM_DIRTY also
 * slot 1 at DIRTY_BASE with dirty logging; with VM_IRQCHIP KVM's
 * in-kernel PIC, IOAPIC and LAPIC (created before the vCPU, as the API
 * requires).  The TSS and identity-map addresses are set as every VMM
 * does (kvm_intel wants them before a vCPU may run real mode without
 * unrestricted guest), out of the way.
 */
int vm_create(struct vm *vm, size_t mem_size, unsigned flags)
{
    memset(vm, 0, sizeof *vm);
    vm->fd = vm->vcpu = -1;
    vm->mem_size = mem_size;
    vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm->fd < 0)
        return fail(vm, "KVM_CREATE_VM: %s", strerror(errno));
    if (ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
        return fail(vm, "KVM_SET_TSS_ADDR: %s", strerror(errno));
    uint64_t ident = 0xfffbc000;
    if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
        return fail(vm, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
    vm->mem = map_anon(mem_size);
    if (!vm->mem)
        return fail(vm, "mmap of %zu bytes failed", mem_size);
    if (set_slot(vm, 0, 0, vm->mem, mem_size, 0) < 0)
        return -1;
    if (flags & VM_DIRTY) {
        vm->dirty = map_anon((size_t)DIRTY_SLOT_PAGES * 4096);
        if (!vm->dirty)
            return fail(vm, "mmap of the dirty slot failed");
        if (set_slot(vm, 1, DIRTY_BASE, vm->dirty, (size_t)DIRTY_SLOT_PAGES * 4096,
                     KVM_MEM_LOG_DIRTY_PAGES) < 0)
            return -1;
    }
    if ((flags & VM_IRQCHIP) && ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return fail(vm, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
    vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu < 0)
        return fail(vm, "KVM_CREATE_VCPU: %s", strerror(errno));
    int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run))
        return fail(vm, "KVM_GET_VCPU_MMAP_SIZE: %d", sz);
    vm->run_size = (size_t)sz;
    vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
    if (vm->run == MAP_FAILED) {
        vm->run = NULL;
        return fail(vm, "mmap of kvm_run: %s", strerror(errno));
    }
    /* The CPUID KVM supports, as a VMM would pass it on: long mode
     * (EFER.LME) is only valid when the guest's CPUID has LM. */
    int n = 128;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + n * sizeof cpuid->entries[0]);
    if (!cpuid)
        return fail(vm, "out of memory");
    cpuid->nent = n;
    int rc = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
    if (rc == 0)
        rc = ioctl(vm->vcpu, KVM_SET_CPUID2, cpuid);
    free(cpuid);
    if (rc < 0)
        return fail(vm, "KVM_GET_SUPPORTED_CPUID/KVM_SET_CPUID2: %s", strerror(errno));
    return 0;
}

void vm_destroy(struct vm *vm)
{
    if (vm->run)
        munmap(vm->run, vm->run_size);
    if (vm->vcpu >= 0)
        close(vm->vcpu);
    if (vm->fd >= 0)
        close(vm->fd);
    if (vm->mem)
        munmap(vm->mem, vm->mem_size);
    if (vm->dirty)
        munmap(vm->dirty, (size_t)DIRTY_SLOT_PAGES * 4096);
}

void put64(uint8_t *mem, uint64_t addr, uint64_t v)
{
    memcpy(mem + addr, &v, 8);
}

static const char *exit_name(unsigned r)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT", [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN", [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY", [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR", [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
    };
    return r < sizeof names / sizeof names[0] && names[r] ? names[r] : "?";
}

/* Describes the exit in vm->run, for a failure message. */
void describe_exit(struct vm *vm, char *buf, size_t n)
{
    struct kvm_run *run = vm->run;
    struct kvm_regs r;
    unsigned long long rip = ioctl(vm->vcpu, KVM_GET_REGS, &r) == 0 ? r.rip : ~0ull;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        uint64_t d = 0;
        memcpy(&d, (uint8_t *)run + run->io.data_offset, run->io.size <= 8 ? run->io.size : 8);
        snprintf(buf, n, "IO %s port 0x%x size %u count %u data 0x%llx (rip 0x%llx)",
                 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
                 run->io.size, run->io.count, (unsigned long long)d, rip);
        break;
    }
    case KVM_EXIT_MMIO: {
        uint64_t d = 0;
        memcpy(&d, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
        snprintf(buf, n, "MMIO %s 0x%llx len %u data 0x%llx (rip 0x%llx)",
                 run->mmio.is_write ? "write" : "read",
                 (unsigned long long)run->mmio.phys_addr, run->mmio.len,
                 (unsigned long long)d, rip);
        break;
    }
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(buf, n, "FAIL_ENTRY hardware reason 0x%llx",
                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        break;
    case KVM_EXIT_INTERNAL_ERROR: {
        int len = snprintf(buf, n, "INTERNAL_ERROR suberror %u (rip 0x%llx) data",
                           run->internal.suberror, rip);
        for (unsigned i = 0; i < run->internal.ndata && i < 6 && len > 0 && (size_t)len < n; i++)
            len += snprintf(buf + len, n - (size_t)len, " 0x%llx",
                            (unsigned long long)run->internal.data[i]);
        break;
    }
    case KVM_EXIT_UNKNOWN:
        snprintf(buf, n, "UNKNOWN hardware exit reason 0x%llx (rip 0x%llx)",
                 (unsigned long long)run->hw.hardware_exit_reason, rip);
        break;
    default:
        snprintf(buf, n, "%s (%u) (rip 0x%llx)", exit_name(run->exit_reason),
                 run->exit_reason, rip);
    }
}

/* KVM_RUN once; EINTR from the alarm is a timeout. */
int run_once(struct vm *vm)
{
    alarm(GUEST_TIMEOUT_S);
    int rc = ioctl(vm->vcpu, KVM_RUN, 0);
    int err = errno;
    alarm(0);
    if (rc < 0 && err == EINTR)
        return fail(vm, "no exit within %d s", GUEST_TIMEOUT_S);
    if (rc < 0)
        return fail(vm, "KVM_RUN: %s", strerror(err));
    return 0;
}

int enter_long_mode(struct vm *vm, const struct long_mode *lm, const struct kvm_regs *regs)
{
    put64(vm->mem, lm->gdt + lm->cs, 0x00af9b000000ffffull); /* code: L=1, P, DPL 0 */
    put64(vm->mem, lm->gdt + lm->ds, 0x00cf93000000ffffull); /* data: writable, P */
    struct kvm_sregs s;
    if (ioctl(vm->vcpu, KVM_GET_SREGS, &s) < 0)
        return fail(vm, "KVM_GET_SREGS: %s", strerror(errno));
    struct kvm_segment cs = {
        .base = 0, .limit = 0xffffffff, .selector = (uint16_t)lm->cs, .type = 11,
        .present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
    };
    struct kvm_segment ds = cs;
    ds.selector = (uint16_t)lm->ds;
    ds.type = 3;
    ds.l = 0;
    ds.db = 1;
    s.cs = cs;
    s.ds = s.es = s.fs = s.gs = s.ss = ds;
    s.gdt.base = lm->gdt;
    s.gdt.limit = (uint16_t)((lm->cs > lm->ds ? lm->cs : lm->ds) + 7);
    s.idt.base = lm->idt;
    s.idt.limit = (uint16_t)lm->idt_limit;
    s.cr3 = lm->cr3;
    s.cr4 = 0x20;            /* PAE */
    s.cr0 = 0x80050033;      /* PG, AM, WP, NE, ET, MP, PE */
    s.efer = 0x500;          /* LMA, LME */
    if (ioctl(vm->vcpu, KVM_SET_SREGS, &s) < 0)
        return fail(vm, "KVM_SET_SREGS (long mode): %s", strerror(errno));
    if (ioctl(vm->vcpu, KVM_SET_REGS, regs) < 0)
        return fail(vm, "KVM_SET_REGS: %s", strerror(errno));
    return 0;
}
