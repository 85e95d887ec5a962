# testsuite/kvm_boot.sh — sourced by the KVM integration tests
# (integration/linux_kvm, integration/linux_kvm_linux): boot Debian's
# cloud kernel in nest86 with one of the KVM initramfs images that
# scripts/linux-fetch.sh builds, and report sub-tests.
#
#   kvm_boot LOG LOAD MEM INITRD APPEND SECONDS [NEST86 ARGS...]
#       fetches what it needs (a failure is sub-test LOAD, through
#       `missing`), boots, and leaves the console in $console
#       ($logdir/LOG.console.log) and $console.txt (no CRs), nest86's
#       exit status in $status, its stderr in $logdir/LOG.err.  With
#       $kvm_debug_script set, the boot runs that debugger script (-x)
#       and the debugger's output goes to $debugger_log
#       ($logdir/LOG.debugger.log)
#   result NAME OK WHY   PASS NAME when OK is 1, else FAIL NAME: WHY
#   kvm_insmod_result NAME   the NEST86_KVM_INSMOD lines: all four 0
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
logdir=$build/test-logs
mkdir -p "$logdir"
. "$root/testsuite/missing.sh"

kvm_boot() {
    local test=$1 load=$2 mem=$3 initrd=$4 append=$5 seconds=$6 fetch_err
    shift 6
    console=$logdir/$test.console.log
    [ -x "$NEST86" ] || { echo "FAIL $load: no $NEST86 (run make)"; exit 1; }
    if ! fetch_err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
        missing "$load" "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
    fi
    local serial=stdio out=$console debug=()
    if [ -n "${kvm_debug_script:-}" ]; then
        debugger_log=$logdir/$test.debugger.log
        serial=file:$console out=$debugger_log debug=(-x "$kvm_debug_script")
    fi
    timeout "$seconds" "$NEST86" -m "$mem" -kernel "$build/linux/vmlinuz-cloud" \
        -initrd "$build/linux/$initrd" -append "$append" "${debug[@]}" \
        -serial "$serial" -display none -no-reboot "$@" < /dev/null > "$out" 2> "$logdir/$test.err"
    status=$?
    tr -d '\r' < "$console" > "$console.txt"
}

result() { # NAME OK WHY
    if [ "$2" = 1 ]; then echo "PASS $1"; else echo "FAIL $1: $3 (see $console)"; fi
}

kvm_insmod_result() { # NAME
    local bad n
    bad=$(grep '^NEST86_KVM_INSMOD' "$console.txt" | awk '$3 != 0 { print $2 " " $3 }' | tr '\n' ' ')
    n=$(grep -c '^NEST86_KVM_INSMOD' "$console.txt")
    result "$1" "$([ -z "$bad" ] && [ "$n" = 4 ] && echo 1)" "insmod failed: ${bad:-only $n modules tried}"
}
