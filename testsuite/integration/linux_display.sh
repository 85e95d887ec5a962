#!/usr/bin/env bash
# testsuite/integration/linux_display.sh — Debian's cloud kernel with
# its console on the VGA (console=tty0) in an SDL window under SDL's
# offscreen driver, and a shell on tty1 (the initramfs's nest86.tty0):
#   display/console    the kernel's boot messages are in the VGA text
#                      buffer (read in the debugger) and the screendump
#                      is not blank
#   display/keyboard   keys typed with the debugger's `type` go through
#                      the window's SDL key events, the i8042 and the
#                      kernel's keyboard driver into busybox's shell,
#                      whose command writes to the serial port
#   display/echo       and the shell's echo of it is on the VGA
# The debugger is reached through the GDB stub (gdb's `monitor`).
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
logdir=$build/test-logs
mkdir -p "$logdir"
[ -x "$NEST86" ] || { echo "FAIL display/boot: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
command -v gdb >/dev/null || missing display/boot "gdb is not installed (scripts/deps.sh installs it)"
if grep -q '^#define CONFIG_SDL 0' "$root/config.h" 2>/dev/null; then
    echo "SKIP display: a --disable-sdl build has no window"
    exit 0
fi
if ! fetch_err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing display/boot "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-cloud
initrd=$build/linux/initrd.img
serial=$logdir/linux_display.serial.log
out=$logdir/linux_display.debugger.log
BOOT_TIMEOUT=${LINUX_BOOT_TIMEOUT:-240}

tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
pass() { echo "PASS display/$1"; }
fail() { echo "FAIL display/$1: $2"; failures=$((failures + 1)); }
gdb_out=$out
. "$root/testsuite/guest_console.sh"

: > "$serial"
port=$((20000 + $$ % 20000))
SDL_VIDEODRIVER=offscreen "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" \
    -append "console=tty0 console=ttyS0 nest86.tty0" -serial "file:$serial" -display sdl \
    -gdb "tcp::$port" -no-reboot < /dev/null > "$tmp/nest86.out" 2>&1 &
pid=$!

if ! wait_for "$serial" NEST86_TTY0_SHELL "$BOOT_TIMEOUT"; then
    echo "FAIL display/boot: no shell on tty1 (serial log: $serial)"
    exit 1
fi
pass boot

# text_window: the characters of the 32 KiB text window at 0xB8000 (the
# even bytes), read with the debugger's x, 4 KiB a command
text_window() {
    local cmds=() a
    : > "$out"
    for a in 8 9 a b c d e f; do cmds+=("x/4096bx p:0xb${a}000"); done
    debugger "$@" "${cmds[@]}"
    grep -a '^p:0x00000000000b[89a-f]' "$gdb_out" |
        awk 'function hex(s,   n, i) {
                n = 0
                for (i = 3; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
                return n
            }
            { for (i = 2; i <= NF; i += 2) printf "%c", hex($i) }'
}

# vgacon drew the boot on the VGA: its last lines are in the text
# buffer (the banner has scrolled out of the 32 KiB long since), and the
# screendump is not blank
window=$(text_window "screendump $tmp/screen.ppm")
lit=$(tail -c +16 "$tmp/screen.ppm" 2>/dev/null | tr -d '\0' | wc -c)
if [ "$lit" -gt 1000 ] && grep -q "Run /init as init process" <<< "$window"; then
    pass console
else
    fail console "screendump with $lit lit bytes; 'Run /init as init process' in the text buffer: $(grep -c "Run /init" <<< "$window")"
fi

debugger 'type echo NEST86_TYPED_$((6*7)) > /dev/ttyS0\n'
if wait_for "$serial" NEST86_TYPED_42 60; then
    pass keyboard
else
    fail keyboard "the typed command's output never reached the serial port ($serial)"
fi
# the shell echoed the command line on tty1
window=$(text_window)
if grep -qF 'echo NEST86_TYPED_$((6*7)) > /dev/ttyS0' <<< "$window"; then
    pass echo
else
    fail echo "the typed command line is not in the text buffer"
fi
poweroff_typed
exit $((failures ? 1 : 0))
