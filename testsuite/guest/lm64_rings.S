/*
 * Kernel-side entry points for lm64_rings.c. Each records what the CPU
 * handed it in rings_seen (see struct seen in the C file) and goes back
 * to ring 3 the way its entry path requires.
 */
	/* Copy the quadword at OFF(%rsp) to rings_seen+DST (clobbers RAX). */
	.macro SAVE_FRAME_WORD off, dst
	movq \off(%rsp), %rax
	movq %rax, rings_seen+\dst(%rip)
	.endm

	.text
	/* SYSCALL (LSTAR): RCX = return RIP, R11 = old RFLAGS; RSP is still
	   the user's (SDM Vol. 2B, SYSCALL). */
	.globl rings_syscall_entry
rings_syscall_entry:
	movq %rcx, rings_seen+0(%rip)
	movq %r11, rings_seen+8(%rip)
	pushfq
	popq rings_seen+16(%rip)
	movw %cs, rings_seen+24(%rip)
	movw %ss, rings_seen+32(%rip)
	movq %rsp, rings_seen+40(%rip)
	sysretq

	/* SYSENTER: RSP = IA32_SYSENTER_ESP; RCX/RDX carry the user's return
	   RSP/RIP for SYSEXIT (REX.W: to 64-bit mode). */
	.globl rings_sysenter_entry
rings_sysenter_entry:
	movq %rdx, rings_seen+0(%rip)
	movq %rcx, rings_seen+8(%rip)
	pushfq
	popq rings_seen+16(%rip)
	movw %cs, rings_seen+24(%rip)
	movw %ss, rings_seen+32(%rip)
	movq %rsp, rings_seen+40(%rip)
	sysexitq

	/* Target of the 64-bit call gate: the ring-0 stack holds RIP, CS,
	   RSP, SS of the caller, 8 bytes each (SDM Vol. 3A, 5.8.6 and
	   Figure 5-13 for IA-32e mode). */
	.globl rings_gate_target
rings_gate_target:
	SAVE_FRAME_WORD 0, 0
	SAVE_FRAME_WORD 8, 8
	SAVE_FRAME_WORD 16, 16
	SAVE_FRAME_WORD 24, 48
	movw %cs, rings_seen+24(%rip)
	movw %ss, rings_seen+32(%rip)
	movq %rsp, rings_seen+40(%rip)
	lretq

	/* DPL-3 interrupt gate: frame RIP, CS, RFLAGS, RSP, SS. */
	.globl rings_int_entry
rings_int_entry:
	SAVE_FRAME_WORD 0, 0
	SAVE_FRAME_WORD 8, 8
	SAVE_FRAME_WORD 16, 16
	SAVE_FRAME_WORD 24, 40
	SAVE_FRAME_WORD 32, 48
	movw %cs, rings_seen+24(%rip)
	movw %ss, rings_seen+32(%rip)
	iretq

	.section .note.GNU-stack, "", @progbits
