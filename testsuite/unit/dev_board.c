/* testsuite/unit/dev_board.c — debug-exit/reset ports, i8042, PCI,
 * fw_cfg, ACPI PM and the whole pc_devices_create() set. */
#include "devices/acpipm.h"
#include "devices/fwcfg.h"
#include "devices/pc_devices.h"
#include "devices/pci.h"
#include "testsuite/unit/dev_stubs.h"

static void setup(void)
{
    test_board(256ull << 20, false);
    pc_devices_create(&test_m);
}

static uint32_t inl(uint16_t port) { return io_in(&test_m.io, port, 4); }
static void outl(uint16_t port, uint32_t v) { io_out(&test_m.io, port, v, 4); }
static uint16_t inw(uint16_t port) { return (uint16_t)io_in(&test_m.io, port, 2); }
static void outw(uint16_t port, uint16_t v) { io_out(&test_m.io, port, v, 2); }

static void debug_exit_port(void)
{
    setup();
    outb(0xF4, 0x00);
    UNIT_CHECK(test_stop == MACHINE_EXIT && test_exit_status == 1);
    outw(0xF4, 0x21);
    UNIT_CHECK(test_exit_status == 0x43 && test_stops == 2);
}

static void bochs_shutdown_port(void)
{
    setup();
    for (const char *s = "ShShutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    UNIT_CHECK(test_stops == 1 && test_stop == MACHINE_EXIT && test_exit_status == 0);
}

static void post_and_reset_control(void)
{
    setup();
    outb(0x80, 0xA5);
    UNIT_CHECK(inb(0x80) == 0xA5 && test_stops == 0);
    outb(0xCF9, 0x02);
    UNIT_CHECK(test_stops == 0 && inb(0xCF9) == 0x02);
    outb(0xCF9, 0x06);
    UNIT_CHECK(test_stops == 1 && test_stop == MACHINE_RESET);
}

/* Reads one byte from the controller, as a driver would after OBF. */
static int kbc_read(void)
{
    if (!(inb(0x64) & 0x01))
        return -1;
    return inb(0x60);
}

static void i8042_controller_commands(void)
{
    setup();
    outb(0x64, 0xAA);
    UNIT_CHECK(kbc_read() == 0x55);
    UNIT_CHECK(kbc_read() == -1);
    outb(0x64, 0xAB);
    UNIT_CHECK(kbc_read() == 0x00);
    outb(0x64, 0x20);
    UNIT_CHECK(kbc_read() == 0x45);
    outb(0x64, 0x60);
    outb(0x60, 0x44);
    outb(0x64, 0x20);
    UNIT_CHECK(kbc_read() == 0x44);
    UNIT_CHECK(inb(0x64) & 0x04);     /* system flag */
}

static void i8042_a20_and_reset(void)
{
    setup();
    UNIT_CHECK(test_m.phys.a20_enabled);
    outb(0x64, 0xD1);
    outb(0x60, 0xDD);                 /* A20 off, no reset */
    UNIT_CHECK(!test_m.phys.a20_enabled && test_a20_changes == 1);
    outb(0x64, 0xD0);
    UNIT_CHECK(kbc_read() == 0xDD);
    outb(0x92, 0x02);                 /* fast A20 */
    UNIT_CHECK(test_m.phys.a20_enabled && inb(0x92) == 0x02);
    UNIT_CHECK(test_stops == 0);
    outb(0x64, 0xFE);
    UNIT_CHECK(test_stops == 1 && test_stop == MACHINE_RESET);
    outb(0x92, 0x03);
    UNIT_CHECK(test_stops == 2);
}

static void i8042_keyboard(void)
{
    setup();
    test_m.pic->chip[0].irr = 0;
    outb(0x60, 0xFF);                 /* reset */
    UNIT_CHECK(test_m.pic->chip[0].irr & 0x02);
    UNIT_CHECK(kbc_read() == 0xFA && kbc_read() == 0xAA);
    outb(0x60, 0xF2);                 /* identify, translated */
    UNIT_CHECK(kbc_read() == 0xFA && kbc_read() == 0xAB && kbc_read() == 0x41);
    i8042_kbd_put(test_m.i8042, 0x1C);      /* 'A' make */
    i8042_kbd_put(test_m.i8042, 0xF0);
    i8042_kbd_put(test_m.i8042, 0x1C);      /* 'A' break */
    i8042_kbd_put(test_m.i8042, 0xE0);
    i8042_kbd_put(test_m.i8042, 0x75);      /* up arrow */
    UNIT_CHECK(kbc_read() == 0x1E && kbc_read() == 0x9E);
    UNIT_CHECK(kbc_read() == 0xE0 && kbc_read() == 0x48);
    outb(0x64, 0x60);
    outb(0x60, 0x05);                 /* translation off */
    i8042_kbd_put(test_m.i8042, 0x1C);
    UNIT_CHECK(kbc_read() == 0x1C);
    outb(0x64, 0xD4);
    outb(0x60, 0xF4);                 /* the mouse: ACK on the AUX side */
    UNIT_CHECK((inb(0x64) & 0x21) == 0x21 && inb(0x60) == 0xFA);
}

static uint32_t pci_read(int dev, int fn, int reg)
{
    outl(0xCF8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)reg);
    return inl(0xCFC);
}

static void pci_config_space(void)
{
    setup();
    outb(0xCFB, 0x01);
    outl(0xCF8, 0x80000000u);
    UNIT_CHECK(inl(0xCF8) == 0x80000000u);
    UNIT_CHECK(pci_read(0, 0, 0) == 0x12378086u);
    UNIT_CHECK(pci_read(0, 0, 8) >> 8 == 0x060000);
    UNIT_CHECK(pci_read(1, 0, 0) == 0x70008086u);
    UNIT_CHECK((pci_read(1, 0, 0x0C) >> 16 & 0xFF) == 0x80);
    UNIT_CHECK(pci_read(2, 0, 0) == 0x11111234u); /* the VBE */
    UNIT_CHECK(pci_read(4, 0, 0) == 0xFFFFFFFFu);
    UNIT_CHECK(pci_read(1, 1, 0) == 0xFFFFFFFFu);
    outl(0xCF8, 0x80010000u);         /* bus 1 */
    UNIT_CHECK(inl(0xCFC) == 0xFFFFFFFFu);
    outl(0xCF8, 0x80000800u | 0x60);
    UNIT_CHECK(inb(0xCFD) == 0x80);   /* PIRQB disabled */
    outb(0xCFD, 0x0B);
    UNIT_CHECK(pci_read(1, 0, 0x60) == 0x80800B80u);
}

static void pci_bar_probing(void)
{
    setup();
    struct pci_device *d = pci_register(test_m.pci, PCI_DEVFN(3, 0), 0x1234, 0x1111,
                                        0x030000, 1);
    UNIT_CHECK(d && !pci_register(test_m.pci, PCI_DEVFN(3, 0), 1, 1, 0, 0));
    pci_set_bar(d, 0, 0x1000000, PCI_BAR_MEM | PCI_BAR_PREFETCH);
    pci_set_bar(d, 1, 0x20, PCI_BAR_IO);
    outl(0xCF8, 0x80000000u | 3 << 11 | 0x10);
    outl(0xCFC, 0xFFFFFFFFu);
    UNIT_CHECK(inl(0xCFC) == 0xFF000008u);
    outl(0xCFC, 0xFD000000u);
    UNIT_CHECK(pci_bar_addr(d, 0) == 0xFD000000u);
    outl(0xCF8, 0x80000000u | 3 << 11 | 0x14);
    outl(0xCFC, 0xFFFFFFFFu);
    UNIT_CHECK(inl(0xCFC) == 0xFFFFFFE1u);
}

/* The VBE's function: VGA class, BAR0 the framebuffer, BAR2 the MMIO
 * registers, each window where its BAR says. */
static void vbe_pci_function(void)
{
    setup();
    struct phys *p = &test_m.phys;
    UNIT_CHECK(pci_read(2, 0, 8) >> 8 == 0x030000);
    UNIT_CHECK(pci_read(2, 0, 0x10) == 0xE0000008u);
    UNIT_CHECK(pci_read(2, 0, 0x18) == 0xE1000000u);
    outl(0xCFC, 0xFFFFFFFFu);            /* BAR2's size: 4 KiB */
    UNIT_CHECK(inl(0xCFC) == 0xFFFFF000u);
    outl(0xCFC, 0xE1000000u);
    outl(0xCF8, 0x80000000u | 2 << 11 | 0x10);
    outl(0xCFC, 0xFFFFFFFFu);            /* BAR0's: 16 MiB */
    UNIT_CHECK(inl(0xCFC) == 0xFF000008u);
    outl(0xCFC, 0xE0000000u);
    /* dispi register i at 0x500 + 2i: the ID, a resolution set there
     * and read back through the ports */
    UNIT_CHECK(phys_read(p, 0xE1000500, 2) == 0xB0C5);
    phys_write(p, 0xE1000502, 800, 2);
    outw(0x1CE, 1);
    UNIT_CHECK(inw(0x1CF) == 800);
    UNIT_CHECK(phys_read(p, 0xE1000514, 2) == 256); /* 16 MiB in 64 KiB */
    UNIT_CHECK(phys_read(p, 0xE1000600, 4) == 0);   /* no QEMU extensions */
    /* the VGA's ports at 0x400: the DAC's write index 0x3C8 */
    phys_write(p, 0xE1000408, 0x2A, 1);
    UNIT_CHECK(inb(0x3C8) == 0x2A);
    /* with memory decoding off (as while sizing), the windows stay */
    outl(0xCF8, 0x80000000u | 2 << 11 | 0x18);
    outl(0xCFC, 0xE2000000u);
    UNIT_CHECK(phys_read(p, 0xE1000500, 2) == 0xB0C5);
    UNIT_CHECK(phys_read(p, 0xE2000500, 2) == 0xFFFF);
    /* turned on, they go where the BARs say; then they follow */
    outl(0xCF8, 0x80000000u | 2 << 11 | 0x04);
    outw(0xCFC, PCI_COMMAND_MEMORY);
    UNIT_CHECK(phys_read(p, 0xE2000500, 2) == 0xB0C5);
    UNIT_CHECK(phys_read(p, 0xE1000500, 2) == 0xFFFF);
    outl(0xCF8, 0x80000000u | 2 << 11 | 0x10);
    outl(0xCFC, 0xD0000000u);
    phys_write(p, 0xD0000010, 0x12345678, 4);
    UNIT_CHECK(phys_read(p, 0xD0000010, 4) == 0x12345678);
    UNIT_CHECK(phys_read(p, 0xE0000010, 4) == 0xFFFFFFFFu);
    /* a reset puts them back */
    bus_reset_all(&test_m.io);
    UNIT_CHECK(pci_read(2, 0, 0x18) == 0xE1000000u);
    UNIT_CHECK(phys_read(p, 0xE1000500, 2) == 0xB0C5);
    UNIT_CHECK(phys_read(p, 0xE0000010, 4) == 0x12345678);
}

static void fwcfg_items(void)
{
    setup();
    char sig[5] = { 0 };
    outw(0x510, FW_CFG_SIGNATURE);
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(0x511);
    UNIT_CHECK(!strcmp(sig, "QEMU"));
    outw(0x510, FW_CFG_ID);
    UNIT_CHECK(inb(0x511) == 1);
    outw(0x510, FW_CFG_RAM_SIZE);
    uint64_t ram = 0;
    for (int i = 0; i < 8; i++)
        ram |= (uint64_t)inb(0x511) << (8 * i);
    UNIT_CHECK(ram == 256ull << 20);
    outw(0x510, FW_CFG_NB_CPUS);
    UNIT_CHECK(inb(0x511) == 1 && inb(0x511) == 0 && inb(0x511) == 0);
}

static void fwcfg_file_directory(void)
{
    setup();
    UNIT_CHECK(fwcfg_add_file(test_m.fwcfg, "etc/zeta", "zz", 2) == FW_CFG_FILE_FIRST);
    UNIT_CHECK(fwcfg_add_file(test_m.fwcfg, "etc/alpha", "abc", 3) == FW_CFG_FILE_FIRST + 1);
    outw(0x510, FW_CFG_FILE_DIR);
    uint8_t dir[4 + 2 * 64];
    for (size_t i = 0; i < sizeof(dir); i++)
        dir[i] = inb(0x511);
    UNIT_CHECK(dir[0] == 0 && dir[3] == 2);
    /* sorted by name: etc/alpha first, big-endian size and key */
    UNIT_CHECK(dir[4 + 3] == 3 && dir[4 + 4] == 0 && dir[4 + 5] == FW_CFG_FILE_FIRST + 1);
    UNIT_CHECK(!strcmp((char *)dir + 4 + 8, "etc/alpha"));
    UNIT_CHECK(!strcmp((char *)dir + 4 + 64 + 8, "etc/zeta"));
    outw(0x510, FW_CFG_FILE_FIRST + 1);
    UNIT_CHECK(inb(0x511) == 'a' && inb(0x511) == 'b' && inb(0x511) == 'c');
    UNIT_CHECK(inb(0x511) == 0);
}

static void acpi_pm_timer_and_poweroff(void)
{
    setup();
    uint32_t t0 = inl(ACPIPM_PM_TMR_BLK);
    test_now += 1000000;              /* 1 ms = 3579.545 ticks */
    uint32_t t1 = inl(ACPIPM_PM_TMR_BLK);
    UNIT_CHECKF(t1 - t0 == 3579 || t1 - t0 == 3580, "delta %u", t1 - t0);
    UNIT_CHECK(inw(ACPIPM_PM1A_CNT_BLK) & ACPIPM_SCI_EN);
    /* SLP_TYP 5 (S3 on ICH9) is no state the DSDT offers: ignored, no wake */
    outw(ACPIPM_PM1A_CNT_BLK, ACPIPM_SCI_EN | 5 << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN);
    UNIT_CHECK(test_stops == 0 && !(inw(ACPIPM_PM1A_EVT_BLK) & ACPIPM_WAK_STS));
    UNIT_CHECK(inw(ACPIPM_PM1A_CNT_BLK) == (ACPIPM_SCI_EN | 5 << ACPIPM_SLP_TYP_SHIFT));
    outw(ACPIPM_PM1A_CNT_BLK,
         ACPIPM_SCI_EN | ACPIPM_SLP_TYP_S5 << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN);
    UNIT_CHECK(test_stops == 1 && test_stop == MACHINE_EXIT && test_exit_status == 0);
}

static void acpi_sci_on_timer_overflow(void)
{
    setup();
    outb(0x4D1, 0x02);                /* SCI (IRQ9) level-triggered */
    outw(ACPIPM_PM1A_EVT_BLK + 2, ACPIPM_TMR_STS);
    test_advance(2400000000ull, 10000000ull); /* 2^23 ticks = 2.34 s */
    UNIT_CHECK(inw(ACPIPM_PM1A_EVT_BLK) & ACPIPM_TMR_STS);
    UNIT_CHECK(test_m.pic->chip[1].irr & 0x02);
    outw(ACPIPM_PM1A_EVT_BLK, ACPIPM_TMR_STS);
    UNIT_CHECK(!(test_m.pic->chip[1].irr & 0x02));
}

static void board_reset_keeps_devices_sane(void)
{
    setup();
    bus_reset_all(&test_m.io);
    UNIT_CHECK(!test_intr);
    UNIT_CHECK(inb(0x3F8 + 5) == 0x60);
    UNIT_CHECK(test_m.phys.a20_enabled);
    UNIT_CHECK(inb(0x1234) == 0xFF);
}

int main(void)
{
    UNIT_RUN(debug_exit_port);
    UNIT_RUN(bochs_shutdown_port);
    UNIT_RUN(post_and_reset_control);
    UNIT_RUN(i8042_controller_commands);
    UNIT_RUN(i8042_a20_and_reset);
    UNIT_RUN(i8042_keyboard);
    UNIT_RUN(pci_config_space);
    UNIT_RUN(pci_bar_probing);
    UNIT_RUN(vbe_pci_function);
    UNIT_RUN(fwcfg_items);
    UNIT_RUN(fwcfg_file_directory);
    UNIT_RUN(acpi_pm_timer_and_poweroff);
    UNIT_RUN(acpi_sci_on_timer_overflow);
    UNIT_RUN(board_reset_keeps_devices_sane);
    return unit_done();
}
