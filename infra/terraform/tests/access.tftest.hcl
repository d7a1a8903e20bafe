# Plan-level tests of who may do what: each function role's policy as planned, in the default
# deployment, in a second region and environment, and with a self-managed Kafka. The set-up is
# plan.tftest.hcl's (each test file configures its own provider). Nothing here changes what a user
# applies: the provider block, the overrides and the variables below exist only in this test run.
#
# No AWS is called: static dummy credentials with every start-up check skipped, and the data
# sources that would call AWS at plan time answered by override_data. The KMS key, the MSK
# cluster, the SNS application and the WebSocket API get known ARNs (and id) from override_resource
# (their ARNs hold ids AWS picks); tables, queues, buckets and log groups have ARNs built from their names (main.tf,
# arn_prefix) and the policies are plain JSON (iam.tf), so every role's policy is known at plan
# time and can be asserted.

provider "aws" {
  region                      = var.region
  access_key                  = "plan-test"
  secret_key                  = "plan-test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variables {
  # base64 of 32 bytes of zeroes: a syntactically valid key that protects nothing.
  cursor_key                     = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
  fcm_service_account_secret_arn = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:weelo/fcm-plan-test"
  alarm_email                    = "oncall@example.com"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_availability_zones.available
  values = {
    names    = ["ap-south-1a", "ap-south-1b", "ap-south-1c"]
    zone_ids = ["aps1-az1", "aps1-az3", "aps1-az2"]
  }
}

override_data {
  target = data.aws_secretsmanager_secret_version.fcm
  values = { secret_string = "{\"type\":\"service_account\",\"project_id\":\"plan-test\"}" }
}

# The standard profile's provisioned cluster: three brokers, one per zone (SASL/IAM on 9098).
override_data {
  target = data.aws_msk_bootstrap_brokers.main
  values = { bootstrap_brokers_sasl_iam = "b-1.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-3.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098" }
}

override_resource {
  target = aws_kms_key.main
  values = { arn = "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}

override_resource {
  target = aws_msk_cluster.main
  values = { arn = "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-3" }
}

override_resource {
  target = aws_msk_configuration.main
  values = { arn = "arn:aws:kafka:ap-south-1:123456789012:configuration/weelo-prod-standard/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-3", latest_revision = 1 }
}

override_resource {
  target = aws_sns_platform_application.fcm
  values = { arn = "arn:aws:sns:ap-south-1:123456789012:app/GCM/weelo-prod-fcm" }
}

# The live-tracking WebSocket API's id is AWS's pick too; live-tracking's policy and environment
# name it (websocket.tf).
override_resource {
  target = aws_apigatewayv2_api.live
  values = {
    id            = "live0api01"
    execution_arn = "arn:aws:execute-api:ap-south-1:123456789012:live0api01"
    api_endpoint  = "wss://live0api01.execute-api.ap-south-1.amazonaws.com"
  }
}


# --- Each role grants what its function needs, and nothing more ----------------------------------
# The matrices below are the security contract, written down on purpose rather than read back from
# lambda.tf: a grant added there without being added here fails this test.

run "each_role_writes_only_its_own_tables" {
  command = plan

  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(distinct(flatten([
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : regex("table/weelo-prod-([^/]+)$", r)[0]
          if can(regex("table/weelo-prod-([^/]+)$", r)) && length(setintersection(toset(flatten([s.Action])), toset([
            "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
          ]))) > 0
        ]
      ])))
      }) == jsonencode({
      analytics         = ["analytics-progress"]
      api               = ["bookings", "devices", "idempotency", "orders", "outbox", "shares", "transporters"]
      audit-consumer    = []
      deadline-sweeper  = ["bookings", "orders", "outbox"]
      fcm-consumer      = ["devices", "push-log"]
      gps-ingest        = []
      kafka-topics      = []
      live-socket       = ["live-connections"]
      live-tracking     = ["live-connections"]
      location-consumer = ["geo-cells", "location-history", "positions"]
      order-fanout      = ["bookings", "offers", "orders", "outbox", "transporters"]
      outbox-relay      = ["outbox"]
    })
    error_message = "a role may write tables it should not (or lost one it needs)"
  }

  # Live tracking (issue 17): every DynamoDB action of the two new functions, on which table or
  # index, as their code calls them (lambda.tf). live-socket reads only what it checks an admission
  # or a subscription against (share, booking, order) and the snapshot's position (the newest GPS
  # history segments), and queries no index; live-tracking touches nothing but live-connections
  # (the events carry the trip).
  assert {
    condition = jsonencode({
      for f in ["live-socket", "live-tracking"] : f => sort(flatten([
        for s in jsondecode(aws_iam_role_policy.function[f].policy).Statement : [
          for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) :
          "${pair[0]} ${regex("table/weelo-prod-(.+)$", pair[1])[0]}" if startswith(pair[0], "dynamodb:")
        ]
      ]))
      }) == jsonencode({
      live-socket = sort([
        "dynamodb:GetItem shares",
        "dynamodb:GetItem bookings",
        "dynamodb:Query orders",
        "dynamodb:Query location-history",
        "dynamodb:PutItem live-connections",
        "dynamodb:GetItem live-connections",
        "dynamodb:UpdateItem live-connections",
        "dynamodb:DeleteItem live-connections",
        "dynamodb:Query live-connections",
        "dynamodb:BatchWriteItem live-connections",
      ])
      live-tracking = sort([
        "dynamodb:Query live-connections",
        "dynamodb:UpdateItem live-connections",
        "dynamodb:BatchWriteItem live-connections",
        "dynamodb:Query live-connections/index/by-trip",
        "dynamodb:Query live-connections/index/by-transporter",
      ])
    })
    error_message = "live-socket's or live-tracking's DynamoDB grants differ from what their code calls: ${jsonencode({ for f in ["live-socket", "live-tracking"] : f => [for s in jsondecode(aws_iam_role_policy.function[f].policy).Statement : s if length([for a in flatten([s.Action]) : a if startswith(a, "dynamodb:")]) > 0] })}"
  }

  # Shared links: the api creates, reads and revokes them; live-socket only reads them; nobody else
  # touches the table.
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(flatten([
        for s in jsondecode(p.policy).Statement : [
          for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) : pair[0]
          if can(regex("table/weelo-prod-shares(/|$)", pair[1]))
        ]
      ]))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => (
        f == "api" ? ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"] : f == "live-socket" ? ["dynamodb:GetItem"] : []
      )
    })
    error_message = "only the api may write shares (PutItem, GetItem, DeleteItem) and only live-socket may read them besides"
  }

  # Every DynamoDB grant names a table of this stack, in this account and region, or one of its indexes.
  assert {
    condition = alltrue(flatten([
      for f, p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : can(regex("^arn:aws:dynamodb:ap-south-1:123456789012:table/weelo-prod-[a-z-]+(/index/[a-z-]+)?$", r))
        ] if length([for a in flatten([s.Action]) : a if startswith(a, "dynamodb:")]) > 0
      ]
    ]))
    error_message = "a DynamoDB grant names something other than this stack's tables and indexes"
  }
}

run "no_role_has_a_wildcard_and_only_the_archiver_touches_s3" {
  command = plan

  # "*" as a resource only where AWS requires it (Lambda's ENI management, as in its managed
  # AWSLambdaVPCAccessExecutionRole); "*" in an action nowhere, kafka-cluster:* included.
  assert {
    condition = alltrue(flatten([
      for f, p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement :
        alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")]) &&
        (s.Sid == "VpcNetworkInterfaces" || !contains(flatten([s.Resource]), "*"))
      ]
    ]))
    error_message = "a role has a wildcard action, or a wildcard resource outside the ENI statement"
  }

  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(flatten([
        for s in jsondecode(p.policy).Statement : [
          for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) : "${pair[0]} ${pair[1]}"
          if startswith(pair[0], "s3:")
        ]
      ]))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => sort(concat(
        f == "audit-consumer" ? ["s3:PutObject arn:aws:s3:::weelo-prod-audit-123456789012-ap-south-1/events/*"] : [],
        flatten([
          for q in distinct([
            for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : m.onFailure
            if m.function == f && try(m.onFailureKind, "sqs") == "s3"
          ]) : ["s3:PutObject arn:aws:s3:::weelo-prod-${q}/*", "s3:ListBucket arn:aws:s3:::weelo-prod-${q}"]
        ]),
      ))
    })
    error_message = "S3 grants must be: audit-consumer writes archive objects, a mapping writes (and lists) its own failure bucket; nobody reads or deletes (the api cannot read the archive)"
  }

  # The dead-letter queues: each consumer sends to its own (those its mappings name), nobody else.
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(flatten([
        for s in jsondecode(p.policy).Statement : [
          for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) : "${pair[0]} ${pair[1]}"
          if startswith(pair[0], "sqs:")
        ]
      ]))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => sort(distinct([
        for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
        "sqs:SendMessage arn:aws:sqs:ap-south-1:123456789012:weelo-prod-${m.onFailure}"
        if m.function == f && try(m.onFailureKind, "sqs") == "sqs"
      ]))
    })
    error_message = "SQS grants must be each consumer's SendMessage to its own dead-letter queues"
  }
}

run "each_role_reads_and_writes_only_its_own_topics_and_groups" {
  command = plan

  # Producers: written down here (the outbox topics and GPS for the api, pushes for order-fanout).
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(distinct(flatten([
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : regex(":topic/weelo-prod/[^/]+/(.+)$", r)[0]
          if contains(flatten([s.Action]), "kafka-cluster:WriteData")
        ]
      ])))
      }) == jsonencode({
      analytics         = []
      api               = ["booking.events", "location.updated", "order.events"]
      audit-consumer    = []
      deadline-sweeper  = ["booking.events", "order.events"]
      fcm-consumer      = []
      gps-ingest        = ["location.updated"]
      kafka-topics      = []
      live-socket       = []
      live-tracking     = []
      location-consumer = []
      order-fanout      = ["booking.events", "notification.fcm", "order.events"]
      outbox-relay      = ["booking.events", "order.events"]
    })
    error_message = "a role may write to topics it should not (or lost one it needs)"
  }

  # Live tracking, written down: live-tracking reads exactly the three topics it relays, in its own
  # groups; live-socket has no Kafka access at all (it never reads or writes a topic).
  assert {
    condition = jsonencode(sort(distinct(flatten([
      for s in jsondecode(aws_iam_role_policy.function["live-tracking"].policy).Statement : [
        for r in flatten([s.Resource]) : regex(":topic/weelo-prod/[^/]+/(.+)$", r)[0]
        if contains(flatten([s.Action]), "kafka-cluster:ReadData")
      ]
      ])))) == jsonencode(["booking.events", "location.updated", "order.events"]) && jsonencode(sort(distinct(flatten([
      for s in jsondecode(aws_iam_role_policy.function["live-tracking"].policy).Statement : [
        for r in flatten([s.Resource]) : regex(":group/weelo-prod/[^/]+/(.+)$", r)[0]
        if contains(flatten([s.Action]), "kafka-cluster:AlterGroup")
      ]
    ])))) == jsonencode(["weelo-live-tracking-booking.events", "weelo-live-tracking-location.updated", "weelo-live-tracking-order.events"])
    error_message = "live-tracking must read location.updated, booking.events and order.events in its own consumer groups"
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.function["live-socket"].policy).Statement : [
        for a in flatten([s.Action]) : !startswith(a, "kafka")
      ]
    ]))
    error_message = "live-socket must have no kafka or kafka-cluster action"
  }

  # Consumers: exactly the topics and consumer groups of their mappings in the definitions.
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(distinct(flatten([
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : regex(":topic/weelo-prod/[^/]+/(.+)$", r)[0]
          if contains(flatten([s.Action]), "kafka-cluster:ReadData")
        ]
      ])))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => sort(distinct([
        for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : m.topic if m.function == f
      ]))
    })
    error_message = "a role reads topics other than its mappings' (event-source-mappings.json)"
  }

  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(distinct(flatten([
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : regex(":group/weelo-prod/[^/]+/(.+)$", r)[0]
          if contains(flatten([s.Action]), "kafka-cluster:AlterGroup")
        ]
      ])))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => sort([
        for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
        "weelo-${m.function}-${m.topic}" if m.function == f
      ])
    })
    error_message = "a role commits offsets in consumer groups other than its own mappings'"
  }

  # Only kafka-topics manages topics, and only the defined ones.
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(distinct(flatten([
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : regex(":topic/weelo-prod/[^/]+/(.+)$", r)[0]
          if contains(flatten([s.Action]), "kafka-cluster:CreateTopic")
        ]
      ]))) if f != "kafka-topics"
      }) == jsonencode({ for f in keys(aws_iam_role_policy.function) : f => [] if f != "kafka-topics" }) && jsonencode(sort(distinct(flatten([
        for s in jsondecode(aws_iam_role_policy.function["kafka-topics"].policy).Statement : [
          for r in flatten([s.Resource]) : regex(":topic/weelo-prod/[^/]+/(.+)$", r)[0]
          if contains(flatten([s.Action]), "kafka-cluster:CreateTopic")
        ]
    ])))) == jsonencode(sort([for t in jsondecode(file("../definitions/topics.json")).topics : t.name]))
    error_message = "only kafka-topics may create topics, and only those of topics.json"
  }
}

run "only_live_tracking_posts_to_websocket_connections_and_only_on_this_api" {
  command = plan

  # execute-api:ManageConnections lets a role post to (or close) any connection of the APIs it
  # names: live-tracking alone has it, on POST @connections of this API's live stage only.
  assert {
    condition = jsonencode({
      for f, p in aws_iam_role_policy.function : f => sort(flatten([
        for s in jsondecode(p.policy).Statement : [
          for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) : "${pair[0]} ${pair[1]}"
          if startswith(pair[0], "execute-api:")
        ]
      ]))
      }) == jsonencode({
      for f in keys(aws_iam_role_policy.function) : f => (
        f == "live-tracking" ? ["execute-api:ManageConnections arn:aws:execute-api:ap-south-1:123456789012:live0api01/live/POST/@connections/*"] : []
      )
    })
    error_message = "only live-tracking may use execute-api, and only ManageConnections on POST @connections of this WebSocket API's live stage"
  }

  # No function calls API Gateway's control plane or any other API's @connections.
  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for a in flatten([s.Action]) : !startswith(a, "apigateway:")
        ]
      ]
    ]))
    error_message = "no function may manage API Gateway (apigateway:*)"
  }
}

run "a_self_managed_kafka_needs_no_cluster_and_no_kafka_iam" {
  command = plan

  variables {
    kafka_mode                     = "self_managed"
    self_managed_bootstrap_servers = "broker-1.internal:9092,broker-2.internal:9092"
  }

  assert {
    condition     = length(aws_msk_serverless_cluster.main) == 0 && length(aws_msk_cluster.main) == 0 && length(aws_msk_configuration.main) == 0
    error_message = "self_managed mode must not create an MSK cluster, provisioned or Serverless"
  }

  assert {
    condition = alltrue([
      for k, m in aws_lambda_event_source_mapping.this :
      m.self_managed_kafka_event_source_config[0].consumer_group_id == "weelo-${replace(k, "/", "-")}" &&
      m.self_managed_event_source[0].endpoints["KAFKA_BOOTSTRAP_SERVERS"] == "broker-1.internal:9092,broker-2.internal:9092"
    ])
    error_message = "self-managed mappings must read the given brokers with the same consumer groups"
  }

  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [for a in flatten([s.Action]) : !startswith(a, "kafka")]
      ]
    ]))
    error_message = "without MSK no role needs kafka or kafka-cluster actions"
  }
}

# gps-ingest (gps_ingest.tf): the api's code behind a public function URL, so its role is what
# bounds what a request there can do. It publishes GPS points and nothing else: no DynamoDB, SNS,
# S3 or SQS action, no other topic; the URL's two public statements hold only through the URL;
# and the operator's reserved concurrency caps it.
run "gps_ingest_is_public_only_through_its_url_and_may_only_publish_points" {
  command = plan

  assert {
    condition = length([
      for s in jsondecode(aws_iam_role_policy.function["gps-ingest"].policy).Statement : s
      if length([for a in flatten([s.Action]) : a if can(regex("^(dynamodb|sns|s3|sqs|execute-api):", a))]) > 0
    ]) == 0
    error_message = "gps-ingest may not touch a table, SNS, S3, SQS or the WebSocket API"
  }

  assert {
    condition     = aws_lambda_function_url.gps_ingest.authorization_type == "NONE" && aws_lambda_function_url.gps_ingest.function_name == "weelo-prod-gps-ingest"
    error_message = "gps-ingest's URL must be public (the function verifies the token itself)"
  }

  assert {
    condition = (
      aws_lambda_permission.gps_ingest_url.action == "lambda:InvokeFunctionUrl" &&
      aws_lambda_permission.gps_ingest_url.function_url_auth_type == "NONE" &&
      aws_lambda_permission.gps_ingest_invoke.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.gps_ingest_invoke.invoked_via_function_url == true
    )
    error_message = "the public statements must hold only for calls through the URL"
  }

  assert {
    condition = (
      aws_lambda_function.this["gps-ingest"].reserved_concurrent_executions == 100 &&
      aws_lambda_function.this["api"].reserved_concurrent_executions == -1 &&
      aws_lambda_function.this["gps-ingest"].filename == aws_lambda_function.this["api"].filename
    )
    # API_ROUTES' value is unknown in a plan (the environment holds values known after apply): the
    # drift tests check it comes from functions.json, small_profile.tftest.hcl that it is set.
    error_message = "gps-ingest must run the api's zip, capped by default at a reserved concurrency of 100"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.gps_ingest_5xx.metric_name == "Url5xxCount" && aws_cloudwatch_metric_alarm.gps_ingest_5xx.dimensions.FunctionName == "weelo-prod-gps-ingest"
    error_message = "gps-ingest's URL errors must be alarmed (API Gateway's 5xx alarm does not see them)"
  }
}

run "another_cap_for_gps_ingest_is_taken" {
  command = plan

  variables {
    function_reserved_concurrency = { gps-ingest = 20 }
  }

  assert {
    condition     = aws_lambda_function.this["gps-ingest"].reserved_concurrent_executions == 20
    error_message = "function_reserved_concurrency must set gps-ingest's cap"
  }
}

run "a_reserved_concurrency_for_no_such_function_is_refused" {
  command = plan

  variables {
    function_reserved_concurrency = { gps_ingest = 100 }
  }

  expect_failures = [aws_lambda_function.this]
}
