#!/usr/bin/env bash
# `make bench`: builds the benchmark in release mode, starts the native local stack, measures every
# figure on the real handlers and writes docs/BENCHMARKS.md. A benchmark, not a test: it reports
# timings and never fails on one. Arguments are passed to `weelo-bench local` (see --help).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/localstack/setup.sh"
say "building the arm64 Lambda zips (infra/build-zips.sh), for their sizes"
"$ROOT/infra/build-zips.sh"
say "building weelo-bench and the functions (release)"
cargo build --quiet --release --locked -p weelo-bench
build_local --release
# Leave the stack as it was found: stopped again at the end (or on a failure) if this run started it.
started_stack=false
cleanup() {
  stop_bg bench-bridge
  stop_bg bench-functions
  if $started_stack; then "$ROOT/localstack/stack.sh" stop; fi
}
trap cleanup EXIT
# Not `status | grep -q`: under pipefail, grep quitting early can fail the pipeline (SIGPIPE).
stack_status=$("$ROOT/localstack/stack.sh" status)
if ! grep -q "kafka: up" <<<"$stack_status"; then started_stack=true; fi
"$ROOT/localstack/stack.sh" start
load_env
say "measuring (handlers in-process against the local stack)"
"$CARGO_TARGET_DIR/release/weelo-bench" local "$@"

# Figure 1 over HTTP: the api (release) run by `weelo-local functions`, loaded by the remote mode.
PORT=9030
start_bg bench-functions "$CARGO_TARGET_DIR/release/weelo-local" functions --port $PORT --env-file "$ENV_FILE" \
  --bin-dir "$CARGO_TARGET_DIR/release"
wait_for_log_line bench-functions "functions: ready" 60
API_URL="http://127.0.0.1:$PORT/lambda-url/api"
: >"$LOCAL/bench-trucks.txt"; : >"$LOCAL/bench-customers.txt"
for i in $(seq 1 30); do "$CARGO_TARGET_DIR/release/weelo-local" token --sub "bench-truck-$i" --role transporter >>"$LOCAL/bench-trucks.txt"; done
for i in $(seq 1 20); do "$CARGO_TARGET_DIR/release/weelo-local" token --sub "bench-customer-$i" --role customer >>"$LOCAL/bench-customers.txt"; done
say "over HTTP: 30 trucks (a point every 5 s) + 2 bookings/s for 30 s through weelo-local functions"
"$CARGO_TARGET_DIR/release/weelo-bench" remote --api-url "$API_URL" --transporter-tokens "$LOCAL/bench-trucks.txt" \
  --customer-tokens "$LOCAL/bench-customers.txt" --bookings-per-sec 2 --duration-secs 30 --report docs/BENCHMARKS.md

# Live tracking over the same functions, with a bridge to the consumers (docs/live-tracking.md): a
# truck of its own each run, so an earlier run's trip does not keep it busy.
start_bg bench-bridge "$CARGO_TARGET_DIR/release/weelo-local" bridge --invoke-url "http://127.0.0.1:$PORT" --from-now
wait_for_log_line bench-bridge "bridge: ready" 120
live_truck="bench-live-truck-$(date +%s)"
say "live tracking: 500 points to a subscribed client, then one invocation to 1,000 subscribers"
"$CARGO_TARGET_DIR/release/weelo-bench" live --api-url "$API_URL" --socket-url "ws://127.0.0.1:$PORT/websocket" \
  --connections-url "http://127.0.0.1:$PORT/websocket" --transporter-id "$live_truck" \
  --transporter-token "$("$CARGO_TARGET_DIR/release/weelo-local" token --sub "$live_truck" --role transporter)" \
  --customer-token "$("$CARGO_TARGET_DIR/release/weelo-local" token --sub "bench-live-customer-$live_truck" --role customer)" \
  --report docs/BENCHMARKS.md
stop_bg bench-bridge

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
