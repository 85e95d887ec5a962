/* devices/linuxboot.c — the Linux/x86 boot protocol 2.06+ for bzImage
 * kernels (Documentation/arch/x86/boot.rst): the boot loader fills the
 * zero page (struct boot_params, zero-page.rst), loads the
 * protected-mode kernel and the initrd, and jumps to the kernel.  A
 * kernel whose xloadflags has XLF_KERNEL_64 is entered through the
 * "64-bit boot protocol" (64-bit mode, paging on with an identity map,
 * RSI = zero page, RIP = load address + 0x200); any other kernel, or a
 * CPU model without long mode, through the "32-bit boot protocol" (flat
 * protected mode, paging off, ESI = zero page).  The real-mode setup
 * code is never run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/acpi.h"
#include "devices/boot.h"
#include "devices/fwcfg.h"
#include "devices/machine.h"
#include "devices/vbe.h"

/* Setup header fields: offsets in the file and in the zero page alike */
#define HDR_SETUP_SECTS      0x1F1
#define HDR_BOOT_FLAG        0x1FE /* 0xAA55 */
#define HDR_JUMP             0x200 /* its second byte gives the header's end */
#define HDR_HEADER           0x202 /* "HdrS" */
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21C
#define HDR_HEAP_END_PTR     0x224
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22C
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260

/* Zero page fields outside the setup header */
/* struct screen_info at the start of the zero page (the video state a
 * BIOS boot's setup code would have recorded) */
#define SI_VIDEO_MODE        0x006
#define SI_VIDEO_COLS        0x007
#define SI_VIDEO_EGA_BX      0x00A
#define SI_VIDEO_LINES       0x00E
#define SI_VIDEO_IS_VGA      0x00F
#define SI_VIDEO_POINTS      0x010
#define SI_LFB_WIDTH         0x012
#define SI_LFB_HEIGHT        0x014
#define SI_LFB_DEPTH         0x016
#define SI_LFB_BASE          0x018
#define SI_LFB_SIZE          0x01C /* 64 KiB units for VIDEO_TYPE_VLFB */
#define SI_LFB_LINELENGTH    0x024
#define SI_RED_SIZE          0x026 /* then red_pos, green size/pos, blue, reserved */
#define SI_PAGES             0x032
#define VIDEO_TYPE_VLFB      0x23  /* orig_video_isVGA: a VESA linear framebuffer */
#define BP_ACPI_RSDP_ADDR    0x070 /* protocol 2.14 */
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE  0x0C4
#define BP_EXT_CMD_LINE_PTR  0x0C8
#define BP_E820_ENTRIES      0x1E8
#define BP_E820_TABLE        0x2D0 /* 20-byte entries */
#define BP_E820_MAX          128
#define BP_SIZE              4096

#define LOADED_HIGH          0x01 /* loadflags bit 0 */
#define XLF_KERNEL_64        0x01 /* xloadflags bit 0: 64-bit entry at +0x200 */
#define LINUX_ENTRY64_OFFSET 0x200
#define LOADER_UNDEFINED     0xFF /* type_of_loader: no assigned ID */

/* Where the loader puts its own structures, all in conventional RAM */
#define LINUX_GDT_ADDR       0x6000u
#define LINUX_ZERO_PAGE      0x7000u
#define LINUX_PAGE_TABLES    0x9000u  /* BOOT_LONG64_PT_SIZE bytes, to 0xEFFF */
#define LINUX_CMDLINE_ADDR   0x20000u
#define LINUX_CMDLINE_MAX    0x10000u /* up to the 64 KiB the area holds */
#define LINUX_DEFAULT_LOAD   0x100000u
#define BOOT_CS              0x10
#define BOOT_DS              0x18

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr8(uint8_t *p, unsigned off, uint8_t v) { p[off] = v; }
static void wr16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void wr32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }
static void wr64(uint8_t *p, unsigned off, uint64_t v) { memcpy(p + off, &v, 8); }

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return a ? (v + a - 1) / a * a : v;
}

/* The initrd, as high as initrd_addr_max allows below the end of low
 * RAM and above the kernel's decompression area; 0 or -1 with err. */
static int load_initrd(struct machine *m, uint8_t *bp, uint64_t kernel_end, char *err,
                       size_t errlen)
{
    const char *path = m->cfg->initrd;
    if (!path || !*path)
        return 0;
    struct boot_image rd;
    if (boot_read_file(path, &rd, err, errlen))
        return -1;
    uint64_t max = rd32(bp + HDR_INITRD_ADDR_MAX);
    uint64_t top = m->phys.ram_below_4g;
    if (max && max + 1 < top)
        top = max + 1;
    uint64_t at = top >= rd.size ? (top - rd.size) & ~0xFFFull : 0;
    if (rd.size > top || at < kernel_end) {
        snprintf(err, errlen,
                 "initrd '%s' (%zu KiB) does not fit in guest RAM between the kernel (ends at "
                 "%llu MiB) and %llu MiB; give more memory with -m",
                 path, rd.size >> 10, (unsigned long long)(kernel_end >> 20),
                 (unsigned long long)(top >> 20));
        boot_free_image(&rd);
        return -1;
    }
    phys_copy_in(&m->phys, at, rd.data, rd.size);
    wr32(bp, HDR_RAMDISK_IMAGE, (uint32_t)at);
    wr32(bp, HDR_RAMDISK_SIZE, (uint32_t)rd.size);
    wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(at >> 32));
    wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)rd.size >> 32));
    if (m->fwcfg) {
        fwcfg_add_u32(m->fwcfg, FW_CFG_INITRD_ADDR, (uint32_t)at);
        fwcfg_add_u32(m->fwcfg, FW_CFG_INITRD_SIZE, (uint32_t)rd.size);
        fwcfg_add_bytes(m->fwcfg, FW_CFG_INITRD_DATA, rd.data, rd.size);
    }
    boot_free_image(&rd);
    return 0;
}

int linux_load(struct machine *m, const struct boot_image *img, char *err, size_t errlen)
{
    const uint8_t *d = img->data;
    if (img->size < HDR_HEADER + 4 || memcmp(d + HDR_HEADER, "HdrS", 4))
        return 1; /* not a bzImage */
    uint16_t version = rd16(d + HDR_VERSION);
    if (version < 0x0206) {
        snprintf(err, errlen,
                 "'%s': Linux boot protocol %u.%02u is too old (nest86 needs 2.06 or later)",
                 img->path, version >> 8, version & 0xFF);
        return -1;
    }
    size_t hdr_end = HDR_HEADER + d[HDR_JUMP + 1];
    unsigned setup_sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
    size_t pm_off = (size_t)(setup_sects + 1) * 512;
    if (img->size < hdr_end || img->size <= pm_off ||
        (uint64_t)rd32(d + 0x1F4) * 16 > img->size - pm_off) {
        snprintf(err, errlen,
                 "'%s': truncated Linux kernel image (%zu bytes; its setup header promises "
                 "%llu)",
                 img->path, img->size,
                 (unsigned long long)(pm_off + (uint64_t)rd32(d + 0x1F4) * 16));
        return -1;
    }
    if (!(d[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "'%s': a zImage (loaded low) is not supported; use a bzImage",
                 img->path);
        return -1;
    }

    /* the zero page starts as zeros plus the kernel's own setup header */
    uint8_t *bp = calloc(1, BP_SIZE);
    if (!bp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t hdr_len = hdr_end - HDR_SETUP_SECTS;
    if (HDR_SETUP_SECTS + hdr_len > BP_E820_TABLE)
        hdr_len = BP_E820_TABLE - HDR_SETUP_SECTS;
    memcpy(bp + HDR_SETUP_SECTS, d + HDR_SETUP_SECTS, hdr_len);

    /* where the protected-mode kernel goes */
    size_t pm_size = img->size - pm_off;
    uint64_t align = rd32(bp + HDR_KERNEL_ALIGNMENT);
    uint64_t init_size = version >= 0x020A ? rd32(bp + HDR_INIT_SIZE) : 0;
    if (init_size < pm_size)
        init_size = pm_size;
    uint64_t load = LINUX_DEFAULT_LOAD;
    if (bp[HDR_RELOCATABLE]) {
        uint64_t pref = version >= 0x020A ? rd64(bp + HDR_PREF_ADDRESS) : 0;
        if (pref && pref + init_size <= m->phys.ram_below_4g)
            load = pref;
        else
            load = align_up(LINUX_DEFAULT_LOAD, align);
    }
    if (load + init_size > m->phys.ram_below_4g) {
        snprintf(err, errlen,
                 "'%s': the kernel needs %llu MiB of RAM from %llu MiB on; give more memory "
                 "with -m",
                 img->path, (unsigned long long)(init_size >> 20),
                 (unsigned long long)(load >> 20));
        free(bp);
        return -1;
    }
    phys_copy_in(&m->phys, load, d + pm_off, pm_size);

    wr8(bp, HDR_TYPE_OF_LOADER, LOADER_UNDEFINED);
    wr32(bp, HDR_CODE32_START, (uint32_t)load);
    wr16(bp, HDR_HEAP_END_PTR, 0);

    /* command line */
    const char *append = m->cfg->append ? m->cfg->append : "";
    size_t cl_max = rd32(bp + HDR_CMDLINE_SIZE);
    if (cl_max > LINUX_CMDLINE_MAX - 1)
        cl_max = LINUX_CMDLINE_MAX - 1;
    if (strlen(append) > cl_max) {
        snprintf(err, errlen, "-append: the command line is %zu bytes; this kernel takes %zu",
                 strlen(append), cl_max);
        free(bp);
        return -1;
    }
    phys_copy_in(&m->phys, LINUX_CMDLINE_ADDR, append, strlen(append) + 1);
    wr32(bp, HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
    wr32(bp, BP_EXT_CMD_LINE_PTR, 0);

    if (load_initrd(m, bp, load + init_size, err, errlen)) {
        free(bp);
        return -1;
    }

    /* memory map (e820) and the RSDP */
    struct boot_mem_range r[BP_E820_MAX];
    int n = boot_memory_map(m, r, BP_E820_MAX);
    for (int k = 0; k < n; k++) {
        wr64(bp, BP_E820_TABLE + 20 * k, r[k].base);
        wr64(bp, BP_E820_TABLE + 20 * k + 8, r[k].length);
        wr32(bp, BP_E820_TABLE + 20 * k + 16, r[k].type);
    }
    wr8(bp, BP_E820_ENTRIES, (uint8_t)n);
    if (version >= 0x020E)
        wr64(bp, BP_ACPI_RSDP_ADDR, ACPI_RSDP_ADDR);
    if (m->vbe && m->cfg->vga == VGA_STD) {
        /* -vga std: the framebuffer in 1024x768x32, as a VESA BIOS call
         * from the real-mode setup code would leave it (vesafb and
         * the EFI/simple framebuffer drivers take it from here) */
        static const uint8_t rgbx[8] = {8, 16, 8, 8, 8, 0, 8, 24};
        vbe_set_mode(m->vbe, 1024, 768, 32);
        wr8(bp, SI_VIDEO_IS_VGA, VIDEO_TYPE_VLFB);
        wr16(bp, SI_LFB_WIDTH, 1024);
        wr16(bp, SI_LFB_HEIGHT, 768);
        wr16(bp, SI_LFB_DEPTH, 32);
        wr32(bp, SI_LFB_BASE, VBE_LFB_ADDR);
        wr32(bp, SI_LFB_SIZE, VBE_VRAM_SIZE >> 16);
        wr16(bp, SI_LFB_LINELENGTH, 1024 * 4);
        memcpy(bp + SI_RED_SIZE, rgbx, sizeof(rgbx));
        wr16(bp, SI_PAGES, 1);
    } else if (m->vga) {
        /* the VGA in mode 3, cursor at the top left: the kernel's VGA
         * console (vgacon) takes it as the text screen; EGA_BX's low
         * byte other than 0x10 says EGA/VGA rather than CGA */
        wr8(bp, SI_VIDEO_MODE, 3);
        wr8(bp, SI_VIDEO_COLS, 80);
        wr16(bp, SI_VIDEO_EGA_BX, 0x0003);
        wr8(bp, SI_VIDEO_LINES, 25);
        wr8(bp, SI_VIDEO_IS_VGA, 1);
        wr16(bp, SI_VIDEO_POINTS, 16);
    }
    phys_copy_in(&m->phys, LINUX_ZERO_PAGE, bp, BP_SIZE);
    free(bp);

    if (m->fwcfg) {
        fwcfg_add_u32(m->fwcfg, FW_CFG_KERNEL_ADDR, (uint32_t)load);
        fwcfg_add_u32(m->fwcfg, FW_CFG_KERNEL_SIZE, (uint32_t)pm_size);
        fwcfg_add_bytes(m->fwcfg, FW_CFG_KERNEL_DATA, d + pm_off, pm_size);
        fwcfg_add_u32(m->fwcfg, FW_CFG_SETUP_ADDR, LINUX_ZERO_PAGE);
        fwcfg_add_u32(m->fwcfg, FW_CFG_SETUP_SIZE, (uint32_t)pm_off);
        fwcfg_add_bytes(m->fwcfg, FW_CFG_SETUP_DATA, d, pm_off);
        fwcfg_add_u32(m->fwcfg, FW_CFG_CMDLINE_ADDR, LINUX_CMDLINE_ADDR);
        fwcfg_add_u32(m->fwcfg, FW_CFG_CMDLINE_SIZE, (uint32_t)strlen(append) + 1);
        fwcfg_add_bytes(m->fwcfg, FW_CFG_CMDLINE_DATA, append, strlen(append) + 1);
    }

    if (version >= 0x020C && (rd16(d + HDR_XLOADFLAGS) & XLF_KERNEL_64) &&
        cpu_has_feature(m->cpu, "lm")) {
        /* 64-bit boot protocol: __BOOT_CS a 64-bit code segment,
         * __BOOT_DS flat data, paging on with the kernel, zero page,
         * command line and initrd identity-mapped (all below 4 GiB),
         * interrupts off, RSI = zero page, entry at load + 0x200. */
        boot_enter_long64(m, LINUX_GDT_ADDR, LINUX_PAGE_TABLES, BOOT_CS, BOOT_DS,
                          load + LINUX_ENTRY64_OFFSET);
    } else {
        /* 32-bit boot protocol: flat 4 GiB segments __BOOT_CS/__BOOT_DS,
         * protected mode, paging and interrupts off, ESI = zero page,
         * EBP = EDI = EBX = 0, entry at the protected-mode kernel. */
        boot_enter_flat32(m, LINUX_GDT_ADDR, BOOT_CS, BOOT_DS, (uint32_t)load);
    }
    m->cpu->r[R_RSI] = LINUX_ZERO_PAGE;
    return 0;
}

void boot_enter_long64(struct machine *m, uint32_t gdt_at, uint32_t pt_at, uint16_t cs,
                       uint16_t ds, uint64_t entry)
{
    /* GDT: null descriptors up to cs, then a 64-bit code segment (L=1,
     * D=0) at cs and flat 4 GiB read/write data at ds */
    uint64_t gdt[8] = {0};
    unsigned n = (ds > cs ? ds : cs) / 8 + 1;
    gdt[cs / 8] = 0x00af9b000000ffffull;
    gdt[ds / 8] = 0x00cf93000000ffffull;
    phys_copy_in(&m->phys, gdt_at, gdt, 8 * n);

    /* 4-level tables: PML4 -> one PDPT -> four page directories of
     * 2 MiB pages identity-mapping 0 - 4 GiB */
    uint64_t pml4 = pt_at, pdpt = pt_at + 0x1000, pd = pt_at + 0x2000;
    uint64_t *t = calloc(BOOT_LONG64_PT_SIZE / 8, 8);
    if (!t)
        abort();
    t[0] = pdpt | PTE_P | PTE_RW;
    for (unsigned g = 0; g < 4; g++)
        t[0x1000 / 8 + g] = (pd + 0x1000 * g) | PTE_P | PTE_RW;
    for (unsigned i = 0; i < 4 * 512; i++)
        t[0x2000 / 8 + i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
    phys_copy_in(&m->phys, pml4, t, BOOT_LONG64_PT_SIZE);
    free(t);

    struct cpu *c = m->cpu;
    c->gdtr.base = gdt_at;
    c->gdtr.limit = (uint16_t)(8 * n - 1);
    c->mmu.cr3 = pml4;
    c->mmu.cr4 = CR4_PAE;
    c->mmu.efer = EFER_LME | EFER_LMA;
    c->mmu.cr0 = CR0_PE | CR0_ET | CR0_PG;
    c->mmu.pcid = 0;
    struct seg *code = &c->seg[SEG_CS];
    code->sel = cs;
    code->base = 0;
    code->limit = 0xffffffffu;
    code->ar = 0xb | AR_S | AR_P | AR_L | AR_G;
    boot_commit_entry(m, ds, entry);
}
