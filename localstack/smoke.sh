#!/usr/bin/env bash
# The README's promise, checked: with the stack up, the api under `cargo lambda watch` answers a
# `curl` booking over plain HTTP and the booking.created event is visible in Kafka. Part of `make test`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
load_env

PORT=9010
cleanup() { stop_bg smoke-watch; }
trap cleanup EXIT
start_bg smoke-watch "$VENV/bin/cargo-lambda" lambda watch --quiet --env-file "$ENV_FILE" \
  --invoke-address 127.0.0.1 --invoke-port $PORT
wait_for_port smoke-watch $PORT 120
BASE_URL="http://127.0.0.1:$PORT/lambda-url/api"
for _ in $(seq 1 600); do curl -fs "$BASE_URL/v1/health" >/dev/null 2>&1 && break; sleep 1; done

TOKEN=$("$CARGO_TARGET_DIR/debug/weelo-local" token --sub "smoke-$RANDOM$RANDOM" --role customer)
response=$(curl -s -w '\n%{http_code}' -X POST "$BASE_URL/v1/bookings" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"pickup":{"lat":19.076,"lng":72.8777},"drop":{"lat":18.5204,"lng":73.8567},"vehicleType":"tipper"}')
status=$(tail -n 1 <<<"$response")
body=$(head -n 1 <<<"$response")
[ "$status" = 201 ] || die "smoke: POST /v1/bookings answered $status: $body"
booking_id=$("$VENV/bin/python" -c 'import json,sys; print(json.loads(sys.argv[1])["bookingId"])' "$body")
"$CARGO_TARGET_DIR/debug/weelo-local" tail --topic booking.created --minutes 2 --wait 3 | grep -q "\"key\":\"$booking_id\"" \
  || die "smoke: booking $booking_id was answered 201 but its booking.created event is not in Kafka"
echo "smoke: 1 passed, 0 failed (curl booking $booking_id over HTTP, event seen in Kafka)"
