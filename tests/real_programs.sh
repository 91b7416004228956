# Real programs from Debian's packages (issue 5), sourced by tests/run.sh (uses its ok/ko/want/
# check_stats/cpython_case, $B, $LIB, $PY). Each case runs the program once natively and once with
# the side under test preloaded, the other side always native, and requires:
#   - the same normalized result both times (byte counts, hit counts, bodies compared byte for
#     byte by the driver), and that result correct on its own;
#   - OS threads created by the side under test (strace, CLONE_THREAD): some natively, none
#     under the preload;
#   - the runtime's counters (GREEN_STATS) showing green threads and cooperative I/O waits.
# Case names (the run.sh filter): real_iperf_server, real_iperf_client, real_memcached,
# real_redis, real_http_ab, real_http_urllib_server, real_http_urllib_client.
#
# Servers are started by the case on a port the kernel picks (bind to port 0, or for programs
# that cannot report their port, a port found free that way and retried if taken), and are always
# stopped: at the end of their case and, on any way out, by an EXIT trap.

RP=$ROOT/tests/real
REAL_SERVERS=() # strace pids of running servers

# A TCP port free right now on 127.0.0.1 (the kernel's choice).
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether something listens on TCP port $1 (IPv4 or IPv6), from /proc (no connection made: an
# iperf server would take a probe connection for a test).
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6
}

# The command prefix for side MODE of case TAG, in SIDE: "plain" runs the program as is (the
# native peer); "native" and "green" trace its thread creation into $B/TAG.MODE.strace, and
# "green" preloads libgreen with its counters on. (A prefix, not a wrapper function, so a
# background server's $! is strace's or the program's own pid.)
side_prefix() { # MODE TAG
    case "$1" in
        plain) SIDE=() ;;
        native) SIDE=(strace -f -qq --seccomp-bpf -e trace=clone,clone3 -o "$B/$2.native.strace") ;;
        green) SIDE=(strace -f -qq --seccomp-bpf -e trace=clone,clone3,prctl -o "$B/$2.green.strace"
            -E LD_PRELOAD="$LIB" -E GREEN_STATS=1) ;;
    esac
}
as_side() { # MODE TAG command...
    side_prefix "$1" "$2"; shift 2
    "${SIDE[@]}" "$@"
}

# Starts a server in the background as side MODE of TAG, stdout to OUT, stderr to ERR; sets
# SERVER_PID (strace's or the server's own pid). The caller waits for it to listen.
start_server() { # MODE TAG OUT ERR command...
    local out=$3 err=$4
    side_prefix "$1" "$2"; shift 4
    "${SIDE[@]}" "$@" >"$out" 2>"$err" &
    SERVER_PID=$!
    REAL_SERVERS+=("$SERVER_PID")
}

# Stops a server started by start_server: SIGTERM to the program (strace's child when traced), so
# it exits normally and prints its counters; SIGKILL after 10 s.
stop_server() { # PID
    local pid=$1 target i
    target=$pid
    if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = strace ]; then
        target=$(pgrep -P "$pid" | head -1)
        [ -n "$target" ] || target=$pid
    fi
    kill -TERM "$target" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$target" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    local keep=() p
    for p in "${REAL_SERVERS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    REAL_SERVERS=("${keep[@]}")
}
stop_all_servers() {
    local p
    for p in "${REAL_SERVERS[@]}"; do stop_server "$p"; done
}
trap stop_all_servers EXIT

# Waits up to 10 s for the server SERVER_PID to listen on PORT; false if it exited or never did.
wait_listening() { # PORT
    local i
    for ((i = 0; i < 100; i++)); do
        listening "$1" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Starts a server that takes its port on the command line (the word PORT in the command), on a
# free port, retrying with another one if the server cannot listen (a port taken in between).
# Sets SERVER_PID and SERVER_PORT.
start_on_free_port() { # MODE TAG OUT ERR command with PORT...
    local mode=$1 tag=$2 out=$3 err=$4; shift 4
    local try port a cmd
    for try in 1 2 3; do
        port=$(free_port)
        cmd=()
        for a in "$@"; do cmd+=("${a//PORT/$port}"); done
        start_server "$mode" "$tag" "$out" "$err" "${cmd[@]}"
        if wait_listening "$port"; then
            SERVER_PORT=$port
            return 0
        fi
        stop_server "$SERVER_PID"
    done
    return 1
}

# Runs case function FN (called as FN MODE TAG; it writes its normalized result to
# $B/TAG.MODE.result, its side under test's stderr to $B/TAG.MODE.err, and returns non-zero when
# the result is wrong on its own) natively and under the preload, and checks the verdict above.
real_compare() { # LABEL FN stat-conditions...
    local label=$1 fn=$2; shift 2
    want "$label" || return 0
    local tag=$label mode
    for mode in native green; do
        rm -f "$B/$tag.$mode.result" "$B/$tag.$mode.err" "$B/$tag.$mode.strace"
        if ! "$fn" "$mode" "$tag"; then
            ko "$label" "$mode run: $(head -c 2000 "$B/$tag.$mode.result" 2>/dev/null) $(tail -5 "$B/$tag.$mode.err" 2>/dev/null)"
            return
        fi
    done
    if ! cmp -s "$B/$tag.native.result" "$B/$tag.green.result"; then
        ko "$label" "results differ:"; diff "$B/$tag.native.result" "$B/$tag.green.result" | head -20; return
    fi
    # Offload workers, the watchdog and carriers are the runtime's, not the program's (census).
    local n_threads g_threads g_watchdog g_carriers why
    n_threads=$(grep -c CLONE_THREAD "$B/$tag.native.strace")
    read -r g_threads _ g_watchdog g_carriers < <(census "$B/$tag.green.strace")
    if [ "$n_threads" = 0 ]; then ko "$label" "natively it created no threads: the comparison proves nothing"; return; fi
    if [ "$g_threads" != 0 ]; then ko "$label" "under the preload it created $g_threads OS threads"; return; fi
    why=$(runtime_threads_reported "$g_watchdog" "$g_carriers" "$B/$tag.green.err") || { ko "$label" "$why"; return; }
    check_stats "$label" "$B/$tag.green.err" "$@" || return
    ok "$label: $(paste -sd ';' "$B/$tag.green.result") (native: $n_threads OS threads, green: 0, watchdog: $g_watchdog, carriers: $g_carriers)"
}

# ---- iperf 2: 4 parallel streams, 200 MB in all -----------------------------------------------
# Each side reports what it moved per stream and in sum (in bytes, -f B); both sides must report
# 4 streams of 50 MiB and 200 MiB in all.
IPERF_STREAM=52428800
iperf_case() { # MODE TAG SIDE-UNDER-TEST
    local mode=$1 tag=$2 side=$3 s_mode=plain c_mode=plain i
    [ "$side" = server ] && s_mode=$mode || c_mode=$mode
    local srv=$B/$tag.$mode.server cli=$B/$tag.$mode.client res=$B/$tag.$mode.result
    local s_err=$srv.err c_err=$cli.err
    [ "$side" = server ] && s_err=$B/$tag.$mode.err || c_err=$B/$tag.$mode.err
    start_on_free_port "$s_mode" "$tag" "$srv.out" "$s_err" iperf -s -p PORT -f B \
        || { echo "iperf server did not listen" >"$res"; return 1; }
    as_side "$c_mode" "$tag" timeout 120 iperf -c 127.0.0.1 -p "$SERVER_PORT" -P 4 -n "$IPERF_STREAM" -f B \
        >"$cli.out" 2>"$c_err"
    local c_rc=$?
    # The server reports its sum once the last stream ends, possibly after the client exits.
    for ((i = 0; i < 100; i++)); do grep -q '^\[SUM\]' "$srv.out" && break; sleep 0.1; done
    stop_server "$SERVER_PID"
    local who f sizes
    for who in client server; do
        [ $who = client ] && f=$cli.out || f=$srv.out
        # "[  3] 0.0000-0.0648 sec  52428800 Bytes  809..." per stream, "[SUM] ..." in all;
        # streams finish in any order, so their sizes are sorted.
        sizes=$(awk '/ sec +[0-9]+ Bytes / && $1 != "[SUM]" { for (i = 1; i < NF; i++) if ($(i + 1) == "Bytes") print $i }' "$f" | sort -n | tr '\n' ' ')
        printf '%s: %d streams of %sbytes, sum %s\n' $who "$(wc -w <<<"$sizes")" "$sizes" \
            "$(awk '$1 == "[SUM]" { for (i = 1; i < NF; i++) if ($(i + 1) == "Bytes") print $i }' "$f")"
    done >"$res"
    local want="4 streams of $IPERF_STREAM $IPERF_STREAM $IPERF_STREAM $IPERF_STREAM bytes, sum $((4 * IPERF_STREAM))"
    [ "$c_rc" = 0 ] && [ "$(cat "$res")" = "client: $want
server: $want" ]
}
iperf_server_case() { iperf_case "$1" "$2" server; }
iperf_client_case() { iperf_case "$1" "$2" client; }

# ---- memcached: 4 worker threads, set/get with hit counts ------------------------------------
# First our client (text protocol, values checked byte for byte, counts checked against the
# server's), then memcslap's get test over the binary protocol (8 connections x 500 gets of the
# 500 keys it loads: every get must hit), then the server's counters for both together.
memcached_case() { # MODE TAG
    local mode=$1 tag=$2 res=$B/$2.$1.result
    start_on_free_port "$mode" "$tag" "$B/$tag.$mode.server.out" "$B/$tag.$mode.err" \
        memcached -u "$(id -un)" -l 127.0.0.1 -p PORT -U 0 -t 4 -m 512 \
        || { echo "memcached did not listen" >"$res"; return 1; }
    timeout 120 "$PY" "$RP/memcache_client.py" "$SERVER_PORT" 2000 300 8 >"$res" 2>&1
    local rc=$?
    timeout 120 memcslap --servers="127.0.0.1:$SERVER_PORT" --binary --concurrency=8 --execute-number=500 \
        --test=get >"$B/$tag.$mode.memcslap" 2>&1 || { echo "memcslap failed" >>"$res"; rc=1; }
    local after
    after=$(timeout 60 "$PY" "$RP/memcache_client.py" stats "$SERVER_PORT" 2>&1)
    echo "after memcslap: $after" >>"$res"
    stop_server "$SERVER_PID"
    [ $rc = 0 ] && [ "$after" = "cmd_set=2500 cmd_get=6300 get_hits=6000 get_misses=300 curr_items=2500 total_items=2500 threads=4" ]
}

# ---- redis: its background threads, with the jemalloc it is linked with ---------------------
# redis-server (Debian's, linked with jemalloc) with its three bio threads (closing files, AOF
# fsync, lazy freeing), driven natively by redis-benchmark (SET, GET, LPUSH, LPOP: every request
# must succeed), then redis-cli: 1000 keys set in one pipeline and read back, a set of 100,000
# members built by a script and UNLINKed (freed by the lazy-free thread, which a condition
# variable wakes: INFO must count the object as lazily freed). jemalloc's own background
# thread is turned off: jemalloc starts it with the pthread_create it finds through
# dlsym(RTLD_NEXT), glibc's (README limits). Under the preload redis died at start-up before
# (jemalloc's first mallctl walked a thread cache the runtime had overwritten).
redis_case() { # MODE TAG
    local mode=$1 tag=$2 res=$B/$2.$1.result
    start_on_free_port "$mode" "$tag" "$B/$tag.$mode.server.out" "$B/$tag.$mode.err" \
        redis-server --port PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --dir "$B" --jemalloc-bg-thread no --lazyfree-lazy-user-del yes \
        || { echo "redis-server did not listen" >"$res"; return 1; }
    local cli=(timeout 60 redis-cli -p "$SERVER_PORT") rc=0 i
    timeout 120 redis-benchmark -p "$SERVER_PORT" -t set,get,lpush,lpop -n 20000 -c 20 -q \
        >"$B/$tag.$mode.bench" 2>&1 || rc=1
    # "SET: 41841.00 requests per second, p50=..." per test (after \r progress lines).
    tr '\r' '\n' <"$B/$tag.$mode.bench" | awk -F: '/requests per second/ && !seen[$1]++ { print $1 ": done" }' >"$res"
    for ((i = 0; i < 1000; i++)); do echo "SET key:$i value-$i"; done | "${cli[@]}" >/dev/null || rc=1
    {
        echo "dbsize: $("${cli[@]}" DBSIZE)"
        echo "key:0 key:512 key:999: $("${cli[@]}" MGET key:0 key:512 key:999 | tr '\n' ' ')"
        "${cli[@]}" EVAL "for i = 1, 100000 do redis.call('SADD', KEYS[1], i) end return redis.call('SCARD', KEYS[1])" 1 big |
            sed 's/^/set built: /'
        echo "unlink: $("${cli[@]}" UNLINK big)"
    } >>"$res"
    for ((i = 0; i < 100; i++)); do
        "${cli[@]}" INFO memory | grep -q '^lazyfreed_objects:1' && break
        sleep 0.1
    done
    "${cli[@]}" INFO memory | tr -d '\r' | grep '^lazyfreed_objects:' >>"$res"
    stop_server "$SERVER_PID"
    [ $rc = 0 ] && [ "$(cat "$res")" = "SET: done
GET: done
LPUSH: done
LPOP: done
dbsize: 1001
key:0 key:512 key:999: value-0 value-512 value-999 
set built: 100000
unlink: 1
lazyfreed_objects:1" ]
}

# ---- Python ThreadingHTTPServer: ab and urllib -----------------------------------------------
HTTP_DIR=$B/http_root
http_file() { # a 64 KiB file with fixed contents
    mkdir -p "$HTTP_DIR"
    "$PY" -c 'import hashlib, sys; sys.stdout.buffer.write(b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(2048)))' \
        >"$HTTP_DIR/file64k.bin"
}
# Starts the server as side MODE of TAG; sets SERVER_PID and SERVER_PORT (the server binds port 0
# and writes the port it got to a file).
start_http_server() { # MODE TAG [DELAY_MS]
    local mode=$1 tag=$2 delay=${3:-0} i pf=$B/$2.$1.port
    http_file
    rm -f "$pf"
    local err=$B/$tag.$mode.server.err
    [ "$mode" = plain ] || err=$B/$tag.$mode.err
    start_server "$mode" "$tag" "$B/$tag.$mode.server.out" "$err" "$PY" "$RP/http_server.py" "$HTTP_DIR" "$pf" "$delay"
    for ((i = 0; i < 100; i++)); do
        [ -s "$pf" ] && { SERVER_PORT=$(cat "$pf"); return 0; }
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
http_ab_case() { # MODE TAG: the server under test, ab -n 2000 -c 16 natively
    local mode=$1 tag=$2 res=$B/$2.$1.result
    start_http_server "$mode" "$tag" || { echo "http server did not start" >"$res"; return 1; }
    timeout 300 ab -n 2000 -c 16 "http://127.0.0.1:$SERVER_PORT/file64k.bin" >"$B/$tag.$mode.ab" 2>&1
    local rc=$?
    stop_server "$SERVER_PID"
    grep -E '^(Complete requests|Failed requests|Non-2xx responses|Write errors|Document Length|Total transferred|HTML transferred):' \
        "$B/$tag.$mode.ab" | tr -s ' ' >"$res"
    [ $rc = 0 ] && grep -qx 'Complete requests: 2000' "$res" && grep -qx 'Failed requests: 0' "$res" \
        && grep -qx 'Document Length: 65536 bytes' "$res" && grep -qx 'HTML transferred: 131072000 bytes' "$res" \
        && ! grep -q '^Non-2xx' "$res"
}
http_urllib_case() { # MODE TAG SIDE-UNDER-TEST: 400 urllib requests from 8 threads
    local mode=$1 tag=$2 side=$3 res=$B/$2.$1.result s_mode=plain c_mode=plain
    [ "$side" = server ] && s_mode=$mode || c_mode=$mode
    local c_err=$B/$tag.$mode.client.err
    [ "$side" = client ] && c_err=$B/$tag.$mode.err
    # The client under test gets answers 5 ms late: every one of its reads has to wait.
    local delay=0
    [ "$side" = client ] && delay=5
    start_http_server "$s_mode" "$tag" "$delay" || { echo "http server did not start" >"$res"; return 1; }
    as_side "$c_mode" "$tag" timeout 300 "$PY" "$RP/http_client.py" "http://127.0.0.1:$SERVER_PORT/file64k.bin" \
        "$HTTP_DIR/file64k.bin" 400 8 >"$res" 2>"$c_err"
    local rc=$?
    stop_server "$SERVER_PID"
    return $rc
}
http_urllib_server_case() { http_urllib_case "$1" "$2" server; }
http_urllib_client_case() { http_urllib_case "$1" "$2" client; }

real_compare real_iperf_server iperf_server_case threads_created=5+ parks_io=4+
real_compare real_iperf_client iperf_client_case threads_created=4+ parks_io=4+
real_compare real_memcached memcached_case threads_created=4+ parks_io=100+
real_compare real_redis redis_case threads_created=3 parks_io=100+ parks_cond=1+
# ab may open a few connections more than it sends requests on (each is a server thread).
real_compare real_http_ab http_ab_case threads_created=2000+ parks_io=1+
real_compare real_http_urllib_server http_urllib_server_case threads_created=400 parks_io=1+
real_compare real_http_urllib_client http_urllib_client_case threads_created=8 parks_io=400+
