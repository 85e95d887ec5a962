/* testsuite/difftest/emu.c — runs a case in nest86's CPU.
 *
 * No kernel and no board: a struct machine with RAM and an I/O bus, and
 * one CPU put straight into 64-bit mode at CPL 3.  Guest-physical
 * memory (all built here, identity-mapped and supervisor-only below
 * 2 MiB):
 *
 *   0x1000  PML4     0x2000 PDPT    0x3000 PD
 *   0x4000  PT for 0-2 MiB (supervisor)   0x5000 PT code   0x6000 PT data
 *   0x8000  GDT      0x9000 IDT     0xa000 TSS (RSP0 = 0xf000)
 *   0x10000 one HLT stub per vector, 16 bytes apart
 *   0x100000 the code page(s), user, at linear DT_CODE_ADDR
 *   0x200000 the data window, user, at linear DT_DATA_ADDR
 *
 * Every exception goes through an interrupt gate to its stub, whose HLT
 * stops cpu_run(); the stub's address gives the vector and the frame on
 * the kernel stack gives RIP, RFLAGS and RSP at the exception, as the
 * host's ucontext does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "testsuite/difftest/difftest.h"

#define PA_PML4 0x1000ull
#define PA_PDPT 0x2000ull
#define PA_PD 0x3000ull
#define PA_PT_LOW 0x4000ull
#define PA_PT_CODE 0x5000ull
#define PA_PT_DATA 0x6000ull
#define PA_GDT 0x8000ull
#define PA_IDT 0x9000ull
#define PA_TSS 0xa000ull
#define KSTACK_TOP 0xf000ull
#define PA_STUBS 0x10000ull
#define PA_CODE 0x100000ull
#define PA_DATA 0x200000ull

#define SEL_KCODE 0x08
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS 0x28

static struct machine *m;
static struct cpu *c;

static void wr64(uint64_t pa, uint64_t v)
{
    phys_write(&m->phys, pa, v, 8);
}

int emu_start(void)
{
    m = calloc(1, sizeof(*m));
    c = calloc(1, sizeof(*c));
    if (!m || !c || phys_init(&m->phys, 64ull << 20)) {
        fprintf(stderr, "difftest: cannot allocate nest86's guest RAM\n");
        return -1;
    }
    io_init(&m->io);
    m->cpu = c;
    cpu_init(c, m, &m->phys);

    const uint64_t P = 1, RW = 2, US = 4;
    wr64(PA_PML4, PA_PDPT | P | RW | US);
    wr64(PA_PDPT, PA_PD | P | RW | US);
    wr64(PA_PD + 8 * 0, PA_PT_LOW | P | RW); /* no US: user access stops here */
    wr64(PA_PD + 8 * (DT_CODE_ADDR >> 21), PA_PT_CODE | P | RW | US);
    wr64(PA_PD + 8 * (DT_DATA_ADDR >> 21), PA_PT_DATA | P | RW | US);
    for (uint64_t k = 0; k < 512; k++)
        wr64(PA_PT_LOW + 8 * k, (k << 12) | P | RW);
    for (uint64_t k = 0; k < DT_CODE_SIZE / 4096; k++)
        wr64(PA_PT_CODE + 8 * ((DT_CODE_ADDR >> 12) & 511) + 8 * k, (PA_CODE + (k << 12)) | P | RW | US);
    for (uint64_t k = 0; k < DT_DATA_SIZE / 4096; k++)
        wr64(PA_PT_DATA + 8 * ((DT_DATA_ADDR >> 12) & 511) + 8 * k, (PA_DATA + (k << 12)) | P | RW | US);

    /* GDT: null, kernel code, kernel data, user data, user code, TSS */
    wr64(PA_GDT + 0x08, 0x00209a0000000000ull);
    wr64(PA_GDT + 0x10, 0x0000920000000000ull);
    wr64(PA_GDT + 0x18, 0x0000f20000000000ull);
    wr64(PA_GDT + 0x20, 0x0020fa0000000000ull);
    wr64(PA_GDT + 0x28, 0x67 | (PA_TSS & 0xffffff) << 16 | 0x8bull << 40 |
                            ((PA_TSS >> 24) & 0xff) << 56);
    wr64(PA_GDT + 0x30, PA_TSS >> 32);
    phys_write(&m->phys, PA_TSS + 4, KSTACK_TOP, 8);

    /* IDT: 64-bit interrupt gates to the stubs; INT3 (the end marker) is
     * reachable from CPL 3 */
    for (uint64_t v = 0; v < 256; v++) {
        uint64_t off = PA_STUBS + 16 * v;
        unsigned dpl = v == 3 ? 3 : 0;
        uint64_t lo = (off & 0xffff) | (uint64_t)SEL_KCODE << 16 |
                      (uint64_t)(0x8e | dpl << 5) << 40 | ((off >> 16) & 0xffff) << 48;
        wr64(PA_IDT + 16 * v, lo);
        wr64(PA_IDT + 16 * v + 8, off >> 32);
        phys_write(&m->phys, off, 0xf4, 1); /* HLT */
    }

    c->mmu.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    c->mmu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->mmu.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    c->mmu.cr3 = PA_PML4;
    mmu_flush_all(&c->mmu);
    c->gdtr.base = PA_GDT;
    c->gdtr.limit = 0x37;
    c->idtr.base = PA_IDT;
    c->idtr.limit = 0xfff;
    c->tr.sel = SEL_TSS;
    c->tr.base = PA_TSS;
    c->tr.limit = 0x67;
    c->tr.ar = 0xb | AR_P;
    c->ldtr.sel = 0;
    c->ldtr.ar = AR_UNUSABLE;
    return 0;
}

static void user_segments(void)
{
    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = SEL_UDATA;
        c->seg[s].base = 0;
        c->seg[s].limit = 0xffffffff;
        c->seg[s].ar = 0x3 | AR_S | 3u << 5 | AR_P | AR_DB | AR_G;
    }
    c->seg[SEG_FS].sel = c->seg[SEG_GS].sel = 0;
    c->seg[SEG_GS].base = DT_GS_BASE;
    c->seg[SEG_CS].sel = SEL_UCODE;
    c->seg[SEG_CS].ar = 0xb | AR_S | 3u << 5 | AR_P | AR_L | AR_G;
    c->cpl = 3;
    cpu_update_mode(c);
}

static bool has_error_code(int v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

void emu_run(const struct dt_case *tc, struct dt_result *res)
{
    memset(res, 0, offsetof(struct dt_result, data));
    /* The same code again (emu_run_warm) is not copied: its decoded
     * blocks stay valid, and the run goes through the threaded chains
     * and fast paths instead of the first, decoding execution. */
    if (memcmp(phys_ram_ptr(&m->phys, PA_CODE), tc->code, DT_CODE_SIZE))
        phys_copy_in(&m->phys, PA_CODE, tc->code, DT_CODE_SIZE);
    phys_copy_in(&m->phys, PA_DATA, tc->data, DT_DATA_SIZE);

    memcpy(c->r, tc->in.r, CPU_GPRS * sizeof(c->r[0]));
    c->rip = tc->in.rip;
    user_segments();
    cpu_set_flags(c, tc->in.rflags);
    c->halted = false;
    c->pending = 0;
    c->inhibit_irq = false;
    c->delivering = -1;
    c->fault_depth = 0;
    c->cr2 = 0;
    m->stop = MACHINE_RUNNING;

    cpu_run(c, c->icount + 1000000);

    if (m->stop != MACHINE_RUNNING) {
        res->status = DT_BROKEN;
        snprintf(res->why, sizeof(res->why), "nest86: %s", m->stop_message);
    } else if (!c->halted || c->cpl != 0 || c->rip < PA_STUBS + 1 ||
               c->rip > PA_STUBS + 16 * 255 + 1 || (c->rip - PA_STUBS - 1) % 16) {
        res->status = DT_TIMEOUT;
        snprintf(res->why, sizeof(res->why), "nest86: no exception (RIP %#llx, %s)",
                 (unsigned long long)c->rip, c->halted ? "halted" : "running");
        memcpy(res->out.r, c->r, CPU_GPRS * sizeof(c->r[0]));
        res->out.rip = c->rip;
        res->out.rflags = cpu_get_flags(c);
    } else {
        int v = (int)((c->rip - PA_STUBS - 1) / 16);
        uint64_t sp = c->r[R_RSP], frame[6];
        for (int k = 0; k < 6; k++)
            frame[k] = phys_read(&m->phys, sp + 8 * (uint64_t)k, 8);
        const uint64_t *f = frame;
        res->status = DT_OK;
        res->vector = v;
        if (has_error_code(v))
            res->err = *f++;
        memcpy(res->out.r, c->r, CPU_GPRS * sizeof(c->r[0]));
        res->out.rip = f[0];
        res->out.rflags = f[2];
        res->out.r[R_RSP] = f[3];
        res->cr2 = v == EX_PF ? c->cr2 : 0;
    }
    phys_copy_out(&m->phys, PA_DATA, res->data, DT_DATA_SIZE);
}
