#!/usr/bin/env bash
# testsuite/integration/linux_bochs_drm.sh — Debian's generic kernel
# with its bochs DRM driver on the VBE's PCI function (00:02.0,
# 1234:1111): /init loads drm, drm_kms_helper, ttm, drm_ttm_helper,
# drm_vram_helper and bochs (initrd-drm.img, nest86.bochs), fbcon takes
# the driver's framebuffer, /init prints a line on tty1, then a shell
# there.
#   bochs/insmod      every module loads (insmod status 0)
#   bochs/driver      the kernel says "[drm] Found bochs VGA" with the
#                     framebuffer at BAR0 (0xe0000000), card0's driver is
#                     bochs-drm, fb0 is its 1024x768x32 framebuffer
#   bochs/screendump  a 1024x768 screendump with fbcon's text drawn:
#                     lit pixels in its first 8 text lines (rows 0-127)
#                     and none below row 256
#   bochs/poweroff    `poweroff -f` typed (the debugger's `type`) ends it
# The kernel finds the function through the DSDT's PCI host bridge
# (\_SB.PCI0).
set -u

root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
. "$root/testsuite/guest_console.sh"
console_test_begin bochs linux_bochs_drm

port=$((20000 + ($$ + 11) % 20000))
: > "$serial"
"$NEST86" -m 512M -kernel "$build/linux/vmlinuz-generic" -initrd "$build/linux/initrd-drm.img" \
    -append "console=ttyS0 quiet nest86.bochs" -serial "file:$serial" \
    -display none -gdb "tcp::$port" -no-reboot < /dev/null > "$tmp/nest86.out" 2>&1 &
pid=$!
if ! wait_for "$serial" NEST86_BOCHS_DONE 600; then
    echo "FAIL bochs/boot: no shell on tty1 after the driver (serial log: $serial)"
    exit 1
fi
pass boot
loaded=$(grep -c "^NEST86_BOCHS_INSMOD [a-z_]* 0" "$serial")
if [ "$loaded" = 6 ]; then
    pass insmod
else
    fail insmod "$loaded of 6 modules loaded ($serial)"
fi
if grep -q "\[drm\] Found bochs VGA, ID 0xb0c5" "$serial" &&
    grep -q "\[drm\] Framebuffer size 16384 kB @ 0xe0000000" "$serial" &&
    grep -q "^NEST86_BOCHS_CARD0 bochs-drm" "$serial" &&
    grep -q "^NEST86_BOCHS_FB0 bochs-drmdrmfb 1024,768 32" "$serial"; then
    pass driver
else
    fail driver "no bochs VGA found, card0 bound to bochs-drm and a 1024x768x32 fb0 ($serial)"
fi
debugger "screendump $tmp/screen.ppm"
# the PPM's pixels follow its 16-byte header "P6\n1024 768\n255\n"
pixels() { tail -c +17 "$tmp/screen.ppm" 2>/dev/null | head -c $(($2 * 3072)) | tail -c $((($2 - $1) * 3072)); }
text=$(pixels 0 128 | tr -d '\0' | wc -c)
below=$(pixels 256 768 | tr -d '\0' | wc -c)
if grep -q "screendump: 1024x768 written" "$gdb_out" && [ "$text" -gt 2000 ] && [ "$below" = 0 ]; then
    pass screendump
else
    fail screendump "$(grep -m1 screendump "$gdb_out"); $text lit bytes in rows 0-127, $below below row 256"
fi
poweroff_typed
exit $((failures ? 1 : 0))
