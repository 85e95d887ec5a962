/* vmx/ve.c — virtualization exceptions (SDM Vol. 3C 25.5.7): with the
 * "EPT-violation #VE" control, an EPT violation that is convertible
 * becomes a #VE (vector 20) in the guest instead of a VM exit, after the
 * processor saved what the exit would have reported in the
 * virtualization-exception information area (Table 25-1).
 *
 * The area's address is a physical address like the VMCS's other
 * pointers, so nest86 writes it without EPT; VM entry checked its
 * alignment and width (26.2.1.1). */
#include "mmu/ept.h"
#include "vmx/vmx_internal.h"

/* Table 25-1: the area's layout */
enum {
    VE_EXIT_REASON = 0,   /* 32 bits: 48 (EPT violation) */
    VE_BUSY = 4,          /* 32 bits: FFFFFFFFH once written; 0 lets a #VE happen */
    VE_QUALIFICATION = 8, /* 64 bits: as the VM exit's (Table 27-7) */
    VE_LINEAR = 16,       /* 64 bits: guest-linear address */
    VE_PHYSICAL = 24,     /* 64 bits: guest-physical address */
    VE_EPTP_INDEX = 32,   /* 16 bits: the EPTP-index field */
};

/* 25.5.7.1: the violation is convertible when the entry that decided it
 * (not present, or the leaf) has "suppress #VE" clear; it causes a #VE
 * when, besides, CR0.PE = 1, no event is being delivered through the
 * IDT, and the 32 bits at offset 4 of the area are 0.  Then the
 * information is saved (25.5.7.2) and true is returned: the caller
 * raises #VE, which the exception bitmap may still turn into a VM exit
 * (25.5.7.3). */
bool vmx_ve_convert(struct cpu *c, const struct mmu_fault *f)
{
    if (!(VMX_PROC2_CONTROLS(c) & PROC2_EPT_VIOLATION_VE) || f->suppress_ve)
        return false;
    if (!(c->mmu.cr0 & CR0_PE) || (c->vmx.vectoring >> 31))
        return false;
    struct phys *ph = c->mmu.phys;
    uint64_t area = vmcs_get(c, VF_VE_INFO_ADDR);
    if (phys_read(ph, area + VE_BUSY, 4) != 0)
        return false;
    /* bit 12 (NMI unblocking due to IRET) belongs to VM exits: the
     * faulting IRET leaves NMI blocking as it was */
    uint64_t qual = f->error_code & ~(uint64_t)EPT_QUAL_NMI_UNBLOCK;
    phys_write(ph, area + VE_EXIT_REASON, VMX_EXIT_EPT_VIOLATION, 4);
    phys_write(ph, area + VE_BUSY, 0xffffffffu, 4);
    phys_write(ph, area + VE_QUALIFICATION, qual, 8);
    phys_write(ph, area + VE_LINEAR, (qual & EPT_QUAL_LIN_VALID) ? f->address : 0, 8);
    phys_write(ph, area + VE_PHYSICAL, f->gpa, 8);
    phys_write(ph, area + VE_EPTP_INDEX, vmcs_get(c, VF_EPTP_INDEX), 2);
    vmx_log(c, "vmx: EPT violation at guest-physical 0x%llx becomes #VE (qualification 0x%llx)\n",
            (unsigned long long)f->gpa, (unsigned long long)qual);
    return true;
}
