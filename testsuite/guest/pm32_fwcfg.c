/*
 * pm32_fwcfg: the QEMU-compatible fw_cfg interface (selector port 0x510,
 * 16-bit; data port 0x511, 8-bit) as firmware and test kernels use it:
 * the "QEMU" signature, the interface ID (1: no DMA), the RAM size
 * (little-endian 64-bit: the -m size, 128 MiB by default), the CPU count
 * and maximum, NOGRAPHIC, and the file directory (big-endian; empty on
 * nest86, whose board adds no files).  Multiboot boot, serial
 * output and the debug-exit status come along with every guest test.
 */
#include "rt.h"

#define FW_SEL 0x510
#define FW_DATA 0x511

static void fw_select(uint16_t key)
{
    outw(FW_SEL, key);
}

static uint64_t fw_read_le(unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)inb(FW_DATA) << (8 * k);
    return v;
}

static void test_signature_and_id(void)
{
    fw_select(0x0000); /* FW_CFG_SIGNATURE */
    char sig[5] = {0};
    for (int k = 0; k < 4; k++)
        sig[k] = (char)inb(FW_DATA);
    ASSERT_STREQ(sig, "QEMU");
    fw_select(0x0001); /* FW_CFG_ID: bit 0 = traditional interface, bit 1 = DMA */
    uint64_t id = fw_read_le(4);
    ASSERT_EQ(id & 1, 1);
    if (!rt_cmdline_has("qemu-tcg"))
        ASSERT_EQ(id, 1); /* nest86 has no DMA interface (QEMU does: 3) */
}

static void test_ram_and_cpus(void)
{
    fw_select(0x0003); /* FW_CFG_RAM_SIZE */
    ASSERT_EQ(fw_read_le(8), 128ull << 20);
    fw_select(0x0005); /* FW_CFG_NB_CPUS */
    ASSERT_EQ(fw_read_le(2), 1);
}

static void test_reads_past_the_end(void)
{
    fw_select(0x0005); /* a 2-byte item: further reads give 0 */
    fw_read_le(2);
    ASSERT_EQ(inb(FW_DATA), 0);
    fw_select(0x7fff); /* no such item: reads give 0 */
    ASSERT_EQ(inb(FW_DATA), 0);
}

static uint32_t fw_read_be(unsigned n)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v = v << 8 | inb(FW_DATA);
    return v;
}

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 select,
 * be16 reserved, char name[56], sorted by name (QEMU docs/specs/fw_cfg).
 * nest86's board registers no files (devices/fwcfg.c: only the fixed
 * items above), so its directory is empty: count 0 and nothing under
 * the first file selector 0x20. QEMU has several; their entries must
 * parse: selectors from 0x20, NUL-terminated names in ascending order. */
static void test_file_directory(void)
{
    fw_select(0x0019);
    uint32_t count = fw_read_be(4);
    if (!rt_cmdline_has("qemu-tcg")) {
        ASSERT_EQ(count, 0);
        fw_select(0x0020); /* FW_CFG_FILE_FIRST: no file there */
        ASSERT_EQ(fw_read_le(4), 0);
        return;
    }
    ASSERT(count > 0 && count < 64);
    static char names[64][56];
    for (uint32_t k = 0; k < count; k++) {
        fw_read_be(4); /* size */
        uint32_t sel = fw_read_be(2);
        fw_read_be(2);
        for (int c = 0; c < 56; c++)
            names[k][c] = (char)inb(FW_DATA);
        ASSERT(sel >= 0x20);
        ASSERT(names[k][0] != 0 && names[k][55] == 0);
        if (k > 0)
            ASSERT(strcmp(names[k - 1], names[k]) < 0);
    }
    rt_printf("# qemu-tcg: %u fw_cfg files, first %s\n", count, names[0]);
}

/* the remaining fixed items nest86 sets (devices/fwcfg.c) */
static void test_max_cpus_and_nographic(void)
{
    if (rt_cmdline_has("qemu-tcg"))
        return;
    fw_select(0x000f); /* FW_CFG_MAX_CPUS */
    ASSERT_EQ(fw_read_le(2), 1);
    fw_select(0x0004); /* FW_CFG_NOGRAPHIC */
    ASSERT_EQ(fw_read_le(2), 0);
}

void test_main(void)
{
    RUN_TEST(test_signature_and_id);
    RUN_TEST(test_ram_and_cpus);
    RUN_TEST(test_reads_past_the_end);
    RUN_TEST(test_file_directory);
    RUN_TEST(test_max_cpus_and_nographic);
}
