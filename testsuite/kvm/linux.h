/*
 * testsuite/kvm/linux.h — the KVM client's "linux" guest (linux.c).
 */
#ifndef NEST86_KVM_LINUX_H
#define NEST86_KVM_LINUX_H

struct vm;

/* What the nested guest's /init prints when it has reached userspace;
 * the guest passes only when a console line holds it. */
#define LINUX_MARK "NEST86_NESTED_LINUX_OK"

/* Boots the bzImage KERNEL with INITRD and CMDLINE as KVM's guest, to
 * its reboot (triple fault or i8042 reset); 0 when it printed LINUX_MARK
 * first. */
int guest_linux_run(struct vm *vm, const char *kernel, const char *initrd, const char *cmdline);

#endif
