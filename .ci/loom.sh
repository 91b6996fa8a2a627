#!/usr/bin/env bash
# Loom model checks: the executor's parking protocol (Parker, Idle, PollerDeadline;
# executor/src/runtime/loom_tests.rs), the remote-cancel protocol of the timer stores
# (executor/src/runtime/remote_cancel_loom.rs) and the executor's use of a TimerStore
# behind a mutex (timer/tests/loom.rs). Prints the wall time of each part and of the whole.
#
# Builds into target/loom so the `--cfg loom` build never invalidates the normal one.
# Release mode (loom explores thousands of executions) with debug assertions on, so
# the `debug_assert!`s of the code under test are checked in every execution.
# LOOM_MAX_PREEMPTIONS deepens the executor models (default bound 3, ~20 s; 4 takes
# minutes); the timer models always use at least 5, which reaches every lock order.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Seconds (one decimal) since the millisecond timestamp $1.
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

start=$(now_ms)

t=$(now_ms)
cargo test --release -p ticktock-executor --lib loom --quiet
echo "loom: executor models (build included) $(elapsed "$t") s"

t=$(now_ms)
cargo test --release -p ticktock-timer --test loom --quiet
echo "loom: timer models (build included) $(elapsed "$t") s"

echo "loom: total wall time $(elapsed "$start") s"
