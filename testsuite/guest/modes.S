/*
 * modes: the code that runs in compatibility mode (a 32-bit code segment,
 * CS.L=0 CS.D=1, while IA32_EFER.LMA=1) and in legacy protected mode
 * after leaving IA-32e mode. Results go to the modes_* variables below.
 */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x18

	.text
	.code64

	/* void modes_compat_probe(void) */
	.globl modes_compat_probe
modes_compat_probe:
	push %rbx
	push %rbp
	movq %rsp, saved_rsp(%rip)
	/* Far return into the 32-bit code segment (SDM Vol. 3A, 5.8.2). */
	pushq $SEL_CODE32
	pushq $compat_entry
	lretq

	.code32
compat_entry:
	/* PUSH uses the 32-bit stack-address and operand size here. */
	movl %esp, %ecx
	push %eax
	movl %esp, %edx
	pop %eax
	subl %edx, %ecx
	movl %ecx, modes_compat_push_size

	/* 48H is DEC EAX outside 64-bit mode (a REX.W prefix inside). */
	movl $5, %eax
	.byte 0x48, 0xff, 0xc0 /* DEC EAX; INC EAX */
	movl %eax, modes_compat_rex_result

	/* With CS.D=1, 66H selects 16-bit operands: only AX changes. */
	movl $0x12345678, %eax
	.byte 0x66, 0xb8, 0xcd, 0xab /* MOV AX, 0ABCDH */
	movl %eax, modes_compat_opsize_result

	movw %cs, %ax
	movw %ax, modes_compat_cs

	/*
	 * Leave IA-32e mode (SDM Vol. 3A, 10.8.5.4): from compatibility mode
	 * clear CR0.PG; the processor clears EFER.LMA. LME stays 1, so setting
	 * PG again re-enters IA-32e mode (10.8.5) with the same CR3.
	 */
	movl %cr0, %eax
	andl $0x7fffffff, %eax
	movl %eax, %cr0
	movl $0xC0000080, %ecx
	rdmsr
	movl %eax, modes_legacy_efer
	movl %cr0, %eax
	movl %eax, modes_legacy_cr0

	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	movl $0xC0000080, %ecx
	rdmsr
	movl %eax, modes_reentered_efer

	ljmp $SEL_CODE64, $back64

	.code64
back64:
	movq saved_rsp(%rip), %rsp
	pop %rbp
	pop %rbx
	ret

	/* void modes_compat_ud2(void): UD2 in compatibility mode (rt_try). */
	.globl modes_compat_ud2, modes_compat_ud2_insn
modes_compat_ud2:
	pushq $SEL_CODE32
	pushq $modes_compat_ud2_insn
	lretq
	.code32
modes_compat_ud2_insn:
	ud2
	.code64

	.data
	.p2align 3
saved_rsp:
	.quad 0
	.globl modes_compat_push_size, modes_compat_rex_result
	.globl modes_compat_opsize_result, modes_compat_cs
	.globl modes_legacy_efer, modes_legacy_cr0, modes_reentered_efer
modes_compat_push_size:
	.long 0
modes_compat_rex_result:
	.long 0
modes_compat_opsize_result:
	.long 0
modes_legacy_efer:
	.long 0
modes_legacy_cr0:
	.long 0
modes_reentered_efer:
	.long 0
modes_compat_cs:
	.word 0

	.section .note.GNU-stack, "", @progbits
