#!/usr/bin/env bash
# The M:N benchmark (issue #8): programs whose threads compute, run natively, under the preload
# with one carrier and no hand-off (GREEN_HUBS=1 GREEN_HANDOFF_MS=0: the program really on one
# OS thread), with one carrier and hand-off at its default (threads that compute get hand-off
# carriers), and with two (GREEN_HUBS=2), in turn, RUNS times each, not
# pinned (two carriers need both vCPUs). Wall-clock medians with min–max; every run's output must
# be byte-identical to the first native run's. The issue's targets: GREEN_HUBS=2 at least 1.8×
# faster than one carrier without hand-off, and its wall time within 1.1× of native.
#   cpu_hash  tests/programs/cpu_hash.c: 4 threads, a fixed amount of FNV-1a hashing each
#   pigz      Debian's pigz -p 4 compressing 16 MiB of text (tests/compute_input.py)
#
# usage: bench/hubs.sh RUNS OUT.md        (bench/run.sh calls it; `make bench`)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/target/release/libgreen.so
B=$ROOT/bench/build
RUNS=${1:-5}
OUT=${2:-$B/hubs.md}
mkdir -p "$B"
# shellcheck source=bench/stats.sh
source "$ROOT/bench/stats.sh"

gcc -O2 -Wall -Werror -pthread "$ROOT/tests/programs/cpu_hash.c" -o "$B/cpu_hash"
python3 "$ROOT/tests/compute_input.py" >"$B/compute.in"

# "≥ 1.8×: met" / "≥ 1.8×: missed" for a ratio against a lower (ge) or upper (le) bound.
verdict() { # ratio ge|le bound
    awk -v r="$1" -v op="$2" -v b="$3" 'BEGIN {
        met = (op == "ge") ? r >= b : r <= b
        printf "%s %s×: %s", (op == "ge") ? "≥" : "≤", b, met ? "met" : "missed" }'
}

# One timed run of side $1 (native, hubs1, hubs2) of a command; its stdout goes to $B/hubs.out,
# its stderr (the watchdog's reports of threads computing on one carrier) to $B/hubs.err.
# Prints the wall time in seconds.
run_once() { # side command...
    local side=$1 start end; shift
    local -a env=()
    case $side in
        hubs1) env=(LD_PRELOAD="$LIB" GREEN_HUBS=1 GREEN_HANDOFF_MS=0) ;;
        handoff) env=(LD_PRELOAD="$LIB" GREEN_HUBS=1) ;;
        hubs2) env=(LD_PRELOAD="$LIB" GREEN_HUBS=2) ;;
    esac
    start=$EPOCHREALTIME
    env "${env[@]}" "$@" <"$B/compute.in" >"$B/hubs.out" 2>"$B/hubs.err"
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}

rows=()
for prog in cpu_hash pigz; do
    case $prog in
        cpu_hash) cmd=("$B/cpu_hash") ;;
        pigz) cmd=(pigz -p 4 -c) ;;
    esac
    declare -A walls=() med=()
    "${cmd[@]}" <"$B/compute.in" >"$B/hubs.$prog.expected"
    for _ in $(seq "$RUNS"); do
        for side in native hubs1 handoff hubs2; do
            w=$(run_once $side "${cmd[@]}")
            if ! cmp -s "$B/hubs.out" "$B/hubs.$prog.expected"; then
                echo "bench/hubs.sh: $prog ($side) output differs from native" >&2
                exit 1
            fi
            walls[$side]="${walls[$side]:-} $w"
        done
    done
    cells=""
    for side in native hubs1 handoff hubs2; do
        # shellcheck disable=SC2086
        read -r m lo hi <<<"$(stats 3 ${walls[$side]})"
        med[$side]=$m
        cells="$cells $m s ($lo–$hi) |"
    done
    speedup=$(awk -v a="${med[hubs1]}" -v b="${med[hubs2]}" 'BEGIN { printf "%.2f", a / b }')
    vs_native=$(awk -v a="${med[hubs2]}" -v b="${med[native]}" 'BEGIN { printf "%.2f", a / b }')
    row="| $prog |$cells ${speedup}× ($(verdict "$speedup" ge 1.8)) | ${vs_native}× ($(verdict "$vs_native" le 1.1)) |"
    echo "$row" >&2
    rows+=("$row")
    unset walls med
done

{
    echo "| program | native | GREEN_HUBS=1, no hand-off | GREEN_HUBS=1 (hand-off) | GREEN_HUBS=2 | one carrier / GREEN_HUBS=2 | GREEN_HUBS=2 / native |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
} >"$OUT"
