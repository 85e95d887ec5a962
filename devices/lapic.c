/* devices/lapic.c — local APIC (Intel SDM Vol. 3A chapter 10).
 *
 * One APIC for the one CPU, but every interrupt message goes through
 * lapic_match_dest()/lapic_deliver(), so a second CPU needs only a
 * second struct and a loop over the APICs.
 */
#include <string.h>

#include "devices/devutil.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic.h"
#include "devices/snap.h"


/* Writable bits of each LVT (SDM Figure 10-8), in enum LVT_* order. */
static const uint32_t lvt_writable[LVT_COUNT] = {
    [LVT_TIMER] = 0x000700FFu,   /* vector, mask, mode 18:17 */
    [LVT_THERMAL] = 0x000107FFu, /* vector, delivery mode, mask */
    [LVT_PERF] = 0x000107FFu,
    [LVT_LINT0] = 0x0001A7FFu,   /* + polarity 13, trigger 15 */
    [LVT_LINT1] = 0x0001A7FFu,
    [LVT_ERROR] = 0x000100FFu,
};

/* A periodic timer never fires more often than this (guest ns), so a
 * guest cannot make the host spin on its timer list. */
#define LAPIC_MIN_PERIOD_NS 1000u

static bool hw_enabled(const struct lapic *l) { return (l->base_msr & APIC_BASE_EN) != 0; }
static bool x2apic(const struct lapic *l) { return (l->base_msr & APIC_BASE_EXTD) != 0; }
static bool sw_enabled(const struct lapic *l) { return (l->svr & APIC_SVR_ENABLE) != 0; }

static int vec_highest(const uint32_t v[8])
{
    for (int w = 7; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

static void vec_set(uint32_t v[8], unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static void vec_clear(uint32_t v[8], unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }
static bool vec_test(const uint32_t v[8], unsigned n) { return (v[n >> 5] >> (n & 31)) & 1; }

int lapic_highest_irr(const struct lapic *l) { return vec_highest(l->irr); }
int lapic_highest_isr(const struct lapic *l) { return vec_highest(l->isr); }

/* SDM 10.8.3.1: PPR = TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0. */
uint32_t lapic_ppr(const struct lapic *l)
{
    int isrv = vec_highest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (l->tpr & 0xF0) >= isr_class ? l->tpr & 0xFF : isr_class;
}

/* Arbitration priority (SDM 10.6.2.4, the P6 definition). */
static uint32_t lapic_apr(const struct lapic *l)
{
    int irrv = vec_highest(l->irr), isrv = vec_highest(l->isr);
    int hi = irrv > isrv ? irrv : isrv;
    uint32_t cls = hi < 0 ? 0 : (uint32_t)hi & 0xF0;
    return (l->tpr & 0xF0) >= cls ? l->tpr & 0xFF : cls;
}

/* The vector the APIC would hand the CPU now, or -1 (SDM 10.8.3.1:
 * IRRV's priority class must be above PPR's). */
static int deliverable(const struct lapic *l)
{
    if (!hw_enabled(l) || !sw_enabled(l))
        return -1;
    int v = vec_highest(l->irr);
    if (v < 0 || ((uint32_t)v & 0xF0) <= (lapic_ppr(l) & 0xF0))
        return -1;
    return v;
}

/* LINT0 passes the 8259A's INTR through (virtual-wire mode). */
static bool extint_wired(const struct lapic *l)
{
    uint32_t lvt = l->lvt[LVT_LINT0];
    return !(lvt & APIC_LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT;
}

static void update(struct lapic *l)
{
    bool out;
    if (!hw_enabled(l))
        out = l->lint_level[0]; /* a disabled APIC is a wire (SDM 10.4.3) */
    else
        out = l->extint_pending || (extint_wired(l) && l->lint_level[0]) || deliverable(l) >= 0;
    if (out != l->intr_out) {
        l->intr_out = out;
        machine_cpu_intr(l->m, out);
    }
}

static void accept(struct lapic *l, unsigned vector, bool level_trig);

/* An error condition: latched for the next ESR write, and signalled
 * through LVT error when unmasked (SDM 10.5.3). */
static void apic_error(struct lapic *l, uint32_t bit)
{
    l->esr_pending |= bit;
    uint32_t lvt = l->lvt[LVT_ERROR];
    if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xFF) >= 16)
        accept(l, lvt & 0xFF, false);
}

/* A fixed interrupt arrives: IRR, and TMR records the trigger mode. */
static void accept(struct lapic *l, unsigned vector, bool level_trig)
{
    vector &= 0xFF;
    if (vector < 16) {
        apic_error(l, APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
        return;
    }
    vec_set(l->irr, vector);
    if (level_trig)
        vec_set(l->tmr, vector);
    else
        vec_clear(l->tmr, vector);
    update(l);
}

bool lapic_deliver(struct lapic *l, int mode, uint8_t vector, bool level_trig)
{
    if (!hw_enabled(l))
        return false;
    switch (mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        accept(l, vector, level_trig);
        return true;
    case APIC_DM_NMI:
        machine_cpu_nmi(l->m);
        return true;
    case APIC_DM_EXTINT:
        l->extint_pending = true;
        update(l);
        return true;
    case APIC_DM_INIT:
        machine_cpu_init(l->m);
        return true;
    case APIC_DM_STARTUP:
        machine_cpu_sipi(l->m, vector);
        return true;
    default:
        /* SMI: the CPU has no SMM */
        return true;
    }
}

bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical)
{
    if (x2apic(l)) {
        if (dest == 0xFFFFFFFFu)
            return true;
        if (!logical)
            return dest == l->id;
        /* cluster ID in 31:16, one bit per APIC in 15:0 (SDM 10.12.10.2) */
        return (dest >> 16) == (l->ldr >> 16) && (dest & l->ldr & 0xFFFF);
    }
    dest &= 0xFF;
    if (dest == 0xFF)
        return true;
    if (!logical)
        return dest == (l->id & 0xFF);
    uint32_t ldr = l->ldr >> 24;
    if ((l->dfr >> 28) == 0xF) /* flat model */
        return (dest & ldr) != 0;
    /* cluster model: cluster in 7:4, member bits in 3:0 */
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xF);
}

/* ---- the timer (SDM 10.5.4) ---- */

static unsigned timer_mode(const struct lapic *l) { return (l->lvt[LVT_TIMER] >> 17) & 3; }

static uint32_t divisor(const struct lapic *l)
{
    uint32_t v = ((l->dcr >> 1) & 4) | (l->dcr & 3); /* bits 3, 1:0 */
    return v == 7 ? 1 : 2u << v;
}

uint32_t lapic_current_count(const struct lapic *l)
{
    if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE || !l->initial_count)
        return 0;
    uint64_t ticks = (machine_clock_ns(l->m) - l->timer_start) / divisor(l);
    if (timer_mode(l) == APIC_TIMER_PERIODIC)
        return l->initial_count - (uint32_t)(ticks % l->initial_count);
    return ticks >= l->initial_count ? 0 : l->initial_count - (uint32_t)ticks;
}

static void timer_arm(struct lapic *l)
{
    struct machine *m = l->m;
    uint64_t now = machine_clock_ns(m);
    unsigned mode = timer_mode(l);
    if (mode == APIC_TIMER_TSC_DEADLINE) {
        if (!l->tsc_deadline) {
            timer_del(m, &l->timer);
            return;
        }
        uint64_t tsc = machine_tsc(m);
        /* the TSC runs at 1 GHz: one tick per ns of guest time */
        timer_mod(m, &l->timer, now + (l->tsc_deadline > tsc ? l->tsc_deadline - tsc : 0));
        return;
    }
    if (!l->initial_count || mode == 3) {
        timer_del(m, &l->timer);
        return;
    }
    uint64_t period = (uint64_t)l->initial_count * divisor(l);
    uint64_t elapsed = now - l->timer_start;
    if (mode == APIC_TIMER_ONESHOT) {
        if (elapsed >= period)
            timer_del(m, &l->timer); /* already expired */
        else
            timer_mod(m, &l->timer, l->timer_start + period);
        return;
    }
    uint64_t next = l->timer_start + (elapsed / period + 1) * period;
    if (period < LAPIC_MIN_PERIOD_NS && next < now + LAPIC_MIN_PERIOD_NS)
        next = now + LAPIC_MIN_PERIOD_NS;
    timer_mod(m, &l->timer, next);
}

static void timer_fire(void *opaque)
{
    struct lapic *l = opaque;
    unsigned mode = timer_mode(l);
    if (mode == APIC_TIMER_TSC_DEADLINE) {
        if (!l->tsc_deadline)
            return;
        l->tsc_deadline = 0; /* the MSR reads 0 once the deadline passed */
    }
    uint32_t lvt = l->lvt[LVT_TIMER];
    if (!(lvt & APIC_LVT_MASKED))
        accept(l, lvt & 0xFF, false);
    if (mode == APIC_TIMER_PERIODIC)
        timer_arm(l);
}

static void write_lvt(struct lapic *l, int idx, uint32_t v)
{
    uint32_t old = l->lvt[idx];
    v &= lvt_writable[idx];
    if (!sw_enabled(l))
        v |= APIC_LVT_MASKED; /* SDM 10.4.7.2: masks stay set while disabled */
    if (idx == LVT_LINT0 || idx == LVT_LINT1)
        v |= old & APIC_LVT_REMOTE_IRR;
    l->lvt[idx] = v;
    if (idx == LVT_TIMER) {
        unsigned om = (old >> 17) & 3, nm = (v >> 17) & 3;
        /* switching into or out of TSC-deadline mode disarms the timer */
        if (om != nm && (om == APIC_TIMER_TSC_DEADLINE || nm == APIC_TIMER_TSC_DEADLINE)) {
            l->tsc_deadline = 0;
            l->initial_count = 0;
        }
        timer_arm(l);
    }
    update(l);
}

/* ---- interrupt command register (SDM 10.6.1) ---- */

static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
    unsigned mode = (lo >> 8) & 7, vector = lo & 0xFF, shorthand = (lo >> 18) & 3;
    bool logical = (lo >> 11) & 1, level_trig = (lo >> 15) & 1;
    bool to_self;
    switch (shorthand) {
    case 1: to_self = true; break;        /* self */
    case 2: to_self = true; break;        /* all including self */
    case 3: to_self = false; break;       /* all excluding self: no other CPU */
    default: to_self = lapic_match_dest(l, dest, logical); break;
    }
    if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vector < 16) {
        apic_error(l, APIC_ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    if (mode == APIC_DM_INIT && !((lo >> 14) & 1))
        return; /* INIT level de-assert: only arbitration IDs change */
    if (to_self)
        lapic_deliver(l, (int)mode, (uint8_t)vector, level_trig && mode == APIC_DM_FIXED);
}

static void eoi(struct lapic *l)
{
    int v = vec_highest(l->isr);
    if (v < 0)
        return;
    vec_clear(l->isr, (unsigned)v);
    /* a level-triggered interrupt: broadcast the EOI to the IOAPIC */
    if (vec_test(l->tmr, (unsigned)v) && l->m->ioapic)
        ioapic_eoi(l->m->ioapic, (uint8_t)v);
    update(l);
}

static void write_svr(struct lapic *l, uint32_t v)
{
    bool was = sw_enabled(l);
    l->svr = v & 0x3FF; /* vector, APIC enable 8, focus checking 9 */
    if (was && !sw_enabled(l))
        for (int i = 0; i < LVT_COUNT; i++)
            l->lvt[i] |= APIC_LVT_MASKED;
    update(l);
}

/* Register read by xAPIC offset; false when no such register. */
static bool reg_read(struct lapic *l, uint32_t off, uint32_t *out)
{
    uint32_t v;
    switch (off) {
    case APIC_ID: v = x2apic(l) ? l->id : l->id << 24; break;
    case APIC_VER: v = LAPIC_VERSION; break;
    case APIC_TPR: v = l->tpr; break;
    case APIC_APR: v = lapic_apr(l); break;
    case APIC_PPR: v = lapic_ppr(l); break;
    case APIC_EOI: v = 0; break;
    case APIC_RRD: v = 0; break;
    case APIC_LDR: v = l->ldr; break;
    case APIC_DFR: v = l->dfr; break;
    case APIC_SVR: v = l->svr; break;
    case APIC_ESR: v = l->esr; break;
    case APIC_ICR_LO: v = l->icr_lo; break;
    case APIC_ICR_HI: v = l->icr_hi; break;
    case APIC_TIMER_ICR: v = l->initial_count; break;
    case APIC_TIMER_CCR: v = lapic_current_count(l); break;
    case APIC_TIMER_DCR: v = l->dcr; break;
    default:
        if (off >= APIC_ISR && off < APIC_ISR + 0x80)
            v = l->isr[(off - APIC_ISR) >> 4];
        else if (off >= APIC_TMR && off < APIC_TMR + 0x80)
            v = l->tmr[(off - APIC_TMR) >> 4];
        else if (off >= APIC_IRR && off < APIC_IRR + 0x80)
            v = l->irr[(off - APIC_IRR) >> 4];
        else if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR)
            v = l->lvt[(off - APIC_LVT_TIMER) >> 4];
        else
            return false;
    }
    *out = v;
    return true;
}

/* Register write by xAPIC offset (dest: the ICR destination for an
 * x2APIC 64-bit ICR write); false when no such writable register. */
static bool reg_write(struct lapic *l, uint32_t off, uint32_t v, uint32_t dest)
{
    switch (off) {
    case APIC_ID:
        if (x2apic(l))
            return false;
        l->id = v >> 24;
        return true;
    case APIC_TPR:
        l->tpr = v & 0xFF;
        update(l);
        return true;
    case APIC_EOI: eoi(l); return true;
    case APIC_LDR:
        if (x2apic(l))
            return false;
        l->ldr = v & 0xFF000000u;
        return true;
    case APIC_DFR:
        if (x2apic(l))
            return false;
        l->dfr = v | 0x0FFFFFFFu;
        return true;
    case APIC_SVR: write_svr(l, v); return true;
    case APIC_ESR:
        /* a write latches the errors seen since the last one (SDM 10.5.3) */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        return true;
    case APIC_ICR_LO:
        l->icr_lo = v & 0x000CCFFFu; /* delivery status 12 always reads idle */
        if (x2apic(l))
            l->icr_hi = dest;
        send_ipi(l, l->icr_lo, x2apic(l) ? dest : l->icr_hi >> 24);
        return true;
    case APIC_ICR_HI:
        if (x2apic(l))
            return false;
        l->icr_hi = v & 0xFF000000u;
        return true;
    case APIC_TIMER_ICR:
        if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE)
            return true; /* ignored in TSC-deadline mode */
        l->initial_count = v;
        l->timer_start = machine_clock_ns(l->m);
        timer_arm(l);
        return true;
    case APIC_TIMER_DCR: {
        /* keep the current count; it continues at the new rate */
        uint32_t cur = lapic_current_count(l);
        l->dcr = v & 0xB;
        if (l->initial_count && cur)
            l->timer_start = machine_clock_ns(l->m) -
                             (uint64_t)(l->initial_count - cur) * divisor(l);
        timer_arm(l);
        return true;
    }
    case APIC_SELF_IPI:
        if (!x2apic(l))
            return false;
        send_ipi(l, (v & 0xFF) | (1u << 18), 0);
        return true;
    default:
        if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR) {
            write_lvt(l, (int)((off - APIC_LVT_TIMER) >> 4), v);
            return true;
        }
        return false;
    }
}

uint32_t lapic_read(struct lapic *l, uint32_t offset)
{
    uint32_t v = 0;
    if (!hw_enabled(l) || x2apic(l))
        return 0xFFFFFFFFu; /* the MMIO page is off (SDM 10.12.1.2) */
    if (!reg_read(l, offset & 0xFF0, &v))
        apic_error(l, APIC_ESR_ILLEGAL_REGISTER);
    return v;
}

void lapic_write(struct lapic *l, uint32_t offset, uint32_t value)
{
    if (!hw_enabled(l) || x2apic(l))
        return;
    uint32_t off = offset & 0xFF0;
    if (off == APIC_SELF_IPI || !reg_write(l, off, value, 0)) {
        uint32_t dummy;
        if (!reg_read(l, off, &dummy))
            apic_error(l, APIC_ESR_ILLEGAL_REGISTER);
    }
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    uint32_t v = lapic_read(opaque, (uint32_t)offset & 0xFF0);
    unsigned shift = 8 * (offset & 3);
    uint64_t r = v >> shift;
    return size >= 4 ? r : r & ((1ull << (8 * size)) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    /* registers are written as aligned dwords; narrower writes are undefined */
    if (size >= 4 && !(offset & 3))
        lapic_write(opaque, (uint32_t)offset, (uint32_t)value);
}

/* ---- x2APIC MSRs (SDM 10.12.1.2 Table 10-6) and IA32_TSC_DEADLINE ---- */

bool lapic_msr_read(void *opaque, uint32_t index, uint64_t *value)
{
    struct lapic *l = opaque;
    if (index == MSR_IA32_TSC_DEADLINE) {
        *value = timer_mode(l) == APIC_TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
        return true;
    }
    if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !hw_enabled(l) || !x2apic(l))
        return false;
    uint32_t off = (index - MSR_X2APIC_FIRST) << 4, v;
    switch (off) {
    case APIC_APR: case APIC_EOI: case APIC_RRD: case APIC_DFR: case APIC_ICR_HI:
    case APIC_SELF_IPI:
        return false; /* not readable in x2APIC mode */
    case APIC_ICR_LO:
        *value = (uint64_t)l->icr_hi << 32 | l->icr_lo;
        return true;
    default:
        if (!reg_read(l, off, &v))
            return false;
        *value = v;
        return true;
    }
}

bool lapic_msr_write(void *opaque, uint32_t index, uint64_t value)
{
    struct lapic *l = opaque;
    if (index == MSR_IA32_TSC_DEADLINE) {
        if (timer_mode(l) == APIC_TIMER_TSC_DEADLINE) {
            l->tsc_deadline = value;
            timer_arm(l);
        }
        return true;
    }
    if (index < MSR_X2APIC_FIRST || index > MSR_X2APIC_LAST || !hw_enabled(l) || !x2apic(l))
        return false;
    uint32_t off = (index - MSR_X2APIC_FIRST) << 4;
    if (off == APIC_ICR_LO)
        return reg_write(l, off, (uint32_t)value, (uint32_t)(value >> 32));
    if (value >> 32)
        return false; /* reserved bits */
    switch (off) {
    case APIC_EOI:
    case APIC_ESR:
        if (value)
            return false; /* must be written with 0 */
        break;
    case APIC_SELF_IPI:
        if (value & ~0xFFull)
            return false;
        break;
    default:
        break;
    }
    return reg_write(l, off, (uint32_t)value, 0);
}

void lapic_eoi_cb(void *opaque)
{
    struct lapic *l = opaque;
    if (hw_enabled(l))
        eoi(l);
}

uint8_t lapic_cr8_read(void *opaque)
{
    const struct lapic *l = opaque;
    return (uint8_t)((l->tpr >> 4) & 0xF);
}

void lapic_cr8_write(void *opaque, uint8_t cr8)
{
    struct lapic *l = opaque;
    l->tpr = (uint32_t)(cr8 & 0xF) << 4; /* SDM 10.8.6.1: CR8[3:0] = TPR[7:4] */
    update(l);
}

/* Power-up register state (SDM 10.4.7.1), keeping the APIC ID. */
static void power_up_state(struct lapic *l)
{
    l->tpr = l->ldr = 0;
    l->dfr = 0xFFFFFFFFu;
    l->svr = 0xFF;
    l->esr = l->esr_pending = 0;
    memset(l->isr, 0, sizeof(l->isr));
    memset(l->tmr, 0, sizeof(l->tmr));
    memset(l->irr, 0, sizeof(l->irr));
    l->icr_lo = l->icr_hi = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        l->lvt[i] = APIC_LVT_MASKED;
    l->dcr = 0;
    l->initial_count = 0;
    l->tsc_deadline = 0;
    l->extint_pending = false;
    timer_del(l->m, &l->timer);
}

static void set_mmio_base(struct lapic *l, uint64_t base)
{
    struct phys *p = &l->m->phys;
    if (l->region >= 0 && l->region < p->nregions && p->regions[l->region].opaque == l &&
        p->regions[l->region].base != base) {
        p->regions[l->region].base = base;
        phys_regions_changed(p);
        machine_memory_map_changed(l->m);
    }
}

void lapic_base_write(void *opaque, uint64_t value)
{
    struct lapic *l = opaque;
    uint64_t old = l->base_msr;
    l->base_msr = value;
    if ((old & APIC_BASE_EN) && !(value & APIC_BASE_EN))
        power_up_state(l); /* a hardware disable loses the state (SDM 10.4.3) */
    if (!(old & APIC_BASE_EXTD) && (value & APIC_BASE_EXTD)) {
        /* x2APIC: the logical ID derives from the APIC ID (SDM 10.12.10.2) */
        l->ldr = ((l->id >> 4) << 16) | (1u << (l->id & 0xF));
    }
    set_mmio_base(l, value & 0x000FFFFFFFFFF000ull);
    update(l);
}

void lapic_reset(void *opaque)
{
    struct lapic *l = opaque;
    l->id = 0;
    power_up_state(l);
    /* What a PC BIOS leaves on the BSP (nest86 boots kernels without
     * one): LINT0 as unmasked ExtINT, LINT1 as NMI — virtual-wire mode,
     * so 8259A interrupts reach the CPU before any APIC programming. */
    l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    l->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
    l->base_msr = LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP;
    set_mmio_base(l, LAPIC_DEFAULT_BASE);
    l->intr_out = false;
    machine_cpu_intr(l->m, false);
    update(l);
}

void lapic_set_lint(struct lapic *l, int pin, bool level)
{
    if (pin < 0 || pin > 1)
        return;
    bool rising = level && !l->lint_level[pin];
    l->lint_level[pin] = level;
    uint32_t lvt = l->lvt[LVT_LINT0 + pin];
    if (hw_enabled(l) && !(lvt & APIC_LVT_MASKED) && rising) {
        switch ((lvt >> 8) & 7) {
        case APIC_DM_FIXED:
            accept(l, lvt & 0xFF, (lvt & APIC_LVT_LEVEL) != 0);
            break;
        case APIC_DM_NMI:
            machine_cpu_nmi(l->m);
            break;
        default:
            break;
        }
    }
    update(l);
}

int lapic_intack(struct lapic *l)
{
    if (!hw_enabled(l))
        return l->m->pic && l->lint_level[0] ? pic_intack(l->m->pic) : -1;
    int v;
    if (l->extint_pending || (extint_wired(l) && l->lint_level[0])) {
        /* ExtINT: the vector comes from the 8259A's INTA cycle */
        l->extint_pending = false;
        v = l->m->pic ? pic_intack(l->m->pic) : -1;
    } else {
        v = deliverable(l);
        if (v >= 0) {
            vec_clear(l->irr, (unsigned)v);
            vec_set(l->isr, (unsigned)v);
        }
    }
    update(l);
    return v;
}

int lapic_intack_cb(void *opaque)
{
    return lapic_intack(opaque);
}

struct lapic *lapic_create(struct machine *m)
{
    struct lapic *l = dev_zalloc(m, sizeof(*l));
    l->m = m;
    timer_init(&l->timer, timer_fire, l);
    phys_map_mmio(&m->phys, LAPIC_DEFAULT_BASE, 0x1000, "lapic", l, mmio_read, mmio_write);
    l->region = m->phys.nregions - 1;
    bus_add_reset(&m->io, lapic_reset, l);
    m->lapic = l;
    lapic_reset(l);
    return l;
}

static void lapic_state(struct snap *s, struct machine *m)
{
    struct lapic *l = m->lapic;
    snap_u64(s, &l->base_msr);
    snap_u32(s, &l->id);
    snap_u32(s, &l->tpr);
    snap_u32(s, &l->ldr);
    snap_u32(s, &l->dfr);
    snap_u32(s, &l->svr);
    snap_u32(s, &l->esr);
    snap_u32(s, &l->esr_pending);
    snap_u32s(s, l->isr, 8);
    snap_u32s(s, l->tmr, 8);
    snap_u32s(s, l->irr, 8);
    snap_u32(s, &l->icr_lo);
    snap_u32(s, &l->icr_hi);
    snap_u32s(s, l->lvt, LVT_COUNT);
    snap_u32(s, &l->dcr);
    snap_u32(s, &l->initial_count);
    snap_u64(s, &l->timer_start);
    snap_u64(s, &l->tsc_deadline);
    snap_timer(s, &l->timer);
    snap_bool(s, &l->lint_level[0]);
    snap_bool(s, &l->lint_level[1]);
    snap_bool(s, &l->extint_pending);
    snap_bool(s, &l->intr_out);
    /* the MMIO window follows IA32_APIC_BASE */
    if (s->loading && !s->failed)
        set_mmio_base(l, l->base_msr & 0x000FFFFFFFFFF000ull);
}
SNAP_SECTION(lapic, "lapic", 1, lapic_state)
