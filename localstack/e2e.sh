#!/usr/bin/env bash
# End-to-end flows (localstack/e2e): the functions under `cargo lambda watch`, a bridge per test,
# everything over plain HTTP against the running local stack. Part of `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
load_env

PORT=9020
cleanup() { stop_bg e2e-relay; stop_bg e2e-watch; }
trap cleanup EXIT
# --ignore-changes: an edit elsewhere in the tree must not restart the functions mid-test.
start_bg e2e-watch "$VENV/bin/cargo-lambda" lambda watch --quiet --ignore-changes --env-file "$ENV_FILE" \
  --invoke-address 127.0.0.1 --invoke-port $PORT --concurrency 4
wait_for_port e2e-watch $PORT 120
export E2E_API_URL="http://127.0.0.1:$PORT/lambda-url/api"
export E2E_INVOKE_URL="http://127.0.0.1:$PORT"
export WEELO_LOCAL_BIN="$CARGO_TARGET_DIR/debug/weelo-local"
for _ in $(seq 1 600); do curl -fs "$E2E_API_URL/v1/health" >/dev/null 2>&1 && break; sleep 1; done
cargo build --quiet -p weelo-local -p weelo-ops
# As EventBridge does in AWS: an event whose publish timed out (a busy broker) is published by the
# relay, so a slow moment delays a flow instead of stopping it.
start_bg e2e-relay "$CARGO_TARGET_DIR/debug/weelo-local" schedule --function outbox-relay --every-secs 5 \
  --invoke-url "$E2E_INVOKE_URL"
export WEELO_OPS_BIN="$CARGO_TARGET_DIR/debug/weelo-ops"
# One test at a time: each runs a bridge of its own over the shared topics.
cargo test --locked -p weelo-e2e -- --test-threads=1 "$@"
