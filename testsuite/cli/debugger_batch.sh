#!/usr/bin/env bash
# testsuite/cli/debugger_batch.sh — the debugger in batch mode (-x FILE)
# against the smoke kernel, with symbols from its .elf64 and addresses
# checked against nm.  One PASS/FAIL line per case (testsuite/run
# protocol).  Missing guest kernels or nm: testsuite/missing.sh.

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/smoke.elf
elf64=$build/guest/t64/smoke.elf64

if [ ! -x "$NEST86" ]; then
    echo "FAIL binary: no $NEST86 (run make)"
    exit 1
fi
. "$root/testsuite/missing.sh"
if [ ! -f "$kernel" ] || [ ! -f "$elf64" ]; then
    missing debugger "no $kernel (make guest-kernels)"
fi
command -v nm >/dev/null || missing debugger "no nm (binutils)"

failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# session NAME [nest86 options...] < script: runs the script, keeps
# stdout in $tmp/NAME.out and the exit status in $status
session() {
    local name=$1
    shift
    cat > "$tmp/$name.x"
    timeout 20 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot \
        -x "$tmp/$name.x" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null
    status=$?
}
has() { grep -qF -- "$2" "$tmp/$1.out"; }
sym() { nm "$elf64" | awk -v n="$1" '$3 == n { print $1 }'; }

test_main=$(sym test_main)
rt_main=$(sym rt_main)
[ -n "$test_main" ] || { echo "FAIL nm: no test_main in $elf64"; exit 1; }

# --- breakpoint on a symbol, registers, x, backtrace, finish ---
session bp <<EOF
symbols $elf64
break test_main
continue
print rip
info registers
x/wx __image_start
x/4bx p:0x100000
x/gx rsp
backtrace
set rax = 0x1234 + 0x10
print rax == 0x1244 && rip == test_main
finish
quit
EOF
want=$(printf '0x%x' "0x$test_main")
if has bp "stopped: Breakpoint 1 at $want <test_main>" && has bp "(nest86) print rip" &&
    grep -A1 -F "(nest86) print rip" "$tmp/bp.out" | grep -q "^$want "; then
    pass break-symbol
else
    fail break-symbol "no stop at test_main = $want (nm)"
fi
if grep -q "^rip 0x0*${test_main#0*} <test_main>" "$tmp/bp.out"; then
    pass registers-rip
else
    fail registers-rip "info registers does not show rip = $test_main <test_main>"
fi
# the Multiboot header magic at the image start (linear and physical)
if has bp "<__image_start>: 0x1badb002" && has bp "p:0x0000000000100000: 0x02 0xb0 0xad 0x1b"; then
    pass x-memory
else
    fail x-memory "x did not show the Multiboot magic 0x1badb002 at 0x100000"
fi
# at a function's entry [rsp] is the return address into rt_main
ret=$(grep -A1 -F "(nest86) x/gx rsp" "$tmp/bp.out" | sed -n 's/^0x[0-9a-f]* <[^>]*>: 0x0*\([0-9a-f]*\)$/\1/p')
if [ -n "$ret" ] && grep -A2 -F "(nest86) backtrace" "$tmp/bp.out" | grep -q "^#1  0x0*$ret <rt_main+0x" &&
    grep -A2 -F "(nest86) backtrace" "$tmp/bp.out" | grep -q "^#1 .*<rt_main+0x"; then
    pass backtrace
else
    fail backtrace "no frame #1 in rt_main"
fi
if has bp "rax = 0x1244" && grep -A1 -F "(nest86) print rax ==" "$tmp/bp.out" | grep -q "^0x1 1"; then
    pass set-and-expr
else
    fail set-and-expr "set rax / expression evaluation"
fi
if has bp "stopped: finish" && grep -A1 "stopped: finish" "$tmp/bp.out" | grep -q "<rt_main+0x"; then
    pass finish
else
    fail finish "finish did not return to rt_main"
fi
[ "$status" -eq 0 ] && pass quit-status || fail quit-status "quit gave status $status, want 0"

# --- walk of the runtime's identity map (2 MiB pages) and of a hole ---
session walk <<'EOF'
break test_main
continue
walk 0x200000
walk 0x100000000
walk 0x200000 w user
info mem
quit
EOF
pdpte_ok=$(grep -c "^  PDPTE  at p:0x[0-9a-f]* = 0x[0-9a-f]*  P=1 RW=1 .* PS=0 .*-> table" "$tmp/walk.out")
if grep -q "^  PML4E  at p:0x[0-9a-f]* = 0x[0-9a-f]*  P=1 RW=1 .* PS=0 .*-> table p:0x" "$tmp/walk.out" &&
    [ "$pdpte_ok" -ge 1 ] &&
    grep -q "^  PDE    at p:0x[0-9a-f]*008 = 0x0000000000200[0-9a-f][0-9a-f][0-9a-f]  P=1 .* PS=1 .*-> 2 MiB page p:0x200000" "$tmp/walk.out" &&
    has walk "  => p:0x0000000000200000"; then
    pass walk-2m-page
else
    fail walk-2m-page "walk 0x200000 did not show PML4E, PDPTE and a PS=1 PDE mapping p:0x200000"
fi
if grep -q "^  PDPTE  at p:0x[0-9a-f]*020 = 0x0000000000000000  P=0 .*not present" "$tmp/walk.out" &&
    has walk "=> fault: #PF (vector 14) error code 0x0 [ ] CR2 would be 0x0000000100000000"; then
    pass walk-fault
else
    fail walk-fault "walk 0x100000000 did not report a not-present #PF"
fi
# the runtime maps supervisor-only: a user write faults with P|W|U
if has walk "=> fault: #PF (vector 14) error code 0x7 [ P W U ]"; then
    pass walk-user-write
else
    fail walk-user-write "walk 0x200000 w user: want #PF error code 0x7"
fi
if has walk "0x0000000000000000-0x00000000ffffffff    100000000  rwx sup   -> p:0x0"; then
    pass info-mem
else
    fail info-mem "info mem did not merge the 4 GiB identity map into one range"
fi

# --- a watchpoint on a physical address stops after the writing instruction ---
session watch <<'EOF'
watch p:composite.0+4
continue
continue
x/i $rip
quit
EOF
# first hit: the runtime's BSS clearing (REP STOSB, stopped mid-string);
# second: test_main's sieve writing composite[4] = 1
if has watch "stopped: Watchpoint 1: write of 1 bytes at" &&
    grep -q "by the instruction at 0x[0-9a-f]* <_start+0x[0-9a-f]*>" "$tmp/watch.out"; then
    pass watch-bss-clear
else
    fail watch-bss-clear "the first write (BSS clearing in _start) was not caught"
fi
hit=$(grep -o "by the instruction at 0x[0-9a-f]* <test_main+0x[0-9a-f]*>" "$tmp/watch.out" | head -1 |
      awk '{print $5}')
if [ -n "$hit" ]; then
    # the reported instruction is a byte store, and the stop is right after it
    printf 'x/i %s\nquit\n' "$hit" > "$tmp/insn.x"
    timeout 20 "$NEST86" -kernel "$kernel" -serial none -x "$tmp/insn.x" > "$tmp/insn.out" 2>&1 < /dev/null
    if grep -q "mov *byte ptr \[.*\], 1" "$tmp/insn.out"; then
        pass watch-phys
    else
        fail watch-phys "the instruction at $hit is not the byte store: $(grep "$hit" "$tmp/insn.out")"
    fi
else
    fail watch-phys "the sieve's write to composite[4] was not caught"
fi

# --- conditional breakpoint, stepping, trace counting ---
session cond <<'EOF'
break rt_putc if rdi == 0x48 && 1
continue
print rdi
print icount
stepi 3
print icount
delete
trace rt_putc
tbreak rt_exit
continue
trace show
quit
EOF
if has cond "stopped: Breakpoint 1 at 0x" && grep -A1 -F "(nest86) print rdi" "$tmp/cond.out" | grep -q "^0x48 72"; then
    pass break-condition
else
    fail break-condition "did not stop in rt_putc with rdi == 'H'"
fi
counts=$(grep -A1 -F "(nest86) print icount" "$tmp/cond.out" | grep "^0x" | awk '{print $2}')
first=$(echo "$counts" | sed -n 1p)
second=$(echo "$counts" | sed -n 2p)
if [ -n "$first" ] && [ -n "$second" ] && [ $((second - first)) -eq 3 ]; then
    pass stepi-count
else
    fail stepi-count "stepi 3 moved icount from '$first' to '$second'"
fi
rt_putc=$(printf '%x' $((0x$(sym rt_putc))))
n=$(grep -E "^[0-9]+ +0x0*$rt_putc *<rt_putc> +[0-9]+" "$tmp/cond.out" | head -1 | awk '{print $NF}')
if [ -n "$n" ] && [ "$n" -gt 100 ]; then
    pass trace-count
else
    fail trace-count "trace rt_putc counted '$n' calls"
fi

# --- mode switch and exception catchpoints ---
session mode <<'EOF'
catch mode
continue
info mode
quit
EOF
if has mode "Catchpoint 1: mode switch from 32-bit protected mode to" && has mode "(nest86) info mode"; then
    pass catch-mode
else
    fail catch-mode "no stop at the switch out of 32-bit protected mode"
fi

# --- help lists every command, and `help CMD` describes each ---
session help <<'EOF'
help
quit
EOF
cmds=$(sed -n '/^Commands/,/^(nest86) quit/p' "$tmp/help.out" | grep '^  [a-z]' | awk '{print $1}')
want_cmds="help continue step stepi next finish until break tbreak watch rwatch awatch catch
delete disable enable registers set print x disassemble walk info backtrace symbols trace echo vmcs savevm loadvm quit"
missing=
for c in $want_cmds; do echo "$cmds" | grep -qx "$c" || missing="$missing $c"; done
{ for c in $cmds; do echo "help $c"; done; echo quit; } > "$tmp/helpall.x"
timeout 20 "$NEST86" -kernel "$kernel" -serial none -x "$tmp/helpall.x" > "$tmp/helpall.out" 2>&1 < /dev/null
undocumented=
for c in $cmds; do grep -q "^$c " "$tmp/helpall.out" || undocumented="$undocumented $c"; done
if [ -z "$missing" ] && [ -z "$undocumented" ] && [ "$(echo "$cmds" | wc -l)" -ge 25 ]; then
    pass help
else
    fail help "missing from help:$missing; no help text:$undocumented"
fi

# --- -S with no command source quits cleanly; unknown commands do not crash ---
timeout 20 "$NEST86" -kernel "$kernel" -serial none -S > "$tmp/s.out" 2> "$tmp/s.err" < /dev/null
status=$?
if [ "$status" -eq 0 ] && grep -q "no more debugger commands" "$tmp/s.err" &&
    grep -q "started paused (-S)" "$tmp/s.out"; then
    pass start-paused
else
    fail start-paused "-S without a terminal: status $status"
fi
session junk <<'EOF'
frobnicate
x/8zz 0
walk
break nosuchsymbol
print (1 +
continue
EOF
if [ "$status" -eq 1 ] && has junk "unknown command 'frobnicate'" && has junk "no register or symbol 'nosuchsymbol'"; then
    pass bad-commands
else
    fail bad-commands "status $status (want the guest's 1 after the final continue)"
fi

# --- -d tracing to a -D file ---
timeout 30 "$NEST86" -kernel "$kernel" -serial none -d exec,io -D "$tmp/trace.log" < /dev/null > /dev/null 2>&1
status=$?
if [ "$status" -eq 1 ] && grep -q "^exec: 0x000000000010000c <_start>: cli" "$tmp/trace.log" &&
    grep -q "^io: out port 0x03f8 size 1 value 0x48" "$tmp/trace.log"; then
    pass trace-exec-io
else
    fail trace-exec-io "status $status; no exec/io lines in the -D file"
fi

# -d io also carries a device's note on a request it ignores: the ACPI
# PM1a_CNT write of an S3 type that the DSDT does not offer (exit_acpi_s5)
timeout 30 "$NEST86" -kernel "$build/guest/exit_acpi_s5.elf" -serial none -d io \
    -D "$tmp/acpi.log" < /dev/null > /dev/null 2>&1
status=$?
if [ "$status" -eq 0 ] && grep -A1 "^io: out port 0x0604 size 2 value 0x3401" "$tmp/acpi.log" |
    grep -qxF 'io: acpi-pm1: SLP_EN with SLP_TYP 5 ignored: only \_S5 (SLP_TYP 7) is offered'; then
    pass trace-io-note
else
    fail trace-io-note "status $status (want 0); $(grep -m1 acpi-pm1 "$tmp/acpi.log")"
fi

[ "$failures" -eq 0 ]
