#!/usr/bin/env bash
# `make run`: sets everything up, starts the native local stack, the functions under
# `cargo lambda watch` and the outbox relay's schedule, prints the base URL and sample tokens, and
# stops everything on Ctrl-C.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

INVOKE_PORT=9000
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  stop_bg relay-schedule
  stop_bg bridge
  stop_bg watch
  "$ROOT/localstack/stack.sh" stop
}
trap cleanup INT TERM EXIT

"$ROOT/localstack/setup.sh"
"$ROOT/localstack/stack.sh" start
load_env
say "building the functions (the first build of the AWS SDK takes several minutes)"
cargo build --quiet --bins

say "starting the functions under cargo lambda watch on 127.0.0.1:$INVOKE_PORT"
start_bg watch "$VENV/bin/cargo-lambda" lambda watch --quiet --env-file "$ENV_FILE" \
  --invoke-address 127.0.0.1 --invoke-port $INVOKE_PORT --concurrency 4
wait_for_port watch $INVOKE_PORT 120
BASE_URL="http://127.0.0.1:$INVOKE_PORT/lambda-url/api"
for _ in $(seq 1 300); do
  curl -fs "$BASE_URL/v1/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$BASE_URL/v1/health" >/dev/null || die "the api did not answer on $BASE_URL (see .local/logs/watch.log)"

# EventBridge runs the relay every minute in AWS; locally every 5 s keeps the demo snappy.
start_bg relay-schedule "$CARGO_TARGET_DIR/debug/weelo-local" schedule --function outbox-relay --every-secs 5 \
  --invoke-url "http://127.0.0.1:$INVOKE_PORT"

# The MSK event-source mappings, locally: Kafka → order-fanout, fcm-consumer, location-consumer.
# New groups start at the end of the topics, so old test traffic is not replayed into the demo.
start_bg bridge "$CARGO_TARGET_DIR/debug/weelo-local" bridge --invoke-url "http://127.0.0.1:$INVOKE_PORT" --from-latest
wait_for_log_line bridge "bridge: ready" 120

CUSTOMER_TOKEN=$("$CARGO_TARGET_DIR/debug/weelo-local" token --sub demo-customer --role customer)
TRANSPORTER_TOKEN=$("$CARGO_TARGET_DIR/debug/weelo-local" token --sub demo-transporter --role transporter)
cat <<INFO

  Weelo is running locally.

  Base URL          $BASE_URL
  Customer token    $CUSTOMER_TOKEN
  Transporter token $TRANSPORTER_TOKEN

  Book a truck:
    curl -s -X POST $BASE_URL/v1/bookings \\
      -H "Authorization: Bearer \$CUSTOMER_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"pickup":{"lat":19.076,"lng":72.8777},"drop":{"lat":18.5204,"lng":73.8567},"vehicleType":"tipper"}'
  Pushes land in moto:  curl -s http://127.0.0.1:4566/moto-api/data.json   (sns → PlatformEndpoint → messages)
  See the event in Kafka:
    (set -a; . .local/stack.env; set +a; target/debug/weelo-local tail --topic booking.created)

  (the tokens above are also in .local/tokens.env)  Logs: .local/logs/   Stop: Ctrl-C

INFO
printf 'CUSTOMER_TOKEN=%s\nTRANSPORTER_TOKEN=%s\nBASE_URL=%s\n' "$CUSTOMER_TOKEN" "$TRANSPORTER_TOKEN" "$BASE_URL" >"$LOCAL/tokens.env"
tail -n +1 -f "$LOGS/watch.log" &
wait "$(cat "$PIDS/watch.pid")"
