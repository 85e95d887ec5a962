#!/usr/bin/env bash
# testsuite/cli/display.sh — -display: a window under SDL's offscreen
# video driver (no desktop needed) runs the smoke kernel to its end; a
# window asked for where none can open is one clear message and status
# 2; with no -display, a window only when DISPLAY or WAYLAND_DISPLAY is
# set, and quietly none when SDL cannot open one there (as QEMU).  One
# PASS/FAIL line per case (testsuite/run protocol).

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/smoke.elf

[ -x "$NEST86" ] || { echo "FAIL display/binary: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
[ -f "$kernel" ] || missing display "no $kernel (make guest-kernels)"
if grep -q '^#define CONFIG_SDL 0' "$root/config.h" 2>/dev/null; then
    echo "SKIP display: a --disable-sdl build has no window (cli/args checks its message)"
    exit 0
fi

failures=0
pass() { echo "PASS display/$1"; }
fail() { echo "FAIL display/$1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME [VAR=VALUE...] -- ARGS...: nest86 on the smoke kernel with
# that environment (DISPLAY and WAYLAND_DISPLAY unset unless given)
run() {
    local name=$1
    shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env -u DISPLAY -u WAYLAND_DISPLAY "${envs[@]}" timeout 60 "$NEST86" -kernel "$kernel" \
        -serial stdio -no-reboot "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null
    status=$?
}

run offscreen SDL_VIDEODRIVER=offscreen -- -display sdl -d stats
if [ $status -eq 1 ] && grep -q "All values check out" "$tmp/offscreen.out"; then
    pass offscreen-window
else
    fail offscreen-window "status $status, want 1: $(tail -n 1 "$tmp/offscreen.err")"
fi
# -d stats counts the window's work
if grep -Eq "^stats: window: [0-9]+ refreshes, [0-9]+ frames shown, [0-9]+ pixels uploaded, [0-9.]+ s host time$" "$tmp/offscreen.err"; then
    pass window-stats
else
    fail window-stats "no window line: $(grep stats "$tmp/offscreen.err" | tr '\n' '|')"
fi

run no-window SDL_VIDEODRIVER=nonexistent -- -display sdl
if [ $status -eq 2 ] && [ "$(wc -l < "$tmp/no-window.err")" -eq 1 ] &&
    grep -q "^nest86: -display sdl: cannot open a window: " "$tmp/no-window.err"; then
    pass no-window-message
else
    fail no-window-message "status $status, want 2 and one line: $(head -c 300 "$tmp/no-window.err")"
fi

# a desktop named but unreachable: quietly none, the guest still runs
run default-fallback DISPLAY=:nest86-none SDL_VIDEODRIVER=nonexistent --
if [ $status -eq 1 ] && [ ! -s "$tmp/default-fallback.err" ]; then
    pass default-falls-back-to-none
else
    fail default-falls-back-to-none "status $status: $(head -c 300 "$tmp/default-fallback.err")"
fi
exit $((failures ? 1 : 0))
