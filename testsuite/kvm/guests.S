/*
 * testsuite/kvm/guests.S — the code the KVM client (client.c) copies
 * into its guests.  Each guest is a blob between NAME and NAME_end,
 * copied to GUEST_CODE (layout.h) and entered there, so it only uses
 * RIP-relative or absolute addresses; client.c turns a label into a
 * guest address as GUEST_CODE + (label - NAME).
 */
#include "layout.h"

        .section .rodata
        .code64

/* io: port I/O of every size both ways, then HLT. */
        .globl guest_io, guest_io_hlt, guest_io_end
guest_io:
        mov     $PORT_IO, %dx
        mov     $0xab, %al
        out     %al, %dx                /* OUT 1 byte */
        mov     $0x5678, %ax
        out     %ax, %dx                /* OUT 2 bytes */
        mov     $0xdeadbeef, %eax
        out     %eax, %dx               /* OUT 4 bytes */
        in      %dx, %eax               /* IN 4 bytes: the client gives IO_IN_VALUE */
        add     $1, %eax
        out     %eax, $PORT_RESULT      /* IO_IN_VALUE + 1: the IN reached RAX */
        mov     $0x600d, %eax
guest_io_hlt:
        hlt
guest_io_end:

/*
 * dirty: phase 1 writes DIRTY_PAGES pages of the logged slot (page i
 * gets DIRTY_MAGIC | i at offset 8 * i) and only reads the pages from
 * DIRTY_READ_FIRST on; phase 2 writes four pages again.  Each phase
 * ends with OUT PORT_RESULT = phase number.
 */
        .globl guest_dirty, guest_dirty_end
guest_dirty:
        xor     %ecx, %ecx
1:      mov     %rcx, %rdi
        shl     $12, %rdi
        lea     (%rdi,%rcx,8), %rdi
        mov     $DIRTY_MAGIC, %rax
        or      %rcx, %rax
        mov     %rax, DIRTY_BASE(%rdi)
        inc     %ecx
        cmp     $DIRTY_PAGES, %ecx
        jb      1b
        mov     $DIRTY_READ_FIRST, %ecx
2:      mov     %rcx, %rdi
        shl     $12, %rdi
        mov     DIRTY_BASE(%rdi), %rax  /* reads must not dirty a page */
        inc     %ecx
        cmp     $DIRTY_READ_FIRST + 10, %ecx
        jb      2b
        mov     $1, %eax
        out     %eax, $PORT_RESULT
        movq    $0x11, DIRTY_BASE + 7 * 4096 + 0x100
        movq    $0x22, DIRTY_BASE + 123 * 4096 + 0x200
        movq    $0x33, DIRTY_BASE + 299 * 4096 + 0xff8
        movq    $0x44, DIRTY_BASE + 450 * 4096
        mov     $2, %eax
        out     %eax, $PORT_RESULT
        hlt
guest_dirty_end:

/*
 * fault: #UD, #GP and #PF under the guest's own paging and IDT.  The
 * handlers report the vector (PORT_VECTOR), the error code
 * (PORT_ERRCODE), CR2 (PORT_CR2) and the faulting RIP (PORT_RIP).  #UD
 * and #GP resume at R15; #PF makes the page present and retries.
 */
        .globl guest_fault, guest_fault_ud, guest_fault_gp, guest_fault_pf
        .globl guest_fault_h_ud, guest_fault_h_gp, guest_fault_h_pf, guest_fault_h_other
        .globl guest_fault_end
guest_fault:
        lea     1f(%rip), %r15
guest_fault_ud:
        ud2
1:      lea     2f(%rip), %r15
        mov     $0x8000000000000000, %rax
guest_fault_gp:
        mov     (%rax), %rax            /* non-canonical: #GP(0) */
2:
guest_fault_pf:
        movl    $0x600dbeef, FAULT_PAGE + 8     /* not present: #PF, W=1 */
        mov     FAULT_PAGE + 8, %eax
        out     %eax, $PORT_RESULT
        hlt

guest_fault_h_ud:
        mov     $6, %eax
        out     %eax, $PORT_VECTOR
        mov     (%rsp), %rax
        out     %eax, $PORT_RIP
        mov     %r15, (%rsp)
        iretq
guest_fault_h_gp:
        mov     $13, %eax
        out     %eax, $PORT_VECTOR
        pop     %rax
        out     %eax, $PORT_ERRCODE
        mov     (%rsp), %rax
        out     %eax, $PORT_RIP
        mov     %r15, (%rsp)
        iretq
guest_fault_h_pf:
        mov     $14, %eax
        out     %eax, $PORT_VECTOR
        pop     %rax
        out     %eax, $PORT_ERRCODE
        mov     %cr2, %rax
        out     %eax, $PORT_CR2
        mov     (%rsp), %rax
        out     %eax, $PORT_RIP
        orq     $1, FAULT_PTE           /* present: the retry succeeds */
        mov     %cr2, %rax
        invlpg  (%rax)
        iretq
guest_fault_h_other:
        mov     $0xff, %eax
        out     %eax, $PORT_VECTOR
        hlt
guest_fault_end:

/* mmio: writes of 4, 1 and 8 bytes and a 4-byte read outside any slot. */
        .globl guest_mmio, guest_mmio_end
guest_mmio:
        movl    $0x12345678, MMIO_BASE
        movb    $0x9a, MMIO_BASE + 0x10
        mov     MMIO_BASE + 0x20, %eax  /* the client gives MMIO_IN_VALUE */
        out     %eax, $PORT_RESULT
        mov     $0x1122334455667788, %rax
        mov     %rax, MMIO_BASE + 0x28
        hlt
guest_mmio_end:

/*
 * intr: interrupts injected by the client with KVM_INTERRUPT (no
 * in-kernel irqchip): one after an OUT with IF=1, one at the interrupt
 * window KVM opens for an STI, one into a halted guest.  Each handler
 * reports its vector (PORT_VECTOR) and the RIP it interrupted
 * (PORT_RIP).
 */
        .globl guest_intr, guest_intr_a, guest_intr_win, guest_intr_hlt, guest_intr_end
        .globl guest_intr_h_a, guest_intr_h_hlt, guest_intr_h_win
guest_intr:
        sti
        mov     $1, %eax
        out     %eax, $PORT_RESULT      /* the client injects INTR_VEC_A */
guest_intr_a:
        mov     $2, %eax
        out     %eax, $PORT_RESULT
        cli
        mov     $3, %eax
        out     %eax, $PORT_RESULT      /* IF=0: the client asks for a window */
        mov     $100, %ecx
1:      dec     %ecx
        jnz     1b
        sti
        nop                             /* blocked by STI until this retires */
guest_intr_win:
        mov     $4, %eax
        out     %eax, $PORT_RESULT
        hlt                             /* KVM_EXIT_HLT: the client injects INTR_VEC_HLT */
guest_intr_hlt:
        mov     $5, %eax
        out     %eax, $PORT_RESULT
        cli
        hlt
guest_intr_h_a:
        push    %rax
        mov     $INTR_VEC_A, %eax
        jmp     1f
guest_intr_h_hlt:
        push    %rax
        mov     $INTR_VEC_HLT, %eax
        jmp     1f
guest_intr_h_win:
        push    %rax
        mov     $INTR_VEC_WIN, %eax
1:      out     %eax, $PORT_VECTOR
        mov     8(%rsp), %rax           /* the interrupted RIP */
        out     %eax, $PORT_RIP
        pop     %rax
        iretq
guest_intr_end:

/*
 * timer: with KVM's in-kernel irqchip (KVM_CREATE_IRQCHIP).  The guest
 * programs its xAPIC (MMIO at LAPIC_BASE, which KVM emulates or, with
 * APIC virtualization, the CPU virtualizes) for TIMER_TICKS periodic
 * timer interrupts, halting between them (HLT stays inside KVM), then
 * routes IOAPIC_GSI to IOAPIC_VEC and waits for the client to raise
 * that line with KVM_IRQ_LINE.  GUEST_DATA counts timer interrupts,
 * GUEST_DATA + 4 IOAPIC ones.
 */
        .globl guest_timer, guest_timer_h, guest_timer_h_ioapic, guest_timer_end
guest_timer:
        mov     $LAPIC_BASE, %ebx       /* above 2 GiB: no disp32, so a base register */
        mov     $IOAPIC_BASE, %ebp
        mov     0x30(%rbx), %eax /* version register */
        out     %eax, $PORT_INFO
        movl    $0x1ff, 0xf0(%rbx)       /* SVR: enabled, spurious 0xff */
        movl    $0x10700, 0x350(%rbx)    /* LINT0 masked: no PIC ExtINT */
        movl    $0xb, 0x3e0(%rbx)        /* divide by 1 */
        movl    $(0x20000 | TIMER_VEC), 0x320(%rbx) /* periodic */
        movl    $TIMER_COUNT, 0x380(%rbx)
1:      cli                             /* STI;HLT: no tick lost between test and halt */
        cmpl    $TIMER_TICKS, GUEST_DATA
        jae     2f
        sti
        hlt
        jmp     1b
2:      sti
        mov     GUEST_DATA, %eax
        out     %eax, $PORT_RESULT      /* TIMER_TICKS */
        mov     $TIMER_DONE, %eax
        out     %eax, $PORT_RESULT
        /* IOAPIC: redirection entry of IOAPIC_GSI: fixed, edge, to APIC 0 */
        movl    $(0x10 + 2 * IOAPIC_GSI + 1), (%rbp)
        movl    $0, 0x10(%rbp)
        movl    $(0x10 + 2 * IOAPIC_GSI), (%rbp)
        movl    $IOAPIC_VEC, 0x10(%rbp)
        mov     $IOAPIC_READY, %eax
        out     %eax, $PORT_RESULT      /* the client raises IOAPIC_GSI */
2:      cli
        cmpl    $0, GUEST_DATA + 4
        jne     3f
        sti
        hlt
        jmp     2b
3:      mov     $IOAPIC_DONE, %eax
        out     %eax, $PORT_RESULT
        cli
        hlt
guest_timer_h:
        push    %rax
        push    %rbx
        mov     $LAPIC_BASE, %ebx
        incl    GUEST_DATA
        cmpl    $TIMER_TICKS, GUEST_DATA
        jb      1f
        movl    $0x10000, 0x320(%rbx)    /* enough: mask the timer */
1:      mov     $TIMER_VEC, %eax
        out     %eax, $PORT_VECTOR
        movl    $0, 0xb0(%rbx)   /* EOI */
        pop     %rbx
        pop     %rax
        iretq
guest_timer_h_ioapic:
        push    %rax
        push    %rbx
        mov     $LAPIC_BASE, %ebx
        incl    GUEST_DATA + 4
        mov     $IOAPIC_VEC, %eax
        out     %eax, $PORT_VECTOR
        movl    $0, 0xb0(%rbx)   /* EOI */
        pop     %rbx
        pop     %rax
        iretq
guest_timer_end:

/* realmode: entered at 0000:GUEST_REAL_CODE with CR0.PE clear. */
        .code16
        .globl guest_real, guest_real_end
guest_real:
        mov     $0x42, %al
        out     %al, $PORT_RESULT
        mov     $REAL_MMIO_SEG, %ax
        mov     %ax, %es
        movw    $0xbeef, %es:0x10       /* REAL_MMIO_SEG * 16 + 0x10: no slot */
        hlt
guest_real_end:
        .code64

        .section .note.GNU-stack, "", @progbits
