/* testsuite/unit/vmx_vmcs.c — the VMCS field table and the VM-entry
 * checks, without a guest:
 *   - encodings against SDM Vol. 3C Appendix B literals (written here,
 *     not taken from the table under test), the derived width/type/index,
 *     lookups of high halves and reserved bits, names;
 *   - capability-MSR settings derived from vmx/controls.def;
 *   - a fuzz target: a valid VMCS with random fields broken, entered with
 *     vmx_launch() many thousand times, must only ever end in VMfail,
 *     an entry failure or a successful entry, never a crash; then random
 *     VMREAD/VMWRITE operands.  Each outcome must be seen at least once,
 *     so the fuzz reaches every stage of the checks. */
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "devices/machine.h"
#include "testsuite/unit/unit.h"
#include "vmx/vmx_internal.h"

static void encodings_match_the_sdm(void)
{
    static const struct { int id; uint32_t enc; } sdm[] = {
        {VF_VPID, 0x0000}, {VF_GUEST_ES_SELECTOR, 0x0800}, {VF_HOST_TR_SELECTOR, 0x0c0c},
        {VF_IO_BITMAP_A, 0x2000}, {VF_TSC_OFFSET, 0x2010}, {VF_EPT_POINTER, 0x201a},
        {VF_GUEST_PHYSICAL_ADDR, 0x2400}, {VF_VMCS_LINK_POINTER, 0x2800},
        {VF_GUEST_IA32_EFER, 0x2806}, {VF_HOST_IA32_EFER, 0x2c02},
        {VF_PIN_BASED_CONTROLS, 0x4000}, {VF_PROC_BASED_CONTROLS, 0x4002},
        {VF_EXIT_CONTROLS, 0x400c}, {VF_ENTRY_CONTROLS, 0x4012},
        {VF_SECONDARY_PROC_CONTROLS, 0x401e}, {VF_VM_INSTRUCTION_ERROR, 0x4400},
        {VF_EXIT_REASON, 0x4402}, {VF_VMX_INSTRUCTION_INFO, 0x440e},
        {VF_GUEST_CS_AR, 0x4816}, {VF_GUEST_INTERRUPTIBILITY, 0x4824},
        {VF_PREEMPTION_TIMER_VALUE, 0x482e}, {VF_HOST_IA32_SYSENTER_CS, 0x4c00},
        {VF_CR0_GUEST_HOST_MASK, 0x6000}, {VF_EXIT_QUALIFICATION, 0x6400},
        {VF_GUEST_LINEAR_ADDR, 0x640a}, {VF_GUEST_CR0, 0x6800}, {VF_GUEST_RIP, 0x681e},
        {VF_GUEST_RFLAGS, 0x6820}, {VF_HOST_RSP, 0x6c14}, {VF_HOST_RIP, 0x6c16},
    };
    for (size_t k = 0; k < sizeof(sdm) / sizeof(sdm[0]); k++)
        UNIT_CHECKF(vmcs_field_encoding(sdm[k].id) == sdm[k].enc, "%s is 0x%x, SDM says 0x%x",
                    vmcs_field_name(sdm[k].id), vmcs_field_encoding(sdm[k].id), sdm[k].enc);
}

static void encodings_are_unique_and_well_formed(void)
{
    for (int a = 0; a < VMCS_NFIELDS; a++) {
        uint32_t e = vmcs_field_encoding(a);
        UNIT_CHECKF(!(e & 1) && !(e & 0x1000) && e < 0x8000, "%s: 0x%x", vmcs_field_name(a), e);
        for (int b = a + 1; b < VMCS_NFIELDS; b++)
            UNIT_CHECKF(e != vmcs_field_encoding(b), "%s and %s share 0x%x", vmcs_field_name(a),
                        vmcs_field_name(b), e);
    }
}

static void derived_width_type_index(void)
{
    UNIT_CHECK(vmcs_enc_width(0x681e) == VMCS_WNATURAL && vmcs_enc_type(0x681e) == VMCS_T_GUEST);
    UNIT_CHECK(vmcs_enc_width(0x4402) == VMCS_W32 && vmcs_enc_type(0x4402) == VMCS_T_EXIT_INFO);
    UNIT_CHECK(vmcs_enc_width(0x2010) == VMCS_W64 && vmcs_enc_type(0x2010) == VMCS_T_CONTROL);
    UNIT_CHECK(vmcs_enc_width(0x0c0c) == VMCS_W16 && vmcs_enc_type(0x0c0c) == VMCS_T_HOST);
    UNIT_CHECK(vmcs_enc_index(0x482e) == 0x17);
    /* IA32_VMX_VMCS_ENUM: the TSC multiplier (2032H) has the highest
     * index, 19H; the VMX-preemption timer value (482EH) comes next, 17H */
    UNIT_CHECK(vmcs_enc_index(0x2032) == 0x19);
    UNIT_CHECK(vmcs_max_index() == 0x19);
}

static void lookups(void)
{
    UNIT_CHECK(vmcs_field_lookup(0x2011) == VF_TSC_OFFSET);   /* high half */
    UNIT_CHECK(vmcs_field_lookup(0x4003) == -1);              /* no high half for 32-bit */
    UNIT_CHECK(vmcs_field_lookup(0x681f) == -1);              /* nor natural width */
    UNIT_CHECK(vmcs_field_lookup(0x1800) == -1);              /* bit 12 reserved */
    UNIT_CHECK(vmcs_field_lookup(0x10000ull | 0x681e) == -1);
    UNIT_CHECK(vmcs_field_lookup(0x2030) == -1);              /* listed, not implemented */
    UNIT_CHECK(vmcs_field_by_name("guest_rip") == VF_GUEST_RIP);
    UNIT_CHECK(vmcs_field_by_name("VMCS_EXIT_REASON") == VF_EXIT_REASON);
    UNIT_CHECK(vmcs_field_by_name("no_such_field") == -1);
}

static void names(void)
{
    UNIT_CHECK(!strcmp(vmx_exit_reason_name(18), "VMCALL"));
    UNIT_CHECK(!strcmp(vmx_exit_reason_name(48), "EPT violation"));
    UNIT_CHECK(vmx_exit_reason_name(35) == NULL); /* reserved */
    UNIT_CHECK(!strcmp(vmx_error_name(12), "VMREAD/VMWRITE from/to unsupported VMCS component"));
    UNIT_CHECK(vmx_error_name(14) == NULL);
}

static void control_capabilities(void)
{
    for (int w = 0; w < VMX_CTL_WORDS; w++)
        for (int t = 0; t < 2; t++) {
            struct vmx_ctl_caps caps = vmx_ctl_caps(w, t);
            UNIT_CHECKF(!(caps.must1 & ~caps.may1), "word %d view %d: must1 outside may1", w, t);
        }
    /* what this step implements, and nothing more */
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_HLT_EXITING);
    /* the instruction exits a KVM L1 needs (vmx/nonroot.c, cpu/ops_*.c) */
    const uint32_t insn_exits = PROC_USE_TSC_OFFSETTING | PROC_INVLPG_EXITING |
                                PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING |
                                PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
                                PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING |
                                PROC_MONITOR_EXITING | PROC_PAUSE_EXITING;
    UNIT_CHECK((vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & insn_exits) == insn_exits);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_USE_IO_BITMAPS);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_MONITOR_TRAP_FLAG);
    /* the secondary controls are offered for "enable RDTSCP", "enable
     * EPT", "enable VPID", "unrestricted guest", "VMCS shadowing",
     * "enable PML", APIC virtualization (vmx/apicv.c), the instruction
     * controls of vmx_misc, mode-based execute control for EPT and
     * "EPT-violation #VE" */
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_SECONDARY_CONTROLS);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_USE_TPR_SHADOW);
    const uint32_t proc2 = PROC2_ENABLE_RDTSCP | PROC2_ENABLE_EPT | PROC2_ENABLE_VPID |
                           PROC2_UNRESTRICTED_GUEST | PROC2_VMCS_SHADOWING | PROC2_ENABLE_PML |
                           PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC |
                           PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY |
                           PROC2_DESCRIPTOR_TABLE_EXITING | PROC2_WBINVD_EXITING |
                           PROC2_RDRAND_EXITING | PROC2_ENABLE_INVPCID | PROC2_RDSEED_EXITING |
                           PROC2_PAUSE_LOOP_EXITING | PROC2_ENABLE_VMFUNC | PROC2_TSC_SCALING |
                           PROC2_MODE_BASED_EPT_EXEC | PROC2_EPT_VIOLATION_VE;
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC2, 0).may1 == proc2);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PROC2, 0).must1 == 0);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PIN, 1).may1 & PIN_PREEMPTION_TIMER);
    UNIT_CHECK(vmx_ctl_caps(VMX_CTL_PIN, 1).may1 & PIN_POSTED_INTERRUPTS);
    UNIT_CHECK(!strcmp(vmx_control_name(VMX_CTL_PROC2, 1), "ENABLE_EPT"));
}

/* ---- the fuzz target ---- */

static struct machine mach;
static struct cpu cpu;
#define PA_VMXON 0x1000
#define PA_VMCS 0x2000
#define PA_GDT 0x3000
#define PA_TSS 0x4000
#define PA_IDT 0x5000
#define PA_PML4 0x10000

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    return unit_xorshift(&rng);
}

static void long_mode_host(struct cpu *c)
{
    c->mmu.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    c->mmu.cr4 = CR4_PAE | CR4_VMXE;
    c->mmu.efer = EFER_LME | EFER_LMA;
    c->mmu.cr3 = PA_PML4;
    c->seg[SEG_CS] = (struct seg){0x08, 0xffffffff, 0, 0xb | AR_S | AR_P | AR_L | AR_G};
    for (int s = 0; s < 6; s++)
        if (s != SEG_CS)
            c->seg[s] = (struct seg){0x10, 0xffffffff, 0, 3 | AR_S | AR_P | AR_DB | AR_G};
    c->tr = (struct seg){0x18, 0x67, PA_TSS, 0xb | AR_P};
    c->ldtr = (struct seg){0, 0, 0, AR_UNUSABLE};
    c->gdtr = (struct dtr){PA_GDT, 0x27};
    c->idtr = (struct dtr){PA_IDT, 0xfff};
    c->cpl = 0;
    c->rflags = FL_FIXED1;
    cpu_update_mode(c);
}

static void valid_vmcs(struct cpu *c)
{
    memset(c->vmx.vmcs.f, 0, sizeof(c->vmx.vmcs.f));
    c->vmx.vmcs.launched = false;
    vmcs_set(c, VF_PIN_BASED_CONTROLS, vmx_ctl_caps(VMX_CTL_PIN, 1).must1);
    vmcs_set(c, VF_PROC_BASED_CONTROLS, vmx_ctl_caps(VMX_CTL_PROC, 1).must1);
    vmcs_set(c, VF_EXIT_CONTROLS, vmx_ctl_caps(VMX_CTL_EXIT, 1).must1 | EXIT_HOST_ADDR_SPACE_SIZE);
    vmcs_set(c, VF_ENTRY_CONTROLS, vmx_ctl_caps(VMX_CTL_ENTRY, 1).must1 | ENTRY_IA32E_MODE_GUEST);
    vmcs_set(c, VF_VMCS_LINK_POINTER, ~0ull);
    vmcs_set(c, VF_HOST_CR0, c->mmu.cr0);
    vmcs_set(c, VF_HOST_CR3, c->mmu.cr3);
    vmcs_set(c, VF_HOST_CR4, c->mmu.cr4);
    vmcs_set(c, VF_HOST_CS_SELECTOR, 0x08);
    vmcs_set(c, VF_HOST_SS_SELECTOR, 0x10);
    vmcs_set(c, VF_HOST_DS_SELECTOR, 0x10);
    vmcs_set(c, VF_HOST_ES_SELECTOR, 0x10);
    vmcs_set(c, VF_HOST_TR_SELECTOR, 0x18);
    vmcs_set(c, VF_HOST_TR_BASE, PA_TSS);
    vmcs_set(c, VF_HOST_GDTR_BASE, PA_GDT);
    vmcs_set(c, VF_HOST_IDTR_BASE, PA_IDT);
    vmcs_set(c, VF_HOST_RIP, 0x7000);
    vmcs_set(c, VF_HOST_RSP, 0x8000);
    vmcs_set(c, VF_GUEST_CR0, c->mmu.cr0);
    vmcs_set(c, VF_GUEST_CR3, c->mmu.cr3);
    vmcs_set(c, VF_GUEST_CR4, c->mmu.cr4);
    vmcs_set(c, VF_GUEST_DR7, 0x400);
    for (int s = 0; s < 6; s++) {
        vmcs_set(c, vmx_guest_sel[s], c->seg[s].sel);
        vmcs_set(c, vmx_guest_limit[s], 0xffffffff);
        vmcs_set(c, vmx_guest_ar[s], c->seg[s].ar);
    }
    vmcs_set(c, VF_GUEST_TR_SELECTOR, 0x18);
    vmcs_set(c, VF_GUEST_TR_BASE, PA_TSS);
    vmcs_set(c, VF_GUEST_TR_LIMIT, 0x67);
    vmcs_set(c, VF_GUEST_TR_AR, 0xb | AR_P);
    vmcs_set(c, VF_GUEST_LDTR_AR, AR_UNUSABLE);
    vmcs_set(c, VF_GUEST_GDTR_BASE, PA_GDT);
    vmcs_set(c, VF_GUEST_GDTR_LIMIT, 0x27);
    vmcs_set(c, VF_GUEST_IDTR_BASE, PA_IDT);
    vmcs_set(c, VF_GUEST_IDTR_LIMIT, 0xfff);
    vmcs_set(c, VF_GUEST_RIP, 0x6000);
    vmcs_set(c, VF_GUEST_RSP, 0x9000);
    vmcs_set(c, VF_GUEST_RFLAGS, FL_FIXED1);
}

static bool start_machine(void)
{
    if (phys_init(&mach.phys, 16ull << 20))
        return false;
    io_init(&mach.io);
    mach.cpu = &cpu;
    if (cpu_init(&cpu, &mach, &mach.phys))
        return false;
    phys_write(&mach.phys, PA_VMXON, VMX_REVISION_ID, 4);
    phys_write(&mach.phys, PA_VMCS, VMX_REVISION_ID, 4);
    return true;
}

/* one entry attempt from a fresh host; 0 VMfail, 1 entry failure exit,
 * 2 entered, 3 an exception unwound (event injection) */
static int attempt(struct cpu *c, unsigned nmut)
{
    long_mode_host(c);
    c->vmx.on = true;
    c->vmx.nonroot = false;
    c->vmx.vmxon_ptr = PA_VMXON;
    c->vmx.current = PA_VMCS;
    valid_vmcs(c);
    for (unsigned k = 0; k < nmut; k++) {
        int id = (int)(rnd() % VMCS_NFIELDS);
        uint64_t v = c->vmx.vmcs.f[id];
        switch (rnd() % 3) {
        case 0: v ^= 1ull << (rnd() % 64); break;
        case 1: v = rnd(); break;
        default: v = rnd() & 0xff; break;
        }
        vmcs_set(c, id, v);
    }
    if (setjmp(c->fault_jmp))
        return 3;
    vmx_launch(c, true);
    if (c->vmx.nonroot) {
        vmx_exit_triple_fault(c); /* and back, through the full exit path */
        return c->vmx.nonroot ? -1 : 2;
    }
    if (c->vmx.vmcs.f[VF_EXIT_REASON] & VMX_EXIT_REASON_ENTRY_FAIL)
        return c->rip == vmcs_get(c, VF_HOST_RIP) ? 1 : -1;
    c->vmx.vmcs.f[VF_EXIT_REASON] = 0;
    return 0;
}

static void entry_fuzz(void)
{
    UNIT_CHECK(start_machine());
    UNIT_CHECK(attempt(&cpu, 0) == 2); /* the unbroken VMCS enters */
    unsigned seen[4] = {0};
    for (int k = 0; k < 30000; k++) {
        cpu.vmx.vmcs.f[VF_EXIT_REASON] = 0;
        int r = attempt(&cpu, 1 + (unsigned)(rnd() % 3));
        UNIT_CHECKF(r >= 0, "attempt %d left an inconsistent state", k);
        seen[r]++;
    }
    printf("# entry fuzz: %u VMfail, %u entry failures, %u entered, %u unwound\n", seen[0], seen[1],
           seen[2], seen[3]);
    UNIT_CHECKF(seen[0] && seen[1] && seen[2], "outcomes VMfail %u, entry failure %u, entered %u",
                seen[0], seen[1], seen[2]);
}

static void vmread_vmwrite_fuzz(void)
{
    UNIT_CHECK(attempt(&cpu, 0) == 2);
    cpu.vmx.nonroot = false;
    for (int k = 0; k < 100000; k++) {
        uint64_t enc = rnd() % 3 ? rnd() & 0x7fff : rnd();
        struct insn i = {.mod = 3, .reg = R_RAX, .rm = R_RBX};
        cpu.r[R_RAX] = enc;
        cpu.r[R_RBX] = rnd();
        if (setjmp(cpu.fault_jmp))
            UNIT_CHECKF(0, "VMWRITE/VMREAD of 0x%llx raised an exception", (unsigned long long)enc);
        if (k & 1)
            op_vmwrite(&cpu, &i);
        else
            op_vmread(&cpu, &i);
        bool known = vmcs_field_lookup(enc) >= 0;
        uint64_t fl = cpu_get_flags(&cpu) & FL_ARITH;
        UNIT_CHECKF(known ? fl == 0 : (fl == FL_ZF && cpu.vmx.vmcs.f[VF_VM_INSTRUCTION_ERROR] == 12),
                    "encoding 0x%llx: flags 0x%llx", (unsigned long long)enc,
                    (unsigned long long)fl);
    }
}

int main(void)
{
    UNIT_RUN(encodings_match_the_sdm);
    UNIT_RUN(encodings_are_unique_and_well_formed);
    UNIT_RUN(derived_width_type_index);
    UNIT_RUN(lookups);
    UNIT_RUN(names);
    UNIT_RUN(control_capabilities);
    UNIT_RUN(entry_fuzz);
    UNIT_RUN(vmread_vmwrite_fuzz);
    return unit_done();
}
