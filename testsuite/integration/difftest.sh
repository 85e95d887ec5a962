#!/usr/bin/env bash
# testsuite/integration/difftest.sh — the differential tester with a
# fixed seed, so `make check` is reproducible: random user-mode integer
# instruction sequences run on the host CPU and in nest86, compared
# register by register, flag by flag and byte by byte.  One result line
# per form group.  testsuite/difftest/README.md explains the tool;
# `make fuzz-cpu` runs it longer with a random seed.
set -u
bin=${NEST86_BUILD:-build}/difftest
. "$(dirname "$0")/../missing.sh"
[ -x "$bin" ] || missing difftest "build/difftest is not built"
case $(uname -m) in
x86_64) ;;
*) echo "the host CPU is not x86-64: no oracle"; exit 77 ;;
esac
exec "$bin" --seed 1 --count 400000
