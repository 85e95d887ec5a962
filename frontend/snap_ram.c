/* frontend/snap_ram.c — guest RAM in a snapshot.
 *
 * RAM goes in chunks of SNAP_RAM_CHUNK_PAGES pages: a 64-bit map of
 * the chunk's pages that hold anything but zeros, then (when the map is
 * not empty) the deflated bytes of those pages, length first.  A booted
 * Linux leaves most of its RAM untouched, so most chunks cost 8 bytes
 * and no compression work; deflate runs at its fastest level because a
 * save should take a moment, not a coffee.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "frontend/snapshot.h"

#define PAGE 4096u
#define CHUNK_BYTES ((size_t)SNAP_RAM_CHUNK_PAGES * PAGE)

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    uint64_t acc = 0;
    /* OR in blocks, so the loop vectorises and stops early on data */
    for (unsigned k = 0; k < PAGE / 8; k += 64) {
        for (unsigned j = 0; j < 64; j++)
            acc |= w[k + j];
        if (acc)
            return false;
    }
    return true;
}

struct outbuf {
    uint8_t *p;
    size_t len, cap;
};

static int reserve(struct outbuf *o, size_t n)
{
    if (n <= o->cap - o->len)
        return 0;
    size_t cap = o->cap ? o->cap : (1u << 20);
    while (n > cap - o->len)
        cap *= 2;
    uint8_t *p = realloc(o->p, cap);
    if (!p)
        return -1;
    o->p = p;
    o->cap = cap;
    return 0;
}

static void put(struct outbuf *o, const void *v, size_t n)
{
    memcpy(o->p + o->len, v, n);
    o->len += n;
}

int snap_ram_encode(const uint8_t *ram, uint64_t ram_size, uint8_t **out, size_t *outlen)
{
    struct outbuf o = {0};
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit(&z, Z_BEST_SPEED) != Z_OK)
        return -1;
    uint8_t *pages = malloc(CHUNK_BYTES);
    int rc = pages ? 0 : -1;
    uint64_t npages = ram_size / PAGE;
    for (uint64_t first = 0; first < npages && !rc; first += SNAP_RAM_CHUNK_PAGES) {
        uint64_t n = npages - first < SNAP_RAM_CHUNK_PAGES ? npages - first : SNAP_RAM_CHUNK_PAGES;
        uint64_t map = 0;
        size_t used = 0;
        for (uint64_t k = 0; k < n; k++) {
            const uint8_t *pg = ram + (first + k) * PAGE;
            if (page_is_zero(pg))
                continue;
            map |= 1ull << k;
            memcpy(pages + used, pg, PAGE);
            used += PAGE;
        }
        uLong bound = deflateBound(&z, used);
        if (reserve(&o, 12 + bound)) {
            rc = -1;
            break;
        }
        put(&o, &map, 8);
        if (!map)
            continue;
        deflateReset(&z);
        z.next_in = pages;
        z.avail_in = (uInt)used;
        z.next_out = o.p + o.len + 4;
        z.avail_out = (uInt)bound;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
            rc = -1;
            break;
        }
        uint32_t clen = (uint32_t)z.total_out;
        put(&o, &clen, 4);
        o.len += clen;
    }
    deflateEnd(&z);
    free(pages);
    if (rc) {
        free(o.p);
        return -1;
    }
    *out = o.p;
    *outlen = o.len;
    return 0;
}

const char *snap_ram_decode(const uint8_t *in, size_t inlen, uint8_t *ram, uint64_t ram_size)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return "out of memory";
    uint8_t *pages = malloc(CHUNK_BYTES);
    const char *bad = pages ? NULL : "out of memory";
    size_t pos = 0;
    uint64_t npages = ram_size / PAGE;
    for (uint64_t first = 0; first < npages && !bad; first += SNAP_RAM_CHUNK_PAGES) {
        uint64_t n = npages - first < SNAP_RAM_CHUNK_PAGES ? npages - first : SNAP_RAM_CHUNK_PAGES;
        uint64_t map;
        if (inlen - pos < 8) {
            bad = "RAM data ends early";
            break;
        }
        memcpy(&map, in + pos, 8);
        pos += 8;
        if (n < 64 && (map >> n)) {
            bad = "RAM page map names pages past the end of RAM";
            break;
        }
        if (!map)
            continue;
        uint32_t clen;
        if (inlen - pos < 4) {
            bad = "RAM data ends early";
            break;
        }
        memcpy(&clen, in + pos, 4);
        pos += 4;
        if (clen > inlen - pos) {
            bad = "RAM data ends early";
            break;
        }
        size_t want = (size_t)__builtin_popcountll(map) * PAGE;
        inflateReset(&z);
        z.next_in = (uint8_t *)(uintptr_t)(in + pos);
        z.avail_in = clen;
        z.next_out = pages;
        z.avail_out = (uInt)want;
        int zr = inflate(&z, Z_FINISH);
        if (zr != Z_STREAM_END || z.total_out != want || z.avail_in != 0) {
            bad = "RAM data does not inflate to its pages";
            break;
        }
        pos += clen;
        size_t used = 0;
        for (uint64_t k = 0; k < n; k++)
            if ((map >> k) & 1) {
                memcpy(ram + (first + k) * PAGE, pages + used, PAGE);
                used += PAGE;
            }
    }
    if (!bad && pos != inlen)
        bad = "RAM data is longer than its pages";
    inflateEnd(&z);
    free(pages);
    return bad;
}
