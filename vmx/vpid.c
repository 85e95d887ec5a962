/* vmx/vpid.c — VPID and INVVPID (SDM Vol. 3C 28.1, 30.3 "INVVPID").
 *
 * With "enable VPID" the TLB keeps translations across VM entries and
 * exits: a VM exit saves the guest's mappings under its context key
 * (VPID, and with EPT the EPTP) and a VM entry with the same key brings
 * them back (mmu_tlb_switch(), one saved guest context), so a PTE the
 * hypervisor changes behind its guest's back stays in use until an
 * INVVPID, as on hardware.  Without a VPID, entries and exits flush
 * (28.3.3.3).  INVVPID drops more than its type asks for — everything,
 * saved contexts included — which the architecture allows (28.3.3). */
#include "cpu/mem.h"
#include "vmx/vmx_internal.h"

/* INVVPID types, IA32_VMX_EPT_VPID_CAP bits 40-43 */
enum { INVVPID_ADDRESS = 0, INVVPID_SINGLE = 1, INVVPID_ALL = 2, INVVPID_SINGLE_KEEP_GLOBAL = 3 };

/* The TLB context of the guest the current VMCS describes, or 0 when it
 * has none of its own ("enable VPID" off: VM entries and exits then
 * flush, 28.3.3.3).  Mappings are tagged by VPID and, with EPT, by the
 * EPTP (EP4TA and the bits that change permissions) and by "mode-based
 * execute control", which changes what a cached translation may fetch;
 * it goes in bit 11, reserved in any EPTP VM entry accepts. */
uint64_t vmx_tlb_key(const struct cpu *c)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_SECONDARY_CONTROLS))
        return 0;
    uint64_t proc2 = vmcs_get(c, VF_SECONDARY_PROC_CONTROLS);
    if (!(proc2 & PROC2_ENABLE_VPID))
        return 0;
    uint64_t ept = (proc2 & PROC2_ENABLE_EPT) ? vmcs_get(c, VF_EPT_POINTER) & ((1ull << 48) - 1) : 0;
    if ((proc2 & PROC2_ENABLE_EPT) && (proc2 & PROC2_MODE_BASED_EPT_EXEC))
        ept |= 1ull << 11;
    return (vmcs_get(c, VF_VPID) << 48) | ept;
}

void op_invvpid(struct cpu *c, const struct insn *i)
{
    uint64_t type = vmx_inv_prologue(c, i, VMX_EXIT_INVVPID);
    uint64_t cap = vmx_ept_vpid_cap();
    if (type > 3 || !((cap >> (40 + type)) & 1)) {
        vmx_fail(c, VMX_ERR_INVEPT_INVVPID_BAD_OPERAND);
        return;
    }
    /* the 128-bit descriptor: VPID in bits 15:0, bits 63:16 reserved,
     * the linear address in bits 127:64 */
    uint64_t ea = insn_ea(c, i);
    uint64_t lo = mem_read(c, i->seg, ea, 8);
    uint64_t lin = mem_read(c, i->seg, (ea + 8) & size_mask(i->adsize), 8);
    uint16_t vpid = (uint16_t)lo;
    if ((lo >> 16) || (type != INVVPID_ALL && vpid == 0) ||
        (type == INVVPID_ADDRESS && !cpu_canonical_max(c, lin))) {
        vmx_fail(c, VMX_ERR_INVEPT_INVVPID_BAD_OPERAND);
        return;
    }
    /* more than the type asks for, which the architecture allows */
    mmu_flush_all(&c->mmu);
    vmx_log(c, "vmx: INVVPID type %llu (VPID %u, address 0x%llx)\n", (unsigned long long)type,
            vpid, (unsigned long long)lin);
    vmx_succeed(c);
}
