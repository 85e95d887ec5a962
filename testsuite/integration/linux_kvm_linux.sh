#!/usr/bin/env bash
# testsuite/integration/linux_kvm_linux.sh — Linux inside KVM inside
# Linux inside nest86: the cloud kernel boots with initrd-kvm-linux.img
# (scripts/linux-fetch.sh) and `nest86.nestedlinux`; its /init loads
# Debian's kvm_intel, and nest86's KVM client (testsuite/kvm/linux.c)
# boots the same cloud kernel as KVM's guest, with a busybox initramfs
# whose /init prints NEST86_NESTED_LINUX_OK and reboots.  The nested
# guest's console (a UART the client emulates, port I/O through KVM)
# comes out as NEST86_KVM_LINUX lines.
#
# Sub-tests (testsuite/run protocol):
#   kvm-linux/load     every insmod succeeded
#   kvm-linux/guest    the client's verdict: the nested kernel reached its
#                      /init, printed the line, and ended by its reboot
#   kvm-linux/kernel   the nested guest ran the same kernel release as
#                      its host (uname -r on both sides)
#   kvm-linux/poweroff nest86 ended with status 0
set -u
. "$(dirname "$0")/../kvm_boot.sh"
kvm_boot linux_kvm_linux kvm-linux/load 1G initrd-kvm-linux.img "console=ttyS0 quiet nest86.nestedlinux" 600

if ! grep -q '^NEST86_KVM_DONE' "$console.txt"; then
    echo "FAIL kvm-linux/load: the report never finished (status $status; see $console)"
    exit 1
fi
kvm_insmod_result kvm-linux/load
verdict=$(grep -m1 '^NEST86_KVM_GUEST linux ' "$console.txt" | cut -d' ' -f3-)
result kvm-linux/guest "$([ "$verdict" = PASS ] && echo 1)" \
    "the client said: ${verdict:-nothing}; the nested console ended: $(grep '^NEST86_KVM_LINUX |' "$console.txt" | tail -2 | tr '\n' ' ')"
host_release=$(sed -n 's/^NEST86_LINUX_UP //p' "$console.txt" | head -n 1)
guest_release=$(sed -n 's/^NEST86_KVM_LINUX | NEST86_NESTED_LINUX_OK \([^ ]*\).*/\1/p' "$console.txt" | head -n 1)
result kvm-linux/kernel "$([ -n "$host_release" ] && [ "$host_release" = "$guest_release" ] && echo 1)" \
    "host runs '${host_release}', the nested guest said '${guest_release}'"
grep '^NEST86_KVM_LINUX_STATS seconds' "$console.txt" | sed 's/^NEST86_KVM_LINUX_STATS/# nested Linux (guest-time):/'
result kvm-linux/poweroff "$([ "$status" = 0 ] && echo 1)" "nest86 ended with status $status"
