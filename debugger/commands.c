/* debugger/commands.c — the one command table: it dispatches commands,
 * generates `help`, and feeds tab completion. */
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include "cpu/cpu.h"
#include "debugger/dbg.h"
#include "devices/machine.h"
#include "vmx/caps.h"

struct dbg_cmd {
    const char *name;
    const char *aliases; /* space-separated, or "" */
    const char *args;    /* synopsis */
    const char *help;    /* first line is the summary */
    enum cmd_result (*fn)(struct debugger *d, int argc, char **argv, const char *rest);
};

static DBG_HANDLER(cmd_help);
static DBG_HANDLER(cmd_continue);
static DBG_HANDLER(cmd_step);
static DBG_HANDLER(cmd_stepi);
static DBG_HANDLER(cmd_next);
static DBG_HANDLER(cmd_finish);
static DBG_HANDLER(cmd_until);
static DBG_HANDLER(cmd_quit);
static DBG_HANDLER(cmd_echo);
static DBG_HANDLER(cmd_ipi);

static const struct dbg_cmd commands[] = {
    {"help", "h ?", "[COMMAND]",
     "List the commands, or describe one.\n"
     "Every command and alias here is also completed with TAB.",
     cmd_help},
    {"continue", "c cont", "", "Resume the guest until a breakpoint, watchpoint or break-in.",
     cmd_continue},
    {"step", "s", "[N]",
     "Execute N instructions (default 1).\n"
     "An external interrupt or NMI taken meanwhile runs to its return without\n"
     "counting; use stepi to step into interrupt delivery.",
     cmd_step},
    {"stepi", "si", "[N]",
     "Execute N instructions (default 1), stepping into interrupt delivery.\n"
     "Stops inside interrupt and exception handlers as soon as they are delivered.",
     cmd_stepi},
    {"next", "n", "[N]", "Step N instructions, running over CALLs (stops at the return address).",
     cmd_next},
    {"finish", "fin", "",
     "Run until the current function returns; stops in the caller.\n"
     "The function's end is the RET or IRET executed with the stack pointer at or\n"
     "above the current one.",
     cmd_finish},
    {"until", "u", "ADDR", "Run until execution reaches ADDR (linear address, symbol or expression).",
     cmd_until},
    {"break", "b", "ADDR [if COND] | VMX-EVENT [ARGS]",
     "Set a breakpoint on an address, or on a VMX event.\n"
     "ADDR is a linear address, p:PHYS address or symbol.  COND is an expression\n"
     "over registers, numbers and symbols, e.g.\n"
     "  break test_main if rax == 0x10 && rsp > 0x1000\n"
     "Operators: == != < > <= >= && || + - & | ( ) and unary - ~ ! * (read 8 bytes).\n"
     "VMX-EVENT (the stop shows the exit reason and qualification decoded and the\n"
     "guest and host RIP with symbols):\n"
     "  break vmexit [REASON...]  after a VM exit (any, or these reasons by name or\n"
     "                            number: vmcall cpuid cr_access ept_violation ...),\n"
     "                            at the host's first instruction; a failed VM entry\n"
     "                            counts (exit 33/34 with bit 31)\n"
     "  break ept-violation       the same as break vmexit ept_violation\n"
     "  break ept-misconfig       the same as break vmexit ept_misconfig\n"
     "  break vmentry             after a VM entry, at the guest's first instruction\n"
     "  break vmentry-fail        after a VMLAUNCH/VMRESUME that failed (VMfailValid or\n"
     "                            an entry-failure exit), naming the check it broke\n"
     "  break invept              after an INVEPT in root operation (with its type)\n"
     "  break vmx-insn [NAME]     after any (or the named) VMX instruction in root\n"
     "                            operation: vmxon vmptrld vmclear vmread vmwrite\n"
     "                            vmlaunch vmresume vmxoff invept invvpid",
     cmd_break},
    {"tbreak", "tb", "ADDR [if COND]", "Set a breakpoint deleted when it is first hit.",
     cmd_tbreak},
    {"watch", "", "ADDR [LEN]",
     "Stop after an instruction that writes [ADDR, ADDR+LEN) (LEN default 1).\n"
     "ADDR is linear, or p:PHYS for physical memory (every access path, page walks\n"
     "excluded).",
     cmd_watch},
    {"rwatch", "", "ADDR [LEN]", "Stop after an instruction that reads the range.", cmd_rwatch},
    {"awatch", "", "ADDR [LEN]", "Stop after an instruction that reads or writes the range.",
     cmd_awatch},
    {"catch", "", "exception|interrupt [VECTOR] | mode | VMX-EVENT | module [NAME]",
     "Stop when a vector is delivered, or on every CPU mode switch.\n"
     "Vectors: exceptions, interrupts, NMI, INT n; any vector when VECTOR is omitted;\n"
     "names like #PF or pf work.  Mode switches: real/protected/long and code size.\n"
     "catch vmexit, vmentry, vmentry-fail, ept-violation, ept-misconfig, invept and\n"
     "vmx-insn are the VMX breakpoints of `break` under their older name.\n"
     "Modules (after `symbols modules DIR`): stop once a Linux module's symbols\n"
     "are loaded, in do_init_module before its init function runs.",
     cmd_catch},
    {"delete", "d", "[ID...]", "Delete breakpoints, watchpoints, catchpoints and traces (all without IDs).",
     cmd_delete},
    {"disable", "", "[ID...]", "Disable breakpoints (all without IDs).", cmd_disable},
    {"enable", "", "[ID...]", "Enable breakpoints (all without IDs).", cmd_enable},
    {"registers", "r regs", "[general|segments|control|debug|fpu|sse|all]",
     "Show registers by group, or one register.\n"
     "Groups: general purpose and RFLAGS decoded (default), segment registers with\n"
     "hidden base/limit/attributes, control and debug registers, x87/MMX, SSE, all.",
     cmd_registers},
    {"set", "", "REG = EXPR", "Set a register, e.g. `set rax = 5`, `set rip = test_main`.",
     cmd_set},
    {"print", "p", "EXPR", "Evaluate an expression; prints hex, decimal and the nearest symbol.",
     cmd_print},
    {"x", "", "/FMT ADDR",
     "Examine linear or physical memory.\n"
     "FMT is [COUNT][FORMAT][SIZE] as in gdb, FORMAT one of\n"
     "x d u c s i (hex, signed, unsigned, char, string, instructions), SIZE one of\n"
     "b h w g (1, 2, 4, 8 bytes).  ADDR is linear (translated through the guest's\n"
     "page tables without side effects) or p:PHYS, e.g. x/8gx p:0x1000.",
     cmd_x},
    {"disassemble", "disas", "[ADDR [N]]",
     "Disassemble N instructions (default 10) at ADDR (default RIP).\n"
     "Uses the current code size (16/32/64-bit).",
     cmd_disassemble},
    {"walk", "", "ADDR [r|w|x] [user] [vmcs [ADDR]]",
     "Show the guest's page walk for linear ADDR level by level.\n"
     "For each level: entry address, raw value, every bit decoded, then the physical\n"
     "address or the fault and error code the access would raise.  No A/D updates,\n"
     "no TLB fill.  In VMX non-root operation with EPT the walk is two-dimensional:\n"
     "each guest paging-structure address and the final guest-physical address go\n"
     "through the EPT, whose entries are shown level by level (address, value,\n"
     "R/W/X, memory type, A/D), ending in the host-physical address or the EPT\n"
     "violation or misconfiguration the access would cause.  `vmcs [ADDR]` walks as\n"
     "the guest of the current (or the given) VMCS, from root operation.",
     cmd_walk},
    {"vmcs", "", "[ADDR] [all|GROUP|FIELD...] | diff",
     "Show VMX operation and a VMCS, fields grouped as the SDM groups them.\n"
     "Without arguments: root or non-root, the VMXON region, the current VMCS, its\n"
     "launch state, the last exit decoded and the check the last failed VM entry\n"
     "broke.  `vmcs all`: every field of the current VMCS by group (guest, host,\n"
     "execution, exit-control, entry-control, exit), with controls decoded bit by bit\n"
     "(PROC_BASED_CONTROLS ... HLT_EXITING CR3_LOAD_EXITING ...), the exit reason,\n"
     "qualification and interruption information in words.  `vmcs GROUP`, `vmcs\n"
     "FIELD...` (e.g. vmcs guest_rip exit_qualification), `vmcs control` (every\n"
     "control field).  `vmcs ADDR`: the VMCS at that physical address — the current\n"
     "one, or another read from its region in nest86's format (as VMCLEAR left it).\n"
     "`vmcs diff`: the fields that changed since the last VM entry or exit, and\n"
     "what that entry or exit itself changed.",
     cmd_vmcs},
    {"ept", "", "walk GPA [EPTP [r|w|x]] | dump [EPTP] | step | watch [GPA]",
     "Inspect the EPT (default: the current VMCS's EPTP).\n"
     "  ept walk GPA [EPTP [r|w|x]]  one guest-physical address through the EPT,\n"
     "                               entry by entry (address, value, R/W/X, memory\n"
     "                               type, A/D), then the host-physical address or\n"
     "                               the violation (qualification decoded) or\n"
     "                               misconfiguration; no A/D updates\n"
     "  ept dump [EPTP]              every mapping, contiguous ranges merged, with\n"
     "                               permissions, memory type and A/D flags\n"
     "  ept step                     run to the guest's next EPT translation and show\n"
     "                               each one, reference by reference (the entries\n"
     "                               read, the A/D flags set, the violation), up to\n"
     "                               the access itself; the TLB is flushed first so\n"
     "                               that the very next access walks\n"
     "  ept watch [GPA]              stop when the hypervisor writes an EPT entry\n"
     "                               that maps GPA (every level of its walk, through\n"
     "                               the current EPTP and those of the last VM\n"
     "                               entries; it follows the tree as it changes):\n"
     "                               old and new entry decoded, the writer and its\n"
     "                               call stack; alone, it lists the watches",
     cmd_ept},
    {"check", "", "[invept [on|off]]",
     "The missing-invalidation detector.\n"
     "With `check invept on`, a VM entry that brings back (VPID) a cached\n"
     "translation whose EPT entries lost permissions, or were pointed elsewhere,\n"
     "since the VM exit, with no INVEPT in between, stops and reports the entry,\n"
     "its old and new value, the writer's RIP, symbol and stack, and the VM entry.\n"
     "A guest page-table entry the hypervisor changed that way, with no INVVPID,\n"
     "is reported too.",
     cmd_check},
    {"info", "i", "SUBCOMMAND",
     "Show machine state (TLB, page mappings, descriptor tables, MSRs, ...).\n"
     "  info registers [GROUP]  as `registers`\n"
     "  info breakpoints        breakpoints, watchpoints, catchpoints, traces\n"
     "  info msr [NAME|INDEX]   MSRs (all known ones without an argument)\n"
     "  info tlb                valid TLB entries\n"
     "  info mem                current paging mappings as merged ranges\n"
     "  info idt | info gdt     descriptor tables\n"
     "  info symbol ADDR        the symbol at an address\n"
     "  info mode               CPU mode, CPL, paging mode\n"
     "  info screen             the VGA's text screen: geometry, start address,\n"
     "                          cursor, and its lines as text",
     cmd_info},
    {"backtrace", "bt where", "[N] [scan]",
     "Show the call stack from the frame-pointer chain.\n"
     "Code built without frame pointers gives a short chain; with `scan`, the\n"
     "words on the stack that are return addresses into known code follow, as\n"
     "`?` lines (as in a Linux oops).",
     cmd_backtrace},
    {"symbols", "sym", "[FILE [BASE] [SECTION=ADDR...]]",
     "Load symbols from an ELF file or a System.map.\n"
     "ELF: vmlinux, a test kernel's .elf64, ELF32 images; or an nm listing.  BASE is added to every address; for a kernel\n"
     "module (.ko) BASE is where its .text was loaded (from\n"
     "/sys/module/NAME/sections/.text), and other sections follow in file order\n"
     "unless SECTION=ADDR places them (e.g. .init.text=ADDR, from\n"
     "/sys/module/NAME/sections/.init.text).\n"
     "`symbols modules DIR`: from now on, when a Linux guest loads module NAME,\n"
     "load DIR/NAME.ko where the kernel put it (needs the kernel's symbols,\n"
     "e.g. its System.map, for do_init_module); `symbols modules off` stops.\n"
     "Without arguments, counts the loaded symbols.",
     cmd_symbols},
    {"trace", "", "[call] SYMBOL|ADDR [stack] | vmexit | ept | show | clear",
     "Count events while the guest runs; `trace show` prints the table.\n"
     "  trace [call] SYMBOL|ADDR [stack]  how often execution reaches an address (a\n"
     "                                   function's calls), with `stack` the\n"
     "                                   distinct call stacks too\n"
     "  trace vmexit                      VM exits by reason, with the guest function\n"
     "                                   of the exit's RIP and the root's function\n"
     "                                   that entered the guest\n"
     "  trace ept                         EPT violations and misconfigurations by\n"
     "                                   2-MiB guest-physical range, INVEPT and\n"
     "                                   INVVPID by type with the root's function\n"
     "  trace clear                       forget every trace\n"
     "The counts are printed at exit too.",
     cmd_trace},
    {"ipi", "", "nmi | init | sipi VECTOR",
     "Send the CPU an NMI, an INIT or a start-up IPI, as another processor's local\n"
     "APIC would (nest86 has one processor, so nothing else can send INIT or SIPI).\n"
     "It is taken when the guest runs on: an INIT outside VMX operation resets the\n"
     "machine, in VMX non-root operation it causes a VM exit (3), and VMX root\n"
     "operation or the wait-for-SIPI state holds it; a SIPI ends a VMX guest's\n"
     "wait-for-SIPI state with VM exit 4 and is discarded in any other state.",
     cmd_ipi},
    {"savevm", "", "FILE",
     "Save the whole machine to FILE (a snapshot: CPU, VMX, devices, clock, RAM).\n"
     "Resume it with `loadvm FILE` here or `nest86 -loadvm FILE`; the run from\n"
     "there retires the same instructions and prints the same output.",
     cmd_savevm},
    {"loadvm", "", "FILE",
     "Replace the machine with the snapshot in FILE (see savevm).\n"
     "A file that is truncated, corrupt or from another machine configuration is\n"
     "refused with the reason, and the machine stays as it was.",
     cmd_loadvm},
    {"screendump", "", "FILE",
     "Write the screen as a PPM image (P6) to FILE.\n"
     "The picture the display adapter shows (the VGA's text screen, its cursor and\n"
     "blinking characters drawn visible), with or without a window (-display none\n"
     "too); through GDB: monitor screendump FILE.",
     cmd_screendump},
    {"type", "", "TEXT",
     "Type TEXT on the guest's PS/2 keyboard (US layout) once it runs again.\n"
     "\\n is Enter, \\t Tab, \\b Backspace, \\\\ a backslash; e.g. type ls -l\\n.\n"
     "With a window, the keys go through its keyboard events as a user's would.",
     cmd_type},
    {"mouse", "", "DX DY [BUTTONS]",
     "Move the guest's PS/2 mouse by DX, DY counts (DY positive is up) with\n"
     "BUTTONS held (bit 0 left, 1 right, 2 middle; default none).",
     cmd_mouse},
    {"echo", "", "TEXT", "Print TEXT (for scripts).", cmd_echo},
    {"quit", "q exit", "", "Quit nest86 (exit status 0).", cmd_quit},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static bool name_matches(const struct dbg_cmd *c, const char *word)
{
    if (!strcmp(c->name, word))
        return true;
    const char *a = c->aliases;
    size_t n = strlen(word);
    while (*a) {
        size_t len = strcspn(a, " ");
        if (len == n && !strncmp(a, word, n))
            return true;
        a += len;
        while (*a == ' ')
            a++;
    }
    return false;
}

static const struct dbg_cmd *find_command(const char *word)
{
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (name_matches(&commands[k], word))
            return &commands[k];
    /* a unique prefix of a command name works too */
    const struct dbg_cmd *found = NULL;
    size_t n = strlen(word);
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (!strncmp(commands[k].name, word, n)) {
            if (found)
                return NULL;
            found = &commands[k];
        }
    return found;
}

#define MAX_ARGS 32

enum cmd_result dbg_execute(struct debugger *d, const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line || *line == '#')
        return CMD_STAY;
    /* "x/8gx" splits after the command letters */
    char word[64];
    size_t n = 0;
    while (line[n] && line[n] != ' ' && line[n] != '\t' && line[n] != '/' && n < sizeof(word) - 1) {
        word[n] = line[n];
        n++;
    }
    word[n] = 0;
    const char *rest = line + n;
    const struct dbg_cmd *c = find_command(word);
    if (!c) {
        dbg_printf(d, "unknown command '%s' (try `help`)\n", word);
        return CMD_STAY;
    }
    char *copy = strdup(rest);
    if (!copy)
        return CMD_STAY;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = (char *)c->name;
    for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t && argc < MAX_ARGS;
         t = strtok_r(NULL, " \t", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    enum cmd_result r = c->fn(d, argc, argv, rest);
    free(copy);
    return r;
}

static DBG_HANDLER(cmd_help)
{
    (void)rest;
    if (argc < 2) {
        dbg_printf(d, "Commands (`help COMMAND` for details):\n");
        for (size_t k = 0; k < NCOMMANDS; k++) {
            const struct dbg_cmd *c = &commands[k];
            char head[64];
            snprintf(head, sizeof(head), "%s %s", c->name, c->args);
            size_t sum = strcspn(c->help, "\n"); /* the first line is the summary */
            if (strlen(head) > 34)
                dbg_printf(d, "  %s\n  %-34s %.*s\n", head, "", (int)sum, c->help);
            else
                dbg_printf(d, "  %-34s %.*s\n", head, (int)sum, c->help);
        }
        return CMD_STAY;
    }
    const struct dbg_cmd *c = find_command(argv[1]);
    if (!c) {
        dbg_printf(d, "no command '%s'\n", argv[1]);
        return CMD_STAY;
    }
    dbg_printf(d, "%s %s\n", c->name, c->args);
    if (*c->aliases)
        dbg_printf(d, "  aliases: %s\n", c->aliases);
    dbg_printf(d, "%s\n", c->help);
    return CMD_STAY;
}

static bool count_arg(struct debugger *d, int argc, char **argv, uint64_t *n)
{
    *n = 1;
    if (argc > 1 && (!dbg_eval(d, argv[1], n) || *n == 0)) {
        if (*n == 0)
            dbg_printf(d, "the count must be positive\n");
        return false;
    }
    return true;
}

static DBG_HANDLER(cmd_continue)
{
    (void)argc, (void)argv, (void)rest;
    dbg_resume(d, RUN_CONT, 0);
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_step)
{
    (void)rest;
    uint64_t n;
    if (!count_arg(d, argc, argv, &n))
        return CMD_STAY;
    dbg_resume(d, RUN_STEP, n);
    d->step_into_irq = false;
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_stepi)
{
    (void)rest;
    uint64_t n;
    if (!count_arg(d, argc, argv, &n))
        return CMD_STAY;
    dbg_resume(d, RUN_STEP, n);
    d->step_into_irq = true;
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_next)
{
    (void)rest;
    uint64_t n;
    if (!count_arg(d, argc, argv, &n))
        return CMD_STAY;
    char text[128];
    bool call = false;
    uint64_t pc = dbg_pc(d->c);
    unsigned len = disas_one(d, pc, false, text, sizeof(text), &call);
    d->step_into_irq = false;
    if (n == 1 && call && len) {
        dbg_resume(d, RUN_NEXT, 0);
        d->target = pc + len;
        d->target_sp = d->c->r[R_RSP];
    } else {
        /* N > 1 or not a call: plain steps */
        dbg_resume(d, RUN_STEP, n);
    }
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_finish)
{
    (void)argc, (void)argv, (void)rest;
    dbg_resume(d, RUN_FINISH, 0);
    d->target_sp = d->c->r[R_RSP];
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_until)
{
    (void)argc, (void)argv;
    uint64_t a;
    if (!*rest) {
        dbg_printf(d, "usage: until ADDR\n");
        return CMD_STAY;
    }
    if (!dbg_eval(d, rest, &a))
        return CMD_STAY;
    dbg_resume(d, RUN_UNTIL, 0);
    d->target = a;
    return CMD_RESUME;
}

static DBG_HANDLER(cmd_quit)
{
    (void)d, (void)argc, (void)argv, (void)rest;
    return CMD_QUIT;
}

static DBG_HANDLER(cmd_ipi)
{
    (void)rest;
    struct cpu *c = d->c;
    bool wfs = c->vmx.nonroot && c->halted && c->vmx.activity == VMX_ACTIVITY_WAIT_SIPI;
    if (argc == 2 && !strcmp(argv[1], "nmi")) {
        machine_cpu_nmi(d->m);
        dbg_printf(d, "NMI sent%s\n", wfs ? ": held (the guest waits for a SIPI)" : "");
    } else if (argc == 2 && !strcmp(argv[1], "init")) {
        machine_cpu_init(d->m);
        char exit_next[64];
        snprintf(exit_next, sizeof(exit_next), "VM exit %d (%s) next", VMX_EXIT_INIT_SIGNAL,
                 vmx_exit_reason_name(VMX_EXIT_INIT_SIGNAL));
        dbg_printf(d, "INIT sent: %s\n",
                   wfs ? "held (the guest waits for a SIPI)"
                   : c->vmx.nonroot ? exit_next
                   : c->vmx.on ? "held (VMX root operation blocks INIT until VMXOFF or a VM entry)"
                   : "the machine resets");
    } else if (argc == 3 && !strcmp(argv[1], "sipi")) {
        uint64_t vec;
        if (!dbg_eval(d, argv[2], &vec))
            return CMD_STAY;
        if (vec > 0xff) {
            dbg_printf(d, "ipi sipi: the vector is 8 bits (0-0xff)\n");
            return CMD_STAY;
        }
        machine_cpu_sipi(d->m, (uint8_t)vec);
        if (wfs)
            dbg_printf(d, "SIPI 0x%02x sent: VM exit %d (%s) next\n", (unsigned)vec, VMX_EXIT_SIPI,
                       vmx_exit_reason_name(VMX_EXIT_SIPI));
        else
            dbg_printf(d, "SIPI 0x%02x sent: discarded (only the wait-for-SIPI state takes a SIPI)\n",
                       (unsigned)vec);
    } else {
        dbg_printf(d, "usage: ipi nmi | init | sipi VECTOR\n");
    }
    return CMD_STAY;
}

static DBG_HANDLER(cmd_echo)
{
    (void)argc, (void)argv;
    dbg_printf(d, "%s\n", rest);
    return CMD_STAY;
}

/* ---- completion ---- */

static struct debugger *completion_dbg;

static char *complete_command(const char *text, int state)
{
    static size_t k;
    if (!state)
        k = 0;
    size_t n = strlen(text);
    while (k < NCOMMANDS) {
        const struct dbg_cmd *c = &commands[k++];
        if (!strncmp(c->name, text, n))
            return strdup(c->name);
    }
    return NULL;
}

/* registers, MSR names, then symbols */
static char *complete_word(const char *text, int state)
{
    static size_t k, phase;
    if (!state)
        k = phase = 0;
    size_t n = strlen(text);
    if (phase == 0) {
        const struct dbg_reg *r;
        while ((r = reg_at(k++)))
            if (!strncmp(r->name, text, n))
                return strdup(r->name);
        phase = 1;
        k = 0;
    }
    if (phase == 1) {
        const char *name;
        while ((name = msr_name_at(k++)))
            if (!strncasecmp(name, text, n))
                return strdup(name);
        phase = 2;
        k = 0;
    }
    struct dbg_symtab *t = completion_dbg ? &completion_dbg->syms : NULL;
    while (t && k < t->n) {
        const char *name = t->v[k++].name;
        if (!strncmp(name, text, n))
            return strdup(name);
    }
    return NULL;
}

char **dbg_complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* no file-name completion */
    /* the first word is a command; later ones registers and symbols */
    int k = 0;
    while (k < start && (rl_line_buffer[k] == ' ' || rl_line_buffer[k] == '\t'))
        k++;
    if (k == start)
        return rl_completion_matches(text, complete_command);
    if (!strncmp(rl_line_buffer + k, "sym", 3)) {
        rl_attempted_completion_over = 0; /* symbols FILE: file names */
        return NULL;
    }
    return rl_completion_matches(text, complete_word);
}

void dbg_set_completion_debugger(struct debugger *d)
{
    completion_dbg = d;
}
