/* debugger/dbg.h — shared between the debugger's own files. */
#ifndef NEST86_DEBUGGER_DBG_H
#define NEST86_DEBUGGER_DBG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "debugger/debugger.h"
#include "devices/machine.h"
#include "mmu/ept.h"
#include "vmx/vmcs.h"

/* dbg_event()'s 'kind' is an enum cpu_event_kind (cpu/cpu.h). */

/* ---- symbols (symbols.c) ---- */
struct dbg_sym {
    uint64_t addr, size;
    char *name;
};

struct dbg_symtab {
    struct dbg_sym *v;
    size_t n, cap;
    bool sorted;
};

/* Where one section of a relocatable ELF file (a kernel module) was
 * loaded: `symbols FILE BASE .init.text=ADDR`. */
struct dbg_secaddr {
    const char *name;
    uint64_t addr;
};

int sym_load(struct dbg_symtab *t, const char *path, uint64_t base, bool have_base,
             const struct dbg_secaddr *secs, size_t nsecs, char *err, size_t errlen);
/* Whether the file at 'path' starts with the ELF magic */
bool sym_is_elf(const char *path);
bool sym_lookup(struct dbg_symtab *t, const char *name, uint64_t *addr);
const struct dbg_sym *sym_find(struct dbg_symtab *t, uint64_t addr, uint64_t *off);
void sym_free(struct dbg_symtab *t);

/* ---- expressions (expr.c) ---- */
struct expr;
/* Parses an expression; NULL with a message in err. */
struct expr *expr_parse(struct debugger *d, const char *text, char *err, size_t errlen);
/* Evaluates; false with a message when memory it reads is unmapped. */
bool expr_eval(struct debugger *d, const struct expr *e, uint64_t *out);
void expr_free(struct expr *e);
/* Parse and evaluate in one go (prints the error). */
bool dbg_eval(struct debugger *d, const char *text, uint64_t *out);

/* ---- registers (regs.c) ---- */
struct dbg_reg {
    const char *name;
    unsigned bits;
    uint64_t (*get)(struct cpu *c, int arg);
    void (*set)(struct cpu *c, int arg, uint64_t v); /* NULL: read-only */
    int arg;
};
const struct dbg_reg *reg_find(const char *name);
const struct dbg_reg *reg_at(size_t k); /* iteration, NULL at the end */

/* MSR names from cpu/msr.def (msr_names.c) */
bool msr_by_name(const char *name, uint32_t *index);
const char *msr_name(uint32_t index);
const char *msr_name_at(size_t k);

/* ---- breakpoints ---- */
enum bp_kind { BP_EXEC, BP_WATCH, BP_CATCH_VECTOR, BP_CATCH_MODE, BP_TRACE, BP_CATCH_VMEXIT,
               BP_CATCH_VMENTRY, BP_VMENTRY_FAIL, BP_VMX_INSN, BP_EPT_WATCH, BP_CATCH_MODULE };
enum { WATCH_R = 1, WATCH_W = 2 };

struct bp {
    int id;
    enum bp_kind kind;
    bool phys;          /* address is physical */
    bool enabled, temp;
    bool gdb;           /* owned by the GDB client (Z packets) */
    bool stacks;        /* trace: count call stacks too */
    bool hw;            /* GDB Z1 (reported as hwbreak) */
    bool caught;        /* set with `catch`: its stops say "Catchpoint" */
    uint64_t addr, len;
    int access;         /* watch: WATCH_R | WATCH_W */
    int vector;         /* catch: vector (or VM-exit reason, VMX instruction), or -1 for any */
    uint64_t reasons[2];  /* BP_CATCH_VMEXIT with several reasons: a bit per basic
                             reason below 128 (vector is then -2) */
    char *cond_text;
    struct expr *cond;
    uint64_t hits;
    /* trace with stacks: distinct stacks and their counts */
    struct { char *text; uint64_t count; } stack[16];
    int nstacks;
    struct ept_watch *ew;  /* ept watch: the EPT entries armed (watch_ept.c) */
    char *name;            /* catch module: the module's name, or NULL for any */
};

enum run_mode { RUN_CONT, RUN_STEP, RUN_NEXT, RUN_FINISH, RUN_UNTIL };

#define DBG_MAX_BPS 64
/* EPTPs remembered from recent VM entries, for `ept watch` */
#define DBG_EPTPS 8

struct gdbstub;
struct invcheck;
struct modsyms;

/* The VMCS as it was at the last two VM entries/exits (`vmcs diff`) */
struct vmcs_snap {
    bool valid;
    bool is_exit;
    uint64_t ptr;       /* the current-VMCS pointer then */
    uint64_t icount;
    struct vmcs v;
};

/* `trace vmexit` / `trace ept`: counters keyed by what and where */
#define VTRACE_ROWS 256
struct vtrace_row {
    char key[64];       /* "48 EPT violation", "violation 0x200000-0x3fffff", "INVEPT type 2" */
    char sym[64];       /* the guest's function (the exit's guest RIP), or "" */
    char root[64];      /* the root's function: the VM entry before an exit, or the
                           INVEPT/INVVPID itself */
    uint64_t count;
};
struct vtrace {
    bool exits, ept;    /* what is counted */
    int nrows;
    uint64_t dropped;   /* events that found no free row */
    struct vtrace_row row[VTRACE_ROWS];
};

struct debugger {
    struct machine *m;
    struct cpu *c;
    const struct config *cfg;
    FILE *out;              /* where commands print (stdout, or a buffer for qRcmd) */

    /* command input */
    FILE *script;
    bool interactive;       /* stdin is a terminal: readline prompt */
    bool history_loaded;
    char history_path[512];
    bool quit;

    struct dbg_terminal term;
    struct dbg_keyboard keyboard; /* `type`; key NULL: no keyboard */
    struct dbg_tracer tracer;
    bool have_tracer;

    struct dbg_symtab syms;

    struct bp bps[DBG_MAX_BPS];
    int nbps, next_id;

    /* how the guest resumes */
    enum run_mode mode;
    bool step_into_irq;     /* stepi: stop inside interrupt handlers too */
    uint64_t step_left;
    uint64_t target, target_sp;
    bool irq_skip;          /* step: running an interrupt handler to its return */
    uint64_t irq_return;
    bool skip_once;         /* do not stop again at the instruction we stopped at */
    uint64_t skip_lin, skip_icount;
    enum cpu_mode last_mode;
    uint8_t last_code_size;

    /* the stop being reported */
    bool stop_pending;      /* a hook already asked for a stop */
    char reason[512];
    int signal;             /* GDB signal number for the stop reply */
    int watch_kind;         /* 0, or WATCH_R/W/R|W for a watchpoint stop */
    uint64_t watch_addr;
    int gdb_break;          /* stopped at a GDB breakpoint: 1 software, 2 hardware */
    bool by_console;        /* the terminal asked: the CLI runs even with GDB attached */

    struct gdbstub *gdb;

    /* VMX views */
    /* `vmcs diff`: the VMCS at the latest VM entry or exit (snap[snap_cur])
     * and at the one before; kept once the debugger is in use (a script,
     * GDB, -S, or a first stop), so that runs without it pay nothing */
    struct vmcs_snap snap[2];
    int snap_cur;
    bool snapshots;
    uint64_t last_entry_rip;      /* the root's RIP at the latest VMLAUNCH/VMRESUME */
    bool ept_step;                /* `ept step`: stop after the next EPT translation */
    struct vtrace vtrace;
    /* EPT pointers of the last VM entries with EPT (newest first) */
    uint64_t eptps[DBG_EPTPS];
    int neptps;
    /* an `ept watch` hit being reported (watch_ept.c) */
    struct {
        bool pending;
        int id, level;
        uint64_t pa, eptp, gpa, old, rip;
    } ew_hit;
    struct invcheck *inv;   /* the missing-invalidation detector, NULL when off */
    struct modsyms *mods;   /* module symbols loaded as the guest loads modules */
    char *stop_detail;      /* lines printed under the stop reason, or NULL */
};

/* output */
void dbg_printf(struct debugger *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* linear address of RIP */
uint64_t dbg_pc(const struct cpu *c);
/* Memory without side effects: linear addresses through the guest's page
 * tables (mmu_walk_explain), physical through RAM only.  Return the
 * number of bytes read (short at the first unreadable byte). */
size_t dbg_read_lin(struct debugger *d, uint64_t lin, void *buf, size_t len);
size_t dbg_read_phys(struct debugger *d, uint64_t pa, void *buf, size_t len);
size_t dbg_write_lin(struct debugger *d, uint64_t lin, const void *buf, size_t len);
bool dbg_lin_to_phys(struct debugger *d, uint64_t lin, uint64_t *pa);

/* "ADDR" or "p:ADDR" (physical); prints the error */
bool dbg_parse_addr(struct debugger *d, const char *text, uint64_t *addr, bool *phys);
const char *dbg_sym(struct debugger *d, uint64_t addr, char *buf, size_t len); /* " <sym+off>" or "" */

/* breakpoints (break.c) */
struct bp *bp_add(struct debugger *d, enum bp_kind kind);
void bp_remove(struct debugger *d, struct bp *b);
struct bp *bp_by_id(struct debugger *d, int id);
/* Recomputes which CPU hooks the breakpoints and the run mode need. */
void dbg_update_hooks(struct debugger *d);
bool bp_vmexit_matches(const struct bp *b, unsigned basic);
void dbg_request_stop(struct debugger *d, int signal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t dbg_ret_addr_at_entry(struct debugger *d);

/* resuming (core.c) */
void dbg_resume(struct debugger *d, enum run_mode mode, uint64_t count);
void dbg_print_location(struct debugger *d);

/* commands (commands.c) */
enum cmd_result { CMD_STAY, CMD_RESUME, CMD_QUIT };
enum cmd_result dbg_execute(struct debugger *d, const char *line);
char **dbg_complete(const char *text, int start, int end);
void dbg_set_completion_debugger(struct debugger *d);

/* command handlers living in other files: argc/argv words, 'rest' the
 * text after the command word */
#define DBG_HANDLER(name) enum cmd_result name(struct debugger *d, int argc, char **argv, \
                                               const char *rest)
DBG_HANDLER(cmd_registers);
DBG_HANDLER(cmd_set);
DBG_HANDLER(cmd_print);
DBG_HANDLER(cmd_x);
DBG_HANDLER(cmd_info);
DBG_HANDLER(cmd_screendump);
/* `info screen` (screen.c) */
void dbg_info_screen(struct debugger *d);
DBG_HANDLER(cmd_type);
DBG_HANDLER(cmd_mouse);
DBG_HANDLER(cmd_disassemble);
DBG_HANDLER(cmd_walk);
DBG_HANDLER(cmd_vmcs);
DBG_HANDLER(cmd_backtrace);
DBG_HANDLER(cmd_symbols);
DBG_HANDLER(cmd_savevm);
DBG_HANDLER(cmd_loadvm);
DBG_HANDLER(cmd_break);
DBG_HANDLER(cmd_tbreak);
DBG_HANDLER(cmd_watch);
DBG_HANDLER(cmd_rwatch);
DBG_HANDLER(cmd_awatch);
DBG_HANDLER(cmd_catch);
DBG_HANDLER(cmd_delete);
DBG_HANDLER(cmd_disable);
DBG_HANDLER(cmd_enable);
DBG_HANDLER(cmd_trace);
DBG_HANDLER(cmd_ept);

/* VMX views (vmx_decode.c, vmcs.c, ept.c, vmx_trace.c) */
bool vmxd_is_control_word(int field);
size_t vmxd_controls(int field, uint64_t value, char *buf, size_t len);
void vmxd_qualification(unsigned reason, uint64_t q, char *buf, size_t len);
void vmxd_exit_line(const struct vmcs *v, char *buf, size_t len);
void vmxd_field_meaning(const struct vmcs *v, int id, char *buf, size_t len);
void vmcs_snapshot(struct debugger *d, bool is_exit);
/* One EPT walk (mmu/ept.c, side-effect free) printed entry by entry */
void ept_print_walk(struct debugger *d, const char *indent, uint64_t eptp, uint64_t gpa,
                    const struct mmu_gpa_access *a);
/* The EPTP `walk` and `ept` use by default: the current VMCS's, when it
 * enables EPT; false otherwise */
bool ept_current_eptp(struct debugger *d, uint64_t *eptp);
bool ept_of_vmcs(const struct vmcs *v, uint64_t *eptp); /* the same for any VMCS */
/* The EPT translations of one explained guest walk, recorded through
 * the EPT hook's observer (the 2-D `walk`) */
struct ept_record {
    struct mmu_gpa_access a;
    enum ept_outcome o;
    struct ept_result r;
};
struct ept_recorder {
    uint64_t eptp;
    int n;
    struct ept_record rec[12];
};
void ept_record(void *opaque, const struct mmu_gpa_access *a, enum ept_outcome o,
                const struct ept_result *r);
void ept_print_record(struct debugger *d, const char *indent, const struct ept_record *x,
                      uint64_t eptp);
bool vmcs_read_region(struct debugger *d, uint64_t pa, struct vmcs *v, uint32_t *rev);
void ept_observe(void *opaque, const struct mmu_gpa_access *a, enum ept_outcome o,
                 const struct ept_result *r);
void ept_step_done(struct debugger *d); /* the machine stopped: `ept step` is over */
void vtrace_event(struct debugger *d, int event, uint32_t code, uint64_t arg);
void vtrace_show(struct debugger *d);
/* trace vmexit|ept|show|clear|call: true when 'argv[1]' was one of the VMX words */
bool vtrace_command(struct debugger *d, int argc, char **argv);

DBG_HANDLER(cmd_check);

/* EPT watchpoints (watch_ept.c) */
/* "0x... R W X WB A D -> 4 KiB page p:0x..." for an EPT entry at
 * 'level' (3 PML4E ... 0 PTE) */
const char *dbg_ept_entry_text(uint64_t e, int level, char *buf, size_t len);
const char *dbg_ept_level_name(int level);
void ewatch_vmentry(struct debugger *d);
bool ewatch_write(struct debugger *d, uint64_t pa, unsigned size);
void ewatch_after_stop(struct debugger *d, bool print);
void ewatch_rearm(struct debugger *d);
enum cmd_result ewatch_command(struct debugger *d, int argc, char **argv);

/* the missing-invalidation detector (invcheck.c) */
void invcheck_vmx(struct debugger *d, bool is_exit, uint32_t reason);
void invcheck_write(struct debugger *d, uint64_t pa, unsigned size);
void invcheck_free(struct debugger *d);

/* module symbols as the guest loads modules (modsyms.c) */
enum cmd_result modsyms_command(struct debugger *d, int argc, char **argv);
/* at every instruction while on: true when it stopped the machine */
bool modsyms_before(struct debugger *d, uint64_t pc);
void modsyms_free(struct debugger *d);

/* Call stacks: the frame-pointer chain, then return addresses found on
 * the stack (for code without frame pointers, like Linux's ORC
 * kernels), one per line with 'indent'. */
void dbg_stack_text(struct debugger *d, const char *indent, char *buf, size_t len);
/* printf at buf + *n, advancing *n; the text is cut when buf is full */
void dbg_append(char *buf, size_t len, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* info subcommands living in other files */
void info_breakpoints(struct debugger *d);
void info_tlb(struct debugger *d);
void info_mem(struct debugger *d);
void info_idt(struct debugger *d);
void info_gdt(struct debugger *d);

/* disassembly (disas.c) */
unsigned disas_one(struct debugger *d, uint64_t lin, bool phys, char *buf, size_t len,
                   bool *is_call);
void disas_close(void);

/* GDB stub (gdbstub.c) */
struct gdbstub *gdb_open(struct debugger *d, int port, char *err, size_t errlen);
void gdb_close(struct gdbstub *g, int status);
bool gdb_attached(const struct gdbstub *g);
/* Serves the client while the machine is stopped; returns the command
 * result (CMD_RESUME or CMD_QUIT). */
enum cmd_result gdb_serve(struct gdbstub *g);
void gdb_poll(struct gdbstub *g, bool wait_for_client);

#endif
