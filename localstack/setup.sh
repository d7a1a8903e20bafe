#!/usr/bin/env bash
# Installs everything the native local stack needs, into the repository's .local/ folder:
# a Python venv (moto server, cargo-lambda), Apache Kafka's jars from Maven Central, and the
# development JWT key pair. Idempotent and quiet when there is nothing to do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

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
