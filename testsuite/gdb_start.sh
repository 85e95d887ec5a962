# testsuite/gdb_start.sh — sourced by the GDB-stub integration tests:
# gdb_start KERNEL starts nest86 -S -gdb on a free port (a few tries, in
# case one is taken) with its output in $tmp/nest86.out and .err, and
# leaves the port in $port and the process in $pid; false when it never
# listened.
gdb_start() {
    local kernel=$1 try
    for try in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM % 30000)))
        timeout 60 "$NEST86" -kernel "$kernel" -serial none -no-reboot -S -gdb "tcp::$port" \
            > "$tmp/nest86.out" 2> "$tmp/nest86.err" < /dev/null &
        pid=$!
        for _ in $(seq 50); do
            grep -q "listening on 127.0.0.1:$port" "$tmp/nest86.err" && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        wait "$pid" 2>/dev/null
        pid=
    done
    return 1
}
