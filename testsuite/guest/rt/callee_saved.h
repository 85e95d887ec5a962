/* Assembler macro shared by rt/isr.S and rt/user64.S: save the SysV
   callee-saved registers; rt_saved_regs_return (isr.S) restores them. */
#ifndef RT_CALLEE_SAVED_H
#define RT_CALLEE_SAVED_H
	.macro PUSH_CALLEE_SAVED
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	.endm
#endif
