#!/usr/bin/env bash
# testsuite/cli/boot_errors.sh — kernel images nest86 cannot boot: each
# must end the run with status 2 and exactly one "nest86: ..." line on
# stderr (README, exit statuses), never a crash or a started guest.
#
# Prints one PASS/FAIL/SKIP line per case (testsuite/run protocol).

set -u
NEST86=${NEST86:-./nest86}
build=${NEST86_BUILD:-build}
smoke=$build/guest/smoke.elf
[ -x "$NEST86" ] || { echo "FAIL binary: no $NEST86 (run make)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# refused NAME ARGS...: status 2 and one stderr line "nest86: ...".
refused() {
    local name=$1
    shift
    timeout 10 "$NEST86" -serial none -display none -no-reboot "$@" \
        > "$tmp/out" 2> "$tmp/err" < /dev/null
    local status=$? err
    err=$(cat "$tmp/err")
    if [ $status -ne 2 ]; then
        echo "FAIL $name: exit status $status, want 2 (stderr: $err)"
    elif [ "$(wc -l < "$tmp/err")" -ne 1 ] || [[ $err != "nest86: "* ]]; then
        echo "FAIL $name: want one 'nest86: ...' line, got: $err"
    else
        echo "PASS $name"
        return
    fi
    failures=$((failures + 1))
}

# Random bytes: no Multiboot header, no bzImage signature. A fixed seed
# keeps the bytes the same on every run.
LC_ALL=C awk 'BEGIN { srand(86); for (i = 0; i < 16384; i++) printf "%c", int(rand() * 256) }' \
    > "$tmp/random.bin"
refused random-bytes -kernel "$tmp/random.bin"

if [ ! -f "$smoke" ]; then
    echo "SKIP elf-cases: no $smoke (run make guest-kernels)"
    exit $((failures ? 1 : 0))
fi

# The first half of a valid image: the Multiboot header and ELF program
# headers are intact, but the loadable segment runs past the file's end.
size=$(stat -c %s "$smoke")
head -c $((size / 2)) "$smoke" > "$tmp/truncated.elf"
refused truncated-elf -kernel "$tmp/truncated.elf"

# The smoke kernel loads at 1 MiB, so 1 MiB of RAM cannot hold it.
refused load-above-ram -kernel "$smoke" -m 1M

# The same image with its segment moved to 1 GiB (p_vaddr and p_paddr of
# the first ELF32 program header), booted with 128 MiB.
cp "$smoke" "$tmp/high.elf"
phoff=$(od -An -t u4 -j 28 -N 4 "$smoke" | tr -d ' ')
for field in 8 12; do
    printf '\x00\x00\x00\x40' |
        dd of="$tmp/high.elf" bs=1 seek=$((phoff + field)) conv=notrunc status=none
done
refused segment-beyond-ram -kernel "$tmp/high.elf" -m 128M

exit $((failures ? 1 : 0))
