/* devices/rtc.c — MC146818A RTC/CMOS (Motorola datasheet).
 *
 * The time of day is held as Unix seconds at a virtual-time base; the
 * time registers are produced from it on every read, in BCD or binary
 * and 12 or 24 hour form as register B asks.  While B.SET is 1 the
 * registers are frozen and guest writes go straight into them; clearing
 * SET restarts the clock from what was written.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/rtc.h"
#include "devices/machine.h"
#include "devices/snap.h"

#define NS_PER_S 1000000000ull

#define REGA_UIP 0x80
#define REGB_SET  0x80
#define REGB_PIE  0x40
#define REGB_AIE  0x20
#define REGB_UIE  0x10
#define REGB_SQWE 0x08
#define REGB_DM   0x04 /* binary data mode */
#define REGB_24H  0x02
#define REGC_IRQF 0x80
#define REGC_PF   0x40
#define REGC_AF   0x20
#define REGC_UF   0x10
#define REGD_VRT  0x80

/* UIP rises this long before each update (datasheet: tBUC = 244 us). */
#define UIP_NS 244000ull

struct civil {
    unsigned sec, min, hour, wday, mday, mon, year;
};

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned mon)
{
    static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return days[mon - 1] + (mon == 2 && leap(y));
}

static struct civil civil_from_unix(uint64_t t)
{
    struct civil c;
    uint64_t days = t / 86400;
    unsigned secs = (unsigned)(t % 86400);
    c.sec = secs % 60;
    c.min = secs / 60 % 60;
    c.hour = secs / 3600;
    c.wday = (unsigned)((days + 4) % 7) + 1; /* 1970-01-01 was a Thursday; Sunday = 1 */
    c.year = 1970;
    while (days >= 365u + leap(c.year))
        days -= 365u + leap(c.year++);
    c.mon = 1;
    while (days >= month_days(c.year, c.mon))
        days -= month_days(c.year, c.mon++);
    c.mday = (unsigned)days + 1;
    return c;
}

static uint64_t unix_from_civil(const struct civil *c)
{
    uint64_t days = 0;
    unsigned year = c->year < 1970 ? 1970 : c->year > 9999 ? 9999 : c->year;
    unsigned mon = c->mon < 1 ? 1 : c->mon > 12 ? 12 : c->mon;
    for (unsigned y = 1970; y < year; y++)
        days += 365 + leap(y);
    for (unsigned mo = 1; mo < mon; mo++)
        days += month_days(year, mo);
    days += c->mday ? c->mday - 1 : 0;
    return days * 86400 + c->hour * 3600ull + c->min * 60ull + c->sec;
}

static bool frozen(const struct rtc *r)
{
    return r->cmos[RTC_REG_B] & REGB_SET;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
    return (uint8_t)(r->cmos[RTC_REG_B] & REGB_DM ? v : (v / 10) << 4 | v % 10);
}

static unsigned from_reg(const struct rtc *r, uint8_t v)
{
    return r->cmos[RTC_REG_B] & REGB_DM ? v : (v >> 4) * 10u + (v & 0xF);
}

static uint8_t hour_to_reg(const struct rtc *r, unsigned h)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return to_reg(r, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(to_reg(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(const struct rtc *r, uint8_t v)
{
    if (r->cmos[RTC_REG_B] & REGB_24H)
        return from_reg(r, v);
    return from_reg(r, v & 0x7F) % 12 + (v & 0x80 ? 12 : 0);
}

static uint64_t now_ns(const struct rtc *r)
{
    return machine_clock_ns(r->m);
}

uint64_t rtc_get_time(struct rtc *r)
{
    return r->base_seconds + (now_ns(r) - r->base_ns) / NS_PER_S;
}

/* Writes the running time into the time registers. */
static void refresh(struct rtc *r)
{
    if (frozen(r))
        return;
    struct civil c = civil_from_unix(rtc_get_time(r));
    r->cmos[RTC_SECONDS] = to_reg(r, c.sec);
    r->cmos[RTC_MINUTES] = to_reg(r, c.min);
    r->cmos[RTC_HOURS] = hour_to_reg(r, c.hour);
    r->cmos[RTC_DAY_OF_WEEK] = to_reg(r, c.wday);
    r->cmos[RTC_DAY_OF_MONTH] = to_reg(r, c.mday);
    r->cmos[RTC_MONTH] = to_reg(r, c.mon);
    r->cmos[RTC_YEAR] = to_reg(r, c.year % 100);
    r->cmos[RTC_CENTURY] = to_reg(r, c.year / 100);
}

static void update_irq(struct rtc *r)
{
    uint8_t c = r->cmos[RTC_REG_C], b = r->cmos[RTC_REG_B];
    if ((c & b & (REGC_PF | REGC_AF | REGC_UF)) && !(c & REGC_IRQF)) {
        r->cmos[RTC_REG_C] |= REGC_IRQF;
        r->irq_level = true;
        machine_set_irq(r->m, RTC_IRQ, 1);
    }
}

static void arm_update_timer(struct rtc *r)
{
    uint64_t elapsed = now_ns(r) - r->base_ns;
    timer_mod(r->m, &r->update_timer, r->base_ns + (elapsed / NS_PER_S + 1) * NS_PER_S);
}

/* Restarts the clock from the time registers (after a guest set it). */
static void commit(struct rtc *r, uint64_t subsecond_ns)
{
    struct civil c = {
        .sec = from_reg(r, r->cmos[RTC_SECONDS]),
        .min = from_reg(r, r->cmos[RTC_MINUTES]),
        .hour = hour_from_reg(r, r->cmos[RTC_HOURS]),
        .mday = from_reg(r, r->cmos[RTC_DAY_OF_MONTH]),
        .mon = from_reg(r, r->cmos[RTC_MONTH]),
        .year = from_reg(r, r->cmos[RTC_CENTURY]) * 100 + from_reg(r, r->cmos[RTC_YEAR]),
    };
    r->base_seconds = unix_from_civil(&c);
    r->base_ns = now_ns(r) - subsecond_ns;
    arm_update_timer(r);
}

void rtc_set_time(struct rtc *r, uint64_t unix_seconds)
{
    r->base_seconds = unix_seconds;
    r->base_ns = now_ns(r);
    arm_update_timer(r);
}

/* Periodic interrupt period in cycles of the 32.768 kHz time base
 * (register A rate select; 1 and 2 repeat the 256 and 128 Hz rates). */
static uint64_t periodic_cycles(const struct rtc *r)
{
    unsigned rs = r->cmos[RTC_REG_A] & 0x0F;
    if (!rs)
        return 0;
    return rs < 3 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static uint64_t cycles_at(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * 32768 / NS_PER_S);
}

static void arm_periodic(struct rtc *r)
{
    uint64_t period = periodic_cycles(r);
    if (!period || !(r->cmos[RTC_REG_B] & REGB_PIE)) {
        timer_del(r->m, &r->periodic_timer);
        return;
    }
    uint64_t next = (cycles_at(now_ns(r)) / period + 1) * period;
    timer_mod(r->m, &r->periodic_timer,
              (uint64_t)(((unsigned __int128)next * NS_PER_S + 32767) / 32768));
}

static void periodic_cb(void *opaque)
{
    struct rtc *r = opaque;
    r->cmos[RTC_REG_C] |= REGC_PF;
    update_irq(r);
    arm_periodic(r);
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
    return alarm >= 0xC0 || alarm == now; /* 11xxxxxx is "don't care" */
}

static void update_cb(void *opaque)
{
    struct rtc *r = opaque;
    if (!frozen(r)) {
        refresh(r);
        uint8_t *c = r->cmos;
        r->cmos[RTC_REG_C] |= REGC_UF;
        if (alarm_field_matches(c[RTC_SECONDS_ALARM], c[RTC_SECONDS]) &&
            alarm_field_matches(c[RTC_MINUTES_ALARM], c[RTC_MINUTES]) &&
            alarm_field_matches(c[RTC_HOURS_ALARM], c[RTC_HOURS]))
            r->cmos[RTC_REG_C] |= REGC_AF;
        update_irq(r);
    }
    arm_update_timer(r);
}

static bool is_time_reg(uint8_t idx)
{
    switch (idx) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        return true;
    default:
        return false;
    }
}

uint8_t rtc_cmos_read(struct rtc *r, uint8_t idx)
{
    idx &= 0x7F;
    uint64_t now = now_ns(r);
    if (is_time_reg(idx)) {
        refresh(r);
        return r->cmos[idx];
    }
    switch (idx) {
    case RTC_REG_A: {
        uint8_t v = r->cmos[RTC_REG_A] & ~REGA_UIP;
        if (!frozen(r) && (now - r->base_ns) % NS_PER_S >= NS_PER_S - UIP_NS)
            v |= REGA_UIP;
        return v;
    }
    case RTC_REG_C: {
        uint8_t v = r->cmos[RTC_REG_C];
        uint64_t period = periodic_cycles(r);
        /* PF is set at the periodic rate even with PIE off. */
        if (period && cycles_at(now) / period > cycles_at(r->last_c_read_ns) / period)
            v |= REGC_PF;
        r->cmos[RTC_REG_C] = 0;
        r->last_c_read_ns = now;
        if (r->irq_level) {
            r->irq_level = false;
            machine_set_irq(r->m, RTC_IRQ, 0);
        }
        return v;
    }
    default:
        return r->cmos[idx];
    }
}

void rtc_cmos_write(struct rtc *r, uint8_t idx, uint8_t v)
{
    idx &= 0x7F;
    if (is_time_reg(idx)) {
        if (frozen(r)) {
            r->cmos[idx] = v;
        } else {
            refresh(r);
            r->cmos[idx] = v;
            commit(r, (now_ns(r) - r->base_ns) % NS_PER_S);
        }
        return;
    }
    switch (idx) {
    case RTC_REG_A:
        r->cmos[RTC_REG_A] = v & ~REGA_UIP;
        arm_periodic(r);
        break;
    case RTC_REG_B: {
        uint8_t old = r->cmos[RTC_REG_B];
        if ((v & REGB_SET) && !(old & REGB_SET)) {
            refresh(r);       /* freeze what the clock shows now */
            v &= ~REGB_UIE;   /* datasheet: setting SET clears UIE */
        }
        r->cmos[RTC_REG_B] = v;
        if (!(v & REGB_SET) && (old & REGB_SET))
            commit(r, 0);
        arm_periodic(r);
        update_irq(r);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        r->cmos[idx] = v;
        break;
    }
}

bool rtc_nmi_masked(const struct rtc *r)
{
    return r->nmi_masked;
}

static uint32_t rtc_io_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct rtc *r = opaque;
    if (port == RTC_BASE)
        return 0xFF; /* the index register is write-only */
    return rtc_cmos_read(r, r->index);
}

static void rtc_io_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct rtc *r = opaque;
    if (port == RTC_BASE) {
        r->index = value & 0x7F;
        r->nmi_masked = value & 0x80;
    } else {
        rtc_cmos_write(r, r->index, (uint8_t)value);
    }
}

static void put16(uint8_t *cmos, uint8_t lo, unsigned v)
{
    cmos[lo] = (uint8_t)v;
    cmos[lo + 1] = (uint8_t)(v >> 8);
}

/* Memory size bytes as PC BIOSes and firmware read them. */
static void fill_memory_sizes(struct rtc *r)
{
    const struct phys *p = &r->m->phys;
    uint64_t below = p->ram_below_4g;
    uint64_t ext_kb = below > (1u << 20) ? (below - (1u << 20)) / 1024 : 0;
    uint64_t above16 = below > (16u << 20) ? (below - (16u << 20)) / 65536 : 0;
    uint64_t above4g = p->ram_above_4g / 65536;
    if (ext_kb > 0xFFFF)
        ext_kb = 0xFFFF;
    if (above16 > 0xFFFF)
        above16 = 0xFFFF;
    put16(r->cmos, 0x15, 640);              /* base memory, KiB */
    put16(r->cmos, 0x17, (unsigned)ext_kb); /* memory above 1 MiB, KiB */
    put16(r->cmos, 0x30, (unsigned)ext_kb);
    put16(r->cmos, 0x34, (unsigned)above16);/* above 16 MiB, 64 KiB units */
    r->cmos[0x5B] = (uint8_t)above4g;       /* above 4 GiB, 64 KiB units */
    r->cmos[0x5C] = (uint8_t)(above4g >> 8);
    r->cmos[0x5D] = (uint8_t)(above4g >> 16);
    r->cmos[0x14] = 0x02;                   /* equipment: FPU, VGA, no floppy */
    unsigned sum = 0;
    for (int i = 0x10; i <= 0x2D; i++)
        sum += r->cmos[i];
    r->cmos[0x2E] = (uint8_t)(sum >> 8);    /* checksum, big-endian */
    r->cmos[0x2F] = (uint8_t)sum;
}

void rtc_reset(void *opaque)
{
    struct rtc *r = opaque;
    /* The RESET pin clears the interrupt enables and flags; the time and
     * the CMOS RAM survive (battery backed). */
    r->cmos[RTC_REG_B] &= ~(REGB_PIE | REGB_AIE | REGB_UIE | REGB_SQWE);
    r->cmos[RTC_REG_C] = 0;
    if (r->irq_level) {
        r->irq_level = false;
        machine_set_irq(r->m, RTC_IRQ, 0);
    }
    arm_periodic(r);
    arm_update_timer(r);
}

struct rtc *rtc_create(struct machine *m)
{
    struct rtc *r = dev_zalloc(m, sizeof(*r));
    r->m = m;
    timer_init(&r->update_timer, update_cb, r);
    timer_init(&r->periodic_timer, periodic_cb, r);
    r->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->cmos[RTC_REG_B] = REGB_24H;
    r->cmos[RTC_REG_D] = REGD_VRT;
    fill_memory_sizes(r);
    r->base_seconds = RTC_DEFAULT_EPOCH;
    r->base_ns = machine_clock_ns(m);
    r->last_c_read_ns = r->base_ns;
    io_register(&m->io, RTC_BASE, 2, "rtc", r, rtc_io_read, rtc_io_write);
    bus_add_reset(&m->io, rtc_reset, r);
    rtc_reset(r);
    return r;
}

static void rtc_state(struct snap *s, struct machine *m)
{
    struct rtc *r = m->rtc;
    snap_bytes(s, r->cmos, sizeof(r->cmos));
    snap_u8(s, &r->index);
    snap_index(s, r->index, sizeof(r->cmos), "CMOS index");
    snap_bool(s, &r->nmi_masked);
    snap_u64(s, &r->base_seconds);
    snap_u64(s, &r->base_ns);
    snap_u64(s, &r->last_c_read_ns);
    snap_bool(s, &r->irq_level);
    snap_timer(s, &r->update_timer);
    snap_timer(s, &r->periodic_timer);
}
SNAP_SECTION(rtc, "rtc", 1, rtc_state)
