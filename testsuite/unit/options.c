/* Unit tests of the command-line parser (frontend/options.c).  Error
 * messages go to stderr, which the runner shows only on failure. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "frontend/config.h"
#include "testsuite/unit/unit.h"

#define MIB (UINT64_C(1) << 20)

static char readable_file[64];   /* a temporary file -kernel etc. can name */

/* Parses a NULL-terminated list of words after the program name. */
static int parse(struct config *cfg, const char *first, ...)
{
    char *argv[32] = { (char *)"nest86" };
    int argc = 1;
    va_list ap;

    va_start(ap, first);
    for (const char *w = first; w && argc < 31; w = va_arg(ap, const char *))
        argv[argc++] = (char *)w;
    va_end(ap);
    argv[argc] = NULL;
    return config_parse(cfg, argc, argv);
}

static uint64_t size_of(const char *s)
{
    uint64_t v = 0;
    return config_parse_size(s, &v) == 0 ? v : 0;
}

static void size_suffix(void)
{
    UNIT_CHECK(size_of("512M") == 512 * MIB);
    UNIT_CHECK(size_of("512m") == 512 * MIB);
    UNIT_CHECK(size_of("2G") == 2048 * MIB);
    UNIT_CHECK(size_of("65536K") == 64 * MIB);
    UNIT_CHECK(size_of("1T") == MIB * MIB);
    UNIT_CHECK(size_of("4096B") == 4096);
}

static void size_default_unit_is_mib(void)
{
    UNIT_CHECK(size_of("128") == 128 * MIB);
    UNIT_CHECK(size_of("1") == MIB);
}

static void size_rejects_bad(void)
{
    static const char *const bad[] = {
        "", "0", "0M", "M", "abc", "12X", "1.5G", "-1", " 1", "1 ", "1GG",
        "2T", "1025G", "1048577M", "99999999999999999999", "18446744073709551616",
    };
    uint64_t v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        UNIT_CHECKF(config_parse_size(bad[i], &v) != 0, "accepted '%s'", bad[i]);
}

static void defaults(void)
{
    struct config cfg;
    UNIT_CHECK(parse(&cfg, NULL) == CONFIG_OK);
    UNIT_CHECK(cfg.ram_size == 128 * MIB);
    UNIT_CHECK(cfg.serial == SERIAL_STDIO);
    UNIT_CHECK(cfg.display == DISPLAY_DEFAULT);
    UNIT_CHECK(cfg.vga == VGA_TEXT);
    UNIT_CHECK(cfg.kernel == NULL && cfg.initrd == NULL && cfg.append == NULL);
    UNIT_CHECK(!cfg.start_paused && !cfg.no_reboot && cfg.gdb_port == 0);
    UNIT_CHECK(cfg.trace_spec == NULL && cfg.trace_file == NULL);
    UNIT_CHECK(strcmp(cfg.cpu_model, "nest86") == 0);
}

static void every_option(void)
{
    struct config cfg;
    int rc = parse(&cfg, "-m", "1G", "-kernel", readable_file, "-initrd", readable_file,
                   "-append", "console=ttyS0", "-serial", "file:/tmp/log", "-display", "none",
                   "-S", "-gdb", "tcp::1234", "-x", readable_file, "-d", "int,exec,cpu,mmu,io",
                   "-D", "trace.txt", "-cpu", "max,vmx=on,ept=off", "-no-reboot", NULL);
    UNIT_CHECK(rc == CONFIG_OK);
    UNIT_CHECK(cfg.ram_size == 1024 * MIB);
    UNIT_CHECK(strcmp(cfg.kernel, readable_file) == 0);
    UNIT_CHECK(strcmp(cfg.initrd, readable_file) == 0);
    UNIT_CHECK(strcmp(cfg.append, "console=ttyS0") == 0);
    UNIT_CHECK(cfg.serial == SERIAL_FILE && strcmp(cfg.serial_path, "/tmp/log") == 0);
    UNIT_CHECK(cfg.start_paused && cfg.no_reboot);
    UNIT_CHECK(cfg.gdb_port == 1234);
    UNIT_CHECK(strcmp(cfg.debug_script, readable_file) == 0);
    UNIT_CHECK(strcmp(cfg.trace_spec, "int,exec,cpu,mmu,io") == 0);
    UNIT_CHECK(strcmp(cfg.trace_file, "trace.txt") == 0);
    UNIT_CHECK(strcmp(cfg.cpu_model, "max,vmx=on,ept=off") == 0);
}

static void double_dash_and_last_wins(void)
{
    struct config cfg;
    UNIT_CHECK(parse(&cfg, "--m", "256", "-m", "512M", "--serial", "none", NULL) == CONFIG_OK);
    UNIT_CHECK(cfg.ram_size == 512 * MIB);
    UNIT_CHECK(cfg.serial == SERIAL_NONE);
}

static void multiboot_modules(void)
{
    char list[256];
    struct config cfg;

    snprintf(list, sizeof list, "%s arg1 arg2,%s", readable_file, readable_file);
    UNIT_CHECK(parse(&cfg, "-kernel", readable_file, "-initrd", list, NULL) == CONFIG_OK);
    snprintf(list, sizeof list, "%s,/nonexistent/module", readable_file);
    UNIT_CHECK(parse(&cfg, "-kernel", readable_file, "-initrd", list, NULL) == CONFIG_ERROR);
}

static void display_sdl_follows_build(void)
{
    struct config cfg;
    int rc = parse(&cfg, "-display", "sdl", NULL);
    UNIT_CHECK(rc == (CONFIG_SDL ? CONFIG_OK : CONFIG_ERROR));
}

static void bad_command_lines(void)
{
    static const char *const bad[][3] = {
        { "-bogus" }, { "--bogus" }, { "stray" }, { "-" },
        { "-m" }, { "-m", "0" }, { "-m", "junk" }, { "-m", "2T" }, { "-m", "512K" },
        { "-m", "1025K" },
        { "-kernel" }, { "-kernel", "/nonexistent/kernel" }, { "-kernel", "/" },
        { "-x", "/nonexistent/script" },
        { "-serial", "tcp" }, { "-serial", "file:" },
        { "-display", "gtk" },
        { "-gdb", "1234" }, { "-gdb", "tcp::" }, { "-gdb", "tcp::0" }, { "-gdb", "tcp::65536" },
        { "-gdb", "tcp::12ab" }, { "-gdb", "tcp::-5" },
        { "-d", "int,bogus" }, { "-d", "" }, { "-d", "int," },
        { "-D", "" },
        { "-cpu", "pentium" }, { "-cpu", "max,vmx" }, { "-cpu", "max,vmx=yes" },
        { "-cpu", "max," }, { "-cpu", "max,=on" },
        { "-append", "quiet" },
    };
    struct config cfg;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(&cfg, bad[i][0], bad[i][1], bad[i][2], NULL);
        UNIT_CHECKF(rc == CONFIG_ERROR, "accepted '%s %s'", bad[i][0], bad[i][1] ? bad[i][1] : "");
    }
}

static void version_exits_successfully(void)
{
    struct config cfg;
    /* -version prints to stdout, where the runner looks for results:
     * its line does not start with PASS/FAIL/SKIP, so it is harmless. */
    UNIT_CHECK(parse(&cfg, "-version", NULL) == CONFIG_EXIT_SUCCESS);
    fflush(stdout);
}

int main(void)
{
    strcpy(readable_file, "/tmp/nest86-unit-XXXXXX");
    int fd = mkstemp(readable_file);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);

    UNIT_RUN(size_suffix);
    UNIT_RUN(size_default_unit_is_mib);
    UNIT_RUN(size_rejects_bad);
    UNIT_RUN(defaults);
    UNIT_RUN(every_option);
    UNIT_RUN(double_dash_and_last_wins);
    UNIT_RUN(multiboot_modules);
    UNIT_RUN(display_sdl_follows_build);
    UNIT_RUN(bad_command_lines);
    UNIT_RUN(version_exits_successfully);

    unlink(readable_file);
    return unit_done();
}
