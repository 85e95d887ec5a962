/*
 * testsuite/kvm/vm.h — the VM the KVM client's guests run in (vm.c).
 */
#ifndef NEST86_KVM_VM_H
#define NEST86_KVM_VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* A KVM_RUN that has not returned within this many seconds fails. */
#define GUEST_TIMEOUT_S 60

extern int kvm_fd; /* /dev/kvm, opened by main() */

struct vm {
    int fd, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;   /* slot 0: SLOT0_SIZE bytes at guest-physical 0 */
    uint8_t *dirty; /* slot 1: DIRTY_SLOT_PAGES pages at DIRTY_BASE, or NULL */
    size_t mem_size;
    char why[256];  /* the first failure */
};

enum { VM_DIRTY = 1, VM_IRQCHIP = 2 };

/* Records the first failure in vm->why; returns -1. */
int fail(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *map_anon(size_t size);
int set_slot(struct vm *vm, unsigned slot, uint64_t gpa, void *host, size_t size,
             unsigned flags);
/* A VM with one vCPU and slot 0 of MEM_SIZE bytes at 0 (VM_* flags). */
int vm_create(struct vm *vm, size_t mem_size, unsigned flags);
void vm_destroy(struct vm *vm);
void put64(uint8_t *mem, uint64_t addr, uint64_t v);
/* Long mode at CPL 0 for the vCPU: a GDT at GDT gets a flat 64-bit
 * code segment at selector CS and flat data at DS (which SS, ES, FS and
 * GS use too); paging from CR3 (PAE, WP, NE); the IDT as given. */
struct long_mode {
    uint64_t gdt, cr3, idt;
    unsigned cs, ds, idt_limit;
};
int enter_long_mode(struct vm *vm, const struct long_mode *lm, const struct kvm_regs *regs);
/* SIGALRM interrupts KVM_RUN (run_once's timeout). */
void vm_timeouts_init(void);
/* KVM_RUN once; no exit within GUEST_TIMEOUT_S is a failure. */
int run_once(struct vm *vm);
/* The exit in vm->run, for a failure message. */
void describe_exit(struct vm *vm, char *buf, size_t n);

#endif
