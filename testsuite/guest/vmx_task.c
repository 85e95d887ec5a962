/*
 * vmx_task: task switches in VMX non-root operation (SDM Vol. 3C 26.4.2
 * "Treatment of Task Switches", 28.2.1 Table 28-2 "Exit Qualification
 * for Task Switches", 28.2.4 IDT-vectoring information).  A task switch
 * is never carried out in a VMX guest: once the checks on the task gate
 * and on the TSS descriptor's privilege have passed, it is VM exit 9,
 * whose qualification holds the new TSS's selector (bits 15:0) and the
 * source (bits 31:30: 0 CALL, 1 IRET, 2 JMP, 3 a task gate in the IDT);
 * the checks of the new task itself (busy, limit, ...) are left to the
 * hypervisor's emulation.  A 32-bit protected-mode guest (paging off,
 * "unrestricted guest" under an identity EPT) tries each kind.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

#define EXIT_TASK_SWITCH 9

/* the guest's GDT selectors */
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS_A 0x18 /* the running task (busy) */
#define SEL_TSS_B 0x20 /* an available task */
#define SEL_GATE 0x28  /* a task gate to SEL_TSS_B */
#define VEC_TASK 0x40  /* an IDT task gate to SEL_TSS_B */

/* qualification sources (Table 28-2) */
#define SRC_CALL 0u
#define SRC_IRET 1u
#define SRC_JMP 2u
#define SRC_IDT 3u

struct __attribute__((packed)) tss32 {
    uint16_t link, link_hi;
    uint8_t rest[100];
    uint16_t iomap;
};
static struct tss32 tss_a __attribute__((aligned(128))), tss_b __attribute__((aligned(128)));
static uint64_t guest_gdt[6] __attribute__((aligned(16)));
static uint64_t guest_idt[VEC_TASK + 1] __attribute__((aligned(16)));

/* SDM Vol. 3A 7.2.2 (TSS descriptor) and 7.2.5 (task gate) */
static uint64_t tss_desc(const struct tss32 *t, unsigned type)
{
    uint64_t base = (uintptr_t)t, limit = sizeof(*t) - 1;
    return (limit & 0xffff) | (base & 0xffffff) << 16 | (uint64_t)type << 40 | 1ull << 47 |
           (limit >> 16 & 0xf) << 48 | (base >> 24 & 0xff) << 56;
}
static uint64_t task_gate(uint16_t tss_sel)
{
    return (uint64_t)tss_sel << 16 | 5ull << 40 | 1ull << 47;
}

void g_jmp(void), g_call_gate(void), g_iret_nt(void), g_iret_at(void), g_int(void),
    g_ud2(void), g_jmp_rpl3(void), g_jmp_busy(void);
__asm__(".text\n"
        ".code32\n"
        "g_jmp:\n"
        "  ljmp $0x20, $0\n"        /* EA + offset + selector: 7 bytes */
        "g_call_gate:\n"
        "  lcall $0x28, $0\n"       /* through the GDT task gate */
        "g_iret_nt:\n"
        "  pushf\n"
        "  orl $0x4000, (%esp)\n"   /* NT */
        "  popf\n"
        "g_iret_at:\n"
        "  iret\n"                  /* to tss_a.link */
        "g_int:\n"
        "  int $0x40\n"
        "g_ud2:\n"
        "  ud2\n"                   /* IDT vector 6: a task gate too */
        "g_jmp_rpl3:\n"
        "  ljmp $0x23, $0\n"        /* RPL 3 > the TSS's DPL 0: #GP first */
        "g_jmp_busy:\n"
        "  ljmp $0x18, $0\n"        /* the busy running task: still an exit */
        ".code64\n");

/* A 32-bit guest at CPL 0 with paging off, running task A, about to
 * execute the instruction at RIP. */
static void setup(void (*rip)(void))
{
    guest_gdt[0] = 0;
    guest_gdt[1] = 0x00cf9b000000ffffull; /* code, accessed */
    guest_gdt[2] = 0x00cf93000000ffffull; /* data, accessed */
    guest_gdt[3] = tss_desc(&tss_a, 0xb); /* busy */
    guest_gdt[4] = tss_desc(&tss_b, 0x9); /* available */
    guest_gdt[5] = task_gate(SEL_TSS_B);
    for (unsigned v = 0; v <= VEC_TASK; v++)
        guest_idt[v] = 0;
    guest_idt[6] = task_gate(SEL_TSS_B);
    guest_idt[VEC_TASK] = task_gate(SEL_TSS_B);
    tss_a.link = SEL_TSS_B; /* where IRET with NT returns */

    vmx_setup_unpaged_guest(GUEST_RSP, 0x31, 0x2000); /* CR0 NE, ET, PE; CR4 VMXE */
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, SEL_CODE, 0, 0xffffffff, 0xc09b);
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, SEL_DATA, 0, 0xffffffff, 0xc093);
    vmx_guest_seg(VMCS_GUEST_DS_SELECTOR, SEL_DATA, 0, 0xffffffff, 0xc093);
    vmx_guest_seg(VMCS_GUEST_ES_SELECTOR, SEL_DATA, 0, 0xffffffff, 0xc093);
    vmx_guest_seg(VMCS_GUEST_FS_SELECTOR, SEL_DATA, 0, 0xffffffff, 0xc093);
    vmx_guest_seg(VMCS_GUEST_GS_SELECTOR, SEL_DATA, 0, 0xffffffff, 0xc093);
    vmwrite(VMCS_GUEST_TR_SELECTOR, SEL_TSS_A);
    vmwrite(VMCS_GUEST_TR_BASE, (uintptr_t)&tss_a);
    vmwrite(VMCS_GUEST_TR_LIMIT, sizeof(tss_a) - 1);
    vmwrite(VMCS_GUEST_TR_AR, 0x8b); /* busy 32-bit TSS, present */
    vmwrite(VMCS_GUEST_GDTR_BASE, (uintptr_t)guest_gdt);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, sizeof(guest_gdt) - 1);
    vmwrite(VMCS_GUEST_IDTR_BASE, (uintptr_t)guest_idt);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)rip);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
}

static uint64_t qual(uint16_t sel, unsigned source)
{
    return sel | (uint64_t)source << 30;
}

/* The VM exit for a task switch by an instruction: its own RIP and
 * length, no IDT-vectoring information, and nothing of the new task
 * done — TR, the descriptors' busy bits and the old TSS as they were. */
static void assert_insn_exit(void (*at)(void), uint64_t q, uint64_t len)
{
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), EXIT_TASK_SWITCH);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), q);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)at);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), len);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_TR_SELECTOR), SEL_TSS_A);
    ASSERT_EQ(guest_gdt[3] >> 40 & 0xf, 0xb);
    ASSERT_EQ(guest_gdt[4] >> 40 & 0xf, 0x9);
}

static void test_jmp(void)
{
    setup(g_jmp);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    assert_insn_exit(g_jmp, qual(SEL_TSS_B, SRC_JMP), 7);
    ASSERT_EQ(qual(SEL_TSS_B, SRC_JMP), 0x80000020); /* the literal */
}

static void test_call_through_gdt_task_gate(void)
{
    /* the qualification names the TSS the gate points to, source CALL */
    setup(g_call_gate);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    assert_insn_exit(g_call_gate, 0x00000020, 7);
}

static void test_iret_with_nt(void)
{
    setup(g_iret_nt);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    assert_insn_exit(g_iret_at, 0x40000020, 1); /* the link of task A, source IRET */
    ASSERT(vmread(VMCS_GUEST_RFLAGS) & 0x4000);  /* NT as the guest set it */
}

static void test_int_through_idt_task_gate(void)
{
    /* an exit during delivery: the IDT-vectoring information records the
     * software interrupt (valid, type 4, vector 40H) and the instruction
     * length; the saved RIP is the INT's own */
    setup(g_int);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0xc0000020);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000440);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_int);
}

static void test_fault_through_idt_task_gate(void)
{
    /* #UD delivered through a task gate: hardware exception (type 3),
     * vector 6, no error code; RIP of the UD2 */
    setup(g_ud2);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0xc0000020);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000306);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ud2);
}

static void test_privilege_check_comes_first(void)
{
    /* JMP with RPL 3 to a DPL-0 TSS descriptor faults before any exit:
     * #GP(20H), which the exception bitmap turns into exit 0 */
    setup(g_jmp_rpl3);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0x20);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_jmp_rpl3);
}

static void test_new_task_not_checked(void)
{
    /* JMP to the busy running task would #GP outside VMX; the busy
     * check belongs to the switch itself, so here it is the exit */
    setup(g_jmp_busy);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TASK_SWITCH);
    assert_insn_exit(g_jmp_busy, 0x80000018, 7);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_jmp);
    RUN_TEST(test_call_through_gdt_task_gate);
    RUN_TEST(test_iret_with_nt);
    RUN_TEST(test_int_through_idt_task_gate);
    RUN_TEST(test_fault_through_idt_task_gate);
    RUN_TEST(test_privilege_check_comes_first);
    RUN_TEST(test_new_task_not_checked);
    vmx_disable();
}
