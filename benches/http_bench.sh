#!/usr/bin/env bash
# benches/http_bench.sh: the axum example on ticktock (examples/axum_service.rs)
# against the same axum app on tokio's `axum::serve` (examples/axum_tokio.rs),
# with real clients: wrk (HTTP/1.1 keep-alive) and h2load (HTTP/2).
#
# Usage:
#   benches/http_bench.sh           # compare: both servers, ROUNDS rounds, markdown table
#   benches/http_bench.sh resize    # ticktock only: wrk while the runtime resizes 2 -> 1 -> 2
#
# compare mode, per round (the order alternates, ticktock first on odd rounds and
# tokio first on even ones, so drift in the machine's speed hits both):
#   for each server: start it on a free loopback port (--addr 127.0.0.1:0, the port
#   read from its "listening on" line) with --workers WORKERS, wait until GET
#   /health answers, warm up with wrk for WARMUP s, then
#     wrk -tWRK_THREADS -cC -dDURATIONs --latency http://ADDR/ROUTE   for C in CONNS
#     h2load -tWRK_THREADS -cH2_CLIENTS -mH2_STREAMS -nH2_REQUESTS http://ADDR/ROUTE
#   and stop it with SIGTERM (it must drain and exit 0).
# It prints a markdown table of the medians over the rounds (requests/s, wrk's
# p99, ticktock/tokio ratios), the per-round values, the machine, the date and the
# command, ready for docs/benchmarks.md. Any socket error, non-2xx response or
# failed h2load request is reported and makes the script exit 1 at the end.
#
# resize mode (issue 13): the ticktock server with --workers 2 --resize-every-ms
# RESIZE_EVERY_MS (a task switches the running runtime between 1 worker and 2), and
# one wrk run of DURATION s at RESIZE_CONNS connections on RESIZE_ROUTE (default
# /sleep/1: every request waits on a ticktock timer, and every request also arms
# the timeout layer's timer, so each shrink migrates live timers; a lost timer
# shows up as a wrk timeout or a 503). It checks that wrk saw 0 socket errors and
# 0 non-2xx responses, that the server logged at least one shrink and one grow,
# that the runtime's metrics counted workers started and retired, and that the
# server drained and exited 0; exit status 1 otherwise. Prints requests/s and the
# resize count.
#
# Environment (defaults in brackets):
#   DURATION [10]        seconds per wrk run (and of the resize run)
#   ROUNDS [3]           rounds of both servers (compare mode)
#   WORKERS [2]          worker threads of each server
#   CONNS ["50 500"]     wrk connection counts
#   WRK_THREADS [2]      wrk and h2load client threads
#   H2_CLIENTS [50] H2_STREAMS [10] H2_REQUESTS [500000]   h2load -c, -m, -n
#   ROUTE [/hello/bench] the route measured: a JSON answer, no timer wait
#   WARMUP [2]           seconds of wrk before the measured runs (0: none)
#   PIN [auto]           auto: with >= 4 cores (and enough for WORKERS + WRK_THREADS)
#                        pin the server to cores 0..WORKERS-1 and the clients to the
#                        next WRK_THREADS cores with taskset; 0: never pin
#   RESIZE_EVERY_MS [250] RESIZE_CONNS [50] RESIZE_ROUTE [/sleep/1]   resize mode
#   OUT [target/http_bench/<UTC time>]   where the raw wrk/h2load/server logs go
#
# wrk and h2load come from Debian/Ubuntu (apt packages wrk, nghttp2-client); the
# script installs whichever is missing with apt-get (through sudo unless root).
# The servers are built with
#   cargo build --release --features http --example axum_service --example axum_tokio
set -euo pipefail

MODE=${1:-compare}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-2}
CONNS=${CONNS:-50 500}
WRK_THREADS=${WRK_THREADS:-2}
H2_CLIENTS=${H2_CLIENTS:-50}
H2_STREAMS=${H2_STREAMS:-10}
H2_REQUESTS=${H2_REQUESTS:-500000}
ROUTE=${ROUTE:-/hello/bench}
WARMUP=${WARMUP:-2}
PIN=${PIN:-auto}
RESIZE_EVERY_MS=${RESIZE_EVERY_MS:-250}
RESIZE_CONNS=${RESIZE_CONNS:-50}
RESIZE_ROUTE=${RESIZE_ROUTE:-/sleep/1}

# How long a server gets to print its address and answer /health (a cold start
# on a loaded machine can take a while; a healthy one takes milliseconds).
STARTUP_LIMIT_S=30
# How long a server gets to exit after SIGTERM: the example drains for 10 s at
# most, plus margin.
STOP_LIMIT_S=20

case "$MODE" in
compare | resize) ;;
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "usage: $0 [compare|resize]  (see the comments at the top)" >&2
    exit 2
    ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/target/http_bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
FAILURES=0

log() { echo "[http_bench] $*" >&2; }
fail() {
    log "FAIL: $*"
    FAILURES=$((FAILURES + 1))
}

# --- tools -----------------------------------------------------------------

install_packages() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    log "installing $* with apt-get"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
missing=()
command -v wrk >/dev/null || missing+=(wrk)
if [ "$MODE" = compare ]; then command -v h2load >/dev/null || missing+=(nghttp2-client); fi
if [ ${#missing[@]} -gt 0 ]; then install_packages "${missing[@]}"; fi

log "building the examples (release)"
cargo build --release --quiet --features http --example axum_service --example axum_tokio
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
declare -A BINARY=(
    [ticktock]="$TARGET_DIR/release/examples/axum_service"
    [tokio]="$TARGET_DIR/release/examples/axum_tokio"
)

# More connections than the default 1024 descriptors would allow, where permitted.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- cores -----------------------------------------------------------------

NCORES=$(nproc)
SERVER_PIN=()
CLIENT_PIN=()
if [ "$PIN" = auto ] && [ "$NCORES" -ge 4 ] && [ "$NCORES" -ge $((WORKERS + WRK_THREADS)) ] &&
    command -v taskset >/dev/null; then
    SERVER_PIN=(taskset -c "0-$((WORKERS - 1))")
    CLIENT_PIN=(taskset -c "$WORKERS-$((WORKERS + WRK_THREADS - 1))")
    PINNING="server pinned to cores 0-$((WORKERS - 1)), clients to cores $WORKERS-$((WORKERS + WRK_THREADS - 1)) (taskset)"
else
    PINNING="server and clients unpinned, sharing all $NCORES cores (the client's CPU use competes with the server's)"
fi

# --- servers ---------------------------------------------------------------

SERVER_PID=
SERVER_ADDR=
SERVER_LOG=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# One HTTP/1.1 GET /health; succeeds if the status line says 200. In a child
# shell under a time limit, so neither a refused connection nor a silent server
# stops the script.
answers() {
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
        printf "GET /health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$1" >&3
        IFS= read -r status <&3 || exit 1
        [[ $status == "HTTP/1.1 200"* ]]' answers "$1"
}

# start_server NAME LOGFILE ARGS...: sets SERVER_PID, SERVER_ADDR, SERVER_LOG.
start_server() {
    local name=$1 logfile=$2
    shift 2
    SERVER_LOG=$logfile
    : >"$SERVER_LOG" # exists before the child opens it, for the reads below
    "${SERVER_PIN[@]}" "${BINARY[$name]}" --addr 127.0.0.1:0 --workers "$WORKERS" "$@" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    local deadline=$((SECONDS + STARTUP_LIMIT_S))
    SERVER_ADDR=
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$SERVER_PID" 2>/dev/null || {
            cat "$SERVER_LOG" >&2
            log "$name exited at start"
            exit 1
        }
        if [ -z "$SERVER_ADDR" ]; then
            SERVER_ADDR=$(sed -n 's/^listening on //p' "$SERVER_LOG" | head -n 1)
        fi
        if [ -n "$SERVER_ADDR" ] && answers "$SERVER_ADDR" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "$name did not answer within ${STARTUP_LIMIT_S}s"
    exit 1
}

# Sends SIGTERM and waits for a drained exit with status 0.
stop_server() {
    local name=$1 status=0
    kill -TERM "$SERVER_PID"
    local deadline=$((SECONDS + STOP_LIMIT_S))
    while kill -0 "$SERVER_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID"
        fail "$name did not exit within ${STOP_LIMIT_S}s of SIGTERM"
    fi
    wait "$SERVER_PID" || status=$?
    SERVER_PID=
    [ "$status" -eq 0 ] || fail "$name exited with status $status (log: $SERVER_LOG)"
    grep -q '^drained$' "$SERVER_LOG" || fail "$name did not print 'drained' (log: $SERVER_LOG)"
}

# --- clients and their output ----------------------------------------------

# run_wrk CONNS SECONDS URL FILE
run_wrk() {
    "${CLIENT_PIN[@]}" wrk -t"$WRK_THREADS" -c"$1" -d"$2"s --latency "$3" >"$4" 2>&1
}

# Fields of a wrk --latency report: requests/s, p99 in ms, socket errors, non-2xx.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_p99_ms() {
    awk '$1 == "99%" {
        v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
        printf "%.3f\n", v }' "$1"
}
wrk_socket_errors() {
    awk '/Socket errors:/ { n = 0; for (i = 3; i <= NF; i += 2) { x = $(i + 1); sub(/,/, "", x); n += x } print n; found = 1 }
         END { if (!found) print 0 }' "$1"
}
wrk_requests() { awk '/ requests in / { print $1; found = 1 } END { if (!found) print 0 }' "$1"; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; found = 1 } END { if (!found) print 0 }' "$1"; }

# Fields of an h2load report: requests/s, and requests that did not succeed.
h2_rps() { awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "req/s,") print $i }' "$1"; }
h2_failed() { awk '/^requests:/ { print $2 - $8 }' "$1"; }
h2_non2xx() { awk '/^status codes:/ { print $5 + $7 + $9 }' "$1"; }

check_wrk() { # FILE LABEL
    local errors non2xx
    [ -n "$(wrk_rps "$1")" ] || {
        fail "$2: no Requests/sec in $1"
        return
    }
    errors=$(wrk_socket_errors "$1")
    non2xx=$(wrk_non2xx "$1")
    [ "$(wrk_requests "$1")" -gt 0 ] || fail "$2: no request completed ($1)"
    [ "$errors" -eq 0 ] || fail "$2: $errors socket errors ($1)"
    [ "$non2xx" -eq 0 ] || fail "$2: $non2xx non-2xx responses ($1)"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt_int() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }

machine() {
    local cpu
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    echo "Machine: $NCORES cores (nproc), ${cpu:-unknown CPU}, Linux $(uname -r); $(rustc -V 2>/dev/null || echo rustc ?);" \
        "wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)${1:+, $1}."
}

COMMAND="$(for v in DURATION ROUNDS WORKERS CONNS WRK_THREADS H2_CLIENTS H2_STREAMS H2_REQUESTS ROUTE WARMUP PIN; do printf '%s=%q ' "$v" "${!v}"; done)benches/http_bench.sh"

# --- resize mode -------------------------------------------------------------

if [ "$MODE" = resize ]; then
    [ "$WORKERS" -ge 2 ] || {
        log "resize mode needs WORKERS >= 2"
        exit 2
    }
    log "resize: ticktock, $WORKERS workers <-> 1 every ${RESIZE_EVERY_MS} ms; wrk -c$RESIZE_CONNS -d${DURATION}s $RESIZE_ROUTE; $PINNING"
    start_server ticktock "$OUT/resize-server.log" --resize-every-ms "$RESIZE_EVERY_MS"
    run_wrk "$RESIZE_CONNS" "$DURATION" "http://$SERVER_ADDR$RESIZE_ROUTE" "$OUT/resize-wrk.txt"
    stop_server ticktock
    cat "$OUT/resize-wrk.txt"
    check_wrk "$OUT/resize-wrk.txt" "resize run"
    shrinks=$(grep -c '^resize [0-9]*: 1 workers$' "$SERVER_LOG" || true)
    grows=$(grep -c "^resize [0-9]*: $WORKERS workers\$" "$SERVER_LOG" || true)
    started=$(sed -n 's/^workers started by resizes: \([0-9]*\), retired: \([0-9]*\)$/\1/p' "$SERVER_LOG")
    retired=$(sed -n 's/^workers started by resizes: \([0-9]*\), retired: \([0-9]*\)$/\2/p' "$SERVER_LOG")
    [ "$shrinks" -ge 1 ] || fail "no shrink logged ($SERVER_LOG)"
    [ "$grows" -ge 1 ] || fail "no grow logged ($SERVER_LOG)"
    [ "${started:-0}" -ge 1 ] || fail "the runtime counted no worker started by a resize ($SERVER_LOG)"
    [ "${retired:-0}" -ge 1 ] || fail "the runtime counted no worker retired by a resize ($SERVER_LOG)"
    echo
    echo "Resize under load: $(fmt_int "$(wrk_rps "$OUT/resize-wrk.txt")") req/s over ${DURATION}s," \
        "$shrinks shrinks ($WORKERS -> 1) and $grows grows (1 -> $WORKERS) logged," \
        "metrics: ${started:-?} workers started, ${retired:-?} retired;" \
        "socket errors: $(wrk_socket_errors "$OUT/resize-wrk.txt"), non-2xx: $(wrk_non2xx "$OUT/resize-wrk.txt")."
    machine "$PINNING"
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Command: DURATION=$DURATION WORKERS=$WORKERS RESIZE_EVERY_MS=$RESIZE_EVERY_MS RESIZE_CONNS=$RESIZE_CONNS RESIZE_ROUTE=$RESIZE_ROUTE benches/http_bench.sh resize"
    echo "Raw output: $OUT"
    if [ "$FAILURES" -gt 0 ]; then
        log "$FAILURES check(s) failed"
        exit 1
    fi
    exit 0
fi

# --- compare mode ------------------------------------------------------------

declare -A SAMPLES=() # "runtime workload metric" -> space-separated values, one per round
add() { SAMPLES["$1 $2 $3"]="${SAMPLES["$1 $2 $3"]:-}${SAMPLES["$1 $2 $3"]:+ }$4"; }

measure() { # RUNTIME ROUND
    local rt=$1 round=$2 conns file
    start_server "$rt" "$OUT/$rt-r$round-server.log"
    local url="http://$SERVER_ADDR$ROUTE"
    if [ "$WARMUP" != 0 ]; then run_wrk 50 "$WARMUP" "$url" "$OUT/$rt-r$round-warmup.txt"; fi
    for conns in $CONNS; do
        file="$OUT/$rt-r$round-wrk-c$conns.txt"
        log "round $round: $rt, wrk -c$conns -d${DURATION}s"
        run_wrk "$conns" "$DURATION" "$url" "$file"
        check_wrk "$file" "$rt wrk -c$conns round $round"
        add "$rt" "h1c$conns" rps "$(wrk_rps "$file")"
        add "$rt" "h1c$conns" p99 "$(wrk_p99_ms "$file")"
    done
    file="$OUT/$rt-r$round-h2load.txt"
    log "round $round: $rt, h2load -c$H2_CLIENTS -m$H2_STREAMS -n$H2_REQUESTS"
    "${CLIENT_PIN[@]}" h2load -t"$WRK_THREADS" -c"$H2_CLIENTS" -m"$H2_STREAMS" -n"$H2_REQUESTS" "$url" >"$file" 2>&1 ||
        fail "$rt h2load round $round exited non-zero ($file)"
    local rps failed non2xx
    rps=$(h2_rps "$file")
    failed=$(h2_failed "$file")
    non2xx=$(h2_non2xx "$file")
    if [ -z "$rps" ]; then
        fail "$rt h2load round $round: no req/s in $file"
    else
        add "$rt" h2 rps "$rps"
    fi
    [ "${failed:-1}" -eq 0 ] || fail "$rt h2load round $round: ${failed:-?} requests did not succeed ($file)"
    [ "${non2xx:-1}" -eq 0 ] || fail "$rt h2load round $round: ${non2xx:-?} non-2xx responses ($file)"
    stop_server "$rt"
}

log "compare: $ROUNDS rounds, $WORKERS workers each, $ROUTE, raw output in $OUT; $PINNING"
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order="ticktock tokio"; else order="tokio ticktock"; fi
    for rt in $order; do measure "$rt" "$round"; done
done

med() { # RUNTIME WORKLOAD METRIC
    local values=${SAMPLES["$1 $2 $3"]:-}
    if [ -z "$values" ]; then echo 0; else median $values; fi
}

echo
echo "| workload | ticktock req/s | tokio req/s | ticktock / tokio | ticktock p99 | tokio p99 | p99 ticktock / tokio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for conns in $CONNS; do
    t=$(med ticktock "h1c$conns" rps)
    k=$(med tokio "h1c$conns" rps)
    tp=$(med ticktock "h1c$conns" p99)
    kp=$(med tokio "h1c$conns" p99)
    echo "| HTTP/1.1 keep-alive, wrk -t$WRK_THREADS -c$conns | $(fmt_int "$t") | $(fmt_int "$k") | $(ratio "$t" "$k")x | ${tp} ms | ${kp} ms | $(ratio "$tp" "$kp")x |"
done
t=$(med ticktock h2 rps)
k=$(med tokio h2 rps)
echo "| HTTP/2, h2load -c$H2_CLIENTS -m$H2_STREAMS -n$H2_REQUESTS | $(fmt_int "$t") | $(fmt_int "$k") | $(ratio "$t" "$k")x | - | - | - |"
echo
echo "Medians of $ROUNDS rounds (alternating which server runs first), GET $ROUTE, ${DURATION}s per wrk run, $WORKERS workers per server; p99 from wrk --latency (lower is better)."
echo "Per round:"
for key in $(printf '%s\n' "${!SAMPLES[@]}" | sed 's/ /:/g' | sort); do
    echo "- ${key//:/ }: ${SAMPLES["${key//:/ }"]}"
done
machine "$PINNING"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Command: $COMMAND"
echo "Raw output: $OUT"
if [ "$FAILURES" -gt 0 ]; then
    log "$FAILURES check(s) failed (socket errors, non-2xx responses, failed requests or unclean exits)"
    exit 1
fi
