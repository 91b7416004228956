#!/usr/bin/env bash
# Two builds of the library (or one and the epoll server) on the echo benchmark at the same time:
# both servers pinned to CPU 0, where the kernel shares the CPU between them, each driven by its
# own closed-loop generator on CPU 1. Whatever this VM's speed does during a run, it does to
# both, so the ratio of their req/s tells a 1 % difference in cost per request that separate runs
# (whose req/s drift by ±20 % here from minute to minute) cannot. Two copies of one build give
# ratios within ±0.5 %; which side is A shifts the ratio by about as much, so compare A/B and B/A.
# `make bench` (bench/echo.sh) runs it for the libgreen / epoll ratio; it is also the tool for
# deciding between two builds (bench/NOTES.md, session 21).
#
# usage: bench/echo_ab.sh CONNECTIONS RUNS A B   (A, B: a libgreen.so path, or "epoll")
# prints per run: "<A req/s> <B req/s> <B/A>", then the median ratio.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/bench/build
M=$1 RUNS=$2 A=$3 Z=$4
mkdir -p "$B"
[ "$(ulimit -n)" -ge $((2 * M + 100)) ] || ulimit -n $((2 * M + 100))
for p in echo_threaded echo_epoll echo_load; do
    [ "$B/$p" -nt "$ROOT/bench/programs/$p.c" ] || gcc -O2 -Wall -Werror -pthread "$ROOT/bench/programs/$p.c" -o "$B/$p"
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the server for $1 on port $2 (pinned to CPU 0); prints its pid.
start() {
    if [ "$1" = epoll ]; then
        taskset -c 0 "$B/echo_epoll" "$2" >/dev/null 2>&1 &
    else
        taskset -c 0 env LD_PRELOAD="$1" "$B/echo_threaded" "$2" >/dev/null 2>&1 &
    fi
    echo $!
}

listening() { ss -ltn "sport = :$1" | grep -q LISTEN; }

ratios=()
for _ in $(seq "$RUNS"); do
    pa=$(free_port) pz=$(free_port)
    ia=$(start "$A" "$pa") iz=$(start "$Z" "$pz")
    for _ in $(seq 100); do listening "$pa" && listening "$pz" && break; sleep 0.05; done
    taskset -c 1 "$B/echo_load" "$pa" "$M" 1 4 >"$B/ab.a" & la=$!
    taskset -c 1 "$B/echo_load" "$pz" "$M" 1 4 >"$B/ab.b" & lz=$!
    rc=0
    wait $la || rc=1
    wait $lz || rc=1
    kill "$ia" "$iz"
    wait "$ia" "$iz" 2>/dev/null || true
    [ $rc = 0 ] || { echo "bench/echo_ab.sh: a load generator failed" >&2; exit 1; }
    ra=$(awk '{print $1}' "$B/ab.a") rz=$(awk '{print $1}' "$B/ab.b")
    r=$(awk -v a="$ra" -v b="$rz" 'BEGIN { printf "%.3f", b / a }')
    echo "$ra $rz $r"
    ratios+=("$r")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "median B/A: %s\n", v[int((NR + 1) / 2)] }'
