/* devices/fwcfg.h — QEMU firmware configuration interface, port
 * flavour: 16-bit selector at 0x510, 8-bit data at 0x511 (no DMA).
 *
 * Numeric items are little-endian; the file directory is big-endian,
 * as the fw_cfg ABI specifies.
 */
#ifndef NEST86_DEVICES_FWCFG_H
#define NEST86_DEVICES_FWCFG_H

#include <stddef.h>
#include <stdint.h>

struct machine;

#define FWCFG_PORT_SEL  0x510
#define FWCFG_PORT_DATA 0x511

/* Selector keys of the well-known items (fw_cfg ABI). */
#define FW_CFG_SIGNATURE      0x00
#define FW_CFG_ID             0x01
#define FW_CFG_UUID           0x02
#define FW_CFG_RAM_SIZE       0x03
#define FW_CFG_NOGRAPHIC      0x04
#define FW_CFG_NB_CPUS        0x05
#define FW_CFG_MACHINE_ID     0x06
#define FW_CFG_KERNEL_ADDR    0x07
#define FW_CFG_KERNEL_SIZE    0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR    0x0a
#define FW_CFG_INITRD_SIZE    0x0b
#define FW_CFG_BOOT_DEVICE    0x0c
#define FW_CFG_NUMA           0x0d
#define FW_CFG_BOOT_MENU      0x0e
#define FW_CFG_MAX_CPUS       0x0f
#define FW_CFG_KERNEL_ENTRY   0x10
#define FW_CFG_KERNEL_DATA    0x11
#define FW_CFG_INITRD_DATA    0x12
#define FW_CFG_CMDLINE_ADDR   0x13
#define FW_CFG_CMDLINE_SIZE   0x14
#define FW_CFG_CMDLINE_DATA   0x15
#define FW_CFG_SETUP_ADDR     0x16
#define FW_CFG_SETUP_SIZE     0x17
#define FW_CFG_SETUP_DATA     0x18
#define FW_CFG_FILE_DIR       0x19
#define FW_CFG_FILE_FIRST     0x20
#define FW_CFG_WRITE_CHANNEL  0x4000
#define FW_CFG_ARCH_LOCAL     0x8000
#define FW_CFG_MAX_FILE_PATH  56

#define FWCFG_MAX_FILES 64

struct fwcfg_item {
    uint16_t key;
    uint8_t *data; /* owned copy */
    uint32_t len;
};

struct fwcfg {
    struct machine *m;
    struct fwcfg_item *items;
    int nitems, cap;
    int nfiles;
    char file_names[FWCFG_MAX_FILES][FW_CFG_MAX_FILE_PATH];
    uint16_t selector;
    uint32_t offset;
};

/* Creates the device with SIGNATURE, ID, NB_CPUS, MAX_CPUS, RAM_SIZE
 * (from m->phys) and an empty file directory. */
struct fwcfg *fwcfg_create(struct machine *m);
/* Frees the items (the struct itself belongs to the machine). */
void fwcfg_destroy(struct fwcfg *f);
void fwcfg_reset(void *opaque);

/* Add or replace an item (the data is copied). */
void fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, size_t len);
void fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t value);
void fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t value);
void fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t value);
/* Add or replace a named file; returns its selector key, or -1 when the
 * name is too long or the directory is full. */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, size_t len);

/* The item behind a key, or NULL (for tests and the debugger). */
const struct fwcfg_item *fwcfg_find(const struct fwcfg *f, uint16_t key);

#endif
