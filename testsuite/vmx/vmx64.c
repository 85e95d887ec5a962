/*
 * VMX helpers for guest test kernels: see vmx.h.
 */
#ifdef __x86_64__
#include "vmx.h"

struct vmx_gprs vmx_guest;
uint8_t vmx_on_region[4096] __attribute__((aligned(4096)));
uint8_t vmx_vmcs_a[4096] __attribute__((aligned(4096)));
uint8_t vmx_vmcs_b[4096] __attribute__((aligned(4096)));

uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    int r = vmread_checked(field, &v);
    if (r != VMX_OK)
        rt_fail(RT_FILE, __LINE__, "VMREAD of field 0x%llx failed (outcome %d)",
                (unsigned long long)field, r);
    return v;
}

void vmwrite(uint64_t field, uint64_t value)
{
    int r = vmwrite_checked(field, value);
    if (r != VMX_OK)
        rt_fail(RT_FILE, __LINE__, "VMWRITE of field 0x%llx failed (outcome %d)",
                (unsigned long long)field, r);
}

void vmx_enable(void)
{
    uint32_t rev = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    *(uint32_t *)vmx_on_region = rev;
    *(uint32_t *)vmx_vmcs_a = rev;
    *(uint32_t *)vmx_vmcs_b = rev;
    write_cr0(read_cr0() | CR0_NE);
    write_cr4(read_cr4() | CR4_VMXE);
    if (!(rdmsr(MSR_FEATURE_CONTROL) & 1))
        wrmsr(MSR_FEATURE_CONTROL, 5);
    ASSERT_EQ(vmxon((uintptr_t)vmx_on_region), VMX_OK);
}

void vmx_disable(void)
{
    ASSERT_EQ(vmxoff(), VMX_OK);
    write_cr4(read_cr4() & ~CR4_VMXE);
}

/* the controls' required settings: allowed-0 bits of the TRUE MSRs */
static uint32_t ctl_min(uint32_t msr)
{
    return (uint32_t)rdmsr(msr);
}

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static uint16_t read_sel(int which)
{
    uint16_t s = 0;
    switch (which) {
    case 0: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
    case 1: __asm__ volatile("mov %%cs, %0" : "=r"(s)); break;
    case 2: __asm__ volatile("mov %%ss, %0" : "=r"(s)); break;
    case 3: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
    case 4: __asm__ volatile("mov %%fs, %0" : "=r"(s)); break;
    case 5: __asm__ volatile("mov %%gs, %0" : "=r"(s)); break;
    default: __asm__ volatile("str %0" : "=r"(s)); break;
    }
    return s;
}

/* a guest RIP for setups that set their own: UD2 should it ever run */
__asm__(".text\nvmx_unused_guest:\n  ud2\n");

void vmx_setup_guest(void (*rip)(void), uint64_t rsp)
{
    rt_user_init(); /* a GDT with a 64-bit TSS: TR must not be null */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_a), VMX_OK);

    struct dtr gdt, idt;
    __asm__ volatile("sgdt %0" : "=m"(gdt));
    __asm__ volatile("sidt %0" : "=m"(idt));
    uint16_t tr = read_sel(6);
    uint64_t tr_base = (uintptr_t)&rt_tss;

    /* controls */
    vmwrite(VMCS_PIN_BASED_CONTROLS, ctl_min(MSR_VMX_TRUE_PINBASED));
    vmwrite(VMCS_PROC_BASED_CONTROLS,
            ctl_min(MSR_VMX_TRUE_PROCBASED) & ~((1u << 15) | (1u << 16)));
    vmwrite(VMCS_EXIT_CONTROLS, ctl_min(MSR_VMX_TRUE_EXIT) | (1u << 9));
    vmwrite(VMCS_ENTRY_CONTROLS, ctl_min(MSR_VMX_TRUE_ENTRY) | (1u << 9));
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, 0);
    vmwrite(VMCS_CR4_GUEST_HOST_MASK, 0);
    vmwrite(VMCS_VMCS_LINK_POINTER, ~0ull);

    /* host state: this kernel as it runs now */
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    static const uint64_t host_sel[6] = {VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR,
                                         VMCS_HOST_SS_SELECTOR, VMCS_HOST_DS_SELECTOR,
                                         VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR};
    for (int s = 0; s < 6; s++)
        vmwrite(host_sel[s], read_sel(s) & ~7u);
    vmwrite(VMCS_HOST_TR_SELECTOR, tr);
    vmwrite(VMCS_HOST_FS_BASE, rdmsr(0xc0000100));
    vmwrite(VMCS_HOST_GS_BASE, rdmsr(0xc0000101));
    vmwrite(VMCS_HOST_TR_BASE, tr_base);
    vmwrite(VMCS_HOST_GDTR_BASE, gdt.base);
    vmwrite(VMCS_HOST_IDTR_BASE, idt.base);
    vmwrite(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(0x174));
    vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(0x175));
    vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(0x176));
    vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
    vmwrite(VMCS_HOST_IA32_PAT, rdmsr(0x277));
    /* HOST_RSP and HOST_RIP are written by vmx_run */

    /* guest state: a 64-bit CPL-0 twin of the host (SDM 24.4) */
    vmwrite(VMCS_GUEST_CR0, read_cr0());
    vmwrite(VMCS_GUEST_CR3, read_cr3());
    vmwrite(VMCS_GUEST_CR4, read_cr4());
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_IA32_EFER, rdmsr(MSR_EFER));
    vmwrite(VMCS_GUEST_IA32_PAT, rdmsr(0x277));
    vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
    static const uint64_t gsel[6] = {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR,
                                     VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_DS_SELECTOR,
                                     VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR};
    for (int s = 0; s < 6; s++) {
        uint64_t d = gsel[s] - VMCS_GUEST_ES_SELECTOR; /* 2 per segment */
        bool cs = s == 1;
        vmwrite(gsel[s], cs ? RT_SEL_CODE64 : RT_SEL_DATA);
        vmwrite(VMCS_GUEST_ES_BASE + d, 0);
        vmwrite(VMCS_GUEST_ES_LIMIT + d, 0xffffffff);
        /* AR (VMCS format, 24.4.1): code type 11, S, P, L, G = 0xa09b;
         * data type 3, S, P, D/B, G = 0xc093 */
        vmwrite(VMCS_GUEST_ES_AR + d, cs ? 0xa09b : 0xc093);
    }
    vmwrite(VMCS_GUEST_FS_BASE, rdmsr(0xc0000100));
    vmwrite(VMCS_GUEST_GS_BASE, rdmsr(0xc0000101));
    vmwrite(VMCS_GUEST_LDTR_SELECTOR, 0);
    vmwrite(VMCS_GUEST_LDTR_AR, 0x10000); /* unusable */
    vmwrite(VMCS_GUEST_LDTR_BASE, 0);
    vmwrite(VMCS_GUEST_LDTR_LIMIT, 0);
    vmwrite(VMCS_GUEST_TR_SELECTOR, tr);
    vmwrite(VMCS_GUEST_TR_BASE, tr_base);
    vmwrite(VMCS_GUEST_TR_LIMIT, 0x67);
    vmwrite(VMCS_GUEST_TR_AR, 0x8b); /* busy 64-bit TSS, present */
    vmwrite(VMCS_GUEST_GDTR_BASE, gdt.base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, gdt.limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, idt.base);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, idt.limit);
    vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_IA32_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_IA32_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_RSP, rsp);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)rip);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
    vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
    memset(&vmx_guest, 0, sizeof(vmx_guest));
}

/*
 * vmx_run(launch): callee-saved registers on the stack, HOST_RSP = that
 * stack, HOST_RIP = vmx_host_entry, guest GPRs from vmx_guest, then
 * VMLAUNCH/VMRESUME.  A failed instruction falls through (its RFLAGS
 * give the outcome); a VM exit arrives at vmx_host_entry, which saves
 * the guest GPRs and returns 0.
 */
__asm__(".text\n"
        ".globl vmx_run\n"
        "vmx_run:\n"
        "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov $0x6c14, %rax\n"            /* HOST_RSP */
        "  vmwrite %rsp, %rax\n"
        "  lea vmx_host_entry(%rip), %rdx\n"
        "  mov $0x6c16, %rax\n"            /* HOST_RIP */
        "  vmwrite %rdx, %rax\n"
        "  test %edi, %edi\n"              /* flags survive the MOVs below */
        "  mov vmx_guest+0(%rip), %rax\n"
        "  mov vmx_guest+8(%rip), %rcx\n"
        "  mov vmx_guest+16(%rip), %rdx\n"
        "  mov vmx_guest+24(%rip), %rbx\n"
        "  mov vmx_guest+32(%rip), %rbp\n"
        "  mov vmx_guest+40(%rip), %rsi\n"
        "  mov vmx_guest+56(%rip), %r8\n"
        "  mov vmx_guest+64(%rip), %r9\n"
        "  mov vmx_guest+72(%rip), %r10\n"
        "  mov vmx_guest+80(%rip), %r11\n"
        "  mov vmx_guest+88(%rip), %r12\n"
        "  mov vmx_guest+96(%rip), %r13\n"
        "  mov vmx_guest+104(%rip), %r14\n"
        "  mov vmx_guest+112(%rip), %r15\n"
        "  mov vmx_guest+48(%rip), %rdi\n"
        "  jz 1f\n"
        "  vmlaunch\n"
        "  jmp 2f\n"
        "1:vmresume\n"
        "2:pushf\n"                        /* the instruction failed */
        "  pop %rax\n"
        "  mov $1, %ecx\n"
        "  test $1, %al\n"                 /* CF: VMfailInvalid */
        "  jnz 3f\n"
        "  mov $2, %ecx\n"
        "  test $0x40, %al\n"              /* ZF: VMfailValid */
        "  jnz 3f\n"
        "  mov $3, %ecx\n"
        "3:mov %ecx, %eax\n"
        "  jmp 4f\n"
        ".globl vmx_host_entry\n"
        "vmx_host_entry:\n"
        "  mov %rax, vmx_guest+0(%rip)\n"
        "  mov %rcx, vmx_guest+8(%rip)\n"
        "  mov %rdx, vmx_guest+16(%rip)\n"
        "  mov %rbx, vmx_guest+24(%rip)\n"
        "  mov %rbp, vmx_guest+32(%rip)\n"
        "  mov %rsi, vmx_guest+40(%rip)\n"
        "  mov %rdi, vmx_guest+48(%rip)\n"
        "  mov %r8, vmx_guest+56(%rip)\n"
        "  mov %r9, vmx_guest+64(%rip)\n"
        "  mov %r10, vmx_guest+72(%rip)\n"
        "  mov %r11, vmx_guest+80(%rip)\n"
        "  mov %r12, vmx_guest+88(%rip)\n"
        "  mov %r13, vmx_guest+96(%rip)\n"
        "  mov %r14, vmx_guest+104(%rip)\n"
        "  mov %r15, vmx_guest+112(%rip)\n"
        "  xor %eax, %eax\n"
        "4:pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
        "  ret\n");

static uint32_t run_exit(int launch)
{
    int r = vmx_run(launch);
    if (r != VMX_OK) {
        uint64_t err = 0;
        vmread_checked(VMCS_VM_INSTRUCTION_ERROR, &err);
        rt_fail(RT_FILE, __LINE__, "%s failed: outcome %d, VM-instruction error %llu",
                launch ? "VMLAUNCH" : "VMRESUME", r, (unsigned long long)err);
    }
    return (uint32_t)vmread(VMCS_EXIT_REASON);
}

uint32_t vmx_launch_exit(void)
{
    return run_exit(1);
}

uint32_t vmx_resume_exit(void)
{
    return run_exit(0);
}

void vmx_skip_insn(void)
{
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
}

/* the guest segment fields come in the same order for each register,
 * two encodings apart (Appendix B) */
void vmx_guest_seg(uint64_t sel_field, uint64_t sel, uint64_t base, uint64_t limit, uint64_t ar)
{
    uint64_t d = sel_field - VMCS_GUEST_ES_SELECTOR;
    vmwrite(sel_field, sel);
    vmwrite(VMCS_GUEST_ES_BASE + d, base);
    vmwrite(VMCS_GUEST_ES_LIMIT + d, limit);
    vmwrite(VMCS_GUEST_ES_AR + d, ar);
}

void vmx_assert_guest_seg(uint64_t sel_field, uint64_t sel, uint64_t base, uint64_t limit,
                          uint64_t ar)
{
    uint64_t d = sel_field - VMCS_GUEST_ES_SELECTOR;
    ASSERT_EQ(vmread(sel_field), sel);
    ASSERT_EQ(vmread(VMCS_GUEST_ES_BASE + d), base);
    ASSERT_EQ(vmread(VMCS_GUEST_ES_LIMIT + d), limit);
    ASSERT_EQ(vmread(VMCS_GUEST_ES_AR + d), ar);
}

void vmx_expect_bad_guest(void)
{
    ASSERT_EQ(vmx_run(1), VMX_OK);
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), 0x80000021u);
}

/* EPT tables: a pool of their own, reused by every vmx_ept_identity() */
#define EPT_POOL_PAGES 24
static uint64_t ept_pool[EPT_POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned ept_pool_used;
static uint64_t *ept_pml4;

static uint64_t *ept_page(void)
{
    if (ept_pool_used == EPT_POOL_PAGES)
        rt_fail(RT_FILE, __LINE__, "EPT page pool exhausted");
    uint64_t *p = ept_pool[ept_pool_used++];
    memset(p, 0, 4096);
    return p;
}

uint64_t vmx_ept_identity(int leaf)
{
    ept_pool_used = 0;
    ept_pml4 = ept_page();
    uint64_t *pdpt = ept_page();
    ept_pml4[0] = (uintptr_t)pdpt | EPT_RWX;
    if (leaf == 2) {
        pdpt[0] = 0 | EPT_RWX | EPT_WB | EPT_PS;
    } else {
        uint64_t *pd = ept_page();
        pdpt[0] = (uintptr_t)pd | EPT_RWX;
        for (uint64_t k = 0; k < 512; k++)
            pd[k] = (k << 21) | EPT_RWX | EPT_WB | EPT_PS;
    }
    return (uintptr_t)ept_pml4 | EPTP_WB_4LEVEL;
}

uint64_t *vmx_ept_entry(uint64_t gpa, int level)
{
    uint64_t *table = ept_pml4;
    for (int l = 4;; l--) {
        int shift = 12 + 9 * (l - 1);
        uint64_t *e = &table[(gpa >> shift) & 511];
        if (l == level)
            return e;
        if (!(*e & EPT_RWX))
            rt_fail(RT_FILE, __LINE__, "no EPT entry for 0x%llx at level %d",
                    (unsigned long long)gpa, l);
        if (l < 4 && (*e & EPT_PS)) {
            /* split: the children keep R/W/X, memory type and IPAT */
            uint64_t *t = ept_page();
            uint64_t child = 1ull << (shift - 9);
            uint64_t base = *e & EPT_ADDR & ~((1ull << shift) - 1);
            for (uint64_t k = 0; k < 512; k++)
                t[k] = (base + k * child) | (*e & 0x7f) | (l - 1 > 1 ? EPT_PS : 0);
            *e = (uintptr_t)t | EPT_RWX;
        }
        table = (uint64_t *)(uintptr_t)(*e & EPT_ADDR);
    }
}

void vmx_use_ept(uint64_t eptp)
{
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 31));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, 1u << 1); /* enable EPT */
    vmwrite(VMCS_EPT_POINTER, eptp);
}
#endif

void vmx_setup_unpaged_guest(uint64_t rsp, uint64_t cr0, uint64_t cr4)
{
    vmx_setup_guest(vmx_unused_guest, rsp);
    vmx_use_ept(vmx_ept_identity(1));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | (1u << 7));
    /* not "IA-32e mode guest" (bit 9); "load IA32_EFER" (bit 15) with 0 */
    vmwrite(VMCS_ENTRY_CONTROLS, (vmread(VMCS_ENTRY_CONTROLS) & ~(1u << 9)) | (1u << 15));
    vmwrite(VMCS_GUEST_IA32_EFER, 0);
    vmwrite(VMCS_GUEST_CR0, cr0);
    vmwrite(VMCS_GUEST_CR3, 0);
    vmwrite(VMCS_GUEST_CR4, cr4);
}
