#!/usr/bin/env bash
# testsuite/bench/snapshot.sh — snapshot save and load of a booted Linux
# (512 MiB, Debian's cloud kernel at its busybox prompt), for `make
# bench` (testsuite/bench/run calls it; it also runs alone).
#
# The machine boots with its console on a terminal; at the shell's
# prompt Ctrl-A C breaks into the debugger, whose -x script then saves the
# machine and quits.  Times come from whole nest86 runs, so nothing in
# nest86 reads the host clock for them:
#   load  = (-loadvm FILE, then quit) - (the same machine started and
#           quit without a snapshot)
#   save  = (-loadvm FILE, savevm, quit) - (-loadvm FILE, quit)
# each the best of three runs, as wall time and as CPU time (user +
# system: a save deflates RAM on several threads).  Figures are measurements, never
# pass/fail assertions.
set -u
cd "$(dirname "$0")/../.."
NEST86=${NEST86:-./nest86}
kernel=build/linux/vmlinuz
initrd=build/linux/initrd.img
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
    echo "snapshot: not measured (no $kernel; scripts/linux-fetch.sh fetches it)"
    exit 0
fi
tmp=$(mktemp -d)
trap '[ -n "${KEEP_SNAPSHOT:-}" ] && cp "$tmp/linux.snap" "$KEEP_SNAPSHOT"; rm -rf "$tmp"' EXIT
machine=(-m 512M -serial stdio -display none -no-reboot)

# boot to the prompt, break in, save
printf 'continue\nsavevm %s\nquit\n' "$tmp/linux.snap" > "$tmp/save.x"
mkfifo "$tmp/in"
# script(1) gives nest86 a terminal, so the console reads Ctrl-A keys
script -qfec "$NEST86 ${machine[*]} -kernel $kernel -initrd $initrd -append 'console=ttyS0 quiet' -x $tmp/save.x" \
    /dev/null < "$tmp/in" > "$tmp/console" 2>&1 &
pid=$!
exec 3> "$tmp/in"
for _ in $(seq 600); do
    grep -q '/ # ' "$tmp/console" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.2
done
printf '\001c' >&3
wait $pid
exec 3>&-
if [ ! -s "$tmp/linux.snap" ]; then
    echo "snapshot: failed (no file saved: $(tail -n 1 "$tmp/console"))"
    exit 0
fi

# best CMD...: the shortest wall time and the smallest CPU time (user +
# system) of three runs, in ms, as "WALL CPU"
best() {
    local bw= bc= w c out
    for _ in 1 2 3; do
        out=$({ TIMEFORMAT='%R %U %S'; time "$@" > /dev/null 2>&1 < /dev/null; } 2>&1)
        w=$(awk '{ printf "%d", $1 * 1000 }' <<< "$out")
        c=$(awk '{ printf "%d", ($2 + $3) * 1000 }' <<< "$out")
        [ -z "$bw" ] || [ "$w" -lt "$bw" ] && bw=$w
        [ -z "$bc" ] || [ "$c" -lt "$bc" ] && bc=$c
    done
    echo "$bw $bc"
}
printf 'quit\n' > "$tmp/quit.x"
printf 'savevm %s\nquit\n' "$tmp/again.snap" > "$tmp/again.x"
base=$(best "$NEST86" "${machine[@]}" -kernel "$kernel" -initrd "$initrd" -x "$tmp/quit.x")
load=$(best "$NEST86" "${machine[@]}" -loadvm "$tmp/linux.snap" -x "$tmp/quit.x")
save=$(best "$NEST86" "${machine[@]}" -loadvm "$tmp/linux.snap" -x "$tmp/again.x")
size=$(stat -c %s "$tmp/linux.snap")
used=$(python3 - "$tmp/linux.snap" <<'EOF' 2>/dev/null
import struct, sys
# count the RAM pages the file stores (non-zero ones): the bitmaps of
# the ram section's chunks (docs/snapshots.md)
b = open(sys.argv[1], 'rb').read()
hlen = struct.unpack_from('<I', b, 12)[0]
pos = 20 + hlen
while pos + 32 <= len(b):
    name = b[pos:pos + 16].rstrip(b'\0')
    slen = struct.unpack_from('<Q', b, pos + 20)[0]
    if name == b'ram':
        p, end, pages, ram = pos + 32, pos + 32 + slen, 0, 0
        while p < end:
            m = struct.unpack_from('<Q', b, p)[0]
            p += 8
            if m:
                p += 4 + struct.unpack_from('<I', b, p)[0]
            pages += bin(m).count('1')
        print(pages * 4096, slen)
    pos += 32 + slen
EOF
)
read -r base_w base_c <<< "$base"
read -r load_w load_c <<< "$load"
read -r save_w save_c <<< "$save"
awk -v s="$size" -v u="${used% *}" -v r="${used#* }" -v bw="$base_w" -v bc="$base_c" \
    -v lw="$load_w" -v lc="$load_c" -v sw="$save_w" -v sc="$save_c" 'BEGIN {
    printf "snapshot of a booted Linux (512 MiB): file %.1f MiB; RAM in use %.1f MiB stored in %.1f MiB (%.1fx)\n",
           s / 1048576, u / 1048576, r / 1048576, (r > 0 ? u / r : 0)
    printf "  load %.3f s wall, %.3f s CPU; save %.3f s wall, %.3f s CPU (best of 3, start-up subtracted)\n",
           (lw - bw) / 1e3, (lc - bc) / 1e3, (sw - lw) / 1e3, (sc - lc) / 1e3 }'
