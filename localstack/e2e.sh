#!/usr/bin/env bash
# End-to-end flows (localstack/e2e): the functions run by `weelo-local functions`, a bridge per
# test, everything over plain HTTP against the running local stack. Part of `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
load_env

PORT=9020
BIN="$CARGO_TARGET_DIR/debug"
cleanup() { stop_bg e2e-relay; stop_bg e2e-functions; }
trap cleanup EXIT
build_local
start_bg e2e-functions "$BIN/weelo-local" functions --port $PORT --env-file "$ENV_FILE" --bin-dir "$BIN"
wait_for_log_line e2e-functions "functions: ready" 60
export E2E_API_URL="http://127.0.0.1:$PORT/lambda-url/api"
# The gps-ingest function (functions.json): the api's code serving GPS points only.
export E2E_GPS_URL="http://127.0.0.1:$PORT/lambda-url/gps-ingest"
export E2E_INVOKE_URL="http://127.0.0.1:$PORT"
export WEELO_LOCAL_BIN="$BIN/weelo-local"
# As EventBridge does in AWS: an event whose publish timed out (a busy broker) is published by the
# relay, so a slow moment delays a flow instead of stopping it.
start_bg e2e-relay "$BIN/weelo-local" schedule --function outbox-relay --every-secs 5 \
  --invoke-url "$E2E_INVOKE_URL"
export WEELO_OPS_BIN="$CARGO_TARGET_DIR/debug/weelo-ops"
# One test at a time: each runs a bridge of its own over the shared topics.
cargo test --locked -p weelo-e2e -- --test-threads=1 "$@"
