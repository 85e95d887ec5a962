/*
 * testsuite/kvm/layout.h — the guest-physical layout and the ports the
 * KVM client's guests use; shared by client.c and guests.S, so plain
 * numbers only.
 *
 * Slot 0 (SLOT0_SIZE from 0) holds the page tables, GDT, IDT, code and
 * stack; slot 1 (DIRTY_BASE, DIRTY_SLOT_PAGES pages) is the memory the
 * dirty guest writes, logged with KVM_MEM_LOG_DIRTY_PAGES.  The guest's
 * page tables map the first GiB 1:1: 4 KiB pages (PT) below 2 MiB, 2 MiB
 * pages above, except FAULT_PAGE, whose PTE is not present.  MMIO_BASE
 * is mapped by the guest but lies in no slot.
 */
#ifndef NEST86_KVM_LAYOUT_H
#define NEST86_KVM_LAYOUT_H

#define SLOT0_SIZE       0x200000
#define GUEST_PML4       0x1000
#define GUEST_PDPT       0x2000
#define GUEST_PD         0x3000
#define GUEST_PT         0x4000
#define GUEST_GDT        0x5000
#define GUEST_IDT        0x6000      /* 256 gates */
#define GUEST_PD_HI      0x7000      /* 3-4 GiB: the LAPIC and IOAPIC */
#define GUEST_DATA       0x9000      /* the interrupt guests' counters */
#define GUEST_CODE       0x10000
#define GUEST_STACK_TOP  0x80000
#define GUEST_REAL_CODE  0x1000

#define FAULT_PAGE       0x1ff000
#define FAULT_PTE        (GUEST_PT + (FAULT_PAGE >> 12) * 8)

#define DIRTY_BASE       0x200000
#define DIRTY_SLOT_PAGES 512
#define DIRTY_PAGES      300
#define DIRTY_READ_FIRST 400
#define DIRTY_MAGIC      0x5a5a000000000000

#define MMIO_BASE        0x10000000
#define REAL_MMIO_SEG    0x2000      /* 0x20000: above the real-mode guest's 64 KiB slot */

#define PORT_RESULT      0x10
#define PORT_VECTOR      0x11
#define PORT_ERRCODE     0x12
#define PORT_CR2         0x13
#define PORT_RIP         0x14
#define PORT_INFO        0x15
#define PORT_IO          0x1234

/* the interrupt guests (intr: KVM_INTERRUPT; timer: KVM_CREATE_IRQCHIP) */
#define INTR_VEC_A       0x40        /* injected after an OUT, IF=1 */
#define INTR_VEC_HLT     0x41        /* injected into a halted guest */
#define INTR_VEC_WIN     0x42        /* injected at an interrupt window */
#define LAPIC_BASE       0xfee00000
#define IOAPIC_BASE      0xfec00000
#define TIMER_VEC        0x50        /* the LAPIC timer's LVT vector */
#define TIMER_TICKS      3           /* periodic ticks the guest waits for */
#define TIMER_COUNT      200000      /* initial count, divide by 1 */
#define IOAPIC_VEC       0x51
#define IOAPIC_GSI       5           /* raised by the client with KVM_IRQ_LINE */
#define TIMER_DONE       0x10        /* PORT_RESULT values of the timer guest */
#define IOAPIC_READY     0x11
#define IOAPIC_DONE      0x12

#define IO_IN_VALUE      0x13572468
#define MMIO_IN_VALUE    0xcafef00d

#endif
