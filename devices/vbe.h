/* devices/vbe.h — the Bochs VBE "dispi" interface: a linear framebuffer
 * of VBE_VRAM_SIZE bytes at VBE_LFB_ADDR (where Bochs's ISA VBE puts
 * it) and the index/data registers at 0x1CE/0x1CF that set its mode, as
 * Bochs's and QEMU's VGA BIOSes and Linux's bochs DRM driver program
 * them (Bochs's vbe.h register list).  While enabled, the display
 * shows the framebuffer instead of the VGA's text screen.
 *
 * It is also PCI function 00:02.0, QEMU's "std" VGA: 1234:1111, class
 * 0x030000 (VGA-compatible), BAR0 the framebuffer (prefetchable
 * memory), BAR2 a 4-KiB MMIO window with the dispi registers and the
 * VGA's ports (below), which Linux's bochs DRM driver binds to.  With
 * no firmware to assign them, the BARs start at VBE_LFB_ADDR and
 * VBE_MMIO_ADDR (again after a reset); when the guest moves one with
 * memory decoding on (or turns decoding on), its window moves with it.
 *
 * Writes to the framebuffer mark its 4-KiB pages dirty; the picture
 * redraws only the rows those pages hold.
 */
#ifndef NEST86_DEVICES_VBE_H
#define NEST86_DEVICES_VBE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

struct machine;
struct vga_surface;

#define VBE_DISPI_IOPORT_INDEX 0x1CE
#define VBE_DISPI_IOPORT_DATA  0x1CF
#define VBE_LFB_ADDR  0xE0000000u   /* BAR0's address until the guest moves it */
#define VBE_MMIO_ADDR 0xE1000000u   /* BAR2's, just above the framebuffer */
#define VBE_MMIO_SIZE 0x1000u
/* the MMIO BAR's layout (QEMU's "stdvga" one, which Linux's bochs
 * driver uses when BAR2 is memory): the VGA's ports 0x3C0-0x3DF at
 * 0x400, dispi register i as 16 bits at 0x500 + 2 * i */
#define VBE_MMIO_VGA_PORTS 0x400u
#define VBE_MMIO_DISPI     0x500u
#define VBE_PCI_VENDOR 0x1234
#define VBE_PCI_DEVICE 0x1111
#define VBE_PCI_DEVFN  PCI_DEVFN(2, 0)
#define VBE_VRAM_SIZE (16u << 20)
#define VBE_VRAM_PAGES (VBE_VRAM_SIZE / 4096)

enum {
    VBE_DISPI_INDEX_ID, VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES, VBE_DISPI_INDEX_BPP,
    VBE_DISPI_INDEX_ENABLE, VBE_DISPI_INDEX_BANK, VBE_DISPI_INDEX_VIRT_WIDTH,
    VBE_DISPI_INDEX_VIRT_HEIGHT, VBE_DISPI_INDEX_X_OFFSET, VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K, VBE_DISPI_NUM_REGS
};

#define VBE_DISPI_ID5       0xB0C5
#define VBE_DISPI_ENABLED   0x01
#define VBE_DISPI_GETCAPS   0x02
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM  0x80
#define VBE_DISPI_MAX_XRES  1600
#define VBE_DISPI_MAX_YRES  1200

struct vbe {
    struct machine *m;
    uint16_t index;
    uint16_t regs[VBE_DISPI_NUM_REGS];
    uint8_t *vram;                     /* the framebuffer's host memory */
    uint8_t dirty[VBE_VRAM_PAGES / 8]; /* pages written since last drawn */
    bool mode_changed;                 /* everything is to be drawn again */
    struct pci_device *pci;            /* the PCI function (its BARs) */
    int lfb_region, mmio_region;       /* their windows in m->phys.regions */
};

struct vbe *vbe_create(struct machine *m);
/* Sets and enables a mode as a VGA BIOS's VBE call would (the boot
 * loaders, for a kernel that takes the framebuffer as it finds it). */
void vbe_set_mode(struct vbe *b, uint16_t xres, uint16_t yres, uint16_t bpp);
void vbe_reset(void *opaque);

static inline bool vbe_enabled(const struct vbe *b)
{
    return b && (b->regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED);
}

/* Draws the rows of the framebuffer that changed (or all of them after
 * a mode change or when 'full') into s; the VGA's DAC gives 8-bpp
 * colours. */
void vbe_update(struct vbe *b, struct vga_surface *s, const uint8_t (*dac)[3], bool full);

#endif
