#!/usr/bin/env bash
# scripts/linux-fetch.sh — Debian's own Linux kernels and a busybox
# initramfs for booting Linux in nest86, cached in build/linux/.
#
# Usage: scripts/linux-fetch.sh [--cloud-only] [--quiet]
#
# Downloads with `apt-get download` (no installing, no root needed for
# that part) the kernels that the metapackages linux-image-cloud-amd64
# and linux-image-amd64 currently depend on, and busybox-static; takes
# vmlinuz out with dpkg-deb -x; builds a newc initramfs whose /init
# mounts proc, sys and dev, prints NEST86_LINUX_UP, and runs a shell on
# ttyS0 — or, with nest86.poweroff on the kernel command line, powers
# off at once (`poweroff -f`, the ACPI S5 path); with nest86.kallsyms it
# prints /proc/iomem and /proc/kallsyms first; with nest86.module it
# loads the cloud kernel's md4 module (no dependencies) with insmod,
# prints `NEST86_MODULE md4 TEXT INIT_TEXT` (the addresses of its .text
# and .init.text from /sys/module/md4/sections), unloads it again
# (running its exit function) and powers off.  initrd-kvm.img is the
# same plus the KVM modules (initrd-drm.img: plus the generic kernel's
# bochs DRM driver and its dependencies, which with nest86.bochs /init
# loads, reports on with NEST86_BOCHS_* lines and prints a line on tty1
# (fbcon on the driver's framebuffer) before the shell there): with nest86.kvm it loads sha256-ssse3, irqbypass, kvm and
# kvm-intel, prints NEST86_KVM_* lines (insmod status, the kernel's KVM
# messages, kvm_intel's parameters, whether /dev/kvm exists), runs
# nest86's own KVM client (testsuite/kvm/, built here as a static binary
# with the host's gcc; /bin/nest86-kvm-client) when /dev/kvm exists,
# again with kvm_intel reloaded with ept=0 (NAME-shadow), and powers off.
# initrd-kvm-linux.img adds the cloud kernel and a tiny initramfs for
# it under /nested: with nest86.nestedlinux /init loads KVM and has the
# client boot that kernel as KVM's guest (`nest86-kvm-client linux`),
# whose /init prints NEST86_NESTED_LINUX_OK and reboots.  Leaves:
#
#   build/linux/vmlinuz-cloud     the cloud kernel (vmlinuz -> it)
#   build/linux/vmlinuz-generic   the generic kernel (unless --cloud-only)
#   build/linux/initrd.img        the initramfs
#   build/linux/initrd-kvm.img    the initramfs with the KVM modules
#   build/linux/initrd-kvm-linux.img  and with a Linux guest for KVM
#   build/linux/initrd-drm.img    the initramfs with the generic kernel's
#                                 bochs DRM driver (unless --cloud-only)
#   build/linux/modules/md4.ko    that module, for the debugger's symbols
#   build/linux/modules/{sha256-ssse3,irqbypass,kvm,kvm-intel}.ko   KVM
#   build/linux/modules/{drm,drm_kms_helper,ttm,drm_ttm_helper,
#       drm_vram_helper,bochs}.ko  the generic kernel's bochs DRM driver
#   build/linux/nest86-kvm-client the KVM client (initrd-kvm.img only)
#   build/linux/versions          which packages these came from
#
# Needs the Debian tools apt-get, apt-cache, dpkg-deb and cpio (cpio is
# installed when missing and running as root), and gcc with libc6-dev and
# linux-libc-dev for the KVM client (scripts/deps.sh); runs `apt-get update`
# when the package lists do not know the kernels yet.  Exits 1 with one
# message when something cannot be fetched.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
out=${NEST86_BUILD:-$root/build}/linux
cloud_only=0
quiet=0
for arg in "$@"; do
    case $arg in
    --cloud-only) cloud_only=1 ;;
    --quiet) quiet=1 ;;
    *) echo "linux-fetch.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done

say() { [ "$quiet" = 1 ] || echo "linux-fetch.sh: $*" >&2; }
die() { echo "linux-fetch.sh: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb; do
    command -v "$tool" >/dev/null 2>&1 || die "needs $tool (a Debian system)"
done

mkdir -p "$out/debs"

# The versioned kernel package a metapackage points at, e.g.
# linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64.
resolve() {
    apt-cache depends "$1" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

if [ -z "$(resolve linux-image-cloud-amd64)" ]; then
    [ "$(id -u)" = 0 ] || die "the package lists do not know linux-image-cloud-amd64; run apt-get update as root"
    say "apt-get update"
    apt-get update -q >/dev/null 2>&1 || die "apt-get update failed"
fi

# fetch PACKAGE: the .deb in build/linux/debs (once); prints its path.
fetch() {
    local pkg=$1 deb
    deb=$(ls "$out/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        say "downloading $pkg"
        (cd "$out/debs" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
            die "apt-get download $pkg failed"
        deb=$(ls "$out/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
        [ -n "$deb" ] || die "apt-get download $pkg left no .deb"
    fi
    echo "$deb"
}

# kernel METAPACKAGE NAME: build/linux/vmlinuz-NAME from the current package.
kernel() {
    local pkg deb tmp
    pkg=$(resolve "$1")
    [ -n "$pkg" ] || die "cannot resolve $1 to a kernel package"
    deb=$(fetch "$pkg")
    if [ ! -f "$out/vmlinuz-$2" ] || ! grep -qx "$2 $pkg" "$out/versions" 2>/dev/null; then
        tmp=$(mktemp -d)
        dpkg-deb -x "$deb" "$tmp"
        cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz-$2.new"
        mv "$out/vmlinuz-$2.new" "$out/vmlinuz-$2"
        rm -rf "$tmp"
        { grep -v "^$2 " "$out/versions" 2>/dev/null || true; echo "$2 $pkg"; } > "$out/versions.new"
        mv "$out/versions.new" "$out/versions"
    fi
    say "$2 kernel: $pkg"
}

kernel linux-image-cloud-amd64 cloud
ln -sf vmlinuz-cloud "$out/vmlinuz"
[ "$cloud_only" = 1 ] || kernel linux-image-amd64 generic

if ! command -v cpio >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "needs cpio (apt-get install cpio, or scripts/deps.sh as root)"
    say "installing cpio"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cpio \
        >/dev/null 2>&1 || die "cannot install cpio"
fi

# module PATH [METAPACKAGE]: build/linux/modules/NAME.ko from the
# kernel/PATH.ko of the cloud kernel (or of METAPACKAGE's); decompressed
# when the package ships .ko.xz.
module() {
    local deb tmp ko name=${1##*/}
    deb=$(fetch "$(resolve "${2:-linux-image-cloud-amd64}")")
    if [ ! -f "$out/modules/$name.ko" ] || [ "$out/modules/$name.ko" -ot "$deb" ]; then
        tmp=$(mktemp -d)
        dpkg-deb --fsys-tarfile "$deb" |
            tar -x -C "$tmp" --wildcards "./lib/modules/*/kernel/$1.ko*" ||
            { rm -rf "$tmp"; die "no $1.ko in $deb"; }
        ko=$(find "$tmp" -name "$name.ko*" | head -n 1)
        case $ko in
        *.xz) xz -dc "$ko" > "$tmp/$name.ko" || { rm -rf "$tmp"; die "cannot decompress $ko"; }
              ko=$tmp/$name.ko ;;
        esac
        mkdir -p "$out/modules"
        cp "$ko" "$out/modules/$name.ko.new"
        mv "$out/modules/$name.ko.new" "$out/modules/$name.ko"
        rm -rf "$tmp"
    fi
}
# md4 depends on no other module (the debugger's module tests); KVM is
# irqbypass <- kvm <- kvm-intel, loaded in that order (nest86.kvm), after
# sha256-ssse3 (no dependencies), which a distribution's udev loads at
# boot for the CPU's SSSE3/SHA features: with it the kernel checks the
# KVM modules' signatures with SHA-NI instead of its generic C SHA-256
module crypto/md4
module arch/x86/crypto/sha256-ssse3
module virt/lib/irqbypass
module arch/x86/kvm/kvm
module arch/x86/kvm/kvm-intel
# the generic kernel's bochs DRM driver and what it depends on (the
# .ko's depends= lists), loaded in this order (nest86.bochs)
drm_modules="drm drm_kms_helper ttm drm_ttm_helper drm_vram_helper bochs"
if [ "$cloud_only" = 0 ]; then
    for m in drm drm_kms_helper ttm/ttm drm_ttm_helper drm_vram_helper tiny/bochs; do
        module "drivers/gpu/drm/$m" linux-image-amd64
    done
fi

# nest86's own KVM client (testsuite/kvm/), for initrd-kvm.img: built
# here, with the host's gcc and static libc, so that it needs no
# configured tree; rebuilt when its sources change.
client=$out/nest86-kvm-client
client_src="$root/testsuite/kvm/client.c $root/testsuite/kvm/vm.c $root/testsuite/kvm/linux.c $root/testsuite/kvm/guests.S"
stale=0
[ -f "$client" ] || stale=1
for f in $client_src "$root"/testsuite/kvm/*.h; do
    if [ "$client" -ot "$f" ]; then stale=1; fi
done
if [ "$stale" = 1 ]; then
    command -v gcc >/dev/null 2>&1 || die "needs gcc to build the KVM client (scripts/deps.sh)"
    say "building the KVM client"
    # shellcheck disable=SC2086 # the list is words on purpose
    gcc -static -s -O2 -Wall -Wextra -Werror -o "$client.new" $client_src ||
        die "cannot build testsuite/kvm/client.c (needs libc6-dev and linux-libc-dev: scripts/deps.sh)"
    mv "$client.new" "$client"
fi

bb_deb=$(fetch busybox-static)
initrd=$out/initrd.img
initrd_kvm=$out/initrd-kvm.img
initrd_kvm_linux=$out/initrd-kvm-linux.img
initrd_drm=$out/initrd-drm.img
drm_stale=0
if [ "$cloud_only" = 0 ] && { [ ! -f "$initrd_drm" ] || [ "$initrd_drm" -ot "$out/modules/bochs.ko" ] ||
    [ "$initrd_drm" -ot "$0" ]; }; then
    drm_stale=1
fi
if [ "$drm_stale" = 1 ] || [ ! -f "$initrd" ] || [ ! -f "$initrd_kvm" ] || [ ! -f "$initrd_kvm_linux" ] ||
    [ "$initrd_kvm_linux" -ot "$out/vmlinuz-cloud" ] || [ "$initrd_kvm_linux" -ot "$client" ] || [ "$initrd" -ot "$0" ] || [ "$initrd" -ot "$bb_deb" ] ||
    [ "$initrd" -ot "$out/modules/md4.ko" ] || [ "$initrd" -ot "$out/modules/kvm-intel.ko" ] ||
    [ "$initrd_kvm" -ot "$client" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$bb_deb" "$tmp/pkg"
    stage=$tmp/root
    mkdir -p "$stage"/{bin,dev,proc,sys,tmp,sbin,usr/bin,usr/sbin}
    cp "$tmp/pkg/bin/busybox" "$stage/bin/busybox"
    mkdir -p "$stage/lib/modules"
    cp "$out/modules/md4.ko" "$stage/lib/modules/md4.ko"
    ln -s busybox "$stage/bin/sh"
    # The kernel opens /dev/console for init before anything is mounted.
    mknod "$stage/dev/console" c 5 1 2>/dev/null ||
        die "cannot create the console device node (run as root)"
    cat > "$stage/init" <<'EOF'
#!/bin/sh
# nest86 test initramfs: mount the kernel file systems, say so, then a
# shell on the serial console (or on tty1: nest86.tty0; or power off at once: nest86.poweroff;
# or print /proc/iomem and /proc/kallsyms first: nest86.kallsyms; or
# load and unload a module first: nest86.module; or load KVM and report:
# nest86.kvm; or load the bochs DRM driver and report: nest86.bochs).
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "NEST86_LINUX_UP $(uname -r)"
if grep -q nest86.kallsyms /proc/cmdline; then
    # the physical memory map (root sees real addresses: "Kernel code"
    # is where the kernel's text really is), then the kernel's symbol
    # table in System.map format, for the debugger
    echo NEST86_IOMEM_BEGIN
    cat /proc/iomem
    echo NEST86_IOMEM_END
    echo NEST86_KALLSYMS_BEGIN
    cat /proc/kallsyms
    echo NEST86_KALLSYMS_END
    poweroff -f
fi
if grep -q nest86.module /proc/cmdline; then
    # md4: its init function runs inside insmod, its exit one in rmmod
    insmod /lib/modules/md4.ko
    grep '^md4 ' /proc/modules
    echo "NEST86_MODULE md4 $(cat /sys/module/md4/sections/.text)" \
        "$(cat /sys/module/md4/sections/.init.text 2>/dev/null || echo none)"
    rmmod md4
    echo NEST86_MODULE_DONE
    poweroff -f
fi
if grep -q nest86.nestedlinux /proc/cmdline; then
    # Linux inside KVM inside this Linux: the client boots the cloud
    # kernel with /nested/initrd.img as its guest (NEST86_KVM_LINUX
    # lines are the guest's console)
    for m in sha256-ssse3 irqbypass kvm kvm-intel; do
        insmod /lib/modules/$m.ko
        echo "NEST86_KVM_INSMOD $m $?"
    done
    /bin/nest86-kvm-client linux /nested/vmlinuz /nested/initrd.img \
        "console=ttyS0 quiet reboot=t panic=-1"
    echo "NEST86_KVM_CLIENT_EXIT $?"
    echo NEST86_KVM_DONE
    poweroff -f
fi
if grep -q 'nest86\.kvm\( \|$\)' /proc/cmdline; then
    # KVM: load kvm_intel as a distribution would (sha256_ssse3, which
    # udev loads for the CPU's features, first), report what it says
    # and the features it enabled, then power off
    for m in sha256-ssse3 irqbypass kvm kvm-intel; do
        insmod /lib/modules/$m.ko
        echo "NEST86_KVM_INSMOD $m $?"
    done
    dmesg | grep -i -e kvm -e vmx | sed 's/^/NEST86_KVM_DMESG /'
    for p in ept vpid unrestricted_guest eptad pml enable_shadow_vmcs preemption_timer enable_apicv flexpriority nested ple_gap; do
        echo "NEST86_KVM_PARAM $p $(cat /sys/module/kvm_intel/parameters/$p 2>/dev/null || echo -)"
    done
    if [ -c /dev/kvm ]; then
        echo NEST86_KVM_DEV
        # nest86's own KVM client runs its guests (NEST86_KVM_GUEST
        # lines); whatever the kernel says meanwhile follows
        before=$(dmesg | wc -l)
        /bin/nest86-kvm-client
        echo "NEST86_KVM_CLIENT_EXIT $?"
        # the same guests on KVM's other MMU: shadow paging (ept=0)
        rmmod kvm_intel && insmod /lib/modules/kvm-intel.ko ept=0
        echo "NEST86_KVM_RELOAD ept=0 $?" \
            "ept=$(cat /sys/module/kvm_intel/parameters/ept 2>/dev/null || echo -)" \
            "unrestricted_guest=$(cat /sys/module/kvm_intel/parameters/unrestricted_guest 2>/dev/null || echo -)"
        [ -c /dev/kvm ] && /bin/nest86-kvm-client -s shadow
        echo "NEST86_KVM_CLIENT_EXIT $?"
        dmesg | tail -n +$((before + 1)) | sed 's/^/NEST86_KVM_DMESG /'
    fi
    echo NEST86_KVM_DONE
    poweroff -f
fi
if grep -q nest86.bochs /proc/cmdline; then
    # the generic kernel's bochs DRM driver (initrd-drm.img): load it
    # and its dependencies, report what it says and the device it made,
    # print on tty1 (fbcon on its framebuffer), then the shell on tty1 and the
    # PS/2 keyboard (the test takes a screendump and types poweroff)
    for m in drm drm_kms_helper ttm drm_ttm_helper drm_vram_helper bochs; do
        insmod /lib/modules/$m.ko
        echo "NEST86_BOCHS_INSMOD $m $?"
    done
    dmesg | grep -i -e bochs -e '\[drm\]' -e fbcon | sed 's/^/NEST86_BOCHS_DMESG /'
    [ -e /sys/class/drm/card0 ] && echo "NEST86_BOCHS_CARD0 $(basename "$(readlink /sys/class/drm/card0/device/driver)")"
    [ -e /sys/class/graphics/fb0 ] && echo "NEST86_BOCHS_FB0 $(cat /sys/class/graphics/fb0/name)" \
        "$(cat /sys/class/graphics/fb0/virtual_size) $(cat /sys/class/graphics/fb0/bits_per_pixel)"
    # text on tty1: fbcon takes the framebuffer over at its first
    # output and draws it
    echo NEST86_BOCHS_TEXT > /dev/tty1
    exec setsid sh -c 'exec </dev/tty1 >/dev/tty1 2>&1; echo NEST86_BOCHS_DONE >/dev/ttyS0; exec sh'
fi
if grep -q nest86.poweroff /proc/cmdline; then
    poweroff -f
fi
if grep -q nest86.tty0 /proc/cmdline; then
    # the shell on the VGA console and the PS/2 keyboard instead (tty1),
    # for the window's tests: the marker on the serial port once tty1
    # is open, so that keys typed from then on wait for the shell
    exec setsid sh -c 'exec </dev/tty1 >/dev/tty1 2>&1; echo NEST86_TTY0_SHELL >/dev/ttyS0; exec sh'
fi
exec setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'
EOF
    chmod 755 "$stage/init"
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$initrd.new"
    mv "$initrd.new" "$initrd"
    say "initramfs: $initrd"
    # the same with the KVM modules, apart: 3 MB more to unpack would
    # slow every other boot
    for m in sha256-ssse3 irqbypass kvm kvm-intel; do
        cp "$out/modules/$m.ko" "$stage/lib/modules/$m.ko"
    done
    cp "$client" "$stage/bin/nest86-kvm-client"
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$initrd_kvm.new"
    mv "$initrd_kvm.new" "$initrd_kvm"
    say "initramfs with KVM: $initrd_kvm"
    # and with a Linux guest for KVM: the cloud kernel again, and an
    # initramfs of busybox whose /init says it reached userspace and
    # reboots (no ACPI in the client's VM: reboot=t ends it)
    nested=$tmp/nested
    mkdir -p "$nested"/{bin,dev,proc,sbin,usr/bin,usr/sbin}
    cp "$tmp/pkg/bin/busybox" "$nested/bin/busybox"
    ln -s busybox "$nested/bin/sh"
    mknod "$nested/dev/console" c 5 1
    cat > "$nested/init" <<'EOF'
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
echo "NEST86_NESTED_LINUX_OK $(uname -r) $(grep -c ^processor /proc/cpuinfo) CPU:$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
reboot -f
EOF
    chmod 755 "$nested/init"
    mkdir -p "$stage/nested"
    (cd "$nested" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$stage/nested/initrd.img"
    cp "$out/vmlinuz-cloud" "$stage/nested/vmlinuz"
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$initrd_kvm_linux.new"
    mv "$initrd_kvm_linux.new" "$initrd_kvm_linux"
    say "initramfs with KVM and a Linux guest: $initrd_kvm_linux"
    # and with the generic kernel's DRM modules instead (nest86.bochs)
    if [ "$cloud_only" = 0 ]; then
        rm -rf "$stage/nested" "$stage/bin/nest86-kvm-client" "$stage"/lib/modules/*.ko
        for m in $drm_modules; do
            cp "$out/modules/$m.ko" "$stage/lib/modules/$m.ko"
        done
        (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$initrd_drm.new"
        mv "$initrd_drm.new" "$initrd_drm"
        say "initramfs with the bochs DRM driver: $initrd_drm"
    fi
fi
