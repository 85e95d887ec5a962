/* vmx/exit.c — VM exits (SDM Vol. 3C chapter 27): recording the exit
 * information, saving the guest state, the MSR-store and MSR-load
 * lists, loading the host state. */
#include <setjmp.h>

#include "cpu/mem.h"
#include "devices/machine.h"
#include "vmx/vmx_internal.h"

uint32_t vmx_msr_load_list(struct cpu *c, uint64_t addr, uint64_t count);

/* ---- 27.3 saving guest state ---- */
void vmx_save_guest_state(struct cpu *c)
{
    struct mmu *m = &c->mmu;
    uint32_t exit = (uint32_t)vmcs_get(c, VF_EXIT_CONTROLS);
    flags_materialize(c);
    vmcs_set(c, VF_GUEST_CR0, m->cr0);
    vmcs_set(c, VF_GUEST_CR3, m->cr3);
    vmcs_set(c, VF_GUEST_CR4, m->cr4);
    if (exit & EXIT_SAVE_DEBUG_CONTROLS) {
        vmcs_set(c, VF_GUEST_DR7, c->dr[7]);
        vmcs_set(c, VF_GUEST_IA32_DEBUGCTL, c->debugctl);
    }
    vmcs_set(c, VF_GUEST_IA32_SYSENTER_CS, c->sysenter_cs);
    vmcs_set(c, VF_GUEST_IA32_SYSENTER_ESP, c->sysenter_esp);
    vmcs_set(c, VF_GUEST_IA32_SYSENTER_EIP, c->sysenter_eip);
    if (exit & EXIT_SAVE_EFER)
        vmcs_set(c, VF_GUEST_IA32_EFER, m->efer);
    if (exit & EXIT_SAVE_PAT)
        vmcs_set(c, VF_GUEST_IA32_PAT, c->pat);
    for (int s = 0; s < 6; s++) {
        vmcs_set(c, vmx_guest_sel[s], c->seg[s].sel);
        vmcs_set(c, vmx_guest_base[s], c->seg[s].base);
        vmcs_set(c, vmx_guest_limit[s], c->seg[s].limit);
        vmcs_set(c, vmx_guest_ar[s], c->seg[s].ar);
    }
    const struct seg *sys[2] = {&c->ldtr, &c->tr};
    for (int k = 0; k < 2; k++) {
        vmcs_set(c, vmx_guest_sel[6 + k], sys[k]->sel);
        vmcs_set(c, vmx_guest_base[6 + k], sys[k]->base);
        vmcs_set(c, vmx_guest_limit[6 + k], sys[k]->limit);
        vmcs_set(c, vmx_guest_ar[6 + k], sys[k]->ar);
    }
    vmcs_set(c, VF_GUEST_GDTR_BASE, c->gdtr.base);
    vmcs_set(c, VF_GUEST_GDTR_LIMIT, c->gdtr.limit);
    vmcs_set(c, VF_GUEST_IDTR_BASE, c->idtr.base);
    vmcs_set(c, VF_GUEST_IDTR_LIMIT, c->idtr.limit);
    vmcs_set(c, VF_GUEST_RSP, c->r[R_RSP]);
    vmcs_set(c, VF_GUEST_RIP, c->rip);
    vmcs_set(c, VF_GUEST_RFLAGS, c->rflags | FL_FIXED1);
    vmcs_set(c, VF_GUEST_INTERRUPTIBILITY, vmx_saved_interruptibility(c));
    /* 27.3.4: the state the guest is in (an exit that woke it saves the
     * inactive state it woke from) */
    vmcs_set(c, VF_GUEST_ACTIVITY_STATE,
             !c->halted ? VMX_ACTIVITY_ACTIVE : c->vmx.activity ? c->vmx.activity : VMX_ACTIVITY_HLT);
    vmcs_set(c, VF_GUEST_PENDING_DBG_EXCEPTIONS, vmx_saved_pending_dbg(c));
    vmx_ept_save_guest(c);
    /* IA32_VMX_MISC bit 5: the "IA-32e mode guest" entry control takes
     * the guest's EFER.LMA */
    uint64_t entry = vmcs_get(c, VF_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
    vmcs_set(c, VF_ENTRY_CONTROLS, entry | ((m->efer & EFER_LMA) ? ENTRY_IA32E_MODE_GUEST : 0));
}

/* ---- 27.4 the VM-exit MSR-store list ---- */
static bool store_msr_list(struct cpu *c)
{
    uint64_t addr = vmcs_get(c, VF_EXIT_MSR_STORE_ADDR);
    uint64_t n = vmcs_get(c, VF_EXIT_MSR_STORE_COUNT);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t pa = addr + 16 * k;
        uint64_t lo = phys_read(c->mmu.phys, pa, 8);
        uint64_t value;
        /* the real IA32_TSC, not the guest's offset view: RDMSR here
         * is the processor's own read (cpu_msr_read has no offset) */
        if ((lo >> 32) || (uint32_t)lo == 0x8b || ((uint32_t)lo >> 8) == 0x8 ||
            !cpu_msr_read(c, (uint32_t)lo, &value))
            return false;
        phys_write(c->mmu.phys, pa + 8, value, 8);
    }
    return true;
}

static _Noreturn void vmx_abort(struct cpu *c, uint32_t indicator)
{
    /* SDM 27.7: the abort indicator goes to the VMCS region and the
     * logical processor shuts down */
    phys_write(c->mmu.phys, c->vmx.current + VMCS_OFF_ABORT, indicator, 4);
    vmx_log(c, "vmx: VMX abort %u\n", indicator);
    c->vmx.nonroot = false;
    c->halted = true;
    machine_request_stop(c->machine, MACHINE_TRIPLE_FAULT, 0, "VMX abort");
    c->exc_vector = VMX_UNWIND_EXIT;
    longjmp(c->fault_jmp, 1);
}

/* ---- 27.5 loading host state ---- */
void vmx_load_host_state(struct cpu *c)
{
    struct mmu *m = &c->mmu;
    uint32_t exit = (uint32_t)vmcs_get(c, VF_EXIT_CONTROLS);
    bool host64 = exit & EXIT_HOST_ADDR_SPACE_SIZE;

    vmx_ept_leave(c);
    /* 27.5.1: CR0 bits ET/CD/NW and the reserved ones keep their value */
    uint64_t keep0 = CR0_ET | CR0_CD | CR0_NW | 0x1ff80000ull | (1ull << 17) | 0xffc0ull;
    m->cr0 = (m->cr0 & keep0) | (vmcs_get(c, VF_HOST_CR0) & ~keep0);
    m->cr3 = vmcs_get(c, VF_HOST_CR3);
    m->cr4 = vmcs_get(c, VF_HOST_CR4);
    m->pcid = (m->cr4 & CR4_PCIDE) ? m->cr3 & 0xfff : 0;
    c->dr[7] = 0x400;
    cpu_dr7_changed(c);
    c->debugctl = 0;
    c->sysenter_cs = vmcs_get(c, VF_HOST_IA32_SYSENTER_CS);
    c->sysenter_esp = vmcs_get(c, VF_HOST_IA32_SYSENTER_ESP);
    c->sysenter_eip = vmcs_get(c, VF_HOST_IA32_SYSENTER_EIP);
    if (exit & EXIT_LOAD_EFER) {
        m->efer = vmcs_get(c, VF_HOST_IA32_EFER);
    } else {
        uint64_t lm = host64 ? (EFER_LMA | EFER_LME) : 0;
        m->efer = (m->efer & ~(EFER_LMA | EFER_LME)) | lm;
    }
    if (exit & EXIT_LOAD_PAT)
        c->pat = vmcs_get(c, VF_HOST_IA32_PAT);

    /* 27.5.2: segment registers */
    static const uint8_t host_sel[6] = {VF_HOST_ES_SELECTOR, VF_HOST_CS_SELECTOR,
                                        VF_HOST_SS_SELECTOR, VF_HOST_DS_SELECTOR,
                                        VF_HOST_FS_SELECTOR, VF_HOST_GS_SELECTOR};
    for (int s = 0; s < 6; s++) {
        struct seg *sg = &c->seg[s];
        sg->sel = (uint16_t)vmcs_get(c, host_sel[s]);
        sg->base = 0;
        sg->limit = 0xffffffffu;
        if (s == SEG_CS) {
            sg->ar = 11 | AR_S | AR_P | AR_G | (host64 ? AR_L : AR_DB);
        } else {
            sg->ar = 3 | AR_S | AR_P | AR_DB | AR_G;
            if (sg->sel == 0)
                sg->ar |= AR_UNUSABLE;
        }
    }
    c->seg[SEG_FS].base = vmcs_get(c, VF_HOST_FS_BASE);
    c->seg[SEG_GS].base = vmcs_get(c, VF_HOST_GS_BASE);
    c->tr = (struct seg){(uint16_t)vmcs_get(c, VF_HOST_TR_SELECTOR), 0x67,
                         vmcs_get(c, VF_HOST_TR_BASE), 11 | AR_P};
    c->ldtr = (struct seg){0, 0, 0, AR_UNUSABLE};
    c->gdtr = (struct dtr){vmcs_get(c, VF_HOST_GDTR_BASE), 0xffff};
    c->idtr = (struct dtr){vmcs_get(c, VF_HOST_IDTR_BASE), 0xffff};
    c->cpl = 0;
    c->r[R_RSP] = vmcs_get(c, VF_HOST_RSP);
    c->rip = vmcs_get(c, VF_HOST_RIP);
    c->rflags = FL_FIXED1;
    c->lf_op = LF_NONE;
    c->inhibit_irq = false;
    c->inhibit_debug = false;
    c->halted = false;
    c->monitor_armed = false; /* 27.5.6: VM exits clear address-range monitoring */
    c->delivering = -1;
    c->fault_depth = 0;
    c->vmx.nonroot = false;
    c->vmx.activity = 0;
    cpu_init_update(c); /* root operation blocks INIT again */
    vmx_events_leave(c);

    /* no VPID: VM exits invalidate linear mappings (28.3.3.3); with
     * one, the guest's stay tagged and the root's come back */
    bool switched = c->vmx.tlb_switched;
    if (switched)
        mmu_tlb_switch(m, 1, c->vmx.tlb_key, 0, 0);
    else
        mmu_flush_all(m);
    c->vmx.tlb_switched = false;
    if ((m->cr0 & CR0_PG) && (m->cr4 & CR4_PAE) && !(m->efer & EFER_LMA) && mmu_load_pdptes(m))
        vmx_abort(c, 2); /* 27.7: failure loading host PDPTRs */
    cpu_update_mode(c); /* the switch above moved the MMU epoch */
    if (switched)
        cpu_links_resume_root(c); /* the root's links may hold again */
    cpu_break_block(c);

    /* 27.6: the VM-exit MSR-load list */
    if (vmx_msr_load_list(c, vmcs_get(c, VF_EXIT_MSR_LOAD_ADDR),
                          vmcs_get(c, VF_EXIT_MSR_LOAD_COUNT)))
        vmx_abort(c, 4);
}

/* Everything a VM exit does after its information fields are written. */
static void vm_exit(struct cpu *c, unsigned reason, uint64_t qualification)
{
    vmx_exit_event_fields(c);
    vmcs_set(c, VF_EXIT_REASON, reason);
    vmcs_set(c, VF_EXIT_QUALIFICATION, qualification);
    /* the VM-entry interruption information's valid bit clears (24.8.3) */
    vmcs_set(c, VF_ENTRY_INTR_INFO, vmcs_get(c, VF_ENTRY_INTR_INFO) & ~(1ull << 31));
    if (c->vmx.timer_armed && (vmcs_get(c, VF_EXIT_CONTROLS) & EXIT_SAVE_PREEMPTION_TIMER))
        vmcs_set(c, VF_PREEMPTION_TIMER_VALUE, vmx_timer_remaining(c));
    vmx_save_guest_state(c);
    if (!store_msr_list(c))
        vmx_abort(c, 1);
    c->vmx.exits++;
    if ((reason & 0xffff) < VMX_EXIT_REASONS)
        c->vmx.exits_by_reason[reason & 0xffff]++;
    vmx_log(c, "vmx: VM exit %u (%s) qualification 0x%llx at guest rip 0x%llx\n", reason,
            vmx_exit_reason_name(reason), (unsigned long long)qualification,
            (unsigned long long)vmcs_get(c, VF_GUEST_RIP));
    vmx_load_host_state(c);
    if (c->dbg_vmx)
        c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_EXIT, reason, 0);
}

static _Noreturn void unwind(struct cpu *c)
{
    c->exc_vector = VMX_UNWIND_EXIT;
    longjmp(c->fault_jmp, 1);
}

_Noreturn void vmx_exit_insn_with_info(struct cpu *c, unsigned reason, uint64_t qualification,
                                       uint32_t info)
{
    /* the exit happens instead of the instruction: the guest's RIP is
     * the instruction's own (27.3.3) */
    uint64_t len = (c->rip - c->insn_rip) & size_mask(c->code_size);
    c->rip = c->insn_rip;
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, len);
    vmcs_set(c, VF_VMX_INSTRUCTION_INFO, info);
    vmcs_set(c, VF_IDT_VECTORING_INFO, 0);
    vm_exit(c, reason, qualification);
    unwind(c);
}

_Noreturn void vmx_exit_insn(struct cpu *c, unsigned reason, uint64_t qualification)
{
    /* the instruction-information field is undefined for these exits
     * (27.2.5): 0 keeps runs reproducible */
    vmx_exit_insn_with_info(c, reason, qualification, 0);
}

void vmx_exit_triple_fault(struct cpu *c)
{
    vmcs_set(c, VF_IDT_VECTORING_INFO, 0);
    vmcs_set(c, VF_EXIT_INTR_INFO, 0);
    c->rip = c->insn_rip;
    vm_exit(c, VMX_EXIT_TRIPLE_FAULT, 0);
}

void vmx_event_vm_exit(struct cpu *c, unsigned reason, uint64_t qualification)
{
    vm_exit(c, reason, qualification);
}

/* ---- MSR bitmaps (SDM 24.6.9, 25.1.3) ---- */

bool vmx_msr_exits(const struct cpu *c, uint32_t index, bool write)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_USE_MSR_BITMAPS))
        return true;
    /* four 1-KiB bitmaps: read low, read high, write low, write high */
    uint64_t offset;
    if (index <= 0x1fff)
        offset = 0;
    else if (index >= 0xc0000000u && index <= 0xc0001fffu)
        offset = 1024;
    else
        return true;
    if (write)
        offset += 2048;
    uint32_t bit = index & 0x1fff;
    uint64_t pa = vmcs_get(c, VF_MSR_BITMAP) + offset + bit / 8;
    return (phys_read(c->mmu.phys, pa, 1) >> (bit % 8)) & 1;
}

/* ---- CR0/CR4 guest/host masks and read shadows (SDM 25.3) ---- */

static void cr_fields(int cr, enum vmcs_field_id *mask, enum vmcs_field_id *shadow)
{
    *mask = cr == 0 ? VF_CR0_GUEST_HOST_MASK : VF_CR4_GUEST_HOST_MASK;
    *shadow = cr == 0 ? VF_CR0_READ_SHADOW : VF_CR4_READ_SHADOW;
}

uint64_t vmx_cr_read(const struct cpu *c, int cr, uint64_t real)
{
    enum vmcs_field_id mf, sf;
    cr_fields(cr, &mf, &sf);
    uint64_t mask = vmcs_get(c, mf);
    return (real & ~mask) | (vmcs_get(c, sf) & mask);
}

uint64_t vmx_cr_write(struct cpu *c, int cr, uint64_t value, unsigned gpr, uint64_t real)
{
    enum vmcs_field_id mf, sf;
    cr_fields(cr, &mf, &sf);
    uint64_t mask = vmcs_get(c, mf);
    /* 25.1.3: a write exits when it would change a host-owned bit away
     * from its read shadow; exit qualification 27-3: CR number, access
     * type 0 (MOV to CR), the source register */
    if ((value ^ vmcs_get(c, sf)) & mask)
        vmx_exit_insn(c, VMX_EXIT_CR_ACCESS, vmx_cr_qualification(cr, 0, gpr));
    return (value & ~mask) | (real & mask);
}

/* SDM 25.1.3: MOV to CR3 exits with "CR3-load exiting" unless the value
 * is one of the first CR3-target-count target values */
void vmx_cr3_write_check(struct cpu *c, uint64_t value, unsigned gpr)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_CR3_LOAD_EXITING))
        return;
    static const uint8_t targets[4] = {VF_CR3_TARGET_VALUE0, VF_CR3_TARGET_VALUE1,
                                       VF_CR3_TARGET_VALUE2, VF_CR3_TARGET_VALUE3};
    uint64_t n = vmcs_get(c, VF_CR3_TARGET_COUNT);
    for (uint64_t k = 0; k < n && k < 4; k++)
        if (vmcs_get(c, targets[k]) == value)
            return;
    vmx_exit_insn(c, VMX_EXIT_CR_ACCESS, vmx_cr_qualification(3, 0, gpr));
}
