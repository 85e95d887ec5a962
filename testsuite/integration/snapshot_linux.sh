#!/usr/bin/env bash
# testsuite/integration/snapshot_linux.sh — exact resume of Debian's
# cloud kernel from a snapshot (docs/snapshots.md).
#
# The kernel boots with nest86.poweroff (its init powers off at once),
# so a run is deterministic from power-on to the ACPI power-off.  Run 1
# stops in the debugger after a fixed instruction count, saves the
# machine, and continues to the end; run 2 resumes the file with
# -loadvm and runs to the end.  Sub-tests:
#   save          savevm succeeded and wrote a file
#   serial        run 2's serial output is exactly run 1's after the
#                 save point (run 1's stdout interleaves the console and
#                 the debugger's transcript; the console is flushed at
#                 every stop, so the save point is the `continue` line)
#   icount        both runs retired the same number of instructions
#                 (-d stats; a run without the debugger may differ: stepping
#                 ends time slices exactly where blocks would run on a few
#                 instructions, so the stop itself moves interrupts)
#   exit          both ended with status 0 (power-off)
#   loadvm-debugger `loadvm` in the debugger goes back to the file's
#                 moment: the registers it prints match the ones at save
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL snapshot/linux: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
. "$root/testsuite/snapshot_resume.sh"
command -v python3 >/dev/null || missing snapshot/linux "no python3"
if ! fetch_err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing snapshot/linux "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-cloud
initrd=$build/linux/initrd.img
# After the console is up and the timers tick (the kernel has printed
# about 100 lines by then), well before the end (1.36 billion).
SAVE_AT=${SNAPSHOT_SAVE_AT:-250000000}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS snapshot/$1"; }
fail() { echo "FAIL snapshot/$1: $2"; failures=$((failures + 1)); }
machine=(-m 512M -display none -no-reboot -serial stdio -d stats)
boot=(-kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 nest86.poweroff")

cat > "$tmp/save.x" <<EOF
stepi $SAVE_AT
registers general
savevm $tmp/linux.snap
continue
EOF
save_and_resume "$tmp" "$tmp/linux.snap"

if grep -q "^saved the machine to $tmp/linux.snap (icount $SAVE_AT)" "$tmp/out1" &&
    [ -s "$tmp/linux.snap" ]; then
    pass save
else
    fail save "no 'saved the machine' line at icount $SAVE_AT: $(grep -m1 'savevm' "$tmp/out1" | tail -c 200) $(tail -n 2 "$tmp/err1")"
fi

resume_checks "$tmp"

if [ $status1 -eq 0 ] && [ $status2 -eq 0 ]; then
    pass exit
else
    fail exit "exit statuses: original $status1, resumed $status2 (want 0: power-off)"
fi

# loadvm in the debugger, from a moment later than the file's: the
# general registers it prints afterwards are the ones printed at save
cat > "$tmp/back.x" <<EOF
stepi 1000
loadvm $tmp/linux.snap
registers general
quit
EOF
"$NEST86" "${machine[@]}" -loadvm "$tmp/linux.snap" -x "$tmp/back.x" > "$tmp/out3" 2> "$tmp/err3" < /dev/null
regs_at_save=$(sed -n '/^(nest86) registers general/,/^(nest86) savevm/p' "$tmp/out1" | sed '1d;$d')
regs_after_load=$(sed -n '/^(nest86) registers general/,/^(nest86) quit/p' "$tmp/out3" | sed '1d;$d')
if [ -n "$regs_at_save" ] && [ "$regs_at_save" = "$regs_after_load" ]; then
    pass loadvm-debugger
else
    fail loadvm-debugger "registers after loadvm differ from those at save: $(diff <(echo "$regs_at_save") <(echo "$regs_after_load") | head -n 4 | tr '\n' ' ')"
fi
[ $failures -eq 0 ]
