/*
 * multiboot_low: a kernel linked low (build.mk: 0x8000 for this one,
 * 0x1000 for pm32_multiboot_low, which includes this file), where a
 * loader that puts its own data at fixed addresses overwrites it. Booted
 * with its own file as a Multiboot module (NAME.args), it checks that
 *
 *  - its code and read-only data equal the bytes of the file (the
 *    module) and a block of initialised data is intact;
 *  - the loader's GDT (SGDT at entry), the information structure, the
 *    command line, the loader name, the memory map, the module list, the
 *    module's string and the module itself overlap neither the image
 *    (BSS included) nor each other, and each lies in RAM the memory map
 *    calls usable (Multiboot Specification 0.6.96, 3.3);
 *  - the information it got is right: EAX magic, flags, mem_lower and
 *    mem_upper against the map, the command line and module string (the
 *    kernel's own path), a page-aligned module the size of the file, and
 *    a flat GDT with code at 0x08 and data at 0x10 (spec 3.2).
 */
#include "rt.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)

#define CANARY 0x6d62c0deu
static uint32_t canary[1024] = {[0 ... 1023] = CANARY}; /* 4 KiB of .data */

static const struct multiboot_info *mbi;
static bool on_qemu;

struct area {
    const char *what;
    uint64_t base, len;
};
static struct area areas[16];
static int nareas;

static void add_area(const char *what, uint64_t base, uint64_t len)
{
    ASSERT(nareas < 16);
    areas[nareas++] = (struct area){what, base, len};
    rt_printf("# %-14s 0x%08llx-0x%08llx\n", what, (unsigned long long)base,
              (unsigned long long)(base + len - 1));
}

static const char *cmdline(void)
{
    return (const char *)(uintptr_t)mbi->cmdline;
}

static const struct multiboot_module *module(void)
{
    return (const struct multiboot_module *)(uintptr_t)mbi->mods_addr;
}

static void test_entry_state(void)
{
    ASSERT_EQ(rt_boot_magic, MB_BOOT_MAGIC); /* spec 3.2: EAX */
    ASSERT_NE(rt_boot_info, 0);
    mbi = (const void *)(uintptr_t)rt_boot_info;
    on_qemu = rt_cmdline_has("qemu-tcg");
    uint32_t want = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER;
    ASSERT_EQ(mbi->flags & want, want);
    if (!on_qemu)
        ASSERT_EQ(mbi->flags & MBI_MODS, MBI_MODS); /* multiboot_low.args */
}

static void test_own_data_intact(void)
{
    for (unsigned i = 0; i < 1024; i++)
        if (canary[i] != CANARY)
            rt_fail(RT_FILE, __LINE__, "canary[%u] = 0x%x at %p: the image was overwritten", i,
                    canary[i], (void *)&canary[i]);
}

/* The loaded .text and .rodata against the file's bytes: every byte of
 * [__image_start, __ro_end) comes from a PT_LOAD segment of the module. */
static void test_code_matches_file(void)
{
    if (!(mbi->flags & MBI_MODS) || mbi->mods_count == 0) {
        rt_printf("# no module (qemu-tcg runs without NAME.args): code not compared\n");
        return;
    }
    const uint8_t *f = (const uint8_t *)(uintptr_t)module()->mod_start;
    uint32_t fsize = module()->mod_end - module()->mod_start;
    ASSERT(fsize > 52);
    ASSERT_EQ(*(const uint32_t *)f, 0x464c457fu); /* "\x7fELF" */
    ASSERT_EQ(f[4], 1);                           /* ELFCLASS32 */
    uint32_t phoff = *(const uint32_t *)(f + 28);
    uint16_t phentsize = *(const uint16_t *)(f + 42), phnum = *(const uint16_t *)(f + 44);
    uintptr_t lo = (uintptr_t)__image_start, hi = (uintptr_t)__ro_end;
    uint64_t compared = 0;
    for (unsigned k = 0; k < phnum; k++) {
        const uint8_t *ph = f + phoff + k * phentsize;
        uint32_t type = *(const uint32_t *)ph, off = *(const uint32_t *)(ph + 4);
        uint32_t paddr = *(const uint32_t *)(ph + 12), filesz = *(const uint32_t *)(ph + 16);
        if (type != 1 /* PT_LOAD */)
            continue;
        ASSERT(off + filesz <= fsize);
        for (uint32_t i = 0; i < filesz; i++) {
            uintptr_t pa = paddr + i;
            if (pa < lo || pa >= hi)
                continue;
            uint8_t want = f[off + i], got = *(const volatile uint8_t *)pa;
            if (got != want)
                rt_fail(RT_FILE, __LINE__, "byte at 0x%lx is 0x%02x, the file has 0x%02x",
                        (unsigned long)pa, got, want);
            compared++;
        }
    }
    ASSERT_EQ(compared, hi - lo);
}

static const struct multiboot_mmap_entry *mmap_next(const struct multiboot_mmap_entry *e)
{
    return (const void *)((const uint8_t *)e + e->size + 4);
}

#define FOR_EACH_MMAP(e)                                                                    \
    for (const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)mbi->mmap_addr;    \
         (uintptr_t)e < mbi->mmap_addr + mbi->mmap_length; e = mmap_next(e))

/* mem_lower / mem_upper: the RAM from 0 and from 1 MiB, in KiB (3.3) */
static void test_memory_fields(void)
{
    uint64_t at0 = 0, at1m = 0;
    int entries = 0;
    FOR_EACH_MMAP(e) {
        ASSERT_EQ(e->size, 20);
        if (e->type == 1 && e->base == 0)
            at0 = e->length;
        if (e->type == 1 && e->base == 0x100000)
            at1m = e->length;
        entries++;
    }
    ASSERT(entries > 0);
    ASSERT_EQ((uint64_t)mbi->mem_upper * 1024, at1m);
    if (on_qemu)
        rt_printf("# qemu-tcg: mem_lower %u KiB, RAM at 0: %llu KiB\n", mbi->mem_lower,
                  (unsigned long long)(at0 / 1024));
    else
        ASSERT_EQ((uint64_t)mbi->mem_lower * 1024, at0);
}

static uint64_t cstr_len(uint32_t addr)
{
    return strlen((const char *)(uintptr_t)addr) + 1;
}

static void collect_areas(void)
{
    add_area("kernel image", (uintptr_t)__image_start,
             (uintptr_t)__image_end - (uintptr_t)__image_start);
    if (!on_qemu) /* the spec lets GDTR be anything: only nest86's is checked */
        add_area("loader GDT", rt_boot_gdtr.base, (uint64_t)rt_boot_gdtr.limit + 1);
    add_area("info", rt_boot_info, sizeof(struct multiboot_info));
    add_area("command line", mbi->cmdline, cstr_len(mbi->cmdline));
    add_area("loader name", mbi->boot_loader_name, cstr_len(mbi->boot_loader_name));
    add_area("memory map", mbi->mmap_addr, mbi->mmap_length);
    if (mbi->flags & MBI_MODS && mbi->mods_count) {
        add_area("module list", mbi->mods_addr, 16ull * mbi->mods_count);
        for (uint32_t k = 0; k < mbi->mods_count; k++) {
            add_area("module string", module()[k].string, cstr_len(module()[k].string));
            add_area("module", module()[k].mod_start,
                     module()[k].mod_end - module()[k].mod_start);
        }
    }
}

static void test_nothing_overlaps(void)
{
    collect_areas();
    for (int i = 0; i < nareas; i++)
        for (int j = i + 1; j < nareas; j++)
            if (areas[i].base < areas[j].base + areas[j].len &&
                areas[j].base < areas[i].base + areas[i].len)
                rt_fail(RT_FILE, __LINE__, "%s (0x%llx) overlaps %s (0x%llx)", areas[i].what,
                        (unsigned long long)areas[i].base, areas[j].what,
                        (unsigned long long)areas[j].base);
}

static void test_all_in_usable_ram(void)
{
    for (int i = 0; i < nareas; i++) {
        bool ok = false;
        FOR_EACH_MMAP(e) {
            if (e->type == 1 && areas[i].base >= e->base &&
                areas[i].base + areas[i].len <= e->base + e->length)
                ok = true;
        }
        if (!ok)
            rt_fail(RT_FILE, __LINE__, "%s at 0x%llx is not in usable RAM", areas[i].what,
                    (unsigned long long)areas[i].base);
    }
}

/* The command line starts with the kernel's path; the module (this same
 * file, multiboot_low.args) has that path as its string. */
static void test_strings_and_module(void)
{
    const char *cl = cmdline();
    size_t n = 0;
    while (cl[n] && cl[n] != ' ')
        n++;
    static const char name[] = "multiboot_low.elf";
    size_t nl = sizeof(name) - 1;
    ASSERT(n >= nl);
    ASSERT(!memcmp(cl + n - nl, name, nl));
    if (!on_qemu)
        ASSERT_STREQ((const char *)(uintptr_t)mbi->boot_loader_name, "nest86");
    if (!(mbi->flags & MBI_MODS) || !mbi->mods_count)
        return;
    ASSERT_EQ(mbi->mods_count, 1);
    const struct multiboot_module *m = module();
    const char *s = (const char *)(uintptr_t)m->string;
    ASSERT_EQ(strlen(s), n);
    ASSERT(!memcmp(s, cl, n));
    ASSERT_EQ(m->mod_start & 0xfff, 0); /* nest86 page-aligns modules */
    /* ld puts the section headers last: the file ends with them */
    const uint8_t *f = (const uint8_t *)(uintptr_t)m->mod_start;
    uint32_t shoff = *(const uint32_t *)(f + 32);
    uint16_t shentsize = *(const uint16_t *)(f + 46), shnum = *(const uint16_t *)(f + 48);
    ASSERT_EQ(m->mod_end - m->mod_start, shoff + (uint32_t)shentsize * shnum);
}

/* spec 3.2: CS a flat 32-bit code segment, the others flat data; the
 * loader's GDT holds them at 0x08 and 0x10 */
static void test_loader_gdt(void)
{
    ASSERT_EQ(rt_boot_gdtr.limit, 23);
    const uint64_t *gdt = (const uint64_t *)(uintptr_t)rt_boot_gdtr.base;
    ASSERT_EQ(gdt[1], 0x00cf9b000000ffffull);
    ASSERT_EQ(gdt[2], 0x00cf93000000ffffull);
}

void test_main(void)
{
    RUN_TEST(test_entry_state);
    RUN_TEST(test_own_data_intact);
    RUN_TEST(test_code_matches_file);
    RUN_TEST(test_memory_fields);
    RUN_TEST(test_nothing_overlaps);
    RUN_TEST(test_all_in_usable_ram);
    RUN_TEST(test_strings_and_module);
    if (!on_qemu)
        RUN_TEST(test_loader_gdt);
}
