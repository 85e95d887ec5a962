#!/usr/bin/env bash
# testsuite/cli/snapshot_errors.sh — snapshot files nest86 must refuse
# (docs/snapshots.md): each bad file given to -loadvm ends nest86 with
# exit status 2 and exactly one line on stderr naming the problem; the
# debugger's `loadvm` of a bad file leaves the machine running as it
# was; random and mutated files never crash it (sanitizers.sh runs this
# script on the AddressSanitizer + UBSan build too).
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/lm64_irq.elf
prefix=${SNAPSHOT_TEST_PREFIX:-}

[ -x "$NEST86" ] || { echo "FAIL ${prefix}snapshot: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
[ -f "$kernel" ] || missing "${prefix}snapshot" "no $kernel (make guest-kernels)"
command -v python3 >/dev/null || missing "${prefix}snapshot" "no python3"

failures=0
pass() { echo "PASS ${prefix}$1"; }
fail() { echo "FAIL ${prefix}$1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
machine=(-m 32M -serial none -display none -no-reboot)

printf 'stepi 200000\nsavevm %s\nquit\n' "$tmp/good.snap" > "$tmp/save.x"
"$NEST86" "${machine[@]}" -kernel "$kernel" -x "$tmp/save.x" > "$tmp/save.out" 2>&1 < /dev/null
if [ ! -s "$tmp/good.snap" ]; then
    fail snapshot/save "no snapshot written: $(tail -n 2 "$tmp/save.out" | tr '\n' ' ')"
    exit 1
fi

# mutate KIND IN OUT: a bad copy of a good file (layout: docs/snapshots.md)
mutate() {
    python3 - "$@" <<'EOF'
import struct, sys, zlib
kind, src, dst = sys.argv[1:4]
b = bytearray(open(src, 'rb').read())
if kind == 'truncated':
    b = b[:len(b) * 2 // 3]
elif kind == 'corrupt':
    b[-200] ^= 0x10            # inside RAM's deflated data: its CRC no longer holds
elif kind == 'foreign':
    b[0:8] = b'QEVM\0\0\0\3'   # another program's file
elif kind == 'newer':
    struct.pack_into('<I', b, 8, struct.unpack_from('<I', b, 8)[0] + 1)
open(dst, 'wb').write(b)
EOF
}

# refused NAME PATTERN FILE [options]: -loadvm FILE exits 2 with one
# stderr line matching PATTERN
refused() {
    local name=$1 pattern=$2 file=$3
    shift 3
    "$NEST86" "${machine[@]}" -loadvm "$file" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null
    local status=$? lines
    lines=$(wc -l < "$tmp/$name.err")
    if [ $status -eq 2 ] && [ "$lines" -eq 1 ] && grep -Eq -- "$pattern" "$tmp/$name.err"; then
        pass "snapshot/$name"
    else
        fail "snapshot/$name" "status $status (want 2), $lines stderr lines (want 1 matching '$pattern'): $(head -c 300 "$tmp/$name.err" | tr '\n' '|')"
    fi
}

for kind in truncated corrupt foreign newer; do
    mutate $kind "$tmp/good.snap" "$tmp/$kind.snap"
done
refused truncated 'truncated' "$tmp/truncated.snap"
refused corrupt "section 'ram' is corrupt \(CRC mismatch\)" "$tmp/corrupt.snap"
refused foreign 'not a nest86 snapshot' "$tmp/foreign.snap"
refused newer 'format version 2 is newer than this nest86 reads \(1\)' "$tmp/newer.snap"
# -m and -cpu after the common ones: the last -m wins
refused other-ram 'saved with 32 MiB of RAM, this machine has 64 MiB' "$tmp/good.snap" -m 64M
refused other-cpu "saved with CPU features off '', this machine has 'x2apic' off" "$tmp/good.snap" \
    -cpu nest86,x2apic=off
refused missing-file 'cannot read' "$tmp/nothing-here.snap"

# A good file resumes: the kernel finishes its tests (status 1: pass).
"$NEST86" "${machine[@]}" -loadvm "$tmp/good.snap" > "$tmp/resume.out" 2>&1 < /dev/null
status=$?
if [ $status -eq 1 ]; then
    pass snapshot/resume
else
    fail snapshot/resume "-loadvm of a good file: status $status (want 1, the kernel's pass): $(tail -n 2 "$tmp/resume.out" | tr '\n' ' ')"
fi

# loadvm of a bad file in the debugger: refused, the registers are what
# they were, and the guest still runs to its pass
printf 'registers general\nloadvm %s\nregisters general\ncontinue\n' "$tmp/corrupt.snap" > "$tmp/bad.x"
"$NEST86" "${machine[@]}" -loadvm "$tmp/good.snap" -x "$tmp/bad.x" > "$tmp/bad.out" 2>&1 < /dev/null
status=$?
# regs N: the lines the Nth `registers general` printed
regs() {
    awk -v n="$1" '/^\(nest86\) /{ on = ($0 == "(nest86) registers general") && ++k == n; next } on' "$tmp/bad.out"
}
first=$(regs 1) second=$(regs 2)
if grep -q "^loadvm: snapshot '.*': section 'ram' is corrupt (CRC mismatch) (the machine is unchanged)" "$tmp/bad.out" &&
    [ -n "$first" ] && [ "$first" = "$second" ] && [ $status -eq 1 ]; then
    pass snapshot/debugger-refused
else
    fail snapshot/debugger-refused "status $status (want 1); $(grep -m1 '^loadvm' "$tmp/bad.out")"
fi

# Random and mutated files: refused (2) or loaded and run for a moment
# (the script then quits: 0); anything else is a crash or a hang.
python3 - "$tmp/good.snap" "$tmp" <<'EOF'
import random, struct, sys, zlib
src, out = sys.argv[1:3]
good = open(src, 'rb').read()
rng = random.Random(5)
def fix_crcs(b):
    # header CRC and every section's, where they still fit
    if len(b) < 16: return
    hlen = struct.unpack_from('<I', b, 12)[0]
    if hlen + 20 > len(b): return
    struct.pack_into('<I', b, 16 + hlen, zlib.crc32(bytes(b[16:16 + hlen])))
    pos = 20 + hlen
    while len(b) - pos >= 32:
        slen = struct.unpack_from('<Q', b, pos + 20)[0]
        if slen > len(b) - pos - 32: return
        struct.pack_into('<I', b, pos + 28, zlib.crc32(bytes(b[pos + 32:pos + 32 + slen])))
        pos += 32 + slen
for k in range(40):
    b = bytearray(good)
    how = k % 4
    if how == 0:
        b = bytearray(good[:24]) + bytearray(rng.randrange(256) for _ in range(rng.randrange(2000)))
    elif how == 1:
        for _ in range(rng.randrange(1, 5)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif how == 2:
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(16, min(len(b), 6000))] = rng.randrange(256)
        fix_crcs(b)
    else:
        b = b[:rng.randrange(len(b))]
        fix_crcs(b)
    open('%s/fuzz%02d.snap' % (out, k), 'wb').write(b)
EOF
printf 'stepi 2000\nquit\n' > "$tmp/brief.x"
bad=
for f in "$tmp"/fuzz*.snap; do
    timeout 60 "$NEST86" "${machine[@]}" -loadvm "$f" -x "$tmp/brief.x" > /dev/null 2> "$tmp/fuzz.err" < /dev/null
    status=$?
    if { [ $status -ne 0 ] && [ $status -ne 2 ]; } || grep -q 'Sanitizer\|runtime error' "$tmp/fuzz.err"; then
        bad="$bad $(basename "$f"):$status"
        cp "$f" "$build/test-logs/" 2>/dev/null
    fi
done
if [ -z "$bad" ]; then
    pass snapshot/fuzz
else
    fail snapshot/fuzz "crashed or hung (exit statuses; the files are in $build/test-logs):$bad"
fi
[ $failures -eq 0 ]
