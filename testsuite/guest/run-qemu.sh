#!/bin/sh
# Run one guest test kernel under QEMU (TCG) the way nest86 runs it:
#   testsuite/guest/run-qemu.sh build/guest/NAME.elf
# The command line word "qemu-tcg" lets tests accept the few places where
# QEMU TCG is known to differ from the SDM (see README.md).
# QEMU_CPU=max (or another model) adds -cpu, for tests that need SMEP,
# SMAP, PKU, PCID, LA57 and the like (QEMU's default model lacks them).
# Exit status: 0 when the kernel exited with value 0 (PASS), 1 otherwise.
# QEMU reports isa-debug-exit value V as status (V<<1)|1; a plain QEMU exit
# (status 0) means the kernel never reached the exit port (e.g. it
# triple-faulted and -no-reboot stopped the machine).
[ $# -eq 1 ] || { echo "usage: $0 KERNEL.elf" >&2; exit 2; }
QEMU=${QEMU:-qemu-system-x86_64}
timeout "${GUEST_TIMEOUT:-30}" "$QEMU" -accel tcg ${QEMU_CPU:+-cpu "$QEMU_CPU"} \
    -kernel "$1" -append qemu-tcg \
    -display none -no-reboot -monitor none -serial stdio \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null
status=$?
if [ "$status" -eq 1 ]; then
    exit 0
fi
echo "run-qemu: $1: QEMU exit status $status (kernel exit value $(( (status - 1) / 2 )) if odd)" >&2
exit 1
