#!/usr/bin/env bash
# testsuite/cli/accel.sh — the execution engines (-accel, cpu/copyrun.h)
# against each other: every 64-bit guest kernel (lm64_*, vmx_*, la57)
# runs threaded, with copied runs as configured by default, with every
# block's runs copied on its first visit (heat=1, so that the short
# kernels run copies too), and so in an arena so small that it fills and
# is emptied again and again.
# The four must end with the same exit status, print the same console
# output and retire the same number of instructions: copying runs must
# change how fast the guest runs and nothing else.
#
# Sub-tests (testsuite/run protocol): accel/KERNEL for each kernel, then
# copies (heat=1 copied runs, the threaded engine none),
# flushes (the small arena was emptied), stripped (a binary without
# symbols says it runs threaded, and does), bad-option (a bad -accel is
# a usage error, exit status 2).
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-build}
. "$root/testsuite/missing.sh"
. "$root/testsuite/stats_field.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

kernels=()
for k in "$build"/guest/lm64_*.elf "$build"/guest/vmx_*.elf "$build"/guest/la57.elf; do
    [ -f "$k" ] && kernels+=("$k")
done
[ ${#kernels[@]} -gt 0 ] || missing accel/kernels "no 64-bit guest kernels in $build/guest"

# run ENGINE KERNEL OUT: console in OUT.out, stats in OUT.err, status in OUT.st
run() {
    local -a extra=()
    [ -f "$2.args" ] && read -r -a extra < "$2.args"
    timeout 120 "$NEST86" -accel "$1" -kernel "$2" -serial stdio -display none -no-reboot \
        -d stats "${extra[@]}" < /dev/null > "$3.out" 2> "$3.err"
    echo $? > "$3.st"
}

copied=0 threaded_copied=0 flushes=0
for k in "${kernels[@]}"; do
    name=$(basename "$k" .elf)
    run threaded "$k" "$tmp/t"
    run copy "$k" "$tmp/d"
    run copy,heat=1 "$k" "$tmp/c"
    run copy,heat=1,arena=64K "$k" "$tmp/s"
    why=""
    for e in d c s; do
        [ "$(cat "$tmp/t.st")" = "$(cat "$tmp/$e.st")" ] ||
            why="$why exit status $(cat "$tmp/t.st") threaded, $(cat "$tmp/$e.st") with $e;"
        cmp -s "$tmp/t.out" "$tmp/$e.out" ||
            why="$why console differs ($e): $(diff "$tmp/t.out" "$tmp/$e.out" | head -3 | tr '\n' '|');"
        a=$(field "$tmp/t.err" 'instructions retired')
        b=$(field "$tmp/$e.err" 'instructions retired')
        [ -n "$a" ] && [ "$a" = "$b" ] || why="$why $a instructions threaded, $b with $e;"
    done
    if [ -z "$why" ]; then
        echo "PASS accel/$name"
    else
        echo "FAIL accel/$name:$why"
    fi
    copied=$((copied + $(field "$tmp/c.err" 'runs copied' || echo 0)))
    threaded_copied=$((threaded_copied + $(field "$tmp/t.err" 'runs copied' || echo 0)))
    flushes=$((flushes + $(field "$tmp/s.err" 'arena flushes' || echo 0)))
done

if [ "$copied" -gt 0 ] && [ "$threaded_copied" -eq 0 ]; then
    echo "PASS accel/copies"
else
    echo "FAIL accel/copies: $copied runs copied by default, $threaded_copied threaded"
fi
if [ "$flushes" -gt 0 ]; then
    echo "PASS accel/flushes"
else
    echo "FAIL accel/flushes: a 64 KiB arena was never emptied"
fi
# without a symbol table nothing can be copied: it says so and runs threaded
strip -o "$tmp/stripped" "$NEST86" 2> /dev/null || cp "$NEST86" "$tmp/stripped"
run threaded "${kernels[0]}" "$tmp/t0"
"$tmp/stripped" -kernel "${kernels[0]}" -serial stdio -display none -no-reboot -d stats \
    < /dev/null > "$tmp/st.out" 2> "$tmp/st.err"
st=$?
if [ $st -eq "$(cat "$tmp/t0.st")" ] && grep -q '^nest86: -accel copy: .*symbol table.*; running threaded$' "$tmp/st.err" &&
    [ "$(field "$tmp/st.err" 'runs copied')" = 0 ]; then
    echo "PASS accel/stripped"
else
    echo "FAIL accel/stripped: exit status $st, said: $(grep -v '^stats' "$tmp/st.err" | head -2 | tr '\n' '|')"
fi
"$NEST86" -accel jit -kernel "${kernels[0]}" -display none < /dev/null > /dev/null 2> "$tmp/bad"
st=$?
if [ $st -eq 2 ] && grep -q "unknown engine 'jit'" "$tmp/bad"; then
    echo "PASS accel/bad-option"
else
    echo "FAIL accel/bad-option: exit status $st, said: $(head -1 "$tmp/bad")"
fi
