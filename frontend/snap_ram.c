/* frontend/snap_ram.c — guest RAM in a snapshot.
 *
 * RAM goes in chunks of SNAP_RAM_CHUNK_PAGES pages: a 64-bit map of
 * the chunk's pages that hold anything but zeros, then (when the map is
 * not empty) the deflated bytes of those pages, length first.  A booted
 * Linux leaves most of its RAM untouched, so most chunks cost 8 bytes
 * and no compression work.  Saving, threads deflate batches of chunks
 * into their own buffers, which are written one after another; the
 * bytes do not depend on the number of threads.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "frontend/snapshot.h"

#define PAGE 4096u

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

/* Chunks are encoded in batches of BATCH_CHUNKS (4 MiB of RAM), each
 * into its own buffer sized for the worst case, so nothing is copied
 * or reallocated on the way; threads take the next batch as they
 * finish one (a booted Linux keeps most of its data in low memory: a
 * fixed split gave one thread nearly all the work). */
#define BATCH_CHUNKS 16

struct batch {
    uint8_t *p;
    size_t len;
    uint32_t crc;
};

struct encoder {
    const uint8_t *ram;
    const uint8_t *resident; /* mincore() vector, or NULL: every page may hold data */
    uint64_t npages, nbatches;
    struct batch *batch;
    pthread_mutex_t lock;
    uint64_t next; /* the next batch to take, under lock */
    bool failed;
};

/* One batch: the chunks from page 'first' on, into b. */
static int encode_batch(const struct encoder *e, z_stream *z, uint64_t first, struct batch *b)
{
    uint64_t end = first + (uint64_t)BATCH_CHUNKS * SNAP_RAM_CHUNK_PAGES;
    if (end > e->npages)
        end = e->npages;
    size_t cap = 0;
    uLong chunk_bound = deflateBound(z, (uLong)SNAP_RAM_CHUNK_PAGES * PAGE);
    for (uint64_t c = first; c < end; c += SNAP_RAM_CHUNK_PAGES)
        cap += 12 + chunk_bound;
    /* untouched until written: the pages of the bound left over are
     * never faulted in */
    b->p = malloc(cap);
    if (!b->p)
        return -1;
    uint8_t *o = b->p;
    for (; first < end; first += SNAP_RAM_CHUNK_PAGES) {
        uint64_t n = end - first < SNAP_RAM_CHUNK_PAGES ? end - first : SNAP_RAM_CHUNK_PAGES;
        uint64_t map = 0;
        for (uint64_t k = 0; k < n; k++) {
            /* a page the host never backed was never written: reading
             * it to find zeros would only fault it in */
            if (e->resident && !(e->resident[first + k] & 1))
                continue;
            if (!page_is_zero(e->ram + (first + k) * PAGE))
                map |= 1ull << k;
        }
        memcpy(o, &map, 8);
        o += 8;
        if (!map)
            continue;
        /* the pages go in one by one, straight from guest RAM */
        deflateReset(z);
        z->next_out = o + 4;
        z->avail_out = (uInt)chunk_bound;
        int zr = Z_OK;
        for (uint64_t k = 0; k < n && zr == Z_OK; k++) {
            if (!((map >> k) & 1))
                continue;
            z->next_in = (uint8_t *)(uintptr_t)(e->ram + (first + k) * PAGE);
            z->avail_in = PAGE;
            zr = deflate(z, (map >> k) >> 1 ? Z_NO_FLUSH : Z_FINISH);
        }
        if (zr != Z_STREAM_END)
            return -1;
        uint32_t clen = (uint32_t)z->total_out;
        memcpy(o, &clen, 4);
        o += 4 + clen;
    }
    b->len = (size_t)(o - b->p);
    /* give back the bound's unused end (in place): a save of a large
     * machine holds only what it writes */
    uint8_t *fit = realloc(b->p, b->len);
    if (fit)
        b->p = fit;
    /* the section's CRC-32, this batch's share (joined with
     * crc32_combine in order) */
    b->crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), b->p, b->len);
    return 0;
}

static void *encode_thread(void *arg)
{
    struct encoder *e = arg;
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* raw deflate: the section's CRC-32 already covers these bytes, so
     * zlib's own Adler-32 would only cost time.  Z_RLE finds only runs
     * of a repeated byte: on a booted Linux's RAM it deflates 1.6 times
     * as fast as Z_BEST_SPEED's full match search, for a stream 1.4
     * times as large — a save is meant to take a moment. */
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK) {
        pthread_mutex_lock(&e->lock);
        e->failed = true;
        pthread_mutex_unlock(&e->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&e->lock);
        uint64_t b = e->failed ? e->nbatches : e->next++;
        pthread_mutex_unlock(&e->lock);
        if (b >= e->nbatches)
            break;
        if (encode_batch(e, &z, b * BATCH_CHUNKS * SNAP_RAM_CHUNK_PAGES, &e->batch[b])) {
            pthread_mutex_lock(&e->lock);
            e->failed = true;
            pthread_mutex_unlock(&e->lock);
        }
    }
    deflateEnd(&z);
    return NULL;
}

/* Compression is most of a save's time, and chunks are independent:
 * each batch's bytes depend on its pages only, so the file does not
 * depend on the number of threads or on which thread took what. */
#define ENCODE_THREADS_MAX 4

void snap_ram_free(struct snap_ram *r)
{
    for (size_t k = 0; k < r->npieces; k++)
        free(r->piece[k]);
    free(r->piece);
    free(r->len);
    memset(r, 0, sizeof(*r));
}

int snap_ram_encode(const uint8_t *ram, uint64_t ram_size, struct snap_ram *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t npages = ram_size / PAGE;
    uint64_t nbatches = (npages + BATCH_CHUNKS * SNAP_RAM_CHUNK_PAGES - 1) /
                        (BATCH_CHUNKS * SNAP_RAM_CHUNK_PAGES);
    struct encoder e = {.ram = ram, .npages = npages, .nbatches = nbatches};
    uint8_t *resident = malloc(npages ? npages : 1);
    if (resident && mincore((void *)(uintptr_t)ram, ram_size, resident)) {
        free(resident);
        resident = NULL;
    }
    e.resident = resident;
    e.batch = calloc(nbatches ? nbatches : 1, sizeof(*e.batch));
    if (!e.batch || pthread_mutex_init(&e.lock, NULL)) {
        free(e.batch);
        free(resident);
        return -1;
    }
    /* the CPUs this process may run on (taskset), not all the host's */
    cpu_set_t set;
    long cpus = sched_getaffinity(0, sizeof(set), &set) ? sysconf(_SC_NPROCESSORS_ONLN)
                                                         : CPU_COUNT(&set);
    unsigned nt = cpus < 1 ? 1 : cpus > ENCODE_THREADS_MAX ? ENCODE_THREADS_MAX : (unsigned)cpus;
    pthread_t tid[ENCODE_THREADS_MAX];
    unsigned started = 0;
    /* this thread is one of the nt */
    while (started + 1 < nt && !pthread_create(&tid[started], NULL, encode_thread, &e))
        started++;
    encode_thread(&e);
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&e.lock);
    free(resident);

    out->piece = calloc(nbatches ? nbatches : 1, sizeof(*out->piece));
    out->len = calloc(nbatches ? nbatches : 1, sizeof(*out->len));
    int rc = e.failed || !out->piece || !out->len ? -1 : 0;
    out->crc = (uint32_t)crc32_z(0, NULL, 0);
    for (uint64_t b = 0; b < nbatches; b++) {
        if (rc) {
            free(e.batch[b].p);
            continue;
        }
        out->piece[b] = e.batch[b].p;
        out->len[b] = e.batch[b].len;
        out->total += e.batch[b].len;
        out->crc = (uint32_t)crc32_combine(out->crc, e.batch[b].crc, (z_off_t)e.batch[b].len);
    }
    out->npieces = rc ? 0 : nbatches;
    free(e.batch);
    if (rc)
        snap_ram_free(out);
    return rc;
}

const char *snap_ram_decode(const uint8_t *in, size_t inlen, uint8_t *ram, uint64_t ram_size)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -15) != Z_OK)
        return "out of memory";
    const char *bad = NULL;
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
        /* straight into the pages the map names, one after another */
        inflateReset(&z);
        z.next_in = (uint8_t *)(uintptr_t)(in + pos);
        z.avail_in = clen;
        int zr = Z_OK;
        for (uint64_t k = 0; k < n && zr == Z_OK; k++) {
            if (!((map >> k) & 1))
                continue;
            z.next_out = ram + (first + k) * PAGE;
            z.avail_out = PAGE;
            zr = inflate(&z, Z_SYNC_FLUSH);
            if (z.avail_out)
                break; /* the stream ended (or failed) inside this page */
        }
        if (zr == Z_OK && !z.avail_out) {
            /* every page is full: the stream must end here, with no
             * byte more (a spare byte of room catches one) */
            uint8_t spare;
            z.next_out = &spare;
            z.avail_out = 1;
            zr = inflate(&z, Z_FINISH);
            if (z.avail_out != 1)
                zr = Z_DATA_ERROR;
            z.avail_out = 0;
        }
        if (zr != Z_STREAM_END || z.avail_out || z.avail_in ||
            z.total_out != (uLong)__builtin_popcountll(map) * PAGE) {
            bad = "RAM data does not inflate to its pages";
            break;
        }
        pos += clen;
    }
    if (!bad && pos != inlen)
        bad = "RAM data is longer than its pages";
    inflateEnd(&z);
    return bad;
}
