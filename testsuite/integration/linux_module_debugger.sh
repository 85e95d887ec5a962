#!/usr/bin/env bash
# testsuite/integration/linux_module_debugger.sh — a breakpoint on a
# function of a loadable Linux module (issue "Debugger, part 1").
#
# The initramfs of scripts/linux-fetch.sh carries the cloud kernel's
# md4.ko; with nest86.module its /init loads it with insmod, prints
# `NEST86_MODULE md4 TEXT INIT_TEXT` (from /sys/module/md4/sections),
# unloads it and powers off.  A first nokaslr boot reads those
# addresses; with nokaslr the same boot places the module at the same
# addresses again, so a second boot under the debugger loads md4.ko's
# symbols there (`symbols md4.ko TEXT .init.text=INIT_TEXT`), stops on
# the init function md4_mod_init while insmod runs it, names it with
# `info symbol rip`, then stops on md4_mod_fini (.exit.text, placed
# after .text by the file-order layout) while rmmod runs it, and
# `continue`s to the power-off (status 0).
set -u
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL linux-module/setup: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
command -v readelf >/dev/null 2>&1 || missing linux-module/setup "no readelf (binutils)"
if ! err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing linux-module/setup "cannot fetch Debian's kernel: ${err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-cloud
initrd=$build/linux/initrd.img
ko=$build/linux/modules/md4.ko
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS linux-module/$1"; }
fail() { echo "FAIL linux-module/$1: $2"; failures=$((failures + 1)); }
append="console=ttyS0 quiet nokaslr nest86.module"

# (a) where the module lands
timeout 300 "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" -append "$append" \
    -serial stdio -no-reboot < /dev/null 2> "$tmp/a.err" | tr -d '\r' > "$tmp/a.out"
read -r _ name text init < <(grep -m1 '^NEST86_MODULE ' "$tmp/a.out")
if [ "${name:-}" = md4 ] && [[ ${text:-} =~ ^0x[0-9a-f]+$ ]] && [[ ${init:-} =~ ^0x[0-9a-f]+$ ]] &&
    grep -q '^NEST86_MODULE_DONE' "$tmp/a.out"; then
    pass load-address
else
    echo "FAIL linux-module/load-address: no NEST86_MODULE line ($(tail -n 2 "$tmp/a.out" "$tmp/a.err" | tr '\n' '|'))"
    exit 1
fi

# the functions' addresses from the .ko itself: section address + st_value
sym() { # SYMBOL SECTION-ADDRESS
    local v
    v=$(readelf -sW "$ko" 2>/dev/null | awk -v s="$1" '$8 == s && $4 == "FUNC" { print $2; exit }')
    [ -n "$v" ] && printf '0x%x' $(($2 + 0x$v))
}
init_fn=$(sym md4_mod_init "$init")
[ -n "$init_fn" ] || { echo "FAIL linux-module/symbols: no md4_mod_init in $ko"; exit 1; }

# (b) the same boot under the debugger
cat > "$tmp/session.x" <<EOF
symbols $ko $text .init.text=$init
print md4_mod_init
break md4_mod_init
break md4_mod_fini
continue
info symbol rip
backtrace
continue
info symbol rip
delete
continue
EOF
timeout 300 "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" -append "$append" \
    -serial file:"$tmp/b.console" -no-reboot -x "$tmp/session.x" < /dev/null > "$tmp/b.out" 2>&1
status=$?
out=$(cat "$tmp/b.out")

if grep -q "^loaded [0-9]* symbols from $ko" <<< "$out"; then
    pass symbols
else
    fail symbols "$(grep -m1 '^symbols' <<< "$out")"
fi
if grep -q "stopped: Breakpoint 1 at $(printf '0x%016x' "$init_fn") <md4_mod_init>" <<< "$out" ||
    grep -q "stopped: Breakpoint 1 at $init_fn <md4_mod_init>" <<< "$out"; then
    pass break-init
else
    fail break-init "no stop at md4_mod_init ($init_fn): $(grep -m1 stopped <<< "$out")"
fi
if grep -A1 '^(nest86) info symbol rip' <<< "$out" | sed -n 2p | grep -q 'md4_mod_init'; then
    pass info-symbol
else
    fail info-symbol "$(grep -A1 '^(nest86) info symbol rip' <<< "$out" | sed -n 2p)"
fi
if grep -q "stopped: Breakpoint 2 at .*<md4_mod_fini>" <<< "$out"; then
    pass break-exit
else
    fail break-exit "no stop at md4_mod_fini: $(grep stopped <<< "$out" | sed -n 2p)"
fi
if [ "$status" -eq 0 ] && tr -d '\r' < "$tmp/b.console" | grep -q '^NEST86_MODULE_DONE'; then
    pass continue-to-poweroff
else
    fail continue-to-poweroff "nest86 exit status $status, want 0 ($(tail -n 1 "$tmp/b.out"))"
fi
exit $((failures ? 1 : 0))
