/*
 * Multiboot 1 header and boot entry of the guest test-kernel runtime.
 *
 * Assembled twice: with -m32 it stays in 32-bit protected mode; with -m64
 * (__x86_64__) it also builds identity page tables and enters long mode.
 * Both start in the 32-bit code below, because a Multiboot loader enters
 * in 32-bit protected mode (Multiboot spec 0.6.96, 3.2 "Machine state").
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002 /* bit 1: please fill mem_lower/mem_upper */

#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, rt_boot_magic
	movl %ebx, rt_boot_info
	sgdt rt_boot_gdtr	/* the loader's GDT, for tests of where it went */
	lgdt rt_gdt_desc
	ljmp $SEL_CODE32, $1f
1:	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $rt_stack_top, %esp

	/* Zero .bss (the stack lives there too; nothing is on it yet). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

#ifdef __x86_64__
	/*
	 * Identity-map 0..4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3]
	 * -> four PDs of 512 PDEs each with PS=1 (SDM Vol. 3A, 4.5.4, Table
	 * 4-17). The tables are zero, so only the low dwords need writing.
	 */
	movl $rt_pdpt, %eax
	orl $0x3, %eax
	movl %eax, rt_pml4
	movl $rt_pd, %eax
	orl $0x3, %eax
	xorl %ecx, %ecx
2:	movl %eax, rt_pdpt(, %ecx, 8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $4, %ecx
	jne 2b
	movl $0x83, %eax /* P | W | PS */
	xorl %ecx, %ecx
3:	movl %eax, rt_pd(, %ecx, 8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jne 3b

	/* Enter IA-32e mode in the order of SDM Vol. 3A, 10.8.5. */
	movl %cr4, %eax
	orl $(1 << 5), %eax /* CR4.PAE */
	movl %eax, %cr4
	movl $rt_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx /* IA32_EFER */
	rdmsr
	orl $(1 << 8), %eax /* LME */
	wrmsr
	movl %cr0, %eax
	orl $(1 << 31), %eax /* PG: now EFER.LMA = 1 */
	movl %eax, %cr0
	ljmp $SEL_CODE64, $4f

	.code64
4:	movl $SEL_DATA, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	leaq rt_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call rt_main
5:	cli
	hlt
	jmp 5b
#else
	xorl %ebp, %ebp
	call rt_main
5:	cli
	hlt
	jmp 5b
#endif

	.data
	.globl rt_boot_magic, rt_boot_info, rt_boot_gdtr, rt_gdt, rt_gdt_desc
	.p2align 2
rt_boot_magic:
	.long 0
rt_boot_info:
	.long 0
rt_boot_gdtr:	/* SGDT in 32-bit code: limit (2 bytes), base (4 bytes) */
	.word 0
	.long 0
	.word 0

	/* Segment descriptors: SDM Vol. 3A, 3.4.5, Figure 3-8. */
	.p2align 3
rt_gdt:
	.quad 0                     /* 0x00 null */
	.quad 0x00CF9A000000FFFF    /* 0x08 code32: G=1 D=1 P=1 type=exec/read */
	.quad 0x00CF92000000FFFF    /* 0x10 data: G=1 B=1 P=1 type=read/write */
	.quad 0x00AF9A000000FFFF    /* 0x18 code64: G=1 L=1 D=0 */
	.quad 0x00009A000000FFFF    /* 0x20 code16: limit 64 KiB */
	.quad 0x000092000000FFFF    /* 0x28 data16 */
rt_gdt_end:
	/* 10-byte pseudo-descriptor: 32-bit LGDT reads only the first 6. */
	.p2align 3
	.word 0
rt_gdt_desc:
	.word rt_gdt_end - rt_gdt - 1
	.long rt_gdt, 0

	.bss
	.p2align 12
#ifdef __x86_64__
	.globl rt_pml4, rt_pdpt, rt_pd
rt_pml4:
	.space 4096
rt_pdpt:
	.space 4096
rt_pd:
	.space 4 * 4096
#endif
	.globl rt_stack_top
rt_stack:
	.space 65536
rt_stack_top:

	.section .note.GNU-stack, "", @progbits
