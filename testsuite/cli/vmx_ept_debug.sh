#!/usr/bin/env bash
# testsuite/cli/vmx_ept_debug.sh — what nest86 shows of EPT: `-d vmx`
# logs EPT-violation exits with their qualification and, for an EPT
# misconfiguration, the entry's fault by name; the debugger's `walk` in
# an EPT guest ends in the EPT violation the access would cause.  Runs
# the vmx_ept guest kernel (testsuite/guest/vmx_ept.c), whose exits are
# known.
#
# Sub-tests (testsuite/run protocol): trace/*, walk/*.
set -u
. "${NEST86_ROOT:-.}/testsuite/vmx_cli.sh"
. "${NEST86_ROOT:-.}/testsuite/missing.sh"
vmx_cli_setup vmx_ept
command -v nm >/dev/null || missing walk/violation "no nm (binutils)"

sym() { nm "$elf64" | awk -v n="$1" '$3 == n { print $1 }'; }
page_a=$(printf '0x%x' $(( 0x$(sym page_a) + 0x18 )))
g_read=$(printf '0x%x' $(( 0x$(sym g_read_at) )))

timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot \
    -d vmx -D "$tmp/trace" < /dev/null > /dev/null 2>&1
check trace/violation "$tmp/trace" "VM exit 48 (EPT violation) qualification 0x581 at guest rip $g_read"
check trace/misconfig "$tmp/trace" \
    "vmx: EPT misconfiguration at guest-physical $page_a: EPT entry writable but not readable (SDM 28.2.3.1)"
check trace/misconfig-exit "$tmp/trace" "VM exit 49 (EPT misconfiguration) qualification 0x0 at guest rip $g_read"
check trace/invept "$tmp/trace" "vmx: INVEPT type 2"

# stopped in the guest at the read test_read_not_present makes fail (the
# third time the guest reaches g_read_at): the walk goes through the
# guest's tables and ends in the EPT violation
cat > "$tmp/cmds" <<CMDS
symbols $elf64
break g_read_at
continue
continue
continue
walk page_a+0x18
walk g_read_at x
quit
CMDS
timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot -S \
    -x "$tmp/cmds" < /dev/null > "$tmp/out" 2>&1
check walk/violation "$tmp/out" \
    "=> EPT violation at guest-physical $(printf '0x%016x' "$page_a"): exit qualification 0x581"
check walk/fetch "$tmp/out" "=> host-physical $(printf '0x%016x' "$g_read")"
