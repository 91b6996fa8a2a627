#!/usr/bin/env bash
# Memcheck over the timer crate's tests and the runtime shutdown scenarios
# (tests/shutdown_leaks.rs: runtimes dropped with sleeps, intervals, pending tasks, a
# listener and connected sockets in flight). Fails on any memory error and on any
# definite leak; prints each binary's wall time and the total.
#
# Debug builds (full stacks in reports), in the normal target directory, so a prior
# `cargo test` build is reused. VALGRIND_SKIP adds `--skip` filters (test names).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Seconds (one decimal) since the millisecond timestamp $1.
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

start=$(now_ms)

# Test binaries, from cargo's JSON messages ("executable" of each test artifact).
executables() {
    cargo test --no-run --message-format=json "$@" 2>/dev/null |
        grep -o '"executable":"[^"]*"' | sed 's/^"executable":"//; s/"$//'
}

t=$(now_ms)
mapfile -t timer_bins < <(executables -p ticktock-timer --lib --test model --test pitfalls)
mapfile -t runtime_bins < <(executables -p ticktock --test shutdown_leaks)
echo "valgrind: build $(elapsed "$t") s"

# Tests too long for memcheck's ~30x slowdown (each is covered natively by
# `cargo test`): none at present; add names here or through VALGRIND_SKIP.
skips=()
for name in ${VALGRIND_SKIP:-}; do
    skips+=(--skip "$name")
done

memcheck=(
    valgrind --quiet --error-exitcode=1
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --fair-sched=yes
)

status=0
for bin in "${timer_bins[@]}" "${runtime_bins[@]}"; do
    t=$(now_ms)
    if "${memcheck[@]}" "$bin" --test-threads=1 "${skips[@]}" >"$bin.valgrind.log" 2>&1; then
        echo "valgrind: ok   $(basename "$bin") $(elapsed "$t") s"
    else
        status=1
        echo "valgrind: FAIL $(basename "$bin") $(elapsed "$t") s"
        cat "$bin.valgrind.log"
    fi
done

echo "valgrind: total wall time $(elapsed "$start") s"
exit "$status"
