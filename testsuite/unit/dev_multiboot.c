/* testsuite/unit/dev_multiboot.c — where the Multiboot loader puts its
 * own data: the free-RAM search of devices/bootmem.c on its own, then
 * multiboot_load() (devices/multiboot.c) on ELF32 kernels built in
 * memory, linked low, whose image and BSS the information structure,
 * the loader's GDT and the modules must not touch (Multiboot
 * Specification 0.6.96, 3.3: the loader may place them anywhere the
 * kernel is not).  guest/multiboot_low boots such a kernel for real. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/boot.h"
#include "devices/bootmem.h"
#include "frontend/config.h"
#include "testsuite/unit/dev_stubs.h"

#define RAM (128ull << 20)

/* the e820 map boot_memory_map() gives for RAM bytes below 4 GiB */
static const struct boot_mem_range pc_map[] = {
    {0, 0x9fc00, 1},           {0x9fc00, 0x400, 2}, {0xe0000, 0x10000, 3},
    {0xf0000, 0x10000, 2},     {0x100000, RAM - 0x100000, 1},
};
#define NMAP ((int)(sizeof(pc_map) / sizeof(pc_map[0])))

static void find_below_around_and_above(void)
{
    struct bootmem b;
    bootmem_init(&b, pc_map, NMAP);
    UNIT_CHECK(b.nram == 2);
    UNIT_CHECK(bootmem_find(&b, 0x100, 16, 0x1000, PHYS_4G) == 0x1000);
    UNIT_CHECK(bootmem_claim(&b, 0x8000, 0x63000) == 0); /* a kernel at 0x8000 */
    /* room below it */
    UNIT_CHECK(bootmem_find(&b, 0x7000, 16, 0x1000, PHYS_4G) == 0x1000);
    /* one byte too many for the gap: past the kernel */
    UNIT_CHECKF(bootmem_find(&b, 0x7001, 16, 0x1000, PHYS_4G) == 0x6b000, "0x%llx",
                (unsigned long long)bootmem_find(&b, 0x7001, 16, 0x1000, PHYS_4G));
    /* too big for what is left of conventional memory: at 1 MiB */
    UNIT_CHECK(bootmem_find(&b, 0x40000, 16, 0x1000, PHYS_4G) == 0x100000);
    /* the EBDA and the BIOS area are not RAM, whatever min says */
    UNIT_CHECK(bootmem_find(&b, 0x10, 16, 0x9fc00, PHYS_4G) == 0x100000);
    UNIT_CHECK(bootmem_find(&b, 0x10, 16, 0xe0000, PHYS_4G) == 0x100000);
    /* a limit below every fit */
    UNIT_CHECK(bootmem_find(&b, 0x40000, 16, 0x1000, 0x100000) == BOOTMEM_NONE);
    UNIT_CHECK(bootmem_find(&b, RAM, 16, 0, PHYS_4G) == BOOTMEM_NONE);
}

static void find_aligns_and_skips_every_claim(void)
{
    struct bootmem b;
    bootmem_init(&b, pc_map, NMAP);
    UNIT_CHECK(bootmem_claim(&b, 0x1000, 1) == 0);
    UNIT_CHECK(bootmem_find(&b, 16, 4096, 0x1000, PHYS_4G) == 0x2000);
    UNIT_CHECK(bootmem_find(&b, 16, 16, 0x1000, PHYS_4G) == 0x1010);
    /* claims out of order: each one moves the search past it */
    UNIT_CHECK(bootmem_claim(&b, 0x3000, 0x1000) == 0);
    UNIT_CHECK(bootmem_claim(&b, 0x2000, 0x1000) == 0);
    UNIT_CHECK(bootmem_find(&b, 0x1000, 4096, 0x1000, PHYS_4G) == 0x4000);
    UNIT_CHECK(bootmem_is_used(&b, 0x3fff, 1) && !bootmem_is_used(&b, 0x4000, 0x1000));
    /* bad requests */
    UNIT_CHECK(bootmem_find(&b, 0, 16, 0, PHYS_4G) == BOOTMEM_NONE);
    UNIT_CHECK(bootmem_find(&b, 16, 3, 0, PHYS_4G) == BOOTMEM_NONE);
    UNIT_CHECK(bootmem_find(&b, UINT64_MAX, 16, 0, UINT64_MAX) == BOOTMEM_NONE);
    UNIT_CHECK(bootmem_find(&b, 16, 16, UINT64_MAX - 4, UINT64_MAX) == BOOTMEM_NONE);
}

static void ram_is_what_the_map_says(void)
{
    struct bootmem b;
    /* unsorted, with reserved entries in between */
    static const struct boot_mem_range map[] = {
        {0x100000, 0x700000, 1}, {0xf0000, 0x10000, 2}, {0, 0x9fc00, 1}, {0x9fc00, 0x400, 2},
    };
    bootmem_init(&b, map, 4);
    UNIT_CHECK(b.nram == 2 && b.ram[0].base == 0 && b.ram[1].base == 0x100000);
    UNIT_CHECK(bootmem_is_ram(&b, 0, 0x9fc00));
    UNIT_CHECK(!bootmem_is_ram(&b, 0, 0x9fc01));
    UNIT_CHECK(!bootmem_is_ram(&b, 0xa0000, 0x1000));
    UNIT_CHECK(!bootmem_is_ram(&b, 0x9f000, 0x62000)); /* spans the hole */
    UNIT_CHECK(bootmem_is_ram(&b, 0x100000, 0x700000));
    UNIT_CHECK(!bootmem_is_ram(&b, 0x7ff000, 0x2000));
    UNIT_CHECK(!bootmem_is_ram(&b, UINT64_MAX - 1, 4));
}

/* ---- multiboot_load() on kernels built in memory ---- */

static struct config cfg;
static struct cpu cpu;
static bool cpu_ok;
static char err[160];
static uint8_t image[0x3000];

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t b32(uint64_t pa) { uint32_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 4); return v; }
static uint64_t b64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 8); return v; }

/* An ELF32 kernel: one PT_LOAD of 0x2000 file bytes at paddr, memsz
 * bytes in memory (the rest BSS), the Multiboot header at its start and
 * a marker pattern through the file part. */
static void make_kernel(uint32_t paddr, uint32_t memsz)
{
    memset(image, 0, sizeof(image));
    memcpy(image, "\177ELF", 4);
    image[4] = 1; /* ELFCLASS32 */
    image[5] = 1; /* little-endian */
    image[6] = 1;
    put16(image + 16, 2); /* ET_EXEC */
    put16(image + 18, 3); /* EM_386 */
    put32(image + 20, 1);
    put32(image + 24, paddr + 12); /* entry */
    put32(image + 28, 52);         /* e_phoff */
    put16(image + 40, 52);
    put16(image + 42, 32); /* e_phentsize */
    put16(image + 44, 1);  /* e_phnum */
    uint8_t *ph = image + 52;
    put32(ph, 1);               /* PT_LOAD */
    put32(ph + 4, 0x1000);      /* p_offset */
    put32(ph + 8, paddr);       /* p_vaddr */
    put32(ph + 12, paddr);      /* p_paddr */
    put32(ph + 16, 0x2000);     /* p_filesz */
    put32(ph + 20, memsz);      /* p_memsz */
    for (unsigned i = 0x1000; i < 0x3000; i += 4)
        put32(image + i, 0x4b524e4cu ^ i);
    put32(image + 0x1000, 0x1BADB002u);
    put32(image + 0x1004, 0);
    put32(image + 0x1008, 0u - 0x1BADB002u);
}

static int load(const char *initrd, const char *append)
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
    cfg.initrd = initrd;
    cfg.append = append;
    test_m.cfg = &cfg;
    memset(&cpu, 0, sizeof(cpu));
    if (cpu_init(&cpu, &test_m, &test_m.phys) || cpu_configure(&cpu, "nest86", err, sizeof(err)))
        return -2;
    cpu_ok = true;
    test_m.cpu = &cpu;
    struct boot_image img = {"low-kernel", image, sizeof(image), 0};
    err[0] = 0;
    return multiboot_load(&test_m, &img, err, sizeof(err));
}

struct span {
    const char *what;
    uint64_t base, len;
};

static bool overlap(const struct span *a, const struct span *b)
{
    return a->base < b->base + b->len && b->base < a->base + a->len;
}

static uint64_t cstr_len(uint64_t pa)
{
    uint64_t n = 0;
    uint8_t c;
    do
        phys_copy_out(&test_m.phys, pa + n++, &c, 1);
    while (c && n < 4096);
    return n;
}

/* After a load: the kernel bytes are intact and nothing the loader
 * wrote overlaps the image (BSS included), another piece, or memory
 * that is not RAM. */
static void check_layout(uint32_t paddr, uint32_t memsz, int nmods_want)
{
    UNIT_CHECK(cpu.r[R_RAX] == 0x2BADB002u);
    uint64_t mbi = cpu.r[R_RBX];
    struct span s[8 + 2 * 4];
    int n = 0;
    s[n++] = (struct span){"kernel", paddr, memsz};
    s[n++] = (struct span){"gdt", cpu.gdtr.base, cpu.gdtr.limit + 1u};
    s[n++] = (struct span){"info", mbi, 88};
    s[n++] = (struct span){"cmdline", b32(mbi + 16), cstr_len(b32(mbi + 16))};
    s[n++] = (struct span){"loader name", b32(mbi + 64), cstr_len(b32(mbi + 64))};
    s[n++] = (struct span){"mmap", b32(mbi + 48), b32(mbi + 44)};
    uint32_t flags = b32(mbi);
    UNIT_CHECKF((flags & 0x245) == 0x245, "flags 0x%x", flags);
    UNIT_CHECK(!!(flags & 8) == (nmods_want >= 0));
    if (flags & 8) {
        uint32_t nmods = b32(mbi + 20), list = b32(mbi + 24);
        UNIT_CHECK((int)nmods == nmods_want && nmods <= 4);
        s[n++] = (struct span){"module list", list, 16ull * nmods};
        for (uint32_t k = 0; k < nmods && k < 4; k++) {
            uint32_t start = b32(list + 16 * k), end = b32(list + 16 * k + 4);
            UNIT_CHECK((start & 0xfff) == 0 && end >= start);
            s[n++] = (struct span){"module", start, end - start ? end - start : 1};
            s[n++] = (struct span){"module string", b32(list + 16 * k + 8),
                                   cstr_len(b32(list + 16 * k + 8))};
        }
    }
    struct bootmem b;
    bootmem_init(&b, pc_map, NMAP);
    for (int i = 0; i < n; i++) {
        UNIT_CHECKF(bootmem_is_ram(&b, s[i].base, s[i].len), "%s at 0x%llx not in RAM",
                    s[i].what, (unsigned long long)s[i].base);
        UNIT_CHECKF(s[i].base >= 0x1000 || i == 0, "%s in page 0", s[i].what);
        for (int j = i + 1; j < n; j++)
            UNIT_CHECKF(!overlap(&s[i], &s[j]), "%s at 0x%llx overlaps %s at 0x%llx", s[i].what,
                        (unsigned long long)s[i].base, s[j].what,
                        (unsigned long long)s[j].base);
    }
    for (unsigned i = 0x1000; i < 0x3000; i += 4)
        UNIT_CHECKF(b32(paddr + i - 0x1000) == (i == 0x1000 ? 0x1BADB002u
                                                : i == 0x1004 ? 0
                                                : i == 0x1008 ? 0u - 0x1BADB002u
                                                              : (0x4b524e4cu ^ i)),
                    "kernel byte 0x%x changed", paddr + i - 0x1000);
    for (uint32_t i = 0x2000; i < memsz; i += 0x400)
        UNIT_CHECKF(b32(paddr + i) == 0, "BSS at 0x%x not zero", paddr + i);
    /* the GDT the loader left: flat code at 0x08, flat data at 0x10 */
    UNIT_CHECK(cpu.gdtr.limit == 23);
    UNIT_CHECK(b64(cpu.gdtr.base + 8) == 0x00cf9b000000ffffull);
    UNIT_CHECK(b64(cpu.gdtr.base + 16) == 0x00cf93000000ffffull);
    UNIT_CHECK(cpu.rip == paddr + 12);
    /* mem_lower/mem_upper agree with the map */
    UNIT_CHECK(b32(mbi + 4) == 0x9fc00 / 1024 && b32(mbi + 8) == (RAM - 0x100000) / 1024);
}

static void kernel_at_0x8000(void)
{
    make_kernel(0x8000, 0x63000);
    int rc = load(NULL, "console=ttyS0");
    UNIT_CHECKF(rc == 0, "rc %d: %s", rc, err);
    if (!rc)
        check_layout(0x8000, 0x63000, -1);
}

static void kernel_filling_conventional_memory(void)
{
    /* from 0x1000 to the EBDA: the loader's data must go to 1 MiB */
    make_kernel(0x1000, 0x9fc00 - 0x1000);
    int rc = load(NULL, NULL);
    UNIT_CHECKF(rc == 0, "rc %d: %s", rc, err);
    if (rc)
        return;
    check_layout(0x1000, 0x9fc00 - 0x1000, -1);
    UNIT_CHECK(cpu.r[R_RBX] >= 0x100000 && cpu.gdtr.base >= 0x100000);
}

/* a temporary module file of len bytes */
static void make_module(char *path, size_t cap, size_t len)
{
    snprintf(path, cap, "/tmp/nest86-mbmod-XXXXXX");
    int fd = mkstemp(path);
    UNIT_CHECK(fd >= 0);
    char buf[4096];
    memset(buf, 0x5a, sizeof(buf));
    for (size_t k = 0; k < len; k += sizeof(buf))
        UNIT_CHECK(write(fd, buf, len - k < sizeof(buf) ? len - k : sizeof(buf)) > 0);
    close(fd);
}

static void modules_around_a_low_kernel(void)
{
    char m1[64], m2[64], list[200];
    make_module(m1, sizeof(m1), 0x2000);  /* no room left below the EBDA */
    make_module(m2, sizeof(m2), 0x123);
    snprintf(list, sizeof(list), "%s arg1 arg2,%s", m1, m2);
    make_kernel(0x8000, 0x96000); /* ends at 0x9e000 */
    int rc = load(list, "x");
    unlink(m1);
    unlink(m2);
    UNIT_CHECKF(rc == 0, "rc %d: %s", rc, err);
    if (rc)
        return;
    check_layout(0x8000, 0x96000, 2);
    uint32_t mods = b32(cpu.r[R_RBX] + 24);
    /* the first module does not fit in 0x9e000-0x9fc00: 1 MiB; the
     * second does, right after the kernel */
    UNIT_CHECKF(b32(mods) == 0x100000, "module 1 at 0x%x", b32(mods));
    UNIT_CHECK(b32(mods + 4) == 0x102000 && b32(0x100000) == 0x5a5a5a5a);
    UNIT_CHECKF(b32(mods + 16) == 0x9e000, "module 2 at 0x%x", b32(mods + 16));
    UNIT_CHECK(b32(mods + 20) == 0x9e123);
}

static void segments_outside_ram_are_refused(void)
{
    static const uint32_t bad[] = {0x9f000, 0xa0000, 0xe0000, 0xf8000};
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        make_kernel(bad[k], 0x2000);
        int rc = load(NULL, NULL);
        UNIT_CHECKF(rc == -1 && strstr(err, "not in usable RAM"), "0x%x: rc %d '%s'", bad[k], rc,
                    err);
    }
    make_kernel(RAM - 0x1000, 0x2000);
    UNIT_CHECK(load(NULL, NULL) == -1 && strstr(err, "does not fit in guest RAM"));
}

int main(void)
{
    UNIT_RUN(find_below_around_and_above);
    UNIT_RUN(find_aligns_and_skips_every_claim);
    UNIT_RUN(ram_is_what_the_map_says);
    UNIT_RUN(kernel_at_0x8000);
    UNIT_RUN(kernel_filling_conventional_memory);
    UNIT_RUN(modules_around_a_low_kernel);
    UNIT_RUN(segments_outside_ram_are_refused);
    if (cpu_ok)
        cpu_free(&cpu);
    return unit_done();
}
