/*
 * Handlers for lm64_irq.c: IRQ0 through the remapped 8259 (counts, keeps
 * the interrupted RIP, sends a non-specific EOI) and a #DB handler that
 * keeps the trap RIP and clears RFLAGS.TF in the frame.
 */
	.text
	.globl irq_timer_entry, irq_db_entry
irq_timer_entry:
	push %rax
	movq 8(%rsp), %rax            /* frame: RIP above the saved RAX */
	movq %rax, irq_last_rip(%rip)
	incl irq_count(%rip)
	movb $0x20, %al               /* OCW2: non-specific EOI */
	outb %al, $0x20
	pop %rax
	iretq

irq_db_entry:
	push %rax
	movq 8(%rsp), %rax
	movq %rax, irq_db_rip(%rip)
	incl irq_db_count(%rip)
	andq $~0x100, 24(%rsp)        /* RFLAGS.TF off in the frame */
	pop %rax
	iretq

	.section .note.GNU-stack, "", @progbits
