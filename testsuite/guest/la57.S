/*
 * void la57_reload_paging(uint32_t cr3, uint32_t cr4): leave IA-32e mode
 * through compatibility mode, load CR4 and CR3 with paging off (CR4.LA57
 * may change only then; SDM Vol. 3A, 4.1.1 and 10.8.5), set CR0.PG again
 * (EFER.LME is still 1, so IA-32e mode comes back) and return in 64-bit
 * mode. The tables must lie below 4 GiB.
 */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x18

	.text
	.code64
	.globl la57_reload_paging
la57_reload_paging:
	push %rbx
	push %rbp
	movq %rsp, saved_rsp(%rip)
	movl %edi, new_cr3(%rip)
	movl %esi, new_cr4(%rip)
	pushq $SEL_CODE32
	pushq $1f
	lretq
	.code32
1:	movl %cr0, %eax
	andl $0x7fffffff, %eax
	movl %eax, %cr0
	movl new_cr4, %eax
	movl %eax, %cr4
	movl new_cr3, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $2f
	.code64
2:	movq saved_rsp(%rip), %rsp
	pop %rbp
	pop %rbx
	ret

	.data
	.p2align 3
saved_rsp:
	.quad 0
new_cr3:
	.long 0
new_cr4:
	.long 0

	.section .note.GNU-stack, "", @progbits
