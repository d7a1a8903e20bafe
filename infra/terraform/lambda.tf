# The twelve Lambda functions (arm64, provided.al2023, zips from infra/build-zips.sh: `cargo lambda
# build --release --arm64 --output-format zip` with librdkafka cross-compiled too), each with its own
# role, log group and environment. Memory and timeout come from infra/definitions/functions.json,
# the file the local function runner (weelo-local functions) reads too. Every function runs in the
# VPC's private subnets except those whose `vpc` is false (live-tracking, see "Outside the VPC"
# below).
#
# `functions` below is the one place that says what each function touches. It was read off the
# code (crates/dynamo/src/<port>.rs for the DynamoDB calls, crates/core for which store methods each
# use case calls); the roles are generated from it, so a permission exists only if listed here.
# TransactWriteItems is authorised per item as PutItem/UpdateItem, hence no separate action;
# BatchWriteItem and BatchGetItem are authorised as themselves, for puts and deletes alike.

locals {
  # The topics of the events written to the outbox in a transaction with their entity: by the api,
  # and by order-fanout and deadline-sweeper when they take a step of a booking. booking.events
  # carries every step of a booking (created, opened, accepted, released, ...), keyed by its id;
  # order.events every step of an order and its trucks, keyed by the order's id.
  kafka_outbox_topics = ["booking.events", "order.events"]

  # Memory (MB) and timeout (s) per function, by name.
  function_definitions = { for f in jsondecode(file("${local.definitions}/functions.json")).functions : f.name => f }
  # The zip each function runs (target/lambda/<binary>/bootstrap.zip), and the variables
  # functions.json sets it (API_ROUTES: which routes the api's code serves there).
  binary_of      = { for name, f in local.function_definitions : name => lookup(f, "binary", name) }
  definition_env = { for name, f in local.function_definitions : name => lookup(f, "environment", {}) }

  functions = {
    api = {
      memory      = local.function_definitions["api"].memoryMb
      timeout     = local.function_definitions["api"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        bookings = ["dynamodb:GetItem", "dynamodb:PutItem"]
        # GET /v1/bookings: a customer's bookings, a page at a time.
        "bookings/index/by-customer" = ["dynamodb:Query"]
        # GET /v1/trips: a transporter's bookings and truck requests (whose orders' places are
        # read with BatchGetItem).
        "bookings/index/by-transporter" = ["dynamodb:Query"]
        "orders/index/by-transporter"   = ["dynamodb:Query"]
        # GET /v1/orders: a customer's orders (an open one's truck statuses: Query on orders).
        "orders/index/by-customer" = ["dynamodb:Query"]
        # PutItem: orders and truck steps; UpdateItem: a cancel; ConditionCheckItem: an accept
        # is written only while its order is not cancelled.
        orders = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchGetItem"]
        offers = ["dynamodb:GetItem"]
        # GET /v1/offers: a transporter's live offers (then each one's booking or order).
        "offers/index/live-by-transporter" = ["dynamodb:Query"]
        # GetItem: why an accept was refused (no profile, another trip). UpdateItem: PUT
        # /v1/transporters/me (ALL_NEW), and activeTrip set or removed in a trip step's transaction.
        transporters = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        # A trip's track: a range of the truck's points, a page at a time; and a transporter's
        # latest position (GET /v1/bookings/{id}/location, the inbox's distances): the newest
        # point of their newest segments. The positions table is location-consumer's alone.
        location-history = ["dynamodb:Query"]
        # DeleteItem: DELETE /v1/devices/{deviceId} (logout).
        devices     = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
        idempotency = ["dynamodb:GetItem", "dynamodb:PutItem"]
        outbox      = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
        # Shared tracking links (docs/live-tracking.md): POST /v1/bookings/{id}/share writes one,
        # DELETE .../share/{shareId} reads it (whose booking) and deletes it.
        shares = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]
      }
      # Outbox events, plus GPS points, which skip the outbox.
      kafka_write         = concat(local.kafka_outbox_topics, ["location.updated"])
      kafka_admin         = false
      sns_create_endpoint = true
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    # The api's code serving only POST /v1/tracking/location (API_ROUTES, functions.json) behind
    # its own function URL (gps_ingest.tf): a GPS point costs no API Gateway request, and a flood
    # of points cannot take the api's concurrency. It may only publish points: no table, no SNS.
    # uses_tables: the api's code links the DynamoDB adapter and reads its TABLE_* at a cold start.
    gps-ingest = {
      memory              = local.function_definitions["gps-ingest"].memoryMb
      timeout             = local.function_definitions["gps-ingest"].timeoutSeconds
      uses_tables         = true
      dynamodb            = {}
      kafka_write         = ["location.updated"]
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    outbox-relay = {
      memory      = local.function_definitions["outbox-relay"].memoryMb
      timeout     = local.function_definitions["outbox-relay"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        outbox                 = ["dynamodb:UpdateItem"]
        "outbox/index/pending" = ["dynamodb:Query"]
      }
      kafka_write         = local.kafka_outbox_topics
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    # Runs the scheduled sweep of deadlines (schedule below), of bookings and of order trucks:
    # opens scheduled bookings, widens searches, expires the unaccepted. Each step is a
    # transaction like the api's: the booking or truck (Put, conditional on its revision; a truck
    # only while its order is not cancelled) and the event (outbox Put); the event is then
    # published and marked sent. Its steps never start or end a trip, so it never touches a
    # transporter's profile.
    deadline-sweeper = {
      memory      = local.function_definitions["deadline-sweeper"].memoryMb
      timeout     = local.function_definitions["deadline-sweeper"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        "bookings/index/deadlines" = ["dynamodb:Query"]
        bookings                   = ["dynamodb:GetItem", "dynamodb:PutItem"]
        "orders/index/deadlines"   = ["dynamodb:Query"]
        orders                     = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"]
        outbox                     = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
      }
      kafka_write         = local.kafka_outbox_topics
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    order-fanout = {
      memory      = local.function_definitions["order-fanout"].memoryMb
      timeout     = local.function_definitions["order-fanout"].timeoutSeconds
      uses_tables = true
      # Offers are written, and a releaser's taken back (BatchWriteItem puts, rewritten withdrawn); a
      # search that finds nobody widens or expires its booking, and a cancelled order's trucks are
      # cancelled, with the same transaction as the api's trip steps (a truck on its trip frees its
      # transporter: UpdateItem on transporters). Orders are read whole (Query).
      dynamodb = {
        geo-cells    = ["dynamodb:Query"]
        transporters = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
        offers       = ["dynamodb:BatchWriteItem", "dynamodb:Query"]
        orders       = ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        bookings     = ["dynamodb:GetItem", "dynamodb:PutItem"]
        outbox       = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
      }
      # Offers and withdrawals to transporters; the steps it takes on bookings and trucks.
      kafka_write         = concat(["notification.fcm"], local.kafka_outbox_topics)
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    fcm-consumer = {
      memory      = local.function_definitions["fcm-consumer"].memoryMb
      timeout     = local.function_definitions["fcm-consumer"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        devices  = ["dynamodb:Query", "dynamodb:DeleteItem"]
        push-log = ["dynamodb:PutItem", "dynamodb:DeleteItem"]
      }
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = true
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    location-consumer = {
      memory      = local.function_definitions["location-consumer"].memoryMb
      timeout     = local.function_definitions["location-consumer"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        positions        = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
        geo-cells        = ["dynamodb:BatchWriteItem"]
        location-history = ["dynamodb:BatchWriteItem"]
      }
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    # The WebSocket API's REQUEST authorizer and its route integration (websocket.tf,
    # docs/live-tracking.md; crates/core/src/usecases/live/socket.rs). The authorizer admits a
    # share token if its share exists (GetItem) and its booking's trip has not ended (GetItem).
    # $connect writes the connection (PutItem), $disconnect reads its items (Query on its key)
    # and deletes them (BatchWriteItem). A message reads the connection (GetItem); subscribe reads
    # the booking (GetItem) or the order with its trucks (Query) to check the caller may watch
    # it, writes the watch (UpdateItem: watch, assign_watch, mark_sent) and reads the truck's
    # newest position for the snapshot (Query on its GPS history's newest segments); unsubscribe
    # deletes the watch (DeleteItem). No index, no
    # Kafka, no execute-api: what a route returns reaches the client as the route response.
    live-socket = {
      memory      = local.function_definitions["live-socket"].memoryMb
      timeout     = local.function_definitions["live-socket"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        shares           = ["dynamodb:GetItem"]
        bookings         = ["dynamodb:GetItem"]
        orders           = ["dynamodb:Query"]
        location-history = ["dynamodb:Query"]
        live-connections = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]
      }
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    # Consumer of location.updated, booking.events and order.events (its own mappings and groups,
    # event-source-mappings.json; crates/core/src/usecases/live/broadcast.rs): finds who watches a
    # truck (Query on by-transporter) or a trip (Query on by-trip), posts to those connections
    # (execute-api:ManageConnections on this API's @connections only, iam.tf), records what each
    # watch was sent and moves watches to a trip's new truck (UpdateItem), and forgets a
    # connection whose post answered 410 Gone (Query on its key, BatchWriteItem). The trip steps'
    # events carry the trip, so it reads no booking or order. Outside the VPC (`vpc = false`, see
    # "Outside the VPC" below).
    live-tracking = {
      memory      = local.function_definitions["live-tracking"].memoryMb
      timeout     = local.function_definitions["live-tracking"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        live-connections                        = ["dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"]
        "live-connections/index/by-trip"        = ["dynamodb:Query"]
        "live-connections/index/by-transporter" = ["dynamodb:Query"]
      }
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = false
      manage_connections  = true
    }
    # Archives every topic to S3 (audit.tf). 256 MB (functions.json): it holds at most one 6 MB
    # batch (10,000 records) and its JSON Lines copy; it only writes objects, so more CPU would buy
    # little.
    audit-consumer = {
      memory              = local.function_definitions["audit-consumer"].memoryMb
      timeout             = local.function_definitions["audit-consumer"].timeoutSeconds
      uses_tables         = false
      dynamodb            = {}
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = true
      vpc                 = true
      manage_connections  = false
    }
    # Counts the booking funnel, its delays, order trucks and GPS activity of booking.events,
    # order.events and location.updated (its own mappings and groups) into CloudWatch EMF metrics
    # (namespace METRICS_NAMESPACE/Analytics: analytics.tf, dashboard.tf). Its counted-once mark
    # per topic and partition is one item of analytics-progress, read (GetItem) and moved forward
    # with a conditional write (PutItem) before the batch's metrics are written
    # (crates/dynamo/src/progress.rs). No SNS, no S3, no other API.
    analytics = {
      memory      = local.function_definitions["analytics"].memoryMb
      timeout     = local.function_definitions["analytics"].timeoutSeconds
      uses_tables = true
      dynamodb = {
        analytics-progress = ["dynamodb:GetItem", "dynamodb:PutItem"]
      }
      kafka_write         = []
      kafka_admin         = false
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
    # Invoked by `apply` only (msk.tf): creates the topics of topics.json.
    kafka-topics = {
      memory              = local.function_definitions["kafka-topics"].memoryMb
      timeout             = local.function_definitions["kafka-topics"].timeoutSeconds
      uses_tables         = false
      dynamodb            = {}
      kafka_write         = []
      kafka_admin         = true
      sns_create_endpoint = false
      sns_publish         = false
      audit_write         = false
      vpc                 = true
      manage_connections  = false
    }
  }

  # The environment each function's code reads (besides TABLE_* when uses_tables), checked against
  # the Rust sources by infra/checks/test_drift.py in both directions. METRICS_NAMESPACE is read by
  # weelo-telemetry, which every function links (kafka-topics through weelo-consumer): the
  # namespace its EMF metrics land in, the one the alarms watch (alarms.tf).
  # The api's code reads these wherever it runs: the api, and gps-ingest (which uses only the
  # Kafka, JWT and metrics ones, but reads every one at a cold start).
  api_env = {
    METRICS_NAMESPACE            = local.metrics_namespace
    KAFKA_BOOTSTRAP_SERVERS      = local.kafka_bootstrap_servers
    KAFKA_AUTH                   = local.kafka_auth
    KAFKA_PUBLISH_TIMEOUT_MS     = tostring(var.kafka_publish_timeout_ms)
    SNS_PLATFORM_APPLICATION_ARN = aws_sns_platform_application.fcm.arn
    JWT_JWKS_URL                 = local.jwt_jwks_url
    JWT_ISSUER                   = local.jwt_issuer
    JWT_AUDIENCE                 = aws_cognito_user_pool_client.app.id
    JWT_ROLE_CLAIM               = local.jwt_role_claim
    OFFER_WINDOW_SECS            = tostring(var.offer_window_secs)
    SCHEDULE_LEAD_SECS           = tostring(var.schedule_lead_secs)
    CURSOR_KEY                   = var.cursor_key
    # Shared tracking links (docs/live-tracking.md): the socket the page connects to, the page
    # itself (GET /track on this HTTP API, whose $default stage has no path segment; a link is
    # SHARE_PAGE_URL#<token>), and how long a link works while the trip goes on.
    LIVE_SOCKET_URL  = aws_apigatewayv2_stage.live.invoke_url
    SHARE_PAGE_URL   = "${aws_apigatewayv2_api.main.api_endpoint}/track"
    SHARE_LINK_HOURS = tostring(var.share_link_hours)
  }

  lambda_env = {
    api        = local.api_env
    gps-ingest = local.api_env
    outbox-relay = {
      METRICS_NAMESPACE        = local.metrics_namespace
      KAFKA_BOOTSTRAP_SERVERS  = local.kafka_bootstrap_servers
      KAFKA_AUTH               = local.kafka_auth
      KAFKA_PUBLISH_TIMEOUT_MS = tostring(var.outbox_relay_publish_timeout_ms)
      OUTBOX_RELAY_GRACE_SECS  = tostring(var.outbox_relay_grace_secs)
    }
    deadline-sweeper = {
      METRICS_NAMESPACE       = local.metrics_namespace
      KAFKA_BOOTSTRAP_SERVERS = local.kafka_bootstrap_servers
      KAFKA_AUTH              = local.kafka_auth
      # The api's: a publish that fails leaves the event to the outbox relay, and the sweep goes on.
      KAFKA_PUBLISH_TIMEOUT_MS = tostring(var.kafka_publish_timeout_ms)
      # The offer clock, the same for every function that moves trips (api, order-fanout).
      OFFER_WINDOW_SECS  = tostring(var.offer_window_secs)
      SCHEDULE_LEAD_SECS = tostring(var.schedule_lead_secs)
      # EventBridge fires once a minute at most; one invocation sweeps every EVERY seconds for FOR
      # seconds, so a deadline is met within EVERY seconds.
      DEADLINE_SWEEP_EVERY_SECS = tostring(var.deadline_sweep_every_secs)
      DEADLINE_SWEEP_FOR_SECS   = tostring(var.deadline_sweep_for_secs)
    }
    order-fanout = {
      METRICS_NAMESPACE           = local.metrics_namespace
      KAFKA_BOOTSTRAP_SERVERS     = local.kafka_bootstrap_servers
      KAFKA_AUTH                  = local.kafka_auth
      KAFKA_PUBLISH_TIMEOUT_MS    = tostring(var.kafka_publish_timeout_ms)
      GEO_H3_RESOLUTION           = tostring(var.matching.h3_resolution)
      MATCH_MAX_CANDIDATES        = tostring(var.matching.max_candidates)
      MATCH_MAX_RINGS             = tostring(var.matching.max_rings)
      MATCH_WIDER_RINGS           = tostring(var.matching.wider_rings)
      MATCH_MAX_POSITION_AGE_SECS = tostring(var.matching.max_position_age_secs)
      ORDER_CANDIDATES_PER_TRUCK  = tostring(var.matching.order_candidates_per_truck)
      OFFER_WINDOW_SECS           = tostring(var.offer_window_secs)
      SCHEDULE_LEAD_SECS          = tostring(var.schedule_lead_secs)
    }
    fcm-consumer = {
      METRICS_NAMESPACE = local.metrics_namespace
    }
    location-consumer = {
      METRICS_NAMESPACE = local.metrics_namespace
      # Must equal order-fanout's: both come from var.matching.
      GEO_H3_RESOLUTION = tostring(var.matching.h3_resolution)
      # A transporter who stays in one H3 cell has its geo-index entry rewritten once per window
      # (one DynamoDB write a minute instead of one per point); 0 rewrites it with every point.
      GEO_INDEX_REFRESH_SECS = tostring(var.geo_index_refresh_secs)
    }
    # The authorizer verifies the HTTP API's JWTs (the api's JWT_*) and share tokens, which are
    # sealed with the api's CURSOR_KEY under their own scope.
    live-socket = {
      METRICS_NAMESPACE = local.metrics_namespace
      JWT_JWKS_URL      = local.jwt_jwks_url
      JWT_ISSUER        = local.jwt_issuer
      JWT_AUDIENCE      = aws_cognito_user_pool_client.app.id
      JWT_ROLE_CLAIM    = local.jwt_role_claim
      CURSOR_KEY        = var.cursor_key
    }
    live-tracking = {
      METRICS_NAMESPACE = local.metrics_namespace
      # The @connections management endpoint of the WebSocket stage (websocket.tf).
      LIVE_CONNECTIONS_URL = local.live_connections_url
    }
    audit-consumer = {
      METRICS_NAMESPACE = local.metrics_namespace
      AUDIT_BUCKET      = aws_s3_bucket.audit.id
    }
    # Its metrics go to METRICS_NAMESPACE + "/Analytics" (the code appends it). ANALYTICS_CITIES:
    # name:lat,lng,radiusKm;... (var.analytics_cities), the City dimension's values besides its
    # catch-all "other". ANALYTICS_SCOPE names its marks in analytics-progress (the code's
    # default, stated here): a new scope counts everything again from the mappings' positions.
    analytics = {
      METRICS_NAMESPACE = local.metrics_namespace
      ANALYTICS_CITIES  = var.analytics_cities
      ANALYTICS_SCOPE   = "analytics"
    }
    kafka-topics = {
      METRICS_NAMESPACE        = local.metrics_namespace
      KAFKA_BOOTSTRAP_SERVERS  = local.kafka_bootstrap_servers
      KAFKA_AUTH               = local.kafka_auth
      KAFKA_PUBLISH_TIMEOUT_MS = tostring(var.kafka_publish_timeout_ms)
      # The cluster's default: the provisioned cluster's default.replication.factor, 3 with the
      # standard profile's three brokers and 2 with the small one's two (msk_provisioned.tf); MSK
      # Serverless always keeps three copies; Redpanda its configured one.
      KAFKA_TOPIC_REPLICATION = "-1"
    }
  }

  consumer_topics = {
    for f in keys(local.functions) :
    f => distinct([for m in values(local.mappings) : m.topic if m.function == f])
  }
  # Every function with a mapping answers failed records as its mappings read them (profile.tf):
  # a partial batch response (provisioned mode) or a function error (on-demand mode).
  consumer_env = {
    for f in keys(local.functions) :
    f => length(local.consumer_topics[f]) > 0 ? { KAFKA_FAILURE_REPORTING = local.failure_reporting } : {}
  }
  # Every function writes its EMF metric lines after each invocation (weelo_telemetry::Flush),
  # unless functions.json holds them back: gps-ingest's one a request was most of the logs' bill.
  telemetry_env = { METRICS_FLUSH_SECONDS = "0" }
  consumer_groups_of = {
    for f in keys(local.functions) :
    f => [for key, m in local.mappings : local.consumer_groups[key] if m.function == f]
  }
  # The on-failure destinations of each function's mappings, by kind (esm.tf): a mapping writes to
  # its destination with its function's role.
  dlq_of = {
    for f in keys(local.functions) :
    f => distinct([for key, m in local.mappings : m.onFailure if m.function == f && local.on_failure_kind[key] != "s3"])
  }
  failure_buckets_of = {
    for f in keys(local.functions) :
    f => distinct([for key, m in local.mappings : m.onFailure if m.function == f && local.on_failure_kind[key] == "s3"])
  }
}

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (profile default 30 or 7 days, for cost); set 365 where compliance asks for a year.
  for_each = local.functions

  name              = "/aws/lambda/${local.name_prefix}${each.key}"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# --- Outside the VPC ------------------------------------------------------------------------------
# live-tracking (`vpc = false` in `functions`) runs without vpc_config, in Lambda's own network,
# so it reaches the public execute-api endpoint of the WebSocket API (PostToConnection) and
# DynamoDB directly, with no NAT gateway and no new endpoint. Why that is safe and why the VPC
# would not work (issue 17):
# - Its MSK mappings do not depend on where the function runs. The Lambda guide ("Configuring your
#   Amazon MSK cluster and Amazon VPC network for Lambda",
#   https://docs.aws.amazon.com/lambda/latest/dg/with-msk-cluster-network.html) puts the
#   cluster, the function and the event-source mapping in three different VPCs: the mapping polls
#   the cluster and then invokes the function. Its pollers get a hyperplane ENI in the cluster's
#   subnets that "uses the subnet and security group configuration of your MSK cluster, not your
#   Lambda function" ("Creating a Lambda event source mapping for an Amazon MSK event source",
#   https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-create.html). So the role keeps the ENI
#   permissions (iam.tf, VpcNetworkInterfaces) and the mappings keep the kafka security group.
# - The @connections API is only on the API's public execute-api host name. In this VPC (no NAT,
#   endpoints only) the function could reach it only through an execute-api interface endpoint,
#   and with private DNS such an endpoint captures *.execute-api.<region>.amazonaws.com for the
#   whole VPC while it can only reach private APIs: "you cannot access public APIs from a VPC by
#   using an API Gateway VPC endpoint with private DNS enabled" (API Gateway guide, "Private REST
#   APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html;
#   the 403 it causes: https://aws.amazon.com/premiumsupport/knowledge-center/api-gateway-vpc-connections/).
#   WebSocket APIs cannot be private, so no execute-api endpoint is created (network.tf); the
#   alternative, a NAT gateway, adds a fixed monthly cost and a route to the internet to the whole
#   VPC (network.tf says why it has none).
# - It calls nothing else in the VPC: DynamoDB (IAM-authorised over TLS, like from the VPC's gateway
#   endpoint) and @connections; its DLQ is written by the mapping, not by the function.

# checkov's CKV_AWS_117 (a function outside a VPC) passes this resource because it does not
# evaluate the dynamic vpc_config; live-tracking is outside on purpose (above).
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_115:Reserved concurrency where var.function_reserved_concurrency sets it (gps-ingest by default, behind its public URL): a new account's unreserved pool must stay >= 100, the MSK pollers' maximum bounds each consumer in the standard profile (the small profile's on-demand pollers scale with the topics' partitions), and API Gateway's throttling the api.
  #checkov:skip=CKV_AWS_116:Not invoked asynchronously except outbox-relay and deadline-sweeper (EventBridge schedules), whose failed run is simply retried by the next schedule (undone work stays in the outbox or the deadlines index); the consumers' failures go to their mapping's SQS DLQ.
  #checkov:skip=CKV_AWS_272:Zips come from the project's own reproducible cargo lambda build; code signing would need a signing profile outside this stack.
  for_each = local.functions

  function_name = "${local.name_prefix}${each.key}"
  description   = "weelo ${each.key}"
  role          = aws_iam_role.function[each.key].arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = ["arm64"]

  filename         = "${var.artifacts_dir}/${local.binary_of[each.key]}/bootstrap.zip"
  source_code_hash = filebase64sha256("${var.artifacts_dir}/${local.binary_of[each.key]}/bootstrap.zip")

  memory_size = lookup(var.function_memory_mb, each.key, each.value.memory)
  timeout     = each.value.timeout
  # -1: unreserved. var.function_reserved_concurrency caps a function (gps-ingest, say: its URL
  # has no API Gateway throttling in front).
  reserved_concurrent_executions = lookup(var.function_reserved_concurrency, each.key, -1)
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    variables = merge(each.value.uses_tables ? local.table_env : {}, local.lambda_env[each.key], local.consumer_env[each.key], local.telemetry_env, local.definition_env[each.key])
  }

  dynamic "vpc_config" {
    for_each = each.value.vpc ? [1] : []
    content {
      subnet_ids         = aws_subnet.private[*].id
      security_group_ids = [aws_security_group.functions.id]
    }
  }

  # JSON logs: lambda_runtime's tracing subscriber follows AWS_LAMBDA_LOG_FORMAT/LEVEL, which
  # Lambda sets from this block.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "PassThrough"
  }

  lifecycle {
    precondition {
      condition     = alltrue([for name in concat(keys(var.function_reserved_concurrency), keys(var.function_memory_mb)) : contains(keys(local.functions), name)])
      error_message = "function_reserved_concurrency and function_memory_mb may only name the functions of infra/definitions/functions.json."
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

# --- outbox-relay schedule ---------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "outbox_relay" {
  name                = "${local.name_prefix}outbox-relay"
  description         = "Publishes outbox events the api could not (broker down)"
  schedule_expression = var.outbox_relay_schedule
}

resource "aws_cloudwatch_event_target" "outbox_relay" {
  rule = aws_cloudwatch_event_rule.outbox_relay.name
  arn  = aws_lambda_function.this["outbox-relay"].arn

  retry_policy {
    # A missed run is covered by the next one.
    maximum_retry_attempts       = 0
    maximum_event_age_in_seconds = 60
  }
}

resource "aws_lambda_permission" "outbox_relay_schedule" {
  statement_id  = "EventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["outbox-relay"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.outbox_relay.arn
}

# --- deadline-sweeper schedule -----------------------------------------------------------------
# Like the relay's: a run that fails or is missed leaves every deadline due in the index, and the
# next minute's run fires it. Two runs that overlap (a slow sweep) cannot fire a deadline twice:
# each step is conditional on the booking's revision.

resource "aws_cloudwatch_event_rule" "deadline_sweeper" {
  name                = "${local.name_prefix}deadline-sweeper"
  description         = "Fires booking deadlines: opens scheduled bookings, widens searches, expires unaccepted ones"
  schedule_expression = var.deadline_sweeper_schedule
}

resource "aws_cloudwatch_event_target" "deadline_sweeper" {
  rule = aws_cloudwatch_event_rule.deadline_sweeper.name
  arn  = aws_lambda_function.this["deadline-sweeper"].arn

  retry_policy {
    # A missed run is covered by the next one.
    maximum_retry_attempts       = 0
    maximum_event_age_in_seconds = 60
  }
}

resource "aws_lambda_permission" "deadline_sweeper_schedule" {
  statement_id  = "EventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["deadline-sweeper"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.deadline_sweeper.arn
}
