/*
 * pm32_fwcfg: the QEMU-compatible fw_cfg interface (selector port 0x510,
 * 16-bit; data port 0x511, 8-bit) as firmware and test kernels use it:
 * the "QEMU" signature, the interface ID (1: no DMA), the RAM size
 * (little-endian 64-bit: the -m size, 128 MiB by default), the CPU count,
 * and the file directory (a big-endian count).  Multiboot boot, serial
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

static void test_file_directory(void)
{
    fw_select(0x0019); /* FW_CFG_FILE_DIR: u32 count, big-endian, then entries */
    uint32_t count = 0;
    for (int k = 0; k < 4; k++)
        count = count << 8 | inb(FW_DATA);
    ASSERT(count < 64); /* a sane, readable directory */
}

void test_main(void)
{
    RUN_TEST(test_signature_and_id);
    RUN_TEST(test_ram_and_cpus);
    RUN_TEST(test_reads_past_the_end);
    RUN_TEST(test_file_directory);
}
