#!/usr/bin/env bash
# `make run`'s demo driver, when the demo booking was not offered before the banner (a fan-out
# busy with deadlines left due before the run): tries to accept it every 2 s until it wins it, or
# until the booking no longer searches (expired, or taken), for at most 10 minutes. Removes its pid
# file when it ends, so that `make run` never signals a reused pid.
# Usage: demo-driver.sh BASE_URL DRIVER_TOKEN CUSTOMER_TOKEN BOOKING_ID
set -uo pipefail
. "$(dirname "$0")/lib.sh"
base_url=$1 driver=$2 customer=$3 booking=$4
trap 'rm -f "$PIDS/demo-driver.pid"' EXIT
status() { # the booking's status as its customer sees it, or "unknown"
  curl -fsS -H "Authorization: Bearer $customer" "$base_url/v1/bookings/$booking" |
    "$VENV/bin/python" -c "import json, sys; print(json.load(sys.stdin)['status'])" 2>/dev/null || echo unknown
}
deadline=$((SECONDS + 600))
while ((SECONDS < deadline)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $driver" \
    "$base_url/v1/bookings/$booking/accept")
  if [ "$code" = 200 ]; then
    echo "demo driver: accepted booking $booking"
    exit 0
  fi
  # 404: not offered yet; 409: no longer searching, or the offer was taken back. Either way the
  # booking's own status says whether waiting still makes sense.
  current=$(status)
  case $current in
    searching | unknown) ;;
    *) echo "demo driver: booking $booking is $current; stopping"; exit 0 ;;
  esac
  sleep 2
done
echo "demo driver: booking $booking was not offered within 10 min; stopping"
