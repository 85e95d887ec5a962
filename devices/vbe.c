/* devices/vbe.c — the Bochs VBE dispi interface and its linear
 * framebuffer (see devices/vbe.h). */
#include <string.h>

#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/snap.h"
#include "devices/vbe.h"
#include "devices/vga.h"

static unsigned bytes_per_pixel(const struct vbe *b)
{
    return (b->regs[VBE_DISPI_INDEX_BPP] + 7) / 8;
}

static bool bpp_supported(unsigned bpp)
{
    return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static void set_default_bars(struct vbe *b);
static void place_windows(struct vbe *b);

void vbe_reset(void *opaque)
{
    struct vbe *b = opaque;
    if (b->pci) {
        set_default_bars(b);
        place_windows(b);
    }
    memset(b->regs, 0, sizeof(b->regs));
    b->regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    b->regs[VBE_DISPI_INDEX_BPP] = 8;
    b->regs[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = VBE_VRAM_SIZE >> 16;
    b->index = 0;
    b->mode_changed = true;
}

static uint16_t dispi_read(struct vbe *b, unsigned i)
{
    if (i >= VBE_DISPI_NUM_REGS)
        return 0;
    /* with GETCAPS set, the resolution registers give the maxima */
    if (b->regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
        if (i == VBE_DISPI_INDEX_XRES)
            return VBE_DISPI_MAX_XRES;
        if (i == VBE_DISPI_INDEX_YRES)
            return VBE_DISPI_MAX_YRES;
        if (i == VBE_DISPI_INDEX_BPP)
            return 32;
    }
    return b->regs[i];
}

static void dispi_write(struct vbe *b, unsigned i, uint16_t v)
{
    uint16_t *r = b->regs;
    bool enabled = r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
    switch (i) {
    case VBE_DISPI_INDEX_ID:
        if (v >= 0xB0C0 && v <= VBE_DISPI_ID5)
            r[VBE_DISPI_INDEX_ID] = v;
        return;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
        /* the mode is set while disabled; a bad value is ignored */
        if (enabled)
            return;
        if (i == VBE_DISPI_INDEX_XRES && (v > VBE_DISPI_MAX_XRES || !v || (v & 7)))
            return;
        if (i == VBE_DISPI_INDEX_YRES && (v > VBE_DISPI_MAX_YRES || !v))
            return;
        if (i == VBE_DISPI_INDEX_BPP && !bpp_supported(v ? v : 8))
            return;
        r[i] = i == VBE_DISPI_INDEX_BPP && !v ? 8 : v;
        return;
    case VBE_DISPI_INDEX_ENABLE:
        if ((v & VBE_DISPI_ENABLED) && !enabled) {
            /* a mode set: the virtual screen is the visible one, the
             * framebuffer cleared unless asked not to */
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
            r[VBE_DISPI_INDEX_VIRT_HEIGHT] = r[VBE_DISPI_INDEX_YRES];
            r[VBE_DISPI_INDEX_X_OFFSET] = r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
            if (!(v & VBE_DISPI_NOCLEARMEM))
                memset(b->vram, 0, (size_t)r[VBE_DISPI_INDEX_XRES] * r[VBE_DISPI_INDEX_YRES] *
                                       bytes_per_pixel(b));
        }
        r[VBE_DISPI_INDEX_ENABLE] = v & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS |
                                         VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
        b->mode_changed = true;
        return;
    case VBE_DISPI_INDEX_BANK:
        r[VBE_DISPI_INDEX_BANK] = v & ((VBE_VRAM_SIZE >> 16) - 1);
        return;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
        if (v >= r[VBE_DISPI_INDEX_XRES] &&
            (uint64_t)v * bytes_per_pixel(b) * r[VBE_DISPI_INDEX_YRES] <= VBE_VRAM_SIZE) {
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = v;
            r[VBE_DISPI_INDEX_VIRT_HEIGHT] =
                (uint16_t)(VBE_VRAM_SIZE / ((uint32_t)v * bytes_per_pixel(b)));
            b->mode_changed = true;
        }
        return;
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        /* panning: the visible window's corner in the virtual screen */
        r[i] = v;
        b->mode_changed = true;
        return;
    default:
        return; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
    }
}

static uint32_t dispi_io_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct vbe *b = opaque;
    return port == VBE_DISPI_IOPORT_INDEX ? b->index : dispi_read(b, b->index);
}

static void dispi_io_write(void *opaque, uint16_t port, uint32_t v, unsigned size)
{
    (void)size;
    struct vbe *b = opaque;
    if (port == VBE_DISPI_IOPORT_INDEX)
        b->index = (uint16_t)v;
    else
        dispi_write(b, b->index, (uint16_t)v);
}

/* BAR2: the VGA's ports 0x3C0-0x3DF go to the I/O bus (byte and word
 * accesses as the port would take them), the dispi registers are
 * 16 bits each; the rest (QEMU's EDID block at 0 and its extended
 * registers at 0x600) reads as zeros, which tells Linux's driver that
 * neither is there. */
static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct vbe *b = opaque;
    if (off >= VBE_MMIO_VGA_PORTS && off + size <= VBE_MMIO_VGA_PORTS + 0x20 && size <= 2)
        return io_in(&b->m->io, (uint16_t)(0x3C0 + off - VBE_MMIO_VGA_PORTS), size);
    if (off >= VBE_MMIO_DISPI && off < VBE_MMIO_DISPI + 2 * VBE_DISPI_NUM_REGS) {
        uint64_t v = 0;
        for (unsigned k = 0; k < size; k++) {
            uint64_t o = off + k - VBE_MMIO_DISPI;
            if (o < 2 * VBE_DISPI_NUM_REGS)
                v |= (uint64_t)((dispi_read(b, (unsigned)(o / 2)) >> (8 * (o & 1))) & 0xFF) << (8 * k);
        }
        return v;
    }
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    struct vbe *b = opaque;
    if (off >= VBE_MMIO_VGA_PORTS && off + size <= VBE_MMIO_VGA_PORTS + 0x20 && size <= 2) {
        io_out(&b->m->io, (uint16_t)(0x3C0 + off - VBE_MMIO_VGA_PORTS), (uint32_t)v, size);
        return;
    }
    /* whole registers only: a register's write has side effects */
    for (unsigned k = 0; k + 2 <= size; k += 2) {
        uint64_t o = off + k - VBE_MMIO_DISPI;
        if (off + k >= VBE_MMIO_DISPI && !(o & 1) && o < 2 * VBE_DISPI_NUM_REGS)
            dispi_write(b, (unsigned)(o / 2), (uint16_t)(v >> (8 * k)));
    }
}

static uint64_t lfb_read(void *opaque, uint64_t off, unsigned size)
{
    struct vbe *b = opaque;
    uint64_t v = 0;
    if (off + size <= VBE_VRAM_SIZE)
        memcpy(&v, b->vram + off, size);
    return v;
}

static void lfb_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    struct vbe *b = opaque;
    if (off + size > VBE_VRAM_SIZE)
        return;
    memcpy(b->vram + off, &v, size);
    b->dirty[off >> 15] |= (uint8_t)(1u << ((off >> 12) & 7));
    uint64_t last = off + size - 1;
    b->dirty[last >> 15] |= (uint8_t)(1u << ((last >> 12) & 7));
}

static uint32_t pixel(const struct vbe *b, const uint8_t *p, const uint8_t (*dac)[3])
{
    switch (b->regs[VBE_DISPI_INDEX_BPP]) {
    case 8: {
        const uint8_t *c = dac[p[0]]; /* 6-bit DAC entries */
        return (uint32_t)((c[0] << 2 | c[0] >> 4) << 16 | (c[1] << 2 | c[1] >> 4) << 8 |
                          (c[2] << 2 | c[2] >> 4));
    }
    case 15: {
        unsigned v = p[0] | p[1] << 8, r = (v >> 10) & 31, g = (v >> 5) & 31, bl = v & 31;
        return (r << 3 | r >> 2) << 16 | (g << 3 | g >> 2) << 8 | (bl << 3 | bl >> 2);
    }
    case 16: {
        unsigned v = p[0] | p[1] << 8, r = v >> 11, g = (v >> 5) & 63, bl = v & 31;
        return (r << 3 | r >> 2) << 16 | (g << 2 | g >> 4) << 8 | (bl << 3 | bl >> 2);
    }
    default: /* 24 and 32: blue, green, red in memory order */
        return (uint32_t)(p[2] << 16 | p[1] << 8 | p[0]);
    }
}

void vbe_update(struct vbe *b, struct vga_surface *s, const uint8_t (*dac)[3], bool full)
{
    const uint16_t *r = b->regs;
    int w = r[VBE_DISPI_INDEX_XRES], h = r[VBE_DISPI_INDEX_YRES];
    unsigned bpp = bytes_per_pixel(b);
    uint64_t pitch = (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp;
    uint64_t origin = r[VBE_DISPI_INDEX_Y_OFFSET] * pitch + (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bpp;
    if (w > VGA_MAX_WIDTH || h > VGA_MAX_HEIGHT)
        return; /* the mode registers cannot say more: a guard only */
    full = full || b->mode_changed || s->width != w || s->height != h;
    b->mode_changed = false;
    s->width = w;
    s->height = h;
    for (int y = 0; y < h; y++) {
        uint64_t start = origin + (uint64_t)y * pitch, end = start + (uint64_t)w * bpp;
        if (end > VBE_VRAM_SIZE)
            break;
        bool dirty = full;
        for (uint64_t pg = start >> 12; !dirty && pg <= (end - 1) >> 12; pg++)
            dirty = b->dirty[pg >> 3] & (1u << (pg & 7));
        if (!dirty)
            continue;
        uint32_t *px = s->pixels + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++)
            px[x] = pixel(b, b->vram + start + (uint64_t)x * bpp, dac);
        if (s->x0 >= s->x1) {
            s->x0 = 0, s->x1 = w, s->y0 = y, s->y1 = y + 1;
        } else {
            s->x0 = 0, s->x1 = w;
            if (y < s->y0) s->y0 = y;
            if (y + 1 > s->y1) s->y1 = y + 1;
        }
    }
    memset(b->dirty, 0, sizeof(b->dirty));
}

void vbe_set_mode(struct vbe *b, uint16_t xres, uint16_t yres, uint16_t bpp)
{
    dispi_write(b, VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(b, VBE_DISPI_INDEX_XRES, xres);
    dispi_write(b, VBE_DISPI_INDEX_YRES, yres);
    dispi_write(b, VBE_DISPI_INDEX_BPP, bpp);
    dispi_write(b, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    b->index = 0;
}

/* Puts the two windows where BAR0 and BAR2 say.  They decode whatever
 * the command register says: vesafb draws on the framebuffer of a
 * function no driver enabled. */
static void place_windows(struct vbe *b)
{
    struct phys *p = &b->m->phys;
    uint64_t want[2] = { pci_bar_addr(b->pci, 0), pci_bar_addr(b->pci, 2) };
    int region[2] = { b->lfb_region, b->mmio_region };
    bool moved = false;
    for (int k = 0; k < 2; k++)
        if (p->regions[region[k]].base != want[k]) {
            p->regions[region[k]].base = want[k];
            moved = true;
        }
    if (moved)
        phys_regions_changed(p);
    if (moved && b->m->cpu)
        machine_memory_map_changed(b->m);
}

/* A guest sizes a BAR (writing all ones) with memory decoding off: the
 * windows follow the BARs while decoding is on, and when it is turned
 * on, and stay where they were while it is off.  A snapshot's load
 * (the whole space at once) places them where its BARs say. */
static void pci_hook(struct pci_device *d, void *opaque, unsigned offset, unsigned size)
{
    bool bars = offset < PCI_BAR0 + 12 && offset + size > PCI_BAR0; /* BAR0 to BAR2 */
    bool command = offset <= PCI_COMMAND && offset + size > PCI_COMMAND;
    if ((bars || command) && (size == 256 || (d->config[PCI_COMMAND] & PCI_COMMAND_MEMORY)))
        place_windows(opaque);
}

static void set_default_bars(struct vbe *b)
{
    uint8_t *c = b->pci->config;
    uint32_t bar0 = VBE_LFB_ADDR | PCI_BAR_MEM | PCI_BAR_PREFETCH, bar2 = VBE_MMIO_ADDR | PCI_BAR_MEM;
    for (int k = 0; k < 4; k++) {
        c[PCI_BAR0 + k] = (uint8_t)(bar0 >> (8 * k));
        c[PCI_BAR0 + 8 + k] = (uint8_t)(bar2 >> (8 * k));
    }
}

struct vbe *vbe_create(struct machine *m)
{
    struct vbe *b = dev_zalloc(m, sizeof(*b));
    b->m = m;
    b->vram = dev_zalloc(m, VBE_VRAM_SIZE);
    /* three ports so that a 16-bit access at the data port 0x1CF is one
     * access (0x1D0 is Bochs's old second data port) */
    io_register(&m->io, VBE_DISPI_IOPORT_INDEX, 3, "vbe", b, dispi_io_read, dispi_io_write);
    b->lfb_region = m->phys.nregions;
    phys_map_mmio(&m->phys, VBE_LFB_ADDR, VBE_VRAM_SIZE, "vbe-lfb", b, lfb_read, lfb_write);
    b->mmio_region = m->phys.nregions;
    phys_map_mmio(&m->phys, VBE_MMIO_ADDR, VBE_MMIO_SIZE, "vbe-mmio", b, mmio_read, mmio_write);
    b->pci = !m->pci ? NULL : pci_register(m->pci, VBE_PCI_DEVFN, VBE_PCI_VENDOR, VBE_PCI_DEVICE, 0x030000, 0x02);
    if (b->pci) {
        pci_set_bar(b->pci, 0, VBE_VRAM_SIZE, PCI_BAR_MEM | PCI_BAR_PREFETCH);
        pci_set_bar(b->pci, 2, VBE_MMIO_SIZE, PCI_BAR_MEM);
        /* QEMU's subsystem IDs for its std VGA */
        b->pci->config[PCI_SUBSYS_VENDOR] = 0xF4;
        b->pci->config[PCI_SUBSYS_VENDOR + 1] = 0x1A;
        b->pci->config[PCI_SUBSYS_VENDOR + 2] = 0x00;
        b->pci->config[PCI_SUBSYS_VENDOR + 3] = 0x11;
        pci_set_hook(b->pci, pci_hook, b);
    }
    bus_add_reset(&m->io, vbe_reset, b);
    vbe_reset(b);
    return b;
}

/* ---- snapshot (devices/snap.h) ---- */

/* The framebuffer goes as a bitmap of its non-zero pages and those
 * pages: a text-mode machine's is all zeros and costs 512 bytes. */
static void vbe_state(struct snap *s, struct machine *m)
{
    struct vbe *b = m->vbe;
    if (!b)
        return;
    snap_u16(s, &b->index);
    snap_u16s(s, b->regs, VBE_DISPI_NUM_REGS);
    uint8_t used[VBE_VRAM_PAGES / 8];
    memset(used, 0, sizeof(used));
    if (!s->loading)
        for (unsigned p = 0; p < VBE_VRAM_PAGES; p++) {
            const uint64_t *w = (const uint64_t *)(b->vram + (size_t)p * 4096);
            for (unsigned k = 0; k < 512; k++)
                if (w[k]) {
                    used[p / 8] |= (uint8_t)(1u << (p % 8));
                    break;
                }
        }
    snap_bytes(s, used, sizeof(used));
    for (unsigned p = 0; p < VBE_VRAM_PAGES && !s->failed; p++) {
        uint8_t *page = b->vram + (size_t)p * 4096;
        if ((used[p / 8] >> (p % 8)) & 1)
            snap_bytes(s, page, 4096);
        else if (s->loading)
            memset(page, 0, 4096);
    }
    if (s->loading) {
        memset(b->dirty, 0, sizeof(b->dirty));
        b->mode_changed = true; /* drawn again from the loaded state */
    }
}
SNAP_SECTION(vbe, "vbe", 1, vbe_state)
