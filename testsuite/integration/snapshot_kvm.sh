#!/usr/bin/env bash
# testsuite/integration/snapshot_kvm.sh — exact resume of Debian's own
# KVM from a snapshot saved while KVM's guest runs in VMX non-root
# operation (docs/snapshots.md).
#
# The linux_kvm scenario (the cloud kernel, initrd-kvm.img, `nest86.kvm`:
# kvm_intel loads, nest86's KVM client runs its guests, the machine
# powers off).  Run 1's -x script stops at KVM's first I/O-instruction
# exit (the client's `io` guest writing port 0x1234), then at the next VM
# entry — the guest's first instruction, in non-root operation — saves
# the machine there and continues to the end; run 2 resumes the file
# with -loadvm and runs to the end.  Sub-tests (testsuite/run protocol):
#   snapkvm/nonroot  the stop was in non-root operation (`vmcs` says
#                    so) and savevm wrote the file
#   snapkvm/serial   run 2's console is run 1's after the save point,
#                    byte for byte (the `continue` after savevm marks it)
#   snapkvm/icount   both runs retired the same number of instructions
#                    (-d stats)
#   snapkvm/done     both runs finished the scenario: the client's guests
#                    all passed (NEST86_KVM_DONE) and the machine powered
#                    off (status 0)
#   snapkvm/threads  the machine loaded from the file and saved again on
#                    one CPU (taskset) stores its RAM in exactly the bytes
#                    of the first save's, made on two threads: the file
#                    does not depend on the number of threads
set -u
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL snapkvm/nonroot: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
. "$root/testsuite/snapshot_resume.sh"
command -v python3 >/dev/null || missing snapkvm/nonroot "no python3"
if ! fetch_err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing snapkvm/nonroot "cannot fetch Debian's kernel: ${fetch_err##*$'\n'}"
fi
[ -f "$build/linux/initrd-kvm.img" ] || missing snapkvm/nonroot "no $build/linux/initrd-kvm.img"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS snapkvm/$1"; }
fail() { echo "FAIL snapkvm/$1: $2"; failures=$((failures + 1)); }
machine=(-m 512M -display none -no-reboot -serial stdio -d stats)
boot=(-kernel "$build/linux/vmlinuz-cloud" -initrd "$build/linux/initrd-kvm.img"
      -append "console=ttyS0 quiet nest86.kvm")

cat > "$tmp/save.x" <<EOF
break vmexit io_instruction
continue
delete
break vmentry
continue
delete
vmcs
savevm $tmp/kvm.snap
continue
EOF
save_and_resume "$tmp" "$tmp/kvm.snap"

# the stop: a VM entry of KVM's guest, `vmcs` printing non-root operation
if grep -q 'stopped: .*VM entry' "$tmp/out1" &&
    sed -n '/^(nest86) vmcs$/,/^(nest86) savevm/p' "$tmp/out1" | grep -q '^VMX: non-root operation' &&
    grep -q "^saved the machine to $tmp/kvm.snap (icount [0-9]*)" "$tmp/out1" && [ -s "$tmp/kvm.snap" ]; then
    pass nonroot
else
    fail nonroot "no save at a VM entry in non-root operation: $(grep -m1 -e 'stopped:' -e 'savevm' "$tmp/out1" | tail -c 200) $(tail -n 2 "$tmp/err1")"
fi

resume_checks "$tmp"

if grep -q NEST86_KVM_DONE "$tmp/after1" && grep -q NEST86_KVM_DONE "$tmp/out2" &&
    [ $status1 -eq 0 ] && [ $status2 -eq 0 ]; then
    pass done
else
    fail done "the scenario did not finish in both runs (exit statuses $status1 and $status2; want 0 and NEST86_KVM_DONE after the save point)"
fi
# RAM saved by one thread against the first save's (nest86 deflates on
# as many threads as CPUs it may run on, up to 4)
ram_section() { # FILE: the md5 of the ram section's payload, and its length
    python3 - "$1" <<'EOF'
import hashlib, struct, sys
b = open(sys.argv[1], 'rb').read()
pos = 20 + struct.unpack_from('<I', b, 12)[0]
while pos + 32 <= len(b):
    slen = struct.unpack_from('<Q', b, pos + 20)[0]
    if b[pos:pos + 16].rstrip(b'\0') == b'ram':
        print(hashlib.md5(b[pos + 32:pos + 32 + slen]).hexdigest(), slen)
    pos += 32 + slen
EOF
}
if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
    echo "SKIP snapkvm/threads: needs taskset and two CPUs"
else
    printf 'savevm %s\nquit\n' "$tmp/one.snap" > "$tmp/one.x"
    taskset -c 0 "$NEST86" "${machine[@]}" -loadvm "$tmp/kvm.snap" -x "$tmp/one.x" \
        > "$tmp/out3" 2>&1 < /dev/null
    r1=$(ram_section "$tmp/kvm.snap") r2=$(ram_section "$tmp/one.snap")
    if [ -n "$r1" ] && [ "${r1#* }" -gt 1000000 ] && [ "$r1" = "$r2" ]; then
        pass threads
    else
        fail threads "the RAM saved on one CPU ('$r2', md5 and length) differs from the two-thread save's ('$r1'): $(tail -n 1 "$tmp/out3")"
    fi
fi
[ $failures -eq 0 ]
