/* cpu/sse_lane.c — SSE4.1 single-lane moves between an XMM register and
 * a general register or memory (PEXTRB/W/D/Q, EXTRACTPS, PINSRB/D/Q,
 * INSERTPS) and PTEST (SDM Vol. 2, those pages). */
#include "cpu/simd.h"

/* Lane size of 66 0F 3A 14-17 and 20-22: B, W, D/Q (REX.W), PS. */
static unsigned lane_size(const struct insn *i)
{
    switch (i->op & 0xf) {
    case 0x4: return 1;              /* PEXTRB */
    case 0x5: return 2;              /* PEXTRW */
    case 0x0: return 1;              /* PINSRB */
    case 0x6: case 0x2: return i->opsize == 8 ? 8 : 4; /* PEXTRD/Q, PINSRD/Q */
    default: return 4;               /* EXTRACTPS, INSERTPS */
    }
}

/* 66 0F 3A 14-17: lane imm8 of the ModRM.reg xmm to r/m.  A register
 * destination is written zero-extended: 32 bits, or 64 for the
 * quadword form (the others zero-extend into r64 as well). */
void op_sse_extract(struct cpu *c, const struct insn *i)
{
    sse_check_66(c, i);
    unsigned size = lane_size(i);
    unsigned k = (unsigned)i->imm & (16 / size - 1);
    uint64_t v = 0;
    memcpy(&v, c->xmm[i->reg].b + k * size, size);
    if (i->mod == 3)
        reg_write(c, i, i->rm, size == 8 ? 8 : 4, v);
    else
        mem_write(c, i->seg, simd_ea(c, i, 0), size, v);
}

/* 66 0F 3A 20-22: PINSRB (low byte of r32, or m8), PINSRD/Q, INSERTPS. */
void op_sse_insert(struct cpu *c, const struct insn *i)
{
    sse_check_66(c, i);
    unsigned size = lane_size(i), imm = (unsigned)i->imm & 0xff;
    union xmm *d = &c->xmm[i->reg];
    if (i->op != 0x321) {
        uint64_t v = i->mod == 3 ? c->r[i->rm] : mem_read(c, i->seg, simd_ea(c, i, 0), size);
        memcpy(d->b + (imm & (16 / size - 1)) * size, &v, size);
        return;
    }
    /* INSERTPS: source dword imm[7:6] of a register (memory: the dword
     * itself), into dword imm[5:4], then zero the dwords in imm[3:0]. */
    uint32_t v = i->mod == 3 ? c->xmm[i->rm].d[imm >> 6]
                             : (uint32_t)mem_read(c, i->seg, simd_ea(c, i, 0), 4);
    d->d[(imm >> 4) & 3] = v;
    for (unsigned k = 0; k < 4; k++)
        if ((imm >> k) & 1)
            d->d[k] = 0;
}

/* 66 0F 38 17: PTEST — ZF when (d AND s) is zero, CF when (NOT d AND s)
 * is zero; AF, OF, PF, SF cleared. */
void op_ptest(struct cpu *c, const struct insn *i)
{
    sse_check_66(c, i);
    union xmm s;
    vec_get_rm(c, i, 16, true, &s);
    const union xmm *d = &c->xmm[i->reg];
    uint64_t and_ = (d->q[0] & s.q[0]) | (d->q[1] & s.q[1]);
    uint64_t andn = (~d->q[0] & s.q[0]) | (~d->q[1] & s.q[1]);
    flags_set_arith(c, (and_ ? 0 : FL_ZF) | (andn ? 0 : FL_CF));
}
