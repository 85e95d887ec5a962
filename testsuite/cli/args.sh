#!/usr/bin/env bash
# testsuite/cli/args.sh — the command line as a user meets it: every bad
# command line exits 2 with one "nest86: ..." line naming the problem;
# -help and -version exit 0.  Only command lines that end during
# parsing are run here, so no machine is ever started.
#
# Prints one PASS/FAIL/SKIP line per case (testsuite/run protocol).

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}

if [ ! -x "$NEST86" ]; then
    echo "FAIL binary: no $NEST86 (run make)"
    exit 1
fi

failures=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failures=$((failures + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
readable=$tmp/readable
echo data > "$readable"
unreadable=$tmp/unreadable
echo data > "$unreadable"
chmod 000 "$unreadable"

RUN_AS=()   # a command prefix, e.g. to drop root privileges
run() {   # run ARGS...: sets status, out, err
    timeout 10 "${RUN_AS[@]}" "$NEST86" "$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
    status=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# bad NAME WANT ARGS...: status 2, exactly one stderr line "nest86: ..."
# that contains WANT.
bad() {
    local name=$1 want=$2
    shift 2
    run "$@"
    if [ $status -ne 2 ]; then
        fail "$name" "exit status $status, want 2 (args: $*)"
    elif [ "$(wc -l < "$tmp/err")" -ne 1 ] || [[ $err != "nest86: "* ]]; then
        fail "$name" "want one 'nest86: ...' line, got: $err"
    elif [[ $err != *"$want"* ]]; then
        fail "$name" "message does not mention '$want': $err"
    else
        pass "$name"
    fi
}

bad unknown-flag "'-bogus'" -bogus
bad unknown-double-dash "'--bogus'" --bogus
bad stray-argument "'disk.img'" disk.img
bad missing-argument "needs an argument" -m
bad missing-argument-kernel "-kernel" -kernel
bad size-zero "must not be zero" -m 0
bad size-garbage "not a size" -m lots
bad size-too-large "too large" -m 2T
bad size-too-small "too small" -m 512K
bad kernel-missing "$tmp/nope" -kernel "$tmp/nope"
bad kernel-directory "not a regular file" -kernel "$tmp"
if [ "$(id -u)" -eq 0 ]; then
    # root reads files whatever their mode says: check as an unprivileged user
    chmod 755 "$tmp"
    RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    bad kernel-unreadable "Permission denied" -kernel "$unreadable"
    RUN_AS=()
else
    bad kernel-unreadable "Permission denied" -kernel "$unreadable"
fi
bad initrd-missing "$tmp/nope" -kernel "$readable" -initrd "$tmp/nope"
bad initrd-without-kernel "-initrd needs -kernel" -initrd "$readable"
bad append-without-kernel "-append needs -kernel" -append quiet
bad script-missing "$tmp/nope" -x "$tmp/nope"
bad serial-bad "'telnet'" -serial telnet
bad serial-empty-file "file:" -serial file:
bad display-bad "'gtk'" -display gtk
bad vga-bad "'cirrus'" -vga cirrus
bad gdb-syntax "tcp::PORT" -gdb 1234
bad gdb-port-zero "bad port" -gdb tcp::0
bad gdb-port-large "bad port" -gdb tcp::70000
bad gdb-port-garbage "bad port" -gdb tcp::12ab
bad trace-category "'bogus'" -d int,bogus
bad trace-lists-valid "int, exec, cpu, mmu, io" -d everything
bad trace-file-empty "empty file name" -D ""
bad cpu-model "'pentium'" -cpu pentium
bad cpu-feature "'vmx=yes'" -cpu max,vmx=yes

if grep -q '^#define CONFIG_SDL 0' "$root/config.h" 2>/dev/null; then
    bad display-sdl-headless "without SDL" -display sdl
fi
# -display sdl itself: cli/display

run -version
if [ $status -eq 0 ] && [[ $out == "nest86 version "[0-9]* ]]; then
    pass version
else
    fail version "status $status, output: $out"
fi

# -cpu help: the models and every row of cpu/features.def, status 0
run -cpu help
rows=$(grep -c '^FEAT(' "$root/cpu/features.def")
listed=$(sed -n '/^features:/,$p' <<< "$out" | tail -n +2 | wc -w)
if [ $status -eq 0 ] && [[ $out == "CPU models: nest86 (default), max"* ]] && [ "$listed" = "$rows" ] &&
    grep -qw sha_ni <<< "$out" && grep -qw arch_capabilities <<< "$out"; then
    pass cpu-help
else
    fail cpu-help "status $status, $listed of $rows features listed: $out"
fi

# Every flag the README documents must appear in -help ...
flags="-m -kernel -initrd -append -serial -display -vga -S -gdb -x -d -D -cpu -accel -no-reboot -version -help -h"
for h in -help -h --help; do
    run "$h"
    missing=
    for f in $flags; do
        grep -qE -- "(^|[ ,])$f([ ,]|$)" "$tmp/out" || missing="$missing $f"
    done
    if [ $status -ne 0 ]; then
        fail "help$h" "exit status $status"
    elif [ -n "$missing" ]; then
        fail "help$h" "does not mention:$missing"
    else
        pass "help$h"
    fi
done

# ... and every flag -help lists must be one the parser accepts.  A
# trailing unknown flag stops the run before any machine starts; the
# error naming *it* proves the flags before it were accepted.
sample_arg() {
    case $1 in
    -m) echo 64M ;; -kernel|-initrd|-x) echo "$readable" ;; -append) echo quiet ;;
    -serial) echo none ;; -display) echo none ;; -vga) echo std ;; -gdb) echo tcp::1234 ;;
    -d) echo int ;; -D) echo "$tmp/trace" ;; -cpu) echo max ;;
    esac
}
run -help
listed=$(grep -oE '^  -[a-zA-Z-]+' "$tmp/out" | tr -d ' ')
rejected=
for f in $listed; do
    case $f in -help|-version) continue ;; esac
    words=("$f")
    [ -n "$(sample_arg "$f")" ] && words+=("$(sample_arg "$f")")
    # -initrd and -append mean nothing without a kernel
    [ "$f" = -initrd ] || [ "$f" = -append ] && words+=(-kernel "$readable")
    run "${words[@]}" -zz-end
    [[ $err == *"'-zz-end'"* ]] || rejected="$rejected $f"
done
if [ -z "$listed" ]; then
    fail help-flags-parse "found no flags in -help output"
elif [ -n "$rejected" ]; then
    fail help-flags-parse "listed in -help but rejected:$rejected"
else
    pass help-flags-parse
fi

# The README's command-line table must not fall behind -help.
if [ -f "$root/README.md" ]; then
    missing=
    for f in $listed; do
        grep -q -- "| \`$f[ \`]" "$root/README.md" || missing="$missing $f"
    done
    if [ -n "$missing" ]; then
        fail readme-lists-flags "README.md's option table lacks:$missing"
    else
        pass readme-lists-flags
    fi
fi

[ $failures -eq 0 ]
