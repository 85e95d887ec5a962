/* vmx/insn.c — the VMX instructions that manage VMX operation and the
 * VMCS: VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, and
 * VMCALL outside non-root operation.  Each follows the "Operation"
 * section of its page in SDM Vol. 3C chapter 30. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"
#include "vmx/vmx_internal.h"

/* ---- outcomes, SDM 30.2 "Conventions" ---- */

void vmx_succeed(struct cpu *c)
{
    flags_set_arith(c, 0);
}

static void fail_invalid(struct cpu *c)
{
    flags_set_arith(c, FL_CF);
}

void vmx_fail(struct cpu *c, enum vmx_error err)
{
    if (c->vmx.current == VMX_INVALID_PTR) {
        fail_invalid(c);
        return;
    }
    flags_set_arith(c, FL_ZF);
    c->vmx.vmcs.f[VF_VM_INSTRUCTION_ERROR] = err;
}

/* The #UD conditions every VMX instruction but VMXON shares, then the
 * VM exit in non-root operation and the CPL check. */
static void common_checks(struct cpu *c, const struct insn *i, unsigned exit_reason)
{
    if (!c->vmx.on || c->mode == MODE_REAL || c->mode == MODE_V86 || c->mode == MODE_COMPAT)
        cpu_raise(c, EX_UD, 0);
    if (c->vmx.nonroot)
        vmx_exit_insn_info(c, i, exit_reason);
    require_cpl0(c);
    vmx_dbg_insn(c, exit_reason, 0);
}

/* A physical-address operand (VMXON, VMCLEAR, VMPTRLD): 4-KiB aligned
 * and within the physical-address width (IA32_VMX_BASIC[48] = 0). */
static bool good_region_addr(uint64_t pa)
{
    return !(pa & 0xfff) && !(pa >> MMU_MAXPHYADDR);
}

static uint64_t read_ptr_operand(struct cpu *c, const struct insn *i)
{
    return mem_read(c, i->seg, insn_ea(c, i), 8);
}

/* ---- the VMCS region in memory (nest86's format, vmx/vmcs.h) ---- */

static void vmcs_store(struct cpu *c, uint64_t pa)
{
    struct phys *p = c->mmu.phys;
    phys_write(p, pa + VMCS_OFF_LAUNCH, c->vmx.vmcs.launched, 4);
    for (int k = 0; k < VMCS_NFIELDS; k++)
        phys_write(p, pa + VMCS_OFF_FIELDS + 8u * k, c->vmx.vmcs.f[k], 8);
}

static void vmcs_load(struct cpu *c, uint64_t pa)
{
    struct phys *p = c->mmu.phys;
    c->vmx.vmcs.launched = phys_read(p, pa + VMCS_OFF_LAUNCH, 4) == 1;
    for (int k = 0; k < VMCS_NFIELDS; k++) {
        uint64_t v = phys_read(p, pa + VMCS_OFF_FIELDS + 8u * k, 8);
        c->vmx.vmcs.f[k] = v & vmcs_field_mask[k];
    }
}

/* ---- VMXON / VMXOFF ---- */

static void op_vmxon(struct cpu *c, const struct insn *i)
{
    /* #UD: real mode, CR4.VMXE = 0, V86, compatibility mode */
    if (c->mode == MODE_REAL || !(c->mmu.cr4 & CR4_VMXE) || c->mode == MODE_V86 ||
        c->mode == MODE_COMPAT)
        cpu_raise(c, EX_UD, 0);
    if (c->vmx.nonroot)
        vmx_exit_insn_info(c, i, VMX_EXIT_VMXON);
    if (c->vmx.on) {
        require_cpl0(c);
        vmx_dbg_insn(c, VMX_EXIT_VMXON, 0);
        vmx_fail(c, VMX_ERR_VMXON_IN_ROOT);
        return;
    }
    /* #GP: CPL > 0, CR0/CR4 outside the fixed bits, IA32_FEATURE_CONTROL
     * not locked or VMX outside SMX not enabled (SDM "VMXON") */
    if (c->cpl != 0 || !vmx_cr_allowed(c, 0, c->mmu.cr0) || !vmx_cr_allowed(c, 4, c->mmu.cr4) ||
        (c->feature_control & 5) != 5)
        cpu_raise(c, EX_GP, 0);
    vmx_dbg_insn(c, VMX_EXIT_VMXON, 0);
    uint64_t pa = read_ptr_operand(c, i);
    if (!good_region_addr(pa)) {
        fail_invalid(c);
        return;
    }
    uint32_t rev = (uint32_t)phys_read(c->mmu.phys, pa + VMCS_OFF_REVISION, 4);
    if (rev != VMX_REVISION_ID) { /* bit 31 set is a mismatch too */
        fail_invalid(c);
        return;
    }
    c->vmx.on = true;
    c->vmx.vmxon_ptr = pa;
    c->vmx.current = VMX_INVALID_PTR;
    cpu_init_update(c); /* INIT is blocked from now on (SDM 33.2) */
    vmx_succeed(c);
}

static void op_vmxoff(struct cpu *c, const struct insn *i)
{
    common_checks(c, i, VMX_EXIT_VMXOFF);
    /* a VMCS still current keeps its data: write it back as VMCLEAR
     * would (hardware may lose it; software must not rely on either) */
    if (c->vmx.current != VMX_INVALID_PTR)
        vmcs_store(c, c->vmx.current);
    c->vmx.on = false;
    c->vmx.current = VMX_INVALID_PTR;
    vmx_succeed(c);
    /* an INIT that VMX root operation held is taken now (SDM 33.2):
     * why an OS leaves VMX operation before it resets by INIT */
    cpu_init_update(c);
}

/* ---- VMCLEAR / VMPTRLD / VMPTRST ---- */

/* The VMCS-pointer operand of VMCLEAR and VMPTRLD: false (and the
 * instruction failed with the given error) when it is not 4-KiB aligned
 * and in range, or when it is the VMXON pointer. */
static bool vmcs_ptr_operand(struct cpu *c, const struct insn *i, enum vmx_error bad_addr,
                             enum vmx_error is_vmxon, uint64_t *pa)
{
    *pa = read_ptr_operand(c, i);
    if (!good_region_addr(*pa)) {
        vmx_fail(c, bad_addr);
        return false;
    }
    if (*pa == c->vmx.vmxon_ptr) {
        vmx_fail(c, is_vmxon);
        return false;
    }
    return true;
}

static void op_vmclear(struct cpu *c, const struct insn *i)
{
    common_checks(c, i, VMX_EXIT_VMCLEAR);
    uint64_t pa;
    if (!vmcs_ptr_operand(c, i, VMX_ERR_VMCLEAR_BAD_ADDR, VMX_ERR_VMCLEAR_VMXON_PTR, &pa))
        return;
    if (pa == c->vmx.current) {
        /* the cached data goes back to memory, launch state clear */
        c->vmx.vmcs.launched = false;
        vmcs_store(c, pa);
        c->vmx.current = VMX_INVALID_PTR;
    } else {
        phys_write(c->mmu.phys, pa + VMCS_OFF_LAUNCH, 0, 4);
    }
    vmx_succeed(c);
}

static void op_vmptrld(struct cpu *c, const struct insn *i)
{
    common_checks(c, i, VMX_EXIT_VMPTRLD);
    uint64_t pa;
    if (!vmcs_ptr_operand(c, i, VMX_ERR_VMPTRLD_BAD_ADDR, VMX_ERR_VMPTRLD_VMXON_PTR, &pa))
        return;
    /* bits 30:0 must match; bit 31 marks a shadow VMCS, which VMCS
     * shadowing allows (30.3 "VMPTRLD") */
    uint32_t rev = (uint32_t)phys_read(c->mmu.phys, pa + VMCS_OFF_REVISION, 4);
    if ((rev & ~VMX_SHADOW_VMCS_BIT) != VMX_REVISION_ID) {
        vmx_fail(c, VMX_ERR_VMPTRLD_BAD_REVISION);
        return;
    }
    c->vmx.current_shadow = rev & VMX_SHADOW_VMCS_BIT;
    if (c->vmx.current != pa) {
        if (c->vmx.current != VMX_INVALID_PTR)
            vmcs_store(c, c->vmx.current); /* keep the old one's data */
        vmcs_load(c, pa);
        c->vmx.current = pa;
    }
    vmx_succeed(c);
}

static void op_vmptrst(struct cpu *c, const struct insn *i)
{
    common_checks(c, i, VMX_EXIT_VMPTRST);
    mem_write(c, i->seg, insn_ea(c, i), 8, c->vmx.current);
    vmx_succeed(c);
}

/* ---- VMREAD / VMWRITE ---- */

/* Value of field 'id' as VMREAD sees it through encoding 'enc'. */
static uint64_t field_read(const struct cpu *c, int id, uint64_t enc)
{
    uint64_t v = c->vmx.vmcs.f[id];
    return vmcs_enc_high((uint32_t)enc) ? v >> 32 : v;
}

static void field_write(struct cpu *c, int id, uint64_t enc, uint64_t v)
{
    uint64_t *f = &c->vmx.vmcs.f[id];
    if (vmcs_enc_high((uint32_t)enc))
        *f = (*f & 0xffffffffull) | (v << 32);
    else
        *f = v & vmcs_width_mask(vmcs_enc_width((uint32_t)enc));
}

/* ---- VMCS shadowing (24.10, 30.3 "VMREAD", "VMWRITE") ---- */

/* In non-root operation: true when VMREAD/VMWRITE of 'enc' goes to the
 * shadow VMCS instead of exiting — "VMCS shadowing" on, the encoding
 * below 8000H and its bit clear in the VMREAD or VMWRITE bitmap. */
static bool shadowed(const struct cpu *c, uint64_t enc, bool write)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_SECONDARY_CONTROLS) ||
        !(vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) & PROC2_VMCS_SHADOWING) || enc >> 15)
        return false;
    uint64_t bitmap = vmcs_get(c, write ? VF_VMWRITE_BITMAP : VF_VMREAD_BITMAP);
    return !((phys_read(c->mmu.phys, bitmap + enc / 8, 1) >> (enc % 8)) & 1);
}

/* the shadow VMCS's slot for field 'id' (nest86's VMCS format) */
static uint64_t shadow_slot(const struct cpu *c, int id)
{
    return vmcs_get(c, VF_VMCS_LINK_POINTER) + VMCS_OFF_FIELDS + 8u * (unsigned)id;
}

/* The field a shadowed VMREAD/VMWRITE names, or -1 after failing the
 * instruction: VMfailInvalid without a shadow VMCS (link pointer
 * FFFFFFFF_FFFFFFFFH), VMfailValid 12 for an unsupported component. */
static int shadow_field(struct cpu *c, uint64_t enc)
{
    if (vmcs_get(c, VF_VMCS_LINK_POINTER) == VMX_INVALID_PTR) {
        fail_invalid(c);
        return -1;
    }
    int id = vmcs_field_lookup(enc);
    if (id < 0)
        vmx_fail(c, VMX_ERR_UNSUPPORTED_FIELD);
    return id;
}

/* The checks VMREAD and VMWRITE start with: #UD, then in non-root
 * operation the exit unless the access is shadowed, then CPL.  Returns
 * whether the access goes to the shadow VMCS. */
static bool vmread_vmwrite_checks(struct cpu *c, const struct insn *i, bool write)
{
    if (!c->vmx.on || c->mode == MODE_REAL || c->mode == MODE_V86 || c->mode == MODE_COMPAT)
        cpu_raise(c, EX_UD, 0);
    if (c->vmx.nonroot) {
        uint64_t enc = c->r[i->reg] & size_mask(c->mode == MODE_LONG ? 8 : 4);
        if (!shadowed(c, enc, write))
            vmx_exit_insn_info(c, i, write ? VMX_EXIT_VMWRITE : VMX_EXIT_VMREAD);
    }
    require_cpl0(c);
    if (!c->vmx.nonroot)
        vmx_dbg_insn(c, write ? VMX_EXIT_VMWRITE : VMX_EXIT_VMREAD, 0);
    return c->vmx.nonroot;
}

void op_vmread(struct cpu *c, const struct insn *i)
{
    bool shadow = vmread_vmwrite_checks(c, i, false);
    unsigned size = c->mode == MODE_LONG ? 8 : 4;
    if (shadow) {
        uint64_t enc = c->r[i->reg] & size_mask(size);
        int id = shadow_field(c, enc);
        if (id < 0)
            return;
        uint64_t v = phys_read(c->mmu.phys, shadow_slot(c, id), 8) & vmcs_field_mask[id];
        v = (vmcs_enc_high((uint32_t)enc) ? v >> 32 : v) & size_mask(size);
        if (i->mod == 3)
            c->r[i->rm] = v;
        else
            mem_write(c, i->seg, insn_ea(c, i), size, v);
        vmx_succeed(c);
        return;
    }
    if (c->vmx.current == VMX_INVALID_PTR) {
        fail_invalid(c);
        return;
    }
    uint64_t enc = c->r[i->reg] & size_mask(size);
    int id = vmcs_field_lookup(enc);
    if (id < 0) {
        vmx_fail(c, VMX_ERR_UNSUPPORTED_FIELD);
        return;
    }
    uint64_t v = field_read(c, id, enc) & size_mask(size);
    if (i->mod == 3)
        c->r[i->rm] = v; /* a 32-bit write zero-extends; 64-bit is whole */
    else
        mem_write(c, i->seg, insn_ea(c, i), size, v);
    vmx_succeed(c);
}

void op_vmwrite(struct cpu *c, const struct insn *i)
{
    bool shadow = vmread_vmwrite_checks(c, i, true);
    unsigned size = c->mode == MODE_LONG ? 8 : 4;
    if (shadow) {
        uint64_t v = i->mod == 3 ? c->r[i->rm] & size_mask(size)
                                 : mem_read(c, i->seg, insn_ea(c, i), size);
        uint64_t enc = c->r[i->reg] & size_mask(size);
        int id = shadow_field(c, enc);
        if (id < 0)
            return;
        uint64_t pa = shadow_slot(c, id), old = phys_read(c->mmu.phys, pa, 8);
        uint64_t nv = vmcs_enc_high((uint32_t)enc) ? (old & 0xffffffffull) | (v << 32)
                                                   : v & vmcs_field_mask[id];
        phys_write(c->mmu.phys, pa, nv, 8);
        vmx_succeed(c);
        return;
    }
    if (c->vmx.current == VMX_INVALID_PTR) {
        fail_invalid(c);
        return;
    }
    uint64_t v = i->mod == 3 ? c->r[i->rm] & size_mask(size)
                             : mem_read(c, i->seg, insn_ea(c, i), size);
    uint64_t enc = c->r[i->reg] & size_mask(size);
    int id = vmcs_field_lookup(enc);
    if (id < 0) {
        vmx_fail(c, VMX_ERR_UNSUPPORTED_FIELD);
        return;
    }
    /* VM-exit information fields are writable: IA32_VMX_MISC bit 29 */
    field_write(c, id, enc, v);
    vmx_succeed(c);
}

/* ---- dispatch from the opcode groups ---- */

bool vmx_grp9(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    if (i->mod == 3 || (r != 6 && r != 7))
        return false;
    if (r == 7) {
        if (i->p66 || i->rep)
            return false;
        op_vmptrst(c, i);
        return true;
    }
    if (i->rep == REP_F3)
        op_vmxon(c, i);
    else if (i->p66)
        op_vmclear(c, i);
    else if (!i->rep)
        op_vmptrld(c, i);
    else
        return false;
    return true;
}

bool vmx_grp7(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3 && (i->reg & 7) == 2 && (i->rm & 7) == 4) { /* 0F 01 D4 */
        vmx_vmfunc(c, i);
        return true;
    }
    if (i->mod != 3 || (i->reg & 7) != 0)
        return false;
    switch (i->rm & 7) {
    case 1: /* VMCALL: exits in non-root operation, fails in root operation */
        if (c->vmx.nonroot)
            vmx_exit_insn(c, VMX_EXIT_VMCALL, 0);
        if (!c->vmx.on)
            cpu_raise(c, EX_UD, 0);
        require_cpl0(c);
        vmx_fail(c, VMX_ERR_VMCALL_IN_ROOT); /* no dual-monitor treatment */
        return true;
    case 2:
    case 3:
        common_checks(c, i, (i->rm & 7) == 2 ? VMX_EXIT_VMLAUNCH : VMX_EXIT_VMRESUME);
        vmx_launch(c, (i->rm & 7) == 2);
        return true;
    case 4: op_vmxoff(c, i); return true;
    default: return false;
    }
}
