#!/usr/bin/env bash
# testsuite/cli/snapshot_vmx.sh — snapshots of VMX test kernels
# (docs/snapshots.md).
#
#   nonroot/KERNEL  saved while the kernel's guest runs in VMX non-root
#                   operation (stopped by `break vmentry` after a third
#                   of the run), the run continued to its end; then
#                   -loadvm of the file runs to the end too: the console
#                   after the save point is identical byte for byte, the
#                   instruction counts (-d stats) and exit statuses too
#   roundtrip/KERNEL at points spread over the run, `savevm` then
#                   `loadvm` of the same file changes nothing the
#                   debugger prints: registers (all), the VMCS (all
#                   fields), the next instructions
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL snapshot-vmx: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
command -v python3 >/dev/null || missing snapshot-vmx "no python3"

failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
machine=(-m 64M -serial stdio -display none -no-reboot -d stats)
icount() { sed -n 's/^stats: \([0-9]*\) instructions retired.*/\1/p' "$1"; }

# Kernels whose guests run long enough to be caught: EPT, the
# preemption timer, APIC virtualization (the APIC-access page is an MMU
# hook a load must put back), VPID, VMCS shadowing, event injection.
kernels="vmx_ept vmx_timer vmx_apicv vmx_vpid vmx_shadow vmx_events vmx_pml"

for k in $kernels; do
    elf=$build/guest/$k.elf
    [ -f "$elf" ] || missing "nonroot/$k" "no $elf (make guest-kernels)"
    args=()
    [ -f "$elf.args" ] && read -r -a args < "$elf.args"
    total=$("$NEST86" "${machine[@]}" "${args[@]}" -kernel "$elf" -serial none -D /dev/stdout 2>/dev/null |
        sed -n 's/^stats: \([0-9]*\) instructions retired.*/\1/p')
    at=$(( ${total:-2} / 3 ))

    cat > "$tmp/$k.x" <<EOF
stepi $at
break vmentry
continue
delete
vmcs
savevm $tmp/$k.snap
continue
EOF
    "$NEST86" "${machine[@]}" "${args[@]}" -kernel "$elf" -D "$tmp/$k.stats1" -x "$tmp/$k.x" \
        > "$tmp/$k.out1" 2> "$tmp/$k.err1" < /dev/null
    s1=$?
    "$NEST86" "${machine[@]}" "${args[@]}" -loadvm "$tmp/$k.snap" -D "$tmp/$k.stats2" \
        > "$tmp/$k.out2" 2> "$tmp/$k.err2" < /dev/null
    s2=$?
    python3 - "$tmp/$k.out1" "$tmp/$k.after1" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
mark = b'(nest86) continue\n'
at = data.rfind(mark)   # the second continue: after the save
open(sys.argv[2], 'wb').write(data[at + len(mark):] if at >= 0 else b'')
EOF
    n1=$(icount "$tmp/$k.stats1") n2=$(icount "$tmp/$k.stats2")
    if ! grep -q "^VMX: non-root operation" "$tmp/$k.out1"; then
        fail "nonroot/$k" "not stopped in non-root operation: $(grep -m1 '^VMX' "$tmp/$k.out1")"
    elif ! grep -q "^saved the machine to" "$tmp/$k.out1"; then
        fail "nonroot/$k" "savevm failed: $(grep -m1 '^savevm' "$tmp/$k.out1")"
    elif ! cmp -s "$tmp/$k.after1" "$tmp/$k.out2"; then
        fail "nonroot/$k" "the resumed console differs after the save point: $(cmp "$tmp/$k.after1" "$tmp/$k.out2" 2>&1 | head -n 1); $(tail -n 1 "$tmp/$k.err2")"
    elif [ -z "$n1" ] || [ "$n1" != "$n2" ] || [ $s1 -ne $s2 ] || [ $s1 -ne 1 ]; then
        fail "nonroot/$k" "instructions $n1 against $n2, statuses $s1 and $s2 (want 1, the kernel's pass)"
    else
        pass "nonroot/$k"
    fi

    # round trips at points spread over the run (a fixed spread, so a
    # failure is reproduced by running the test again)
    views="registers all
vmcs all
x/4i \$rip"
    {
        step=$(( ${total:-4000} / 7 + 13 ))
        for i in 1 2 3 4 5 6; do
            echo "stepi $step"
            echo "echo === point $i before"
            echo "$views"
            echo "savevm $tmp/$k.rt.snap"
            echo "loadvm $tmp/$k.rt.snap"
            echo "echo === point $i after"
            echo "$views"
        done
        echo quit
    } > "$tmp/$k.rt.x"
    "$NEST86" "${machine[@]}" "${args[@]}" -kernel "$elf" -x "$tmp/$k.rt.x" -serial none \
        > "$tmp/$k.rt.out" 2>&1 < /dev/null
    bad=
    for i in 1 2 3 4 5 6; do
        before=$(sed -n "/^=== point $i before/,/^(nest86) savevm/p" "$tmp/$k.rt.out" | sed '$d')
        after=$(sed -n "/^=== point $i after/,/^(nest86) \(stepi\|quit\)/p" "$tmp/$k.rt.out" | sed '$d')
        before=${before#*$'\n'} after=${after#*$'\n'}
        if [ -z "$before" ] || [ "$before" != "$after" ]; then
            bad="$bad point $i: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 2 | tr '\n' ' ')"
        fi
    done
    n=$(grep -c "^loaded the machine from" "$tmp/$k.rt.out")
    if [ -z "$bad" ] && [ "$n" -eq 6 ]; then
        pass "roundtrip/$k"
    else
        fail "roundtrip/$k" "${bad:-$n of 6 loads succeeded}"
    fi
done
[ $failures -eq 0 ]
