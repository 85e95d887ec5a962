/* vmx/apicv.c — APIC virtualization and virtual interrupts (SDM Vol. 3C
 * chapter 29): the virtual-APIC page, the TPR shadow and TPR threshold
 * (29.1.2, 29.3), virtualized accesses to the APIC-access page (29.4)
 * and to the x2APIC MSRs (29.5), virtual-interrupt delivery with its
 * PPR, EOI and self-IPI virtualization (29.1.3-29.1.5, 29.2), and
 * posted-interrupt processing (29.6).
 *
 * The virtual-APIC page is guest memory the VMM owns; RVI and SVI live
 * in the guest-interrupt-status field of the cached VMCS while the guest
 * runs, so a VM exit has nothing more to save for them (27.3.4).
 *
 * Exits that the SDM makes trap-like (TPR below threshold, APIC write,
 * virtualized EOI) happen after the instruction that caused them
 * completes: the instruction leaves them in vmx.apic_trap and
 * vmx_take_event() takes them at the next instruction boundary, before
 * any event. */
#include "cpu/cpu_internal.h"
#include "devices/lapic.h" /* the xAPIC register offsets the virtual-APIC page keeps */
#include "vmx/vmx_internal.h"

/* The virtual-APIC page keeps the xAPIC register layout (29.1): VTPR,
 * VPPR, VEOI, VISR, VIRR and VICR at their APIC offsets. */
enum { VTPR = APIC_TPR, VPPR = APIC_PPR, VEOI = APIC_EOI, VISR = APIC_ISR, VIRR = APIC_IRR,
       VICR_LO = APIC_ICR_LO, VICR_HI = APIC_ICR_HI };

/* x2APIC MSRs: MSR 800H + offset / 16 (SDM 10.12.1.2) */
#define X2APIC_MSR(off) (MSR_X2APIC_FIRST + ((off) >> 4))
#define X2APIC_SELF_IPI X2APIC_MSR(APIC_SELF_IPI)

static uint32_t proc2(const struct cpu *c)
{
    return VMX_PROC2_CONTROLS(c);
}

/* ---- the virtual-APIC page ---- */

static uint64_t vapic_addr(const struct cpu *c)
{
    return vmcs_get(c, VF_VIRTUAL_APIC_PAGE_ADDR);
}

static uint32_t vapic_read32(const struct cpu *c, unsigned off)
{
    return (uint32_t)phys_read(c->mmu.phys, vapic_addr(c) + off, 4);
}

static void vapic_write32(struct cpu *c, unsigned off, uint32_t v)
{
    phys_write(c->mmu.phys, vapic_addr(c) + off, v, 4);
}

/* VISR and VIRR: 256 bits as eight 32-bit words, one per 16 bytes */
static void vec_put(struct cpu *c, unsigned base, unsigned vec, bool on)
{
    unsigned off = base + (vec / 32) * 16;
    uint32_t w = vapic_read32(c, off), bit = 1u << (vec % 32);
    vapic_write32(c, off, on ? w | bit : w & ~bit);
}

static int vec_highest(const struct cpu *c, unsigned base)
{
    for (int k = 7; k >= 0; k--) {
        uint32_t w = vapic_read32(c, base + (unsigned)k * 16);
        if (w)
            return k * 32 + 31 - __builtin_clz(w);
    }
    return -1;
}

/* guest interrupt status (24.4.2): RVI in bits 7:0, SVI in bits 15:8 */
static unsigned rvi(const struct cpu *c)
{
    return vmcs_get(c, VF_GUEST_INTR_STATUS) & 0xff;
}

static unsigned svi(const struct cpu *c)
{
    return (vmcs_get(c, VF_GUEST_INTR_STATUS) >> 8) & 0xff;
}

static void set_rvi(struct cpu *c, unsigned v)
{
    vmcs_set(c, VF_GUEST_INTR_STATUS, (vmcs_get(c, VF_GUEST_INTR_STATUS) & 0xff00) | (v & 0xff));
}

static void set_svi(struct cpu *c, unsigned v)
{
    vmcs_set(c, VF_GUEST_INTR_STATUS, (vmcs_get(c, VF_GUEST_INTR_STATUS) & 0xff) | (v & 0xff) << 8);
}

/* ---- the virtualizations of 29.1 and 29.2 ---- */

/* A trap-like exit the current instruction causes once it completes. */
static void trap_exit(struct cpu *c, unsigned reason, uint64_t qualification)
{
    c->vmx.apic_trap = (uint16_t)reason;
    c->vmx.apic_trap_qual = qualification;
    __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
    cpu_break_block(c);
}

/* 29.2.1: recognize a pending virtual interrupt when RVI's priority
 * class is above VPPR's (and interrupt-window exiting is off) */
static void evaluate(struct cpu *c)
{
    bool recognized = !(VMX_PROC_CONTROLS(c) & PROC_INTR_WINDOW_EXITING) &&
                      (rvi(c) >> 4) > ((vapic_read32(c, VPPR) >> 4) & 0xf);
    c->vmx.vintr_recognized = recognized;
    if (recognized) {
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
        cpu_break_block(c);
    }
}

/* 29.1.3 PPR virtualization */
static void ppr_virtualize(struct cpu *c)
{
    uint32_t vtpr = vapic_read32(c, VTPR) & 0xff;
    unsigned s = svi(c);
    vapic_write32(c, VPPR, (vtpr >> 4) >= (s >> 4) ? vtpr : (s & 0xf0));
}

/* 29.1.2 TPR virtualization, after VTPR was written */
static void tpr_virtualize(struct cpu *c)
{
    if (proc2(c) & PROC2_VIRTUAL_INTR_DELIVERY) {
        ppr_virtualize(c);
        evaluate(c);
    } else if (((vapic_read32(c, VTPR) >> 4) & 0xf) < (vmcs_get(c, VF_TPR_THRESHOLD) & 0xf)) {
        trap_exit(c, VMX_EXIT_TPR_BELOW_THRESHOLD, 0);
    }
}

/* 29.1.4 EOI virtualization */
static void eoi_virtualize(struct cpu *c)
{
    unsigned vec = svi(c);
    vec_put(c, VISR, vec, false);
    int next = vec_highest(c, VISR);
    set_svi(c, next < 0 ? 0 : (unsigned)next);
    ppr_virtualize(c);
    static const uint8_t eoi_exit[4] = {VF_EOI_EXIT_BITMAP0, VF_EOI_EXIT_BITMAP1,
                                        VF_EOI_EXIT_BITMAP2, VF_EOI_EXIT_BITMAP3};
    if ((vmcs_get(c, eoi_exit[vec / 64]) >> (vec % 64)) & 1)
        trap_exit(c, VMX_EXIT_VIRTUALIZED_EOI, vec); /* qualification: the vector (27.2.1) */
    else
        evaluate(c);
}

/* 29.1.5 self-IPI virtualization */
static void self_ipi_virtualize(struct cpu *c, unsigned vec)
{
    vec_put(c, VIRR, vec, true);
    if (vec > rvi(c))
        set_rvi(c, vec);
    evaluate(c);
}

/* ---- VM entry and the instruction boundary ---- */

/* 26.7.5, 26.7.7: what VM entry does for these controls once the guest
 * state is loaded (after event injection). */
void vmx_apicv_enter(struct cpu *c)
{
    struct vmx *v = &c->vmx;
    uint32_t proc = VMX_PROC_CONTROLS(c), p2 = proc2(c);
    v->apic_trap = 0;
    v->vintr_recognized = false;
    if (p2 & PROC2_VIRTUALIZE_APIC_ACCESSES)
        mmu_set_slow_page(&c->mmu, vmcs_get(c, VF_APIC_ACCESS_ADDR));
    if (!(proc & PROC_USE_TPR_SHADOW))
        return;
    if (p2 & PROC2_VIRTUAL_INTR_DELIVERY) {
        ppr_virtualize(c);
        evaluate(c);
    } else if ((vmcs_get(c, VF_TPR_THRESHOLD) & 0xf) > ((vapic_read32(c, VTPR) >> 4) & 0xf)) {
        /* 26.7.7: a VM exit right after entry, before any instruction */
        trap_exit(c, VMX_EXIT_TPR_BELOW_THRESHOLD, 0);
    }
}

void vmx_apicv_leave(struct cpu *c)
{
    c->vmx.apic_trap = 0;
    c->vmx.vintr_recognized = false; /* 29.2.1: recognition ends with non-root operation */
    mmu_set_slow_page(&c->mmu, MMU_NO_SLOW_PAGE);
}

unsigned vmx_apicv_trap(struct cpu *c, uint64_t *qualification)
{
    unsigned reason = c->vmx.apic_trap;
    *qualification = c->vmx.apic_trap_qual;
    c->vmx.apic_trap = 0;
    return reason;
}

/* 29.2.2 virtual-interrupt delivery: at an instruction boundary with
 * RFLAGS.IF = 1 and no blocking by STI or MOV SS (the caller checks
 * those) a recognized virtual interrupt is delivered through the guest
 * IDT; it also ends the HLT state.  Returns the vector, or -1. */
int vmx_apicv_virtual_intr(struct cpu *c)
{
    if (!c->vmx.vintr_recognized)
        return -1;
    c->vmx.vintr_recognized = false;
    unsigned vec = rvi(c);
    vec_put(c, VISR, vec, true);
    set_svi(c, vec);
    vapic_write32(c, VPPR, vec & 0xf0);
    vec_put(c, VIRR, vec, false);
    int next = vec_highest(c, VIRR);
    set_rvi(c, next < 0 ? 0 : (unsigned)next);
    return (int)vec;
}

/* 29.6 posted-interrupt processing, for an external interrupt whose
 * vector the local APIC gave: true when it was the notification vector
 * (the processing is done), false when it must exit as usual. */
bool vmx_apicv_posted(struct cpu *c, int vec)
{
    if (!(vmcs_get(c, VF_PIN_BASED_CONTROLS) & PIN_POSTED_INTERRUPTS) ||
        (uint64_t)vec != vmcs_get(c, VF_POSTED_INTR_NOTIFY_VECTOR))
        return false;
    uint64_t desc = vmcs_get(c, VF_POSTED_INTR_DESC_ADDR);
    /* the outstanding-notification bit (bit 256) clears, the local APIC
     * takes an EOI for the notification, and the 256 PIR bits move to
     * VIRR (read and cleared as one step: nest86 has one processor) */
    phys_write(c->mmu.phys, desc + 32, phys_read(c->mmu.phys, desc + 32, 1) & ~1ull, 1);
    if (c->apic_eoi)
        c->apic_eoi(c->apic_opaque);
    int highest = -1;
    for (unsigned k = 0; k < 8; k++) {
        uint32_t pir = (uint32_t)phys_read(c->mmu.phys, desc + 4 * k, 4);
        if (!pir)
            continue;
        phys_write(c->mmu.phys, desc + 4 * k, 0, 4);
        unsigned off = VIRR + k * 16;
        vapic_write32(c, off, vapic_read32(c, off) | pir);
        highest = (int)(k * 32 + 31 - (unsigned)__builtin_clz(pir));
    }
    if (highest > (int)rvi(c))
        set_rvi(c, (unsigned)highest);
    evaluate(c);
    return true;
}

/* ---- MOV CR8 with "use TPR shadow" (29.3) ---- */

bool vmx_apicv_cr8_read(const struct cpu *c, uint64_t *v)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_USE_TPR_SHADOW))
        return false;
    *v = (vapic_read32(c, VTPR) >> 4) & 0xf;
    return true;
}

bool vmx_apicv_cr8_write(struct cpu *c, uint64_t v)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_USE_TPR_SHADOW))
        return false;
    vapic_write32(c, VTPR, (uint32_t)(v & 0xf) << 4); /* VTPR bits 3:0 and 31:8 clear */
    tpr_virtualize(c);
    return true;
}

/* ---- RDMSR/WRMSR of 800H-8FFH with "virtualize x2APIC mode" (29.5) ---- */

/* the registers RDMSR reads from the virtual-APIC page with
 * "APIC-register virtualization" (29.5, the list of 29.4.2 less DFR) */
static bool x2apic_readable(uint32_t index)
{
    unsigned off = (index & 0xff) << 4;
    switch (off) {
    case APIC_ID: case APIC_VER: case VTPR: case VPPR: case APIC_LDR: case APIC_SVR:
    case APIC_ESR: case APIC_LVT_CMCI: case VICR_LO: case APIC_TIMER_ICR: case APIC_TIMER_DCR:
        return true;
    default:
        return (off >= VISR && off < APIC_ESR) ||
               (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR);
    }
}

int vmx_apicv_rdmsr(struct cpu *c, uint32_t index, uint64_t *v)
{
    if (!(proc2(c) & PROC2_VIRTUALIZE_X2APIC) || index < MSR_X2APIC_FIRST ||
        index > MSR_X2APIC_LAST)
        return 0;
    bool regvirt = proc2(c) & PROC2_APIC_REGISTER_VIRT;
    if (index != X2APIC_MSR(VTPR) && !(regvirt && x2apic_readable(index)))
        return 0; /* the instruction operates normally */
    *v = phys_read(c->mmu.phys, vapic_addr(c) + ((index & 0xff) << 4), 8);
    return 1;
}

int vmx_apicv_wrmsr(struct cpu *c, uint32_t index, uint64_t v)
{
    uint32_t p2 = proc2(c);
    if (!(p2 & PROC2_VIRTUALIZE_X2APIC))
        return 0;
    bool vid = p2 & PROC2_VIRTUAL_INTR_DELIVERY;
    switch (index) {
    case X2APIC_MSR(VTPR):
        if (v >> 8)
            return -1; /* #GP */
        phys_write(c->mmu.phys, vapic_addr(c) + VTPR, v, 8);
        tpr_virtualize(c);
        return 1;
    case X2APIC_MSR(VEOI):
        if (!vid)
            return 0;
        if (v)
            return -1;
        phys_write(c->mmu.phys, vapic_addr(c) + VEOI, 0, 8);
        eoi_virtualize(c);
        return 1;
    case X2APIC_SELF_IPI:
        if (!vid)
            return 0;
        if (v >> 8)
            return -1;
        phys_write(c->mmu.phys, vapic_addr(c) + APIC_SELF_IPI, v, 8);
        self_ipi_virtualize(c, v & 0xff);
        return 1;
    default:
        return 0;
    }
}

/* ---- the APIC-access page (29.4) ---- */

/* 29.4.2: a read is virtualized when it lies within the low 4 bytes of
 * one of these registers (with "APIC-register virtualization"), or of
 * VTPR (without) */
static bool reg_readable(unsigned reg)
{
    switch (reg) {
    case APIC_ID: case APIC_VER: case VTPR: case VEOI: case APIC_LDR: case APIC_DFR:
    case APIC_SVR: case APIC_ESR: case APIC_LVT_CMCI: case VICR_LO: case VICR_HI:
    case APIC_TIMER_ICR: case APIC_TIMER_DCR:
        return true;
    default:
        return (reg >= VISR && reg < APIC_ESR) ||
               (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR);
    }
}

/* 29.4.3.1: the same for writes at page offset 'off': without
 * "APIC-register virtualization" only at the exact offsets of VTPR (and
 * with virtual-interrupt delivery VEOI and VICR_LO) */
static bool reg_writable(unsigned off, uint32_t p2)
{
    unsigned reg = off & 0xff0;
    if (!(p2 & PROC2_APIC_REGISTER_VIRT)) {
        if (p2 & PROC2_VIRTUAL_INTR_DELIVERY)
            return off == VTPR || off == VEOI || off == VICR_LO;
        return off == VTPR;
    }
    switch (reg) {
    case APIC_ID: case VTPR: case VEOI: case APIC_LDR: case APIC_DFR: case APIC_SVR:
    case APIC_ESR: case APIC_LVT_CMCI: case VICR_LO: case VICR_HI: case APIC_TIMER_ICR:
    case APIC_TIMER_DCR:
        return true;
    default:
        return reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR;
    }
}

/* 29.4.3.2: ICR_LO values that self-IPI virtualization takes: reserved
 * bits 31:20, 17:16 and 13 and delivery status (12) clear, shorthand
 * "self", edge-triggered, fixed delivery, a vector of 16 or more */
static bool self_ipi_icr(uint32_t icr)
{
    return !(icr & 0xfff33000u) && ((icr >> 18) & 3) == 1 && !(icr & (1u << 15)) &&
           ((icr >> 8) & 7) == 0 && (icr & 0xf0);
}

/* 29.4.3.2 APIC-write emulation after a virtualized write at 'off' */
static void apic_write_emulate(struct cpu *c, unsigned off)
{
    bool vid = proc2(c) & PROC2_VIRTUAL_INTR_DELIVERY;
    switch (off & 0xff0) {
    case VTPR:
        vapic_write32(c, VTPR, vapic_read32(c, VTPR) & 0xff); /* bytes 81H-83H clear */
        tpr_virtualize(c);
        return;
    case VEOI:
        if (vid) {
            eoi_virtualize(c);
            return;
        }
        break;
    case VICR_LO:
        if (vid && self_ipi_icr(vapic_read32(c, VICR_LO))) {
            self_ipi_virtualize(c, vapic_read32(c, VICR_LO) & 0xff);
            return;
        }
        break;
    default:
        break;
    }
    trap_exit(c, VMX_EXIT_APIC_WRITE, off); /* 29.4.3.3: qualification is the page offset */
}

/* APIC-access exit qualification (Table 27-6): offset 11:0, access
 * type 15:12 (0 linear read, 1 linear write, 2 linear fetch, 3 linear
 * access during event delivery) */
static _Noreturn void access_exit(struct cpu *c, unsigned off, enum mmu_access_type type)
{
    unsigned kind = (c->vmx.vectoring >> 31) ? 3u : (unsigned)type;
    uint64_t qual = (uint64_t)kind << 12 | off;
    vmx_exit_insn(c, VMX_EXIT_APIC_ACCESS, qual);
}

bool vmx_apicv_access(struct cpu *c, uint64_t pa, unsigned size, enum mmu_access_type type,
                      uint64_t *value)
{
    unsigned off = pa & 0xfff;
    uint32_t p2 = proc2(c);
    bool fits = (off & 0xf) + size <= 4; /* within the low 4 bytes of one register */
    if (!(VMX_PROC_CONTROLS(c) & PROC_USE_TPR_SHADOW) || type == MMU_FETCH || !fits)
        access_exit(c, off, type);
    unsigned reg = off & 0xff0;
    if (type == MMU_READ) {
        bool ok = (p2 & PROC2_APIC_REGISTER_VIRT) ? reg_readable(reg) : reg == VTPR;
        if (!ok)
            access_exit(c, off, type);
        *value = phys_read(c->mmu.phys, vapic_addr(c) + off, size);
        return true;
    }
    if (!reg_writable(off, p2))
        access_exit(c, off, type);
    phys_write(c->mmu.phys, vapic_addr(c) + off, *value, size);
    apic_write_emulate(c, off);
    return true;
}
