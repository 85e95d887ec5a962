#!/usr/bin/env bash
# testsuite/integration/linux_kvm_watchers.sh — the debugger on Debian's
# own KVM inside nest86 (issue 14): the KVM boot of
# integration/linux_kvm (initrd-kvm.img, nest86.kvm; nokaslr so that
# System.map holds) under a debugger script that
#   - loads the kernel's System.map and, with `symbols modules`, the
#     symbols of each module as insmod loads it (kvm.ko, kvm-intel.ko
#     from build/linux/modules, placed where the kernel put them);
#   - stops once kvm_intel's are in (`catch module kvm_intel`), sets
#     `break vmx_vcpu_run` by name and runs to it;
#   - there sets `ept watch 0` (guest-physical 0 through the EPTP KVM
#     just loaded) and runs to KVM's first write of that walk's entries;
#   - then turns the missing-invalidation detector on and runs the KVM
#     client's guests to the power-off.
#
# Sub-tests (testsuite/run protocol):
#   boot          the kernel could be fetched
#   modules       kvm and kvm_intel symbols loaded at their load
#   catch-module  the stop after kvm_intel's symbols
#   break         the stop at vmx_vcpu_run, named, `info symbol rip` too
#   caller        `backtrace scan` finds the caller in kvm.ko
#                 (kvm_arch_vcpu_ioctl_run): both modules' symbols agree
#                 with the running code
#   ept-watch     the EPT watch stops on a write by KVM, old and new
#                 entry decoded
#   ept-writer    the writing instruction is in KVM's MMU (tdp_mmu_*,
#                 kvm_tdp_mmu_map, direct_page_fault, kvm_mmu_page_fault)
#   ept-stack     ... and so is a caller in its stack
#   invept-armed  then, with `check invept on`, at kvm_intel's handle_io
#                 (the first guest's port I/O exit: it has run a while) the
#                 detector watches the translations kept for KVM's guest
#   invept-silent ... and KVM (a correct hypervisor) runs all 14 of the
#                 KVM client's guests (EPT and shadow paging) without a
#                 missing-invalidation report
#   poweroff      nest86 ended with status 0
set -u
. "$(dirname "$0")/../kvm_boot.sh"
kvm_debug_script=$(mktemp)
trap 'rm -f "$kvm_debug_script"' EXIT
cat > "$kvm_debug_script" <<CMDS
symbols $build/linux/System.map-cloud
symbols modules $build/linux/modules
catch module kvm_intel
continue
break vmx_vcpu_run
continue
info symbol rip
backtrace scan
ept watch 0
continue
ept watch
delete
check invept on
tbreak handle_io
continue
check invept
continue
CMDS
kvm_boot linux_kvm_watchers kvm-watchers/boot 512M initrd-kvm.img \
    "console=ttyS0 quiet nokaslr nest86.kvm" 800
out=$debugger_log
has() { grep -qE -- "$1" "$out" && echo 1; }

result kvm-watchers/modules "$(grep -q '^module kvm: loaded [0-9]* symbols' "$out" &&
    has '^module kvm_intel: loaded [0-9]* symbols from .*kvm-intel.ko')" \
    "$(grep -m2 '^module kvm' "$out" | tr '\n' '|')"
result kvm-watchers/catch-module "$(has '^stopped: Catchpoint 1: module kvm_intel loaded')" \
    "no stop after kvm_intel's symbols"
result kvm-watchers/break "$(grep -A1 '^(nest86) info symbol rip' "$out" | grep -q 'is vmx_vcpu_run$' &&
    has '^stopped: Breakpoint 2 at 0xffffffff[0-9a-f]+ <vmx_vcpu_run>$')" \
    "$(grep -m3 '^stopped:' "$out" | tail -n 1)"
result kvm-watchers/caller "$(sed -n '/^(nest86) backtrace scan/,/^(nest86) ept watch/p' "$out" |
    grep -q '<kvm_arch_vcpu_ioctl_run+' && echo 1)" "no kvm_arch_vcpu_ioctl_run in the stack"
# the EPT watch's stop: its lines up to (not with) the location line
sed -n '/^stopped: EPT watch 3: write to the EPT /,/^=> /p' "$out" | grep -v '^=> ' > "$out.watch"
result kvm-watchers/ept-watch "$(grep -q '^  old 0x' "$out.watch" && grep -q '^  new 0x' "$out.watch" &&
    echo 1)" "no EPT watch stop with old and new entry ($(grep -m4 '^stopped:' "$out" | tail -n 1))"
kvm_mmu='<(__)?(tdp_mmu_|kvm_tdp_mmu_|mmu_spte_|direct_page_fault|kvm_mmu_page_fault)'
result kvm-watchers/ept-writer "$(grep -E "^  written by 0x[0-9a-f]+ $kvm_mmu" "$out.watch" >/dev/null &&
    echo 1)" "the writer is not KVM's MMU: $(grep '^  written by' "$out.watch")"
result kvm-watchers/ept-stack "$(sed -n '/^  stack:/,$p' "$out.watch" | grep -E "^ +\?  0x[0-9a-f]+ $kvm_mmu" >/dev/null &&
    echo 1)" "no KVM MMU caller in the stack: $(tr '\n' '|' < "$out.watch" | cut -c1-300)"
kept=$(sed -n 's/^invept: on, 0 reports, \([0-9]*\) kept translations\{0,1\} watched$/\1/p' "$out")
result kvm-watchers/invept-armed "$([ "${kept:-0}" -gt 0 ] && echo 1)" \
    "the detector watched no translation of KVM's guest: $(grep '^invept:' "$out")"
passed=$(grep -c '^NEST86_KVM_GUEST [a-z-]* PASS' "$console.txt")
result kvm-watchers/invept-silent "$([ "$passed" = 14 ] && ! grep -q '^stopped: missing' "$out" && echo 1)" \
    "$passed of 14 KVM guests passed; $(grep -m1 '^stopped: missing' "$out")"
result kvm-watchers/poweroff "$([ "$status" = 0 ] && echo 1)" "nest86 ended with status $status"
