#!/usr/bin/env bash
# Flamegraphs of the two hot paths (see weelo-bench profile --help): builds weelo-bench with symbols
# (cargo profile `profiling`), starts the native local stack, samples one path with perf and draws
# docs/flamegraph-<path>.svg with inferno. Needs perf (linux-perf) and permission to use it
# (kernel.perf_event_paranoid ≤ 2 for your own processes).
#   localstack/profile.sh [ingest|location-consumer] [rounds]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

path=${1:-ingest}
rounds=${2:-5}
command -v perf >/dev/null || die "perf is not installed (Debian: apt install linux-perf)"
"$ROOT/localstack/setup.sh"
if [ ! -x "$LOCAL/tools/bin/inferno-flamegraph" ]; then
  say "installing inferno 0.12.3 into .local/tools"
  cargo install --quiet --locked inferno@0.12.3 --root "$LOCAL/tools"
fi
say "building weelo-bench (profile: profiling = release + symbols)"
cargo build --quiet --locked --profile profiling -p weelo-bench
"$ROOT/localstack/stack.sh" start
load_env
data="$LOCAL/perf-$path.data"
say "sampling $path for $rounds rounds"
perf record --quiet -F 499 --call-graph dwarf,32768 -o "$data" -- \
  "$CARGO_TARGET_DIR/profiling/weelo-bench" profile --path "$path" --rounds "$rounds"
say "drawing docs/flamegraph-$path.svg"
perf script -i "$data" 2>/dev/null | "$LOCAL/tools/bin/inferno-collapse-perf" \
  | "$LOCAL/tools/bin/inferno-flamegraph" --title "weelo-bench profile --path $path ($rounds rounds)" \
  >"docs/flamegraph-$path.svg"
rm -f "$data"
