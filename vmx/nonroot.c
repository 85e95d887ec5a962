/* vmx/nonroot.c — instructions in VMX non-root operation (SDM Vol. 3C
 * 25.1-25.3) whose exits need more than a reason: the VMX instructions'
 * operand description (27.2.1, 27.2.5), RDTSC/RDTSCP and the TSC offset,
 * and the I/O instructions.  The CPU decides when to call in (one test
 * of c->vmx.nonroot on its own paths); the exit records live here. */
#include "vmx/vmx_internal.h"

/* ---- VMX instructions: displacement and instruction information ---- */

/* SDM 27.2.1: the exit qualification of an exit caused by a VMX
 * instruction is its displacement, sign-extended to 64 bits (0 without
 * a memory operand); RIP-relative addressing gives the sum of the
 * displacement and the RIP of the next instruction instead. */
static uint64_t displacement(const struct cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        return 0;
    if (i->riprel)
        return c->rip + (uint64_t)i->disp; /* handlers run with RIP at the next instruction */
    if (i->adsize == 2)
        return (uint64_t)(int64_t)(int16_t)i->disp; /* disp16 of [disp16] is kept unsigned */
    return (uint64_t)i->disp;
}

/* address-size encoding of the instruction-information formats:
 * 0 16-bit, 1 32-bit, 2 64-bit */
static uint32_t adsize_code(const struct insn *i)
{
    return i->adsize == 2 ? 0 : i->adsize == 4 ? 1 : 2;
}

/* The memory-operand bits shared by Tables 27-9, 27-13 and 27-14:
 * scaling 1:0, address size 9:7, segment 17:15, index 21:18 with its
 * invalid bit 22, base 26:23 with its invalid bit 27.  Bits the SDM
 * leaves undefined (the scaling and register numbers of an absent
 * index or base) are 0. */
static uint32_t mem_operand_info(const struct insn *i)
{
    uint32_t info = adsize_code(i) << 7 | (uint32_t)i->seg << 15;
    if (i->index != NO_REG)
        info |= (uint32_t)(i->scale & 3) | (uint32_t)(i->index & 15) << 18;
    else
        info |= 1u << 22;
    if (i->base != NO_REG)
        info |= (uint32_t)(i->base & 15) << 23;
    else
        info |= 1u << 27;
    return info;
}

/* Tables 27-11 and 27-14: a register operand is Reg1 6:3 with bit 10
 * set, and then its memory-operand bits are undefined (0 here) */
static uint32_t reg_or_mem_info(const struct insn *i)
{
    if (i->mod == 3)
        return (uint32_t)(i->rm & 15) << 3 | 1u << 10;
    return mem_operand_info(i);
}

_Noreturn void vmx_exit_insn_info(struct cpu *c, const struct insn *i, unsigned reason)
{
    uint32_t info = 0;
    switch (reason) {
    case VMX_EXIT_VMREAD:
    case VMX_EXIT_VMWRITE:
        /* Table 27-14: Reg2 31:28 is ModRM.reg (the field encoding) */
        info = (uint32_t)(i->reg & 15) << 28 | reg_or_mem_info(i);
        break;
    case VMX_EXIT_VMCLEAR:
    case VMX_EXIT_VMPTRLD:
    case VMX_EXIT_VMPTRST:
    case VMX_EXIT_VMXON:
        info = mem_operand_info(i); /* Table 27-13: bit 10 and Reg2 are 0 */
        break;
    case VMX_EXIT_INVEPT:
    case VMX_EXIT_INVVPID:
    case VMX_EXIT_INVPCID:
        info = mem_operand_info(i) | (uint32_t)(i->reg & 15) << 28; /* Table 27-9 */
        break;
    case VMX_EXIT_GDTR_IDTR_ACCESS:
        /* Table 27-10: instruction identity 29:28 is ModRM.reg of 0F 01
         * (0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT); operand size 11 (1 = 32-bit),
         * undefined in 64-bit mode (0 here) */
        info = mem_operand_info(i) | (uint32_t)(i->reg & 3) << 28;
        if (i->opsize == 4 && !(c->mode == MODE_LONG && c->code_size == 8))
            info |= 1u << 11;
        break;
    case VMX_EXIT_LDTR_TR_ACCESS:
        /* Table 27-11: identity 29:28 is ModRM.reg of 0F 00 (0 SLDT,
         * 1 STR, 2 LLDT, 3 LTR) */
        info = (uint32_t)(i->reg & 3) << 28 | reg_or_mem_info(i);
        break;
    case VMX_EXIT_RDRAND:
    case VMX_EXIT_RDSEED:
        /* Table 27-12: destination register 6:3, operand size 12:11
         * (0 16-bit, 1 32-bit, 2 64-bit) */
        info = (uint32_t)(i->rm & 15) << 3 | (uint32_t)(i->opsize == 2 ? 0 : i->opsize == 4 ? 1 : 2) << 11;
        break;
    default: /* VMLAUNCH, VMRESUME, VMXOFF: no format */
        break;
    }
    vmx_exit_insn_with_info(c, reason, displacement(c, i), info);
}

/* ---- RDTSC, RDTSCP, IA32_TIME_STAMP_COUNTER (25.1.3, 25.3) ---- */

uint64_t vmx_guest_tsc(const struct cpu *c, uint64_t tsc)
{
    if (!(VMX_PROC_CONTROLS(c) & PROC_USE_TSC_OFFSETTING))
        return tsc;
    /* 25.3 with "use TSC scaling": the TSC times the TSC multiplier,
     * bits 111:48 of the 128-bit product (a fixed-point ratio with 48
     * fraction bits), then the offset */
    if (VMX_PROC2_CONTROLS(c) & PROC2_TSC_SCALING)
        tsc = (uint64_t)(((unsigned __int128)tsc * vmcs_get(c, VF_TSC_MULTIPLIER)) >> 48);
    return tsc + vmcs_get(c, VF_TSC_OFFSET); /* wraps modulo 2^64 like the hardware sum */
}

uint64_t vmx_rdtsc(struct cpu *c, uint64_t tsc, bool rdtscp)
{
    /* RDTSCP gets here only with "enable RDTSCP" 1 (the CPU raised #UD
     * otherwise), so "RDTSC exiting" alone decides both exits */
    if (VMX_PROC_CONTROLS(c) & PROC_RDTSC_EXITING)
        vmx_exit_insn(c, rdtscp ? VMX_EXIT_RDTSCP : VMX_EXIT_RDTSC, 0);
    return vmx_guest_tsc(c, tsc);
}

/* ---- PAUSE and PAUSE-loop exiting (24.6.13, 25.1.3) ---- */

void vmx_pause(struct cpu *c)
{
    if (VMX_PROC_CONTROLS(c) & PROC_PAUSE_EXITING) /* at any CPL; PLE is then ignored */
        vmx_exit_insn(c, VMX_EXIT_PAUSE, 0);
    if (!(VMX_PROC2_CONTROLS(c) & PROC2_PAUSE_LOOP_EXITING) || c->cpl != 0)
        return;
    /* 25.1.3: a PAUSE more than PLE_Gap TSC ticks after the previous one
     * at CPL 0 (or the first after VM entry) starts a loop; a PAUSE
     * more than PLE_Window ticks after the loop's first one exits.  The
     * clock is the TSC itself, without the guest's offset. */
    struct vmx *v = &c->vmx;
    uint64_t now = cpu_tsc(c);
    uint32_t gap = (uint32_t)vmcs_get(c, VF_PLE_GAP);
    uint32_t window = (uint32_t)vmcs_get(c, VF_PLE_WINDOW);
    if (!v->ple_seen || now - v->ple_last > gap)
        v->ple_first = now;
    v->ple_seen = true;
    v->ple_last = now;
    if (now - v->ple_first > window)
        vmx_exit_insn(c, VMX_EXIT_PAUSE, 0);
}

/* ---- I/O instructions (25.1.3, 27.2.1 Table 27-5, 27.2.5 Table 27-8) ---- */

bool vmx_io_exits(const struct cpu *c, uint16_t port, unsigned size)
{
    uint32_t proc = VMX_PROC_CONTROLS(c);
    if (!(proc & PROC_USE_IO_BITMAPS))
        return proc & PROC_UNCOND_IO_EXITING;
    /* 24.6.4: bitmap A covers ports 0000H-7FFFH, B 8000H-FFFFH; the
     * access exits when any port it touches has its bit set, or when it
     * wraps past FFFFH ("unconditional I/O exiting" is then ignored) */
    if ((uint32_t)port + size > 0x10000)
        return true;
    for (unsigned k = 0; k < size; k++) {
        unsigned p = port + k;
        uint64_t bitmap = vmcs_get(c, p < 0x8000 ? VF_IO_BITMAP_A : VF_IO_BITMAP_B);
        unsigned bit = p & 0x7fff;
        if ((phys_read(c->mmu.phys, bitmap + bit / 8, 1) >> (bit % 8)) & 1)
            return true;
    }
    return false;
}

_Noreturn void vmx_exit_io(struct cpu *c, const struct insn *i, uint16_t port, unsigned size,
                           unsigned flags, uint64_t lin)
{
    bool in = flags & VMX_IO_IN, string = flags & VMX_IO_STRING;
    /* Table 27-5: size - 1 in 2:0, IN 3, string 4, REP 5, immediate 6,
     * port 31:16 */
    uint64_t qual = (size - 1) | (uint64_t)in << 3 | (uint64_t)string << 4 |
                    (uint64_t)(string && i->rep != REP_NONE) << 5 |
                    (uint64_t)((flags & VMX_IO_IMM) != 0) << 6 | (uint64_t)port << 16;
    uint32_t info = 0;
    if (string) {
        /* 27.2.1: ES:(E)DI for INS, seg:(E)SI for OUTS; Table 27-8:
         * address size 9:7, segment 17:15 (ES for INS) */
        vmcs_set(c, VF_GUEST_LINEAR_ADDR, lin);
        info = adsize_code(i) << 7 | (uint32_t)(in ? SEG_ES : i->seg) << 15;
    }
    vmx_exit_insn_with_info(c, VMX_EXIT_IO_INSTRUCTION, qual, info);
}
