/* frontend/config.h — everything the command line can say. */
#ifndef NEST86_FRONTEND_CONFIG_H
#define NEST86_FRONTEND_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
/* DISPLAY_DEFAULT: no -display given; main() opens a window when a
 * desktop is there (sdl_display_available) and SDL can open one. */
enum display_kind { DISPLAY_DEFAULT, DISPLAY_NONE, DISPLAY_SDL };
/* -vga: what a Linux kernel is told it boots on (screen_info) */
enum vga_kind { VGA_TEXT, VGA_STD };

struct config {
    uint64_t ram_size;          /* -m, bytes; default 128 MiB */
    const char *kernel;         /* -kernel */
    const char *initrd;         /* -initrd (comma-separated for multiboot modules) */
    const char *append;         /* -append */
    enum serial_kind serial;    /* -serial */
    const char *serial_path;    /* -serial file:PATH */
    enum display_kind display;  /* -display */
    enum vga_kind vga;          /* -vga */
    bool start_paused;          /* -S */
    int gdb_port;               /* -gdb tcp::PORT; 0 = none */
    const char *debug_script;   /* -x FILE */
    const char *trace_spec;     /* -d LIST */
    const char *trace_file;     /* -D FILE; NULL = stderr */
    const char *cpu_model;      /* -cpu MODEL[,feature=on|off...] */
    bool no_reboot;             /* -no-reboot */
    const char *loadvm;         /* -loadvm FILE: resume a snapshot (kernel optional) */
    bool copy_runs;             /* -accel copy (default) or threaded (cpu/copyrun.h) */
    uint64_t copy_arena;        /* -accel copy,arena=SIZE: bytes of copied host code */
    unsigned copy_heat;         /* -accel copy,heat=N: copy a block on its Nth visit */
};

enum { CONFIG_OK = 0, CONFIG_EXIT_SUCCESS = 1, CONFIG_ERROR = 2 };

/* Parses argv into cfg (which it first fills with defaults).  Prints
 * -help/-version text itself (CONFIG_EXIT_SUCCESS) and one clear
 * message on stderr for a bad command line (CONFIG_ERROR). */
int config_parse(struct config *cfg, int argc, char **argv);

/* Parses "512M", "2G", "65536K", "128" (MiB when no suffix, as QEMU).
 * Returns 0 on success. */
int config_parse_size(const char *s, uint64_t *out);

#endif
