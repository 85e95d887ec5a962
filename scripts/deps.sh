#!/bin/sh
# scripts/deps.sh — makes sure the Debian packages that building and
# testing nest86 need are installed.  As root it installs the missing
# ones; otherwise it prints the exact command to run and exits 1.
#
# These two lists are the only place these packages are named for
# installing; configure names the one a missing library comes from.
#
# Usage: scripts/deps.sh [--bench] [--quiet]
#   --quiet: say nothing when all are there
#   --bench: the other list, the emulators `make bench` compares nest86
#            with and what their runs need (testsuite/bench/run, bochs.sh),
#            instead of the build and test packages

PACKAGES="gcc libc6-dev linux-libc-dev binutils make pkg-config libsdl2-dev libcapstone-dev zlib1g-dev libreadline-dev cpio gdb python3"
# QEMU's TCG; Bochs with its BIOSes, and what builds its boot disk
# (a FAT image that syslinux boots)
BENCH_PACKAGES="qemu-system-x86 bochs bochsbios vgabios syslinux syslinux-common mtools dosfstools"

quiet=0
for arg in "$@"; do
    case $arg in
    --quiet) quiet=1 ;;
    --bench) PACKAGES=$BENCH_PACKAGES ;;
    *) echo "usage: scripts/deps.sh [--bench] [--quiet]" >&2; exit 2 ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: leave it to ./configure to say what is missing.
    echo "deps.sh: no dpkg here; install the equivalents of: $PACKAGES" >&2
    exit 0
fi

# One dpkg-query call for the whole list keeps the common case (all
# present) cheap enough to run before every `make check`.
# shellcheck disable=SC2086 # the list is words on purpose
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $PACKAGES 2>/dev/null \
            | awk '$2 == "installed" { print $1 }')
missing=
for pkg in $PACKAGES; do
    echo "$installed" | grep -qx "$pkg" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
    # shellcheck disable=SC2086
    [ "$quiet" = 1 ] || echo "deps.sh: all packages present:$(printf ' %s' $PACKAGES)"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages; run:" >&2
    echo "sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || exit 1
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing || exit 1
