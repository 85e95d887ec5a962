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

void vbe_reset(void *opaque)
{
    struct vbe *b = opaque;
    memset(b->regs, 0, sizeof(b->regs));
    b->regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    b->regs[VBE_DISPI_INDEX_BPP] = 8;
    b->regs[VBE_DISPI_INDEX_VIDEO_MEMORY_64K] = VBE_VRAM_SIZE >> 16;
    b->index = 0;
    b->mode_changed = true;
}

static uint16_t dispi_read(struct vbe *b)
{
    unsigned i = b->index;
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

static void dispi_write(struct vbe *b, uint16_t v)
{
    uint16_t *r = b->regs;
    bool enabled = r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
    switch (b->index) {
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
        if (b->index == VBE_DISPI_INDEX_XRES && (v > VBE_DISPI_MAX_XRES || !v || (v & 7)))
            return;
        if (b->index == VBE_DISPI_INDEX_YRES && (v > VBE_DISPI_MAX_YRES || !v))
            return;
        if (b->index == VBE_DISPI_INDEX_BPP && !bpp_supported(v ? v : 8))
            return;
        r[b->index] = b->index == VBE_DISPI_INDEX_BPP && !v ? 8 : v;
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
        r[b->index] = v;
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
    return port == VBE_DISPI_IOPORT_INDEX ? b->index : dispi_read(b);
}

static void dispi_io_write(void *opaque, uint16_t port, uint32_t v, unsigned size)
{
    (void)size;
    struct vbe *b = opaque;
    if (port == VBE_DISPI_IOPORT_INDEX)
        b->index = (uint16_t)v;
    else
        dispi_write(b, (uint16_t)v);
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
    b->index = VBE_DISPI_INDEX_ENABLE;
    dispi_write(b, 0);
    b->index = VBE_DISPI_INDEX_XRES;
    dispi_write(b, xres);
    b->index = VBE_DISPI_INDEX_YRES;
    dispi_write(b, yres);
    b->index = VBE_DISPI_INDEX_BPP;
    dispi_write(b, bpp);
    b->index = VBE_DISPI_INDEX_ENABLE;
    dispi_write(b, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    b->index = 0;
}

struct vbe *vbe_create(struct machine *m)
{
    struct vbe *b = dev_zalloc(m, sizeof(*b));
    b->m = m;
    b->vram = dev_zalloc(m, VBE_VRAM_SIZE);
    /* three ports so that a 16-bit access at the data port 0x1CF is one
     * access (0x1D0 is Bochs's old second data port) */
    io_register(&m->io, VBE_DISPI_IOPORT_INDEX, 3, "vbe", b, dispi_io_read, dispi_io_write);
    phys_map_mmio(&m->phys, VBE_LFB_ADDR, VBE_VRAM_SIZE, "vbe-lfb", b, lfb_read, lfb_write);
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
