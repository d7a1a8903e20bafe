#!/usr/bin/env bash
# `make test`: sets everything up, checks formatting and lints, starts the native local stack, and
# runs every test against it: a secret scan, unit tests, integration tests (real Kafka, DynamoDB
# emulator, moto), the OpenAPI validation, the curl smoke test with schemathesis' generated requests,
# and the end-to-end flows (faults, local runs and operator tools included) through `weelo-local functions`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

started_stack=false
cleanup() {
  if $started_stack; then "$ROOT/localstack/stack.sh" stop; fi
}
trap cleanup EXIT

"$ROOT/localstack/setup.sh" --with-plan-tools --with-browser
"$ROOT/localstack/secret-scan.sh"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --workspace --all-targets --locked -- -D warnings

say "fuzzing request bodies and event decoding (cargo-fuzz, 20 s per target)"
"$ROOT/localstack/fuzz.sh" 20

say "validating docs/openapi.yaml (OpenAPI 3.1)"
"$VENV/bin/python" -c "
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
validate(read_from_filename('docs/openapi.yaml')[0])
print('docs/openapi.yaml: valid OpenAPI 3.1')"
say "the benchmark's unit counting (localstack/tests: moto in-process)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider localstack/tests
"$ROOT/localstack/infra-check.sh"

# Not `status | grep -q`: under pipefail, grep quitting early can fail the pipeline (SIGPIPE).
stack_status=$("$ROOT/localstack/stack.sh" status)
if ! grep -q "kafka: up" <<<"$stack_status"; then started_stack=true; fi
"$ROOT/localstack/stack.sh" start
load_env

say "cargo test (unit + integration against the local stack)"
cargo test --workspace --locked --exclude weelo-e2e

say "smoke test: curl through weelo-local functions"
"$ROOT/localstack/smoke.sh"

say "end-to-end flows: HTTP → Kafka → bridge → consumers → SNS"
"$ROOT/localstack/e2e.sh"
