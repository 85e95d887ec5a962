/* devices/boot.h — loading a guest kernel into the board. */
#ifndef NEST86_DEVICES_BOOT_H
#define NEST86_DEVICES_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;

/* Bytes of a kernel file, mapped or read into memory. */
struct boot_image {
    const char *path;
    uint8_t *data;
    size_t size;
    size_t mapped; /* bytes mapped from the file; 0: data was allocated */
};

/* A whole file: a regular file is mapped (private, so the loaders may
 * patch their copy), anything else read; -1 with a message in err.
 * Release with boot_free_image(). */
int boot_read_file(const char *path, struct boot_image *img, char *err, size_t errlen);
void boot_free_image(struct boot_image *img);

/* Multiboot 1 (the Multiboot Specification 0.6.96): returns 1 if the image
 * has no Multiboot header, 0 when loaded (CPU state set for entry), or
 * -1 with a message in err for a broken image. */
int multiboot_load(struct machine *m, const struct boot_image *img, char *err, size_t errlen);

/* Entry state both loaders hand over: a GDT at gdt_at with flat 4 GiB
 * code at selector cs and data at ds, all segment registers loaded from
 * them, protected mode with paging and interrupts off, A20 on, general
 * registers zero, RIP = entry. */
/* The part of every loader's entry state after CR0 and CS are set: flat
 * data segments with selector ds, RFLAGS = 2 (interrupts off), general
 * registers zero, RIP = entry, A20 on; TLB flushed, mode recomputed. */
void boot_commit_entry(struct machine *m, uint16_t ds, uint64_t entry);

void boot_enter_flat32(struct machine *m, uint32_t gdt_at, uint16_t cs, uint16_t ds,
                       uint32_t entry);

/* The 64-bit entry state (the Linux 64-bit boot protocol): the same GDT
 * shape but cs a 64-bit code segment, 4-level page tables at pt_at
 * (BOOT_LONG64_PT_SIZE bytes: PML4, PDPT, four directories of 2 MiB
 * pages) identity-mapping the first 4 GiB, CR3 = pt_at, CR4.PAE,
 * EFER.LME|LMA, CR0.PE|PG, 64-bit mode, interrupts off, A20 on, general
 * registers zero, RIP = entry. */
#define BOOT_LONG64_PT_SIZE 0x6000u
void boot_enter_long64(struct machine *m, uint32_t gdt_at, uint32_t pt_at, uint16_t cs,
                       uint16_t ds, uint64_t entry);

/* Linux/x86 boot protocol 2.06+ (bzImage; the 64-bit entry when the
 * kernel sets XLF_KERNEL_64 and the CPU has long mode, else the 32-bit
 * entry): returns 1 if the image has no "HdrS" setup header, 0 when
 * loaded (with -initrd and -append; CPU state set for entry), or -1 with
 * a message in err. */
int linux_load(struct machine *m, const struct boot_image *img, char *err, size_t errlen);

/* The e820-style map shared by every boot protocol: fills up to max
 * entries (base, length, type 1 = RAM, 2 = reserved, 3 = ACPI
 * reclaimable: the tables of devices/acpi.h) and returns the count. */
struct boot_mem_range {
    uint64_t base, length;
    uint32_t type;
};
int boot_memory_map(const struct machine *m, struct boot_mem_range *out, int max);

#endif
