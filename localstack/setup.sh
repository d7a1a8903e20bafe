#!/usr/bin/env bash
# Installs everything the native local stack needs, into the repository's .local/ folder:
# a Python venv (moto server, cargo-lambda, the infra-check tools), checkov in a venv of its own,
# tflint and gitleaks built from the Go module proxy, Apache Kafka's jars from Maven Central, and
# the development JWT key pair. Idempotent and quiet when there is nothing to do.
#
#   setup.sh --with-plan-tools   also builds OpenTofu and the AWS provider (localstack/plan-tools.sh)
#                                into a cache outside the repository: `make test` needs them, `make run`
#                                and `make bench` do not (the provider's first build takes ~50 min).
#   setup.sh --with-browser      also installs Debian's chromium (apt-get, as root) when `chromium` is
#                                not on PATH: localstack/browser_check.py drives it headless to test the
#                                tracking page (`GET /track`); `make test` needs it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

with_plan_tools=false
with_browser=false
for option in "$@"; do
  case "$option" in
    --with-plan-tools) with_plan_tools=true ;;
    --with-browser) with_browser=true ;;
    *) die "unknown option $option (setup.sh [--with-plan-tools] [--with-browser])" ;;
  esac
done

# Debian's chromium package, nothing downloaded from elsewhere (no browser builds of its own).
install_browser() {
  command -v chromium >/dev/null && return 0
  [ "$(id -u)" = 0 ] || die "chromium is missing: run \`apt-get install chromium\` as root (localstack/browser_check.py needs it)"
  command -v apt-get >/dev/null || die "chromium is missing and there is no apt-get: install Debian's chromium package"
  say "installing Debian's chromium (apt-get) for the tracking page's browser check"
  mkdir -p "$LOGS"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$LOGS/apt-chromium.log" 2>&1 \
    || { tail -n 20 "$LOGS/apt-chromium.log" >&2; die "apt-get install chromium failed"; }
  command -v chromium >/dev/null || die "apt-get installed chromium but \`chromium\` is not on PATH"
}

mkdir -p "$LOCAL"
command -v java >/dev/null || die "java (17+) is required"
command -v mvn >/dev/null || die "maven is required"
command -v cargo >/dev/null || die "cargo (rustup) is required"

requirements="$ROOT/localstack/requirements.txt"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$requirements" "$VENV/.requirements"; then
  say "installing Python tools into .local/venv (moto server, cargo-lambda)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$VENV/.requirements"
fi

# checkov lives in its own venv: it pulls bc-python-hcl2, which installs the same `hcl2` module as
# the python-hcl2 the drift tests use (see requirements-checkov.txt).
checkov_requirements="$ROOT/localstack/requirements-checkov.txt"
CHECKOV_VENV="$LOCAL/venv-checkov"
if [ ! -x "$CHECKOV_VENV/bin/checkov" ] || ! cmp -s "$checkov_requirements" "$CHECKOV_VENV/.requirements"; then
  say "installing checkov into .local/venv-checkov"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$checkov_requirements"
  cp "$checkov_requirements" "$CHECKOV_VENV/.requirements"
fi

# tflint from the Go module proxy, built once into .local/bin (its AWS ruleset is not available
# there; see infra/terraform/README.md).
TFLINT_VERSION=v0.64.0
GO_BIN="$(command -v go || echo /usr/local/go/bin/go)"
if [ "$(cat "$LOCAL/bin/.tflint-version" 2>/dev/null)" != "$TFLINT_VERSION" ]; then
  [ -x "$GO_BIN" ] || die "go is required to build tflint"
  say "building tflint $TFLINT_VERSION into .local/bin (Go module proxy)"
  mkdir -p "$LOCAL/bin" "$LOGS"
  # Go's own module and build caches (in the home folder) are kept: a fresh clone rebuilds in seconds.
  GOBIN="$LOCAL/bin" GOFLAGS="-modcacherw" "$GO_BIN" install \
    "github.com/terraform-linters/tflint@$TFLINT_VERSION" >"$LOGS/tflint-build.log" 2>&1 \
    || { tail -n 20 "$LOGS/tflint-build.log" >&2; die "building tflint failed"; }
  echo "$TFLINT_VERSION" >"$LOCAL/bin/.tflint-version"
fi

# gitleaks (localstack/secret-scan.sh) from the Go module proxy, built the same way: chosen over
# detect-secrets for its git-history scan, its maintained rule set (AWS, private keys, JWTs, GCP
# service accounts, generic API keys) and its reports that name file, line and commit.
GITLEAKS_VERSION=v8.30.1
if [ "$(cat "$LOCAL/bin/.gitleaks-version" 2>/dev/null)" != "$GITLEAKS_VERSION" ]; then
  [ -x "$GO_BIN" ] || die "go is required to build gitleaks"
  say "building gitleaks $GITLEAKS_VERSION into .local/bin (Go module proxy)"
  mkdir -p "$LOCAL/bin" "$LOGS"
  GOBIN="$LOCAL/bin" GOFLAGS="-modcacherw" "$GO_BIN" install \
    -ldflags "-X github.com/zricethezav/gitleaks/v8/version.Version=$GITLEAKS_VERSION" \
    "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION" >"$LOGS/gitleaks-build.log" 2>&1 \
    || { tail -n 20 "$LOGS/gitleaks-build.log" >&2; die "building gitleaks failed"; }
  echo "$GITLEAKS_VERSION" >"$LOCAL/bin/.gitleaks-version"
fi

# cargo-fuzz for localstack/fuzz.sh (the fuzz targets build with the nightly toolchain).
CARGO_FUZZ_VERSION=0.13.2
if [ "$(cat "$LOCAL/bin/.cargo-fuzz-version" 2>/dev/null)" != "$CARGO_FUZZ_VERSION" ]; then
  say "building cargo-fuzz $CARGO_FUZZ_VERSION into .local/bin (crates.io)"
  mkdir -p "$LOCAL/bin" "$LOGS"
  cargo install --locked --root "$LOCAL" --version "$CARGO_FUZZ_VERSION" cargo-fuzz >"$LOGS/cargo-fuzz-build.log" 2>&1 \
    || { tail -n 20 "$LOGS/cargo-fuzz-build.log" >&2; die "building cargo-fuzz failed"; }
  echo "$CARGO_FUZZ_VERSION" >"$LOCAL/bin/.cargo-fuzz-version"
fi

pom="$ROOT/localstack/kafka/pom.xml"
if [ ! -f "$KAFKA_VERSION_DIR/libs/.complete" ] || ! cmp -s "$pom" "$KAFKA_VERSION_DIR/libs/.complete"; then
  say "resolving Apache Kafka from Maven Central into .local/kafka/libs"
  rm -rf "$KAFKA_VERSION_DIR/libs"
  mkdir -p "$LOGS"
  mvn -B -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$LOCAL/m2" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_VERSION_DIR/libs" -DincludeScope=runtime >"$LOGS/maven.log" 2>&1 \
    || { tail -n 40 "$LOGS/maven.log" >&2; die "resolving Kafka from Maven Central failed"; }
  cp "$pom" "$KAFKA_VERSION_DIR/libs/.complete"
fi

"$VENV/bin/python" "$ROOT/localstack/devkeys.py" "$LOCAL/dev-jwt"

if $with_browser; then
  install_browser
fi
if $with_plan_tools; then
  "$ROOT/localstack/plan-tools.sh"
fi
