/* testsuite/unit/snapshot.c — snapshots (frontend/snapshot.h) on a whole
 * machine running a guest test kernel with its timer interrupts on:
 *   roundtrip     a second machine loaded from the file equals the one
 *                 that saved it in every device's and the CPU's fields
 *                 (host pointers and caches aside), and saves the same
 *                 bytes; save, load, save again gives the same bytes
 *   resume        two machines run on in step from the file, one saved
 *                 and loaded between slices: the same state after
 *   ram           RAM contents come back; zero pages cost no data
 *   refused       truncated, corrupt, foreign, newer, other RAM size:
 *                 each refused with one line naming the problem, and
 *                 the machine saves exactly as before the attempt
 *   fuzz          random and mutated files (CRCs recomputed for half of
 *                 them, so the section parsers are reached): no crash,
 *                 each refused with one line or loaded; a refused one
 *                 leaves the state untouched
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "devices/pc.h"
#include "frontend/config.h"
#include "frontend/snapshot.h"
#include "testsuite/unit/unit.h"

#define KERNEL "build/guest/lm64_irq.elf"

static char dir[] = "/tmp/nest86-snapunit-XXXXXX";
static char path_a[256], path_b[256], path_t[256];

static struct machine *new_machine(uint64_t ram, struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_size = ram;
    cfg->kernel = KERNEL;
    cfg->serial = SERIAL_NONE;
    cfg->cpu_model = "nest86";
    cfg->no_reboot = true;
    char err[256];
    struct machine *m = pc_create(cfg, err, sizeof(err));
    if (!m)
        printf("# pc_create: %s\n", err);
    return m;
}

/* The board's loop (devices/pc.c) without a front end: timers fire at
 * their deadlines, so interrupts arrive as in a real run. */
static void run_for(struct machine *m, uint64_t insns)
{
    struct cpu *c = m->cpu;
    uint64_t target = c->icount + insns;
    while (c->icount < target && m->stop == MACHINE_RUNNING) {
        uint64_t now = machine_clock_ns(m);
        uint64_t next = m->timers ? m->timers->deadline : UINT64_MAX;
        uint64_t end = c->icount + (target - c->icount);
        if (next > now && next - now < target - c->icount)
            end = c->icount + (next - now);
        cpu_run(c, end > c->icount ? end : c->icount + 1);
        machine_run_timers(m);
        if (c->halted && !(c->pending & PEND_INTR) && m->timers) {
            uint64_t skip = m->timers->deadline - machine_clock_ns(m);
            if (m->timers->deadline > machine_clock_ns(m)) {
                m->clock_offset += skip;
                c->tsc_offset += skip;
            }
        }
    }
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}

static bool same_files(const char *a, const char *b)
{
    size_t la, lb;
    uint8_t *x = slurp(a, &la), *y = slurp(b, &lb);
    bool same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

/* ---- every field saved: a machine loaded from a file against the one
 * that saved it, struct by struct, with only host pointers and caches
 * masked.  This does not trust the sections' own lists of fields, so a
 * field added to a device without a line in its section shows here. */

static void mask_timer(struct timer *t)
{
    t->cb = NULL;
    t->opaque = NULL;
    t->next = NULL;
}

#define SAME_DEVICE(type, field, ...)                                                          \
    do {                                                                                       \
        struct type a_ = *m1->field, b_ = *m2->field;                                          \
        struct type *x_[2] = {&a_, &b_};                                                       \
        for (int k_ = 0; k_ < 2; k_++) {                                                       \
            struct type *d = x_[k_];                                                           \
            d->m = NULL;                                                                       \
            __VA_ARGS__;                                                                       \
        }                                                                                      \
        if (memcmp(&a_, &b_, sizeof(a_)))                                                      \
            return #type;                                                                      \
    } while (0)

#include <stddef.h>

#include "devices/acpipm.h"
#include "devices/debugexit.h"
#include "devices/hpet.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/vbe.h"
#include "devices/vga.h"
#include "devices/rtc.h"
#include "devices/uart.h"

static const char *differing_part(struct machine *m1, struct machine *m2)
{
    SAME_DEVICE(pic, pic, (void)0);
    SAME_DEVICE(pit, pit, mask_timer(&d->irq_timer));
    SAME_DEVICE(rtc, rtc, mask_timer(&d->update_timer); mask_timer(&d->periodic_timer));
    SAME_DEVICE(ioapic, ioapic, (void)0);
    SAME_DEVICE(lapic, lapic, mask_timer(&d->timer));
    SAME_DEVICE(i8042, i8042, (void)0);
    SAME_DEVICE(uart, uart[0], d->tx = NULL; d->tx_opaque = NULL);
    SAME_DEVICE(acpipm, acpipm, mask_timer(&d->overflow_timer));
    SAME_DEVICE(debugexit, debugexit, (void)0);
    /* the display's picture and what is to be redrawn are the host's */
    SAME_DEVICE(vga, vga, d->surface = NULL; d->generation = 0);
    SAME_DEVICE(vbe, vbe, d->vram = NULL; memset(d->dirty, 0, sizeof(d->dirty));
                d->mode_changed = false; d->pci = NULL);
    if (memcmp(m1->vbe->vram, m2->vbe->vram, VBE_VRAM_SIZE))
        return "vbe framebuffer";
    SAME_DEVICE(hpet, hpet, for (int n = 0; n < HPET_TIMERS; n++) {
        d->timer[n].h = NULL;
        mask_timer(&d->timer[n].t);
    });
    /* the CPU up to its fault-unwinding part, which is not state */
    size_t n = offsetof(struct cpu, fault_jmp);
    struct cpu *a = malloc(n), *b = malloc(n);
    if (!a || !b)
        return "out of memory";
    memcpy(a, m1->cpu, n);
    memcpy(b, m2->cpu, n);
    struct cpu *x[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        struct cpu *c = x[k];
        c->pending &= ~PEND_BREAK;
        /* caches and what they were built under */
        c->link_code_size = 0;
        c->link_mode = 0;
        c->link_cs_base = 0;
        /* the TLB's translations are state; where their pages are in
         * this host process is not */
        c->mmu.phys = NULL;
        for (unsigned i = 0; i < MMU_TLB_SIZE; i++)
            c->mmu.tlb[i].addend = 0;
        for (int w = 0; w < 2; w++)
            for (unsigned i = 0; i < MMU_TLB_TRACK; i++)
                c->mmu.saved[w].e[i].addend = 0;
        /* a fill list's slots past its count are never read */
        for (unsigned l = 0; l < MMU_TLB_LISTS; l++)
            for (unsigned i = c->mmu.nfilled[l]; i < MMU_TLB_FILLS; i++)
                c->mmu.filled[l][i] = 0;
        c->mmu.gpa_xlate = NULL;
        c->mmu.gpa_opaque = NULL;
        c->mmu.epoch = 0;
        c->mmu.gepoch = 0;
        c->mmu.epoch_seq = 0;
        /* the link bookkeeping of the process, not machine state (the
         * global epoch moves at a load, so no record holds after it) */
        memset(c->mmu.spaces, 0, sizeof(c->mmu.spaces));
        memset(&c->root_links, 0, sizeof(c->root_links));
        c->mmu.stat_walks = 0;
        c->mmu.stat_resumes = 0;
        if (!c->mmu.slow_page_on)
            c->mmu.slow_page = 0; /* meaningless while off */
        memset(&c->vmx.ept, 0, sizeof(c->vmx.ept));
        c->vmx.entry_failure = NULL;
    }
    bool same = !memcmp(a, b, n);
    if (!same && getenv("SNAPSHOT_UNIT_DEBUG"))
        for (size_t i = 0; i < n; i++)
            if (((uint8_t *)a)[i] != ((uint8_t *)b)[i]) {
                printf("# cpu differs at offset %zu (mmu at %zu, vmx at %zu)\n", i,
                       offsetof(struct cpu, mmu), offsetof(struct cpu, vmx));
                break;
            }
    free(a);
    free(b);
    return same ? NULL : "cpu";
}

static struct config cfg1, cfg2;
static struct machine *m1;
static uint8_t *base;   /* the file m1 saved after its first run */
static size_t base_len;

static void roundtrip(void)
{
    char err[512];
    m1 = new_machine(32ull << 20, &cfg1);
    UNIT_CHECK(m1);
    run_for(m1, 300000);
    UNIT_CHECKF(m1->stop == MACHINE_RUNNING, "the guest stopped early (%s)", m1->stop_message);
    UNIT_CHECKF(!snapshot_save(m1, path_a, err, sizeof(err)), "save: %.200s", err);
    struct machine *m2 = new_machine(32ull << 20, &cfg2);
    UNIT_CHECK(m2);
    UNIT_CHECKF(!snapshot_load(m2, path_a, NULL, err, sizeof(err)), "load: %.200s", err);
    const char *part = differing_part(m1, m2);
    UNIT_CHECKF(!part, "the loaded machine's %s differs from the saved one's", part);
    UNIT_CHECKF(!snapshot_save(m2, path_b, err, sizeof(err)), "save: %.200s", err);
    pc_destroy(m2);
    UNIT_CHECK(same_files(path_a, path_b));
    UNIT_CHECKF(!snapshot_load(m1, path_a, NULL, err, sizeof(err)), "load: %.200s", err);
    UNIT_CHECKF(!snapshot_save(m1, path_b, err, sizeof(err)), "save: %.200s", err);
    UNIT_CHECK(same_files(path_a, path_b));
    base = slurp(path_a, &base_len);
    UNIT_CHECK(base);
}

static void resume(void)
{
    char err[512];
    UNIT_CHECK(base);
    struct machine *m2 = new_machine(32ull << 20, &cfg2);
    UNIT_CHECK(m2);
    UNIT_CHECKF(!snapshot_load(m2, path_a, NULL, err, sizeof(err)), "load: %.200s", err);
    UNIT_CHECKF(!snapshot_load(m1, path_a, NULL, err, sizeof(err)), "load: %.200s", err);
    /* both run on in the same slices (a slice may end a few
     * instructions late, at a block's end, the same way each time); one
     * is saved and loaded again between slices, which must not show */
    for (int k = 0; k < 10; k++) {
        run_for(m1, 20000);
        run_for(m2, 20000);
        UNIT_CHECKF(!snapshot_save(m2, path_t, err, sizeof(err)), "save: %.200s", err);
        UNIT_CHECKF(!snapshot_load(m2, path_t, NULL, err, sizeof(err)), "load: %.200s", err);
    }
    UNIT_CHECKF(m1->stop == MACHINE_RUNNING && m2->stop == MACHINE_RUNNING,
                "a guest stopped (%.60s / %.60s)", m1->stop_message, m2->stop_message);
    UNIT_CHECKF(m1->cpu->icount == m2->cpu->icount, "icount %llu against %llu",
                (unsigned long long)m1->cpu->icount, (unsigned long long)m2->cpu->icount);
    UNIT_CHECKF(!snapshot_save(m1, path_a, err, sizeof(err)), "save: %.200s", err);
    UNIT_CHECKF(!snapshot_save(m2, path_b, err, sizeof(err)), "save: %.200s", err);
    pc_destroy(m2);
    UNIT_CHECK(same_files(path_a, path_b));
    spit(path_a, base, base_len); /* later tests start from the first state */
}

static void ram(void)
{
    char err[512];
    struct machine *m2 = new_machine(32ull << 20, &cfg2);
    UNIT_CHECK(m2);
    /* a page of data far from anything the kernel touched */
    uint8_t page[4096];
    for (unsigned k = 0; k < sizeof(page); k++)
        page[k] = (uint8_t)(k * 7 + 3);
    UNIT_CHECK(!phys_copy_in(&m2->phys, 0x1234000, page, sizeof(page)));
    UNIT_CHECKF(!snapshot_save(m2, path_t, err, sizeof(err)), "save: %.200s", err);
    size_t len;
    uint8_t *f = slurp(path_t, &len);
    free(f);
    UNIT_CHECK(!phys_copy_in(&m2->phys, 0x1234000, (uint8_t[4096]){0}, 4096));
    UNIT_CHECKF(!snapshot_load(m2, path_t, NULL, err, sizeof(err)), "load: %.200s", err);
    uint8_t back[4096];
    UNIT_CHECK(!phys_copy_out(&m2->phys, 0x1234000, back, sizeof(back)));
    pc_destroy(m2);
    UNIT_CHECK(!memcmp(page, back, sizeof(page)));
    /* 32 MiB of mostly zero RAM: the file is a small fraction of it
     * (fw_cfg's copy of the kernel and the used pages, deflated) */
    UNIT_CHECKF(len < (2u << 20), "a 32 MiB machine saved to %zu bytes", len);
}

/* Recomputes the header's and every section's CRC-32 (the layout in
 * docs/snapshots.md), so a mutated payload reaches the parsers. */
static void fix_crcs(uint8_t *b, size_t len)
{
    if (len < 16)
        return;
    uint32_t hlen;
    memcpy(&hlen, b + 12, 4);
    if ((uint64_t)hlen + 20 > len)
        return;
    uint32_t crc = (uint32_t)crc32(0, b + 16, hlen);
    memcpy(b + 16 + hlen, &crc, 4);
    size_t pos = 20 + (size_t)hlen;
    while (len - pos >= 32) {
        uint64_t slen;
        memcpy(&slen, b + pos + 20, 8);
        if (slen > len - pos - 32)
            return;
        crc = (uint32_t)crc32(0, b + pos + 32, (uInt)slen);
        memcpy(b + pos + 28, &crc, 4);
        pos += 32 + slen;
    }
}

/* Loading 'bytes' into m1 fails with one line containing 'want' (when
 * given), and m1 saves exactly the base file afterwards. */
static const char *refused(const uint8_t *bytes, size_t len, const char *want)
{
    static char why[700];
    char err[512];
    spit(path_t, bytes, len);
    if (!snapshot_load(m1, path_t, NULL, err, sizeof(err)))
        return "loaded";
    if (strchr(err, '\n') || !err[0] || (want && !strstr(err, want))) {
        snprintf(why, sizeof(why), "message '%s' (want one line with '%s')", err, want ? want : "");
        return why;
    }
    if (snapshot_save(m1, path_b, err, sizeof(err)) || !same_files(path_a, path_b))
        return "the refused load changed the machine";
    return NULL;
}

static void refused_cases(void)
{
    UNIT_CHECK(base && m1);
    char err[512];
    UNIT_CHECK(!snapshot_load(m1, path_a, NULL, err, sizeof(err)));
    uint8_t *b = malloc(base_len);
    UNIT_CHECK(b);
    const char *r;
    r = refused(base, base_len / 2, "truncated");
    UNIT_CHECKF(!r, "truncated: %s", r);
    r = refused(base, 10, "truncated");
    UNIT_CHECKF(!r, "truncated header: %s", r);
    memcpy(b, base, base_len);
    b[base_len - 100] ^= 0x40; /* inside RAM's deflated data */
    r = refused(b, base_len, "CRC");
    UNIT_CHECKF(!r, "corrupt: %s", r);
    memcpy(b, base, base_len);
    b[0] = 'X';
    r = refused(b, base_len, "not a nest86 snapshot");
    UNIT_CHECKF(!r, "foreign: %s", r);
    memcpy(b, base, base_len);
    b[8]++;
    r = refused(b, base_len, "newer");
    UNIT_CHECKF(!r, "newer: %s", r);
    free(b);
    struct config c3;
    struct machine *m3 = new_machine(64ull << 20, &c3);
    UNIT_CHECK(m3);
    int rc = snapshot_load(m3, path_a, NULL, err, sizeof(err));
    pc_destroy(m3);
    UNIT_CHECKF(rc && strstr(err, "RAM"), "other RAM size: %.200s", rc ? err : "loaded");
}

/* glibc's random() from a fixed seed: the same files every run */
static uint64_t rnd(void)
{
    return (uint64_t)random() << 31 ^ (uint64_t)random();
}

static void fuzz(void)
{
    UNIT_CHECK(base && m1);
    char err[512];
    uint8_t *b = malloc(base_len + 64);
    UNIT_CHECK(b);
    int loaded = 0, refusals = 0;
    srandom(17);
    for (int it = 0; it < 600; it++) {
        size_t len = base_len;
        memcpy(b, base, base_len);
        switch (rnd() % 4) {
        case 0: /* random bytes after a valid start */
            len = (size_t)(rnd() % 4096);
            for (size_t k = 24; k < len; k++)
                b[k] = (uint8_t)rnd();
            break;
        case 1: /* a few flipped bits anywhere */
            for (int k = 0, n = 1 + (int)(rnd() % 4); k < n; k++)
                b[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 2: /* bytes changed in the header and first sections, CRCs fixed */
            for (int k = 0, n = 1 + (int)(rnd() % 3); k < n; k++)
                b[16 + rnd() % (len < 8192 ? len - 16 : 8192)] = (uint8_t)rnd();
            fix_crcs(b, len);
            break;
        case 3: /* a cut anywhere, CRCs fixed where they still fit */
            len = (size_t)(rnd() % base_len);
            fix_crcs(b, len);
            break;
        }
        spit(path_t, b, len);
        if (snapshot_load(m1, path_t, NULL, err, sizeof(err)) == 0) {
            loaded++;
            UNIT_CHECKF(!snapshot_load(m1, path_a, NULL, err, sizeof(err)), "reload: %.200s", err);
            continue;
        }
        refusals++;
        UNIT_CHECKF(err[0] && !strchr(err, '\n'), "iteration %d: message '%.200s'", it, err);
        UNIT_CHECKF(!snapshot_save(m1, path_b, err, sizeof(err)), "save: %.200s", err);
        UNIT_CHECKF(same_files(path_a, path_b), "iteration %d: a refused load changed the machine",
                    it);
    }
    free(b);
    printf("# fuzz: %d files refused, %d loaded\n", refusals, loaded);
    UNIT_CHECK(refusals > 0);
}

int main(void)
{
    if (access(KERNEL, R_OK)) {
        printf("FAIL snapshot: no %s (make guest-kernels)\n", KERNEL);
        return 1;
    }
    if (!mkdtemp(dir)) {
        printf("FAIL snapshot: cannot make a temporary directory\n");
        return 1;
    }
    snprintf(path_a, sizeof(path_a), "%s/a.snap", dir);
    snprintf(path_b, sizeof(path_b), "%s/b.snap", dir);
    snprintf(path_t, sizeof(path_t), "%s/t.snap", dir);
    UNIT_RUN(roundtrip);
    UNIT_RUN(resume);
    UNIT_RUN(ram);
    unit_run("refused", refused_cases);
    UNIT_RUN(fuzz);
    pc_destroy(m1);
    free(base);
    unlink(path_a);
    unlink(path_b);
    unlink(path_t);
    rmdir(dir);
    return unit_done();
}
