/*
 * IRQ 12 handler for ps2_mouse.c: takes the byte the mouse put in the
 * i8042's output buffer into mouse_bytes[], then EOIs the slave and the
 * master 8259 (IRQ 12 comes through the cascade on IRQ 2).
 */
	.text
	.globl mouse_irq_entry
mouse_irq_entry:
	push %rax
	push %rbx
	xor %eax, %eax
	inb $0x60, %al
	movl mouse_count(%rip), %ebx
	andl $63, %ebx
	leaq mouse_bytes(%rip), %rdx
	movb %al, (%rdx,%rbx)
	incl mouse_count(%rip)
	movb $0x20, %al               /* OCW2: non-specific EOI, slave then master */
	outb %al, $0xA0
	outb %al, $0x20
	pop %rbx
	pop %rax
	iretq

	.section .note.GNU-stack, "", @progbits
