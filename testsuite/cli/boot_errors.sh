#!/usr/bin/env bash
# testsuite/cli/boot_errors.sh — kernel images nest86 cannot boot: each
# must end the run with status 2 and exactly one "nest86: ..." line on
# stderr (README, exit statuses), never a crash or a started guest.
#
# Prints one PASS/FAIL/SKIP line per case (testsuite/run protocol).

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-build}
. "$root/testsuite/missing.sh"
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

# A minimal bzImage: setup header (boot protocol VERSION) in one setup
# sector, then a protected-mode part of PM_BYTES whose size the header
# states as SYSSIZE paragraphs.  mk_bzimage FILE VERSION SYSSIZE PM_BYTES
put() {   # put FILE OFFSET HEX-BYTES...
    local f=$1 off=$2 b
    shift 2
    for b in "$@"; do
        printf "\\x$b" | dd of="$f" bs=1 seek=$off conv=notrunc status=none
        off=$((off + 1))
    done
}
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
mk_bzimage() {
    local f=$1
    truncate -s $((1024 + $4)) "$f"
    put "$f" $((0x1F1)) 01                              # setup_sects
    put "$f" $((0x1F4)) $(le32 "$3")                    # syssize
    put "$f" $((0x1FE)) 55 aa                           # boot_flag
    put "$f" $((0x200)) eb 66                           # jump: header ends at 0x268
    put "$f" $((0x202)) 48 64 72 53                     # "HdrS"
    put "$f" $((0x206)) $(printf '%02x %02x' $(($2 & 255)) $(($2 >> 8)))
    put "$f" $((0x211)) 01                              # loadflags: LOADED_HIGH
    put "$f" $((0x22C)) $(le32 $((0x7fffffff)))         # initrd_addr_max
    put "$f" $((0x230)) $(le32 $((0x200000)))           # kernel_alignment
    put "$f" $((0x234)) 01                              # relocatable_kernel
    put "$f" $((0x238)) $(le32 2047)                    # cmdline_size
    put "$f" $((0x258)) $(le32 $((0x1000000))) 00 00 00 00  # pref_address
    put "$f" $((0x260)) $(le32 $((0x100000)))           # init_size
}

# The header promises 1 MiB of kernel; the file holds 4 KiB of it.
mk_bzimage "$tmp/short.bzimage" $((0x020F)) $((0x100000 / 16)) 4096
refused bzimage-truncated -kernel "$tmp/short.bzimage"

# Boot protocol 2.04 predates the fields nest86 relies on.
mk_bzimage "$tmp/old.bzimage" $((0x0204)) 256 4096
refused bzimage-old-protocol -kernel "$tmp/old.bzimage"

# A well-formed image with a 32 MiB initrd (sparse) and 16 MiB of RAM.
mk_bzimage "$tmp/ok.bzimage" $((0x020F)) 256 4096
truncate -s 32M "$tmp/big.initrd"
refused initrd-too-large -kernel "$tmp/ok.bzimage" -initrd "$tmp/big.initrd" -m 16M

if [ ! -f "$smoke" ]; then
    missing elf-cases "no $smoke (run make guest-kernels)"
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

# Moved to 0xA0000: below the -m size, but the memory map has no RAM
# there (VGA window, BIOS area, ACPI tables).
cp "$smoke" "$tmp/hole.elf"
for field in 8 12; do
    printf '\x00\x00\x0a\x00' |
        dd of="$tmp/hole.elf" bs=1 seek=$((phoff + field)) conv=notrunc status=none
done
refused segment-in-isa-hole -kernel "$tmp/hole.elf"

# A Multiboot module larger than the free RAM.
refused module-too-large -kernel "$smoke" -initrd "$tmp/big.initrd" -m 16M

exit $((failures ? 1 : 0))
