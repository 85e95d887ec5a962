# testsuite/missing.sh — sourced by test scripts (cli/, integration/):
# what it means when something that `make check` installs, fetches or
# builds is not there (gdb, python3, Debian's kernel, a guest kernel,
# build/san/nest86, ...).
#
# A test that cannot run has tested nothing, so by default that is a
# failure: a machine that fails to fetch Debian's kernel must not boot
# no Linux at all and still end green.  Working offline on purpose, set
# NEST86_ALLOW_SKIP=1 to make it a skip instead; under CI (CI=true) it
# is a failure whatever NEST86_ALLOW_SKIP says.  (What can never be had
# on the machine, e.g. an x86-64 oracle on another host, stays a plain
# skip and does not come here.)
#
# missing NAME WHY: prints "FAIL NAME: WHY" and exits 1, or
# "SKIP NAME: WHY" and exits 77 (testsuite/run's skip status).
missing() {
    if [ "${NEST86_ALLOW_SKIP:-0}" = 1 ] && [ "${CI:-}" != true ]; then
        echo "SKIP $1: $2 (NEST86_ALLOW_SKIP=1)"
        exit 77
    fi
    echo "FAIL $1: $2 (make check should have provided it; NEST86_ALLOW_SKIP=1 makes this a skip outside CI)"
    exit 1
}
