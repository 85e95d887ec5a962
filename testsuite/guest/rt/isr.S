/*
 * Exception entry stubs for vectors 0..31 and rt_try(), in a 32-bit and a
 * 64-bit variant. Each stub makes the frame uniform (a zero error code for
 * vectors that push none), pushes the vector and enters rt_exception()
 * with a pointer to struct rt_frame (rt/idt.c).
 *
 * Vectors with an error code: 8, 10-14, 17, 21, 29, 30
 * (SDM Vol. 3A, 6.15 "Exception and Interrupt Reference").
 */

	.macro ISR vec
	.p2align 4
rt_isr_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push $0
	.endif
	push $\vec
	jmp rt_isr_common
	.endm

	.text
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR \v
	.endr

#ifdef __x86_64__
#include "callee_saved.h"
rt_isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	movq %rsp, %rdi
	cld
	call rt_exception
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	addq $16, %rsp /* vector, error code */
	iretq

	/* int rt_try(void (*fn)(void)) */
	.globl rt_try, rt_try_resume
rt_try:
	PUSH_CALLEE_SAVED
	subq $8, %rsp /* keep the ABI's 16-byte alignment at the call */
	movq %rsp, rt_try_sp(%rip)
	call *%rdi
	movq $0, rt_try_sp(%rip)
	movl $-1, %eax
	jmp 1f
rt_try_resume: /* rt_exception() points the faulting frame here */
	movq rt_try_sp(%rip), %rsp
	movq $0, rt_try_sp(%rip)
	movl rt_try_vector(%rip), %eax
	/* Shared epilogue (rt_user_call too): the frame is 6 saved registers
	   and 8 bytes of padding. */
	.globl rt_saved_regs_return
rt_saved_regs_return:
1:	addq $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.section .rodata
	.globl rt_isr_table
	.p2align 3
rt_isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad rt_isr_\v
	.endr

#else /* 32-bit */
rt_isr_common:
	pusha
	movl %esp, %eax
	push %eax
	cld
	call rt_exception
	addl $4, %esp
	popa
	addl $8, %esp /* vector, error code */
	iret

	/* int rt_try(void (*fn)(void)) */
	.globl rt_try, rt_try_resume
rt_try:
	push %ebp
	push %ebx
	push %esi
	push %edi
	movl 20(%esp), %eax
	movl %esp, rt_try_sp
	call *%eax
	movl $0, rt_try_sp
	movl $-1, %eax
	jmp 1f
rt_try_resume:
	movl rt_try_sp, %esp
	movl $0, rt_try_sp
	movl rt_try_vector, %eax
1:	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

	.section .rodata
	.globl rt_isr_table
	.p2align 2
rt_isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long rt_isr_\v
	.endr
#endif

	.section .note.GNU-stack, "", @progbits
