#!/usr/bin/env bash
# testsuite/integration/difftest.sh — the differential tester with a
# fixed seed, so `make check` is reproducible: random user-mode integer
# and SIMD instruction sequences run on the host CPU and in nest86,
# compared register by register, flag by flag and byte by byte.  One
# result line per form group.  testsuite/difftest/README.md explains the
# tool; `make fuzz-cpu` runs it longer with a random seed.
#
# First it checks itself: a run whose host side fails must fail, or a
# broken oracle would leave a green `make check` with nothing compared.
set -u
bin=${NEST86_BUILD:-build}/difftest
. "$(dirname "$0")/../missing.sh"
[ -x "$bin" ] || missing difftest "build/difftest is not built"
case $(uname -m) in
x86_64) ;;
*) echo "the host CPU is not x86-64: no oracle"; exit 77 ;;
esac

# selfcheck NAME EVERY OPTIONS EXPECTED-LINE...: with every EVERY-th
# host run made to fail (DIFFTEST_FAKE_HOST_ERROR), the tester run with
# OPTIONS (words) must exit non-zero and print each expected line.
selfcheck() {
    local name=$1 every=$2 opts=$3 out status
    shift 3
    # shellcheck disable=SC2086 # OPTIONS is a list of words
    out=$(DIFFTEST_FAKE_HOST_ERROR=$every "$bin" --seed 1 --count 200 $opts 2>&1)
    status=$?
    if [ "$status" -eq 0 ]; then
        echo "FAIL selfcheck-$name: the tester exited 0 although 1 host run in $every failed"
        return
    fi
    for want in "$@"; do
        if ! grep -q "^$want" <<<"$out"; then
            echo "FAIL selfcheck-$name: no line '$want' in its output"
            return
        fi
    done
    echo "PASS selfcheck-$name"
}
selfcheck all-host-runs-fail 1 "" "FAIL host-runs:" "FAIL compared:"
# random sequences only, so the count is 200 / 20 whatever the number of
# fixed cases
selfcheck some-host-runs-fail 20 --no-fixed "FAIL host-runs: 10 host-side runs failed"

exec "$bin" --seed 1 --count 400000
