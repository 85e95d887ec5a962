#!/usr/bin/env bash
# testsuite/integration/linux_kvm.sh — Debian's own KVM inside nest86:
# the cloud kernel boots with the KVM initramfs (scripts/linux-fetch.sh,
# initrd-kvm.img) and `nest86.kvm`, whose /init loads irqbypass, kvm and
# kvm-intel with insmod, prints the kernel's KVM messages and
# kvm_intel's parameters, runs nest86's KVM client, and powers off.
#
# Sub-tests (testsuite/run protocol):
#   load     every insmod succeeded (kvm_intel accepted nest86's VMX:
#            CPUID, IA32_FEATURE_CONTROL, the capability MSRs, VMXON)
#   dev      /dev/kvm exists
#   quiet    the kernel printed no KVM or VMX error ("disabled by bios",
#            "not supported", "unchecked MSR access", a VMX instruction
#            fault)
#   params   kvm_intel takes what nest86 offers: ept, vpid,
#            unrestricted_guest, eptad, pml, enable_shadow_vmcs,
#            preemption_timer, enable_apicv (APIC-register
#            virtualization, virtual-interrupt delivery and posted
#            interrupts), flexpriority (TPR shadow and virtualized APIC
#            accesses) and nested all read Y (and are printed)
#   ple      kvm_intel's ple_gap is not 0: it uses PAUSE-loop exiting
#   guest-NAME  nest86's own KVM client (testsuite/kvm/client.c) ran its
#            guest NAME inside that KVM and checked every exit:
#            io (port I/O both ways, HLT), dirty (300 pages written, read
#            back from the slot, KVM_GET_DIRTY_LOG), fault (#UD, #GP,
#            #PF through the guest's IDT), mmio (KVM_EXIT_MMIO writes and
#            a read), realmode (real-mode code: unrestricted guest, or
#            with ept=0 KVM's virtual-8086 mode with CR4.VME),
#            intr (KVM_INTERRUPT: with IF=1, at an interrupt window, into
#            HLT), timer (KVM_CREATE_IRQCHIP: xAPIC timer ticks, then
#            KVM_IRQ_LINE through the in-kernel IOAPIC)
#   guest-NAME-shadow  the same with kvm_intel reloaded with ept=0: KVM's
#            shadow paging instead of EPT
#   poweroff nest86 ended with status 0
set -u
. "$(dirname "$0")/../kvm_boot.sh"
kvm_boot linux_kvm kvm/load 512M initrd-kvm.img "console=ttyS0 quiet nest86.kvm" 300

if ! grep -q '^NEST86_KVM_DONE' "$console.txt"; then
    echo "FAIL kvm/load: the KVM report never finished (status $status; see $console)"
    exit 1
fi
kvm_insmod_result kvm/load
result kvm/dev "$(grep -q '^NEST86_KVM_DEV' "$console.txt" && echo 1)" "no /dev/kvm"
errs=$(grep -v '^NEST86_KVM_GUEST' "$console.txt" |
       grep -iE 'disabled by bios|not supported|unchecked MSR|vmx.*(fail|error)|kvm.*(fail|error)|general protection' |
       head -3)
result kvm/quiet "$([ -z "$errs" ] && echo 1)" "the kernel said: $errs"
params=$(grep '^NEST86_KVM_PARAM' "$console.txt" | awk '{ printf "%s=%s ", $2, $3 }')
# what nest86's VMX offers, kvm_intel must take: each of these reads Y
notY=
for p in ept vpid unrestricted_guest eptad pml enable_shadow_vmcs preemption_timer enable_apicv flexpriority nested; do
    grep -q "^NEST86_KVM_PARAM $p Y" "$console.txt" || notY="$notY $p"
done
result kvm/params "$([ -z "$notY" ] && echo 1)" "kvm_intel's parameters not Y:$notY"
# PAUSE-loop exiting: kvm_intel sets ple_gap to 0 when the CPU lacks it
ple=$(grep '^NEST86_KVM_PARAM ple_gap ' "$console.txt" | awk '{ print $3 }')
result kvm/ple "$([ -n "$ple" ] && [ "$ple" != - ] && [ "$ple" -gt 0 ] 2>/dev/null && echo 1)" \
    "kvm_intel's ple_gap is '${ple}', so it does not use PAUSE-loop exiting"
echo "# kvm_intel: $params"
for g in io dirty fault mmio realmode intr timer io-shadow dirty-shadow fault-shadow mmio-shadow realmode-shadow intr-shadow timer-shadow; do
    line=$(grep "^NEST86_KVM_GUEST $g " "$console.txt" | head -n 1)
    verdict=$(echo "$line" | awk '{ print $3 }')
    why=$(echo "$line" | cut -d' ' -f4-)
    case $verdict in
    PASS) echo "PASS kvm/guest-$g" ;;
    FAIL) echo "FAIL kvm/guest-$g: $why (see $console)" ;;
    SKIP) echo "FAIL kvm/guest-$g: the client skipped it ($why)" ;;
    *) echo "FAIL kvm/guest-$g: no result from the KVM client ($(grep -m1 '^NEST86_KVM_CLIENT' "$console.txt" || echo 'it did not run'); see $console)" ;;
    esac
done
result kvm/poweroff "$([ "$status" = 0 ] && echo 1)" "nest86 ended with status $status"
