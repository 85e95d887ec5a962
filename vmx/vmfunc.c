/* vmx/vmfunc.c — VM functions (SDM Vol. 3C 24.6.14, 25.5.6, the
 * VMFUNC instruction in 30.3 and IA32_VMX_VMFUNC in A.11): the one VM
 * function nest86 offers, EPTP switching (function 0), its VM-entry
 * checks (26.2.1.1), and VMFUNC itself.
 *
 * A VM function runs without a VM exit; anything VMFUNC cannot do
 * (an unknown or disabled function, a bad list index or list entry)
 * becomes a VM exit with reason 59, so the VMM may emulate it. */
#include "cpu/mem.h"
#include "vmx/vmx_internal.h"

/* IA32_VMX_VMFUNC (A.11): the VM functions the controls may enable */
#define VMFUNC_EPTP_SWITCHING (1ull << 0)
#define EPTP_LIST_ENTRIES 512 /* one 4-KiB page of 8-byte EPTPs (24.6.14) */

uint64_t vmx_vmfunc_caps(void)
{
    return VMFUNC_EPTP_SWITCHING;
}

/* 26.2.1.1: with "enable VM functions", the VM-function controls may
 * set only what IA32_VMX_VMFUNC allows; EPTP switching needs "enable
 * EPT" and an EPTP-list address that is 4-KiB aligned and within the
 * physical-address width.  NULL when all is well. */
const char *vmx_vmfunc_entry_problem(const struct cpu *c, uint32_t proc2)
{
    if (!(proc2 & PROC2_ENABLE_VMFUNC))
        return NULL;
    uint64_t ctl = vmcs_get(c, VF_VM_FUNCTION_CONTROLS);
    if (ctl & ~vmx_vmfunc_caps())
        return "VM-function controls set a bit IA32_VMX_VMFUNC does not allow (SDM 26.2.1.1)";
    if (!(ctl & VMFUNC_EPTP_SWITCHING))
        return NULL;
    if (!(proc2 & PROC2_ENABLE_EPT))
        return "EPTP switching without \"enable EPT\" (SDM 26.2.1.1)";
    uint64_t list = vmcs_get(c, VF_EPTP_LIST_ADDR);
    if ((list & 0xfff) || (list >> MMU_MAXPHYADDR))
        return "EPTP-list address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)";
    return NULL;
}

/* 25.5.6.3: EPTP switching loads the EPTP in entry ECX of the EPTP list
 * when that entry would pass VM entry's EPTP checks; else, or with ECX
 * beyond the list, the VMFUNC exits.  The guest's translations so far
 * belong to the old EPTP: they are kept under its TLB key when the
 * guest has a VPID (as a VM exit would), else dropped. */
static void eptp_switch(struct cpu *c)
{
    uint32_t index = (uint32_t)c->r[R_RCX];
    if (index >= EPTP_LIST_ENTRIES)
        vmx_exit_insn(c, VMX_EXIT_VMFUNC, 0);
    uint64_t eptp = phys_read(c->mmu.phys, vmcs_get(c, VF_EPTP_LIST_ADDR) + 8ull * index, 8);
    const char *bad = vmx_ept_eptp_problem(eptp);
    if (bad) {
        vmx_log(c, "vmx: VMFUNC EPTP switching to list entry %u: %s\n", index, bad);
        vmx_exit_insn(c, VMX_EXIT_VMFUNC, 0);
    }
    vmcs_set(c, VF_EPT_POINTER, eptp);
    c->vmx.ept.eptp = eptp;
    /* nest86 offers "EPT-violation #VE", so ECX[15:0] becomes the EPTP
     * index that a #VE reports (25.5.6.3, 25.5.7.2) */
    vmcs_set(c, VF_EPTP_INDEX, index & 0xffff);
    uint64_t old_key = c->vmx.tlb_key;
    c->vmx.tlb_key = vmx_tlb_key(c);
    if (c->vmx.tlb_switched)
        mmu_tlb_switch(&c->mmu, 1, old_key, 1, c->vmx.tlb_key);
    else
        mmu_flush_all(&c->mmu);
    /* the next instruction's bytes may now come from another page */
    cpu_break_block(c);
    vmx_log(c, "vmx: VMFUNC EPTP switching to list entry %u: EPTP 0x%llx\n", index,
            (unsigned long long)eptp);
}

/* VMFUNC (0F 01 D4): #UD outside non-root operation or with "enable VM
 * functions" 0; function EAX must be below 64 and enabled in the
 * VM-function controls, else a VM exit (30.3 "VMFUNC"). */
void vmx_vmfunc(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!c->vmx.nonroot || !(VMX_PROC2_CONTROLS(c) & PROC2_ENABLE_VMFUNC))
        cpu_raise(c, EX_UD, 0);
    uint32_t fn = (uint32_t)c->r[R_RAX];
    if (fn >= 64 || !((vmcs_get(c, VF_VM_FUNCTION_CONTROLS) >> fn) & 1))
        vmx_exit_insn(c, VMX_EXIT_VMFUNC, 0);
    eptp_switch(c); /* function 0, the only one IA32_VMX_VMFUNC allows */
}
