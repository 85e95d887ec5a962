/*
 * vmx_misc: the secondary processor-based controls that make single
 * instructions exit or change them (SDM Vol. 3C 24.6.2 Table 24-7,
 * 25.1.3, 25.3): descriptor-table exiting (exits 46 and 47), WBINVD
 * exiting (54), RDRAND and RDSEED exiting (57, 61), enable INVPCID
 * (with INVLPG exiting: exit 58), PAUSE-loop exiting (40, measured
 * in TSC ticks: one per instruction in nest86).  Each exit's qualification (27.2.1:
 * the displacement) and VM-exit instruction-information field (27.2.5,
 * Tables 27-9 to 27-12) is computed by hand from the SDM and written
 * as a literal; each instruction also runs with its control clear
 * (the guest then reaches its VMCALL, exit 18).
 */
#include "rt.h"
#include "vmx.h"

/* controls (SDM Tables 24-6 and 24-7) */
#define P_INVLPG (1u << 9)
#define P_SECONDARY (1u << 31)
#define P2_DESC (1u << 2)
#define P2_WBINVD (1u << 6)
#define P2_RDRAND (1u << 11)
#define P2_INVPCID (1u << 12)
#define P2_RDSEED (1u << 16)
#define P2_PLE (1u << 10)
#define P_PAUSE (1u << 30)

/* basic exit reasons (SDM Appendix C) */
enum {
    R_EXCEPTION = 0, R_INVD = 13, R_VMCALL = 18, R_PAUSE = 40, R_GDTR_IDTR = 46, R_LDTR_TR = 47,
    R_WBINVD = 54, R_RDRAND = 57, R_INVPCID = 58, R_RDSEED = 61,
};
#define INFO_GP 0x80000b0du /* #GP: vector 13, type 3, error code valid (24.9.2) */

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))
static uint8_t user_stack[4096] RT_USER_DATA __attribute__((aligned(16)));
uint8_t dt_buf[64] __attribute__((aligned(16)));

/* ---- guest code (64-bit, CPL 0) ---- */
void g_dt(void), g_dt_1(void), g_dt_2(void), g_dt_3(void), g_dt_4(void), g_dt_5(void),
    g_dt_6(void), g_dt_7(void), g_dt_8(void), g_dt_9(void), g_dt_done(void);
void g_wb(void), g_wb_1(void), g_wb_2(void), g_wb_3(void), g_wb_done(void);
void g_rand(void), g_rand_1(void), g_rand_2(void), g_rand_3(void), g_rand_4(void),
    g_rand_5(void), g_rand_done(void);
void g_invpcid(void), g_invpcid_1(void), g_invpcid_2(void), g_invpcid_done(void);
__asm__(".text\n"
        "g_dt:\n"
        "g_dt_1: sgdt (%rax)\n"              /* 0F 01 00 */
        "g_dt_2: sidt 0x10(%rbx,%rcx,4)\n"   /* 0F 01 4C 8B 10 */
        "g_dt_3: lgdt %fs:-8(%rbp)\n"        /* 64 0F 01 55 F8 */
        "g_dt_4: lidt (%esp)\n"              /* 67 0F 01 1C 24 */
        "g_dt_5: sgdt dt_buf(%rip)\n"        /* 0F 01 05 disp32 */
        "g_dt_6: sldt %r10\n"                /* 49 0F 00 C2 */
        "g_dt_7: str (%rdx)\n"               /* 0F 00 0A */
        "g_dt_8: lldt %cx\n"                 /* 0F 00 D1 */
        "g_dt_9: ltr 0x1234(%r13)\n"         /* 41 0F 00 9D 34 12 00 00 */
        "g_dt_done: vmcall\n"
        "  ud2\n"
        "g_wb:\n"
        "g_wb_1: wbinvd\n"                   /* 0F 09 */
        "g_wb_2: .byte 0xf3, 0x0f, 0x09\n"   /* WBNOINVD */
        "g_wb_3: invd\n"                     /* 0F 08: exits whatever the controls */
        "g_wb_done: vmcall\n"
        "  ud2\n"
        "g_rand:\n"
        "g_rand_1: rdrand %eax\n"            /* 0F C7 F0 */
        "g_rand_2: rdrand %r11\n"            /* 49 0F C7 F3 */
        "g_rand_3: rdrand %dx\n"             /* 66 0F C7 F2 */
        "g_rand_4: rdseed %rcx\n"            /* 48 0F C7 F9 */
        "g_rand_5: rdseed %r12d\n"           /* 41 0F C7 FC */
        "g_rand_done: vmcall\n"
        "  ud2\n"
        "g_invpcid:\n"
        "g_invpcid_1: invpcid (%rax), %rcx\n"          /* 66 0F 38 82 08 */
        "g_invpcid_2: invpcid 0x20(%rsp,%rbx,2), %r9\n" /* 66 44 0F 38 82 4C 5C 20 */
        "g_invpcid_done: vmcall\n"
        "  ud2\n");

/* CPL 3 */
void u_lgdt(void), u_invpcid(void);
__asm__(".section .user_text, \"ax\"\n"
        "u_lgdt: lgdt (%rax)\n vmcall\n"
        "u_invpcid: invpcid (%rax), %rcx\n vmcall\n"
        ".text\n");

/* ---- helpers ---- */

static void setup(void (*rip)(void), uint32_t proc2)
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | P_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, proc2);
}

/* the guest at CPL 3; every exception exits (as in vmx_exits) */
static void setup_user(void (*rip)(void), uint32_t proc2)
{
    setup(rip, proc2);
    vmwrite(VMCS_GUEST_RSP, (uintptr_t)(user_stack + sizeof(user_stack)));
    vmwrite(VMCS_GUEST_CS_SELECTOR, RT_SEL_UCODE64 | 3);
    vmwrite(VMCS_GUEST_CS_AR, 0xa0fb);
    vmwrite(VMCS_GUEST_SS_SELECTOR, RT_SEL_UDATA | 3);
    vmwrite(VMCS_GUEST_SS_AR, 0xc0f3);
    vmwrite(VMCS_EXCEPTION_BITMAP, ~0u);
}

/* the exit just taken: reason, guest RIP (the instruction's own),
 * instruction length, qualification, instruction information */
#define EXPECT_EXIT(reason, at, len, qual, info)                                               \
    do {                                                                                       \
        ASSERT_EQ(vmread(VMCS_EXIT_REASON), (reason));                                         \
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)(at));                                    \
        ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), (len));                                   \
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), (qual));                                    \
        ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), (info));                                  \
    } while (0)

/* skip the exiting instruction and run to the next exit */
static uint32_t next_exit(void)
{
    vmx_skip_insn();
    return vmx_resume_exit();
}

static void test_capabilities(void)
{
    uint32_t may1 = rdmsr(MSR_VMX_PROCBASED2) >> 32;
    uint32_t ours = P2_DESC | P2_WBINVD | P2_RDRAND | P2_INVPCID | P2_RDSEED | P2_PLE;
    ASSERT_EQ(may1 & ours, ours);
    /* the instructions these controls act on exist: CPUID.1:ECX.RDRAND
     * (30), CPUID.7.0:EBX.INVPCID (10) and .RDSEED (18) */
    uint32_t r[4];
    cpuid(1, 0, r);
    ASSERT(r[2] & (1u << 30));
    cpuid(7, 0, r);
    ASSERT(r[1] & (1u << 10));
    ASSERT(r[1] & (1u << 18));
}

/* ---- descriptor-table exiting ---- */

static void test_descriptor_table_exits(void)
{
    setup(g_dt, P2_DESC);
    vmx_guest.rax = (uintptr_t)dt_buf; /* the exits happen before any access */
    ASSERT_EQ(vmx_launch_exit(), R_GDTR_IDTR);
    /* Table 27-10: [RAX]: 64-bit address size (2 << 7), DS (3 << 15),
     * index invalid (22), base RAX, identity SGDT (0); operand size 11
     * undefined in 64-bit mode (0) */
    EXPECT_EXIT(R_GDTR_IDTR, g_dt_1, 3, 0, 0x00418100);
    ASSERT_EQ(next_exit(), R_GDTR_IDTR);
    /* [RBX+RCX*4+10H]: scaling 2, index RCX (1 << 18), base RBX
     * (3 << 23), identity SIDT (1 << 28); qualification the displacement */
    EXPECT_EXIT(R_GDTR_IDTR, g_dt_2, 5, 0x10, 0x11858102);
    ASSERT_EQ(next_exit(), R_GDTR_IDTR);
    /* FS:[RBP-8]: FS (4 << 15), base RBP (5 << 23), identity LGDT;
     * the displacement sign-extended */
    EXPECT_EXIT(R_GDTR_IDTR, g_dt_3, 5, 0xfffffffffffffff8ull, 0x22c20100);
    ASSERT_EQ(next_exit(), R_GDTR_IDTR);
    /* [ESP]: 32-bit address size (1 << 7), SS (2 << 15), base RSP
     * (4 << 23), identity LIDT (3 << 28) */
    EXPECT_EXIT(R_GDTR_IDTR, g_dt_4, 5, 0, 0x32410080);
    ASSERT_EQ(next_exit(), R_GDTR_IDTR);
    /* RIP-relative: qualification = the operand's address (27.2.1);
     * base and index invalid (27, 22) */
    EXPECT_EXIT(R_GDTR_IDTR, g_dt_5, 7, (uintptr_t)dt_buf, 0x08418100);
    ASSERT_EQ(next_exit(), R_LDTR_TR);
    /* Table 27-11: register operand R10: Reg1 6:3, bit 10, SLDT (0) */
    EXPECT_EXIT(R_LDTR_TR, g_dt_6, 4, 0, 0x00000450);
    ASSERT_EQ(next_exit(), R_LDTR_TR);
    /* STR [RDX]: DS, index invalid, base RDX (2 << 23), STR (1 << 28) */
    EXPECT_EXIT(R_LDTR_TR, g_dt_7, 3, 0, 0x11418100);
    ASSERT_EQ(next_exit(), R_LDTR_TR);
    /* LLDT CX: Reg1 RCX (1 << 3), bit 10, LLDT (2 << 28) */
    EXPECT_EXIT(R_LDTR_TR, g_dt_8, 3, 0, 0x20000408);
    ASSERT_EQ(next_exit(), R_LDTR_TR);
    /* LTR [R13+1234H]: base R13 (13 << 23), LTR (3 << 28) */
    EXPECT_EXIT(R_LDTR_TR, g_dt_9, 8, 0x1234, 0x36c18100);
    ASSERT_EQ(next_exit(), R_VMCALL);
}

void g_dt_run(void), g_dt_run_done(void);
__asm__(".text\n"
        "g_dt_run:\n"
        "  sgdt (%rax)\n"
        "  sidt 16(%rax)\n"
        "  lgdt (%rax)\n"                    /* the same values back */
        "  lidt 16(%rax)\n"
        "  sldt %ecx\n"
        "  str %edx\n"
        "g_dt_run_done: vmcall\n"
        "  ud2\n");

static void test_descriptor_tables_run_without_the_control(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    setup(g_dt_run, 0);
    memset(dt_buf, 0xee, sizeof(dt_buf));
    vmx_guest.rax = (uintptr_t)dt_buf;
    vmx_guest.rcx = vmx_guest.rdx = 0x5555;
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_dt_run_done);
    uint16_t limit;
    uint64_t base;
    memcpy(&limit, dt_buf, 2);
    memcpy(&base, dt_buf + 2, 8);
    ASSERT_EQ(limit, gdtr.limit);
    ASSERT_EQ(base, gdtr.base);
    ASSERT_EQ(vmx_guest.rcx, vmread(VMCS_GUEST_LDTR_SELECTOR));
    ASSERT_EQ(vmx_guest.rdx, vmread(VMCS_GUEST_TR_SELECTOR));
}

static void test_descriptor_table_cpl3_gp_first(void)
{
    /* 25.1.1: a fault based on privilege level comes before the exit:
     * LGDT at CPL 3 is #GP(0) */
    setup_user(u_lgdt, P2_DESC);
    vmx_guest.rax = (uintptr_t)dt_buf;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)u_lgdt);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_GP);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
}

/* ---- WBINVD exiting ---- */

static void test_wbinvd(void)
{
    setup(g_wb, P2_WBINVD);
    ASSERT_EQ(vmx_launch_exit(), R_WBINVD);
    /* qualification and instruction information: none (0) */
    EXPECT_EXIT(R_WBINVD, g_wb_1, 2, 0, 0);
    ASSERT_EQ(next_exit(), R_WBINVD); /* WBNOINVD: the same exit (Appendix C) */
    EXPECT_EXIT(R_WBINVD, g_wb_2, 3, 0, 0);
    ASSERT_EQ(next_exit(), R_INVD);
    /* without the control both run; INVD still exits (25.1.2) */
    setup(g_wb, 0);
    ASSERT_EQ(vmx_launch_exit(), R_INVD);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_wb_3);
    ASSERT_EQ(next_exit(), R_VMCALL);
}

/* ---- RDRAND and RDSEED exiting ---- */

static void test_rdrand_rdseed(void)
{
    setup(g_rand, P2_RDRAND | P2_RDSEED);
    ASSERT_EQ(vmx_launch_exit(), R_RDRAND);
    /* Table 27-12: destination register 6:3, operand size 12:11
     * (0 16-bit, 1 32-bit, 2 64-bit) */
    EXPECT_EXIT(R_RDRAND, g_rand_1, 3, 0, 0x0800);     /* EAX */
    ASSERT_EQ(next_exit(), R_RDRAND);
    EXPECT_EXIT(R_RDRAND, g_rand_2, 4, 0, 0x1058);     /* R11 */
    ASSERT_EQ(next_exit(), R_RDRAND);
    EXPECT_EXIT(R_RDRAND, g_rand_3, 4, 0, 0x0010);     /* DX */
    ASSERT_EQ(next_exit(), R_RDSEED);
    EXPECT_EXIT(R_RDSEED, g_rand_4, 4, 0, 0x1008);     /* RCX */
    ASSERT_EQ(next_exit(), R_RDSEED);
    EXPECT_EXIT(R_RDSEED, g_rand_5, 4, 0, 0x0860);     /* R12D */
    ASSERT_EQ(next_exit(), R_VMCALL);

    /* each control alone: RDSEED runs with only RDRAND exiting ... */
    setup(g_rand_4, P2_RDRAND);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT(vmread(VMCS_GUEST_RFLAGS) & 1); /* CF: a value was returned */
    /* ... and RDRAND with only RDSEED exiting */
    setup(g_rand, P2_RDSEED);
    ASSERT_EQ(vmx_launch_exit(), R_RDSEED);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_rand_4);
}

/* ---- enable INVPCID ---- */

static void test_invpcid(void)
{
    static uint64_t desc[2] __attribute__((aligned(16)));
    /* "enable INVPCID" with "INVLPG exiting": exit 58 with Table 27-9 */
    setup(g_invpcid, P2_INVPCID);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | P_INVLPG);
    vmx_guest.rax = (uintptr_t)desc;
    vmx_guest.rcx = 2;
    ASSERT_EQ(vmx_launch_exit(), R_INVPCID);
    /* [RAX]: 64-bit, DS, index invalid, base RAX, Reg2 RCX (1 << 28) */
    EXPECT_EXIT(R_INVPCID, g_invpcid_1, 5, 0, 0x10418100);
    ASSERT_EQ(next_exit(), R_INVPCID);
    /* [RSP+RBX*2+20H]: scaling 1, SS (2 << 15), index RBX (3 << 18),
     * base RSP (4 << 23), Reg2 R9 (9 << 28) */
    EXPECT_EXIT(R_INVPCID, g_invpcid_2, 8, 0x20, 0x920d0101);

    /* without "INVLPG exiting" it runs: type 2 (all contexts) then a
     * #GP for type 4 (SDM Vol. 2A INVPCID) */
    setup(g_invpcid, P2_INVPCID);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
    vmx_guest.rax = (uintptr_t)desc;
    vmx_guest.rcx = 2;
    vmx_guest.rbx = ((uintptr_t)desc - GUEST_RSP - 0x20) / 2; /* [RSP+RBX*2+20H] = desc */
    vmx_guest.r9 = 4;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_invpcid_2);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_GP);
    vmx_guest.r9 = 3; /* all contexts but globals */
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_invpcid_done);
}

static void test_invpcid_cpl3_gp_first(void)
{
    /* 25.1.1: #GP(0) at CPL 3 comes before the exit */
    static uint64_t desc[2] __attribute__((aligned(16)));
    setup_user(u_invpcid, P2_INVPCID);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | P_INVLPG);
    vmx_guest.rax = (uintptr_t)desc;
    vmx_guest.rcx = 2;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)u_invpcid);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), INFO_GP);
}

/* ---- PAUSE-loop exiting ---- */

void g_ple(void), g_ple_gap(void), g_ple_gap_pause(void);
__asm__(".text\n"
        "g_ple: pause\n"                     /* F3 90 */
        "  inc %rcx\n"
        "  jmp g_ple\n"
        /* PAUSEs 2 * 100 + 4 = 204 instructions apart, 50 times */
        "g_ple_gap:\n"
        "  mov $50, %ebx\n"
        "g_ple_gap_pause: pause\n"
        "  mov $100, %eax\n"
        "1: dec %eax\n"
        "  jnz 1b\n"
        "  dec %ebx\n"
        "  jnz g_ple_gap_pause\n"
        "  vmcall\n"
        "  ud2\n");

static void setup_ple(void (*rip)(void), uint32_t gap, uint32_t window)
{
    setup(rip, P2_PLE);
    vmwrite(VMCS_PLE_GAP, gap);
    vmwrite(VMCS_PLE_WINDOW, window);
    vmx_guest.rcx = 0;
}

static void test_pause_loop_exiting(void)
{
    /* 25.1.3: the first PAUSE after VM entry starts a loop; PAUSEs 3
     * TSC ticks apart (within PLE_Gap) continue it; the PAUSE more than
     * PLE_Window (4096) ticks after the first exits: the 1367th, at
     * 3 * 1366 = 4098 ticks, after 1366 INCs */
    setup_ple(g_ple, 128, 4096);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ple);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmx_guest.rcx, 1366);
    /* VM entry starts afresh: the same again */
    vmx_guest.rcx = 0;
    ASSERT_EQ(vmx_resume_exit(), R_PAUSE);
    ASSERT_EQ(vmx_guest.rcx, 1366);
    /* window 0: the second PAUSE of the loop already exits */
    setup_ple(g_ple, 128, 0);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    ASSERT_EQ(vmx_guest.rcx, 1);
}

static void test_pause_loop_gap(void)
{
    /* PAUSEs 204 ticks apart: with PLE_Gap 128 each one starts a new
     * loop, so even a window of 150 never ends one ... */
    setup_ple(g_ple_gap, 128, 150);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    /* ... with PLE_Gap 1000 they form one loop, and the PAUSE 204 ticks
     * after the first exceeds that window */
    setup_ple(g_ple_gap, 1000, 150);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ple_gap_pause);
    ASSERT_EQ(vmx_guest.rbx, 49);
    /* "PAUSE exiting" wins: the first PAUSE exits */
    setup_ple(g_ple, 128, 4096);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | P_PAUSE);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    ASSERT_EQ(vmx_guest.rcx, 0);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_descriptor_table_exits);
    RUN_TEST(test_descriptor_tables_run_without_the_control);
    RUN_TEST(test_descriptor_table_cpl3_gp_first);
    RUN_TEST(test_wbinvd);
    RUN_TEST(test_rdrand_rdseed);
    RUN_TEST(test_invpcid);
    RUN_TEST(test_invpcid_cpl3_gp_first);
    RUN_TEST(test_pause_loop_exiting);
    RUN_TEST(test_pause_loop_gap);
    vmx_disable();
}
