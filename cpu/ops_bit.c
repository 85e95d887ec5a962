/* cpu/ops_bit.c — BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT, POPCNT, BSWAP,
 * MOVBE and CRC32. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

/* op: 0 BT, 1 BTS, 2 BTR, 3 BTC */
static void bit_test(struct cpu *c, const struct insn *i, unsigned op, uint64_t bitoff, bool reg_off)
{
    unsigned size = i->opsize, bits = size * 8;
    flags_materialize(c);
    if (i->mod == 3 || !reg_off) {
        unsigned b = bitoff & (bits - 1);
        struct rmw at;
        uint64_t v = op ? rmw_read(c, i, size, &at) : rm_read(c, i, size);
        bool cf = (v >> b) & 1;
        c->rflags = (c->rflags & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0);
        if (op) {
            uint64_t nv = op == 1 ? v | (1ull << b) : op == 2 ? v & ~(1ull << b) : v ^ (1ull << b);
            rmw_write(c, i, size, &at, nv);
        }
        return;
    }
    /* register bit offset with a memory operand: a signed offset that may
     * reach outside the addressed operand (SDM Vol. 2A "BT") */
    int64_t off = (int64_t)(bitoff << (64 - bits)) >> (64 - bits);
    int64_t unit = off >> (size == 2 ? 4 : size == 4 ? 5 : 6);
    uint64_t ea = (insn_ea(c, i) + (uint64_t)(unit * size)) & size_mask(i->adsize);
    unsigned b = (unsigned)(off & (bits - 1));
    uint64_t v;
    uint64_t lin = mem_linear(c, i->seg, ea, size, op != 0);
    if (op)
        mem_probe_write(c, i->seg, ea, size);
    v = lin_read(c, lin, size);
    bool cf = (v >> b) & 1;
    c->rflags = (c->rflags & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0);
    if (op) {
        uint64_t nv = op == 1 ? v | (1ull << b) : op == 2 ? v & ~(1ull << b) : v ^ (1ull << b);
        lin_write(c, lin, size, nv);
    }
}

void op_bt_G(struct cpu *c, const struct insn *i)
{
    static const uint8_t kind[4] = {0, 1, 2, 3}; /* A3 BT, AB BTS, B3 BTR, BB BTC */
    unsigned op = kind[((i->op & 0xff) - 0xa3) >> 3];
    bit_test(c, i, op, reg_read(c, i, i->reg, i->opsize), true);
}

void op_grp8(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) < 4)
        cpu_raise(c, EX_UD, 0);
    bit_test(c, i, (i->reg & 7) - 4, i->imm & 0xff, false);
}

void op_bsf(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t v = rm_read(c, i, size);
    if (i->rep == REP_F3) { /* TZCNT (BMI1) */
        uint64_t r = v ? (uint64_t)__builtin_ctzll(v) : size * 8;
        reg_write(c, i, i->reg, size, r);
        uint64_t old = cpu_get_flags(c);
        flags_set_arith(c, (old & (FL_OF | FL_SF | FL_AF | FL_PF)) | (v ? 0 : FL_CF) | (r ? 0 : FL_ZF));
        return;
    }
    uint64_t old = cpu_get_flags(c);
    if (v == 0) { /* destination left unchanged, as all Intel and AMD parts do */
        flags_set_arith(c, (old & ~(uint64_t)FL_ZF) | FL_ZF);
        return;
    }
    reg_write(c, i, i->reg, size, (uint64_t)__builtin_ctzll(v));
    flags_set_arith(c, old & ~(uint64_t)FL_ZF);
}

void op_bsr(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t v = rm_read(c, i, size);
    if (i->rep == REP_F3) { /* LZCNT */
        uint64_t r = v ? (uint64_t)(__builtin_clzll(v) - (64 - size * 8)) : size * 8;
        reg_write(c, i, i->reg, size, r);
        uint64_t old = cpu_get_flags(c);
        flags_set_arith(c, (old & (FL_OF | FL_SF | FL_AF | FL_PF)) | (v ? 0 : FL_CF) | (r ? 0 : FL_ZF));
        return;
    }
    uint64_t old = cpu_get_flags(c);
    if (v == 0) {
        flags_set_arith(c, old | FL_ZF);
        return;
    }
    reg_write(c, i, i->reg, size, (uint64_t)(63 - __builtin_clzll(v)));
    flags_set_arith(c, old & ~(uint64_t)FL_ZF);
}

void op_popcnt(struct cpu *c, const struct insn *i)
{
    if (i->rep != REP_F3)
        cpu_raise(c, EX_UD, 0);
    uint64_t v = rm_read(c, i, i->opsize);
    reg_write(c, i, i->reg, i->opsize, (uint64_t)__builtin_popcountll(v));
    flags_set_arith(c, v ? 0 : FL_ZF); /* SDM: OF SF AF CF PF cleared */
}

void op_bswap(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    if (i->opsize == 8)
        c->r[r] = __builtin_bswap64(c->r[r]);
    else if (i->opsize == 4)
        c->r[r] = __builtin_bswap32((uint32_t)c->r[r]);
    else
        c->r[r] &= ~0xffffull; /* 16-bit BSWAP is undefined; Intel and AMD give 0 */
}

/* CRC32 uses the Castagnoli polynomial, bit-reflected (SDM Vol. 2A "CRC32") */
static uint32_t crc32c_byte(uint32_t crc, uint8_t b)
{
    crc ^= b;
    for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    return crc;
}

void op_movbe_crc32(struct cpu *c, const struct insn *i)
{
    if (i->rep == REP_F2) { /* CRC32 */
        unsigned size = (i->op & 1) ? i->opsize : 1;
        uint64_t v = rm_read(c, i, size);
        uint32_t crc = (uint32_t)c->r[i->reg];
        for (unsigned k = 0; k < size; k++)
            crc = crc32c_byte(crc, (uint8_t)(v >> (8 * k)));
        c->r[i->reg] = crc; /* 32- and 64-bit destinations both zero-extend */
        return;
    }
    if (i->mod == 3)
        cpu_raise(c, EX_UD, 0);
    unsigned size = i->opsize;
    if (!(i->op & 1)) { /* MOVBE Gv, Mv */
        uint64_t v = rm_read(c, i, size);
        v = size == 2 ? __builtin_bswap16((uint16_t)v) : size == 4 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
        reg_write(c, i, i->reg, size, v);
    } else {
        uint64_t v = reg_read(c, i, i->reg, size);
        v = size == 2 ? __builtin_bswap16((uint16_t)v) : size == 4 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
        rm_write(c, i, size, v);
    }
}
