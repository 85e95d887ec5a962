/* vmx/restore.c — VMX state after a snapshot load: the hooks that VM
 * entry installs in the MMU (the EPT walk, the APIC-access page) hold
 * host pointers, so a snapshot records the VMX state as plain values
 * and this puts the hooks back to match it. */
#include <string.h>

#include "cpu/cpu.h"
#include "vmx/caps.h"
#include "vmx/vmx_internal.h"

void vmx_after_restore(struct cpu *c)
{
    vmx_ept_leave(c);
    mmu_set_slow_page(&c->mmu, MMU_NO_SLOW_PAGE);
    c->vmx.entry_failure = NULL;
    if (!c->vmx.on || !c->vmx.nonroot)
        return;
    /* vmx_ept_enter is VM entry's: it also loads a PAE guest's PDPTE
     * registers from the VMCS, but mid-guest the registers are the
     * saved ones (a MOV to CR3 in the guest may have reloaded them) */
    uint64_t pdpte[4];
    memcpy(pdpte, c->mmu.pdpte, sizeof(pdpte));
    vmx_ept_enter(c);
    memcpy(c->mmu.pdpte, pdpte, sizeof(pdpte));
    if (VMX_PROC2_CONTROLS(c) & PROC2_VIRTUALIZE_APIC_ACCESSES)
        mmu_set_slow_page(&c->mmu, vmcs_get(c, VF_APIC_ACCESS_ADDR));
}
