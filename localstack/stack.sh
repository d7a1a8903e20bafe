#!/usr/bin/env bash
# Starts, stops or shows the native local stack: Apache Kafka (KRaft, 127.0.0.1:9092), the DynamoDB
# emulator (moto, 127.0.0.1:8000) and SNS/SQS/S3 (moto, 127.0.0.1:4566); then provisions tables,
# topics and the FCM platform application from infra/definitions and writes .local/stack.env.
#   localstack/stack.sh start | stop | status | stop-kafka | start-kafka | pause NAME | resume NAME
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KAFKA_PORT=9092
DYNAMODB_PORT=8000
MOTO_PORT=4566

write_base_env() {
  cat >"$ENV_FILE" <<ENV
# Written by localstack/stack.sh: the environment of every function, tool and test on the local stack.
AWS_REGION=ap-south-1
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMODB_PORT
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
KAFKA_AUTH=none
KAFKA_PUBLISH_TIMEOUT_MS=2000
OUTBOX_RELAY_GRACE_SECS=5
# weelo-local schedule invokes the deadline sweeper every 2 s; each invocation sweeps once (in AWS
# EventBridge invokes it every minute and it sweeps every 10 s for 50 s).
DEADLINE_SWEEP_FOR_SECS=0
JWT_JWKS_URL=file://$LOCAL/dev-jwt/jwks.json
JWT_ISSUER=https://auth.weelo.local
JWT_AUDIENCE=weelo-local-app
JWT_ROLE_CLAIM=custom:role
JWT_DEV_PRIVATE_KEY=$LOCAL/dev-jwt/private.pem
JWT_DEV_KEY_ID=weelo-local-1
WEELO_TABLE_PREFIX=weelo-local-
# The api's list cursors are sealed with this; a new one each start (cursors do not outlive a stack).
CURSOR_KEY=$(head -c 32 /dev/urandom | base64 -w0)
# Live tracking's addresses (docs/live-tracking.md) for what runs outside weelo-local functions
# (tests that build the api in-process); the functions it runs get its own port's instead.
LIVE_CONNECTIONS_URL=http://127.0.0.1:9000/websocket
LIVE_SOCKET_URL=ws://127.0.0.1:9000/websocket
SHARE_PAGE_URL=http://127.0.0.1:9000/lambda-url/api/track
# The cities analytics tells apart (docs/analytics.md); any other pickup counts as "other".
ANALYTICS_CITIES="Mumbai:19.076,72.8777,40;Delhi:28.6139,77.209,45;Bengaluru:12.9716,77.5946,35;Chennai:13.0827,80.2707,30"
# The broker's log directory: weelo-bench counts the bytes each topic grows by (MSK bills data in).
KAFKA_LOG_DIR=$KAFKA_VERSION_DIR/data
ENV
}

start_kafka() {
  if port_open $KAFKA_PORT; then say "kafka: port $KAFKA_PORT already open, reusing it"; return; fi
  local cp="$KAFKA_VERSION_DIR/libs/*" config="$KAFKA_VERSION_DIR/server.properties"
  { cat "$ROOT/localstack/kafka/server.properties"; echo "log.dirs=$KAFKA_VERSION_DIR/data"; } >"$config"
  if [ ! -f "$KAFKA_VERSION_DIR/data/meta.properties" ]; then
    rm -rf "$KAFKA_VERSION_DIR/data"
    java -cp "$cp" kafka.tools.StorageTool format --cluster-id "$(java -cp "$cp" kafka.tools.StorageTool random-uuid)" \
      --config "$config" >"$LOGS/kafka-format.log" 2>&1 || { cat "$LOGS/kafka-format.log" >&2; die "kafka storage format failed"; }
  fi
  say "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  start_bg kafka java -Xms256m -Xmx768m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/localstack/kafka/log4j2.yaml" -cp "$cp" kafka.Kafka "$config"
}

start_moto() { # name port
  if port_open "$2"; then say "$1: port $2 already open, reusing it"; return; fi
  say "$1: starting moto on 127.0.0.1:$2"
  start_bg "$1" "$VENV/bin/python" "$ROOT/localstack/moto_serialized.py" --port "$2"
}

provision() {
  say "provisioning tables, topics and the FCM platform application from infra/definitions"
  cargo build --quiet -p weelo-local
  load_env
  local out
  out=$(cd "$ROOT" && "$CARGO_TARGET_DIR/debug/weelo-local" provision) || die "provisioning failed"
  echo "$out" >>"$ENV_FILE"
}

wait_for_kafka_ready() {
  # The port opens before the broker serves requests; its "started" line is the real signal.
  for _ in $(seq 1 120); do
    grep -q "Kafka Server started" "$LOGS/kafka.log" 2>/dev/null && return 0
    sleep 0.5
  done
  tail -n 30 "$LOGS/kafka.log" >&2
  die "kafka did not report started within 60s"
}

case "${1:-}" in
  start)
    mkdir -p "$LOGS" "$PIDS"
    start_kafka
    start_moto dynamodb $DYNAMODB_PORT
    start_moto moto $MOTO_PORT
    wait_for_port dynamodb $DYNAMODB_PORT 60
    wait_for_port moto $MOTO_PORT 60
    wait_for_port kafka $KAFKA_PORT 90
    wait_for_kafka_ready
    write_base_env
    provision
    say "local stack up; environment in .local/stack.env"
    ;;
  stop)
    for name in kafka dynamodb moto; do stop_bg "$name"; done
    say "local stack stopped"
    ;;
  stop-kafka) # used by the outbox fault test
    stop_bg kafka
    ;;
  start-kafka)
    start_kafka
    wait_for_port kafka $KAFKA_PORT 90
    wait_for_kafka_ready
    ;;
  pause) # used by the fault tests: NAME (kafka, dynamodb, moto) keeps its connections but answers nothing
    [ -f "$PIDS/${2:?pause what}.pid" ] || die "$2 is not running"
    kill -STOP -- "-$(cat "$PIDS/$2.pid")"
    ;;
  resume)
    [ -f "$PIDS/${2:?resume what}.pid" ] || die "$2 is not running"
    kill -CONT -- "-$(cat "$PIDS/$2.pid")"
    ;;
  status)
    for entry in kafka:$KAFKA_PORT dynamodb:$DYNAMODB_PORT moto:$MOTO_PORT; do
      if port_open "${entry#*:}"; then echo "${entry%%:*}: up (${entry#*:})"; else echo "${entry%%:*}: down"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status|stop-kafka|start-kafka|pause NAME|resume NAME" >&2; exit 2 ;;
esac
