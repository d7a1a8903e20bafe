# Shared shell helpers of the native local stack; sourced by setup.sh, stack.sh, run.sh and test.sh.
# Everything lives in the repository's git-ignored .local/ folder.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/venv"
LOGS="$LOCAL/logs"
PIDS="$LOCAL/pids"
ENV_FILE="$LOCAL/stack.env"
KAFKA_VERSION_DIR="$LOCAL/kafka"
# One target dir for every build (cargo, cargo lambda, tests): cold AWS SDK builds are slow on 2 cores.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# What the local runs start (`weelo-local functions` runs the function binaries of <profile dir>).
LOCAL_PACKAGES=(weelo-api weelo-outbox-relay weelo-deadline-sweeper weelo-order-fanout weelo-fcm-consumer weelo-location-consumer
  weelo-audit-consumer weelo-kafka-topics weelo-live-socket weelo-live-tracking weelo-analytics weelo-local weelo-ops)
build_local() { # [cargo build options...] : the functions, weelo-local and weelo-ops
  cargo build --quiet --locked "$@" "${LOCAL_PACKAGES[@]/#/--package=}"
}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # name port seconds
  local name=$1 port=$2 seconds=$3
  for _ in $(seq 1 $((seconds * 5))); do
    port_open "$port" && return 0
    sleep 0.2
  done
  echo "--- last lines of $LOGS/$name.log ---" >&2
  tail -n 30 "$LOGS/$name.log" >&2 || true
  die "$name did not open port $port within ${seconds}s"
}

start_bg() { # name command... : starts a background service, remembers its pid
  local name=$1; shift
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
}

wait_for_log_line() { # name prefix seconds : waits until the service's log has a line starting with prefix
  local name=$1 prefix=$2 seconds=$3
  local pid; pid=$(cat "$PIDS/$name.pid" 2>/dev/null || echo 0)
  for _ in $(seq 1 "$seconds"); do
    grep -q "^$prefix" "$LOGS/$name.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break # ended: no point waiting
    sleep 1
  done
  echo "--- last lines of $LOGS/$name.log ---" >&2
  tail -n 30 "$LOGS/$name.log" >&2 || true
  die "$name did not log \"$prefix\" (ended, or still silent after ${seconds}s)"
}

stop_bg() { # name
  local file="$PIDS/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

load_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE is missing: start the stack first (localstack/stack.sh start)"
  set -a; . "$ENV_FILE"; set +a
}
