# testsuite/guest_console.sh — sourced by the integration tests that
# drive a Linux guest's VGA console through nest86's GDB stub
# (linux_display, linux_vesafb, linux_bochs_drm).  They set pid (nest86's), port (its
# -gdb port) and gdb_out (where the debugger's output goes), and define
# pass and fail.

# wait_for FILE TEXT SECONDS: true once FILE holds TEXT (false when
# nest86 ended first or the time ran out)
wait_for() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qa -- "$2" "$1" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# debugger COMMANDS...: gdb stops the machine through the stub, runs
# each as `monitor COMMAND` and detaches, which resumes it
debugger() {
    local args=() c
    for c in "$@"; do args+=(-ex "monitor $c"); done
    timeout 120 gdb -batch -nx -ex "target remote 127.0.0.1:$port" "${args[@]}" -ex detach \
        >> "$gdb_out" 2>&1 < /dev/null
}

# poweroff_typed: types `poweroff -f` into the shell and checks that
# nest86 ends with status 0 (sub-test "poweroff")
poweroff_typed() {
    local i status
    debugger 'type poweroff -f\n'
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail poweroff "still running 30 s after 'poweroff -f' was typed"
        return
    fi
    wait "$pid"
    status=$?
    pid=
    [ "$status" = 0 ] && pass poweroff || fail poweroff "exit status $status, want 0"
}

# console_test_begin AREA NAME: the set-up of a generic-kernel console
# test (linux_vesafb, linux_bochs_drm), once root, NEST86 and build are
# set: Debian's kernels fetched, gdb present (else a missing-package
# FAIL), and serial (build/test-logs/NAME.serial.log), tmp, pid (killed
# at exit), failures, pass, fail and gdb_out defined for AREA's sub-tests
console_test_begin() {
    area=$1
    local logdir=$build/test-logs
    mkdir -p "$logdir"
    [ -x "$NEST86" ] || { echo "FAIL $area/boot: no $NEST86 (run make)"; exit 1; }
    . "$root/testsuite/missing.sh"
    command -v gdb >/dev/null || missing "$area/boot" "gdb is not installed (scripts/deps.sh installs it)"
    local fetch_err
    if ! fetch_err=$("$root/scripts/linux-fetch.sh" --quiet 2>&1); then
        missing "$area/boot" "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
    fi
    serial=$logdir/$2.serial.log
    tmp=$(mktemp -d)
    pid=
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
    failures=0
    gdb_out=$tmp/gdb.out
    pass() { echo "PASS $area/$1"; }
    fail() { echo "FAIL $area/$1: $2"; failures=$((failures + 1)); }
}
