/*
 * pm32_realmode: real-address mode (SDM Vol. 3A 9.9.2 and chapter 20.1).
 * The kernel leaves protected mode through a 16-bit code segment,
 * clears CR0.PE, and in real mode takes INT n and a #DE through the IVT
 * (SDM 20.1.4): the handler sees FLAGS, CS and IP on the stack, IP after
 * INT n but at the faulting DIV for #DE; then it sets CR0.PE again and
 * returns with a far jump.
 */
#include "rt.h"

#define BLOB 0x3000u     /* where the 16-bit code runs (segment 0x0300) */
#define RESULTS 0x2f00u  /* words the real-mode handlers write */

volatile uint32_t rm_saved_esp;

/* The 16-bit code, copied to BLOB; offsets are relative to rm_blob. */
__asm__(".text\n"
        ".globl rm_blob, rm_blob_end, rm_after_int, rm_div\n"
        ".code16\n"
        "rm_blob:\n"
        /* 16-bit protected mode: 64 KiB data segments, then PE off */
        "  mov $0x28, %ax\n"
        "  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n  mov %ax, %fs\n  mov %ax, %gs\n"
        "  mov %cr0, %eax\n"
        "  and $0xfffffffe, %eax\n"
        "  mov %eax, %cr0\n"
        "  ljmp $0x0300, $(rm_real - rm_blob)\n"
        "rm_real:\n"
        "  xor %ax, %ax\n  mov %ax, %ds\n  mov %ax, %es\n  mov %ax, %ss\n"
        "  mov $0x2ff0, %sp\n"
        "  lidt (rm_ivt_desc - rm_blob + 0x3000)\n"
        "  movw $(rm_int40 - rm_blob), 0x100\n" /* IVT[0x40] */
        "  movw $0x0300, 0x102\n"
        "  movw $(rm_de - rm_blob), 0x0\n" /* IVT[0]: #DE */
        "  movw $0x0300, 0x2\n"
        "  mov $0x1234, %ax\n"
        "  std\n"
        "  int $0x40\n"
        "rm_after_int:\n"
        "  cld\n"
        "  mov $0, %bl\n"
        "  mov $5, %ax\n"
        "rm_div:\n"
        "  div %bl\n" /* divide by zero: #DE, a fault */
        "  movw $0x55aa, 0x2f0c\n" /* reached only after the handler skipped the DIV */
        "  mov %cr0, %eax\n"
        "  or $1, %eax\n"
        "  mov %eax, %cr0\n"
        "  ljmpl $0x08, $pm_return\n"
        "rm_int40:\n"
        "  mov %sp, %bx\n"
        "  mov %ss:(%bx), %cx\n  mov %cx, 0x2f00\n"  /* IP */
        "  mov %ss:2(%bx), %cx\n  mov %cx, 0x2f02\n" /* CS */
        "  mov %ss:4(%bx), %cx\n  mov %cx, 0x2f04\n" /* FLAGS */
        "  mov %ax, 0x2f06\n"
        "  pushf\n  pop %cx\n  mov %cx, 0x2f08\n" /* FLAGS inside the handler */
        "  iret\n"
        "rm_de:\n"
        "  mov %sp, %bx\n"
        "  mov %ss:(%bx), %cx\n  mov %cx, 0x2f0a\n" /* the faulting IP */
        "  addw $2, %ss:(%bx)\n"                       /* skip DIV BL (F6 F3) */
        "  iret\n"
        "rm_ivt_desc:\n"
        "  .word 0x3ff\n  .long 0\n"
        "rm_blob_end:\n"
        ".code32\n");
extern const char rm_blob[], rm_blob_end[], rm_after_int[], rm_div[];

static volatile uint16_t *const res = (volatile uint16_t *)RESULTS;

static void test_real_mode_interrupts(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idt;
    __asm__ volatile("sidt %0" : "=m"(idt));
    for (const char *p = rm_blob; p < rm_blob_end; p++)
        ((volatile char *)BLOB)[p - rm_blob] = *p;
    for (unsigned k = 0; k < 8; k++)
        res[k] = 0;
    __asm__ volatile("cli\n\t"
                     "movl %%esp, rm_saved_esp\n\t"
                     "ljmp $0x20, $0x3000\n" /* 16-bit code segment, base 0 */
                     ".globl pm_return\n"
                     "pm_return:\n\t"
                     "movl $0x10, %%eax\n\t"
                     "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
                     "movl rm_saved_esp, %%esp"
                     ::: "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
    __asm__ volatile("lidt %0" ::"m"(idt));
    ASSERT_EQ(res[0], (uint16_t)(rm_after_int - rm_blob)); /* IP after INT 0x40 */
    ASSERT_EQ(res[1], 0x0300);                             /* CS */
    ASSERT_NE(res[2] & 0x0400, 0);                         /* pushed FLAGS has DF */
    ASSERT_NE(res[2] & 0x0002, 0);                         /* bit 1 reads as 1 */
    ASSERT_EQ(res[3], 0x1234);
    ASSERT_NE(res[4] & 0x0400, 0);    /* INT does not clear DF ... */
    ASSERT_EQ(res[4] & 0x0300, 0);    /* ... it clears IF and TF */
    ASSERT_EQ(res[5], (uint16_t)(rm_div - rm_blob)); /* #DE is a fault: IP of the DIV */
    ASSERT_EQ(res[6], 0x55aa);
}

void test_main(void)
{
    RUN_TEST(test_real_mode_interrupts);
}
