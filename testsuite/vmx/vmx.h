/*
 * VMX for guest test kernels (64-bit only): wrappers for the VMX
 * instructions that report their outcome (SDM Vol. 3C 30.2), a VMCS set
 * up with a valid 64-bit guest that shares the kernel's page tables and
 * descriptor tables, and vmx_run(), which enters the guest and comes
 * back at the next VM exit (or failed VM entry).
 *
 * Field encodings come from nest86's own table (vmx/vmcs_fields.def);
 * tests assert exit reasons, error numbers and qualifications as SDM
 * literals, so a wrong number in nest86's tables still fails a test.
 */
#ifndef RT_VMX_H
#define RT_VMX_H
#ifdef __x86_64__

#include "rt.h"

enum {
#define VMCS_FIELD(name, enc, impl) VMCS_##name = enc,
#include "../../vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

#define MSR_FEATURE_CONTROL 0x3a
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_VMCS_ENUM 0x48a
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define CR4_VMXE (1ul << 13)
#define CR0_NE (1ul << 5)

/* outcome of a VMX instruction (SDM 30.2) */
#define VMX_OK 0           /* VMsucceed: CF PF AF ZF SF OF all 0 */
#define VMX_FAIL_INVALID 1 /* VMfailInvalid: CF = 1 */
#define VMX_FAIL_VALID 2   /* VMfailValid: ZF = 1, error in the VMCS */
#define VMX_BAD_FLAGS 3    /* anything else: a defect */

static inline int vmx_outcome(unsigned long fl)
{
    unsigned long arith = fl & 0x8d5; /* CF PF AF ZF SF OF */
    if (arith == 0)
        return VMX_OK;
    if (arith == 0x1)
        return VMX_FAIL_INVALID;
    if (arith == 0x40)
        return VMX_FAIL_VALID;
    return VMX_BAD_FLAGS;
}

static inline int vmxon(uint64_t pa)
{
    unsigned long f;
    __asm__ volatile("vmxon %1\n\tpushf\n\tpop %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return vmx_outcome(f);
}
static inline int vmxoff(void)
{
    unsigned long f;
    __asm__ volatile("vmxoff\n\tpushf\n\tpop %0" : "=r"(f)::"cc", "memory");
    return vmx_outcome(f);
}
static inline int vmclear(uint64_t pa)
{
    unsigned long f;
    __asm__ volatile("vmclear %1\n\tpushf\n\tpop %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return vmx_outcome(f);
}
static inline int vmptrld(uint64_t pa)
{
    unsigned long f;
    __asm__ volatile("vmptrld %1\n\tpushf\n\tpop %0" : "=r"(f) : "m"(pa) : "cc", "memory");
    return vmx_outcome(f);
}
static inline uint64_t vmptrst(void)
{
    uint64_t pa = 0x1111;
    __asm__ volatile("vmptrst %0" : "=m"(pa)::"cc", "memory");
    return pa;
}
/* VMREAD: *out gets the value (left alone on failure) */
static inline int vmread_checked(uint64_t field, uint64_t *out)
{
    unsigned long f;
    uint64_t v = *out;
    __asm__ volatile("vmread %2, %0\n\tpushf\n\tpop %1" : "+r"(v), "=r"(f) : "r"(field) : "cc");
    *out = v;
    return vmx_outcome(f);
}
static inline int vmwrite_checked(uint64_t field, uint64_t value)
{
    unsigned long f;
    __asm__ volatile("vmwrite %1, %2\n\tpushf\n\tpop %0" : "=r"(f) : "rm"(value), "r"(field)
                     : "cc", "memory");
    return vmx_outcome(f);
}
/* INVEPT type, 128-bit descriptor {EPTP, 0} (SDM 30.3) */
static inline int invept(uint64_t type, const uint64_t desc[2])
{
    unsigned long f;
    __asm__ volatile("invept %1, %2\n\tpushf\n\tpop %0" : "=r"(f)
                     : "m"(*(const uint64_t(*)[2])desc), "r"(type) : "cc", "memory");
    return vmx_outcome(f);
}
/* the common case: a field that must work (asserted) */
uint64_t vmread(uint64_t field);
void vmwrite(uint64_t field, uint64_t value);

/* the VM-instruction error field of the current VMCS */
static inline uint64_t vmx_error(void)
{
    return vmread(VMCS_VM_INSTRUCTION_ERROR);
}

/* guest general-purpose registers: loaded at every VM entry by
 * vmx_run(), saved at every VM exit (RSP lives in the VMCS) */
struct vmx_gprs {
    uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};
extern struct vmx_gprs vmx_guest;

/* 4-KiB regions for VMXON and two VMCSs (identity-mapped) */
extern uint8_t vmx_on_region[4096], vmx_vmcs_a[4096], vmx_vmcs_b[4096];

/* CR4.VMXE, IA32_FEATURE_CONTROL locked with VMX outside SMX, and VMXON
 * on vmx_on_region; asserts success. */
void vmx_enable(void);
/* VMXOFF and CR4.VMXE cleared; asserts success. */
void vmx_disable(void);

/* VMCLEAR + VMPTRLD vmx_vmcs_a, then every field for a 64-bit guest at
 * CPL 0 that starts at `rip` with stack `rsp`, using this kernel's CR3,
 * GDT, IDT and TSS, with the controls' minimum settings (the TRUE
 * capability MSRs' allowed-0 bits) plus "IA-32e mode guest" and "host
 * address-space size". */
void vmx_setup_guest(void (*rip)(void), uint64_t rsp);
/* vmx_setup_guest for a guest without paging ("unrestricted guest"
 * under vmx_ept_identity(1), not IA-32e mode, EFER 0, CR3 0) with the
 * given CR0 and CR4; the caller sets the segments, TR, the descriptor
 * tables, RIP and RFLAGS. */
void vmx_setup_unpaged_guest(uint64_t rsp, uint64_t cr0, uint64_t cr4);
void vmx_unused_guest(void);

/* VMLAUNCH (launch != 0) or VMRESUME with the guest registers from
 * vmx_guest.  Returns VMX_OK when a VM exit (or a VM-entry failure,
 * which is an exit too) came back, else the instruction's failure. */
int vmx_run(int launch);

/* VMX_OK after VMLAUNCH, then: exit reason; asserts the entry came back
 * through a VM exit */
uint32_t vmx_launch_exit(void);
uint32_t vmx_resume_exit(void);
/* GUEST_RIP += VM-exit instruction length (skips the exiting instruction) */
void vmx_skip_insn(void);

/* A 64-bit IDT gate (SDM Vol. 3A 6.14.1), for the guest IDTs tests
 * build: a handler in this kernel's 64-bit code segment, no IST. */
struct vmx_gate64 {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
};
static inline struct vmx_gate64 vmx_gate64(uintptr_t handler, uint8_t type_attr)
{
    return (struct vmx_gate64){(uint16_t)handler, RT_SEL_CODE64, 0, type_attr,
                               (uint16_t)(handler >> 16), (uint32_t)(handler >> 32), 0};
}

/* One guest segment register by its selector field (VMCS_GUEST_ES_
 * SELECTOR ... VMCS_GUEST_GS_SELECTOR): selector, base, limit and
 * access rights written, or asserted as the VM exit saved them. */
void vmx_guest_seg(uint64_t sel_field, uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar);
void vmx_assert_guest_seg(uint64_t sel_field, uint64_t sel, uint64_t base, uint64_t limit,
                          uint64_t ar);
/* VMLAUNCH must fail with exit reason 33, invalid guest state (bit 31) */
void vmx_expect_bad_guest(void);

/* ---- EPT (SDM Vol. 3C 28.2) ---- */

/* EPT entry bits (Tables 28-1 to 28-6) */
#define EPT_R 0x1ull
#define EPT_W 0x2ull
#define EPT_X 0x4ull
#define EPT_RWX 0x7ull
#define EPT_WB (6ull << 3) /* leaf memory type write-back */
#define EPT_PS 0x80ull     /* PDPTE/PDE maps a 1-GiB/2-MiB page */
#define EPT_A 0x100ull
#define EPT_D 0x200ull
#define EPT_ADDR 0x000ffffffffff000ull
/* EPTP (24.6.11): write-back, 4-level walk; bit 6 enables A/D flags */
#define EPTP_WB_4LEVEL 0x1eull
#define EPTP_AD 0x40ull

/* Builds an identity map of guest-physical [0, 1 GiB) with leaves at
 * 'leaf' (2 = one 1-GiB page, 1 = 2-MiB pages), read/write/execute and
 * write-back, in tables of its own (each call starts afresh), and
 * returns its EPTP (without bit 6). */
uint64_t vmx_ept_identity(int leaf);
/* The EPT entry for 'gpa' at 'level' (4 = PML4E, 3 = PDPTE, 2 = PDE,
 * 1 = PTE); a larger leaf on the way is split into 512 smaller ones with
 * the same bits, so one 4-KiB page can get its own entry. */
uint64_t *vmx_ept_entry(uint64_t gpa, int level);
/* Turns "enable EPT" on in the current VMCS with this EPTP (and the
 * secondary controls with it). */
void vmx_use_ept(uint64_t eptp);

#endif
#endif
