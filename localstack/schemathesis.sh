#!/usr/bin/env bash
# Property-based tests of the running api against its contract: schemathesis (localstack/requirements.txt)
# generates requests for every operation of docs/openapi.yaml, valid ones and invalid ones, sends them to
# <base-url> and checks every answer against the spec. Fails on any 5xx, any answer that breaks the spec
# (status, content type, headers, body schema), any invalid request that is not answered 4xx, a missing
# 401 without a token or with a bad one, and a wrong 405/Allow for methods the paths do not have.
#
#   CUSTOMER_TOKEN=... TRANSPORTER_TOKEN=... localstack/schemathesis.sh http://127.0.0.1:9000/lambda-url/api
#
# The caller mints both tokens, e.g. `target/debug/weelo-local token --sub <sub> --role customer`. The four
# transporter operations are sent with TRANSPORTER_TOKEN, every other one with CUSTOMER_TOKEN (see
# localstack/schemathesis.toml; the hooks in localstack/schemathesis_hooks.py say what else is adjusted).
# The generation is pinned: a fixed seed, a fixed number of examples per operation, no example database
# and no crash cache. The api's answers (new ids, the clock) feed into later cases, so the number of cases
# still varies by a few percent from run to run; it must be at least MIN_CASES in all. Quiet on success but for one summary line; on
# failure it prints schemathesis' failure report. Everything it wrote is in .local/schemathesis/.
#
# Knobs (environment): SCHEMATHESIS_SEED (default 20250115), SCHEMATHESIS_MAX_EXAMPLES per operation and
# phase (default 100: about 2,400 cases in 40-70 s locally), SCHEMATHESIS_TIMEOUT in seconds for the
# whole run (default 480).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ $# -eq 1 ] || die "usage: CUSTOMER_TOKEN=... TRANSPORTER_TOKEN=... $0 <base-url>"
BASE_URL=${1%/}
: "${CUSTOMER_TOKEN:?CUSTOMER_TOKEN must hold a customer JWT (weelo-local token --role customer)}"
: "${TRANSPORTER_TOKEN:?TRANSPORTER_TOKEN must hold a transporter JWT (weelo-local token --role transporter)}"
export CUSTOMER_TOKEN TRANSPORTER_TOKEN
SEED=${SCHEMATHESIS_SEED:-20250115}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-100}
TIMEOUT=${SCHEMATHESIS_TIMEOUT:-480}
MIN_CASES=1000
# Every check but two. positive_data_acceptance (valid data must be accepted) would need the spec to say
# what JSON Schema cannot and the descriptions say instead: an order's quantities add up to at most 100,
# an address has no control characters. object_level_authorization needs a Web Fuzzing Commons auth file
# with several users of one role.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
CHECKS+=,response_schema_conformance,negative_data_rejection,missing_required_header,ignored_auth
CHECKS+=,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability

[ -x "$VENV/bin/st" ] || die "schemathesis is not installed in .local/venv: run localstack/setup.sh"
curl -fsS -o /dev/null --max-time 10 "$BASE_URL/v1/health" || die "the api does not answer at $BASE_URL/v1/health"
# A token the api refuses would turn the whole run into 401s, which pass every check: each token must
# get past authentication and the role check of one of its operations (404: no such object).
NIL=00000000-0000-4000-8000-000000000000
probe() { # method path token -> status
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$1" "$BASE_URL$2" -H "Authorization: Bearer $3"
}
got=$(probe GET "/v1/orders/$NIL" "$CUSTOMER_TOKEN")
[ "$got" = 404 ] || die "CUSTOMER_TOKEN is not a valid customer token: GET /v1/orders/{id} answered $got"
got=$(probe POST "/v1/bookings/$NIL/accept" "$TRANSPORTER_TOKEN")
[ "$got" = 404 ] || die "TRANSPORTER_TOKEN is not a valid transporter token: POST /v1/bookings/{id}/accept answered $got"

OUT="$LOCAL/schemathesis"
rm -rf "$OUT"
mkdir -p "$OUT"
start=$SECONDS
status=0
timeout --kill-after=10 "$TIMEOUT" "$VENV/bin/st" --config-file localstack/schemathesis.toml \
  run docs/openapi.yaml --url "$BASE_URL" \
  --seed "$SEED" --max-examples "$MAX_EXAMPLES" --generation-database none \
  --checks "$CHECKS" --continue-on-failure \
  --request-timeout 10 --no-color \
  --report json,junit --report-json-path "$OUT/report.json" --report-junit-path "$OUT/junit.xml" \
  >"$OUT/output.txt" 2>&1 || status=$?
elapsed=$((SECONDS - start))

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  tail -n 40 "$OUT/output.txt" >&2
  die "schemathesis: not finished within ${TIMEOUT}s (the output so far is in $OUT/output.txt)"
fi
# One line of numbers from the run report; none when schemathesis stopped before writing it.
summary=$("$VENV/bin/python" - "$OUT/report.json" <<'PY' || true
import json, sys
report = json.load(open(sys.argv[1]))
cases, ops = report["test_cases"], report["operations"] or {}
failures = sum(group["count"] for group in report["failures"])
errors = sum(group["count"] for group in report["errors"])
print(cases["generated"], ops.get("tested", 0), ops.get("selected", 0), failures, errors, int(report["complete"]))
PY
)
if [ -z "$summary" ]; then
  cat "$OUT/output.txt" >&2
  die "schemathesis: no run report (exit status $status)"
fi
read -r generated tested selected failures errors complete <<<"$summary"
line="$generated cases generated for $tested/$selected operations in ${elapsed}s (seed $SEED,"
line+=" $MAX_EXAMPLES examples per operation): $failures failures, $errors errors"

if [ "$status" -ne 0 ] || [ "$failures" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$complete" -ne 1 ]; then
  # The failures, errors and summary sections, without the run's progress lines before them.
  sections=$(sed -n '/^=\+ \(FAILURES\|ERRORS\|WARNINGS\|SUMMARY\) =\+$/,$p' "$OUT/output.txt")
  if [ -n "$sections" ]; then echo "$sections" >&2; else tail -n 40 "$OUT/output.txt" >&2; fi
  die "schemathesis: $line (exit status $status; everything in $OUT)"
fi
[ "$generated" -ge "$MIN_CASES" ] || die "schemathesis: $line; fewer than $MIN_CASES cases"
[ "$tested" -eq "$selected" ] || die "schemathesis: $line; not every operation was tested"
echo "schemathesis: $line"
