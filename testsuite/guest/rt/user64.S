/*
 * rt_user_call(): enter ring 3 with IRETQ and come back through the DPL-3
 * gate RT_VEC_USER_EXIT (0x81) or, on a fault, through rt_exception()
 * which resumes at rt_user_fault_resume (rt/idt.c).
 */
#ifdef __x86_64__
#include "callee_saved.h"
#define SEL_DATA 0x10
#define SEL_UDATA 0x48
#define SEL_UCODE64 0x50

	.text
	/* uint64_t rt_user_call(uint64_t (*fn)(uint64_t), uint64_t arg) */
	.globl rt_user_call, rt_user_fault_resume, rt_user_exit_isr
rt_user_call:
	PUSH_CALLEE_SAVED
	subq $8, %rsp                /* keeps RSP 16-byte aligned */
	movq %rdi, %r12
	movq %rsi, %r13
	call rt_user_init
	call rt_fault_reset
	movq %r12, %rdi
	movq %r13, %rsi
	movq %rsp, rt_user_ksp(%rip)
	movq %rsp, rt_tss+4(%rip)      /* TSS.RSP0 (SDM 8.7, Figure 8-11) */
	movq %rdi, %rax
	movq %rsi, %rdi
	/* IRETQ frame to CPL 3 (SDM 6.14.3): SS, RSP, RFLAGS, CS, RIP. */
	pushq $(SEL_UDATA | 3)
	leaq rt_user_stack_top(%rip), %rcx
	pushq %rcx
	pushq $2
	pushq $(SEL_UCODE64 | 3)
	leaq rt_user_entry(%rip), %rcx
	pushq %rcx
	iretq

rt_user_exit_isr:            /* INT 0x81 from ring 3; RAX = result */
	movq rt_user_ksp(%rip), %rsp
	jmp 1f
rt_user_fault_resume:        /* rt_exception() sent a ring-3 fault here */
	movq rt_user_ksp(%rip), %rsp
	movq $-1, %rax
1:	movl $SEL_DATA, %ecx
	movw %cx, %ds
	movw %cx, %es
	movq $0, rt_user_ksp(%rip)
	jmp rt_saved_regs_return

	.data
	.globl rt_user_ksp
	.p2align 3
rt_user_ksp:
	.quad 0

	.section .user_text, "ax"
rt_user_entry:               /* RAX = fn, RDI = arg */
	call *%rax
	int $0x81
	ud2

	.section .user_data, "aw"
	.p2align 4
	.globl rt_user_stack_top
rt_user_stack:
	.space 8192
rt_user_stack_top:
#endif
	.section .note.GNU-stack, "", @progbits
