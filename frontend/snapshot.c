/* frontend/snapshot.c — the snapshot file: header, sections, checks.
 *
 * Layout (little-endian; docs/snapshots.md has the full description):
 *   "NEST86SV", u32 format version, u32 header length, header, u32 CRC
 *   of the header; then sections, each: name[16], u32 version, u64
 *   length, u32 CRC-32 of the payload, payload; the last is "end".
 * The header says what machine the file needs (RAM size, CPU features
 * switched off, the device set with each section's version), so a file
 * from another configuration is refused by name before any state is
 * looked at.  Loading reads the whole file, checks every CRC, inflates
 * RAM into new memory and saves the running state aside before it
 * changes anything: a failure at any point leaves the machine running
 * as it was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/snap.h"
#include "frontend/config.h"
#include "frontend/snapshot.h"
#include "mmu/hostmem.h"

static const char magic[8] = {'N', 'E', 'S', 'T', '8', '6', 'S', 'V'};
/* Raise when the header or the section framing changes; a section's
 * own fields have their own version (SNAP_SECTION). */
#define FORMAT_VERSION 1u
#define RAM_SECTION "ram"
#define RAM_VERSION 1u
#define END_SECTION "end"
#define TEXT_MAX 4096

static const char *const feature_names[] = {
#define FEAT(name, leaf, reg, bit) #name,
#include "cpu/features.def"
#undef FEAT
};

/* The -cpu features switched off, comma-separated: what the machine's
 * CPUID and MSRs lack, in names that survive a reordered table. */
static void features_off(const struct cpu *c, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (int k = 0; k < CPU_NFEATURES; k++)
        if (!cpu_feat_on(c, k) && at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "," : "", feature_names[k]);
}

/* ---- saving ---- */

struct filebuf {
    FILE *f;
    bool failed;
};

static void out(struct filebuf *fb, const void *p, size_t n)
{
    if (!fb->failed && n && fwrite(p, 1, n, fb->f) != n)
        fb->failed = true;
}

static void section_out(struct filebuf *fb, const char *name, uint32_t version, const uint8_t *p,
                        uint64_t len)
{
    char nm[SNAP_NAME_MAX] = {0};
    snprintf(nm, sizeof(nm), "%s", name);
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), p, len);
    out(fb, nm, sizeof(nm));
    out(fb, &version, 4);
    out(fb, &len, 8);
    out(fb, &crc, 4);
    out(fb, p, len);
}

/* The RAM section: its payload in pieces, its CRC-32 computed with them. */
static void ram_section_out(struct filebuf *fb, const struct snap_ram *r)
{
    char nm[SNAP_NAME_MAX] = {RAM_SECTION};
    uint32_t version = RAM_VERSION;
    out(fb, nm, sizeof(nm));
    out(fb, &version, 4);
    out(fb, &r->total, 8);
    out(fb, &r->crc, 4);
    for (size_t k = 0; k < r->npieces; k++)
        out(fb, r->piece[k], r->len[k]);
}

static void header_text(struct snap *h, const char *text)
{
    char buf[TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", text ? text : "");
    snap_str(h, buf, sizeof(buf));
}

/* Saves every section's fields into bufs[k] (the state in memory, as
 * the rollback copy of a load uses it too). */
static int save_sections(struct machine *m, const struct snap_section **secs, size_t n,
                         struct snap *bufs, char *err, size_t errlen)
{
    for (size_t k = 0; k < n; k++) {
        bufs[k] = (struct snap){.loading = false, .m = m};
        snap_run(&bufs[k], secs[k]);
        if (bufs[k].failed) {
            snprintf(err, errlen, "section '%s': %s", secs[k]->name, bufs[k].error);
            return -1;
        }
    }
    return 0;
}

static void free_sections(struct snap *bufs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        snap_release(&bufs[k]);
}

int snapshot_save(struct machine *m, const char *path, char *err, size_t errlen)
{
    const struct snap_section *secs[SNAP_MAX_SECTIONS];
    size_t n = snap_sections(secs, SNAP_MAX_SECTIONS);
    struct snap bufs[SNAP_MAX_SECTIONS];
    memset(bufs, 0, sizeof(bufs));
    struct snap_ram ram = {0};
    int rc = -1;

    struct snap h = {.loading = false, .m = m};
    header_text(&h, NEST86_VERSION);
    uint64_t ram_size = m->phys.ram_size;
    snap_u64(&h, &ram_size);
    char feats[TEXT_MAX];
    features_off(m->cpu, feats, sizeof(feats));
    header_text(&h, feats);
    uint32_t nsec = (uint32_t)n;
    snap_u32(&h, &nsec);
    for (size_t k = 0; k < n; k++) {
        header_text(&h, secs[k]->name);
        uint32_t v = secs[k]->version;
        snap_u32(&h, &v);
    }
    header_text(&h, m->cfg ? m->cfg->kernel : NULL);
    header_text(&h, m->cfg ? m->cfg->initrd : NULL);
    header_text(&h, m->cfg ? m->cfg->append : NULL);

    if (h.failed) {
        snprintf(err, errlen, "%s", h.error);
    } else if (!save_sections(m, secs, n, bufs, err, errlen)) {
        if (snap_ram_encode(m->phys.ram, m->phys.ram_size, &ram)) {
            snprintf(err, errlen, "out of memory compressing RAM");
        } else {
            rc = 0;
        }
    }
    if (rc == 0) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
        struct filebuf fb = {fopen(tmp, "wb"), false};
        if (!fb.f) {
            snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
            rc = -1;
        } else {
            uint32_t version = FORMAT_VERSION, hlen = (uint32_t)h.len;
            uint32_t hcrc = (uint32_t)crc32_z(crc32_z(0, NULL, 0), h.buf, h.len);
            out(&fb, magic, sizeof(magic));
            out(&fb, &version, 4);
            out(&fb, &hlen, 4);
            out(&fb, h.buf, h.len);
            out(&fb, &hcrc, 4);
            for (size_t k = 0; k < n; k++)
                section_out(&fb, secs[k]->name, secs[k]->version, bufs[k].buf, bufs[k].len);
            ram_section_out(&fb, &ram);
            section_out(&fb, END_SECTION, 1, NULL, 0);
            if (fclose(fb.f))
                fb.failed = true;
            if (fb.failed || rename(tmp, path)) {
                snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
                unlink(tmp);
                rc = -1;
            }
        }
    }
    snap_release(&h);
    free_sections(bufs, n);
    snap_ram_free(&ram);
    return rc;
}

/* ---- loading ---- */

struct parsed {
    const struct snap_section *secs[SNAP_MAX_SECTIONS];
    const uint8_t *payload[SNAP_MAX_SECTIONS];
    uint64_t len[SNAP_MAX_SECTIONS];
    size_t n;
    const uint8_t *ram;
    uint64_t ramlen;
    char kernel[TEXT_MAX], initrd[TEXT_MAX], append[TEXT_MAX];
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "cannot open: %s", strerror(errno));
    struct stat st;
    /* one allocation of the file's size: the file is tens of MiB */
    if (fstat(fileno(f), &st) || st.st_size < 0) {
        fclose(f);
        return fail(err, errlen, "cannot read: %s", strerror(errno));
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return fail(err, errlen, "out of memory reading the file");
    }
    size_t got = fread(buf, 1, n, f);
    bool bad = ferror(f) || got != n;
    fclose(f);
    if (bad) {
        free(buf);
        return fail(err, errlen, "read error");
    }
    *data = buf;
    *len = n;
    return 0;
}

/* The header: what machine the snapshot needs, against this one. */
static int check_header(struct machine *m, const uint8_t *hdr, size_t hlen, struct parsed *p,
                        char *err, size_t errlen)
{
    struct snap h = {.loading = true, .m = m, .buf = (uint8_t *)(uintptr_t)hdr, .len = hlen};
    char version[TEXT_MAX], feats[TEXT_MAX], mine[TEXT_MAX];
    snap_str(&h, version, sizeof(version));
    uint64_t ram_size = 0;
    snap_u64(&h, &ram_size);
    snap_str(&h, feats, sizeof(feats));
    uint32_t nsec = 0;
    snap_u32(&h, &nsec);
    if (h.failed)
        return fail(err, errlen, "corrupt header (%s)", h.error);
    if (ram_size != m->phys.ram_size)
        return fail(err, errlen, "saved with %llu MiB of RAM, this machine has %llu MiB (use -m %lluM)",
                    (unsigned long long)(ram_size >> 20),
                    (unsigned long long)(m->phys.ram_size >> 20),
                    (unsigned long long)(ram_size >> 20));
    features_off(m->cpu, mine, sizeof(mine));
    if (strcmp(feats, mine))
        return fail(err, errlen,
                    "saved with CPU features off '%s', this machine has '%s' off (-cpu must match)",
                    feats, mine);
    const struct snap_section *reg[SNAP_MAX_SECTIONS];
    size_t nreg = snap_sections(reg, SNAP_MAX_SECTIONS);
    if (nsec > SNAP_MAX_SECTIONS)
        return fail(err, errlen, "corrupt header (%u sections)", nsec);
    bool seen[SNAP_MAX_SECTIONS] = {false};
    for (uint32_t k = 0; k < nsec; k++) {
        char name[TEXT_MAX];
        uint32_t v = 0;
        snap_str(&h, name, sizeof(name));
        snap_u32(&h, &v);
        if (h.failed)
            return fail(err, errlen, "corrupt header (%s)", h.error);
        size_t r = 0;
        while (r < nreg && strcmp(reg[r]->name, name))
            r++;
        if (r == nreg)
            return fail(err, errlen, "has state for a device this nest86 lacks: '%s'", name);
        if (v != reg[r]->version)
            return fail(err, errlen, "section '%s' is version %u, this nest86 reads version %u",
                        name, v, reg[r]->version);
        seen[r] = true;
    }
    for (size_t r = 0; r < nreg; r++)
        if (!seen[r])
            return fail(err, errlen, "has no state for this machine's '%s'", reg[r]->name);
    snap_str(&h, p->kernel, sizeof(p->kernel));
    snap_str(&h, p->initrd, sizeof(p->initrd));
    snap_str(&h, p->append, sizeof(p->append));
    if (h.failed || h.pos != h.len)
        return fail(err, errlen, "corrupt header (%s)", h.failed ? h.error : "trailing bytes");
    (void)version;
    return 0;
}

/* The framing: every section present once, its CRC right, then "end". */
static int parse(struct machine *m, const uint8_t *d, size_t len, struct parsed *p, char *err,
                 size_t errlen)
{
    if (len < sizeof(magic) || memcmp(d, magic, sizeof(magic)))
        return fail(err, errlen, "not a nest86 snapshot (no NEST86SV magic)");
    size_t pos = sizeof(magic);
    uint32_t version, hlen, hcrc;
    if (len - pos < 8)
        return fail(err, errlen, "truncated (ends in the header)");
    memcpy(&version, d + pos, 4);
    memcpy(&hlen, d + pos + 4, 4);
    pos += 8;
    if (version > FORMAT_VERSION)
        return fail(err, errlen, "format version %u is newer than this nest86 reads (%u)", version,
                    FORMAT_VERSION);
    if (version < FORMAT_VERSION)
        return fail(err, errlen, "format version %u is older than this nest86 reads (%u)", version,
                    FORMAT_VERSION);
    if (len - pos < (uint64_t)hlen + 4)
        return fail(err, errlen, "truncated (ends in the header)");
    memcpy(&hcrc, d + pos + hlen, 4);
    if (hcrc != (uint32_t)crc32_z(crc32_z(0, NULL, 0), d + pos, hlen))
        return fail(err, errlen, "corrupt header (CRC mismatch)");
    if (check_header(m, d + pos, hlen, p, err, errlen))
        return -1;
    pos += (size_t)hlen + 4;

    const struct snap_section *reg[SNAP_MAX_SECTIONS];
    size_t nreg = snap_sections(reg, SNAP_MAX_SECTIONS);
    bool have_ram = false;
    for (;;) {
        const size_t head = SNAP_NAME_MAX + 16;
        if (len - pos < head)
            return fail(err, errlen, "truncated (ends after %zu bytes, between sections)", len);
        char name[SNAP_NAME_MAX + 1] = {0};
        memcpy(name, d + pos, SNAP_NAME_MAX);
        uint32_t sv, crc;
        uint64_t slen;
        memcpy(&sv, d + pos + SNAP_NAME_MAX, 4);
        memcpy(&slen, d + pos + SNAP_NAME_MAX + 4, 8);
        memcpy(&crc, d + pos + SNAP_NAME_MAX + 12, 4);
        pos += head;
        if (slen > len - pos)
            return fail(err, errlen, "truncated (ends inside section '%s')", name);
        if (crc != (uint32_t)crc32_z(crc32_z(0, NULL, 0), d + pos, slen))
            return fail(err, errlen, "section '%s' is corrupt (CRC mismatch)", name);
        const uint8_t *payload = d + pos;
        pos += slen;
        if (!strcmp(name, END_SECTION))
            break;
        if (!strcmp(name, RAM_SECTION)) {
            if (have_ram)
                return fail(err, errlen, "section '%s' appears twice", name);
            if (sv != RAM_VERSION)
                return fail(err, errlen,
                            "RAM section is version %u, this nest86 reads version %u",
                            sv, RAM_VERSION);
            have_ram = true;
            p->ram = payload;
            p->ramlen = slen;
            continue;
        }
        size_t r = 0;
        while (r < nreg && strcmp(reg[r]->name, name))
            r++;
        if (r == nreg || sv != reg[r]->version)
            return fail(err, errlen, "section '%s' (version %u) is not in the header", name, sv);
        for (size_t k = 0; k < p->n; k++)
            if (p->secs[k] == reg[r])
                return fail(err, errlen, "section '%s' appears twice", name);
        p->secs[p->n] = reg[r];
        p->payload[p->n] = payload;
        p->len[p->n] = slen;
        p->n++;
    }
    if (pos != len)
        return fail(err, errlen, "%zu bytes after the end section", len - pos);
    if (!have_ram)
        return fail(err, errlen, "has no RAM section");
    if (p->n != nreg)
        return fail(err, errlen, "has %zu device sections, the header lists %zu", p->n, nreg);
    return 0;
}

/* Runs every section over its payload; -1 with the first problem. */
static int apply(struct machine *m, const struct snap_section *const *secs,
                 const uint8_t *const *payload, const uint64_t *len, size_t n, char *err,
                 size_t errlen)
{
    struct snap s = {.loading = true, .m = m};
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        s.buf = (uint8_t *)(uintptr_t)payload[k];
        s.len = len[k];
        snap_run(&s, secs[k]);
        if (s.failed)
            rc = fail(err, errlen, "section '%s': %s", secs[k]->name, s.error);
    }
    snap_rearm_timers(&s);
    snap_release(&s);
    return rc;
}

static const char *owned_copy(struct machine *m, const char *text)
{
    if (!*text)
        return NULL;
    char *c = dev_zalloc(m, strlen(text) + 1);
    strcpy(c, text);
    return c;
}

int snapshot_load(struct machine *m, const char *path, struct config *cfg, char *err,
                  size_t errlen)
{
    char why[400];
    uint8_t *data = NULL;
    size_t len = 0;
    struct parsed *p = calloc(1, sizeof(*p));
    if (!p)
        return fail(err, errlen, "snapshot '%s': out of memory", path);
    int rc = read_file(path, &data, &len, why, sizeof(why));
    if (!rc)
        rc = parse(m, data, len, p, why, sizeof(why));
    uint8_t *ram = NULL;
    if (!rc) {
        ram = host_ram_alloc(m->phys.ram_size);
        if (!ram)
            rc = fail(why, sizeof(why), "cannot allocate RAM to load into");
    }
    if (!rc) {
        const char *bad = snap_ram_decode(p->ram, p->ramlen, ram, m->phys.ram_size);
        if (bad)
            rc = fail(why, sizeof(why), "%s", bad);
    }
    /* the running state, to go back to when a section is refused */
    const struct snap_section *secs[SNAP_MAX_SECTIONS];
    size_t n = snap_sections(secs, SNAP_MAX_SECTIONS);
    struct snap backup[SNAP_MAX_SECTIONS];
    memset(backup, 0, sizeof(backup));
    if (!rc)
        rc = save_sections(m, secs, n, backup, why, sizeof(why));
    if (!rc) {
        rc = apply(m, p->secs, p->payload, p->len, p->n, why, sizeof(why));
        if (rc) {
            const uint8_t *bp[SNAP_MAX_SECTIONS] = {0};
            uint64_t bl[SNAP_MAX_SECTIONS] = {0};
            for (size_t k = 0; k < n; k++) {
                bp[k] = backup[k].buf;
                bl[k] = backup[k].len;
            }
            char ignored[200];
            apply(m, secs, bp, bl, n, ignored, sizeof(ignored));
            snapshot_cpu_after_load(m);
        }
    }
    free_sections(backup, n);
    if (!rc) {
        host_ram_free(m->phys.ram, m->phys.ram_size);
        m->phys.ram = ram;
        ram = NULL;
        snapshot_cpu_after_load(m);
        if (cfg && !cfg->kernel) {
            /* what a reset boots again */
            cfg->kernel = owned_copy(m, p->kernel);
            cfg->initrd = owned_copy(m, p->initrd);
            cfg->append = owned_copy(m, p->append);
        }
    }
    if (ram)
        host_ram_free(ram, m->phys.ram_size);
    free(data);
    free(p);
    if (rc)
        return fail(err, errlen, "snapshot '%s': %s", path, why);
    return 0;
}
