/* devices/fwcfg.c — QEMU fw_cfg, traditional (port) interface.
 *
 * Selecting a key rewinds the data offset; each data read returns the
 * next byte of the item, and 0 past its end or for a key with no item.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/fwcfg.h"
#include "devices/machine.h"
#include "devices/snap.h"
#include "mmu/hostmem.h"

#define FW_CFG_ID_TRADITIONAL 0x01 /* bit 1 (DMA) stays clear */

/* An item's bytes.  The kernel and initrd items are megabytes that the
 * loader copies in at once: from malloc they are 4 KiB host pages, each
 * a page fault of its own (the KVM scenario's 20 MB were 5,000 of its
 * 7,900 faults, about 11 us each on this machine's host); from
 * host_ram_alloc they are a few huge pages. */
#define ITEM_BIG (1u << 20)

static uint8_t *item_alloc(uint32_t len)
{
    return len >= ITEM_BIG ? host_ram_alloc(len) : malloc(len ? len : 1);
}

static void item_free(uint8_t *data, uint32_t len)
{
    if (data && len >= ITEM_BIG)
        host_ram_free(data, len);
    else
        free(data);
}

const struct fwcfg_item *fwcfg_find(const struct fwcfg *f, uint16_t key)
{
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            return &f->items[i];
    return NULL;
}

void fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, size_t len)
{
    struct fwcfg_item *it = (struct fwcfg_item *)fwcfg_find(f, key);
    if (!it) {
        if (f->nitems == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 32;
            f->items = realloc(f->items, (size_t)f->cap * sizeof(*f->items));
            if (!f->items)
                abort();
        }
        it = &f->items[f->nitems++];
        it->key = key;
        it->data = NULL;
        it->len = 0;
    }
    item_free(it->data, it->len);
    it->data = item_alloc((uint32_t)len);
    if (!it->data)
        abort();
    if (len)
        memcpy(it->data, data, len);
    it->len = (uint32_t)len;
}

static void add_le(struct fwcfg *f, uint16_t key, uint64_t value, unsigned size)
{
    uint8_t b[8];
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    fwcfg_add_bytes(f, key, b, size);
}

void fwcfg_add_u16(struct fwcfg *f, uint16_t key, uint16_t value)
{
    add_le(f, key, value, 2);
}

void fwcfg_add_u32(struct fwcfg *f, uint16_t key, uint32_t value)
{
    add_le(f, key, value, 4);
}

void fwcfg_add_u64(struct fwcfg *f, uint16_t key, uint64_t value)
{
    add_le(f, key, value, 8);
}

static void put_be(uint8_t *p, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
}

static int cmp_names(const void *a, const void *b)
{
    return strncmp((const char *)a + 8, (const char *)b + 8, FW_CFG_MAX_FILE_PATH);
}

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 select,
 * be16 reserved, char name[56]; sorted by name. */
static void rebuild_dir(struct fwcfg *f)
{
    enum { ENTRY = 8 + FW_CFG_MAX_FILE_PATH };
    size_t len = 4 + (size_t)f->nfiles * ENTRY;
    uint8_t *dir = calloc(1, len); /* scratch: fwcfg_add_bytes() copies it */
    if (!dir)
        abort();
    put_be(dir, 4, (uint32_t)f->nfiles);
    for (int i = 0; i < f->nfiles; i++) {
        uint8_t *e = dir + 4 + (size_t)i * ENTRY;
        uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
        const struct fwcfg_item *it = fwcfg_find(f, key);
        put_be(e, 4, it ? it->len : 0);
        put_be(e + 4, 2, key);
        memcpy(e + 8, f->file_names[i], FW_CFG_MAX_FILE_PATH);
    }
    qsort(dir + 4, (size_t)f->nfiles, ENTRY, cmp_names);
    fwcfg_add_bytes(f, FW_CFG_FILE_DIR, dir, len);
    free(dir);
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, size_t len)
{
    if (strlen(name) >= FW_CFG_MAX_FILE_PATH)
        return -1;
    int i;
    for (i = 0; i < f->nfiles; i++)
        if (!strcmp(f->file_names[i], name))
            break;
    if (i == f->nfiles) {
        if (f->nfiles == FWCFG_MAX_FILES)
            return -1;
        memset(f->file_names[i], 0, FW_CFG_MAX_FILE_PATH);
        strcpy(f->file_names[i], name);
        f->nfiles++;
    }
    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
    fwcfg_add_bytes(f, key, data, len);
    rebuild_dir(f);
    return key;
}

static uint32_t fwcfg_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct fwcfg *f = opaque;
    if (port != FWCFG_PORT_DATA)
        return 0xFFFFFFFFu; /* the selector is write-only */
    const struct fwcfg_item *it = fwcfg_find(f, f->selector & ~FW_CFG_WRITE_CHANNEL);
    if (!it || f->offset >= it->len)
        return 0;
    return it->data[f->offset++];
}

static void fwcfg_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct fwcfg *f = opaque;
    if (port == FWCFG_PORT_SEL) {
        f->selector = (uint16_t)value;
        f->offset = 0;
    }
    /* Data port writes (the old write channel) are ignored. */
}

void fwcfg_reset(void *opaque)
{
    struct fwcfg *f = opaque;
    f->selector = 0;
    f->offset = 0;
}

void fwcfg_destroy(struct fwcfg *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->nitems; i++)
        item_free(f->items[i].data, f->items[i].len);
    free(f->items);
    f->items = NULL;
    f->nitems = f->cap = 0;
}

struct fwcfg *fwcfg_create(struct machine *m)
{
    struct fwcfg *f = dev_zalloc(m, sizeof(*f));
    f->m = m;
    fwcfg_add_bytes(f, FW_CFG_SIGNATURE, "QEMU", 4);
    fwcfg_add_u32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL);
    fwcfg_add_u16(f, FW_CFG_NB_CPUS, 1);
    fwcfg_add_u16(f, FW_CFG_MAX_CPUS, 1);
    fwcfg_add_u64(f, FW_CFG_RAM_SIZE, m->phys.ram_size);
    fwcfg_add_u16(f, FW_CFG_NOGRAPHIC, 0);
    rebuild_dir(f);
    io_register(&m->io, FWCFG_PORT_SEL, 2, "fw_cfg", f, fwcfg_read, fwcfg_write);
    bus_add_reset(&m->io, fwcfg_reset, f);
    return f;
}

/* Every item, the kernel's and initrd's copies included: the guest may
 * read them again after a load, and a machine resumed with -loadvm has
 * loaded no kernel of its own.  Items are read into new storage and
 * replace the old ones only when the whole section is sound. */
static void fwcfg_state(struct snap *s, struct machine *m)
{
    struct fwcfg *f = m->fwcfg;
    snap_u16(s, &f->selector);
    snap_u32(s, &f->offset);
    int nfiles = f->nfiles;
    snap_int(s, &nfiles);
    snap_check(s, nfiles >= 0 && nfiles <= FWCFG_MAX_FILES, "fw_cfg file count");
    if (s->failed)
        return;
    if (!s->loading) {
        snap_bytes(s, f->file_names, (size_t)nfiles * FW_CFG_MAX_FILE_PATH);
        snap_int(s, &f->nitems);
        for (int i = 0; i < f->nitems; i++) {
            snap_u16(s, &f->items[i].key);
            snap_u32(s, &f->items[i].len);
            snap_bytes(s, f->items[i].data, f->items[i].len);
        }
        return;
    }
    char names[FWCFG_MAX_FILES][FW_CFG_MAX_FILE_PATH] = {{0}};
    snap_bytes(s, names, (size_t)nfiles * FW_CFG_MAX_FILE_PATH);
    int nitems = 0;
    snap_int(s, &nitems);
    /* each item takes at least 6 bytes of the section */
    snap_check(s, nitems >= 0 && (size_t)nitems <= (s->len - s->pos) / 6, "fw_cfg item count");
    if (s->failed)
        return;
    struct fwcfg_item *items = calloc((size_t)nitems + 1, sizeof(*items));
    if (!items) {
        snap_fail(s, "out of memory");
        return;
    }
    int got = 0;
    for (; got < nitems && !s->failed; got++) {
        struct fwcfg_item *it = &items[got];
        snap_u16(s, &it->key);
        snap_u32(s, &it->len);
        snap_check(s, it->len <= s->len - s->pos, "fw_cfg item length");
        if (s->failed)
            break;
        it->data = item_alloc(it->len);
        if (!it->data) {
            snap_fail(s, "out of memory");
            break;
        }
        snap_bytes(s, it->data, it->len);
    }
    if (s->failed) {
        for (int i = 0; i <= got && i < nitems; i++)
            item_free(items[i].data, items[i].len);
        free(items);
        return;
    }
    fwcfg_destroy(f);
    f->items = items;
    f->nitems = f->cap = nitems;
    f->nfiles = nfiles;
    memcpy(f->file_names, names, sizeof(names));
    for (int i = 0; i < nfiles; i++)
        f->file_names[i][FW_CFG_MAX_FILE_PATH - 1] = 0;
}
SNAP_SECTION(fwcfg, "fwcfg", 1, fwcfg_state)
