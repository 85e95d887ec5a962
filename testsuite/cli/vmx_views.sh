#!/usr/bin/env bash
# testsuite/cli/vmx_views.sh — the debugger's VMX views (issue 14) in
# scripted sessions against test kernels whose VMX behaviour is known:
#
#  - guest/demo_ept: its EPT (identity map with 2-MiB pages, split where
#    the demo remaps 'shown' onto 'secret' and makes 'target' read-only,
#    A/D flags on) is the known table for `ept walk`, `ept dump`, the 2-D
#    `walk` and `ept step`; its one EPT violation (a write to 'target',
#    qualification 0x5aa) is what `break ept-violation` must decode;
#    `vmcs` fields, `vmcs diff`, `break invept`, `break vmx-insn` and
#    `trace vmexit`/`trace ept` counts against the demo's known exits.
#  - guest/vmx_entry: `break vmentry-fail` stops once per failed VM entry
#    (as many as `-d vmx` logs) naming the check; `trace vmexit` counts
#    equal the `-d stats` counts; `break vmexit REASON...` with two reasons.
#
# Sub-tests (testsuite/run protocol): demo/*, entry/*, trace/*.
set -u
NEST86=${NEST86:-./nest86}
build=${NEST86_BUILD:-build}
demo=$build/guest/demo_ept.elf
demo64=$build/guest/t64/demo_ept.elf64
entry=$build/guest/vmx_entry.elf
entry64=$build/guest/t64/vmx_entry.elf64
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "${NEST86_ROOT:-.}/testsuite/missing.sh"
. "${NEST86_ROOT:-.}/testsuite/check.sh"

for k in "$demo" "$demo64" "$entry" "$entry64" "$build/guest/vmx_shadow.elf" "$build/guest/t64/vmx_shadow.elf64" \
         "$build/guest/vmx_ept.elf" "$build/guest/t64/vmx_ept.elf64"; do
    if [ ! -f "$k" ]; then
        echo "FAIL vmx-views: $k is not built (make check builds it)"
        exit 1
    fi
done
command -v nm >/dev/null || missing demo/violation "no nm (binutils)"

run() { # KERNEL CMDS OUT [EXTRA ARGS]
    local k=$1 cmds=$2 out=$3
    shift 3
    timeout 60 "$NEST86" -kernel "$k" -serial none -display none -no-reboot -S -x "$cmds" \
        "$@" < /dev/null > "$out" 2>&1
}
sym() { nm "$1" | awk -v n="$2" '$3 == n { print $1 }'; }
hex() { printf '0x%x' "$1"; }
hex16() { printf '0x%016x' "$1"; }
hex12() { printf '0x%012x' "$1"; }

# ---- demo_ept ----
target=$(( 0x$(sym "$demo64" target) ))
shown=$(( 0x$(sym "$demo64" shown) ))
secret=$(( 0x$(sym "$demo64" secret) ))
write_at=$(( 0x$(sym "$demo64" demo_write_at) ))

cat > "$tmp/demo" <<CMDS
symbols $demo64
trace call vmx_run
break ept-violation
trace vmexit
trace ept
continue
vmcs exit_reason exit_qualification guest_physical_addr
vmcs execution
vmcs diff
walk target w vmcs
ept walk target
ept walk shown
ept dump
vmcs 0x1000
delete 2
break invept
continue
vmcs diff
delete 3
break vmx-insn vmresume
continue
trace show
continue
CMDS
run "$demo" "$tmp/demo" "$tmp/demo.out"
check demo/violation "$tmp/demo.out" \
    "stopped: Breakpoint 2: VM exit 48 (EPT violation), qualification 0x5aa [data write; the translation allows r-x; guest-linear address valid, the access itself; read/write page], guest-physical $(hex $target), guest-linear $(hex $target), guest rip $(hex $write_at) <demo_write_at>, host rip"
check demo/violation-host "$tmp/demo.out" "<vmx_host_entry>"
check demo/field-reason "$tmp/demo.out" "  EXIT_REASON                    4402  exit    32  0x00000030  EPT violation"
check demo/field-qual "$tmp/demo.out" \
    "  EXIT_QUALIFICATION             6400  exit    64  0x00000000000005aa  data write; the translation allows r-x"
check demo/field-gpa "$tmp/demo.out" "  GUEST_PHYSICAL_ADDR            2400  exit    64  $(hex16 $target)"
check demo/group "$tmp/demo.out" "VM-execution control fields (SDM 24.6)"
check demo/controls2 "$tmp/demo.out" "SECONDARY_PROC_CONTROLS        401e  control 32  0x00000002  ENABLE_EPT"
check demo/controls "$tmp/demo.out" \
    "PROC_BASED_CONTROLS            4002  control 32  0x84006172  bit1 bit4 bit5 bit6 bit8 bit13 bit14 bit26 SECONDARY_CONTROLS"
check demo/diff-exit "$tmp/demo.out" \
    "  EXIT_QUALIFICATION             0x0000000000000000 -> 0x00000000000005aa  data write;"
check demo/diff-rip "$tmp/demo.out" "  GUEST_RIP                      "
check demo/diff-since "$tmp/demo.out" "since the last VM exit (VMCS"
# the 2-D walk: five EPT walks (PML4E, PDPTE, PDE, PTE, the access), the
# last ending in the violation the guest met
check_count demo/walk2d-count "$tmp/demo.out" "    EPT walk of " 5
check demo/walk2d-final "$tmp/demo.out" "    EPT walk of the access at guest-physical $(hex $target):"
check demo/walk2d-violation "$tmp/demo.out" \
    "      => EPT violation at guest-physical $(hex $target): exit qualification 0x5aa"
# ept walk: the read-only PTE (R, X, write-back: 0x35), and the remap
check demo/ept-walk-pte "$tmp/demo.out" \
    "= $(hex16 $((target | 0x35)))  R=1 W=0 X=1 MT=WB IPAT=0 A=0 D=0  -> 4 KiB page $(hex $target)"
check demo/ept-walk-ro "$tmp/demo.out" "  => guest-physical $(hex $target) -> host-physical $(hex $target) (r-x)"
check demo/ept-walk-remap "$tmp/demo.out" "  => guest-physical $(hex $shown) -> host-physical $(hex $secret) (rwx)"
# ept dump: the read-only page and the remapped one, each a range of its
# own; the last range runs to the end of the identity-mapped GiB
check demo/dump-ro "$tmp/demo.out" "$(hex12 $target)-$(hex12 $((target + 0xfff)))       1000  -> $(hex12 $target)  r-x WB"
check demo/dump-remap "$tmp/demo.out" "$(hex12 $shown)-$(hex12 $((shown + 0xfff)))       1000  -> $(hex12 $secret)  rwx WB"
check demo/dump-end "$tmp/demo.out" "-0x00003fffffff "
check demo/vmcs-addr "$tmp/demo.out" "vmcs: the region at 0x1000 has revision id"
check demo/invept "$tmp/demo.out" "stopped: Breakpoint 3: INVEPT type 1 executed at"
check demo/invept-sym "$tmp/demo.out" "<test_demo+"
check demo/vmx-insn "$tmp/demo.out" "stopped: Breakpoint 4: VMRESUME executed at"
check demo/trace-violation "$tmp/demo.out" "         1  exit 48 EPT violation                        demo_write_at"
check demo/trace-vmcall "$tmp/demo.out" "         1  exit 18 VMCALL                               demo_write_at"
check demo/trace-invept "$tmp/demo.out" "         1  INVEPT type 1 single-context"
check demo/trace-range "$tmp/demo.out" \
    "         1  EPT violation $(hex $((target & ~0x1fffff)))-$(hex $(((target & ~0x1fffff) + 0x1fffff)))"
n=$(sed -n '/^trace counts at exit:/,$p' "$tmp/demo.out" | grep -cE '^ +[0-9]+  exit [0-9]+ ')
[ "$n" = 2 ] && echo "PASS demo/trace-exits" || echo "FAIL demo/trace-exits: $n kinds of exit, expected 2"
check demo/guest-ok "$tmp/demo.out" "trace counts at exit:"
# vmx_run is called twice: VMLAUNCH, then VMRESUME
check demo/trace-call-set "$tmp/demo.out" "Trace 1: counting hits at 0x"
n=$(sed -n '/^trace counts at exit:/,$p' "$tmp/demo.out" | sed -n 's/^1 .* <vmx_run> *\([0-9]*\)$/\1/p')
[ "$n" = 2 ] && echo "PASS demo/trace-call" || echo "FAIL demo/trace-call: vmx_run counted '$n' times, want 2"

# ept step from the first VM entry: the guest's first instruction reads
# 'shown' through the EPT entry that maps it onto 'secret'
cat > "$tmp/step" <<CMDS
symbols $demo64
break vmentry
continue
ept step
quit
CMDS
run "$demo" "$tmp/step" "$tmp/step.out"
check demo/step-walk "$tmp/step.out" "guest-physical $(hex $shown): the access itself (read) for linear $(hex $shown)"
check demo/step-remap "$tmp/step.out" "  => guest-physical $(hex $shown) -> host-physical $(hex $secret) (rwx)"
check demo/step-sets-a "$tmp/step.out" "(sets A)"
check demo/step-stop "$tmp/step.out" "stopped: ept step: translated at guest-physical"

# ---- vmx_shadow: a VMCS that is not current, read from memory ----
shadow=$build/guest/vmx_shadow.elf
shadow64=$build/guest/t64/vmx_shadow.elf64
vmcs_b=$(hex $(( 0x$(sym "$shadow64" vmx_vmcs_b) )))
cat > "$tmp/shadow" <<CMDS
break vmexit vmread
continue
vmcs $vmcs_b guest_rip guest_rflags
quit
CMDS
run "$shadow" "$tmp/shadow" "$tmp/shadow.out"
check shadow/region "$tmp/shadow.out" "VMCS $vmcs_b: not current, read from its region in memory (nest86's format): revision 0xe86e (shadow VMCS), clear"
# the guest's shadowed VMWRITE of RFLAGS went there (vmx_shadow.c)
check shadow/rip "$tmp/shadow.out" "  GUEST_RIP                      681e  guest   64  0x0000000000001234"
check shadow/rflags "$tmp/shadow.out" "  GUEST_RFLAGS                   6820  guest   64  0x0000000000000246"

# ---- vmx_ept: an EPT misconfiguration, with its cause ----
ept=$build/guest/vmx_ept.elf
ept64=$build/guest/t64/vmx_ept.elf64
page_a=$(hex $(( 0x$(sym "$ept64" page_a) + 0x18 )))
cat > "$tmp/misconfig" <<CMDS
break ept-misconfig
continue
quit
CMDS
run "$ept" "$tmp/misconfig" "$tmp/misconfig.out"
check misconfig/stop "$tmp/misconfig.out" \
    "stopped: Breakpoint 1: VM exit 49 (EPT misconfiguration), qualification 0x0, guest-physical $page_a, guest rip"
check misconfig/why "$tmp/misconfig.out" ": EPT entry writable but not readable (SDM 28.2.3.1)"

# ---- vmx_entry ----
timeout 60 "$NEST86" -kernel "$entry" -serial none -display none -no-reboot -d vmx,stats \
    -D "$tmp/entry.trace" < /dev/null > /dev/null 2>&1
fails=$(grep -c "vmx: VM entry failed" "$tmp/entry.trace")
{
    echo "symbols $entry64"
    echo "break vmentry-fail"
    for _ in $(seq "$fails"); do echo continue; done
    echo "info breakpoints"
    echo quit
} > "$tmp/fail"
run "$entry" "$tmp/fail" "$tmp/fail.out"
check entry/vmfail "$tmp/fail.out" \
    "stopped: Breakpoint 1: VM entry failed (VMfailValid 7: VM entry with invalid control field(s)): pin-based controls outside IA32_VMX_TRUE_PINBASED_CTLS (SDM 26.2.1.1), at"
check entry/host "$tmp/fail.out" \
    "VM entry failed (VMfailValid 8: VM entry with invalid host-state field(s)): host CR0 outside IA32_VMX_CR0_FIXED0/1 (SDM 26.2.2)"
check entry/guest "$tmp/fail.out" \
    "VM entry failed (exit reason 33, VM-entry failure due to invalid guest state): guest CR0 outside IA32_VMX_CR0_FIXED0/1 (SDM 26.3.1.1)"
check_count entry/every-failure "$tmp/fail.out" "stopped: Breakpoint 1: VM entry failed" "$fails"
check entry/hits "$tmp/fail.out" "failed VM entry        $fails"

# two reasons at once: CPUID (10) and HLT (12), in that order
cat > "$tmp/multi" <<CMDS
symbols $entry64
break vmexit cpuid hlt
continue
continue
quit
CMDS
run "$entry" "$tmp/multi" "$tmp/multi.out"
check entry/multi-set "$tmp/multi.out" "Breakpoint 1: VM exits 10 (CPUID) 12 (HLT)"
check entry/multi-cpuid "$tmp/multi.out" "stopped: Breakpoint 1: VM exit 10 (CPUID)"
check entry/multi-hlt "$tmp/multi.out" "stopped: Breakpoint 1: VM exit 12 (HLT)"

# trace vmexit counts every exit -d stats counts
cat > "$tmp/trace" <<CMDS
symbols $entry64
trace vmexit
continue
CMDS
run "$entry" "$tmp/trace" "$tmp/trace.out"
stats=$(grep -o "stats: [0-9]* VM entries, [0-9]* VM exits: .*" "$tmp/entry.trace" | sed 's/.*VM exits: //')
if [ -z "$stats" ]; then
    echo "FAIL trace/stats: no VM exit counts in -d stats"
else
    bad=0
    IFS=, read -ra parts <<< "$stats"
    for p in "${parts[@]}"; do
        p=${p# }
        name=${p% *}
        n=${p##* }
        got=$(awk -v name="$name" '
            $2 == "exit" { r = ""; for (i = 4; i <= NF; i++) { if ($i ~ /^(g_|test_|-|\?|vmx_)/) break; r = r (r == "" ? "" : " ") $i }
                           if (r == name) s += $1 }
            END { print s + 0 }' "$tmp/trace.out")
        [ "$got" = "$n" ] || { echo "FAIL trace/stats: $name: trace vmexit counted $got, -d stats $n"; bad=1; }
    done
    [ $bad = 0 ] && echo "PASS trace/stats"
fi
