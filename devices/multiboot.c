/* devices/multiboot.c — the Multiboot 1 loader (Multiboot Specification
 * 0.6.96): ELF32, ELF64 (32-bit entry) and a.out-kludge images, command
 * line, modules from -initrd, memory map.  The machine state on entry is
 * the one section 3.2 of the specification describes. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cpu/cpu.h"
#include "devices/acpi.h"
#include "devices/boot.h"
#include "devices/bootmem.h"
#include "devices/machine.h"

#define MB_HEADER_MAGIC   0x1BADB002u
#define MB_BOOT_MAGIC     0x2BADB002u
#define MB_SEARCH         8192
#define MB_FLAG_AOUT      (1u << 16)

/* info structure flags (specification 3.3) */
#define MBI_MEM     (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS    (1u << 3)
#define MBI_MMAP    (1u << 6)
#define MBI_LOADER  (1u << 9)
#define MBI_SIZE    116u

/* The loader's own data (GDT, information structure, strings, memory
 * map, module list) goes in one block of free RAM: the lowest that fits
 * from LOADER_MIN up, so below the kernel when there is room there
 * (conventional memory) and past the kernel and its modules otherwise.
 * Page 0 (the real-mode IVT and BIOS data area) stays untouched. */
#define LOADER_MIN  0x1000u
#define LOADER_GDT_SIZE 24u /* null, code 0x08, data 0x10 */
#define MB_MAX_MODS 32

int boot_read_file(const char *path, struct boot_image *img, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    /* A regular file is mapped: its pages come from the page cache, where
     * reading it would fill (and first have the host zero) a buffer of
     * up to twice its size -- 20 MB for the KVM scenario's kernel and
     * initramfs. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                       fileno(f), 0);
        if (p != MAP_FAILED) {
            fclose(f);
            *img = (struct boot_image){path, p, (size_t)st.st_size, (size_t)st.st_size};
            return 0;
        }
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            snprintf(err, errlen, "'%s': out of memory", path);
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "cannot read '%s'", path);
        return -1;
    }
    *img = (struct boot_image){path, buf, n, 0};
    return 0;
}

void boot_free_image(struct boot_image *img)
{
    if (img->mapped)
        munmap(img->data, img->mapped);
    else
        free(img->data);
    img->data = NULL;
}

int boot_memory_map(const struct machine *m, struct boot_mem_range *out, int max)
{
    const struct phys *p = &m->phys;
    int n = 0;
#define ADD(b, l, t) do { if (n < max) out[n++] = (struct boot_mem_range){(b), (l), (t)}; } while (0)
    uint64_t low = p->ram_below_4g < 0x9fc00 ? p->ram_below_4g : 0x9fc00;
    ADD(0, low, 1);
    ADD(0x9fc00, 0x400, 2);   /* extended BIOS data area */
    ADD(ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, 3); /* ACPI tables (reclaimable) */
    ADD(0xf0000, 0x10000, 2); /* BIOS area: ACPI RSDP lives here */
    if (p->ram_below_4g > 0x100000)
        ADD(0x100000, p->ram_below_4g - 0x100000, 1);
    if (p->ram_above_4g)
        ADD(PHYS_4G, p->ram_above_4g, 1);
#undef ADD
    return n;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Finds the Multiboot header: 4-byte aligned in the first 8 KiB. */
static long find_header(const struct boot_image *img)
{
    size_t lim = img->size < MB_SEARCH ? img->size : MB_SEARCH;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = rd32(img->data + off), flags = rd32(img->data + off + 4);
        uint32_t sum = rd32(img->data + off + 8);
        if (magic == MB_HEADER_MAGIC && (uint32_t)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

/* Copies a kernel segment to pa (then zero bytes of BSS): only into
 * usable RAM of the memory map, and noted as taken. */
static int place(struct machine *m, struct bootmem *bm, uint64_t pa, const void *src, size_t len,
                 uint64_t zero, const char *what, char *err, size_t errlen)
{
    struct phys *p = &m->phys;
    uint64_t total = len + zero;
    if (pa + total > p->ram_below_4g || pa + total < pa) {
        snprintf(err, errlen, "%s at 0x%llx (%zu bytes) does not fit in guest RAM (-m)", what,
                 (unsigned long long)pa, (size_t)total);
        return -1;
    }
    if (!bootmem_is_ram(bm, pa, total)) {
        snprintf(err, errlen,
                 "%s at 0x%llx-0x%llx is not in usable RAM (the memory map reserves part of "
                 "it: 0x9fc00-0xfffff holds the EBDA, ACPI tables and BIOS area)",
                 what, (unsigned long long)pa, (unsigned long long)(pa + total - 1));
        return -1;
    }
    if (bootmem_claim(bm, pa, total)) {
        snprintf(err, errlen, "%s at 0x%llx: too many loadable segments", what,
                 (unsigned long long)pa);
        return -1;
    }
    phys_copy_in(p, pa, src, len);
    for (uint64_t k = 0; k < zero;) {
        uint64_t at = pa + len + k;
        uint64_t chunk = 4096 - (at & 0xfff);
        if (chunk > zero - k)
            chunk = zero - k;
        memset(phys_ram_ptr(p, at), 0, chunk);
        k += chunk;
    }
    return 0;
}

static int load_elf(struct machine *m, struct bootmem *bm, const struct boot_image *img,
                    uint64_t *entry, uint64_t *end, char *err, size_t errlen)
{
    const uint8_t *d = img->data;
    bool is64 = d[EI_CLASS] == ELFCLASS64;
    size_t ehsz = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (img->size < ehsz || (d[EI_CLASS] != ELFCLASS32 && !is64) || d[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, errlen, "'%s': truncated or unsupported ELF header", img->path);
        return -1;
    }
    uint64_t phoff, phnum, phentsize;
    if (is64) {
        Elf64_Ehdr h;
        memcpy(&h, d, sizeof(h));
        *entry = h.e_entry;
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
    } else {
        Elf32_Ehdr h;
        memcpy(&h, d, sizeof(h));
        *entry = h.e_entry;
        phoff = h.e_phoff, phnum = h.e_phnum, phentsize = h.e_phentsize;
    }
    if (phnum == 0 || phoff + phnum * phentsize > img->size ||
        phentsize < (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))) {
        snprintf(err, errlen, "'%s': truncated ELF program headers", img->path);
        return -1;
    }
    *end = 0;
    int loaded = 0;
    for (uint64_t k = 0; k < phnum; k++) {
        uint64_t type, off, paddr, filesz, memsz;
        const uint8_t *ph = d + phoff + k * phentsize;
        if (is64) {
            Elf64_Phdr p;
            memcpy(&p, ph, sizeof(p));
            type = p.p_type, off = p.p_offset, paddr = p.p_paddr, filesz = p.p_filesz, memsz = p.p_memsz;
        } else {
            Elf32_Phdr p;
            memcpy(&p, ph, sizeof(p));
            type = p.p_type, off = p.p_offset, paddr = p.p_paddr, filesz = p.p_filesz, memsz = p.p_memsz;
        }
        if (type != PT_LOAD || memsz == 0)
            continue;
        if (off + filesz > img->size || filesz > memsz) {
            snprintf(err, errlen, "'%s': ELF segment %llu lies outside the file (truncated?)",
                     img->path, (unsigned long long)k);
            return -1;
        }
        if (place(m, bm, paddr, d + off, filesz, memsz - filesz, "ELF segment", err, errlen))
            return -1;
        if (paddr + memsz > *end)
            *end = paddr + memsz;
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errlen, "'%s': ELF image has no loadable segment", img->path);
        return -1;
    }
    if (*entry >> 32) {
        snprintf(err, errlen, "'%s': Multiboot entry point 0x%llx is above 4 GiB", img->path,
                 (unsigned long long)*entry);
        return -1;
    }
    return 0;
}

static int load_aout(struct machine *m, struct bootmem *bm, const struct boot_image *img, long hoff,
                     uint64_t *entry, uint64_t *end, char *err, size_t errlen)
{
    const uint8_t *h = img->data + hoff;
    if ((size_t)hoff + 32 > img->size) {
        snprintf(err, errlen, "'%s': truncated Multiboot header", img->path);
        return -1;
    }
    uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
    uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24);
    *entry = rd32(h + 28);
    if (header_addr < load_addr || (uint64_t)(header_addr - load_addr) > (uint64_t)hoff) {
        snprintf(err, errlen, "'%s': inconsistent Multiboot address fields", img->path);
        return -1;
    }
    uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
    uint64_t len = load_end ? (uint64_t)load_end - load_addr : img->size - file_off;
    if (load_end && load_end < load_addr) {
        snprintf(err, errlen, "'%s': Multiboot load_end_addr below load_addr", img->path);
        return -1;
    }
    if (file_off + len > img->size) {
        snprintf(err, errlen, "'%s': image is shorter than its Multiboot header says (truncated?)",
                 img->path);
        return -1;
    }
    uint64_t zero = bss_end > load_addr + len ? bss_end - (load_addr + len) : 0;
    if (place(m, bm, load_addr, img->data + file_off, len, zero, "kernel image", err, errlen))
        return -1;
    *end = load_addr + len + zero;
    return 0;
}

static void put32(uint8_t *b, unsigned off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}

void boot_enter_flat32(struct machine *m, uint32_t gdt_at, uint16_t cs, uint16_t ds,
                       uint32_t entry)
{
    /* null descriptors up to cs, then flat 4 GiB code at cs and data at ds */
    uint64_t gdt[8] = {0};
    unsigned n = (ds > cs ? ds : cs) / 8 + 1;
    gdt[cs / 8] = 0x00cf9b000000ffffull;
    gdt[ds / 8] = 0x00cf93000000ffffull;
    phys_copy_in(&m->phys, gdt_at, gdt, 8 * n);
    struct cpu *c = m->cpu;
    c->gdtr.base = gdt_at;
    c->gdtr.limit = (uint16_t)(8 * n - 1);
    c->mmu.cr0 = CR0_PE | CR0_ET;
    cpu_set_seg_flat32(c, SEG_CS, cs, true);
    boot_commit_entry(m, ds, entry);
}

void boot_commit_entry(struct machine *m, uint16_t ds, uint64_t entry)
{
    struct cpu *c = m->cpu;
    for (int s = SEG_ES; s <= SEG_GS; s++)
        if (s != SEG_CS)
            cpu_set_seg_flat32(c, s, ds, false);
    c->rflags = FL_FIXED1; /* interrupts off */
    memset(c->r, 0, sizeof(c->r));
    c->rip = entry;
    m->phys.a20_enabled = true;
    mmu_flush_all(&c->mmu);
    cpu_update_mode(c);
}

/* One module from -initrd: where it went and its string. */
struct mb_module {
    uint32_t start, end;
    const char *string;
};

/* Reads and places the modules of -initrd "FILE args,FILE2 args":
 * page-aligned, from the first page after the kernel's highest byte
 * (as GRUB and QEMU do), else wherever free RAM below 4 GiB allows. */
static int load_modules(struct machine *m, struct bootmem *bm, uint64_t kernel_end, char *list,
                        struct mb_module *mods, uint32_t *nmods, char *err, size_t errlen)
{
    char *save = NULL;
    *nmods = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*nmods == MB_MAX_MODS) {
            snprintf(err, errlen, "more than %d Multiboot modules", MB_MAX_MODS);
            return -1;
        }
        char path[4096];
        size_t plen = strcspn(tok, " ");
        snprintf(path, sizeof(path), "%.*s", (int)plen, tok);
        struct boot_image mod;
        if (boot_read_file(path, &mod, err, errlen))
            return -1;
        uint64_t len = mod.size ? mod.size : 1; /* an empty module still gets an address */
        uint64_t at = bootmem_find(bm, len, 4096, (kernel_end + 0xfff) & ~0xfffull, PHYS_4G);
        if (at == BOOTMEM_NONE)
            at = bootmem_find(bm, len, 4096, LOADER_MIN, PHYS_4G);
        if (at == BOOTMEM_NONE || bootmem_claim(bm, at, len)) {
            snprintf(err, errlen,
                     "module '%s' (%zu KiB) does not fit in free guest RAM below 4 GiB; give "
                     "more memory with -m",
                     path, mod.size >> 10);
            boot_free_image(&mod);
            return -1;
        }
        phys_copy_in(&m->phys, at, mod.data, mod.size);
        boot_free_image(&mod);
        mods[*nmods] = (struct mb_module){(uint32_t)at, (uint32_t)(at + mod.size), tok};
        (*nmods)++;
    }
    return 0;
}

/* The loader's block in guest RAM, filled in a host buffer first. */
struct mb_block {
    uint8_t *buf;
    uint32_t base;
    size_t used;
};

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static uint32_t block_put(struct mb_block *b, const void *data, size_t len)
{
    uint32_t at = b->base + (uint32_t)b->used;
    memcpy(b->buf + b->used, data, len);
    b->used += round8(len);
    return at;
}

int multiboot_load(struct machine *m, const struct boot_image *img, char *err, size_t errlen)
{
    long hoff = find_header(img);
    if (hoff < 0)
        return 1;
    uint32_t flags = rd32(img->data + hoff + 4);
    bool elf = img->size >= 4 && !memcmp(img->data, ELFMAG, SELFMAG);
    if (!(flags & MB_FLAG_AOUT) && !elf) {
        snprintf(err, errlen, "'%s': Multiboot image is neither ELF nor has address fields",
                 img->path);
        return -1;
    }
    struct boot_mem_range r[8];
    int nr = boot_memory_map(m, r, 8);
    struct bootmem bm;
    bootmem_init(&bm, r, nr);

    uint64_t entry, end;
    int rc = (flags & MB_FLAG_AOUT) ? load_aout(m, &bm, img, hoff, &entry, &end, err, errlen)
                                    : load_elf(m, &bm, img, &entry, &end, err, errlen);
    if (rc)
        return -1;

    struct mb_module mods[MB_MAX_MODS];
    uint32_t nmods = 0;
    char *list = m->cfg->initrd && *m->cfg->initrd ? strdup(m->cfg->initrd) : NULL;
    if (list && load_modules(m, &bm, end, list, mods, &nmods, err, errlen)) {
        free(list);
        return -1;
    }

    /* the command line starts with the kernel's name, as GRUB and QEMU pass it */
    const char *append = m->cfg->append ? m->cfg->append : "";
    size_t cl_len = strlen(img->path) + 1 + strlen(append) + 1;
    char *cl = malloc(cl_len);
    if (!cl)
        abort();
    snprintf(cl, cl_len, "%s%s%s", img->path, *append ? " " : "", append);
    static const char loader_name[] = "nest86";

    size_t size = LOADER_GDT_SIZE + round8(MBI_SIZE) + round8(cl_len) +
                  round8(sizeof(loader_name)) + round8(24 * (size_t)nr) + round8(16 * (size_t)nmods);
    for (uint32_t k = 0; k < nmods; k++)
        size += round8(strlen(mods[k].string) + 1);
    struct mb_block blk = {calloc(1, size), 0, 0};
    uint64_t base = bootmem_find(&bm, size, 16, LOADER_MIN, PHYS_4G);
    if (!blk.buf || base == BOOTMEM_NONE) {
        snprintf(err, errlen,
                 "no free guest RAM below 4 GiB for the Multiboot information (%zu bytes)", size);
        free(blk.buf);
        free(cl);
        free(list);
        return -1;
    }
    blk.base = (uint32_t)base;

    /* GDT first (boot_enter_flat32 writes it), then the information
     * structure and what it points to */
    blk.used = LOADER_GDT_SIZE;
    uint8_t mbi[MBI_SIZE] = {0};
    uint32_t mbi_at = block_put(&blk, mbi, sizeof(mbi));
    uint32_t mflags = MBI_MEM | MBI_MMAP | MBI_LOADER | MBI_CMDLINE;
    put32(mbi, 16, block_put(&blk, cl, cl_len));
    free(cl);
    put32(mbi, 64, block_put(&blk, loader_name, sizeof(loader_name)));

    /* memory: lower/upper in KiB (the RAM ranges at 0 and at 1 MiB),
     * then the full map */
    uint64_t lower = 0, upper = 0;
    uint8_t mm[8 * 24];
    for (int k = 0; k < nr; k++) {
        uint8_t *e = mm + 24 * k;
        put32(e, 0, 20);
        memcpy(e + 4, &r[k].base, 8);
        memcpy(e + 12, &r[k].length, 8);
        put32(e, 20, r[k].type);
        if (r[k].type == 1 && r[k].base == 0)
            lower = r[k].length;
        if (r[k].type == 1 && r[k].base == 0x100000)
            upper = r[k].length;
    }
    put32(mbi, 4, (uint32_t)(lower / 1024));
    put32(mbi, 8, (uint32_t)(upper / 1024));
    put32(mbi, 44, 24 * (uint32_t)nr);
    put32(mbi, 48, block_put(&blk, mm, 24 * (size_t)nr));

    if (list) {
        uint8_t e[16 * MB_MAX_MODS] = {0};
        for (uint32_t k = 0; k < nmods; k++) {
            put32(e + 16 * k, 0, mods[k].start);
            put32(e + 16 * k, 4, mods[k].end);
            put32(e + 16 * k, 8, block_put(&blk, mods[k].string, strlen(mods[k].string) + 1));
        }
        put32(mbi, 20, nmods);
        put32(mbi, 24, block_put(&blk, e, 16 * (size_t)nmods));
        mflags |= MBI_MODS;
        free(list);
    }
    put32(mbi, 0, mflags);
    memcpy(blk.buf + (mbi_at - blk.base), mbi, sizeof(mbi));
    phys_copy_in(&m->phys, blk.base, blk.buf, size);
    free(blk.buf);

    /* machine state, specification 3.2: a flat GDT (0x08 code, 0x10 data)
     * so the kernel may reload segment registers */
    boot_enter_flat32(m, blk.base, 0x08, 0x10, (uint32_t)entry);
    m->cpu->r[R_RAX] = MB_BOOT_MAGIC;
    m->cpu->r[R_RBX] = mbi_at;
    return 0;
}
