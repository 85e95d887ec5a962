/* devices/vga.c — the VGA's registers (see devices/vga.h). */
#include <string.h>

#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/snap.h"
#include "devices/vga.h"

/* Mode 3 as a VGA BIOS programs it (IBM VGA technical reference, the
 * mode-3 parameter table): 80x25 cells of 9x16 pixels, 400 lines. */
static const uint8_t mode3_seq[VGA_SEQ_REGS] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_gc[VGA_GC_REGS] = {0x00, 0x00, 0x00, 0x00, 0x00,
                                              0x10, 0x0E, 0x00, 0xFF};
static const uint8_t mode3_crtc[VGA_CRTC_REGS] = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
static const uint8_t mode3_attr[VGA_ATTR_REGS] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
    0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

/* CRTC registers */
#define CR_MAX_SCAN    0x09
#define CR_START_HI    0x0C
#define CR_START_LO    0x0D
#define CR_OVERFLOW    0x07
#define CR_VRETRACE_END 0x11 /* bit 7 write-protects CR0-CR7 */
#define CR_VDISP_END   0x12
#define CR_OFFSET      0x13
#define CR_HDISP_END   0x01

/* input status 1 (0x3DA): display disabled, vertical retrace */
#define IS1_DD 0x01
#define IS1_VR 0x08

void vga_reset(void *opaque)
{
    struct vga *v = opaque;
    v->misc = 0x67; /* colour (CRTC at 0x3Dx), RAM enabled, 28 MHz clock */
    memcpy(v->seq, mode3_seq, sizeof(v->seq));
    memcpy(v->gc, mode3_gc, sizeof(v->gc));
    memcpy(v->crtc, mode3_crtc, sizeof(v->crtc));
    memcpy(v->attr, mode3_attr, sizeof(v->attr));
    v->seq_index = v->gc_index = v->crtc_index = 0;
    v->attr_index = 0x20; /* the palette locked: the display shows */
    v->attr_flipflop = false;
    /* the BIOS's 64-colour EGA palette in DAC 0-63: each 6-bit index is
     * rgbRGB, a primary bit worth 2/3 of full scale, a secondary 1/3 */
    memset(v->dac, 0, sizeof(v->dac));
    for (int i = 0; i < 64; i++) {
        static const int primary[3] = {2, 1, 0}, secondary[3] = {5, 4, 3};
        for (int c = 0; c < 3; c++)
            v->dac[i][c] = (uint8_t)(((i >> primary[c]) & 1) * 0x2A +
                                     ((i >> secondary[c]) & 1) * 0x15);
    }
    v->dac_write_index = v->dac_read_index = v->dac_component = 0;
    v->dac_reading = false;
    v->pel_mask = 0xFF;
    v->feature = 0;
    v->generation++;
}

static bool mono(const struct vga *v)
{
    return !(v->misc & 1); /* I/O address select: CRTC at 0x3Bx */
}

static uint8_t vga_read_byte(struct vga *v, uint16_t port)
{
    /* the CRTC and input status answer at 0x3Bx or 0x3Dx, as misc bit 0 says */
    if ((port >= 0x3B0 && port <= 0x3BF && !mono(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && mono(v)))
        return 0xFF;
    switch (port) {
    case 0x3C0: return v->attr_index;
    case 0x3C1: return (v->attr_index & 0x1F) < VGA_ATTR_REGS ? v->attr[v->attr_index & 0x1F] : 0;
    case 0x3C2: return 0x10; /* input status 0: switch sense (a colour monitor) */
    case 0x3C4: return v->seq_index;
    case 0x3C5: return v->seq_index < VGA_SEQ_REGS ? v->seq[v->seq_index] : 0xFF;
    case 0x3C6: return v->pel_mask;
    case 0x3C7: return v->dac_reading ? 0x03 : 0x00;
    case 0x3C8: return v->dac_write_index;
    case 0x3C9: {
        uint8_t val = v->dac[v->dac_read_index][v->dac_component];
        if (++v->dac_component == 3) {
            v->dac_component = 0;
            v->dac_read_index++;
        }
        return val;
    }
    case 0x3CA: return v->feature;
    case 0x3CC: return v->misc;
    case 0x3CE: return v->gc_index;
    case 0x3CF: return v->gc_index < VGA_GC_REGS ? v->gc[v->gc_index] : 0xFF;
    case 0x3B4: case 0x3D4: return v->crtc_index;
    case 0x3B5: case 0x3D5:
        return v->crtc_index < VGA_CRTC_REGS ? v->crtc[v->crtc_index] : 0xFF;
    case 0x3BA: case 0x3DA:
        /* no beam to follow: alternate retrace and display so a guest
         * waiting for either edge sees it; reading resets the attribute
         * controller's index/data flip-flop */
        v->attr_flipflop = false;
        v->status_toggle ^= 1;
        return v->status_toggle ? (IS1_DD | IS1_VR) : 0;
    default: return 0xFF;
    }
}

static void vga_write_byte(struct vga *v, uint16_t port, uint8_t val)
{
    if ((port >= 0x3B0 && port <= 0x3BF && !mono(v)) ||
        (port >= 0x3D0 && port <= 0x3DF && mono(v)))
        return;
    switch (port) {
    case 0x3C0:
        if (!v->attr_flipflop) {
            v->attr_index = val & 0x3F;
        } else if ((v->attr_index & 0x1F) < VGA_ATTR_REGS) {
            v->attr[v->attr_index & 0x1F] = val;
        }
        v->attr_flipflop = !v->attr_flipflop;
        break;
    case 0x3C2: v->misc = val; break;
    case 0x3C4: v->seq_index = val & 0x07; break;
    case 0x3C5:
        if (v->seq_index < VGA_SEQ_REGS)
            v->seq[v->seq_index] = val;
        break;
    case 0x3C6: v->pel_mask = val; break;
    case 0x3C7:
        v->dac_read_index = val;
        v->dac_component = 0;
        v->dac_reading = true;
        break;
    case 0x3C8:
        v->dac_write_index = val;
        v->dac_component = 0;
        v->dac_reading = false;
        break;
    case 0x3C9:
        v->dac[v->dac_write_index][v->dac_component] = val & 0x3F;
        if (++v->dac_component == 3) {
            v->dac_component = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3CE: v->gc_index = val & 0x0F; break;
    case 0x3CF:
        if (v->gc_index < VGA_GC_REGS)
            v->gc[v->gc_index] = val;
        break;
    case 0x3B4: case 0x3D4: v->crtc_index = val & 0x1F; break;
    case 0x3B5: case 0x3D5: {
        uint8_t i = v->crtc_index;
        if (i >= VGA_CRTC_REGS)
            break;
        if (i <= 7 && (v->crtc[CR_VRETRACE_END] & 0x80)) {
            /* CR11 bit 7 protects CR0-CR7, except CR7's line-compare bit 4 */
            if (i == CR_OVERFLOW)
                v->crtc[i] = (uint8_t)((v->crtc[i] & ~0x10) | (val & 0x10));
            break;
        }
        v->crtc[i] = val;
        break;
    }
    case 0x3BA: case 0x3DA: v->feature = val; break;
    default: return;
    }
    v->generation++;
}

static uint32_t vga_io_read(void *opaque, uint16_t port, unsigned size)
{
    uint32_t val = 0;
    for (unsigned i = 0; i < size; i++)
        val |= (uint32_t)vga_read_byte(opaque, (uint16_t)(port + i)) << (8 * i);
    return val;
}

static void vga_io_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
    /* OUTW to an index port writes the index and, at port + 1, its data */
    for (unsigned i = 0; i < size; i++)
        vga_write_byte(opaque, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

void vga_text_geometry(const struct vga *v, struct vga_text_geometry *g)
{
    const uint8_t *cr = v->crtc;
    g->cell_w = (v->seq[1] & 0x01) ? 8 : 9; /* SR1 bit 0: 8-dot characters */
    g->cell_h = (cr[CR_MAX_SCAN] & 0x1F) + 1;
    g->cols = cr[CR_HDISP_END] + 1;
    unsigned lines = cr[CR_VDISP_END] | ((cr[CR_OVERFLOW] & 0x02) << 7) |
                     ((cr[CR_OVERFLOW] & 0x40) << 3);
    g->rows = (int)((lines + 1) / (unsigned)g->cell_h);
    if (g->cols > VGA_MAX_COLS)
        g->cols = VGA_MAX_COLS;
    if (g->rows > VGA_MAX_ROWS)
        g->rows = VGA_MAX_ROWS;
    if (g->rows * g->cell_h > VGA_MAX_HEIGHT)
        g->rows = VGA_MAX_HEIGHT / g->cell_h;
    if (g->rows < 1)
        g->rows = 1;
    g->start = ((unsigned)cr[CR_START_HI] << 8) | cr[CR_START_LO];
    g->pitch = cr[CR_OFFSET] * 2u; /* the offset counts words; a cell is one word */
    static const uint64_t map_base[4] = {0xA0000, 0xA0000, 0xB0000, 0xB8000};
    g->base = map_base[(v->gc[6] >> 2) & 3];
    g->graphics = v->gc[6] & 0x01;
    /* SR1 bit 5 turns the screen off; with the attribute controller's
     * palette address source clear the palette is being loaded and the
     * display shows the overscan colour */
    g->blank = (v->seq[1] & 0x20) || !(v->attr_index & 0x20);
}

uint32_t vga_color(const struct vga *v, unsigned attr_color)
{
    /* attribute palette -> 8-bit DAC index (AR10 bit 7 and AR14 supply
     * the high bits), masked by the PEL mask; 6-bit DAC values scaled
     * to 8 bits */
    uint8_t pal = v->attr[attr_color & 0x0F] & 0x3F;
    uint8_t idx;
    if (v->attr[0x10] & 0x80)
        idx = (uint8_t)((pal & 0x0F) | ((v->attr[0x14] & 0x0F) << 4));
    else
        idx = (uint8_t)(pal | ((v->attr[0x14] & 0x0C) << 4));
    idx &= v->pel_mask;
    uint32_t rgb = 0;
    for (int c = 0; c < 3; c++) {
        unsigned x = v->dac[idx][c];
        rgb = (rgb << 8) | ((x << 2) | (x >> 4));
    }
    return rgb;
}

void vga_clear_text(struct vga *v)
{
    uint8_t *text = phys_ram_ptr(&v->m->phys, 0xB8000);
    if (!text || !phys_ram_ptr(&v->m->phys, 0xBFFFF))
        return;
    for (unsigned i = 0; i < 0x8000; i += 2) {
        text[i] = ' ';
        text[i + 1] = 0x07;
    }
}

struct vga *vga_create(struct machine *m)
{
    struct vga *v = dev_zalloc(m, sizeof(*v));
    v->m = m;
    v->surface = dev_zalloc(m, sizeof(*v->surface));
    v->surface->pixels = dev_zalloc(m, sizeof(uint32_t) * VGA_MAX_WIDTH * VGA_MAX_HEIGHT);
    io_register(&m->io, 0x3B4, 2, "vga", v, vga_io_read, vga_io_write);
    io_register(&m->io, 0x3BA, 1, "vga", v, vga_io_read, vga_io_write);
    io_register(&m->io, 0x3C0, 16, "vga", v, vga_io_read, vga_io_write);
    io_register(&m->io, 0x3D4, 2, "vga", v, vga_io_read, vga_io_write);
    io_register(&m->io, 0x3DA, 1, "vga", v, vga_io_read, vga_io_write);
    bus_add_reset(&m->io, vga_reset, v);
    vga_reset(v);
    return v;
}

/* ---- snapshot (devices/snap.h) ---- */

static void vga_state(struct snap *s, struct machine *m)
{
    struct vga *v = m->vga;
    if (!v)
        return;
    snap_u8(s, &v->misc);
    snap_u8(s, &v->seq_index);
    snap_bytes(s, v->seq, sizeof(v->seq));
    snap_u8(s, &v->gc_index);
    snap_bytes(s, v->gc, sizeof(v->gc));
    snap_u8(s, &v->crtc_index);
    snap_bytes(s, v->crtc, sizeof(v->crtc));
    snap_u8(s, &v->attr_index);
    snap_bool(s, &v->attr_flipflop);
    snap_bytes(s, v->attr, sizeof(v->attr));
    snap_bytes(s, v->dac, sizeof(v->dac));
    snap_u8(s, &v->dac_write_index);
    snap_u8(s, &v->dac_read_index);
    snap_u8(s, &v->dac_component);
    snap_check(s, v->dac_component < 3, "VGA DAC component");
    snap_bool(s, &v->dac_reading);
    snap_u8(s, &v->pel_mask);
    snap_u8(s, &v->feature);
    snap_u8(s, &v->status_toggle);
    /* the picture is the host's: drawn again from the loaded state */
    if (s->loading)
        v->generation++;
}
SNAP_SECTION(vga, "vga", 1, vga_state)
