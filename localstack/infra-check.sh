#!/usr/bin/env bash
# Checks of infra/terraform, run by `make test` (localstack/test.sh) and so by CI: the static ones,
# then validation and plan-level tests against the real AWS provider, offline:
#   1. tofu fmt -check          formatting, the plan tests included (OpenTofu, localstack/plan-tools.sh)
#   2. drift tests              infra/checks/test_drift.py (python-hcl2): Terraform vs infra/definitions,
#                               the env vars the Rust code reads, and docs/openapi.yaml
#   3. checkov                  zero failed checks; skips only inline, with a reason
#   4. tflint                   the bundled Terraform language rules (.tflint.hcl); no AWS ruleset
#   5. plan-check.sh            tofu validate + tofu test (infra/terraform/tests) with OpenTofu and the
#                               AWS provider built from the Go module proxy (localstack/plan-tools.sh)
# Needs localstack/setup.sh to have run (it installs checkov, tflint and the drift tests' Python).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

TF_DIR=infra/terraform
CHECKOV_VENV="$LOCAL/venv-checkov"
start=$SECONDS

"$ROOT/localstack/plan-tools.sh"
eval "$("$ROOT/localstack/plan-tools.sh" --env)"
say "tofu fmt -check -recursive $TF_DIR"
"$TOFU" fmt -check -recursive -diff "$TF_DIR"

say "drift tests: Terraform vs definitions, code and API contract (infra/checks)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider infra/checks

say "checkov on $TF_DIR"
# Offline: no policy download, no guideline lookup (both would try the network and only add noise).
BC_SKIP_MAPPING=TRUE "$CHECKOV_VENV/bin/checkov" --directory "$TF_DIR" --framework terraform \
  --skip-download --quiet --compact

say "tflint (Terraform ruleset)"
"$LOCAL/bin/tflint" --chdir="$TF_DIR" --format=compact

"$ROOT/localstack/plan-check.sh"

say "infra checks passed in $((SECONDS - start)) s"
