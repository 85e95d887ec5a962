#!/usr/bin/env bash
# testsuite/integration/linux_boot.sh — a Debian kernel booted to a
# busybox shell on the serial console (kernel and initramfs from
# scripts/linux-fetch.sh), then driven like a user would: uname -a,
# /proc/cpuinfo, /proc/interrupts (the timer and the serial port must
# have counted interrupts), and `poweroff -f`, which must end nest86
# with status 0 through ACPI S5.
#
# LINUX_FLAVOUR=cloud (default: linux-image-cloud-amd64, tests named
# linux/...) or generic (linux-image-amd64, tests named linux-generic/...;
# linux_boot_generic.sh).  Sub-tests (testsuite/run protocol): boot,
# uname, cpuinfo, msr (no "unchecked MSR access" in dmesg, no
# arch_perfmon), vulnerabilities (the CPU reported unaffected),
# interrupts, poweroff.  A failure names the console log.
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
logdir=$build/test-logs
mkdir -p "$logdir"
flavour=${LINUX_FLAVOUR:-cloud}
case $flavour in
cloud) tag=linux; fetch_opt=--cloud-only ;;
generic) tag=linux-generic; fetch_opt= ;;
*) echo "FAIL $tag/boot: unknown LINUX_FLAVOUR '$flavour'"; exit 1 ;;
esac
console=$logdir/${tag}_boot.console.log
stderr_log=$logdir/${tag}_boot.nest86.err
BOOT_TIMEOUT=${LINUX_BOOT_TIMEOUT:-240}   # guest boot to the shell, host seconds
CMD_TIMEOUT=60

[ -x "$NEST86" ] || { echo "FAIL $tag/boot: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"

if ! fetch_err=$("$root/scripts/linux-fetch.sh" $fetch_opt --quiet 2>&1); then
    missing "$tag/boot" "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-$flavour
initrd=$build/linux/initrd.img

tmp=$(mktemp -d)
fifo=$tmp/console.in
mkfifo "$fifo"
pid=
cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 quiet" \
    -serial stdio -display none -no-reboot < "$fifo" > "$console" 2> "$stderr_log" &
pid=$!
exec 3> "$fifo"

alive() { kill -0 "$pid" 2>/dev/null; }
status=
# reap: the exit status once nest86 has ended.
reap() { [ -n "$status" ] || { wait "$pid"; status=$?; }; }

# wait_for PATTERN SECONDS: 0 when the console shows PATTERN (an
# extended regex), 1 when nest86 ended first, 2 on timeout.
wait_for() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        grep -Eq -- "$1" "$console" 2>/dev/null && return 0
        if ! alive; then
            grep -Eq -- "$1" "$console" 2>/dev/null && return 0
            return 1
        fi
        sleep 0.5
    done
    return 2
}

last_line() { tr -d '\r' < "$console" | grep -v '^[[:space:]]*$' | tail -n 1; }

# The features the x86-64 kernel's verify_cpu insists on before it prints
# anything (arch/x86/include/asm/required-features.h).
missing_features() {
    local have miss= f
    have=$("$NEST86" -cpu help 2>&1)
    for f in fpu pse tsc msr pae cx8 pge cmov fxsr sse sse2 lm; do
        grep -qw "$f" <<< "$have" || miss="$miss $f"
    done
    echo "${miss# }"
}

# Known CPU bugs that stop the boot, matched precisely on the verbose
# console's last line and nest86's message, so make check stays green
# until cpu/ fixes them.  One row per issue: LAST-LINE-ERE|NEST86-ERE|WHY.
# Delete a row when its bug is fixed.
known_issues=()

# The quiet console says little: boot once more with every message and
# use that log to explain the failure.
verbose_log=$logdir/${tag}_boot.verbose.log
verbose_boot() {
    timeout "$BOOT_TIMEOUT" "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 earlyprintk=ttyS0 loglevel=7" -serial stdio -display none -no-reboot \
        < /dev/null > "$verbose_log" 2> "$verbose_log.err"
}

# Why the boot stopped, and whether that is a listed known issue.
boot_failed() {
    local why=$1 miss text vlast verr row
    text=$(tr -d '\r' < "$console")
    if [ -n "$status" ]; then
        verbose_boot
        text="$text"$'\n'"$(tr -d '\r' < "$verbose_log")"
        vlast=$(tr -d '\r' < "$verbose_log" | grep -v '^[[:space:]]*$' | tail -n 1)
        verr=$(tail -n 1 "$verbose_log.err")
        for row in "${known_issues[@]}"; do
            IFS='|' read -r re_line re_err row_why <<< "$row"
            if [[ $vlast =~ $re_line ]] && [[ $verr =~ $re_err ]]; then
                echo "SKIP $tag/boot: $row_why (console: '${vlast#*] }'; $verr)"
                exit 77
            fi
        done
    fi
    # The CPU advertises every feature Debian's kernel requires, so a
    # refusal is a regression: a failure, not a skip.
    if grep -q 'This kernel requires the following features not present on the CPU' <<< "$text"; then
        echo "FAIL $tag/boot: $(grep -A1 'This kernel requires the following features' <<< "$text" | tr '\n' ' ')"
        exit 1
    fi
    miss=$(missing_features)
    if [ -n "$status" ] && [ "$status" -eq 6 ] && [ -z "$(tr -d '[:space:]' <<< "$text")" ] &&
        [ -n "$miss" ]; then
        echo "FAIL $tag/boot: the CPU lacks features the kernel requires ($miss): its verify_cpu halts before any console output"
        exit 1
    fi
    echo "FAIL $tag/boot: $why; last console line: '${vlast:-$(last_line)}'; nest86: '$(tail -n 1 "$stderr_log")'; console logs: $console $verbose_log"
    exit 1
}

wait_for 'NEST86_LINUX_UP' "$BOOT_TIMEOUT"
case $? in
0) echo "PASS $tag/boot" ;;
1) reap; boot_failed "nest86 exited with status $status before the shell" ;;
*) boot_failed "no shell within $BOOT_TIMEOUT s" ;;
esac

failures=0
# run NAME COMMAND: types COMMAND, then waits for an end marker that only
# the shell's output (not the echoed input) contains; the output between
# the two is left in $tmp/NAME.
run() {
    local name=$1 cmd=$2 n
    n=$RANDOM
    printf '%s; echo END_%s_$((%s+1))\n' "$cmd" "$name" "$n" >&3
    if ! wait_for "END_${name}_$((n + 1))" "$CMD_TIMEOUT"; then
        echo "FAIL $tag/$name: no answer to '$cmd' within $CMD_TIMEOUT s; console log: $console"
        failures=$((failures + 1))
        return 1
    fi
    tr -d '\r' < "$console" | awk -v start="END_${name}_\$((" -v end="END_${name}_$((n + 1))" '
        index($0, start) { on = 1; next }
        $0 == end { on = 0 }
        on' > "$tmp/$name"
    return 0
}

if run uname 'uname -a'; then
    if grep -q '^Linux .*x86_64' "$tmp/uname"; then echo "PASS $tag/uname"
    else echo "FAIL $tag/uname: unexpected '$(head -n 1 "$tmp/uname")'; console log: $console"; failures=$((failures + 1)); fi
fi

if run cpuinfo 'cat /proc/cpuinfo'; then
    if grep -q '^processor' "$tmp/cpuinfo" && grep -q '^flags' "$tmp/cpuinfo"; then echo "PASS $tag/cpuinfo"
    else echo "FAIL $tag/cpuinfo: no processor/flags lines; console log: $console"; failures=$((failures + 1)); fi
fi

# A plain RDMSR/WRMSR (not a _safe one) of an MSR nest86 lacks #GPs, and
# Linux's fixup logs "unchecked MSR access error": the kernel trusted
# CPUID about an MSR it does not have. And no PMU (docs/platform.md):
# CPUID leaf 0xA must not make Linux report arch_perfmon.
if run msr 'dmesg'; then
    if grep -q 'unchecked MSR access' "$tmp/msr"; then
        echo "FAIL $tag/msr: $(grep -m 1 'unchecked MSR access' "$tmp/msr"); console log: $console"
        failures=$((failures + 1))
    elif grep -qw 'arch_perfmon' "$tmp/cpuinfo" 2>/dev/null; then
        echo "FAIL $tag/msr: /proc/cpuinfo has arch_perfmon, but nest86 has no PMU; console log: $console"
        failures=$((failures + 1))
    elif ! grep -q 'Linux version' "$tmp/msr"; then
        echo "FAIL $tag/msr: no kernel log from dmesg; console log: $console"
        failures=$((failures + 1))
    else
        echo "PASS $tag/msr"
    fi
fi

# IA32_ARCH_CAPABILITIES (docs/platform.md "Speculation control"): the
# kernel must read it and find the CPU unaffected, so it runs without
# page-table isolation (Meltdown), buffer clearing (MDS, MMIO stale
# data) and ITS thunks, and with enhanced IBRS instead of retpolines.
if run vulns 'grep . /sys/devices/system/cpu/vulnerabilities/*'; then
    bad=
    for v in meltdown:'Not affected' mds:'Not affected' mmio_stale_data:'Not affected' \
        l1tf:'Not affected' indirect_target_selection:'Not affected' \
        spec_store_bypass:'Not affected' spectre_v2:'Mitigation: Enhanced'; do
        grep -q "/${v%%:*}:${v#*:}" "$tmp/vulns" ||
            bad="$bad ${v%%:*}='$(grep "/${v%%:*}:" "$tmp/vulns" | sed 's/.*://')'"
    done
    if [ -z "$bad" ]; then echo "PASS $tag/vulnerabilities"
    else echo "FAIL $tag/vulnerabilities:$bad; console log: $console"; failures=$((failures + 1)); fi
fi

if run interrupts 'cat /proc/interrupts'; then
    # a line's first count column after "N:" or "LOC:"
    count() { awk -v re="$1" '$0 ~ re { print $2; exit }' "$tmp/interrupts"; }
    timer=$(count '^ *(0|LOC):.*(timer|Local timer)')
    serial=$(count 'ttyS0|serial')
    if [ "${timer:-0}" -gt 0 ] 2>/dev/null && [ "${serial:-0}" -gt 0 ] 2>/dev/null; then
        echo "PASS $tag/interrupts"
    else
        echo "FAIL $tag/interrupts: timer count '${timer:-none}', serial count '${serial:-none}'; console log: $console"
        failures=$((failures + 1))
    fi
fi

printf 'poweroff -f\n' >&3
deadline=$((SECONDS + CMD_TIMEOUT))
while alive && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
if alive; then
    echo "FAIL $tag/poweroff: still running $CMD_TIMEOUT s after poweroff -f; console log: $console"
    failures=$((failures + 1))
else
    reap
    if [ "$status" -eq 0 ]; then echo "PASS $tag/poweroff"
    else echo "FAIL $tag/poweroff: nest86 exit status $status, want 0; console log: $console"; failures=$((failures + 1)); fi
fi
pid=

exit $((failures ? 1 : 0))
