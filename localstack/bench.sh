#!/usr/bin/env bash
# `make bench`: builds the benchmark in release mode, starts the native local stack, measures every
# figure on the real handlers and writes docs/BENCHMARKS.md. A benchmark, not a test: it reports
# timings and never fails on one. Arguments are passed to `weelo-bench local` (see --help).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/localstack/setup.sh"
say "building weelo-bench and the functions (release)"
cargo build --quiet --release --locked -p weelo-bench -p weelo-api -p weelo-order-fanout -p weelo-fcm-consumer \
  -p weelo-location-consumer -p weelo-outbox-relay -p weelo-kafka-topics
"$ROOT/localstack/stack.sh" start
load_env
say "measuring (handlers in-process against the local stack)"
"$CARGO_TARGET_DIR/release/weelo-bench" local "$@"

BENCH_VENV="$LOCAL/venv-bench"
requirements="$ROOT/localstack/requirements-bench.txt"
if [ ! -x "$BENCH_VENV/bin/python" ] || ! cmp -s "$requirements" "$BENCH_VENV/.requirements"; then
  say "installing the chart tools into .local/venv-bench"
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$BENCH_VENV/.requirements"
fi
say "drawing docs/bench-scaling.png and docs/bench-sync-vs-async.png"
"$BENCH_VENV/bin/python" "$ROOT/localstack/bench_chart.py" docs/BENCHMARKS.json
