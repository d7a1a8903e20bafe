#!/usr/bin/env bash
# Builds the tools that plan infra/terraform offline, once per machine, from the Go module proxy:
#   - OpenTofu (MPL-2.0; HashiCorp Terraform >= 1.6 is BSL and is not used here), and
#   - the AWS provider (MPL-2.0), placed in a filesystem mirror with a CLI configuration naming it.
# They go into a cache OUTSIDE the repository (default ~/.cache/weelo/plan-tools, or $WEELO_PLAN_TOOLS)
# so that every fresh clone on the same machine (CI clones afresh) finds them. A no-op when both
# are present. The provider's first build is long (tens of minutes on 2 cores, a ~900 MB binary):
# a line of progress is printed every 30 s while it runs.
#
#   localstack/plan-tools.sh          build what is missing, print nothing else when all is there
#   localstack/plan-tools.sh --env    print the variables that point tofu at the cache (for `eval`)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TOFU_VERSION=v1.10.10
# The provider's repository has no /v6 module path, so releases cannot be named on the proxy: this
# pseudo-version is `@main` of 2026-06-02, whose version/VERSION says 6.47.1.
PROVIDER_MODULE=github.com/hashicorp/terraform-provider-aws
PROVIDER_PSEUDO=v1.60.1-0.20260602190131-5f2286d6d836
PROVIDER_VERSION=6.47.1

CACHE="${WEELO_PLAN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/weelo/plan-tools}"
TOFU="$CACHE/opentofu-$TOFU_VERSION/tofu"
MIRROR="$CACHE/providers"
PROVIDER_DIR="$MIRROR/registry.opentofu.org/hashicorp/aws/$PROVIDER_VERSION/linux_amd64"
PROVIDER="$PROVIDER_DIR/terraform-provider-aws_v$PROVIDER_VERSION"
CLI_CONFIG="$CACHE/tofurc"

if [ "${1:-}" = "--env" ]; then
  printf 'export TOFU=%q TF_CLI_CONFIG_FILE=%q\n' "$TOFU" "$CLI_CONFIG"
  exit 0
fi

GO_BIN="$(command -v go || echo /usr/local/go/bin/go)"
BUILD_LOGS="$CACHE/logs"

# Runs a build in the background and prints how far it got every 30 s (Go prints nothing until the
# end): packages compiled so far (`go build -v` lists each) out of the packages the command needs.
build_with_progress() { # label total_packages log command...
  local label=$1 total=$2 log=$3; shift 3
  local start=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null && sleep 1; done
    kill -0 "$pid" 2>/dev/null || break
    local done_packages; done_packages=$(grep -c -v -e '^go: ' -e '^#' "$log" || true)
    say "$label: ${done_packages}/${total} packages compiled, $(( (SECONDS - start) / 60 )) min so far"
  done
  wait "$pid" || { tail -n 30 "$log" >&2; die "building $label failed (log: $log)"; }
  say "$label built in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
}

mkdir -p "$CACHE" "$BUILD_LOGS"
# One build at a time per machine: a second run (another clone's `make test`) waits for the first.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another localstack/plan-tools.sh is building into $CACHE: waiting for it"
  flock 9
fi
if [ ! -x "$TOFU" ] || [ ! -x "$PROVIDER" ]; then
  [ -x "$GO_BIN" ] || die "go is required to build the plan tools (OpenTofu, the AWS provider)"
fi
export GOFLAGS="-modcacherw -buildvcs=false"

if [ ! -x "$TOFU" ]; then
  say "building OpenTofu $TOFU_VERSION into $CACHE (Go module proxy; once per machine, ~15 min on 2 cores)"
  # go.mod has a `replace` (hcl/v2 -> OpenTofu's fork), which `go install pkg@version` refuses, so
  # the module is downloaded and built in place from a writable copy.
  dir=$("$GO_BIN" mod download -json "github.com/opentofu/opentofu@$TOFU_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || die "downloading github.com/opentofu/opentofu@$TOFU_VERSION failed"
  src="$CACHE/src/opentofu-$TOFU_VERSION"
  rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  total=$(cd "$src" && "$GO_BIN" list -deps ./cmd/tofu | wc -l)
  mkdir -p "$(dirname "$TOFU")"
  build_with_progress "OpenTofu $TOFU_VERSION" "$total" "$BUILD_LOGS/tofu-build.log" \
    bash -c "cd '$src' && '$GO_BIN' build -v -ldflags '-X github.com/opentofu/opentofu/version.dev=no' \
      -o '$TOFU.partial' ./cmd/tofu"
  mv "$TOFU.partial" "$TOFU"
  rm -rf "$src"
fi

if [ ! -x "$PROVIDER" ]; then
  say "building the AWS provider $PROVIDER_VERSION into $CACHE (Go module proxy; once per machine, 40-60 min on 2 cores)"
  "$GO_BIN" mod download "$PROVIDER_MODULE@$PROVIDER_PSEUDO" \
    || die "downloading $PROVIDER_MODULE@$PROVIDER_PSEUDO failed"
  bin="$CACHE/src/provider-bin"
  mkdir -p "$bin" "$PROVIDER_DIR"
  # `go list` needs a module context for a versioned path: count the packages from a scratch module.
  scratch="$CACHE/src/provider-count"
  mkdir -p "$scratch"
  [ -f "$scratch/go.mod" ] || (cd "$scratch" && "$GO_BIN" mod init count >/dev/null 2>&1)
  total=$(cd "$scratch" && "$GO_BIN" get "$PROVIDER_MODULE@$PROVIDER_PSEUDO" >/dev/null 2>&1 &&
    "$GO_BIN" list -deps "$PROVIDER_MODULE" 2>/dev/null | wc -l || echo "?")
  build_with_progress "AWS provider $PROVIDER_VERSION" "$total" "$BUILD_LOGS/provider-build.log" \
    env GOBIN="$bin" "$GO_BIN" install -v "$PROVIDER_MODULE@$PROVIDER_PSEUDO"
  mv "$bin/terraform-provider-aws" "$PROVIDER"
  rm -rf "$CACHE/src"
fi

if [ ! -f "$CLI_CONFIG" ] || ! grep -qF "$MIRROR" "$CLI_CONFIG"; then
  # Only the mirror: no registry is ever asked (this machine has no registry access).
  cat >"$CLI_CONFIG" <<EOF
# Written by localstack/plan-tools.sh: OpenTofu takes providers from the local mirror only.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.opentofu.org/hashicorp/*"]
  }
  direct {
    exclude = ["registry.opentofu.org/hashicorp/*"]
  }
}
EOF
fi
