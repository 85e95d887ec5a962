/* devices/acpipm.c — ACPI PM1 event/control blocks, PM timer, GPE0
 * (ACPI specification chapter 4.8, "fixed hardware").
 *
 * Status bits are write-1-to-clear.  Writing SLP_EN with SLP_TYP = S5
 * powers the machine off: the run ends with status 0.  Other SLP_TYP
 * values are not offered by the DSDT and are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/acpipm.h"
#include "devices/machine.h"
#include "devices/snap.h"

#define NS_PER_S 1000000000ull
#define TMR_OVERFLOW_TICKS (1ull << 23)
#define PM_TMR_OFF  0x8

static uint64_t timer_ticks(const struct acpipm *a)
{
    return (uint64_t)((unsigned __int128)machine_clock_ns(a->m) * ACPIPM_TIMER_HZ / NS_PER_S);
}

uint32_t acpipm_timer(const struct acpipm *a)
{
    return (uint32_t)(timer_ticks(a) & 0xFFFFFF);
}

static void update_sci(struct acpipm *a)
{
    bool gpe = false;
    for (unsigned i = 0; i < sizeof(a->gpe_sts); i++)
        gpe |= (a->gpe_sts[i] & a->gpe_en[i]) != 0;
    bool level = (a->pm1_cnt & ACPIPM_SCI_EN) && ((a->pm1_sts & a->pm1_en) || gpe);
    if (level != a->sci_level) {
        a->sci_level = level;
        machine_set_irq(a->m, ACPIPM_SCI_IRQ, level);
    }
}

static void arm_overflow(struct acpipm *a)
{
    uint64_t next = (timer_ticks(a) / TMR_OVERFLOW_TICKS + 1) * TMR_OVERFLOW_TICKS;
    timer_mod(a->m, &a->overflow_timer,
              (uint64_t)(((unsigned __int128)next * NS_PER_S + ACPIPM_TIMER_HZ - 1) /
                         ACPIPM_TIMER_HZ));
}

static void overflow_cb(void *opaque)
{
    struct acpipm *a = opaque;
    a->pm1_sts |= ACPIPM_TMR_STS;
    update_sci(a);
    arm_overflow(a);
}

void acpipm_power_button(struct acpipm *a)
{
    a->pm1_sts |= ACPIPM_PWRBTN_STS;
    update_sci(a);
}

void acpipm_set_gpe(struct acpipm *a, unsigned bit)
{
    if (bit < 8 * sizeof(a->gpe_sts)) {
        a->gpe_sts[bit / 8] |= (uint8_t)(1u << (bit % 8));
        update_sci(a);
    }
}

/* One byte of the PM1 event/control/timer window. */
static uint8_t pm1_byte(const struct acpipm *a, unsigned off, uint32_t tmr)
{
    switch (off) {
    case 0: case 1: return (uint8_t)(a->pm1_sts >> (8 * off));
    case 2: case 3: return (uint8_t)(a->pm1_en >> (8 * (off - 2)));
    case 4: case 5: return (uint8_t)(a->pm1_cnt >> (8 * (off - 4)));
    case 8: case 9: case 10: case 11: return (uint8_t)(tmr >> (8 * (off - 8)));
    default: return 0xFF;
    }
}

static uint32_t pm1_read(void *opaque, uint16_t port, unsigned size)
{
    struct acpipm *a = opaque;
    uint32_t tmr = acpipm_timer(a), v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)pm1_byte(a, port - ACPIPM_BASE + i, tmr) << (8 * i);
    return v;
}

/* SLP_EN written: enter the sleeping state SLP_TYP names (ACPI 6.x,
 * 4.8.3.2.1; 16.1.3.1 "Sleeping States").  The DSDT offers only \_S5
 * (soft-off), and OSPM uses only the states the DSDT offers, so any
 * other SLP_TYP is ignored as an unsupported state (as QEMU's PM does
 * with a type it does not know): the machine keeps running, WAK_STS stays clear, and -d io says
 * so.  There is no S1-S4 (no suspend-to-RAM, docs/platform.md). */
static void sleep_request(struct acpipm *a)
{
    unsigned typ = (a->pm1_cnt >> ACPIPM_SLP_TYP_SHIFT) & 7;
    a->pm1_cnt &= ~ACPIPM_SLP_EN; /* write-only, reads as 0 */
    if (typ == ACPIPM_SLP_TYP_S5) {
        machine_request_stop(a->m, MACHINE_EXIT, 0, "ACPI power off (S5)");
        return;
    }
    a->ignored_sleeps++;
    io_note(&a->m->io, "acpi-pm1",
            "SLP_EN with SLP_TYP %u ignored: only \\_S5 (SLP_TYP %u) is offered", typ,
            ACPIPM_SLP_TYP_S5);
}

static void set_byte16(uint16_t *reg, unsigned byte, uint8_t v)
{
    *reg = (uint16_t)((*reg & ~(0xFFu << (8 * byte))) | (unsigned)v << (8 * byte));
}

static void pm1_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    struct acpipm *a = opaque;
    for (unsigned i = 0; i < size; i++) {
        unsigned off = port - ACPIPM_BASE + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        switch (off) {
        case 0: case 1: a->pm1_sts &= (uint16_t)~((unsigned)b << (8 * off)); break;
        case 2: case 3: set_byte16(&a->pm1_en, off - 2, b); break;
        case 4: case 5: set_byte16(&a->pm1_cnt, off - 4, b); break;
        default: break; /* the timer is read-only */
        }
    }
    if (a->pm1_cnt & ACPIPM_SLP_EN)
        sleep_request(a);
    update_sci(a);
}

static uint32_t gpe_read(void *opaque, uint16_t port, unsigned size)
{
    struct acpipm *a = opaque;
    uint32_t v = 0;
    unsigned half = ACPIPM_GPE0_BLK_LEN / 2;
    for (unsigned i = 0; i < size; i++) {
        unsigned off = port - ACPIPM_GPE0_BLK + i;
        uint8_t b = off < half ? a->gpe_sts[off]
                  : off < 2 * half ? a->gpe_en[off - half] : 0xFF;
        v |= (uint32_t)b << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    struct acpipm *a = opaque;
    unsigned half = ACPIPM_GPE0_BLK_LEN / 2;
    for (unsigned i = 0; i < size; i++) {
        unsigned off = port - ACPIPM_GPE0_BLK + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (off < half)
            a->gpe_sts[off] &= (uint8_t)~b;
        else if (off < 2 * half)
            a->gpe_en[off - half] = b;
    }
    update_sci(a);
}

void acpipm_reset(void *opaque)
{
    struct acpipm *a = opaque;
    a->pm1_sts = 0;
    a->pm1_en = 0;
    a->pm1_cnt = ACPIPM_SCI_EN; /* no SMI_CMD: already in ACPI mode */
    memset(a->gpe_sts, 0, sizeof(a->gpe_sts));
    memset(a->gpe_en, 0, sizeof(a->gpe_en));
    update_sci(a);
    arm_overflow(a);
}

struct acpipm *acpipm_create(struct machine *m)
{
    struct acpipm *a = dev_zalloc(m, sizeof(*a));
    a->m = m;
    timer_init(&a->overflow_timer, overflow_cb, a);
    acpipm_reset(a);
    io_register(&m->io, ACPIPM_BASE, PM_TMR_OFF + ACPIPM_PM_TMR_LEN, "acpi-pm1", a,
                pm1_read, pm1_write);
    io_register(&m->io, ACPIPM_GPE0_BLK, ACPIPM_GPE0_BLK_LEN, "acpi-gpe0", a, gpe_read,
                gpe_write);
    bus_add_reset(&m->io, acpipm_reset, a);
    return a;
}

static void acpipm_state(struct snap *s, struct machine *m)
{
    struct acpipm *a = m->acpipm;
    snap_u16(s, &a->pm1_sts);
    snap_u16(s, &a->pm1_en);
    snap_u16(s, &a->pm1_cnt);
    snap_bytes(s, a->gpe_sts, sizeof(a->gpe_sts));
    snap_bytes(s, a->gpe_en, sizeof(a->gpe_en));
    snap_bool(s, &a->sci_level);
    snap_u32(s, &a->ignored_sleeps);
    snap_timer(s, &a->overflow_timer);
}
SNAP_SECTION(acpipm, "acpipm", 1, acpipm_state)
