#!/usr/bin/env bash
# libgreen benchmarks: each unmodified C program runs natively (NPTL) and under the preload,
# alternately, RUNS times each, pinned to one CPU (taskset -c 0) so both sides see the same
# core; medians with min-max are written to bench/RESULTS.md with the ratio native/libgreen
# (> 1: libgreen is faster or smaller).
#
# usage: bench/run.sh [RUNS]      (make bench)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIB=$ROOT/target/release/libgreen.so
B=$ROOT/bench/build
RUNS=${1:-5}
mkdir -p "$B"
PIN="taskset -c 0"

# shellcheck source=bench/stats.sh
source "$ROOT/bench/stats.sh"

# The benchmark issue's targets for libgreen, as "<limit> <unit>" (a figure without one has none).
declare -A TARGET=([mutex_lock_unlock]="8 ns" [condvar_pingpong]="30 ns" [create_join]="300 ns"
    [parked_thread_memory]="10 KiB" [sleepers]="1.15 s")
# "≤ limit unit: met" or "≤ limit unit: missed by N %" for a libgreen median.
verdict() { # figure-key value
    local t=${TARGET[$1]:-}
    [ -n "$t" ] || { echo "—"; return; }
    awk -v v="$2" -v l="${t% *}" -v u="${t#* }" 'BEGIN { if (v <= l) printf "≤ %s %s: met", l, u; else printf "≤ %s %s: missed by %.0f %%", l, u, (v / l - 1) * 100 }'
}

rows=()
: >"$B/ratios.dat"
for prog in mutex_uncontended condvar_pingpong sem_pingpong create_join parked_memory pread_cached fsync_offload fwrite_pipe printf_pipe pipe_stream; do
    gcc -O2 -Wall -pthread "$ROOT/bench/programs/$prog.c" -o "$B/$prog"
    native=() green=() unit="" figure=""
    for _ in $(seq "$RUNS"); do
        read -r figure v unit < <($PIN "$B/$prog")
        native+=("$v")
        read -r figure v unit < <(LD_PRELOAD="$LIB" $PIN "$B/$prog")
        green+=("$v")
    done
    read -r nm nmin nmax <<<"$(stats 3 "${native[@]}")"
    read -r gm gmin gmax <<<"$(stats 3 "${green[@]}")"
    ratio=$(awk -v n="$nm" -v g="$gm" 'BEGIN { printf "%.1f", (g > 0 ? n / g : 0) }')
    printf '%s %s\n' "$figure" "$ratio" >>"$B/ratios.dat"
    row="| $figure | $nm $unit ($nmin–$nmax) | $gm $unit ($gmin–$gmax) | ${ratio}× | $(verdict "$figure" "$gm") |"
    echo "$row"
    rows+=("$row")
done

# Preload only: 100,000 threads each sleeping 1 s (natively this many threads cannot be made).
gcc -O2 -Wall -pthread "$ROOT/tests/programs/sleepers.c" -o "$B/sleepers"
walls=()
for _ in $(seq "$RUNS"); do
    w=$(GREEN_HANDOFF_MS=0 LD_PRELOAD="$LIB" $PIN "$B/sleepers" 100000 | sed -n 's/.* in \([0-9.]*\) s wall.*/\1/p')
    walls+=("$w")
done
read -r wm wmin wmax <<<"$(stats 3 "${walls[@]}")"
row="| 100,000 threads × sleep(1 s), wall | cannot | $wm s ($wmin–$wmax) | — | $(verdict sleepers "$wm") |"
echo "$row"
rows+=("$row")

# The echo benchmark: its own table; libgreen's req/s gain over native at 1000 connections
# joins the chart.
bash "$ROOT/bench/echo.sh" "$RUNS" "$B/echo.md"
awk -F'|' '$2 ~ /1000/ && $3 ~ /libgreen \/ native/ { gsub(/[ ×]/, "", $4); print "echo_req/s_1000_conns", $4 }' "$B/echo.md" >>"$B/ratios.dat"

# Threads that compute, on one carrier and on two (issue #8): its own table.
bash "$ROOT/bench/hubs.sh" "$RUNS" "$B/hubs.md"

# The chart: native / libgreen per figure, log scale (1 = parity).
if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$ROOT/bench/ratios.png"
set title "native NPTL / libgreen (higher is better for libgreen; 1 = parity)"
set style fill solid 0.7
set boxwidth 0.6
set logscale y
set yrange [0.5:*]
set grid ytics
set xtics rotate by -20
unset key
plot "$B/ratios.dat" using 0:2:xtic(1) with boxes lc rgb "#2e7d32", 1 with lines lc rgb "#555555"
GP
fi

{
    echo "# Benchmark results"
    echo
    echo "Produced by \`make bench\` (\`bench/run.sh $RUNS\`) on $(date -u +%Y-%m-%d), $(nproc) vCPUs,"
    echo "$(ldd --version | head -1 | sed 's/^ldd //'), kernel $(uname -r). Every run pinned with \`taskset -c 0\`;"
    echo "native and libgreen alternate; medians of $RUNS runs, min–max in parentheses. Ratio = native / libgreen."
    echo
    echo "![ratios](ratios.png)"
    echo
    echo "| figure | native NPTL | libgreen | ratio | target (benchmark issue) |"
    echo "| --- | ---: | ---: | ---: | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "## Echo server: threads vs epoll (\`bench/echo.sh $RUNS\`)"
    echo
    echo "Server pinned to CPU 0 (but libgreen-hubs2: GREEN_HUBS=2, unpinned), load generator to CPU 1;"
    echo "medians of $RUNS runs, the four servers interleaved run by run. The chart's echo bar is libgreen req/s / native req/s at 1000 connections."
    echo "\"Side by side\": the libgreen and epoll servers run at the same time, both on CPU 0, each with its own"
    echo "generator on CPU 1 (\`bench/echo_ab.sh\`); whatever this VM's speed does during a run it does to both, so"
    echo "the ratio of their req/s is not the drift between separate runs (±20 % here). Median (min–max) of $RUNS runs."
    echo
    cat "$B/echo.md"
    echo
    echo "## Threads that compute: one carrier or two (\`bench/hubs.sh $RUNS\`)"
    echo
    echo "Not pinned; native, one carrier without hand-off (GREEN_HUBS=1 GREEN_HANDOFF_MS=0), one carrier with"
    echo "hand-off (the default: threads that compute get hand-off carriers) and GREEN_HUBS=2 in turn; wall-clock"
    echo "medians of $RUNS runs, min–max in parentheses; every output byte-identical to native. Targets from the M:N"
    echo "issue in the ratio columns (one carrier = without hand-off)."
    echo
    cat "$B/hubs.md"
    echo
    cat "$ROOT/bench/NOTES.md"
} >"$ROOT/bench/RESULTS.md"
echo "wrote bench/RESULTS.md"
