#!/usr/bin/env bash
# Runs the seed example (gevent's eat/play as pthreads) natively and under libgreen (through
# the `green` launcher), printing both outputs, the wall times and how many OS threads each run
# used (1 + the clone calls strace saw).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/examples/build
mkdir -p "$B"
gcc -O2 -Wall -pthread "$ROOT/examples/eat_play.c" -o "$B/eat_play"

run() {
    local label=$1; shift
    local start end clones
    start=$(date +%s%N)
    strace -f -qq --seccomp-bpf -e trace=clone,clone3 -o "$B/demo.strace" "$@" | sed 's/^/    /'
    end=$(date +%s%N)
    clones=$(grep -cE '^[0-9]+ +clone' "$B/demo.strace" || true)
    printf '  %s: %d ms wall, %d OS thread(s)\n\n' "$label" $(((end - start) / 1000000)) $((clones + 1))
}

echo "== native (NPTL): ./eat_play"
run native "$B/eat_play"
echo "== libgreen: green ./eat_play"
run libgreen "$ROOT/target/release/green" "$B/eat_play"
