#!/usr/bin/env bash
# Fuzzes the two places untrusted bytes enter the system (fuzz/fuzz_targets/): api request bodies
# and Kafka record values. cargo-fuzz (libFuzzer + AddressSanitizer) on the nightly toolchain.
#
#   localstack/fuzz.sh            # each target for 20 s, as `make test` runs it
#   localstack/fuzz.sh 3600       # each target for an hour; or one: localstack/fuzz.sh 3600 event_decoding
#
# A fixed libFuzzer seed keeps short runs comparable. The corpus grows in .local/fuzz-corpus/ (kept
# between runs), starting from the committed seeds in fuzz/seeds/; a crash leaves its input in
# fuzz/artifacts/<target>/ and the script fails with libFuzzer's report.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

SECONDS_PER_TARGET=${1:-20}
TARGETS=${2:-"request_bodies event_decoding"}
CARGO_FUZZ="$LOCAL/bin/cargo-fuzz"
[ -x "$CARGO_FUZZ" ] || die "cargo-fuzz is missing: run localstack/setup.sh"
rustup run nightly rustc --version >/dev/null 2>&1 || die "the nightly toolchain is required (rustup toolchain install nightly)"
# Nightly, sanitizer-instrumented builds stay out of the shared stable target dir.
export CARGO_TARGET_DIR="$ROOT/target/fuzz"
for target in $TARGETS; do
  corpus="$LOCAL/fuzz-corpus/$target"
  mkdir -p "$corpus" "$LOGS"
  started=$(date +%s)
  if ! rustup run nightly "$CARGO_FUZZ" fuzz run --fuzz-dir fuzz "$target" "$corpus" "fuzz/seeds/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -seed=1 -print_final_stats=1 >"$LOGS/fuzz-$target.log" 2>&1; then
    tail -n 60 "$LOGS/fuzz-$target.log" >&2
    die "fuzz target $target failed (input in fuzz/artifacts/$target/)"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOGS/fuzz-$target.log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: $target: $runs inputs in ${SECONDS_PER_TARGET}s, no crash ($(( $(date +%s) - started )) s with the build)"
done
