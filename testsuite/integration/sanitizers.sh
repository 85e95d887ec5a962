#!/usr/bin/env bash
# testsuite/integration/sanitizers.sh — nest86 built with AddressSanitizer
# and UBSan (build/san/nest86, `make check` builds it) runs every guest
# test kernel and boots Debian's cloud kernel to its init and power-off.
# Each must end as it does on the normal build, with no sanitizer report:
# an out-of-bounds access or undefined behaviour anywhere in the CPU,
# MMU, devices or loaders fails the test that reached it.
#
# Sub-tests: san/guest/NAME (through testsuite/run with NEST86_BIN, so
# the same expected statuses apply), san/snapshot/NAME (the snapshot
# loader fed bad and mutated files, cli/snapshot_errors.sh), san/linux.
#
# The sanitizers' exit statuses are moved off 1, which is a guest
# kernel's "pass" status (ASan 99, UBSan 98, at the first report).  Leak
# detection is on: the machine frees what it allocated when it ends.
set -u
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
san=$build/san/nest86
logs=$build/test-logs/san
mkdir -p "$logs"

. "$root/testsuite/missing.sh"
if [ ! -x "$san" ]; then
    missing san/guest "$san is not built"
fi

export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1

# The guest kernels, through the runner: its PASS/FAIL lines are renamed
# san/guest/NAME and its count line is dropped.  ASan makes nest86 a few
# times slower, hence the timeout scale.
NEST86_BIN=$san NEST86_LOGS=$logs NEST86_TIMEOUT_SCALE=5 \
    "$root/testsuite/run" -k guest/ |
    sed -n 's#^\(PASS\|FAIL\|SKIP\) guest/#\1 san/guest/#p; s#^    | #    | #p'

# The snapshot loader on bad, random and mutated files
# (cli/snapshot_errors), its results named san/snapshot/...
NEST86="$san" SNAPSHOT_TEST_PREFIX=san/ "$root/testsuite/cli/snapshot_errors.sh" 2> "$logs/snapshot.err"

# Debian's cloud kernel (scripts/linux-fetch.sh, as in linux_boot.sh).
if ! fetch_err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing san/linux "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
fi
err=$logs/linux.err
timeout 600 "$san" -m 512M -kernel "$build/linux/vmlinuz-cloud" -initrd "$build/linux/initrd.img" \
    -append "console=ttyS0 quiet nest86.poweroff" -serial none -display none -no-reboot \
    < /dev/null > "$logs/linux.out" 2> "$err"
status=$?
if [ $status -eq 0 ] && ! grep -q 'Sanitizer\|runtime error' "$err"; then
    echo "PASS san/linux"
else
    echo "FAIL san/linux: exit status $status (expected 0, power-off); see $err"
    tail -n 15 "$err" | sed 's/^/    | /'
fi
