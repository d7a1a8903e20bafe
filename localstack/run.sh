#!/usr/bin/env bash
# `make run`: sets everything up, starts the native local stack (unless it is up already), the
# functions (`weelo-local functions`), the bridge and the outbox relay's schedule, prints the base
# URL and sample tokens, then keeps one status line per part on the terminal, with the warnings and
# errors the functions log; everything else goes to .local/logs/. Ctrl-C stops what it started.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT=${WEELO_RUN_PORT:-9000}
started_stack=false
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  stop_bg demo-driver
  stop_bg relay-schedule
  stop_bg deadline-schedule
  stop_bg bridge
  stop_bg functions
  if $started_stack; then "$ROOT/localstack/stack.sh" stop; fi
}
trap cleanup INT TERM EXIT

"$ROOT/localstack/setup.sh"
# Not `status | grep -q`: under pipefail, grep quitting early can fail the pipeline (SIGPIPE).
stack_status=$("$ROOT/localstack/stack.sh" status)
if ! grep -q "kafka: up" <<<"$stack_status"; then started_stack=true; fi
"$ROOT/localstack/stack.sh" start
load_env
say "building the functions (the first build of the AWS SDK takes several minutes)"
build_local
BIN="$CARGO_TARGET_DIR/debug"

say "starting the functions on 127.0.0.1:$PORT"
start_bg functions "$BIN/weelo-local" functions --port "$PORT" --env-file "$ENV_FILE" --bin-dir "$BIN"
wait_for_log_line functions "functions: ready" 60
BASE_URL="http://127.0.0.1:$PORT/lambda-url/api"
curl -fs "$BASE_URL/v1/health" >/dev/null || die "the api did not answer on $BASE_URL (see .local/logs/functions.log)"
# GPS points go to the gps-ingest function's URL, as the truck apps send them in AWS.
GPS_URL="http://127.0.0.1:$PORT/lambda-url/gps-ingest"

# EventBridge runs the relay every minute in AWS; locally every 5 s keeps the demo snappy. The
# deadline sweeper (offer windows, scheduled bookings) runs every 2 s, one sweep per invocation.
start_bg relay-schedule "$BIN/weelo-local" schedule --function outbox-relay --every-secs 5 \
  --invoke-url "http://127.0.0.1:$PORT"
start_bg deadline-schedule "$BIN/weelo-local" schedule --function deadline-sweeper --every-secs 2 \
  --invoke-url "http://127.0.0.1:$PORT"

# The MSK event-source mappings, locally. --from-now: every mapping starts at the end of its topic
# on every start, so what tests, benchmarks or an earlier run left on the broker is never replayed.
start_bg bridge "$BIN/weelo-local" bridge --invoke-url "http://127.0.0.1:$PORT" --from-now
wait_for_log_line bridge "bridge: ready" 120

CUSTOMER_TOKEN=$("$BIN/weelo-local" token --sub demo-customer --role customer)
TRANSPORTER_TOKEN=$("$BIN/weelo-local" token --sub demo-transporter --role transporter)
printf 'CUSTOMER_TOKEN=%s\nTRANSPORTER_TOKEN=%s\nBASE_URL=%s\nGPS_URL=%s\n' "$CUSTOMER_TOKEN" "$TRANSPORTER_TOKEN" \
  "$BASE_URL" "$GPS_URL" >"$LOCAL/tokens.env"
# A sample shared tracking link (docs/live-tracking.md): a driver of this run's own (so the
# README's demo-transporter stays free) sends a point in Bengaluru, demo-customer books there once
# the point is in the geo index (without a truck nearby a booking expires at once, and so would the
# link), the driver accepts once offered, and demo-customer shares the booking. When the fan-out is
# busy at the start (deadlines an earlier run or the tests left due fire when the sweeper starts),
# the offer can take minutes: the banner does not wait for it, a background demo driver accepts it.
api() { # token curl-args...
  curl -fsS -H "Authorization: Bearer $1" -H 'Content-Type: application/json' "${@:2}"
}
json_field() { "$VENV/bin/python" -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
demo_driver=$("$BIN/weelo-local" token --sub "demo-driver-$(date +%s)" --role transporter)
api "$demo_driver" -X PUT "$BASE_URL/v1/transporters/me" -d '{"vehicleTypes":["tipper"],"available":true}' >/dev/null ||
  die "the api did not take the demo driver's profile (see .local/logs/functions.log)"
location_lag() { # what location-consumer has yet to consume (its mapping's lag), or 1 if unknown
  "$BIN/weelo-ops" lag 2>/dev/null | awk '$1 == "location-consumer" { print $3; found = 1 } END { if (!found) print 1 }'
}
demo_book() { # posts the driver's point, waits until it is consumed, books near it; prints the booking's id
  api "$demo_driver" -X POST "$GPS_URL/v1/tracking/location" \
    -d "{\"lat\":12.9721,\"lng\":77.5933,\"recordedAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" >/dev/null ||
    die "gps-ingest did not take the demo driver's point (see .local/logs/functions.log)"
  local deadline=$((SECONDS + 60))
  until [ "$(location_lag)" = 0 ] || ((SECONDS >= deadline)); do sleep 1; done
  api "$CUSTOMER_TOKEN" -X POST "$BASE_URL/v1/bookings" \
    -d '{"pickup":{"lat":12.9716,"lng":77.5946},"drop":{"lat":13.1986,"lng":77.7066},"vehicleType":"tipper"}' |
    json_field bookingId || die "the api did not create the demo booking (see .local/logs/functions.log)"
}
demo_trip() { # prints the demo booking's id; returns 1 if it was not accepted within 30 s of being
  # made, 2 if it could not be made
  local booking status tries=1 deadline
  booking=$(demo_book) || return 2
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if api "$demo_driver" -X POST "$BASE_URL/v1/bookings/$booking/accept" >/dev/null 2>&1; then
      echo "$booking"
      return 0
    fi
    status=$(api "$CUSTOMER_TOKEN" "$BASE_URL/v1/bookings/$booking" | json_field status) || status=unknown
    # Expired although the point was consumed (a point that took longer than a minute): book again.
    if [ "$status" = expired ] && ((tries < 3)); then
      booking=$(demo_book) || return 2
      tries=$((tries + 1))
    fi
    sleep 1
  done
  echo "$booking"
  return 1
}
# A demo that went wrong costs the link, not the run.
demo_status=0
demo_booking=$(demo_trip) || demo_status=$?
TRACK_URL="(none: the demo booking could not be made; see .local/logs/functions.log)"
if ((demo_status != 2)); then
  if ((demo_status == 1)); then
    # Offered later (a busy fan-out): the driver accepts then, for as long as the booking searches.
    start_bg demo-driver "$ROOT/localstack/demo-driver.sh" "$BASE_URL" "$demo_driver" "$CUSTOMER_TOKEN" "$demo_booking"
    say "the fan-out is busy (work left due before this run); a demo driver accepts the demo booking once offered"
  fi
  TRACK_URL=$(api "$CUSTOMER_TOKEN" -X POST "$BASE_URL/v1/bookings/$demo_booking/share" | json_field url) ||
    TRACK_URL="(none: the demo booking $demo_booking could not be shared; see .local/logs/functions.log)"
fi
cat <<INFO

  Weelo is running locally: a demo of now. The consumers start at the end of every topic on every
  start; events from before it (tests, benchmarks, an earlier run) are not replayed.

  Base URL   $BASE_URL
  GPS URL    $GPS_URL  (POST /v1/tracking/location only: the gps-ingest function)
  Tokens     CUSTOMER_TOKEN and TRANSPORTER_TOKEN (12 h) in .local/tokens.env, with BASE_URL and GPS_URL
  Live       ws://127.0.0.1:$PORT/websocket  (token in ?token= or Sec-WebSocket-Protocol; docs/live-tracking.md)
  Tracking page of a demo trip (a shared link; the truck moves as its driver posts points):
    $TRACK_URL

  Book a truck:
    . .local/tokens.env; curl -s -X POST \$BASE_URL/v1/bookings \\
      -H "Authorization: Bearer \$CUSTOMER_TOKEN" -H 'Content-Type: application/json' \\
      -d '{"pickup":{"lat":19.076,"lng":72.8777},"drop":{"lat":18.5204,"lng":73.8567},"vehicleType":"tipper"}'
  Pushes land in moto:  curl -s http://127.0.0.1:4566/moto-api/data.json   (sns → PlatformEndpoint → messages)
  Logs: .local/logs/functions.log (every function), bridge.log, relay-schedule.log, deadline-schedule.log,
        demo-driver.log    Stop: Ctrl-C

INFO
"$BIN/weelo-local" status --functions-url "http://127.0.0.1:$PORT" --bridge-pid "$PIDS/bridge.pid"
