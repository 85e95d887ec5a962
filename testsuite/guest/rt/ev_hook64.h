/*
 * A 64-bit handler that logs an event and returns to the interrupted
 * code, for vectors the runtime's IDT does not resume from (#DB and #BP
 * as traps, INT n, fixed IPIs). Each entry stub pushes its vector and
 * jumps to ev_common, which saves the caller-saved registers and calls
 * the test's own ev_record() with the frame below. Only for vectors that
 * push no error code.
 *
 * Stack at ev_common: 0 mod 16 (64-bit delivery aligns, pushes five
 * quadwords, and the stub pushes the vector); nine registers make it
 * 8 mod 16, so one more quadword aligns the call (SysV ABI).
 *
 *   __asm__(".text\n" EV_COMMON_ASM EV_ENTRY_ASM(db_entry, 1));
 */
#ifndef RT_EV_HOOK64_H
#define RT_EV_HOOK64_H

#include <stdint.h>

struct ev_frame {
    uint64_t vec, rip, cs, rflags, rsp, ss; /* vector, then what the CPU pushed */
};
void ev_record(struct ev_frame *f); /* defined by the test */

#define EV_COMMON_ASM                                                      \
    "ev_common:\n"                                                         \
    "  push %rax\n  push %rcx\n  push %rdx\n  push %rsi\n  push %rdi\n"    \
    "  push %r8\n  push %r9\n  push %r10\n  push %r11\n"                   \
    "  lea 72(%rsp), %rdi\n"                                               \
    "  sub $8, %rsp\n"                                                     \
    "  call ev_record\n"                                                   \
    "  add $8, %rsp\n"                                                     \
    "  pop %r11\n  pop %r10\n  pop %r9\n  pop %r8\n"                       \
    "  pop %rdi\n  pop %rsi\n  pop %rdx\n  pop %rcx\n  pop %rax\n"         \
    "  add $8, %rsp\n"                                                     \
    "  iretq\n"

/* `vec` must be a literal number: it is pasted into the asm text. */
#define EV_ENTRY_ASM(name, vec)                                            \
    ".globl " #name "\n" #name ":\n  push $" #vec "\n  jmp ev_common\n"

#endif
