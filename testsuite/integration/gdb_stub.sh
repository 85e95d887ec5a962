#!/usr/bin/env bash
# testsuite/integration/gdb_stub.sh — Debian's gdb in batch mode against
# nest86's GDB stub (-S -gdb tcp::PORT) running the smoke kernel, with
# the kernel's .elf64 for symbols: connect, breakpoint, continue, stepi,
# info registers, x, control registers, monitor commands (savevm and
# loadvm, ept watch and check invept among them), a watchpoint, and the
# exit code reported back to gdb.  One PASS/FAIL line per case.

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/smoke.elf
elf64=$build/guest/t64/smoke.elf64

[ -x "$NEST86" ] || { echo "FAIL binary: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
[ -f "$kernel" ] && [ -f "$elf64" ] || missing gdb "no $kernel (make guest-kernels)"
command -v gdb >/dev/null || missing gdb "gdb is not installed (scripts/deps.sh installs it)"
command -v objdump >/dev/null || missing gdb "no objdump (binutils)"

failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

. "$root/testsuite/gdb_start.sh"

if ! gdb_start "$kernel"; then
    echo "FAIL start: nest86 -gdb did not listen: $(tail -1 "$tmp/nest86.err")"
    exit 1
fi

test_main=$(nm "$elf64" | awk '$3 == "test_main" { print $1 }')
composite=$(nm "$elf64" | awk '$3 == "composite.0" { print $1 }')
watch_addr=$(printf '0x%x' $((0x$composite + 4)))
timeout 60 gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' \
    -ex "target remote 127.0.0.1:$port" \
    -ex 'info registers rip' \
    -ex 'break test_main' -ex 'continue' \
    -ex 'printf "PC1=%lx SP1=%lx\n", $pc, $sp' \
    -ex 'stepi' \
    -ex 'printf "PC2=%lx SP2=%lx\n", $pc, $sp' \
    -ex 'stepi' \
    -ex 'printf "PC3=%lx\n", $pc' \
    -ex "monitor savevm $tmp/gdb.snap" \
    -ex 'stepi' -ex 'stepi' \
    -ex "monitor loadvm $tmp/gdb.snap" \
    -ex 'maint flush register-cache' \
    -ex 'printf "PC4=%lx\n", $pc' \
    -ex 'info registers' \
    -ex 'x/2xw 0x100000' \
    -ex 'printf "CR3=%lx CR0=%lx EFER=%lx\n", $cr3, $cr0, $efer' \
    -ex 'monitor help' \
    -ex 'monitor walk 0x200000' \
    -ex 'monitor ept watch 0x1000' \
    -ex 'monitor check invept' \
    -ex 'monitor delete' \
    -ex 'delete' \
    -ex "watch *(char *)$watch_addr" \
    -ex 'continue' \
    -ex 'delete' \
    -ex 'continue' \
    "$elf64" > "$tmp/gdb.out" 2>&1
gdb_status=$?
wait "$pid"
status=$?
pid=

has() { grep -q -- "$1" "$tmp/gdb.out"; }
if has "^rip  *0x10000c  *0x10000c <_start>"; then pass connect; else fail connect "no stop at _start (0x10000c) after target remote"; fi
if has "Breakpoint 1, test_main ()" && has "^PC1=$(printf %x "0x$test_main") SP1="; then
    pass breakpoint
else
    fail breakpoint "no stop at test_main = $test_main"
fi
# Each stepi runs exactly one instruction: PC2 and PC3 are the addresses
# of test_main's second and third instructions (objdump), and the first
# one, a PUSH, moved RSP down by 8.
insns=$(objdump -d --no-show-raw-insn --start-address=0x$test_main \
        --stop-address=$((0x$test_main + 32)) "$elf64" |
    awk '/^ *[0-9a-f]+:\t/ { sub(":", "", $1); print $1, $2 }')
first_op=$(sed -n '1s/^[^ ]* //p' <<< "$insns")
want2=$(sed -n '2s/ .*//p' <<< "$insns")
want3=$(sed -n '3s/ .*//p' <<< "$insns")
sp1=$(sed -n 's/^PC1=[0-9a-f]* SP1=//p' "$tmp/gdb.out")
pc2=$(sed -n 's/^PC2=\([0-9a-f]*\) SP2=.*/\1/p' "$tmp/gdb.out")
sp2=$(sed -n 's/^PC2=[0-9a-f]* SP2=//p' "$tmp/gdb.out")
pc3=$(sed -n 's/^PC3=//p' "$tmp/gdb.out")
if [ "$first_op" != push ] || [ -z "$want3" ]; then
    fail stepi "test_main no longer starts with a PUSH ('$first_op'): adjust this check"
elif [ "$pc2" = "$want2" ] && [ "$pc3" = "$want3" ] && [ -n "$sp1" ] &&
    [ $((0x$sp1 - 0x${sp2:-0})) -eq 8 ]; then
    pass stepi
else
    fail stepi "stepi from $test_main went to '$pc2' then '$pc3' (want $want2 then $want3), RSP $sp1 -> $sp2 (want -8)"
fi
# monitor savevm, two steps, monitor loadvm: back at the saved PC
pc4=$(sed -n 's/^PC4=//p' "$tmp/gdb.out")
if has "^saved the machine to $tmp/gdb.snap" && has "^loaded the machine from $tmp/gdb.snap" &&
    [ -n "$pc3" ] && [ "$pc4" = "$pc3" ]; then
    pass monitor-snapshot
else
    fail monitor-snapshot "after monitor savevm, 2 stepi and monitor loadvm the PC is '$pc4' (want '$pc3')"
fi
if has "^rax  *0x" && has "^r15  *0x" && has "^eflags  *0x[0-9a-f]*  *\[" && has "^cs  *0x18 " && has "^fs_base  *0x0 "; then
    pass info-registers
else
    fail info-registers "missing general, segment or fs_base registers"
fi
if has "<__image_start>:.*0x1badb002"; then pass memory; else fail memory "x/2xw 0x100000 did not read the Multiboot magic"; fi
if has "^CR3=[1-9a-f][0-9a-f]* CR0=8[0-9a-f]*1[0-9a-f]* EFER=d\?[0-9a-f]*500$"; then
    pass control-registers
else
    fail control-registers "$(grep '^CR3=' "$tmp/gdb.out")"
fi
if has "^  walk ADDR" && has "^  x /FMT ADDR" && has "PDE    at p:.*PS=1 .*2 MiB page p:0x200000"; then
    pass monitor
else
    fail monitor "monitor help / monitor walk output missing"
fi
if has "^  ept walk .*| watch \[GPA\]" && has "^EPT watch [0-9]*: guest-physical 0x1000 (0 entries through 0 EPTPs" &&
    has "^invept: off"; then
    pass monitor-watchers
else
    fail monitor-watchers "monitor ept watch / monitor check output missing"
fi
if has "Hardware watchpoint 2: \*(char \*)$watch_addr" && has "^New value = 1 '\\\\001'"; then
    pass watchpoint
else
    fail watchpoint "the watchpoint on composite[4] did not trigger with the new value 1"
fi
if has "exited with code 01" && [ "$status" -eq 1 ]; then
    pass exit
else
    fail exit "gdb status $gdb_status, nest86 status $status (want exit code 01 / 1)"
fi
[ "$failures" -eq 0 ] || { echo "--- gdb output:"; cat "$tmp/gdb.out"; echo "--- nest86 stderr:"; cat "$tmp/nest86.err"; }
[ "$failures" -eq 0 ]
