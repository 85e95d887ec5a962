#!/usr/bin/env bash
# testsuite/integration/linux_boot_generic.sh — the same boot and shell
# session as linux_boot.sh with Debian's generic linux-image-amd64 kernel
# (issue "PC platform and boot": the second kernel).
LINUX_FLAVOUR=generic exec bash "$(dirname "$0")/linux_boot.sh"
