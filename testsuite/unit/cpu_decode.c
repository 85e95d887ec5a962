/* testsuite/unit/cpu_decode.c — the decoder (cpu/decode.c) on known
 * encodings (SDM Vol. 2A chapter 2): lengths, operand and address size,
 * REX, ModRM/SIB/displacement, immediates, mandatory prefixes, and the
 * #UD/#GP the decoder itself raises. */
#include <setjmp.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "devices/machine.h"
#include "testsuite/unit/unit.h"

static struct machine mach;
static struct cpu cpu;
#define CODE 0x1000u

/* Machine-level functions the CPU calls; the test has no board. */
void machine_request_stop(struct machine *m, enum machine_stop why, int status, const char *msg)
{
    (void)m, (void)why, (void)status, (void)msg;
}

static void set_mode(unsigned code_size)
{
    struct cpu *c = &cpu;
    c->mmu.cr0 = CR0_PE; /* no paging: the fetch path is identity */
    c->mmu.efer = code_size == 8 ? EFER_LMA | EFER_LME : 0;
    cpu_set_seg_flat32(c, SEG_CS, 0x8, true);
    if (code_size == 8)
        c->seg[SEG_CS].ar = (c->seg[SEG_CS].ar & ~AR_DB) | AR_L;
    else if (code_size == 2)
        c->seg[SEG_CS].ar &= ~AR_DB;
    c->cpl = 0;
    cpu_update_mode(c);
}

/* Decodes 'bytes'; returns the vector raised, or -1. */
static int decode(const void *bytes, size_t n, struct insn *i)
{
    phys_copy_in(&mach.phys, CODE, bytes, n);
    cpu.rip = CODE;
    if (setjmp(cpu.fault_jmp))
        return cpu.exc_vector;
    cpu_decode(&cpu, i);
    return -1;
}

#define DECODE(...)                                                                     \
    do {                                                                                \
        static const uint8_t b_[] = {__VA_ARGS__};                                      \
        UNIT_CHECKF(decode(b_, sizeof b_, &in) == -1, "unexpected fault");              \
    } while (0)

static void sib_disp32_64(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0x48, 0x8b, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12); /* mov rax,[rax+rcx*4+0x12345678] */
    UNIT_CHECK(in.len == 8 && in.opsize == 8 && in.adsize == 8);
    UNIT_CHECK(in.mod == 2 && in.reg == 0 && in.base == R_RAX && in.index == R_RCX);
    UNIT_CHECK(in.scale == 2 && in.disp == 0x12345678 && in.seg == SEG_DS);
}

static void rex_and_66(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0x66, 0x41, 0x81, 0xc0, 0x34, 0x12); /* add r8w, 0x1234 */
    UNIT_CHECK(in.len == 6 && in.opsize == 2 && in.mod == 3 && in.rm == 8 && in.imm == 0x1234);
    DECODE(0x49, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8); /* mov r8, imm64 */
    UNIT_CHECK(in.len == 10 && in.imm == 0x0807060504030201ull);
}

static void riprel_and_addr32(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0x8b, 0x05, 0x10, 0, 0, 0); /* mov eax, [rip+0x10] */
    UNIT_CHECK(in.riprel && in.base == NO_REG && in.disp == 0x10 && in.len == 6);
    DECODE(0x67, 0x8b, 0x00); /* mov eax, [eax] */
    UNIT_CHECK(in.adsize == 4 && in.len == 3);
}

static void rep_and_stack_default(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0xf3, 0x48, 0xab); /* rep stosq */
    UNIT_CHECK(in.rep == REP_F3 && in.opsize == 8 && in.len == 3);
    DECODE(0x50); /* push rax: 64-bit by default */
    UNIT_CHECK(in.opsize == 8);
    DECODE(0x66, 0x50); /* push ax */
    UNIT_CHECK(in.opsize == 2);
    DECODE(0x8b, 0x45, 0xf8); /* mov eax, [rbp-8]: SS by default */
    UNIT_CHECK(in.seg == SEG_SS && in.disp == -8);
    DECODE(0x41, 0x8b, 0x45, 0xf8); /* [r13-8]: r13 is not rBP, so DS */
    UNIT_CHECK(in.seg == SEG_DS && in.base == 13);
    DECODE(0x65, 0x36, 0x8b, 0x03); /* GS then SS: SS is ignored in 64-bit mode */
    UNIT_CHECK(in.seg == SEG_GS && in.len == 4);
    DECODE(0x36, 0x8b, 0x03); /* a lone SS override is ignored too: DS */
    UNIT_CHECK(in.seg == SEG_DS);
}

static void rex_must_be_last(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0x48, 0x66, 0x8b, 0xc1); /* REX before 66 is ignored: mov ax, cx */
    UNIT_CHECK(in.rex == 0 && in.opsize == 2);
}

static void modes_16_32(void)
{
    struct insn in;
    set_mode(4);
    DECODE(0x66, 0xb8, 0x34, 0x12); /* mov ax, 0x1234 */
    UNIT_CHECK(in.len == 4 && in.opsize == 2 && in.imm == 0x1234);
    DECODE(0x8b, 0x04, 0x24); /* mov eax, [esp] */
    UNIT_CHECK(in.base == R_RSP && in.seg == SEG_SS && in.len == 3);
    set_mode(2);
    DECODE(0x8b, 0x46, 0x02); /* mov ax, [bp+2] */
    UNIT_CHECK(in.adsize == 2 && in.base == R_RBP && in.seg == SEG_SS && in.disp == 2);
    DECODE(0x8b, 0x00); /* mov ax, [bx+si] */
    UNIT_CHECK(in.base == R_RBX && in.index == R_RSI && in.seg == SEG_DS);
    DECODE(0x65, 0x36, 0x8b, 0x00); /* outside 64-bit mode the last override wins */
    UNIT_CHECK(in.seg == SEG_SS);
    DECODE(0x66, 0x67, 0x8b, 0x00); /* mov eax, [eax] in 16-bit code */
    UNIT_CHECK(in.opsize == 4 && in.adsize == 4);
}

static void invalid_forms(void)
{
    struct insn in;
    set_mode(8);
    DECODE(0x06); /* push es: invalid in 64-bit mode */
    UNIT_CHECK(in.fn == op_ud);
    DECODE(0xf0, 0x8b, 0x00); /* LOCK MOV: #UD */
    UNIT_CHECK(in.fn == op_ud);
    DECODE(0xf0, 0x01, 0xc0); /* LOCK ADD with a register destination: #UD */
    UNIT_CHECK(in.fn == op_ud);
    DECODE(0xf0, 0x01, 0x00); /* LOCK ADD [rax], eax: fine */
    UNIT_CHECK(in.fn != op_ud);
    static const uint8_t long_insn[16] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                          0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90, 0x90};
    UNIT_CHECK(decode(long_insn, 15, &in) == -1); /* 14 prefixes + NOP = 15 bytes: legal */
    UNIT_CHECKF(in.len == 15, "len %u", (unsigned)in.len);
    static const uint8_t too_long[16] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                         0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90};
    /* 16 bytes: #GP(0) (SDM Vol. 2A 2.3.11: at most 15 bytes; Vol. 3A,
     * "Interrupt 13": exceeding the 15-byte instruction length limit) */
    UNIT_CHECK(decode(too_long, 16, &in) == EX_GP);
    UNIT_CHECK(cpu.exc_has_error && cpu.exc_error == 0);
    /* 15 bytes of real parts: lock add qword [eax+ecx*4+0x12345678], imm32 */
    static const uint8_t full15[15] = {0xf0, 0x2e, 0x67, 0x48, 0x81, 0x84, 0x88, 0x78,
                                       0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde};
    UNIT_CHECK(decode(full15, 15, &in) == -1);
    UNIT_CHECKF(in.len == 15, "len %u", (unsigned)in.len);
    UNIT_CHECK(in.fn != op_ud && in.opsize == 8 && in.adsize == 4);
    UNIT_CHECK(in.base == R_RAX && in.index == R_RCX && in.scale == 2 && in.disp == 0x12345678);
    UNIT_CHECK(in.imm == 0xffffffffdeadbeefull); /* imm32 sign-extended to 64 bits */
    /* one more prefix: the immediate's last byte is the 16th, #GP(0) */
    static const uint8_t full16[16] = {0xf0, 0x2e, 0x2e, 0x67, 0x48, 0x81, 0x84, 0x88,
                                       0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde};
    cpu.exc_error = 0xffff;
    UNIT_CHECK(decode(full16, 16, &in) == EX_GP);
    UNIT_CHECK(cpu.exc_has_error && cpu.exc_error == 0);
}

int main(void)
{
    if (phys_init(&mach.phys, 16 << 20) || cpu_init(&cpu, &mach, &mach.phys))
        return 1;
    mach.cpu = &cpu;
    UNIT_RUN(sib_disp32_64);
    UNIT_RUN(rex_and_66);
    UNIT_RUN(riprel_and_addr32);
    UNIT_RUN(rep_and_stack_default);
    UNIT_RUN(rex_must_be_last);
    UNIT_RUN(modes_16_32);
    UNIT_RUN(invalid_forms);
    return unit_done();
}
