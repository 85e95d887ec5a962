#!/usr/bin/env bash
# testsuite/bench/bochs.sh — the KVM scenario of `make bench` (Debian's
# cloud kernel, initrd-kvm.img, `nest86.kvm`: kvm_intel and the KVM
# client's 14 guests, then `poweroff -f`) once in Bochs, the established
# interpreter, for testsuite/bench/run to set beside nest86's runs; it
# also runs alone.
#
# Bochs cannot load a kernel itself: it boots through its BIOS from a
# FAT16 disk image (no partition table) on which syslinux loads the
# kernel and initramfs over int 13h.  The image and the bochsrc live in
# build/bench/bochs-kvm; the image is built again when the kernel or the
# initramfs changes.  Debian's bochs is built with its debugger, which
# stops before the first instruction, so `c` is typed on its input.
# The guest's power-off reaches Bochs as a PANIC ("ACPI control: soft
# power off"), after which it exits with status 1: that status and that
# message, with the client's 14 PASS lines and both of its
# NEST86_KVM_CLIENT_EXIT 0 on the serial port, are success.  The
# NEST86_KVM_DONE line before the power-off is not required: Bochs'
# UART sends at the guest's 9600 baud in emulated time, and the
# kernel's warnings that /init copies from dmesg (kvm_intel WARNs at
# vmx.c:6141 under Bochs' VMX; nest86's run has none) fill the console
# with more than `poweroff -f` waits for, so the tail is lost.
#
# Prints, on success (exit 0):
#   bochs-version: 2.7          (from its banner)
#   bochs-wall-ns: N            (the bochs process, start to exit)
#   bochs-ticks: N              (its clock at the power-off, if found)
# otherwise `bochs-failed: REASON` and exits 1.
set -u
self=$(readlink -f "$0")
cd "$(dirname "$0")/../.." || exit 1
BOCHS=${BOCHS:-bochs}
BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-300}
GUESTS=14
DIR=build/bench/bochs-kvm
BIOS=/usr/share/bochs/BIOS-bochs-latest
VGABIOS=/usr/share/bochs/VGABIOS-lgpl-latest
# one cylinder of the image's geometry: 16 heads of 63 sectors
CYL_BYTES=$((16 * 63 * 512))

fail() {
    echo "bochs-failed: $*"
    exit 1
}

kernel=$(readlink -f build/linux/vmlinuz 2>/dev/null)
initrd=build/linux/initrd-kvm.img
if [ -z "$kernel" ] || [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
    fail "no build/linux/vmlinuz or $initrd (scripts/linux-fetch.sh fetches them)"
fi
command -v "$BOCHS" >/dev/null 2>&1 || fail "bochs is not installed (scripts/deps.sh --bench)"
for f in "$BIOS" "$VGABIOS"; do
    [ -f "$f" ] || fail "no $f (bochsbios, vgabios; scripts/deps.sh --bench)"
done
for tool in syslinux mcopy mkfs.fat; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "no $tool to build the boot disk (syslinux, mtools, dosfstools; scripts/deps.sh --bench)"
done
mkdir -p "$DIR" || fail "cannot create $DIR"

# The disk: rebuilt when what it holds changed (the kernel the symlink
# names, its size or time, the initramfs's) or this script is newer.
stamp=$(stat -L -c '%n %s %Y' "$kernel" "$initrd")
if [ ! -f "$DIR/disk.img" ] || [ "$(cat "$DIR/disk.stamp" 2>/dev/null)" != "$stamp" ] ||
   [ "$self" -nt "$DIR/disk.img" ]; then
    rm -f "$DIR/disk.img" "$DIR/disk.stamp"
    # the files plus 8 MiB for FAT and syslinux, at least 65 cylinders
    # (33 MiB); CHS addressing ends at 1024
    need=$(( $(stat -L -c %s "$kernel") + $(stat -c %s "$initrd") + 8 * 1024 * 1024 ))
    cyls=$(( (need + CYL_BYTES - 1) / CYL_BYTES ))
    [ "$cyls" -ge 65 ] || cyls=65
    [ "$cyls" -le 1024 ] || fail "the kernel and initramfs need $cyls cylinders, more than the 1024 CHS can address"
    tmp=$DIR/disk.img.tmp
    cat > "$DIR/syslinux.cfg" <<'EOF'
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND console=ttyS0 quiet nest86.kvm
EOF
    { dd if=/dev/zero of="$tmp" bs=$CYL_BYTES count="$cyls" status=none &&
      mkfs.fat -F 16 -n NEST86 "$tmp" >/dev/null &&
      syslinux --install "$tmp" &&
      mcopy -i "$tmp" "$DIR/syslinux.cfg" ::syslinux.cfg &&
      mcopy -i "$tmp" "$kernel" ::vmlinuz &&
      mcopy -i "$tmp" "$initrd" ::initrd.img; } > "$DIR/disk.log" 2>&1 ||
        { rm -f "$tmp"; fail "building the boot disk: $(tail -n 1 "$DIR/disk.log")"; }
    mv "$tmp" "$DIR/disk.img"
    echo "$stamp" > "$DIR/disk.stamp"
fi
cyls=$(( $(stat -c %s "$DIR/disk.img") / CYL_BYTES ))

# The machine: 512 MiB and one Skylake-X (VMX with EPT, no SHA
# extensions), its clock driven by the instruction count alone
# (sync=none) so the guest's timers do not depend on the host's speed;
# the display is a VNC server that waits for no client (Debian's
# bochs has no other display without a terminal); sound goes nowhere.
cat > "$DIR/bochsrc" <<EOF
megs: 512
cpu: model=corei7_skylake_x, count=1, ips=100000000, reset_on_triple_fault=0
romimage: file=$BIOS
vgaromimage: file=$VGABIOS
ata0-master: type=disk, path=disk.img, mode=flat, cylinders=$cyls, heads=16, spt=63
boot: disk
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
com1: enabled=1, mode=file, dev=serial.out
log: bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
clock: sync=none, time0=local
EOF

# That VNC server listens on every interface (from port 5900) and
# takes keys for the guest; in a network namespace of its own, when one
# can be made, nobody else can reach it.
isolate=()
if unshare -n true 2>/dev/null; then
    isolate=(unshare -n)
elif unshare -rn true 2>/dev/null; then
    isolate=(unshare -rn)
fi

cd "$DIR" || fail "cannot enter $DIR"
# (a run killed by the timeout leaves Bochs' lock on the image behind;
# one run at a time uses this directory)
rm -f serial.out bochs.log bochs.out disk.img.lock
start=$(date +%s%N)
printf 'c\nquit\n' | timeout "$BOCHS_TIMEOUT" "${isolate[@]}" "$BOCHS" -q -f bochsrc > bochs.out 2>&1
status=$?
ns=$(( $(date +%s%N) - start ))

pass=$(grep -ac '^NEST86_KVM_GUEST [^ ]* PASS' serial.out 2>/dev/null)
exits=$(grep -ac '^NEST86_KVM_CLIENT_EXIT 0' serial.out 2>/dev/null)
off=$(grep -c 'ACPI control: soft power off' bochs.log 2>/dev/null)
if [ "$status" != 1 ] || [ "${pass:-0}" != "$GUESTS" ] || [ "${exits:-0}" != 2 ] || [ "${off:-0}" = 0 ]; then
    why="status $status"
    [ "$status" = 124 ] && why="killed after $BOCHS_TIMEOUT s"
    said=$(sed -n '/Bochs is exiting with the following message:/{n;p;q}' bochs.out 2>/dev/null)
    [ "${off:-0}" = 0 ] && why="$why, no power-off${said:+ (Bochs: $said)}"
    fail "$why, ${pass:-0} of $GUESTS guests PASS, ${exits:-0} of 2 client runs exited 0 (see $DIR/serial.out, bochs.log, bochs.out)"
fi

version=$(sed -n 's/^ *Bochs x86 Emulator \([^ ]*\).*/\1/p' bochs.out | head -n 1)
echo "bochs-version: ${version:-?}"
echo "bochs-wall-ns: $ns"
# every log line starts with Bochs' clock: one tick per instruction (and
# per REP iteration), plus the time it skips while the CPU is halted
ticks=$(sed -n 's/^\([0-9]*\)p\[ACPI *\] >>PANIC<< ACPI control: soft power off.*/\1/p' bochs.log | head -n 1)
[ -z "$ticks" ] || echo "bochs-ticks: $((10#$ticks))"
exit 0
