/* cpu/vme.c — the virtual-8086 mode extensions (CR4.VME) and
 * protected-mode virtual interrupts (CR4.PVI): SDM Vol. 3B 20.3
 * ("Interrupt and Exception Handling in Virtual-8086 Mode", Table 20-2
 * and the six methods of 20.3.3) and 20.4, and the CLI, STI, PUSHF,
 * POPF, IRET and INT n pseudocode of Vol. 2.
 *
 * Each function is the branch an instruction takes when IOPL is too low
 * for it to touch IF (its caller has checked that, so the common path
 * pays nothing here): where the processor without these extensions
 * raises #GP(0) for the monitor to emulate the instruction, with them it
 * works on the virtual interrupt flag (VIF) instead, or sends INT n
 * straight to the 8086 program's own interrupt vector table.  Hardware
 * interrupts and exceptions are not affected: they still leave V86 mode
 * through the IDT, and IF still masks them. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

static unsigned iopl(const struct cpu *c)
{
    return (c->rflags & FL_IOPL) >> 12;
}

/* "VME mode" (V86 with CR4.VME) or "PVI mode" (CR0.PE, VM = 0, CPL 3,
 * CR4.PVI; protected mode here includes IA-32e mode): the SDM's tables
 * for CLI and STI. */
static bool virtual_if(const struct cpu *c)
{
    if (c->mode == MODE_V86)
        return (c->mmu.cr4 & CR4_VME) != 0;
    return c->cpl == 3 && (c->mmu.cr4 & CR4_PVI);
}

/* CLI/STI with CPL > IOPL outside real mode */
void vme_cli_sti(struct cpu *c, bool sti)
{
    if (!virtual_if(c))
        cpu_raise(c, EX_GP, 0);
    if (sti) {
        /* a pending virtual interrupt: let the monitor deliver it now */
        if (c->rflags & FL_VIP)
            cpu_raise(c, EX_GP, 0);
        c->rflags |= FL_VIF;
    } else {
        c->rflags &= ~(uint64_t)FL_VIF;
    }
}

/* FLAGS as a V86 program under VME sees them when IOPL < 3 (SDM
 * "PUSHF", and Table 20-2 method 6): VIF in the IF position, IOPL 3. */
static uint16_t virtual_flags16(struct cpu *c)
{
    uint16_t f = (uint16_t)cpu_get_flags(c);
    f = (uint16_t)((f & ~FL_IF) | ((c->rflags & FL_VIF) ? FL_IF : 0));
    return (uint16_t)(f | FL_IOPL);
}

/* Whether V86 at IOPL < 3 may run PUSHF/POPF/IRET itself: only with
 * VME and a 16-bit operand size; else #GP(0), "trap to the monitor". */
static void require_vme16(struct cpu *c, unsigned opsize)
{
    if (!(c->mmu.cr4 & CR4_VME) || opsize != 2)
        cpu_raise(c, EX_GP, 0);
}

/* The FLAGS image that POPF or IRET loads in V86 at IOPL < 3 under VME
 * (SDM "POPF", "IRET"): #GP(0) when it would set IF while a virtual
 * interrupt is pending, or set TF; otherwise IF goes to VIF, and IF
 * and IOPL themselves keep their values.  Called before anything else
 * changes, so the #GP is a clean fault. */
static void check_flags16(struct cpu *c, uint16_t v)
{
    if (((c->rflags & FL_VIP) && (v & FL_IF)) || (v & FL_TF))
        cpu_raise(c, EX_GP, 0);
}

static void load_flags16(struct cpu *c, uint16_t v)
{
    uint64_t f = cpu_get_flags(c);
    uint64_t kept = FL_IF | FL_IOPL;
    f = (f & ~(uint64_t)(0xffff & ~kept)) | (v & 0xffff & ~kept);
    f = (f & ~(uint64_t)FL_VIF) | ((v & FL_IF) ? FL_VIF : 0);
    cpu_set_flags(c, f);
}

/* PUSHF, POPF and IRET in V86 with IOPL < 3 */
void vme_pushf(struct cpu *c, unsigned opsize)
{
    require_vme16(c, opsize);
    cpu_push(c, 2, virtual_flags16(c));
}

void vme_popf(struct cpu *c, unsigned opsize)
{
    require_vme16(c, opsize);
    uint16_t v = (uint16_t)cpu_peek(c, 2, 0);
    check_flags16(c, v);
    cpu_pop(c, 2);
    load_flags16(c, v);
}

void vme_iret(struct cpu *c, unsigned opsize)
{
    require_vme16(c, opsize);
    uint16_t ip = (uint16_t)cpu_peek(c, 2, 0);
    uint16_t cs = (uint16_t)cpu_peek(c, 2, 2);
    uint16_t v = (uint16_t)cpu_peek(c, 2, 4);
    check_flags16(c, v);
    c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) | ((c->r[R_RSP] + 6) & sp_mask(c));
    seg_load_real(c, SEG_CS, cs);
    c->rip = ip;
    load_flags16(c, v);
}

/* INT n in V86 with CR4.VME (SDM "INT n" and 20.3.3.4-20.3.3.5): bit n
 * of the software interrupt redirection bit map, the 32 bytes just
 * below the I/O permission bit map in the 32-bit TSS, chooses.  Clear:
 * the 8086 program's own handler from its vector table at linear 0
 * (methods 5 and 6), and the function returns true.  Set: false, and
 * the caller goes on as without VME (the IDT at IOPL 3, method 4; #GP
 * at IOPL < 3, method 3).  Called in V86 mode only. */
bool vme_int_redirect(struct cpu *c, unsigned vector)
{
    if (!(c->mmu.cr4 & CR4_VME))
        return false;
    /* the bit map is read like the I/O permission bit map: a 32-bit
     * TSS, and the byte within the TSS limit, or #GP(0) */
    unsigned type = AR_TYPE(c->tr.ar);
    if ((c->tr.ar & AR_UNUSABLE) || (type != 9 && type != 11) || c->tr.limit < 103)
        cpu_raise(c, EX_GP, 0);
    uint32_t iomap = (uint32_t)sys_read(c, c->tr.base + 102, 2);
    uint32_t at = iomap - 32 + vector / 8;
    if (iomap < 32 || at > c->tr.limit)
        cpu_raise(c, EX_GP, 0);
    if ((sys_read(c, c->tr.base + at, 1) >> (vector & 7)) & 1)
        return false;

    /* the 8086 program's interrupt vector table, read as it would read
     * it: at CPL 3, through its own paging */
    uint32_t ent = (uint32_t)lin_read(c, (uint64_t)vector * 4, 4);
    bool real_if = iopl(c) == 3; /* method 5: IF itself; method 6: VIF */
    uint16_t flags = real_if ? (uint16_t)cpu_get_flags(c) : virtual_flags16(c);
    /* the 6-byte frame is written before SP moves, so a fault on the
     * stack leaves SP as it was */
    uint64_t m = sp_mask(c), sp = c->r[R_RSP];
    mem_write(c, SEG_SS, (sp - 2) & m, 2, flags);
    mem_write(c, SEG_SS, (sp - 4) & m, 2, c->seg[SEG_CS].sel);
    mem_write(c, SEG_SS, (sp - 6) & m, 2, c->rip & 0xffff);
    c->r[R_RSP] = (sp & ~m) | ((sp - 6) & m);
    c->rflags &= ~(uint64_t)(FL_TF | (real_if ? FL_IF : FL_VIF));
    seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
    c->rip = ent & 0xffff;
    c->sw_int = true; /* as cpu_deliver(): no single-step trap after INT n */
    if (c->dbg_event)
        c->dbg_event(c->dbg_opaque, c, (int)vector, INT_SOFTWARE);
    return true;
}
