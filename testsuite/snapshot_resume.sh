# testsuite/snapshot_resume.sh — sourced by the exact-resume tests
# (integration/snapshot_linux, integration/snapshot_kvm): the checks
# that a run resumed from a snapshot is the run that saved it.
#
#   resume_checks DIR   with DIR/out1 (run 1's stdout: console and the
#       debugger's transcript), DIR/stats1 (its -d stats), DIR/out2,
#       DIR/err2, DIR/stats2 (run 2's, resumed with -loadvm): sub-tests
#       serial (run 2's console is everything run 1 printed after the
#       `continue` that follows its "saved the machine to" line — the
#       console is flushed at every stop — byte for byte) and icount
#       (both retired the same number of instructions), through the
#       caller's pass and fail

#   save_and_resume DIR SNAP   runs the caller's "${machine[@]}"
#       "${boot[@]}" with the debugger script DIR/save.x (which saves
#       to SNAP), then "${machine[@]}" -loadvm SNAP: stdout, stderr and
#       -d stats in DIR/out1, err1, stats1 and out2, err2, stats2; exit
#       statuses in status1 and status2

save_and_resume() {
    "$NEST86" "${machine[@]}" "${boot[@]}" -D "$1/stats1" -x "$1/save.x" \
        > "$1/out1" 2> "$1/err1" < /dev/null
    status1=$?
    "$NEST86" "${machine[@]}" -loadvm "$2" -D "$1/stats2" \
        > "$1/out2" 2> "$1/err2" < /dev/null
    status2=$?
}

resume_checks() {
    local d=$1 n1 n2
    python3 - "$d/out1" "$d/after1" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'saved the machine to ')
mark = b'(nest86) continue\n'
at = data.find(mark, at) if at >= 0 else -1
open(sys.argv[2], 'wb').write(data[at + len(mark):] if at >= 0 else b'')
sys.exit(0 if at >= 0 else 1)
EOF
    if [ $? -ne 0 ]; then
        fail serial "run 1 has no '(nest86) continue' line after its savevm"
    elif [ ! -s "$d/out2" ]; then
        fail serial "the resumed run printed nothing: $(tail -n 1 "$d/err2")"
    elif cmp -s "$d/after1" "$d/out2"; then
        pass serial
    else
        fail serial "the resumed run's console differs from the original's after the save point ($(wc -c < "$d/after1") against $(wc -c < "$d/out2") bytes; first difference: $(cmp "$d/after1" "$d/out2" 2>&1 | head -n 1))"
    fi
    n1=$(sed -n 's/^stats: \([0-9]*\) instructions retired.*/\1/p' "$d/stats1")
    n2=$(sed -n 's/^stats: \([0-9]*\) instructions retired.*/\1/p' "$d/stats2")
    if [ -n "$n1" ] && [ "$n1" = "$n2" ]; then
        pass icount
    else
        fail icount "instructions retired: original '$n1', resumed '$n2'"
    fi
}
