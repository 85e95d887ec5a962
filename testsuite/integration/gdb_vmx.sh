#!/usr/bin/env bash
# testsuite/integration/gdb_vmx.sh — the VMX views through the GDB stub:
# Debian's gdb in batch mode drives the demo_ept kernel, sets a VMX
# breakpoint with `monitor break ept-violation`, continues to it, and
# runs `monitor vmcs`, `monitor vmcs FIELD` and `monitor ept walk` — the
# demo's one EPT violation (a write to its read-only page 'target',
# qualification 0x5aa) is known.  One PASS/FAIL line per case.
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/demo_ept.elf
elf64=$build/guest/t64/demo_ept.elf64

[ -x "$NEST86" ] || { echo "FAIL binary: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
[ -f "$kernel" ] && [ -f "$elf64" ] || missing gdb "no $kernel (make guest-kernels)"
command -v gdb >/dev/null || missing gdb "gdb is not installed (scripts/deps.sh installs it)"
command -v nm >/dev/null || missing gdb "no nm (binutils)"

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. "$root/testsuite/gdb_start.sh"
. "$root/testsuite/check.sh"

if ! gdb_start "$kernel"; then
    echo "FAIL start: nest86 -gdb did not listen: $(tail -1 "$tmp/nest86.err")"
    exit 1
fi
target=$(printf '0x%x' "0x$(nm "$elf64" | awk '$3 == "target" { print $1 }')")
timeout 60 gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' \
    -ex "target remote 127.0.0.1:$port" \
    -ex "monitor symbols $elf64" \
    -ex 'monitor break ept-violation' \
    -ex 'continue' \
    -ex 'monitor vmcs' \
    -ex 'monitor vmcs exit_qualification guest_physical_addr' \
    -ex "monitor ept walk $target" \
    -ex 'monitor help ept' \
    -ex 'kill' \
    "$elf64" > "$tmp/gdb.out" 2>&1
pid=

check gdb/break "$tmp/gdb.out" "Breakpoint 1: VM exit 48 (EPT violation)"
check gdb/vmcs "$tmp/gdb.out" "last exit: VM exit 48 (EPT violation), qualification 0x5aa [data write; the translation allows r-x"
check gdb/vmcs-field "$tmp/gdb.out" "EXIT_QUALIFICATION             6400  exit    64  0x00000000000005aa  data write;"
check gdb/vmcs-gpa "$tmp/gdb.out" "GUEST_PHYSICAL_ADDR            2400  exit    64  $(printf '0x%016x' "$target")"
check gdb/ept-walk "$tmp/gdb.out" "=> guest-physical $target -> host-physical $target (r-x)"
check gdb/help "$tmp/gdb.out" "ept walk GPA [EPTP [r|w|x]]"
