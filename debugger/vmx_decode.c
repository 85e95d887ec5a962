/* debugger/vmx_decode.c — VMCS values in words: the VMX controls bit by
 * bit (from vmx/controls.def, the table the capability MSRs come from),
 * exit qualifications by exit reason (SDM Vol. 3C 27.2.1, Tables 27-3 to
 * 27-7), interruption information (24.8.3, 24.9.2), and the one-line
 * description of a VM exit that breakpoint stops and `vmcs` print. */
#include <inttypes.h>
#include <string.h>

#include "debugger/dbg.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

/* the VMCS field of each control word of vmx/caps.h */
static const int control_fields[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = VF_PIN_BASED_CONTROLS,    [VMX_CTL_PROC] = VF_PROC_BASED_CONTROLS,
    [VMX_CTL_PROC2] = VF_SECONDARY_PROC_CONTROLS, [VMX_CTL_EXIT] = VF_EXIT_CONTROLS,
    [VMX_CTL_ENTRY] = VF_ENTRY_CONTROLS,
};

static int control_word(int field)
{
    for (int w = 0; w < VMX_CTL_WORDS; w++)
        if (control_fields[w] == field)
            return w;
    return -1;
}

bool vmxd_is_control_word(int field)
{
    return control_word(field) >= 0;
}

/* "HLT_EXITING CR3_LOAD_EXITING ... bit1" for a control word: named bits
 * from vmx/controls.def, unnamed set bits (reserved, mostly default1) by
 * number */
size_t vmxd_controls(int field, uint64_t value, char *buf, size_t len)
{
    size_t n = 0;
    int w = control_word(field);
    buf[0] = 0;
    for (unsigned bit = 0; bit < 32 && w >= 0; bit++) {
        if (!((value >> bit) & 1))
            continue;
        const char *name = vmx_control_name((enum vmx_ctl_word)w, bit);
        int k = name ? snprintf(buf + n, len - n, "%s%s", n ? " " : "", name)
                     : snprintf(buf + n, len - n, "%sbit%u", n ? " " : "", bit);
        if (k < 0 || (size_t)k >= len - n)
            break;
        n += (size_t)k;
    }
    return n;
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

/* interruption-information format (SDM 24.8.3 Table 24-17, 24.9.2) */
static void intr_info(char *buf, size_t len, uint64_t info)
{
    static const char *const types[8] = {"external interrupt", "reserved", "NMI",
                                         "hardware exception", "software interrupt",
                                         "privileged software exception", "software exception",
                                         "other event"};
    if (!(info >> 31)) {
        snprintf(buf, len, "not valid");
        return;
    }
    snprintf(buf, len, "vector %u, %s%s", (unsigned)(info & 0xff), types[(info >> 8) & 7],
             (info >> 11) & 1 ? ", error code valid" : "");
}

/* The exit qualification of basic exit 'reason' in words (SDM 27.2.1);
 * "" when the reason gives it no meaning. */
void vmxd_qualification(unsigned reason, uint64_t q, char *buf, size_t len)
{
    buf[0] = 0;
    switch (reason) {
    case VMX_EXIT_EPT_VIOLATION: {
        /* Table 27-7 */
        unsigned acc = (unsigned)q & 7, perm = ((unsigned)q >> 3) & 7;
        snprintf(buf, len, "%s%s%s%s%s; the translation allows %c%c%c%s; %s%s%s%s%s",
                 acc & EPT_QUAL_READ ? "data read" : "",
                 (acc & EPT_QUAL_READ) && (acc & ~1u) ? "+" : "",
                 acc & EPT_QUAL_WRITE ? "data write" : "",
                 (acc & EPT_QUAL_FETCH) && (acc & 3u) ? "+" : "",
                 acc & EPT_QUAL_FETCH ? "instruction fetch" : "", perm & 1 ? 'r' : '-',
                 perm & 2 ? 'w' : '-', perm & 4 ? 'x' : '-',
                 q & EPT_QUAL_USER_EXEC ? " (user-mode x)" : "",
                 !(q & EPT_QUAL_LIN_VALID) ? "no guest-linear address"
                 : (q & EPT_QUAL_FINAL)    ? "guest-linear address valid, the access itself"
                                           : "guest-linear address valid, a guest paging-structure "
                                             "access",
                 /* bits 9-11, for the access itself (advanced information) */
                 q & EPT_QUAL_USER_LIN ? "; user-mode address" : "",
                 q & EPT_QUAL_RW_PAGE ? "; read/write page" : "",
                 q & EPT_QUAL_XD_PAGE ? "; execute-disable page" : "",
                 q & EPT_QUAL_NMI_UNBLOCK ? "; NMI unblocking due to IRET" : "");
        break;
    }
    case VMX_EXIT_CR_ACCESS: {
        /* Table 27-3 */
        unsigned cr = (unsigned)q & 15, kind = ((unsigned)q >> 4) & 3;
        const char *gpr = gpr_names[(q >> 8) & 15];
        if (kind == 0)
            snprintf(buf, len, "MOV to CR%u from %s", cr, gpr);
        else if (kind == 1)
            snprintf(buf, len, "MOV from CR%u to %s", cr, gpr);
        else if (kind == 2)
            snprintf(buf, len, "CLTS");
        else
            snprintf(buf, len, "LMSW %s, source data 0x%x", (q >> 6) & 1 ? "memory" : "register",
                     (unsigned)(q >> 16) & 0xffff);
        break;
    }
    case VMX_EXIT_DR_ACCESS:
        /* Table 27-4 */
        snprintf(buf, len, "MOV %s DR%u %s %s", (q >> 4) & 1 ? "from" : "to", (unsigned)q & 7,
                 (q >> 4) & 1 ? "to" : "from", gpr_names[(q >> 8) & 15]);
        break;
    case VMX_EXIT_IO_INSTRUCTION:
        /* Table 27-5 */
        snprintf(buf, len, "%s%s%s port 0x%x, %u byte%s%s", (q >> 3) & 1 ? "IN" : "OUT",
                 (q >> 4) & 1 ? "S" : "", (q >> 5) & 1 ? " (REP)" : "",
                 (unsigned)(q >> 16) & 0xffff, (unsigned)(q & 7) + 1, (q & 7) ? "s" : "",
                 (q >> 6) & 1 ? ", immediate port" : ", port in DX");
        break;
    case VMX_EXIT_TASK_SWITCH: {
        static const char *const src[4] = {[VMX_TASK_CALL] = "CALL", [VMX_TASK_IRET] = "IRET",
                                           [VMX_TASK_JMP] = "JMP",
                                           [VMX_TASK_IDT] = "task gate in IDT"};
        snprintf(buf, len, "to TSS selector 0x%x by %s", (unsigned)q & 0xffff, src[(q >> 30) & 3]);
        break;
    }
    case VMX_EXIT_INVLPG:
        snprintf(buf, len, "linear address 0x%" PRIx64, q);
        break;
    case VMX_EXIT_EXCEPTION_NMI:
        if (q)
            snprintf(buf, len, "#PF linear address or #DB DR6 bits 0x%" PRIx64, q);
        break;
    default:
        break;
    }
}

/* "VM exit 48 (EPT violation), qualification 0x181 [data read ...]" plus
 * what the exit's other information fields add for this reason */
void vmxd_exit_line(const struct vmcs *v, char *buf, size_t len)
{
    uint64_t reason = v->f[VF_EXIT_REASON], q = v->f[VF_EXIT_QUALIFICATION];
    unsigned basic = (unsigned)reason & 0xffff;
    const char *name = vmx_exit_reason_name(basic);
    char qual[200], extra[200] = "";
    vmxd_qualification(basic, q, qual, sizeof(qual));
    if (basic == VMX_EXIT_EPT_VIOLATION || basic == VMX_EXIT_EPT_MISCONFIG)
        snprintf(extra, sizeof(extra), ", guest-physical 0x%" PRIx64,
                 v->f[VF_GUEST_PHYSICAL_ADDR]);
    if (basic == VMX_EXIT_EPT_VIOLATION && (q & EPT_QUAL_LIN_VALID))
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                 ", guest-linear 0x%" PRIx64, v->f[VF_GUEST_LINEAR_ADDR]);
    if (basic == VMX_EXIT_EXCEPTION_NMI || basic == VMX_EXIT_EXTERNAL_INTERRUPT) {
        char info[96];
        intr_info(info, sizeof(info), v->f[VF_EXIT_INTR_INFO]);
        snprintf(extra, sizeof(extra), ", interruption %s", info);
    }
    snprintf(buf, len, "%sVM exit %u (%s), qualification 0x%" PRIx64 "%s%s%s%s",
             (reason >> 31) ? "failed VM entry, " : "", basic, name ? name : "unknown reason", q,
             qual[0] ? " [" : "", qual, qual[0] ? "]" : "", extra);
}

/* The meaning of one field's value, for `vmcs`: controls bit by bit,
 * exit reasons, errors, qualifications, interruption information. */
void vmxd_field_meaning(const struct vmcs *v, int id, char *buf, size_t len)
{
    uint64_t val = v->f[id];
    buf[0] = 0;
    if (vmxd_is_control_word(id)) {
        vmxd_controls(id, val, buf, len);
    } else if (id == VF_EXIT_REASON) {
        const char *name = vmx_exit_reason_name(val & 0xffff);
        snprintf(buf, len, "%s%s", (val >> 31) ? "VM-entry failure: " : "", name ? name : "");
    } else if (id == VF_VM_INSTRUCTION_ERROR) {
        const char *name = vmx_error_name((unsigned)val);
        snprintf(buf, len, "%s", val && name ? name : "");
    } else if (id == VF_EXIT_QUALIFICATION) {
        vmxd_qualification((unsigned)v->f[VF_EXIT_REASON] & 0xffff, val, buf, len);
    } else if (id == VF_EXIT_INTR_INFO || id == VF_IDT_VECTORING_INFO || id == VF_ENTRY_INTR_INFO) {
        if (val >> 31)
            intr_info(buf, len, val);
    } else if (id == VF_EPT_POINTER && val) {
        snprintf(buf, len, "PML4 at 0x%" PRIx64 ", %u-level, memory type %u%s",
                 (uint64_t)(val & EPTP_ADDR_MASK), (unsigned)((val >> 3) & 7) + 1, (unsigned)(val & 7),
                 (val & EPTP_AD) ? ", A/D flags on" : "");
    }
}
