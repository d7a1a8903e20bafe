#!/usr/bin/env bash
# Checks infra/terraform against the real AWS provider, offline (run by infra-check.sh, so by
# `make test`): `tofu validate`, then the plan-level tests of infra/terraform/tests (`tofu test`,
# command = plan, dummy credentials, no AWS call). OpenTofu and the provider come from
# localstack/plan-tools.sh's cache outside the repository.
#
# It works on a copy under .local/plan (the configuration, infra/definitions and docs/openapi.yaml,
# which the configuration and the tests read), so no .terraform folder or lock file is ever
# written into the repository; the lock file holds the local build's hash and is not committed.
# Last, a negative control: a copy with one misspelt argument must fail validation, which shows the
# provider's schema is really being checked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/localstack/plan-tools.sh"
eval "$("$ROOT/localstack/plan-tools.sh" --env)"
export TF_CLI_CONFIG_FILE TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1 # no version check over the network

WORK="$LOCAL/plan"
TF="$WORK/infra/terraform"
mkdir -p "$WORK"
# Keep the initialised provider between runs; refresh everything else from the tree.
[ -d "$TF/.terraform" ] && mv "$TF/.terraform" "$WORK/.terraform-kept"
rm -rf "$WORK/infra" "$WORK/docs"
mkdir -p "$WORK/infra" "$WORK/docs"
cp -r infra/terraform infra/definitions "$WORK/infra/"
cp docs/openapi.yaml "$WORK/docs/"
rm -rf "$TF/.terraform" "$TF/.terraform.lock.hcl" "$TF"/*.tfstate* "$TF"/terraform.tfvars
[ -d "$WORK/.terraform-kept" ] && mv "$WORK/.terraform-kept" "$TF/.terraform"

# The functions' zips are only hashed at plan time: an empty archive per function will do.
ARTIFACTS="$WORK/artifacts"
"$VENV/bin/python" - "$ARTIFACTS" infra/definitions/functions.json <<'EOF'
import json, os, sys, zipfile
out, definitions = sys.argv[1], sys.argv[2]
for function in json.load(open(definitions))["functions"]:
    path = os.path.join(out, function["name"], "bootstrap.zip")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("bootstrap", "plan-test placeholder\n")
EOF

run_tofu() { # log-name tofu-arguments... : quiet unless it fails
  local log="$LOGS/tofu-$1.log"; shift
  mkdir -p "$LOGS"
  "$TOFU" -chdir="$TF" "$@" -no-color >"$log" 2>&1 || { cat "$log" >&2; die "tofu $1 failed (log: $log)"; }
}

start=$SECONDS
say "tofu init + validate infra/terraform (OpenTofu, AWS provider from $(dirname "$TF_CLI_CONFIG_FILE"))"
run_tofu init init -backend=false -input=false
run_tofu validate validate
grep -v '^$' "$LOGS/tofu-validate.log" >&2

say "tofu test: plan-level tests (infra/terraform/tests)"
log="$LOGS/tofu-test.log"
if ! "$TOFU" -chdir="$TF" test -no-color -var "artifacts_dir=$ARTIFACTS" >"$log" 2>&1; then
  cat "$log" >&2
  die "tofu test failed (log: $log)"
fi
grep -E '^(  run|tests/|Success|Failure)' "$log" >&2 || true
grep -q '^Success!' "$log" || { cat "$log" >&2; die "tofu test did not report success (log: $log)"; }

say "negative control: a misspelt argument must fail validation"
BROKEN="$WORK/infra/broken" # beside definitions/, which the configuration reads
cp -r "$TF" "$BROKEN"
sed -i 's/^resource "aws_lambda_event_source_mapping" "this" {$/&\n  batch_sizes = 1/' "$BROKEN/esm.tf"
grep -q '^  batch_sizes = 1$' "$BROKEN/esm.tf" || die "negative control: could not break esm.tf"
if "$TOFU" -chdir="$BROKEN" validate -no-color >"$LOGS/tofu-broken.log" 2>&1; then
  die "a misspelt argument passed tofu validate: the provider schema is not being checked"
fi
grep -q 'An argument named "batch_sizes" is not expected here' "$LOGS/tofu-broken.log" \
  || { cat "$LOGS/tofu-broken.log" >&2; die "negative control failed for another reason than the misspelt argument"; }
rm -rf "$BROKEN"

say "plan checks passed in $((SECONDS - start)) s"
