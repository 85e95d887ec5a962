/* testsuite/difftest/native.c — runs a case on the host CPU.
 *
 * A forked child maps the code page and the data window at the fixed
 * addresses of difftest.h and then serves cases one at a time through a
 * shared mailbox and two pipes.  For each case it loads all sixteen
 * GPRs and RFLAGS from the case (entry stub below) and jumps to the
 * code.  Every case ends in an exception — the final INT3 or a fault on
 * the way — so the state is always read from the signal's ucontext,
 * which holds the registers, RIP, trap number, error code and CR2 at
 * the exception, exactly what nest86's IDT stubs see.  The handler runs
 * on an alternate stack (RSP belongs to the case) and siglongjmps back
 * to the serving loop.  A child that dies is replaced. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "testsuite/difftest/difftest.h"

/* Entry stub: RDI points at a struct dt_state.  RFLAGS goes first
 * (through the host stack), then every GPR with MOV, which leaves the
 * flags alone; RDI last; then an indirect jump that uses no register. */
void dt_native_enter(const struct dt_state *st);
__asm__(".pushsection .text\n"
        ".globl dt_native_enter\n"
        ".type dt_native_enter, @function\n"
        "dt_native_enter:\n"
        "    pushq 136(%rdi)\n"
        "    popfq\n"
        "    movq 0(%rdi), %rax\n"
        "    movq 8(%rdi), %rcx\n"
        "    movq 16(%rdi), %rdx\n"
        "    movq 24(%rdi), %rbx\n"
        "    movq 32(%rdi), %rsp\n"
        "    movq 40(%rdi), %rbp\n"
        "    movq 48(%rdi), %rsi\n"
        "    movq 64(%rdi), %r8\n"
        "    movq 72(%rdi), %r9\n"
        "    movq 80(%rdi), %r10\n"
        "    movq 88(%rdi), %r11\n"
        "    movq 96(%rdi), %r12\n"
        "    movq 104(%rdi), %r13\n"
        "    movq 112(%rdi), %r14\n"
        "    movq 120(%rdi), %r15\n"
        "    movq 56(%rdi), %rdi\n"
        "    jmp *dt_native_target(%rip)\n"
        ".size dt_native_enter, . - dt_native_enter\n"
        ".popsection\n");

/* where the entry stub jumps: the case's RIP (read without a register) */
uint64_t dt_native_target;

_Static_assert(offsetof(struct dt_state, rflags) == 136, "entry stub layout");

struct mailbox {
    struct dt_case tc;
    struct dt_result res;
};

static struct mailbox *mb;
static pid_t child = -1;
static int req_w = -1, resp_r = -1;

/* ---- the child ---- */

static sigjmp_buf child_env;
static struct dt_result *child_res;

/* The VD_MODEL fixup whose INT3 the host just executed, or
 * NULL for any other trap (the INT3 that ends every case). */
static const struct dt_fixup *reference_at(uint64_t rip)
{
    if (!dt_vendor_fixups)
        return NULL;
    for (int k = 0; k < mb->tc.nfix; k++) {
        const struct dt_case_fix *x = &mb->tc.fix[k];
        if (x->rip + 1 == rip && vendor_diffs[x->f.rule].how == VD_MODEL)
            return &x->f;
    }
    return NULL;
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    ucontext_t *uc = ucv;
    greg_t *gr = uc->uc_mcontext.gregs;
    struct dt_result *r = child_res;
    const struct dt_fixup *fx = sig == SIGTRAP ? reference_at((uint64_t)gr[REG_RIP]) : NULL;
    if (fx) {
        /* Intel's result by the row's model, then on with the case */
        if (dt_vendor_reference(fx, uc, r->why, sizeof(r->why)) == 0) {
            gr[REG_RIP] += fx->len - 1;
            return;
        }
        r->status = DT_BROKEN;
        siglongjmp(child_env, 1);
    }
    static const int map[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};
    for (int k = 0; k < 16; k++)
        r->out.r[k] = (uint64_t)gr[map[k]];
    r->out.rip = (uint64_t)gr[REG_RIP];
    r->out.rflags = (uint64_t)gr[REG_EFL];
    if (sig == SIGALRM) {
        r->status = DT_TIMEOUT;
        snprintf(r->why, sizeof(r->why), "host: no exception within 2 s");
    } else {
        r->status = DT_OK;
        r->vector = (int)gr[REG_TRAPNO];
        r->err = (uint64_t)gr[REG_ERR];
        r->cr2 = (uint64_t)gr[REG_CR2];
    }
    siglongjmp(child_env, 1);
}

static int map_fixed(uint64_t addr, size_t len, int prot)
{
    void *p = mmap((void *)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p == MAP_FAILED)
        return -1;
    if (p != (void *)addr) {
        munmap(p, len);
        errno = EEXIST;
        return -1;
    }
    return 0;
}

/* The ranges a fault case aims at must really be unmapped. */
static int check_unmapped(uint64_t addr, size_t len)
{
    if (map_fixed(addr, len, PROT_NONE))
        return -1;
    munmap((void *)addr, len);
    return 0;
}

static _Noreturn void child_main(int req_r, int resp_w)
{
    if (map_fixed(DT_CODE_ADDR, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
        map_fixed(DT_DATA_ADDR, DT_DATA_SIZE, PROT_READ | PROT_WRITE) ||
        check_unmapped(DT_DATA_ADDR + DT_DATA_SIZE, 0x10000) ||
        check_unmapped(DT_CODE_ADDR + DT_CODE_SIZE, 0x10000) ||
        check_unmapped(DT_UNMAPPED, 0x100000)) {
        fprintf(stderr, "difftest: host child cannot map its fixed pages: %s\n", strerror(errno));
        _exit(3);
    }
    static uint8_t altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM};
    for (unsigned k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
        sigaction(sigs[k], &sa, NULL);
    child_res = &mb->res;
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, DT_GS_BASE)) {
        fprintf(stderr, "difftest: host child cannot set the GS base: %s\n", strerror(errno));
        _exit(3);
    }

    uint8_t *code = (uint8_t *)DT_CODE_ADDR, *data = (uint8_t *)DT_DATA_ADDR;
    for (;;) {
        char cmd;
        if (read(req_r, &cmd, 1) != 1)
            _exit(0);
        memcpy(code, mb->tc.code, DT_CODE_SIZE);
        /* on a host that is not Intel, Intel's rules where the vendors differ */
        for (int k = 0; dt_vendor_fixups && k < mb->tc.nfix; k++) {
            const struct dt_case_fix *x = &mb->tc.fix[k];
            uint8_t *at = code + (x->rip - DT_CODE_ADDR);
            if (vendor_diffs[x->f.rule].how == VD_SUBST)
                memcpy(at, x->f.sub, x->f.len);
            else if (vendor_diffs[x->f.rule].how == VD_MODEL)
                *at = 0xcc;
        }
        memcpy(data, mb->tc.data, DT_DATA_SIZE);
        memset(&mb->res, 0, offsetof(struct dt_result, data));
        mb->res.status = DT_BROKEN;
        dt_native_target = mb->tc.in.rip;
        if (sigsetjmp(child_env, 1) == 0) {
            alarm(2);
            dt_native_enter(&mb->tc.in);
        }
        alarm(0);
        memcpy(mb->res.data, data, DT_DATA_SIZE);
        if (write(resp_w, "r", 1) != 1)
            _exit(0);
    }
}

/* ---- the parent ---- */

int native_start(void)
{
    if (!mb) {
        mb = mmap(NULL, sizeof(*mb), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mb == MAP_FAILED) {
            mb = NULL;
            perror("difftest: mmap");
            return -1;
        }
    }
    int req[2], resp[2];
    if (pipe(req) || pipe(resp)) {
        perror("difftest: pipe");
        return -1;
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        perror("difftest: fork");
        return -1;
    }
    if (child == 0) {
        close(req[1]);
        close(resp[0]);
        child_main(req[0], resp[1]);
    }
    close(req[0]);
    close(resp[1]);
    req_w = req[1];
    resp_r = resp[0];
    return 0;
}

void native_stop(void)
{
    if (child > 0) {
        close(req_w);
        close(resp_r);
        int st;
        waitpid(child, &st, 0);
        child = -1;
    }
}

static void restart(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        native_stop();
    }
    native_start();
}

/* DIFFTEST_FAKE_HOST_ERROR=N makes every Nth host run fail as a dead
 * child would, so integration/difftest.sh can check that host errors
 * fail the run.  For that self-check only. */
static long fake_host_error_every(void)
{
    static long every = -1;
    if (every < 0) {
        const char *e = getenv("DIFFTEST_FAKE_HOST_ERROR");
        every = e ? strtol(e, NULL, 0) : 0;
        if (every < 0)
            every = 0;
    }
    return every;
}

void native_run(const struct dt_case *tc, struct dt_result *res)
{
    static long runs;
    long every = fake_host_error_every();
    if (every && ++runs % every == 0) {
        memset(res, 0, sizeof(*res));
        res->status = DT_BROKEN;
        snprintf(res->why, sizeof(res->why), "host: simulated failure (DIFFTEST_FAKE_HOST_ERROR)");
        return;
    }
    if (child <= 0 && native_start()) {
        memset(res, 0, sizeof(*res));
        res->status = DT_BROKEN;
        snprintf(res->why, sizeof(res->why), "host: cannot start the child");
        return;
    }
    memcpy(&mb->tc, tc, sizeof(*tc));
    char c = 'g';
    struct pollfd p = {.fd = resp_r, .events = POLLIN};
    if (write(req_w, &c, 1) != 1 || poll(&p, 1, 10000) != 1 || read(resp_r, &c, 1) != 1) {
        memset(res, 0, sizeof(*res));
        res->status = DT_BROKEN;
        snprintf(res->why, sizeof(res->why), "host: the child died or hung");
        restart();
        return;
    }
    memcpy(res, &mb->res, sizeof(*res));
}

bool native_probe_lzcnt(void)
{
    uint32_t out, in = 1;
    /* F3 0F BD: LZCNT where supported, BSR (with a REP prefix) elsewhere */
    __asm__(".byte 0xf3, 0x0f, 0xbd, 0xc1" : "=a"(out) : "c"(in) : "cc");
    return out == 31;
}
