#!/usr/bin/env bash
# Builds the eleven Lambda binaries (gps-ingest runs the api's) for arm64 (provided.al2023) into target/lambda/<function>/bootstrap.zip,
# where Terraform's artifacts_dir expects them, and prints each zip's size.
#
# cargo lambda cross-compiles the Rust code with Zig, but librdkafka (rdkafka-sys) is built by its
# own configure/make, which reads CC, CXX, AR and LDFLAGS only: without them it compiles x86_64
# objects that cannot be linked into an arm64 binary. So this script points them at Zig as well.
# `--undefined-version`: librdkafka's version script names a symbol this build does not define,
# which Zig's linker (lld) refuses by default and GNU ld ignores. OpenSSL is built from source for
# aarch64 (openssl-sys "vendored", see crates/kafka/Cargo.toml).
#   infra/build-zips.sh            (needs: rustup target aarch64-unknown-linux-gnu, cargo-lambda with Zig)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CARGO_LAMBDA=${CARGO_LAMBDA:-$(command -v cargo-lambda || echo "$ROOT/.local/venv/bin/cargo-lambda")}
[ -x "$CARGO_LAMBDA" ] || { echo "cargo-lambda not found: pip install cargo-lambda==1.9.2, or run localstack/setup.sh" >&2; exit 1; }
# cargo lambda finds Zig next to itself when both come from pip (ziglang's python-zig).
export PATH="$(dirname "$CARGO_LAMBDA"):$PATH"
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

wrappers="$ROOT/target/zig-aarch64"
mkdir -p "$wrappers"
for tool in cc c++; do
  printf '#!/bin/sh\nexec "%s" zig %s -- -g -fno-sanitize=all -target aarch64-linux-gnu "$@"\n' "$CARGO_LAMBDA" "$tool" \
    >"$wrappers/$tool"
done
printf '#!/bin/sh\nexec "%s" zig ar -- "$@"\n' "$CARGO_LAMBDA" >"$wrappers/ar"
chmod +x "$wrappers"/*

CC="$wrappers/cc" CXX="$wrappers/c++" AR="$wrappers/ar" HOST_CC=cc HOST_CXX=c++ LDFLAGS="-Wl,--undefined-version" \
  "$CARGO_LAMBDA" lambda build --release --arm64 --output-format zip \
  -p weelo-api -p weelo-outbox-relay -p weelo-deadline-sweeper -p weelo-order-fanout -p weelo-fcm-consumer \
  -p weelo-location-consumer -p weelo-audit-consumer -p weelo-kafka-topics -p weelo-live-socket -p weelo-live-tracking \
  -p weelo-analytics
for zip in target/lambda/*/bootstrap.zip; do
  printf '%-20s %s bytes\n' "$(basename "$(dirname "$zip")")" "$(stat -c %s "$zip")"
done
