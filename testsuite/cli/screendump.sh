#!/usr/bin/env bash
# testsuite/cli/screendump.sh — `screendump FILE` against guest/vga_text:
# the debugger stops the kernel once it has written its screen
# (vga_screen_ready), takes a screendump, and build/unit/dev_vga
# --compare checks it pixel for pixel against its own rendering of
# testsuite/guest/vga_screen.h.  Also: a file that cannot be written is
# one clear message, and the machine goes on; `info screen` shows the
# text.  Then guest/vbe_lfb's picture in the Bochs VBE framebuffer
# (--compare-vbe).  One PASS/FAIL line per
# case (testsuite/run protocol).

set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-$root/build}
kernel=$build/guest/vga_text.elf
elf64=$build/guest/t64/vga_text.elf64
compare=$build/unit/dev_vga

[ -x "$NEST86" ] || { echo "FAIL screendump/binary: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
[ -f "$kernel" ] && [ -f "$elf64" ] || missing screendump "no $kernel (make guest-kernels)"
[ -x "$compare" ] || missing screendump "no $compare (make unit-tests)"

failures=0
pass() { echo "PASS screendump/$1"; }
fail() { echo "FAIL screendump/$1: $2"; failures=$((failures + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/session.x" <<EOS
symbols $elf64
break vga_screen_ready
continue
screendump $tmp/screen.ppm
screendump $tmp/no/such/dir/screen.ppm
info screen
savevm $tmp/vga.snap
continue
EOS
timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot \
    -x "$tmp/session.x" > "$tmp/out" 2> "$tmp/err" < /dev/null
status=$?

if grep -q "screendump: 720x400 written to $tmp/screen.ppm" "$tmp/out"; then
    pass written
else
    fail written "no 'written' line: $(grep -m1 screendump "$tmp/out")"
fi
"$compare" --compare "$tmp/screen.ppm" || failures=$((failures + 1))
if grep -q "screendump: cannot write '$tmp/no/such/dir/screen.ppm': No such file or directory" "$tmp/out"; then
    pass unwritable
else
    fail unwritable "$(grep -m2 screendump "$tmp/out" | tail -n 1)"
fi
# info screen: the geometry, the cursor on the screen (buffer row 3 is
# screen row 2), the lines from the start address on
if grep -q "^text 80x25 cells of 9x16 at 0xb8000, start address 80, row pitch 80$" "$tmp/out" &&
    grep -q "^cursor at 270 (row 2, column 30), scan lines 12-15$" "$tmp/out" &&
    grep -q "^|nest86 VGA text test: light grey on black$" "$tmp/out" &&
    grep -q "^|last screen row (buffer row 25)$" "$tmp/out" && ! grep -q "buffer row 0:" "$tmp/out"; then
    pass info-screen
else
    fail info-screen "$(grep -A3 '^text ' "$tmp/out" | tr '\n' '|')"
fi
# the kernel's own checks of the registers, and the run went on to its end
if [ "$status" -eq 1 ]; then
    pass guest-continues
else
    fail guest-continues "exit status $status, want 1 (the guest's pass): $(tail -n 2 "$tmp/err")"
fi
# a snapshot taken there brings the same screen back (the VGA's
# registers are in it: the cursor, the start address, the palette)
cat > "$tmp/resume.x" <<EOS
screendump $tmp/resumed.ppm
info screen
continue
EOS
timeout 60 "$NEST86" -loadvm "$tmp/vga.snap" -serial none -display none -no-reboot \
    -x "$tmp/resume.x" > "$tmp/resume.out" 2> "$tmp/resume.err" < /dev/null
status=$?
if cmp -s "$tmp/screen.ppm" "$tmp/resumed.ppm" && [ $status -eq 1 ] &&
    grep -q "^cursor at 270 (row 2, column 30), scan lines 12-15$" "$tmp/resume.out"; then
    pass snapshot-resume
else
    fail snapshot-resume "status $status, $(head -c 300 "$tmp/resume.err")"
fi
# the Bochs VBE framebuffer: guest/vbe_lfb's 640x480x32 picture
vbe_kernel=$build/guest/vbe_lfb.elf
[ -f "$vbe_kernel" ] || missing screendump "no $vbe_kernel (make guest-kernels)"
cat > "$tmp/vbe.x" <<EOS
break vbe_screen_ready
continue
screendump $tmp/vbe.ppm
savevm $tmp/vbe.snap
continue
EOS
timeout 60 "$NEST86" -kernel "$vbe_kernel" -serial none -display none -no-reboot \
    -x "$tmp/vbe.x" > "$tmp/vbe.out" 2> "$tmp/vbe.err" < /dev/null
status=$?
if grep -q "screendump: 640x480 written to $tmp/vbe.ppm" "$tmp/vbe.out" && [ $status -eq 1 ]; then
    pass vbe-written
else
    fail vbe-written "status $status: $(grep -m1 screendump "$tmp/vbe.out")"
fi
"$compare" --compare-vbe "$tmp/vbe.ppm" || failures=$((failures + 1))
printf 'screendump %s\ncontinue\n' "$tmp/vbe-resumed.ppm" > "$tmp/vbe-resume.x"
timeout 60 "$NEST86" -loadvm "$tmp/vbe.snap" -serial none -display none -no-reboot \
    -x "$tmp/vbe-resume.x" > "$tmp/vbe-resume.out" 2> "$tmp/vbe-resume.err" < /dev/null
status=$?
if cmp -s "$tmp/vbe.ppm" "$tmp/vbe-resumed.ppm" && [ $status -eq 1 ]; then
    pass vbe-snapshot-resume
else
    fail vbe-snapshot-resume "status $status, $(head -c 300 "$tmp/vbe-resume.err")"
fi
exit $((failures ? 1 : 0))
