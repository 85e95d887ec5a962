/* cpu/copyrun_tmpl.c — a handler's machine code made into a template
 * (cpu/copyrun_tmpl.h): its extent from the executable's symbol table,
 * its instructions decoded by Capstone, the registers followed through
 * it, and its code laid out again with branches re-aimed, loads of the
 * entry's fields turned into immediates and register numbers into
 * displacements. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "cpu/copyrun.h"
#include "cpu/copyrun_tmpl.h"

/* ---- the registered handlers and their extents ---- */

extern const struct copyrun_handler __start_nest86_copyrun[], __stop_nest86_copyrun[];

struct handler_extent {
    uintptr_t addr;
    size_t size; /* 0: no symbol found */
    unsigned step;
};

static struct handler_extent *extents;
static size_t n_extents;
static pthread_once_t extents_once = PTHREAD_ONCE_INIT;

static int cmp_extent(const void *a, const void *b)
{
    uintptr_t x = ((const struct handler_extent *)a)->addr;
    uintptr_t y = ((const struct handler_extent *)b)->addr;
    return x < y ? -1 : x > y;
}

static struct handler_extent *find_extent(uintptr_t addr)
{
    size_t lo = 0, hi = n_extents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (extents[mid].addr == addr)
            return &extents[mid];
        if (extents[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The main program's load bias (dl_iterate_phdr lists it first). */
static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1;
}

/* The sizes of the registered handlers, from the executable's own
 * symbol table: a handler is copied within its symbol's extent only. */
static void read_symbol_sizes(void)
{
    uintptr_t bias = 0;
    dl_iterate_phdr(first_object, &bias);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(Elf64_Ehdr))
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    const uint8_t *base = map;
    size_t len = (size_t)st.st_size;
    const Elf64_Ehdr *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len)
        goto out;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (unsigned s = 0; s < eh->e_shnum; s++) {
        if (sh[s].sh_type != SHT_SYMTAB || sh[s].sh_entsize != sizeof(Elf64_Sym) ||
            sh[s].sh_offset + sh[s].sh_size > len)
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[s].sh_offset);
        size_t n = sh[s].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < n; k++) {
            if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_size == 0)
                continue;
            struct handler_extent *e = find_extent(bias + sym[k].st_value);
            if (e)
                e->size = sym[k].st_size;
        }
    }
out:
    munmap(map, len);
}

static void init_extents(void)
{
    size_t n = (size_t)(__stop_nest86_copyrun - __start_nest86_copyrun);
    extents = calloc(n ? n : 1, sizeof(*extents));
    if (!extents)
        return;
    for (size_t k = 0; k < n; k++)
        extents[k] = (struct handler_extent){(uintptr_t)__start_nest86_copyrun[k].run, 0,
                                              __start_nest86_copyrun[k].step};
    qsort(extents, n, sizeof(*extents), cmp_extent);
    n_extents = n;
    read_symbol_sizes();
}

bool tmpl_symbols(void)
{
    pthread_once(&extents_once, init_extents);
    for (size_t k = 0; extents && k < n_extents; k++)
        if (extents[k].size != 0)
            return true;
    return false;
}

bool tmpl_registered(uintptr_t run)
{
    pthread_once(&extents_once, init_extents);
    return find_extent(run) != NULL;
}

/* ---- decoding ---- */

#define TMPL_MAX_SRC   640 /* longer handlers stay threaded */
#define TMPL_MAX_INSNS 128

struct dins;

struct tmpl_decoder {
    csh cs;
    cs_insn *ci;
    struct dins *dins; /* build_template's decoding */
};

/* The capstone register's general-purpose register number (0-15, in
 * the ModRM order), or -1; 'full' tells whether it is the 64-bit one. */
static int gpr_of(unsigned r, bool *full)
{
    static const unsigned names[16][5] = {
        {X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH},
        {X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH},
        {X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH},
        {X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH},
        {X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL},
        {X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL},
        {X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL},
        {X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL},
        {X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R8B},
        {X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_R9B},
        {X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, X86_REG_R10B},
        {X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, X86_REG_R11B},
        {X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B, X86_REG_R12B},
        {X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B, X86_REG_R13B},
        {X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B, X86_REG_R14B},
        {X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B, X86_REG_R15B},
    };
    for (int g = 0; g < 16; g++)
        for (int k = 0; k < 5; k++)
            if (names[g][k] == r) {
                *full = k == 0;
                return g;
            }
    return -1;
}

/* The bytes of a general register name (8, 4, 2 or 1), 0 for another */
static unsigned gpr_width(unsigned r)
{
    bool full;
    int g = gpr_of(r, &full);
    if (g < 0)
        return 0;
    if (full)
        return 8;
    static const unsigned r32[16] = {X86_REG_EAX, X86_REG_ECX, X86_REG_EDX, X86_REG_EBX,
                                     X86_REG_ESP, X86_REG_EBP, X86_REG_ESI, X86_REG_EDI,
                                     X86_REG_R8D, X86_REG_R9D, X86_REG_R10D, X86_REG_R11D,
                                     X86_REG_R12D, X86_REG_R13D, X86_REG_R14D, X86_REG_R15D};
    return r32[g] == r ? 4 : 1;
}

/* What the copier knows of the registers at an instruction: which hold
 * the handler's entry %rsi (the entry pointer i) plus a constant. */
struct regs {
    bool seen;       /* reached by some path already */
    uint16_t known;  /* bit g: register g is i + delta[g] */
    int32_t delta[16];
    uint8_t fsrc[16]; /* g holds what folded load fsrc[g] - 1 loaded; 0: no */
};

#define R_RSI 6

static void regs_merge(struct regs *into, const struct regs *from)
{
    if (!into->seen) {
        *into = *from;
        into->seen = true;
        return;
    }
    for (int g = 0; g < 16; g++) {
        if (!((from->known >> g) & 1) || from->delta[g] != into->delta[g])
            into->known &= (uint16_t)~(1u << g);
        if (from->fsrc[g] != into->fsrc[g])
            into->fsrc[g] = 0;
    }
}

enum ikind { K_PLAIN, K_JCC, K_JMP, K_CALL, K_DISPATCH };

struct dins {
    uintptr_t addr;
    uint8_t size;
    uint8_t kind;
    uint8_t cc;          /* K_JCC: condition (low nibble of the opcode) */
    uint8_t disp_off;    /* RIP-relative displacement's offset in the bytes, 0: none */
    uintptr_t target;    /* K_JCC, K_JMP, K_CALL; the RIP-relative operand's address */
    uint16_t out_off;    /* its offset in the template */
    bool mapped;         /* K_DISPATCH that becomes the fall into the next copy */
    bool terminal;       /* no fall-through */
    int8_t dst, src;     /* effect_of() */
    int32_t add;
    uint16_t clobber;
    /* a load of an entry's field into a register (fold_of()): the
     * register, the base and displacement, the sizes, sign extension */
    int8_t fold_reg, fold_base;
    uint8_t fold_size, fold_dst_size;
    bool fold_sign, folded, dead;
    int32_t fold_disp, fold_off;
    uint8_t idx;           /* its index in the handler */
    uint16_t rd, wr_full;  /* registers read; written whole (64 or 32 bits) */
    uint16_t uses_other;   /* registers it uses other than as its memory index */
    /* [base + index*scale + disp] whose index holds a folded register
     * number: rewritten as [base + disp'] (mem_of(), rewrite_len()) */
    int8_t mem_base, mem_index;
    uint8_t mem_scale, modrm_at, rex_at, imm_at, imm_size;
    int32_t mem_disp;
    bool rewrite;
    int8_t rewrite_src;    /* the folded load whose byte is the index */
    /* a shift or rotate by CL: the opcode's place (D2/D3), and when CL
     * holds a folded field, the load it came from (it becomes C0/C1 ib) */
    int8_t shift_op_at, shift_src;
    uint16_t shift_uses_other;
    struct regs in;
};

/* The register effect of one instruction, found once at decode: the
 * registers it may change ('clobber'), and, for MOV between 64-bit
 * registers, ADD or SUB of an immediate and LEA base + displacement,
 * the one it sets to another's value plus a constant. */
static void effect_of(csh cs, const cs_insn *ci, struct dins *e)
{
    const cs_x86 *x = &ci->detail->x86;
    e->dst = -1;
    if (ci->id == X86_INS_CALL) {
        e->clobber = 0x0fc7; /* the caller-saved rax rcx rdx rsi rdi r8-r11 */
        return;
    }
    cs_regs rd, wr;
    uint8_t nrd = 0, nwr = 0;
    if (cs_regs_access(cs, ci, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
        e->clobber = 0xffff;
        e->rd = 0xffff;
        return;
    }
    for (unsigned k = 0; k < nrd; k++) {
        bool full;
        int g = gpr_of(rd[k], &full);
        if (g >= 0)
            e->rd |= (uint16_t)(1u << g);
    }
    for (unsigned k = 0; k < nwr; k++) {
        bool full;
        int g = gpr_of(wr[k], &full);
        if (g >= 0 && gpr_width(wr[k]) >= 4)
            e->wr_full |= (uint16_t)(1u << g);
    }
    e->uses_other = e->rd;
    for (unsigned k = 0; k < nwr; k++) {
        bool full;
        int g = gpr_of(wr[k], &full);
        if (g < 0 || g == 4 /* rsp: pushes and pops do not matter here */)
            continue;
        e->clobber |= (uint16_t)(1u << g);
        if (!full || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
            x->operands[0].reg != wr[k])
            continue;
        const cs_x86_op *s = &x->operands[1];
        bool sfull = false;
        int h = -1;
        int64_t add = 0;
        if (ci->id == X86_INS_MOV && s->type == X86_OP_REG) {
            h = gpr_of(s->reg, &sfull);
        } else if ((ci->id == X86_INS_ADD || ci->id == X86_INS_SUB) && s->type == X86_OP_IMM) {
            h = g;
            sfull = true;
            add = ci->id == X86_INS_ADD ? s->imm : -s->imm;
        } else if (ci->id == X86_INS_LEA && s->type == X86_OP_MEM &&
                   s->mem.index == X86_REG_INVALID && s->mem.segment == X86_REG_INVALID) {
            h = gpr_of(s->mem.base, &sfull);
            add = s->mem.disp;
        }
        if (h >= 0 && sfull && add >= INT32_MIN && add <= INT32_MAX) {
            e->dst = (int8_t)g;
            e->src = (int8_t)h;
            e->add = (int32_t)add;
        }
    }
}

static void regs_step(const struct dins *e, const struct regs *in, struct regs *out)
{
    *out = *in;
    out->known &= (uint16_t)~e->clobber;
    for (int g = 0; g < 16; g++)
        if ((e->clobber >> g) & 1)
            out->fsrc[g] = 0;
    if (e->dst >= 0 && e->add == 0)
        out->fsrc[e->dst] = in->fsrc[e->src];
    if (e->folded)
        out->fsrc[e->fold_reg] = (uint8_t)(e->idx + 1);
    if (e->dst >= 0 && ((in->known >> e->src) & 1)) {
        int64_t d = (int64_t)in->delta[e->src] + e->add;
        if (d >= INT32_MIN && d <= INT32_MAX) {
            out->known |= (uint16_t)(1u << e->dst);
            out->delta[e->dst] = (int32_t)d;
        }
    }
}

/* MOV, MOVZX, MOVSX or MOVSXD of a memory operand [base + disp] into a
 * general register: when the base turns out to hold the entry's
 * address, the load reads a field of the decoded instruction, which
 * does not change while the copy lives (cpu/copyrun.h), and the copy
 * can hold the value as an immediate instead. */
static void fold_of(const cs_insn *ci, struct dins *e)
{
    const cs_x86 *x = &ci->detail->x86;
    e->fold_reg = -1;
    if (x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
        x->operands[1].type != X86_OP_MEM || x->prefix[0] || x->prefix[1] || x->prefix[2] ||
        x->prefix[3])
        return;
    const cs_x86_op *m = &x->operands[1];
    bool full, bfull;
    int r = gpr_of(x->operands[0].reg, &full);
    int b = gpr_of(m->mem.base, &bfull);
    if (r < 0 || r == 4 || b < 0 || !bfull || m->mem.index != X86_REG_INVALID ||
        m->mem.segment != X86_REG_INVALID)
        return;
    unsigned dsz = x->operands[0].size, msz = m->size;
    bool sign;
    if (ci->id == X86_INS_MOV && msz == dsz && (dsz == 4 || dsz == 8))
        sign = false;
    else if (ci->id == X86_INS_MOVZX && (msz == 1 || msz == 2) && (dsz == 4 || dsz == 8))
        sign = false;
    else if ((ci->id == X86_INS_MOVSX || ci->id == X86_INS_MOVSXD) && msz < dsz &&
             (dsz == 4 || dsz == 8))
        sign = true;
    else
        return;
    e->fold_reg = (int8_t)r;
    e->fold_base = (int8_t)b;
    e->fold_disp = (int32_t)m->mem.disp;
    e->fold_size = (uint8_t)msz;
    e->fold_dst_size = (uint8_t)dsz;
    e->fold_sign = sign;
}

/* The place of an instruction's opcode after its legacy prefixes and
 * REX (*rex: the REX byte's place, 0xff for none); -1 for the VEX,
 * EVEX and XOP forms, whose register bits the copier does not edit */
static int opcode_at(const cs_insn *ci, unsigned *rex)
{
    static const uint8_t legacy[] = {0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e,
                                     0x26, 0x36, 0x64, 0x65, 0xf0};
    const uint8_t *b = ci->bytes;
    unsigned p = 0;
    while (p < ci->size && memchr(legacy, b[p], sizeof legacy))
        p++;
    *rex = 0xff;
    if (p < ci->size && (b[p] & 0xf0) == 0x40)
        *rex = p++;
    if (p >= ci->size || b[p] == 0xc4 || b[p] == 0xc5 || b[p] == 0x62 || b[p] == 0x8f)
        return -1;
    return (int)p;
}

/* A memory operand [base + index*scale + disp] in a plain instruction
 * (no VEX/EVEX), laid out ModRM, SIB, displacement, immediate: its
 * index may turn out to hold a folded register number (build_template),
 * and the operand then becomes [base + disp32]. */
static void mem_of(const cs_insn *ci, struct dins *e)
{
    const cs_x86 *x = &ci->detail->x86;
    e->mem_index = -1;
    const uint8_t *b = ci->bytes;
    unsigned rex;
    if (opcode_at(ci, &rex) < 0)
        return;
    const cs_x86_encoding *en = &x->encoding;
    unsigned mo = en->modrm_offset;
    if (mo == 0 || mo + 1 >= ci->size || (b[mo] >> 6) == 3 || (b[mo] & 7) != 4)
        return; /* no SIB byte */
    unsigned after = en->disp_offset ? (unsigned)en->disp_offset + en->disp_size : mo + 2u;
    if (en->disp_offset && en->disp_offset != mo + 2)
        return;
    if (en->imm_offset ? (en->imm_offset != after || en->imm_offset + en->imm_size != ci->size)
                       : after != ci->size)
        return;
    int mems = 0;
    const cs_x86_op *m = NULL;
    for (unsigned k = 0; k < x->op_count; k++)
        if (x->operands[k].type == X86_OP_MEM) {
            mems++;
            m = &x->operands[k];
        }
    if (mems != 1 || m->mem.segment != X86_REG_INVALID || m->mem.index == X86_REG_INVALID)
        return;
    bool full;
    int base = gpr_of(m->mem.base, &full), index = gpr_of(m->mem.index, &full);
    if (base < 0 || index < 0 || !full)
        return;
    e->mem_base = (int8_t)base;
    e->mem_index = (int8_t)index;
    e->mem_scale = (uint8_t)m->mem.scale;
    e->mem_disp = (int32_t)m->mem.disp;
    e->modrm_at = (uint8_t)mo;
    e->rex_at = (uint8_t)rex;
    e->imm_at = en->imm_offset;
    e->imm_size = en->imm_size;
    /* the registers it reads other than as the index (a destination
     * operand it only writes is not one) */
    uint16_t other = 0;
    for (unsigned k = 0; k < x->op_count; k++) {
        const cs_x86_op *o = &x->operands[k];
        if (o->type == X86_OP_REG && (o->access & CS_AC_READ) && gpr_of(o->reg, &full) >= 0)
            other |= (uint16_t)(1u << gpr_of(o->reg, &full));
        if (o->type == X86_OP_MEM && gpr_of(o->mem.base, &full) >= 0)
            other |= (uint16_t)(1u << gpr_of(o->mem.base, &full));
    }
    /* implicit reads (flags aside) stay: only the index is dropped */
    e->uses_other = (uint16_t)((e->rd & ~(1u << index)) | other);
}

/* SHL, SHR, SAR, ROL or ROR by CL (D2/D3 /n): with a count known when
 * the copy is made it becomes the form with an 8-bit immediate (C0/C1
 * /n ib), which differs only in that byte at the end */
static void shift_of(const cs_insn *ci, struct dins *e)
{
    const cs_x86 *x = &ci->detail->x86;
    e->shift_op_at = -1;
    if (ci->id != X86_INS_SHL && ci->id != X86_INS_SHR && ci->id != X86_INS_SAR &&
        ci->id != X86_INS_ROL && ci->id != X86_INS_ROR && ci->id != X86_INS_SAL)
        return;
    if (x->op_count != 2 || x->operands[1].type != X86_OP_REG || x->operands[1].reg != X86_REG_CL ||
        x->encoding.imm_size)
        return;
    unsigned rex;
    int p = opcode_at(ci, &rex);
    if (p < 0 || (ci->bytes[p] != 0xd2 && ci->bytes[p] != 0xd3))
        return;
    e->shift_op_at = (int8_t)p;
    /* what it reads besides the count */
    bool full;
    uint16_t other = 0;
    const cs_x86_op *o = &x->operands[0];
    if (o->type == X86_OP_REG && gpr_of(o->reg, &full) >= 0)
        other |= (uint16_t)(1u << gpr_of(o->reg, &full));
    if (o->type == X86_OP_MEM) {
        if (gpr_of(o->mem.base, &full) >= 0)
            other |= (uint16_t)(1u << gpr_of(o->mem.base, &full));
        if (gpr_of(o->mem.index, &full) >= 0)
            other |= (uint16_t)(1u << gpr_of(o->mem.index, &full));
    }
    e->shift_uses_other = other;
}

/* The rewritten form's length: the bytes before ModRM, ModRM, a SIB for
 * an RSP/R12 base, disp32, the immediate */
static unsigned rewrite_len(const struct dins *x)
{
    return x->modrm_at + 1u + ((x->mem_base & 7) == 4) + 4u + x->imm_size;
}

/* The move of an immediate that replaces a folded load: written at p
 * (unless NULL); its length, and where in it the immediate starts and
 * how long it is */
static unsigned fold_form(const struct dins *x, uint8_t *p, unsigned *imm_at,
                          unsigned *imm_size)
{
    unsigned r = (unsigned)x->fold_reg & 7, hi = x->fold_reg >= 8;
    uint8_t b[3];
    unsigned n;
    if (x->fold_dst_size == 4 || (!x->fold_sign && x->fold_size < 8)) {
        /* mov $imm32, %r32 (zero-extends into the whole register) */
        n = 0;
        if (hi)
            b[n++] = 0x41;
        b[n++] = (uint8_t)(0xb8 + r);
        *imm_size = 4;
    } else if (x->fold_sign) { /* mov $simm32, %r64 */
        b[0] = (uint8_t)(0x48 | hi);
        b[1] = 0xc7;
        b[2] = (uint8_t)(0xc0 + r);
        n = 3;
        *imm_size = 4;
    } else { /* movabs $imm64, %r64 */
        b[0] = (uint8_t)(0x48 | hi);
        b[1] = (uint8_t)(0xb8 + r);
        n = 2;
        *imm_size = 8;
    }
    if (p)
        memcpy(p, b, n);
    *imm_at = n;
    return n + *imm_size;
}

/* Decodes the handler into d[], classifying each instruction; false
 * for a form the copier does not take. */
static bool decode_handler(struct tmpl_decoder *dec, uintptr_t addr, size_t size, struct dins *d,
                           unsigned *nd)
{
    const uint8_t *code = (const uint8_t *)addr;
    size_t left = size;
    uint64_t pc = addr;
    unsigned n = 0;
    while (left > 0) {
        if (n == TMPL_MAX_INSNS || !cs_disasm_iter(dec->cs, &code, &left, &pc, dec->ci))
            return false;
        const cs_insn *ci = dec->ci;
        const cs_x86 *x = &ci->detail->x86;
        struct dins *e = &d[n];
        memset(e, 0, sizeof(*e));
        e->addr = (uintptr_t)ci->address;
        e->size = (uint8_t)ci->size;
        e->kind = K_PLAIN;
        const uint8_t *b = ci->bytes;
        bool jump = cs_insn_group(dec->cs, ci, X86_GRP_JUMP);
        bool rel = cs_insn_group(dec->cs, ci, X86_GRP_BRANCH_RELATIVE);
        if (ci->id == X86_INS_CALL && rel) {
            if (b[0] != 0xe8)
                return false;
            e->kind = K_CALL;
            e->target = (uintptr_t)x->operands[0].imm;
        } else if (jump && rel) {
            if (b[0] == 0xeb || b[0] == 0xe9) {
                e->kind = K_JMP;
                e->terminal = true;
            } else if ((b[0] & 0xf0) == 0x70) {
                e->kind = K_JCC;
                e->cc = b[0] & 0xf;
            } else if (b[0] == 0x0f && (b[1] & 0xf0) == 0x80) {
                e->kind = K_JCC;
                e->cc = b[1] & 0xf;
            } else {
                return false; /* LOOP, JRCXZ, prefixed forms */
            }
            e->target = (uintptr_t)x->operands[0].imm;
        } else if (ci->size == 3 && b[0] == 0xff && b[1] == 0x66 && b[2] == 0x08) {
            e->kind = K_DISPATCH; /* jmp *8(%rsi): the next entry's run */
            e->terminal = true;
        } else if (jump || ci->id == X86_INS_RET || ci->id == X86_INS_UD2 ||
                   ci->id == X86_INS_INT3) {
            e->terminal = true; /* an indirect jump: into the original code */
        }
        effect_of(dec->cs, ci, e);
        /* padding the compiler put before a branch target: the copy,
         * laid out again, needs none */
        e->dead = ci->id == X86_INS_NOP && e->kind == K_PLAIN;
        fold_of(ci, e);
        mem_of(ci, e);
        shift_of(ci, e);
        e->idx = (uint8_t)n;
        for (unsigned k = 0; k < x->op_count; k++)
            if (x->operands[k].type == X86_OP_MEM && x->operands[k].mem.base == X86_REG_RIP) {
                if (x->encoding.disp_offset == 0 || x->encoding.disp_size != 4)
                    return false;
                e->disp_off = x->encoding.disp_offset;
                e->target = (uintptr_t)(ci->address + ci->size + x->operands[k].mem.disp);
            }
        n++;
    }
    *nd = n;
    return n > 0;
}

static int index_of(const struct dins *d, unsigned n, uintptr_t addr)
{
    for (unsigned k = 0; k < n; k++)
        if (d[k].addr == addr)
            return (int)k;
    return -1;
}

static bool internal(const struct dins *d, unsigned n, uintptr_t t)
{
    return t >= d[0].addr && t < d[n - 1].addr + d[n - 1].size;
}

/* Follows the registers through the handler until nothing changes. */
static void track_regs(struct dins *d, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        d[k].in.seen = false;
    d[0].in = (struct regs){.seen = true, .known = 1u << R_RSI};
    for (int pass = 0; pass < 8; pass++) {
        bool changed = false;
        for (unsigned k = 0; k < n; k++) {
            if (!d[k].in.seen)
                continue;
            struct regs out;
            regs_step(&d[k], &d[k].in, &out);
            struct regs *to[2] = {NULL, NULL};
            if (!d[k].terminal && k + 1 < n)
                to[0] = &d[k + 1].in;
            if ((d[k].kind == K_JCC || d[k].kind == K_JMP) && internal(d, n, d[k].target)) {
                int t = index_of(d, n, d[k].target);
                if (t >= 0)
                    to[1] = &d[t].in;
            }
            for (int w = 0; w < 2; w++) {
                if (!to[w])
                    continue;
                struct regs before = *to[w];
                regs_merge(to[w], &out);
                if (!before.seen || before.known != to[w]->known ||
                    memcmp(before.delta, to[w]->delta, sizeof(before.delta)) != 0 ||
                    memcmp(before.fsrc, to[w]->fsrc, sizeof(before.fsrc)) != 0)
                    changed = true;
            }
        }
        if (!changed)
            return;
    }
    for (unsigned k = 0; k < n; k++) { /* did not settle: trust nothing */
        d[k].in.known = 0;
        memset(d[k].in.fsrc, 0, sizeof(d[k].in.fsrc));
    }
}

static bool add_rel(struct tmpl *t, unsigned off, uintptr_t to)
{
    if (t->nrel == TMPL_MAX_RELS)
        return false;
    t->rel_off[t->nrel] = (uint16_t)off;
    t->rel_to[t->nrel] = to;
    t->nrel++;
    return true;
}

static bool build_template(struct tmpl_decoder *dec, struct tmpl *t, const struct handler_extent *e)
{
    struct dins *d = dec->dins;
    unsigned n;
    if (e->size == 0 || e->size > TMPL_MAX_SRC || !decode_handler(dec, e->addr, e->size, d, &n))
        return false;
    track_regs(d, n);
    int32_t past = (int32_t)(64 * e->step); /* %rsi at the next copy */
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        x->folded = x->rewrite = false;
        if (x->kind == K_PLAIN && x->fold_reg >= 0 && x->in.seen &&
            ((x->in.known >> x->fold_base) & 1)) {
            /* a field of this handler's own entries, not their 'fn' or
             * 'run' (which cpu_fuse changes) */
            int64_t f = (int64_t)x->in.delta[x->fold_base] + x->fold_disp;
            int64_t span = 64 * (e->step ? e->step : 1);
            if (f >= 0 && f + x->fold_size <= span && (f & 63) >= 16 &&
                (f & 63) + x->fold_size <= 64) {
                x->folded = true;
                x->fold_off = (int32_t)f;
            }
        }
    }
    /* again, now following which registers hold folded fields: a byte
     * used as an index (a guest register number) becomes part of the
     * displacement, and the move of it dies if nothing else reads it */
    track_regs(d, n);
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        if (x->kind != K_PLAIN || x->folded || x->disp_off || x->mem_index < 0 ||
            !x->in.seen || !x->in.fsrc[x->mem_index])
            continue;
        const struct dins *src = &d[x->in.fsrc[x->mem_index] - 1];
        /* a byte times the scale keeps the displacement within 32 bits */
        if (src->folded && src->fold_size == 1 && !src->fold_sign &&
            (int64_t)x->mem_disp + 8 * 255 <= INT32_MAX) {
            x->rewrite = true;
            x->rewrite_src = (int8_t)src->idx;
        }
    }
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        x->shift_src = -1;
        if (x->kind == K_PLAIN && x->shift_op_at >= 0 && !x->rewrite && !x->disp_off &&
            x->in.seen && x->in.fsrc[1] && d[x->in.fsrc[1] - 1].folded)
            x->shift_src = (int8_t)(x->in.fsrc[1] - 1);
    }
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        if (!x->folded)
            continue;
        uint16_t bit = (uint16_t)(1u << x->fold_reg);
        for (unsigned j = k + 1; j < n; j++) {
            const struct dins *y = &d[j];
            if (y->kind == K_DISPATCH) { /* the next handler reads only %rdi, %rsi */
                x->dead = x->fold_reg != 7 && x->fold_reg != R_RSI;
                break;
            }
            if (y->kind != K_PLAIN || y->terminal)
                break;
            uint16_t reads = y->rewrite ? y->uses_other : y->rd;
            if (y->shift_src >= 0) /* the count is an immediate now */
                reads = (uint16_t)((y->rd & ~(1u << 1)) | y->shift_uses_other);
            if (y->folded)
                reads = 0; /* a move of an immediate */
            if (reads & bit)
                break;
            if ((y->wr_full & bit) || (y->folded && y->fold_reg == x->fold_reg)) {
                x->dead = true;
                break;
            }
        }
    }
    /* lay out: branches become their rel32 forms; a dispatch with %rsi
     * past the entries becomes a jump to the end, or nothing when it is
     * the last instruction */
    unsigned off = 0;
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        x->out_off = (uint16_t)off;
        if (x->kind == K_DISPATCH && e->step && x->in.seen && ((x->in.known >> R_RSI) & 1) &&
            x->in.delta[R_RSI] == past)
            x->mapped = true;
        unsigned sz = x->size;
        if (x->dead) {
            sz = 0;
        } else if (x->folded) {
            unsigned at, isz;
            sz = fold_form(x, NULL, &at, &isz);
        } else if (x->rewrite) {
            sz = rewrite_len(x);
        } else if (x->shift_src >= 0) {
            sz = x->size + 1u;
        }
        if (x->kind == K_JCC)
            sz = 6;
        else if (x->kind == K_JMP || x->kind == K_CALL)
            sz = 5;
        else if (x->mapped)
            sz = k + 1 == n ? 0 : 5;
        off += sz;
    }
    if (off > TMPL_MAX_CODE)
        return false;
    unsigned end = off;
    for (unsigned k = 0; k < n; k++) {
        struct dins *x = &d[k];
        uint8_t *p = t->code + x->out_off;
        if (x->kind == K_JCC || x->kind == K_JMP) {
            unsigned at = x->kind == K_JCC ? 2 : 1;
            if (x->kind == K_JCC) {
                p[0] = 0x0f;
                p[1] = (uint8_t)(0x80 | x->cc);
            } else {
                p[0] = 0xe9;
            }
            if (internal(d, n, x->target)) {
                int to = index_of(d, n, x->target);
                if (to < 0)
                    return false; /* into the middle of an instruction */
                put32(p + at, (int64_t)d[to].out_off - (x->out_off + at + 4));
            } else {
                if (!add_rel(t, x->out_off + at, x->target))
                    return false;
            }
        } else if (x->kind == K_CALL) {
            p[0] = 0xe8;
            if (!add_rel(t, x->out_off + 1u, x->target))
                return false;
        } else if (x->dead) {
            /* nothing: the register it set is overwritten unread */
        } else if (x->folded) {
            unsigned at, isz;
            fold_form(x, p, &at, &isz);
            if (t->nfold == TMPL_MAX_RELS)
                return false;
            t->fold_at[t->nfold] = (uint16_t)(x->out_off + at);
            t->fold_off[t->nfold] = (int16_t)x->fold_off;
            t->fold_size[t->nfold] = x->fold_size;
            t->fold_imm[t->nfold] = (uint8_t)isz;
            t->fold_sign[t->nfold] = x->fold_sign;
            t->fold_scale[t->nfold] = 0;
            t->nfold++;
        } else if (x->shift_src >= 0) {
            memcpy(p, (const void *)x->addr, x->size);
            p[x->shift_op_at] = p[x->shift_op_at] == 0xd3 ? 0xc1 : 0xc0;
            if (t->nfold == TMPL_MAX_RELS)
                return false;
            const struct dins *src = &d[x->shift_src];
            t->fold_at[t->nfold] = (uint16_t)(x->out_off + x->size);
            t->fold_off[t->nfold] = (int16_t)src->fold_off;
            t->fold_size[t->nfold] = src->fold_size;
            t->fold_imm[t->nfold] = 1; /* its low byte, as CL */
            t->fold_sign[t->nfold] = src->fold_sign;
            t->fold_scale[t->nfold] = 0;
            t->nfold++;
        } else if (x->rewrite) {
            const uint8_t *o = (const uint8_t *)x->addr;
            memcpy(p, o, x->modrm_at);
            if (x->rex_at != 0xff)
                p[x->rex_at] &= (uint8_t)~0x02; /* no REX.X: no index */
            unsigned q = x->modrm_at;
            p[q++] = (uint8_t)(0x80 | (o[x->modrm_at] & 0x38) | (x->mem_base & 7));
            if ((x->mem_base & 7) == 4)
                p[q++] = 0x24; /* SIB: no index, base RSP/R12 */
            if (t->nfold == TMPL_MAX_RELS)
                return false;
            const struct dins *src = &d[x->rewrite_src];
            t->fold_at[t->nfold] = (uint16_t)(x->out_off + q);
            t->fold_off[t->nfold] = (int16_t)src->fold_off;
            t->fold_size[t->nfold] = 1;
            t->fold_imm[t->nfold] = 4;
            t->fold_sign[t->nfold] = false;
            t->fold_scale[t->nfold] = x->mem_scale;
            t->fold_disp[t->nfold] = x->mem_disp;
            t->nfold++;
            q += 4;
            memcpy(p + q, o + x->imm_at, x->imm_size);
        } else if (x->mapped) {
            if (k + 1 < n) {
                p[0] = 0xe9;
                put32(p + 1, (int64_t)end - (x->out_off + 5));
            }
        } else {
            memcpy(p, (const void *)x->addr, x->size);
            /* a RIP-relative operand keeps its absolute address; the
             * displacement is the instruction's last field but for an
             * immediate, so its end is where it was */
            if (x->disp_off) {
                if (!add_rel(t, x->out_off + x->disp_off, x->target))
                    return false;
                /* rel32 fields are relative to the end of the field;
                 * a RIP-relative one to the end of the instruction */
                t->rel_to[t->nrel - 1] -= (uintptr_t)(x->size - x->disp_off - 4);
            }
        }
    }
    t->len = (int)end;
    return true;
}

struct tmpl_decoder *tmpl_decoder_new(void)
{
    struct tmpl_decoder *dec = calloc(1, sizeof(*dec));
    if (!dec)
        return NULL;
    dec->dins = calloc(TMPL_MAX_INSNS, sizeof(*dec->dins));
    if (!dec->dins || cs_open(CS_ARCH_X86, CS_MODE_64, &dec->cs) != CS_ERR_OK) {
        free(dec->dins);
        free(dec);
        return NULL;
    }
    cs_option(dec->cs, CS_OPT_DETAIL, CS_OPT_ON);
    dec->ci = cs_malloc(dec->cs);
    return dec;
}

void tmpl_decoder_free(struct tmpl_decoder *dec)
{
    if (!dec)
        return;
    cs_free(dec->ci, 1);
    cs_close(&dec->cs);
    free(dec->dins);
    free(dec);
}

bool tmpl_build(struct tmpl_decoder *dec, struct tmpl *t, uintptr_t run)
{
    pthread_once(&extents_once, init_extents);
    const struct handler_extent *e = find_extent(run);
    t->run = run;
    t->nrel = 0;
    t->nfold = 0;
    t->len = -1;
    if (!e)
        return false;
    t->step = e->step;
    if (!build_template(dec, t, e)) {
        t->len = -1;
        return false;
    }
    return true;
}
