# testsuite/vmx_cli.sh — sourced by the scripted-debugger tests of VMX
# guest kernels (testsuite/cli/vmx_*.sh).
#
#   vmx_cli_setup NAME   sets NEST86, build, kernel (build/guest/NAME.elf),
#                        elf64 (its 64-bit build with symbols) and tmp (a
#                        directory removed at exit); a kernel not built is
#                        a FAIL and the end of the script
# and check/check_count (testsuite/check.sh)
set -u

vmx_cli_setup() {
    NEST86=${NEST86:-./nest86}
    build=${NEST86_BUILD:-build}
    kernel=$build/guest/$1.elf
    elf64=$build/guest/t64/$1.elf64
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    if [ ! -f "$kernel" ]; then
        echo "FAIL ${1//_/-}: $kernel is not built (make check builds it)"
        exit 1
    fi
}

. "${NEST86_ROOT:-.}/testsuite/check.sh"
