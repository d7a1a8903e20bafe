#!/usr/bin/env bash
# `make run`'s demo driver, when the demo booking was not offered before the banner (a fan-out
# busy with deadlines left due before the run): tries to accept it every 2 s until it wins it (200)
# or the booking no longer searches (409), for at most the booking's two offer rounds and a margin.
# Usage: demo-driver.sh BASE_URL DRIVER_TOKEN BOOKING_ID
set -uo pipefail
base_url=$1 token=$2 booking=$3
deadline=$((SECONDS + 600))
while ((SECONDS < deadline)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    "$base_url/v1/bookings/$booking/accept")
  case $code in
    200) echo "demo driver: accepted booking $booking"; exit 0 ;;
    409) echo "demo driver: booking $booking no longer searches"; exit 0 ;;
  esac
  sleep 2
done
echo "demo driver: booking $booking not offered within 10 min"
