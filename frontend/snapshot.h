/* frontend/snapshot.h — saving a machine to a file and resuming it
 * (`savevm`, `loadvm`, -loadvm; the format is in docs/snapshots.md). */
#ifndef NEST86_FRONTEND_SNAPSHOT_H
#define NEST86_FRONTEND_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;
struct config;

/* Exit status for a snapshot nest86 refuses (the same as a bad command
 * line: the user gave something unusable). */
#define SNAPSHOT_EXIT_BAD 2

/* Writes the whole machine to 'path' (through a temporary file, so a
 * failed save leaves an older file there intact).  0, or -1 with one
 * line in err. */
int snapshot_save(struct machine *m, const char *path, char *err, size_t errlen);

/* Replaces the machine's state with the file's.  Everything is read and
 * checked before anything changes: on failure (-1, one line in err
 * naming the problem) the machine is as it was.  When 'cfg' is given
 * and has no -kernel, it takes the snapshot's kernel, initrd and
 * command line, which a guest reset boots again. */
int snapshot_load(struct machine *m, const char *path, struct config *cfg, char *err,
                  size_t errlen);

/* The parts of loading that are not sections (frontend/snap_cpu.c):
 * caches dropped, MMU hooks put back to match the loaded state. */
void snapshot_cpu_after_load(struct machine *m);

/* RAM in the file (frontend/snap_ram.c): chunks of SNAP_RAM_CHUNK_PAGES
 * pages, each a bitmap of its non-zero pages and their contents
 * deflated.
 * Encoding returns 0 or -1 (out of memory) with the section's payload
 * as pieces to write one after another, and its CRC-32; decoding fills
 * 'ram' (zeroed, ram_size bytes) and returns NULL or what is wrong. */
#define SNAP_RAM_CHUNK_PAGES 64
struct snap_ram {
    uint8_t **piece;
    size_t *len;
    size_t npieces;
    uint64_t total;
    uint32_t crc;
};
int snap_ram_encode(const uint8_t *ram, uint64_t ram_size, struct snap_ram *out);
void snap_ram_free(struct snap_ram *r);
const char *snap_ram_decode(const uint8_t *in, size_t inlen, uint8_t *ram, uint64_t ram_size);

#endif
