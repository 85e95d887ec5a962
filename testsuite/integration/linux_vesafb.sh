#!/usr/bin/env bash
# testsuite/integration/linux_vesafb.sh — Debian's generic kernel with
# -vga std: the loader sets the Bochs VBE framebuffer to 1024x768x32 and
# says so in screen_info, the kernel's vesafb takes it and fbcon draws
# the console on it (console=tty0, the shell on tty1: nest86.tty0).
#   vesafb/driver      the kernel's vesafb reports the mode (dmesg, read
#                      by a command typed with the debugger's `type`)
#   vesafb/screendump  a 1024x768 screendump with the console drawn
# The debugger is reached through the GDB stub (gdb's `monitor`).  The
# framebuffer is an MMIO window, so fbcon's drawing is slow: the boot
# takes several times a text-mode one.
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
. "$root/testsuite/guest_console.sh"
console_test_begin vesafb linux_vesafb

port=$((20000 + ($$ + 7) % 20000))
: > "$serial"
"$NEST86" -m 512M -kernel "$build/linux/vmlinuz-generic" -initrd "$build/linux/initrd.img" \
    -append "console=tty0 console=ttyS0 quiet nest86.tty0" -serial "file:$serial" \
    -display none -vga std -gdb "tcp::$port" -no-reboot < /dev/null > "$tmp/nest86.out" 2>&1 &
pid=$!
if ! wait_for "$serial" NEST86_TTY0_SHELL 600; then
    echo "FAIL vesafb/boot: no shell on tty1 (serial log: $serial)"
    exit 1
fi
pass boot
debugger 'type dmesg | grep vesafb: > /dev/ttyS0\n'
if wait_for "$serial" "vesafb: mode is 1024x768x32, linelength=4096" 120; then
    pass driver
else
    fail driver "no 'vesafb: mode is 1024x768x32' from the typed dmesg ($serial)"
fi
debugger "screendump $tmp/screen.ppm"
lit=$(tail -c +17 "$tmp/screen.ppm" 2>/dev/null | tr -d '\0' | wc -c)
if grep -q "screendump: 1024x768 written" "$gdb_out" && [ "$lit" -gt 5000 ]; then
    pass screendump
else
    fail screendump "$(grep -m1 screendump "$gdb_out"); $lit lit bytes"
fi
poweroff_typed
exit $((failures ? 1 : 0))
