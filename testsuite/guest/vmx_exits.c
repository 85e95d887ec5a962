/*
 * vmx_exits: instruction VM exits controlled by the primary
 * processor-based VM-execution controls (SDM Vol. 3C 25.1.3), their
 * priority against exceptions (25.1.1), the changed instruction
 * behaviour (25.3: TSC offsetting, RDTSCP with and without "enable
 * RDTSCP", INVPCID without "enable INVPCID"), and the exit information (27.2: exit qualification,
 * instruction length, guest-linear address, VM-exit
 * instruction-information field).  Every expected value is computed by
 * hand from the SDM's tables and written as a literal.
 *
 * Guest snippets are labelled at the instruction that should exit; each
 * ends in VMCALL, so "the control clear lets the instruction run" shows
 * as an exit 18 at that VMCALL.  Exceptions are routed to the VMM with
 * the exception bitmap and asserted through the VM-exit
 * interruption-information field (24.9.2: vector, type 3, error-code
 * valid 11, valid 31).
 */
#include "rt.h"
#include "vmx.h"

/* primary processor-based controls (SDM Table 24-6) */
#define P_TSC_OFFSET (1u << 3)
#define P_INVLPG (1u << 9)
#define P_MWAIT (1u << 10)
#define P_RDPMC (1u << 11)
#define P_RDTSC (1u << 12)
#define P_CR8_LOAD (1u << 19)
#define P_CR8_STORE (1u << 20)
#define P_MOV_DR (1u << 23)
#define P_UNCOND_IO (1u << 24)
#define P_MONITOR (1u << 29)
#define P_PAUSE (1u << 30)
#define P_SECONDARY (1u << 31)
#define P2_ENABLE_RDTSCP (1u << 3) /* secondary controls (Table 24-7) */
#define P2_TSC_SCALING (1u << 25)
#define MSR_TSC_AUX 0xc0000103u

/* basic exit reasons (SDM Appendix C) */
enum {
    R_EXCEPTION = 0, R_INVLPG = 14, R_RDPMC = 15, R_RDTSC = 16, R_VMCALL = 18,
    R_VMCLEAR = 19, R_VMLAUNCH = 20, R_VMPTRLD = 21, R_VMPTRST = 22, R_VMREAD = 23,
    R_VMWRITE = 25, R_VMXON = 27, R_CR = 28, R_DR = 29, R_IO = 30, R_MWAIT = 36,
    R_MONITOR = 39, R_PAUSE = 40, R_RDTSCP = 51,
};

/* VM-exit interruption information of hardware exceptions (24.9.2) */
#define INFO_DB 0x80000301u /* vector 1, type 3 */
#define INFO_UD 0x80000306u
#define INFO_GP 0x80000b0du /* vector 13, type 3, error code valid */
#define INFO_AC 0x80000b11u

#define CR4_DE (1ul << 3)
#define CR4_TSD (1ul << 2)
#define CR4_PCE (1ul << 8)
#define CR0_AM (1ul << 18)

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))
static uint8_t user_stack[4096] RT_USER_DATA __attribute__((aligned(16)));
static uint8_t io_buf[64] __attribute__((aligned(64)));

/* ---- guest code (64-bit, CPL 0) ---- */
void g_tsc(void), g_tsc_at(void), g_tsc_done(void);
void g_tscp(void), g_tscp_at(void), g_tscp_done(void);
void g_pmc(void), g_pmc_at(void), g_pmc_done(void);
void g_invlpg(void), g_invlpg_1(void), g_invlpg_2(void), g_invlpg_done(void);
void g_mon(void), g_mon_monitor(void), g_mon_mwait(void), g_mon_done(void);
void g_pause(void), g_pause_at(void), g_pause_done(void);
void g_dr(void), g_dr_from(void), g_dr_to(void), g_dr_r9(void), g_dr_4(void), g_dr_done(void);
void g_cr8(void), g_cr8_wr(void), g_cr8_rd(void), g_cr8_done(void);
void g_io(void), g_io_1(void), g_io_2(void), g_io_3(void), g_io_4(void), g_io_5(void),
    g_io_6(void), g_io_7(void), g_io_done(void);
void g_vi(void), g_vi_1(void), g_vi_2(void), g_vi_3(void), g_vi_4(void), g_vi_5(void),
    g_vi_6(void), g_vi_7(void), g_vi_8(void), g_vi_data(void);
void g_invpcid(void), g_invpcid_at(void);
__asm__(".text\n"
        "g_tsc:\n"
        "g_tsc_at:\n"
        "  rdtsc\n"                          /* 0F 31 */
        "  shl $32, %rdx\n"
        "  or %rdx, %rax\n"
        "g_tsc_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_tscp:\n"
        "g_tscp_at:\n"
        "  rdtscp\n"                         /* 0F 01 F9 */
        "  shl $32, %rdx\n"
        "  or %rdx, %rax\n"
        "g_tscp_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_pmc:\n"
        "g_pmc_at:\n"
        "  rdpmc\n"                          /* 0F 33 */
        "g_pmc_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_invlpg:\n"
        "g_invlpg_1:\n"
        "  invlpg (%rax)\n"                  /* 0F 01 38 */
        "g_invlpg_2:\n"
        "  invlpg %fs:0x10(%rbx)\n"          /* 64 0F 01 7B 10 */
        "g_invlpg_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_mon:\n"
        "  lea io_buf(%rip), %rax\n"
        "  xor %edx, %edx\n"
        "g_mon_monitor:\n"
        "  monitor\n"                        /* 0F 01 C8 */
        "g_mon_mwait:\n"
        "  mwait\n"                          /* 0F 01 C9 */
        "g_mon_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_pause:\n"
        "g_pause_at:\n"
        "  pause\n"                          /* F3 90 */
        "g_pause_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_dr:\n"
        "g_dr_from:\n"
        "  mov %dr7, %rax\n"                 /* 0F 21 F8 */
        "g_dr_to:\n"
        "  mov %rbx, %dr3\n"                 /* 0F 23 DB */
        "g_dr_r9:\n"
        "  mov %r9, %dr0\n"                  /* 41 0F 23 C1 */
        "g_dr_4:\n"
        "  .byte 0x0f, 0x21, 0xe2\n"         /* mov %dr4, %rdx */
        "g_dr_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_cr8:\n"
        "g_cr8_wr:\n"
        "  mov %rcx, %cr8\n"                 /* 44 0F 22 C1 */
        "g_cr8_rd:\n"
        "  mov %cr8, %rax\n"                 /* 44 0F 20 C0 */
        "g_cr8_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_io:\n"
        "g_io_1:\n"
        "  inb $0x80, %al\n"                 /* E4 80 */
        "g_io_2:\n"
        "  outw %ax, $0x80\n"                /* 66 E7 80 */
        "g_io_3:\n"
        "  outl %eax, %dx\n"                 /* EF */
        "g_io_4:\n"
        "  inw %dx, %ax\n"                   /* 66 ED */
        "g_io_5:\n"
        "  rep insb\n"                       /* F3 6C */
        "g_io_6:\n"
        "  outsl %fs:(%esi), %dx\n"          /* 64 67 6F */
        "g_io_7:\n"
        "  rep outsw\n"                      /* F3 66 6F */
        "g_io_done:\n"
        "  vmcall\n"
        "  ud2\n"
        /* VMX instructions: each exits before it touches its operand */
        "g_vi:\n"
        "g_vi_1:\n"
        "  vmread %r12, %r9\n"               /* 45 0F 78 E1 */
        "g_vi_2:\n"
        "  vmwrite (%rax), %rdx\n"           /* 0F 79 10 */
        "g_vi_3:\n"
        "  vmread %rax, 0x10(%ebx,%ecx,8)\n" /* 67 0F 78 44 CB 10 */
        "g_vi_4:\n"
        "  vmptrld g_vi_data(%rip)\n"        /* 0F C7 35 disp32 */
        "g_vi_5:\n"
        "  vmclear %gs:-8(%rbp)\n"           /* 65 66 0F C7 75 F8 */
        "g_vi_6:\n"
        "  vmxon (%rsp)\n"                   /* F3 0F C7 34 24 */
        "g_vi_7:\n"
        "  vmptrst 0x12345678(,%r11,4)\n"    /* 42 0F C7 3C 9D 78 56 34 12 */
        "g_vi_8:\n"
        "  vmlaunch\n"                       /* 0F 01 C2 */
        "  ud2\n"
        "g_vi_data:\n"
        "  .quad 0\n"
        "g_invpcid:\n"
        "g_invpcid_at:\n"
        "  invpcid (%rax), %rcx\n"           /* 66 0F 38 82 08 */
        "  vmcall\n"
        "  ud2\n");

/* ---- guest code at CPL 3 (pages with U = 1) ---- */
void u_rdpmc(void), u_rdtsc(void), u_movdr(void), u_in(void), u_invlpg(void), u_mwait(void),
    u_pause(void), u_cr8(void), u_outsw(void), u_vmread(void);
__asm__(".section .user_text, \"ax\"\n"
        "u_rdpmc: rdpmc\n vmcall\n"
        "u_rdtsc: rdtsc\n vmcall\n"
        "u_movdr: mov %dr7, %rax\n vmcall\n"
        "u_in: inb $0x80, %al\n vmcall\n"
        "u_invlpg: invlpg (%rax)\n vmcall\n"
        "u_mwait: mwait\n vmcall\n"
        "u_pause: pause\n vmcall\n"
        "u_cr8: mov %cr8, %rax\n vmcall\n"
        "u_outsw: outsw\n vmcall\n"
        "u_vmread: vmread %rax, %rbx\n vmcall\n"
        ".text\n");

/* ---- guest code in compatibility mode (CS.L = 0, CS.D = 1) ---- */
void c_outsb(void);
__asm__(".text\n"
        ".code32\n"
        "c_outsb: outsb\n"                   /* 6E */
        "  vmcall\n"
        "  ud2\n"
        ".code64\n");

/* ---- helpers ---- */

static void setup(void (*rip)(void))
{
    vmx_setup_guest(rip, GUEST_RSP);
}

/* the guest at CPL 3: user code and stack segments (CS.DPL = SS.DPL =
 * SS.RPL = 3, SDM 26.3.1.2); every exception exits */
static void setup_user(void (*rip)(void))
{
    vmx_setup_guest(rip, (uintptr_t)(user_stack + sizeof(user_stack)));
    vmwrite(VMCS_GUEST_CS_SELECTOR, RT_SEL_UCODE64 | 3);
    vmwrite(VMCS_GUEST_CS_AR, 0xa0fb); /* code type 11, S, DPL 3, P, L, G */
    vmwrite(VMCS_GUEST_SS_SELECTOR, RT_SEL_UDATA | 3);
    vmwrite(VMCS_GUEST_SS_AR, 0xc0f3); /* data type 3, S, DPL 3, P, D/B, G */
    vmwrite(VMCS_EXCEPTION_BITMAP, ~0u);
}

static void proc_set(uint32_t bits)
{
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | bits);
}

static void proc_clear(uint32_t bits)
{
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) & ~bits);
}

/* the exit just taken: reason, guest RIP (the instruction's own),
 * instruction length, exit qualification */
#define EXPECT_EXIT(reason, at, len, qual)                                                     \
    do {                                                                                       \
        ASSERT_EQ(vmread(VMCS_EXIT_REASON), (reason));                                         \
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)(at));                                    \
        ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), (len));                                   \
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), (qual));                                    \
    } while (0)

/* an exception exit at the instruction 'at' */
#define EXPECT_EXCEPTION(at, info, error)                                                      \
    do {                                                                                       \
        ASSERT_EQ(vmread(VMCS_EXIT_REASON), R_EXCEPTION);                                      \
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)(at));                                    \
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), (info));                                        \
        if ((info) & (1u << 11))                                                               \
            ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), (error));                             \
    } while (0)

static inline uint64_t host_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* ---- 1. RDTSC, TSC offsetting, RDTSCP ---- */

static void test_tsc_offsetting(void)
{
    /* "use TSC offsetting" 1, "RDTSC exiting" 0: RDTSC returns TSC +
     * offset and does not exit (SDM 25.3) */
    const uint64_t off = 0x0123000000000000ull;
    setup(g_tsc);
    proc_set(P_TSC_OFFSET);
    vmwrite(VMCS_TSC_OFFSET, off);
    uint64_t t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    uint64_t t1 = host_tsc();
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_tsc_done);
    ASSERT(vmx_guest.rax > t0 + off && vmx_guest.rax < t1 + off);

    /* a negative offset: the sum wraps modulo 2^64 */
    setup(g_tsc);
    proc_set(P_TSC_OFFSET);
    t0 = host_tsc();
    vmwrite(VMCS_TSC_OFFSET, -t0);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    t1 = host_tsc();
    ASSERT(vmx_guest.rax < t1 - t0);

    /* offsetting off: the TSC-offset field is ignored */
    setup(g_tsc);
    vmwrite(VMCS_TSC_OFFSET, off);
    t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    t1 = host_tsc();
    ASSERT(vmx_guest.rax > t0 && vmx_guest.rax < t1);
}

static void test_tsc_scaling(void)
{
    /* "use TSC scaling" (SDM 24.6.5, 25.3): RDTSC returns bits 111:48
     * of TSC x multiplier, plus the offset.  Multiplier 3 << 47 is 1.5
     * (48 fraction bits). */
    const uint64_t off = 0x0200000000000000ull;
    setup(g_tsc);
    proc_set(P_TSC_OFFSET | P_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, P2_TSC_SCALING);
    vmwrite(VMCS_TSC_MULTIPLIER, 3ull << 47);
    vmwrite(VMCS_TSC_OFFSET, off);
    uint64_t t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    uint64_t t1 = host_tsc();
    ASSERT(vmx_guest.rax >= t0 + t0 / 2 + off && vmx_guest.rax <= t1 + t1 / 2 + off);
    /* a multiplier with a fraction: 1 + 2^-48 adds TSC >> 48, which is
     * 0 here, so the result is the unscaled sum (bits 111:48, truncated) */
    setup(g_tsc);
    proc_set(P_TSC_OFFSET | P_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, P2_TSC_SCALING);
    vmwrite(VMCS_TSC_MULTIPLIER, (1ull << 48) + 1);
    vmwrite(VMCS_TSC_OFFSET, 0);
    t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    t1 = host_tsc();
    ASSERT(vmx_guest.rax > t0 && vmx_guest.rax < t1);
    /* scaling without offsetting is not applied: offsetting enables both */
    setup(g_tsc);
    proc_set(P_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, P2_TSC_SCALING);
    vmwrite(VMCS_TSC_MULTIPLIER, 4ull << 48);
    t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    t1 = host_tsc();
    ASSERT(vmx_guest.rax > t0 && vmx_guest.rax < t1);
}

static void test_msr_store_real_tsc(void)
{
    /* the VM-exit MSR-store list saves IA32_TIME_STAMP_COUNTER itself,
     * not the guest's offset view (27.4) */
    static uint64_t area[2] __attribute__((aligned(16)));
    area[0] = 0x10; /* IA32_TIME_STAMP_COUNTER */
    area[1] = 0;
    setup(g_tsc);
    proc_set(P_TSC_OFFSET);
    vmwrite(VMCS_TSC_OFFSET, 0x0100000000000000ull);
    vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uintptr_t)area);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 1);
    uint64_t t0 = host_tsc();
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    uint64_t t1 = host_tsc();
    ASSERT(area[1] > t0 && area[1] < t1);
}

static void test_rdtsc_exiting(void)
{
    /* "RDTSC exiting" wins over offsetting: exit 16, no result */
    setup(g_tsc);
    proc_set(P_RDTSC | P_TSC_OFFSET);
    vmwrite(VMCS_TSC_OFFSET, 0x1000);
    vmx_guest.rax = 0x5a5a;
    ASSERT_EQ(vmx_launch_exit(), R_RDTSC);
    EXPECT_EXIT(R_RDTSC, g_tsc_at, 2, 0);
    ASSERT_EQ(vmx_guest.rax, 0x5a5a);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
}

static void test_rdtscp(void)
{
    /* "enable RDTSCP" 0 makes RDTSCP #UD in non-root operation, whatever
     * "RDTSC exiting" says (SDM 25.3); without "activate secondary
     * controls" the secondary field counts as 0 (24.6.2) */
    setup(g_tscp);
    proc_set(P_RDTSC);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, P2_ENABLE_RDTSCP);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_tscp_at, INFO_UD, 0);
    proc_set(P_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, 0);
    ASSERT_EQ(vmx_resume_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_tscp_at, INFO_UD, 0);
    /* enabled: "RDTSC exiting" makes it exit 51 */
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, P2_ENABLE_RDTSCP);
    ASSERT_EQ(vmx_resume_exit(), R_RDTSCP);
    EXPECT_EXIT(R_RDTSCP, g_tscp_at, 3, 0);
    /* without it, the offset TSC and IA32_TSC_AUX */
    const uint64_t off = 0x0040000000000000ull;
    proc_clear(P_RDTSC);
    proc_set(P_TSC_OFFSET);
    vmwrite(VMCS_TSC_OFFSET, off);
    wrmsr(MSR_TSC_AUX, 0x2a);
    uint64_t t0 = host_tsc();
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    uint64_t t1 = host_tsc();
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_tscp_done);
    ASSERT(vmx_guest.rax > t0 + off && vmx_guest.rax < t1 + off);
    ASSERT_EQ(vmx_guest.rcx, 0x2a);
}

/* ---- 2. RDPMC ---- */

static void test_rdpmc(void)
{
    /* CPL 0: the exit comes before the #GP for the counter nest86 does
     * not have (25.1.1) */
    setup(g_pmc);
    proc_set(P_RDPMC);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
    ASSERT_EQ(vmx_launch_exit(), R_RDPMC);
    EXPECT_EXIT(R_RDPMC, g_pmc_at, 2, 0);
    /* the control clear: RDPMC runs and #GPs (no counters) */
    proc_clear(P_RDPMC);
    ASSERT_EQ(vmx_resume_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_pmc_at, INFO_GP, 0);
}

/* ---- 3. INVLPG ---- */

static void test_invlpg(void)
{
    setup(g_invlpg);
    proc_set(P_INVLPG);
    vmwrite(VMCS_GUEST_FS_BASE, 0x100000000ull);
    vmx_guest.rax = 0x0000800000000000ull; /* not canonical: still the qualification */
    vmx_guest.rbx = 0x1000;
    ASSERT_EQ(vmx_launch_exit(), R_INVLPG);
    /* Table 27-1: the linear-address operand */
    EXPECT_EXIT(R_INVLPG, g_invlpg_1, 3, 0x0000800000000000ull);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_INVLPG);
    EXPECT_EXIT(R_INVLPG, g_invlpg_2, 5, 0x100001010ull); /* FS base + RBX + 0x10 */
    /* the control clear: both run (the first as a no-op) */
    setup(g_invlpg);
    vmx_guest.rax = 0x0000800000000000ull;
    vmx_guest.rbx = 0x1000;
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_invlpg_done);
}

/* ---- 4. MONITOR, MWAIT, PAUSE ---- */

static void test_monitor_mwait(void)
{
    /* MWAIT exiting: the qualification says the monitor is armed
     * (27.2.1); the exit clears it (27.5.6), so the retried MWAIT
     * finds it unarmed */
    setup(g_mon);
    proc_set(P_MWAIT);
    ASSERT_EQ(vmx_launch_exit(), R_MWAIT);
    EXPECT_EXIT(R_MWAIT, g_mon_mwait, 3, 1);
    ASSERT_EQ(vmx_resume_exit(), R_MWAIT);
    EXPECT_EXIT(R_MWAIT, g_mon_mwait, 3, 0);
    /* an invalid extension in ECX: the exit comes before the #GP */
    vmx_guest.rcx = 2;
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
    ASSERT_EQ(vmx_resume_exit(), R_MWAIT);
    EXPECT_EXIT(R_MWAIT, g_mon_mwait, 3, 0);
    vmx_guest.rcx = 0;

    /* MONITOR exiting */
    setup(g_mon);
    proc_set(P_MONITOR | P_MWAIT);
    ASSERT_EQ(vmx_launch_exit(), R_MONITOR);
    EXPECT_EXIT(R_MONITOR, g_mon_monitor, 3, 0);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_MWAIT);
    EXPECT_EXIT(R_MWAIT, g_mon_mwait, 3, 0); /* MONITOR never ran */

    /* both clear: MONITOR arms, MWAIT with IF = 0 and ECX[0] = 0 ends
     * at once, and the guest reaches VMCALL */
    setup(g_mon);
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_mon_done);
}

static void test_pause(void)
{
    setup(g_pause);
    proc_set(P_PAUSE);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    EXPECT_EXIT(R_PAUSE, g_pause_at, 2, 0);
    proc_clear(P_PAUSE);
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_pause_done);
}

/* ---- 5. MOV DR ---- */

static void test_mov_dr(void)
{
    setup(g_dr);
    proc_set(P_MOV_DR);
    /* "load debug controls": VM entry loads DR7 from the guest field */
    vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) | (1u << 2));
    /* CR4.DE = 1 makes DR4 #UD, DR7.GD makes any MOV DR #DB: the exit
     * comes first for both (25.1.3 "MOV DR"; fault-like exits beat #DB) */
    vmwrite(VMCS_GUEST_CR4, read_cr4() | CR4_DE);
    vmwrite(VMCS_GUEST_DR7, 0x2400);
    vmwrite(VMCS_EXCEPTION_BITMAP, (1u << VEC_UD) | (1u << VEC_DB));
    /* Table 27-4: DR number 2:0, direction 4 (1 = from DR), GPR 11:8 */
    ASSERT_EQ(vmx_launch_exit(), R_DR);
    EXPECT_EXIT(R_DR, g_dr_from, 3, 0x017); /* MOV RAX <- DR7 */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_DR);
    EXPECT_EXIT(R_DR, g_dr_to, 3, 0x303); /* MOV DR3 <- RBX */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_DR);
    EXPECT_EXIT(R_DR, g_dr_r9, 4, 0x900); /* MOV DR0 <- R9 */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_DR);
    EXPECT_EXIT(R_DR, g_dr_4, 3, 0x214); /* MOV RDX <- DR4 */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);

    /* the control clear: DR7.GD raises #DB at the first MOV DR */
    proc_clear(P_MOV_DR);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_dr_from);
    vmwrite(VMCS_GUEST_DR7, 0x2400);
    ASSERT_EQ(vmx_resume_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_dr_from, INFO_DB, 0);
    /* ... and without GD the moves run; DR4 with CR4.DE = 1 is #UD */
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmx_guest.rbx = 0x1000;
    vmx_guest.r9 = 0x2000;
    ASSERT_EQ(vmx_resume_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_dr_4, INFO_UD, 0);
    ASSERT_EQ(vmx_guest.rax, 0x400);
    /* with CR4.DE = 0 DR4 is DR6 */
    vmwrite(VMCS_GUEST_CR4, read_cr4() & ~CR4_DE);
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_dr_done);
    ASSERT_EQ(vmx_guest.rdx & 0xffff0ff0u, 0xffff0ff0u); /* DR6's reserved 1s */
}

/* ---- 6. CR8 ---- */

static void test_cr8(void)
{
    setup(g_cr8);
    proc_set(P_CR8_LOAD | P_CR8_STORE);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
    vmx_guest.rcx = 0x10; /* reserved bits: the exit comes before the #GP */
    /* Table 27-3: CR 8, access type 4:5 (0 to CR, 1 from CR), GPR 11:8 */
    ASSERT_EQ(vmx_launch_exit(), R_CR);
    EXPECT_EXIT(R_CR, g_cr8_wr, 4, 0x108); /* MOV CR8 <- RCX */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_CR);
    EXPECT_EXIT(R_CR, g_cr8_rd, 4, 0x018); /* MOV RAX <- CR8 */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);

    /* only the store exits */
    proc_clear(P_CR8_LOAD);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_cr8_wr);
    vmx_guest.rcx = 5;
    ASSERT_EQ(vmx_resume_exit(), R_CR);
    EXPECT_EXIT(R_CR, g_cr8_rd, 4, 0x018);
    /* both clear: the TPR is written and read back */
    proc_clear(P_CR8_STORE);
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);
    ASSERT_EQ(vmx_guest.rax, 5);
    /* reserved bits without the control: #GP */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_cr8_wr);
    vmx_guest.rcx = 0x10;
    ASSERT_EQ(vmx_resume_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_cr8_wr, INFO_GP, 0);
    __asm__ volatile("mov %0, %%cr8" ::"r"(0ul)); /* the host's TPR back to 0 */
}

/* ---- 7. I/O instructions ---- */

static void test_io(void)
{
    /* Table 27-5: size - 1 in 2:0, IN 3, string 4, REP 5, immediate 6,
     * port 31:16.  Table 27-8 (IA32_VMX_BASIC[54] = 1): address size
     * 9:7, segment 17:15 */
    const uint64_t buf = (uintptr_t)io_buf;
    setup(g_io);
    proc_set(P_UNCOND_IO);
    vmwrite(VMCS_GUEST_FS_BASE, 0x1000);
    vmx_guest.rdx = 0x1234;
    vmx_guest.rdi = buf;
    vmx_guest.rsi = 0xdead000000000000ull | (buf - 0x1000);
    vmx_guest.rcx = 0; /* a REP with count 0 still exits */
    ASSERT_EQ(vmx_launch_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_1, 2, 0x00800048); /* IN AL, 80H */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_2, 3, 0x00800041); /* OUT 80H, AX */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_3, 1, 0x12340003); /* OUT DX, EAX */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_4, 2, 0x12340009); /* IN AX, DX */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_5, 2, 0x12340038); /* REP INSB */
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), buf); /* ES:RDI */
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x100); /* 64-bit, ES */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_6, 3, 0x12340013); /* OUTSD FS:[ESI] */
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), buf); /* FS base + ESI */
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x20080); /* 32-bit, FS */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, g_io_7, 3, 0x12340031); /* REP OUTSW */
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), vmx_guest.rsi); /* DS:RSI, DS base 0 */
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x18100); /* 64-bit, DS */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMCALL);

    /* the control clear: every one runs in the guest */
    setup(g_io);
    vmwrite(VMCS_GUEST_FS_BASE, 0x1000);
    vmx_guest.rdx = 0x1234;
    vmx_guest.rdi = buf;
    vmx_guest.rsi = buf - 0x1000;
    vmx_guest.rcx = 0;
    ASSERT_EQ(vmx_launch_exit(), R_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_io_done);
    ASSERT_EQ(vmx_guest.rsi, buf - 0x1000 + 4); /* OUTSD advanced ESI */
}

static void test_io_segment_priority(void)
{
    /* compatibility mode, DS limit 0FFFH: an OUTS beyond the limit
     * #GPs before the I/O exit (25.1.1); within it, the exit records
     * DS:ESI and a 32-bit address size */
    setup(c_outsb);
    proc_set(P_UNCOND_IO);
    vmwrite(VMCS_GUEST_CS_SELECTOR, RT_SEL_CODE32);
    vmwrite(VMCS_GUEST_CS_AR, 0xc09b); /* code, D/B = 1, L = 0 */
    vmwrite(VMCS_GUEST_DS_LIMIT, 0xfff);
    vmwrite(VMCS_GUEST_DS_AR, 0x4093); /* G = 0 */
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_GP);
    vmx_guest.rdx = 0x80;
    vmx_guest.rsi = 0x2000;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(c_outsb, INFO_GP, 0);
    vmx_guest.rsi = 0xffffffff00000800ull; /* bits 63:32 are not used */
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, c_outsb, 1, 0x00800010);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), 0x800);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x18080); /* 32-bit, DS */
}

/* ---- 8. VMX instructions: qualification and instruction information ---- */

static void test_vmx_instruction_info(void)
{
    setup(g_vi);
    vmx_guest.rbp = 0x3000; /* no operand is touched: any values do */
    ASSERT_EQ(vmx_launch_exit(), R_VMREAD);
    /* Table 27-14, register operand: Reg1 (ModRM.rm = R9) 6:3, bit 10,
     * Reg2 (ModRM.reg = R12) 31:28; qualification 0 (no displacement) */
    EXPECT_EXIT(R_VMREAD, g_vi_1, 4, 0);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0xc0000448);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMWRITE);
    /* [RAX]: scaling 0, 64-bit (2 << 7), DS (3 << 15), index invalid
     * (bit 22), base RAX (0 << 23), Reg2 RDX (2 << 28) */
    EXPECT_EXIT(R_VMWRITE, g_vi_2, 3, 0);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x20418100);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMREAD);
    /* [EBX+ECX*8+10H], 32-bit address size: scaling 3, 32-bit (1 << 7),
     * DS, index RCX (1 << 18), base RBX (3 << 23), Reg2 RAX */
    EXPECT_EXIT(R_VMREAD, g_vi_3, 6, 0x10);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x01858083);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMPTRLD);
    /* RIP-relative: the qualification is displacement + next RIP, i.e.
     * the operand's address; Table 27-13: no base, no index */
    EXPECT_EXIT(R_VMPTRLD, g_vi_4, 7, (uintptr_t)g_vi_data);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x08418100);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMCLEAR);
    /* GS:[RBP-8]: displacement sign-extended, GS (5 << 15), base RBP */
    EXPECT_EXIT(R_VMCLEAR, g_vi_5, 6, 0xfffffffffffffff8ull);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x02c28100);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMXON);
    /* [RSP]: default segment SS (2 << 15), base RSP (4 << 23) */
    EXPECT_EXIT(R_VMXON, g_vi_6, 5, 0);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x02410100);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMPTRST);
    /* [R11*4+12345678H]: scaling 2, index R11 (11 << 18), no base */
    EXPECT_EXIT(R_VMPTRST, g_vi_7, 9, 0x12345678);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x082d8102);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), R_VMLAUNCH);
    EXPECT_EXIT(R_VMLAUNCH, g_vi_8, 3, 0);
}

/* ---- INVPCID without "enable INVPCID" ---- */

static void test_invpcid_ud(void)
{
    /* SDM 25.3: with "enable INVPCID" 0, INVPCID is #UD in non-root
     * operation (it would run fine here: type 2, all contexts) */
    static uint64_t desc[2] __attribute__((aligned(16)));
    setup(g_invpcid);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
    vmx_guest.rax = (uintptr_t)desc;
    vmx_guest.rcx = 2;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(g_invpcid_at, INFO_UD, 0);
}

/* ---- priorities at CPL 3 (25.1.1) ---- */

static void run_user(void (*rip)(void), uint32_t proc)
{
    setup_user(rip);
    proc_set(proc);
    vmx_guest.rax = (uintptr_t)io_buf;
}

static void test_cpl3_priorities(void)
{
    /* RDPMC with CR4.PCE = 0: #GP before the exit; with PCE the exit */
    run_user(u_rdpmc, P_RDPMC);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_rdpmc, INFO_GP, 0);
    run_user(u_rdpmc, P_RDPMC);
    vmwrite(VMCS_GUEST_CR4, read_cr4() | CR4_PCE);
    ASSERT_EQ(vmx_launch_exit(), R_RDPMC);
    EXPECT_EXIT(R_RDPMC, u_rdpmc, 2, 0);
    /* RDTSC with CR4.TSD = 1: #GP before the exit */
    run_user(u_rdtsc, P_RDTSC);
    vmwrite(VMCS_GUEST_CR4, read_cr4() | CR4_TSD);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_rdtsc, INFO_GP, 0);
    run_user(u_rdtsc, P_RDTSC);
    ASSERT_EQ(vmx_launch_exit(), R_RDTSC);
    EXPECT_EXIT(R_RDTSC, u_rdtsc, 2, 0);
    /* MOV DR: the exit beats the CPL #GP (25.1.3) */
    run_user(u_movdr, P_MOV_DR);
    ASSERT_EQ(vmx_launch_exit(), R_DR);
    EXPECT_EXIT(R_DR, u_movdr, 3, 0x017);
    run_user(u_movdr, 0);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_movdr, INFO_GP, 0);
    /* IN with CPL > IOPL and no I/O bitmap in the TSS: #GP first; with
     * IOPL 3 the exit */
    run_user(u_in, P_UNCOND_IO);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_in, INFO_GP, 0);
    run_user(u_in, P_UNCOND_IO);
    vmwrite(VMCS_GUEST_RFLAGS, 0x3002);
    ASSERT_EQ(vmx_launch_exit(), R_IO);
    EXPECT_EXIT(R_IO, u_in, 2, 0x00800048);
    /* OUTSW with alignment checking: #AC before the exit */
    run_user(u_outsw, P_UNCOND_IO);
    vmwrite(VMCS_GUEST_RFLAGS, 0x43002); /* AC, IOPL 3 */
    vmwrite(VMCS_GUEST_CR0, read_cr0() | CR0_AM);
    vmx_guest.rsi = (uintptr_t)io_buf + 1;
    vmx_guest.rdx = 0x80;
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_outsw, INFO_AC, 0);
    vmx_guest.rsi = (uintptr_t)io_buf;
    ASSERT_EQ(vmx_resume_exit(), R_IO);
    EXPECT_EXIT(R_IO, u_outsw, 2, 0x00800011);
    /* INVLPG, MOV from CR8: #GP at CPL 3; MWAIT: #UD */
    run_user(u_invlpg, P_INVLPG);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_invlpg, INFO_GP, 0);
    run_user(u_cr8, P_CR8_STORE);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_cr8, INFO_GP, 0);
    run_user(u_mwait, P_MWAIT);
    ASSERT_EQ(vmx_launch_exit(), R_EXCEPTION);
    EXPECT_EXCEPTION(u_mwait, INFO_UD, 0);
    /* PAUSE exits at any CPL; so does VMREAD (before its CPL check) */
    run_user(u_pause, P_PAUSE);
    ASSERT_EQ(vmx_launch_exit(), R_PAUSE);
    EXPECT_EXIT(R_PAUSE, u_pause, 2, 0);
    run_user(u_vmread, 0);
    ASSERT_EQ(vmx_launch_exit(), R_VMREAD);
    EXPECT_EXIT(R_VMREAD, u_vmread, 3, 0);
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x00000418); /* Reg1 RBX, bit 10, Reg2 RAX */
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_tsc_offsetting);
    RUN_TEST(test_tsc_scaling);
    RUN_TEST(test_msr_store_real_tsc);
    RUN_TEST(test_rdtsc_exiting);
    RUN_TEST(test_rdtscp);
    RUN_TEST(test_rdpmc);
    RUN_TEST(test_invlpg);
    RUN_TEST(test_monitor_mwait);
    RUN_TEST(test_pause);
    RUN_TEST(test_mov_dr);
    RUN_TEST(test_cr8);
    RUN_TEST(test_io);
    RUN_TEST(test_io_segment_priority);
    RUN_TEST(test_vmx_instruction_info);
    RUN_TEST(test_invpcid_ud);
    RUN_TEST(test_cpl3_priorities);
    vmx_disable();
}
