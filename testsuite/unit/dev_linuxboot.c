/* testsuite/unit/dev_linuxboot.c — the Linux boot protocol entry state
 * (devices/linuxboot.c) on a minimal bzImage built in memory: a kernel
 * with XLF_KERNEL_64 is entered through the 64-bit boot protocol
 * (64-bit mode, paging on, identity map, RIP = load + 0x200); one
 * without it, an older protocol, or a CPU without long mode through the
 * 32-bit boot protocol (flat protected mode, paging off). */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/boot.h"
#include "frontend/config.h"
#include "testsuite/unit/dev_stubs.h"

#define RAM        (64ull << 20)
#define PM_OFF     0xA00u       /* (setup_sects 4 + 1) * 512 */
#define PM_SIZE    0x1000u
#define PREF       0x1000000u   /* pref_address: 16 MiB */
#define ZERO_PAGE  0x7000u
#define CMDLINE    0x20000u

static uint8_t image[PM_OFF + PM_SIZE];
static struct config cfg;
static struct cpu cpu;
static bool cpu_ok;
static char err[160];

static void put16(unsigned off, uint16_t v) { memcpy(image + off, &v, 2); }
static void put32(unsigned off, uint32_t v) { memcpy(image + off, &v, 4); }
static void put64(unsigned off, uint64_t v) { memcpy(image + off, &v, 8); }
static uint64_t b64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 8); return v; }
static uint32_t b32(uint64_t pa) { uint32_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 4); return v; }

/* A bzImage header of protocol `version` with the given xloadflags; the
 * protected-mode part is PM_SIZE bytes starting with a marker. */
static void make_image(uint16_t version, uint16_t xloadflags)
{
    memset(image, 0, sizeof(image));
    image[0x1F1] = 4;                    /* setup_sects */
    put32(0x1F4, PM_SIZE / 16);          /* syssize */
    put16(0x1FE, 0xAA55);                /* boot_flag */
    image[0x200] = 0xEB;                 /* jump; header ends at 0x202 + 0x6A */
    image[0x201] = 0x6A;
    memcpy(image + 0x202, "HdrS", 4);
    put16(0x206, version);
    image[0x211] = 0x01;                 /* loadflags: LOADED_HIGH */
    put32(0x22C, 0x7FFFFFFF);            /* initrd_addr_max */
    put32(0x230, 0x200000);              /* kernel_alignment */
    image[0x234] = 1;                    /* relocatable_kernel */
    put16(0x236, xloadflags);
    put32(0x238, 2048);                  /* cmdline_size */
    put64(0x258, PREF);                  /* pref_address */
    put32(0x260, 0x400000);              /* init_size */
    put32(PM_OFF, 0x4E455354);           /* marker at the kernel's start */
}

/* A fresh board and CPU (model spec), then linux_load() on the image. */
static int load(const char *model)
{
    if (cpu_ok)
        cpu_free(&cpu);
    cpu_ok = false;
    test_board(0, false);
    phys_free(&test_m.phys);
    if (phys_init(&test_m.phys, RAM))
        return -2;
    memset(&cfg, 0, sizeof(cfg));
    cfg.ram_size = RAM;
    cfg.append = "console=ttyS0 quiet";
    test_m.cfg = &cfg;
    memset(&cpu, 0, sizeof(cpu));
    if (cpu_init(&cpu, &test_m, &test_m.phys) || cpu_configure(&cpu, model, err, sizeof(err)))
        return -2;
    cpu_ok = true;
    test_m.cpu = &cpu;
    struct boot_image img = {"fake-bzImage", image, sizeof(image), 0};
    err[0] = 0;
    return linux_load(&test_m, &img, err, sizeof(err));
}

/* linear -> physical through the CPU's current paging state */
static bool maps_to_itself(uint64_t lin)
{
    uint64_t pa = ~0ull;
    struct mmu_fault f;
    return mmu_translate(&cpu.mmu, lin, MMU_WRITE, false, false, &pa, &f) == 0 && pa == lin;
}

static void entry64_state(void)
{
    make_image(0x020F, 0x0001);
    int rc = load("nest86");
    UNIT_CHECKF(rc == 0, "linux_load %d: %s", rc, err);
    if (rc)
        return;
    UNIT_CHECKF(cpu.mode == MODE_LONG, "mode %d", cpu.mode);
    UNIT_CHECK(cpu.code_size == 8);
    UNIT_CHECKF(cpu.rip == PREF + 0x200, "rip 0x%llx", (unsigned long long)cpu.rip);
    UNIT_CHECKF(cpu.r[R_RSI] == ZERO_PAGE, "rsi 0x%llx", (unsigned long long)cpu.r[R_RSI]);
    UNIT_CHECK(cpu.r[R_RAX] == 0 && cpu.r[R_RBX] == 0 && cpu.r[R_RSP] == 0);
    UNIT_CHECK(!(cpu.rflags & FL_IF));
    UNIT_CHECK(cpu.seg[SEG_CS].sel == 0x10);
    UNIT_CHECK(cpu.seg[SEG_CS].ar & AR_L);
    UNIT_CHECK(!(cpu.seg[SEG_CS].ar & AR_DB));
    UNIT_CHECK(cpu.seg[SEG_DS].sel == 0x18 && cpu.seg[SEG_ES].sel == 0x18 &&
               cpu.seg[SEG_SS].sel == 0x18);
    UNIT_CHECK((cpu.mmu.cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG));
    UNIT_CHECK(cpu.mmu.cr4 & CR4_PAE);
    UNIT_CHECK((cpu.mmu.efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA));
    /* the GDT in RAM agrees: __BOOT_CS 64-bit code, __BOOT_DS flat data */
    uint64_t gdt = cpu.gdtr.base;
    UNIT_CHECK(cpu.gdtr.limit >= 0x1F);
    UNIT_CHECKF(b64(gdt + 0x10) == 0x00af9b000000ffffull, "cs desc 0x%llx",
                (unsigned long long)b64(gdt + 0x10));
    UNIT_CHECK(b64(gdt + 0x18) == 0x00cf93000000ffffull);
    /* the page tables lie below the kernel and map the kernel, zero
     * page, command line and the rest of the first 4 GiB to themselves */
    UNIT_CHECK(cpu.mmu.cr3 + BOOT_LONG64_PT_SIZE <= PREF);
    UNIT_CHECK(maps_to_itself(PREF));
    UNIT_CHECK(maps_to_itself(PREF + 0x3FFFFF));
    UNIT_CHECK(maps_to_itself(ZERO_PAGE));
    UNIT_CHECK(maps_to_itself(CMDLINE));
    UNIT_CHECK(maps_to_itself(RAM - 0x1000));
    UNIT_CHECK(maps_to_itself(0xFEE00000));
    UNIT_CHECK(maps_to_itself(0xFFFFF000));
    /* the tables do not overlap what the loader put in low RAM */
    UNIT_CHECK(cpu.mmu.cr3 >= ZERO_PAGE + 0x1000 ||
               cpu.mmu.cr3 + BOOT_LONG64_PT_SIZE <= gdt);
    UNIT_CHECK(cpu.mmu.cr3 + BOOT_LONG64_PT_SIZE <= CMDLINE);
    /* what the kernel finds there */
    UNIT_CHECK(b32(PREF) == 0x4E455354);
    UNIT_CHECK(b32(ZERO_PAGE + 0x202) == 0x53726448); /* "HdrS" */
    UNIT_CHECK(b32(ZERO_PAGE + 0x228) == CMDLINE);
    UNIT_CHECK(b32(ZERO_PAGE + 0x214) == PREF);
}

static void check_entry32(uint16_t version, uint16_t xloadflags, const char *model)
{
    make_image(version, xloadflags);
    int rc = load(model);
    UNIT_CHECKF(rc == 0, "linux_load %d: %s", rc, err);
    if (rc)
        return;
    UNIT_CHECKF(cpu.mode == MODE_PROT, "mode %d", cpu.mode);
    UNIT_CHECK(cpu.code_size == 4);
    UNIT_CHECKF(cpu.rip == PREF, "rip 0x%llx", (unsigned long long)cpu.rip);
    UNIT_CHECK(cpu.r[R_RSI] == ZERO_PAGE);
    UNIT_CHECK(cpu.r[R_RBP] == 0 && cpu.r[R_RDI] == 0 && cpu.r[R_RBX] == 0);
    UNIT_CHECK(!(cpu.rflags & FL_IF));
    UNIT_CHECK(cpu.seg[SEG_CS].sel == 0x10 && (cpu.seg[SEG_CS].ar & AR_DB) &&
               !(cpu.seg[SEG_CS].ar & AR_L));
    UNIT_CHECK(cpu.seg[SEG_DS].sel == 0x18 && cpu.seg[SEG_ES].sel == 0x18 &&
               cpu.seg[SEG_SS].sel == 0x18);
    UNIT_CHECK(cpu.mmu.cr0 & CR0_PE);
    UNIT_CHECK(!(cpu.mmu.cr0 & CR0_PG));
    UNIT_CHECK(!(cpu.mmu.efer & EFER_LMA));
    UNIT_CHECK(b64(cpu.gdtr.base + 0x10) == 0x00cf9b000000ffffull);
    UNIT_CHECK(b32(PREF) == 0x4E455354);
}

static void entry32_without_xlf_kernel_64(void)
{
    check_entry32(0x020F, 0x0000, "nest86");
}

static void entry32_for_protocol_before_xloadflags(void)
{
    /* xloadflags exists from protocol 2.12; before it the bytes mean nothing */
    check_entry32(0x020B, 0x0001, "nest86");
}

static void entry32_when_cpu_lacks_long_mode(void)
{
    check_entry32(0x020F, 0x0001, "nest86,lm=off");
}

int main(void)
{
    UNIT_RUN(entry64_state);
    UNIT_RUN(entry32_without_xlf_kernel_64);
    UNIT_RUN(entry32_for_protocol_before_xloadflags);
    UNIT_RUN(entry32_when_cpu_lacks_long_mode);
    if (cpu_ok)
        cpu_free(&cpu);
    return unit_done();
}
