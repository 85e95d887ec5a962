/* debugger/disas.c — Capstone disassembly in the CPU's current code size,
 * with direct branch targets symbolized (`call 0x101280 <rt_main>`). */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"

static csh handles[3];
static bool opened[3];

static csh handle_for(unsigned code_size, bool *ok)
{
    int k = code_size == 8 ? 2 : code_size == 4 ? 1 : 0;
    if (!opened[k]) {
        cs_mode mode = k == 2 ? CS_MODE_64 : k == 1 ? CS_MODE_32 : CS_MODE_16;
        if (cs_open(CS_ARCH_X86, mode, &handles[k]) != CS_ERR_OK) {
            *ok = false;
            return 0;
        }
        opened[k] = true;
    }
    *ok = true;
    return handles[k];
}

void disas_close(void)
{
    for (int k = 0; k < 3; k++)
        if (opened[k]) {
            cs_close(&handles[k]);
            opened[k] = false;
        }
}

unsigned disas_one(struct debugger *d, uint64_t addr, bool phys, char *buf, size_t len,
                   bool *is_call)
{
    uint8_t code[16];
    size_t n = phys ? dbg_read_phys(d, addr, code, sizeof(code))
                    : dbg_read_lin(d, addr, code, sizeof(code));
    if (is_call)
        *is_call = false;
    if (!n)
        return 0;
    bool ok;
    csh h = handle_for(d->c->code_size, &ok);
    if (!ok) {
        snprintf(buf, len, "(capstone unavailable)");
        return 0;
    }
    cs_insn *insn;
    /* the address Capstone sees is the IP, so relative targets come out right */
    uint64_t ip = phys ? addr : addr;
    size_t count = cs_disasm(h, code, n, ip, 1, &insn);
    if (!count) {
        snprintf(buf, len, "(bad) %02x", code[0]);
        return 1;
    }
    char s[160] = "";
    const char *m = insn[0].mnemonic;
    bool branch = m[0] == 'j' || !strncmp(m, "call", 4) || !strncmp(m, "loop", 4);
    if (branch && !strncmp(insn[0].op_str, "0x", 2)) {
        uint64_t target = strtoull(insn[0].op_str, NULL, 16);
        dbg_sym(d, target, s, sizeof(s));
    }
    if (is_call)
        *is_call = !strncmp(m, "call", 4);
    snprintf(buf, len, "%-7s %s%s", m, insn[0].op_str, s);
    unsigned size = insn[0].size;
    cs_free(insn, count);
    return size;
}
