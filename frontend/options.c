/* frontend/options.c — the command line.
 *
 * One table (option_table) is both the parser's list of flags and the
 * -help text, so the two cannot drift apart.  Flags are QEMU-style with
 * one dash; two dashes are accepted too.  A bad command line gives one
 * line "nest86: <problem>" on stderr and CONFIG_ERROR: main() exits 2.
 */
#include "cpu/copyrun.h"
#include "cpu/cpuid.h"
#include "frontend/config.h"
#include "frontend/trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

#define DEFAULT_RAM (128 * MIB)


static const char *const cpu_models[] = { "nest86", "max" };

static void opt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void opt_error(const char *fmt, ...)
{
    va_list ap;
    fputs("nest86: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- sizes ---------------------------------------------------------- */

/* Like config_parse_size, but says why a size is bad. */
static int parse_size(const char *s, uint64_t *out, const char **why)
{
    const char *p = s;
    uint64_t n = 0, unit;

    if (*p < '0' || *p > '9') {
        *why = "not a size";
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (UINT64_MAX - 9) / 10) {
            *why = "too large (at most 1T)";
            return -1;
        }
        n = n * 10 + (uint64_t)(*p - '0');
    }
    /* Suffixes are binary, as QEMU's; no suffix means MiB. */
    switch (*p) {
    case '\0':           unit = MIB; break;
    case 'b': case 'B':  unit = 1; p++; break;
    case 'k': case 'K':  unit = KIB; p++; break;
    case 'm': case 'M':  unit = MIB; p++; break;
    case 'g': case 'G':  unit = GIB; p++; break;
    case 't': case 'T':  unit = TIB; p++; break;
    default:             unit = 0; break;
    }
    if (unit == 0 || *p != '\0') {
        *why = "not a size";
        return -1;
    }
    if (n == 0) {
        *why = "must not be zero";
        return -1;
    }
    if (n > TIB / unit) {
        *why = "too large (at most 1T)";
        return -1;
    }
    *out = n * unit;
    return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
    const char *why;
    return parse_size(s, out, &why);
}

/* ---- one handler per option ----------------------------------------- */

/* A file the machine will read later: checked now so that a typo gives
 * a message before anything starts. */
static int check_readable(const char *flag, const char *path)
{
    struct stat st;

    if (*path == '\0') {
        opt_error("%s: empty file name", flag);
        return -1;
    }
    if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
        opt_error("%s: cannot read '%s': %s", flag, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        opt_error("%s: '%s' is not a regular file", flag, path);
        return -1;
    }
    return 0;
}

static int opt_m(struct config *cfg, const char *arg)
{
    const char *why;
    uint64_t size;

    if (parse_size(arg, &size, &why) != 0) {
        opt_error("-m: bad size '%s': %s (examples: 512M, 2G)", arg, why);
        return -1;
    }
    /* Below 1 MiB there is no room for the real-mode area and a kernel;
     * RAM is mapped in whole pages. */
    if (size < MIB) {
        opt_error("-m: %s is too small (at least 1M)", arg);
        return -1;
    }
    if (size % (4 * KIB) != 0) {
        opt_error("-m: %s is not a multiple of 4K", arg);
        return -1;
    }
    cfg->ram_size = size;
    return 0;
}

static int opt_kernel(struct config *cfg, const char *arg)
{
    cfg->kernel = arg;
    return check_readable("-kernel", arg);
}

/* -initrd: one file, or (multiboot) comma-separated modules, each of
 * which may carry its own command line after a space, as in QEMU. */
static int opt_initrd(struct config *cfg, const char *arg)
{
    const char *p = arg;

    cfg->initrd = arg;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t path_len = strcspn(p, ", ");
        char path[4096];

        if (path_len >= sizeof path) {
            opt_error("-initrd: file name too long");
            return -1;
        }
        memcpy(path, p, path_len);
        path[path_len] = '\0';
        if (check_readable("-initrd", path) != 0)
            return -1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static int opt_append(struct config *cfg, const char *arg)
{
    cfg->append = arg;
    return 0;
}

static int opt_serial(struct config *cfg, const char *arg)
{
    if (strcmp(arg, "stdio") == 0) {
        cfg->serial = SERIAL_STDIO;
    } else if (strcmp(arg, "none") == 0) {
        cfg->serial = SERIAL_NONE;
    } else if (strncmp(arg, "file:", 5) == 0 && arg[5] != '\0') {
        cfg->serial = SERIAL_FILE;
        cfg->serial_path = arg + 5;
    } else {
        opt_error("-serial: unknown back-end '%s' (expected stdio, file:PATH or none)", arg);
        return -1;
    }
    return 0;
}

static int opt_display(struct config *cfg, const char *arg)
{
    if (strcmp(arg, "none") == 0) {
        cfg->display = DISPLAY_NONE;
    } else if (strcmp(arg, "sdl") == 0) {
        if (!CONFIG_SDL) {
            opt_error("-display sdl: this nest86 was built without SDL (./configure --disable-sdl)");
            return -1;
        }
        cfg->display = DISPLAY_SDL;
    } else {
        opt_error("-display: unknown display '%s' (expected none or sdl)", arg);
        return -1;
    }
    return 0;
}

static int opt_S(struct config *cfg, const char *arg)
{
    (void)arg;
    cfg->start_paused = true;
    return 0;
}

static int opt_gdb(struct config *cfg, const char *arg)
{
    const char *digits = arg + 5;
    char *end;
    long port;

    if (strncmp(arg, "tcp::", 5) != 0 || *digits < '0' || *digits > '9') {
        opt_error("-gdb: expected tcp::PORT, got '%s'", arg);
        return -1;
    }
    errno = 0;
    port = strtol(digits, &end, 10);
    if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
        opt_error("-gdb: bad port number '%s' (expected 1-65535)", digits);
        return -1;
    }
    cfg->gdb_port = (int)port;
    return 0;
}

static int opt_x(struct config *cfg, const char *arg)
{
    cfg->debug_script = arg;
    return check_readable("-x", arg);
}

static int opt_loadvm(struct config *cfg, const char *arg)
{
    cfg->loadvm = arg;
    return check_readable("-loadvm", arg);
}

static int opt_d(struct config *cfg, const char *arg)
{
    const char *p = arg;

    for (;;) {
        size_t len = strcspn(p, ",");

        if (!trace_category_bit(p, len)) {
            opt_error("-d: unknown trace category '%.*s' (valid: " TRACE_CATEGORY_LIST ")",
                      (int)len, p);
            return -1;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    cfg->trace_spec = arg;
    return 0;
}

static int opt_D(struct config *cfg, const char *arg)
{
    if (*arg == '\0') {
        opt_error("-D: empty file name");
        return -1;
    }
    cfg->trace_file = arg;
    return 0;
}

static bool is_feature_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* Only the syntax is checked here; the CPU model knows which feature
 * names exist and rejects the others when it is built. */
static int opt_cpu(struct config *cfg, const char *arg)
{
    size_t model_len = strcspn(arg, ",");
    size_t i, n = sizeof cpu_models / sizeof cpu_models[0];
    const char *p;

    if (strcmp(arg, "help") == 0) { /* the models and every feature switch, then exit */
        cpu_list_features(stdout);
        return 1;
    }
    for (i = 0; i < n; i++)
        if (strlen(cpu_models[i]) == model_len && strncmp(arg, cpu_models[i], model_len) == 0)
            break;
    if (i == n) {
        opt_error("-cpu: unknown model '%.*s' (valid: nest86, max)", (int)model_len, arg);
        return -1;
    }
    for (p = arg + model_len; *p == ','; ) {
        const char *name = ++p;
        size_t name_len = 0, value_len;

        while (is_feature_char(name[name_len]))
            name_len++;
        p = name + name_len;
        value_len = *p == '=' ? strcspn(p + 1, ",") : 0;
        if (name_len == 0 || *p != '=' ||
            !((value_len == 2 && strncmp(p + 1, "on", 2) == 0) ||
              (value_len == 3 && strncmp(p + 1, "off", 3) == 0))) {
            opt_error("-cpu: bad feature setting '%.*s' (expected FEATURE=on or FEATURE=off)",
                      (int)strcspn(name, ","), name);
            return -1;
        }
        p += 1 + value_len;
    }
    cfg->cpu_model = arg;
    return 0;
}

/* -accel threaded | copy[,arena=SIZE] (cpu/copyrun.h) */
static int opt_accel(struct config *cfg, const char *arg)
{
    size_t len = strcspn(arg, ",");
    if (len == 8 && strncmp(arg, "threaded", 8) == 0 && arg[len] == '\0') {
        cfg->copy_runs = false;
        return 0;
    }
    if (len != 4 || strncmp(arg, "copy", 4) != 0) {
        opt_error("-accel: unknown engine '%.*s' (expected threaded or copy)", (int)len, arg);
        return -1;
    }
    cfg->copy_runs = true;
    const char *p = arg + len;
    while (*p == ',') {
        p++;
        size_t n = strcspn(p, ",");
        uint64_t size;
        char buf[32];
        if (n > 6 && n - 6 < sizeof buf && strncmp(p, "arena=", 6) == 0) {
            memcpy(buf, p + 6, n - 6);
            buf[n - 6] = '\0';
            if (config_parse_size(buf, &size) == 0 && size >= 4096 && size <= (1ull << 30)) {
                cfg->copy_arena = size;
                p += n;
                continue;
            }
            opt_error("-accel: bad arena size '%s' (4K to 1G, e.g. 16M)", buf);
            return -1;
        }
        if (n > 5 && n - 5 < sizeof buf && strncmp(p, "heat=", 5) == 0) {
            memcpy(buf, p + 5, n - 5);
            buf[n - 5] = '\0';
            char *end;
            unsigned long h = strtoul(buf, &end, 10);
            if (*end == '\0' && end != buf && h >= 1 && h <= 255) {
                cfg->copy_heat = (unsigned)h;
                p += n;
                continue;
            }
            opt_error("-accel: bad heat '%s' (1 to 255)", buf);
            return -1;
        }
        opt_error("-accel: unknown setting '%.*s' (expected arena=SIZE or heat=N)", (int)n, p);
        return -1;
    }
    return 0;
}

static int opt_vga(struct config *cfg, const char *arg)
{
    if (strcmp(arg, "text") == 0) {
        cfg->vga = VGA_TEXT;
    } else if (strcmp(arg, "std") == 0) {
        cfg->vga = VGA_STD;
    } else {
        opt_error("-vga: unknown adapter mode '%s' (expected text or std)", arg);
        return -1;
    }
    return 0;
}

static int opt_no_reboot(struct config *cfg, const char *arg)
{
    (void)arg;
    cfg->no_reboot = true;
    return 0;
}

/* -version and -help end parsing with CONFIG_EXIT_SUCCESS (returned as 1). */
static int opt_version(struct config *cfg, const char *arg)
{
    (void)cfg;
    (void)arg;
    printf("nest86 version %s\n", NEST86_VERSION);
    return 1;
}

static void print_help(void);

static int opt_help(struct config *cfg, const char *arg)
{
    (void)cfg;
    (void)arg;
    print_help();
    return 1;
}

/* ---- the table ------------------------------------------------------ */

struct option_desc {
    const char *name;     /* without the dash */
    const char *alias;    /* second spelling, or NULL */
    const char *metavar;  /* argument name; NULL for a flag without one */
    const char *help;
    /* Returns 0 to go on, 1 to stop with success, -1 on error (after
     * printing the one-line message). */
    int (*apply)(struct config *cfg, const char *arg);
};

static const struct option_desc option_table[] = {
    { "m", NULL, "SIZE", "guest RAM, e.g. 512M or 2G; no suffix means MiB (default 128M)", opt_m },
    { "kernel", NULL, "FILE", "boot FILE: a Linux bzImage or a multiboot ELF", opt_kernel },
    { "initrd", NULL, "FILE", "initial ramdisk; multiboot modules as FILE[ ARGS],FILE...", opt_initrd },
    { "append", NULL, "STR", "kernel command line", opt_append },
    { "serial", NULL, "DEV", "COM1 back-end: stdio (default), file:PATH or none", opt_serial },
    { "display", NULL, "KIND", "sdl (a window; the default when DISPLAY or WAYLAND_DISPLAY is set) or none", opt_display },
    { "vga", NULL, "KIND", "text (default: Linux gets VGA text mode 3) or std (a 1024x768x32 Bochs VBE framebuffer)", opt_vga },
    { "S", NULL, NULL, "do not start the CPU; wait for the debugger", opt_S },
    { "gdb", NULL, "tcp::PORT", "GDB remote stub listening on PORT", opt_gdb },
    { "x", NULL, "FILE", "run debugger commands from FILE at start", opt_x },
    { "loadvm", NULL, "FILE", "resume the machine saved in FILE (debugger: savevm FILE)", opt_loadvm },
    { "d", NULL, "LIST", "trace categories, comma-separated: " TRACE_CATEGORY_LIST, opt_d },
    { "D", NULL, "FILE", "write the trace to FILE (default stderr)", opt_D },
    { "cpu", NULL, "MODEL[,F=on|off...]", "CPU model nest86 (default) or max, with feature switches (-cpu help lists them)", opt_cpu },
    { "accel", NULL, "ENGINE", "copy (default: hot runs of handlers copied into host code; copy,arena=SIZE,heat=N: their space, default 16M, and the visit to a block that copies it, 1-255, default 64) or threaded (one handler at a time)", opt_accel },
    { "no-reboot", NULL, NULL, "exit instead of rebooting on reset or triple fault", opt_no_reboot },
    { "version", NULL, NULL, "print the version and exit", opt_version },
    { "help", "h", NULL, "print this help and exit", opt_help },
};

#define OPTION_COUNT (sizeof option_table / sizeof option_table[0])

static void print_help(void)
{
    size_t i;

    printf("Usage: nest86 [options]\n"
           "nest86 %s, a PC emulator whose CPU implements VMX with EPT.\n\n"
           "Options (one or two leading dashes):\n",
           NEST86_VERSION);
    for (i = 0; i < OPTION_COUNT; i++) {
        const struct option_desc *o = &option_table[i];
        char left[64];

        snprintf(left, sizeof left, "-%s%s%s%s%s", o->name, o->alias ? ", -" : "",
                 o->alias ? o->alias : "", o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("\nExit status: 0 guest powered off; 2 bad command line, unbootable kernel\n"
           "or unusable snapshot; 4 triple fault under -no-reboot; 6 guest halted for\n"
           "good (interrupts off, or a VMX guest waiting for a SIPI).  A guest that\n"
           "writes V to the debug-exit port 0xf4 makes nest86 exit with status\n"
           "(V << 1) | 1.  Serial console: Ctrl-A X quits, Ctrl-A H helps.\n");
}

static const struct option_desc *find_option(const char *name)
{
    size_t i;

    for (i = 0; i < OPTION_COUNT; i++) {
        const struct option_desc *o = &option_table[i];
        if (strcmp(name, o->name) == 0 || (o->alias && strcmp(name, o->alias) == 0))
            return o;
    }
    return NULL;
}

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ram_size = DEFAULT_RAM;
    cfg->serial = SERIAL_STDIO;
    cfg->display = DISPLAY_DEFAULT;
    cfg->cpu_model = "nest86";
    cfg->copy_runs = true;
    cfg->copy_arena = 16u << 20;
    cfg->copy_heat = COPYRUN_HEAT_DEFAULT;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
    int i;

    config_defaults(cfg);
    for (i = 1; i < argc; i++) {
        const char *word = argv[i], *name;
        const struct option_desc *o;
        const char *arg = NULL;
        int rc;

        if (word[0] != '-' || word[1] == '\0') {
            opt_error("unexpected argument '%s' (options start with '-'; try -help)", word);
            return CONFIG_ERROR;
        }
        name = word + (word[1] == '-' ? 2 : 1);
        o = find_option(name);
        if (!o) {
            opt_error("unknown option '%s' (try -help)", word);
            return CONFIG_ERROR;
        }
        if (o->metavar) {
            if (i + 1 >= argc) {
                opt_error("option '%s' needs an argument (%s)", word, o->metavar);
                return CONFIG_ERROR;
            }
            arg = argv[++i];
        }
        rc = o->apply(cfg, arg);
        if (rc < 0)
            return CONFIG_ERROR;
        if (rc > 0)
            return CONFIG_EXIT_SUCCESS;
    }
    /* QEMU's rule: these only mean something to a kernel we load. */
    if (!cfg->kernel && (cfg->initrd || cfg->append)) {
        opt_error("%s needs -kernel", cfg->initrd ? "-initrd" : "-append");
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}
