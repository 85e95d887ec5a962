/* devices/pci.h — PCI host bridge with configuration mechanism 1
 * (0xCF8 address, 0xCFC-0xCFF data) and bus 0.
 *
 * Board devices: 00.0 host bridge (8086:1237, 440FX-like) and 01.0
 * PCI-to-ISA bridge (8086:7000, PIIX3-like, PIRQ routing at 0x60-0x63).
 * Later devices register with pci_register() and describe their BARs
 * with pci_set_bar(); config space then behaves as hardware does,
 * including BAR size probing, and an optional hook sees every write.
 */
#ifndef NEST86_DEVICES_PCI_H
#define NEST86_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define PCI_CONFIG_ADDR 0xCF8
#define PCI_CONFIG_DATA 0xCFC

#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) << 3) | (fn)))

/* Standard type-0 header offsets */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2C
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004

/* pci_set_bar() flags: the low bits of the BAR itself */
#define PCI_BAR_MEM        0x0
#define PCI_BAR_IO         0x1
#define PCI_BAR_PREFETCH   0x8

/* ISA bridge PIRQA-D route control registers (PIIX3 0x60-0x63):
 * bit 7 set = disabled, else the ISA IRQ in bits 3:0. */
#define PCI_PIIX_PIRQRC    0x60

struct pci_device;
typedef void (*pci_config_hook)(struct pci_device *d, void *opaque, unsigned offset,
                                unsigned size);

struct pci_device {
    uint8_t devfn;
    uint8_t config[256];
    uint8_t wmask[256];   /* bits the guest may write */
    uint8_t w1cmask[256]; /* bits a guest write of 1 clears */
    pci_config_hook hook; /* after every guest write (and a snapshot's
                           * load, as offset 0, size 256); may be NULL */
    void *opaque;
};

struct pcihost {
    struct machine *m;
    uint32_t addr;               /* 0xCF8 */
    struct pci_device *dev[256]; /* bus 0, by devfn */
    struct pci_device *host_bridge, *isa_bridge;
};

struct pcihost *pci_create(struct machine *m);
void pci_reset(void *opaque);

/* Adds a function to bus 0; returns NULL when devfn is taken.
 * 'class_code' is the 24-bit class/subclass/prog-if. */
struct pci_device *pci_register(struct pcihost *h, uint8_t devfn, uint16_t vendor,
                                uint16_t device, uint32_t class_code, uint8_t revision);
void pci_set_hook(struct pci_device *d, pci_config_hook hook, void *opaque);
/* BAR 'bar' (0-5) decodes 'size' bytes (a power of two; I/O >= 4,
 * memory >= 16). */
void pci_set_bar(struct pci_device *d, int bar, uint32_t size, unsigned flags);
/* Current base address of a BAR (flag bits stripped). */
uint32_t pci_bar_addr(const struct pci_device *d, int bar);
/* Interrupt pin 1-4 (INTA-INTD), 0 for none. */
void pci_set_irq_pin(struct pci_device *d, uint8_t pin);

/* Config space accessors (the guest's path and the board's). */
uint32_t pci_config_read(const struct pci_device *d, unsigned offset, unsigned size);
void pci_config_write(struct pci_device *d, unsigned offset, uint32_t value, unsigned size);

#endif
