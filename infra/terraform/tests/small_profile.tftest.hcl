# Plan-level tests of the deployment profiles (profile.tf): deployment_profile = "small" planned
# with the real AWS provider, offline, beside the standard profile that the other files test; the
# MSK provisioned cluster each profile sizes (three brokers in standard, two in small),
# msk_cluster_type = "serverless", and the environment both give every function. The set-up is
# plan.tftest.hcl's (each test file configures its own provider); the clusters' ARNs and brokers are
# given here, as AWS would pick them (the standard runs give their own). Nothing here changes what
# a user applies.

provider "aws" {
  region                      = "ap-south-1"
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
  deployment_profile             = "small"

  # The names of each function's environment, the same in both profiles (only values differ);
  # "TABLE_*" stands for every TABLE_* of tables.json. infra/checks/test_drift.py checks that this
  # list is lambda.tf's (lambda_env, and uses_tables for the tables), so it cannot go stale.
  expected_env_names = {
    analytics         = ["TABLE_*", "ANALYTICS_CITIES", "ANALYTICS_SCOPE", "KAFKA_FAILURE_REPORTING", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    api               = ["TABLE_*", "API_ROUTES", "CURSOR_KEY", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_JWKS_URL", "JWT_ROLE_CLAIM", "KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PUBLISH_TIMEOUT_MS", "LIVE_SOCKET_URL", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE", "OFFER_WINDOW_SECS", "SCHEDULE_LEAD_SECS", "SHARE_LINK_HOURS", "SHARE_PAGE_URL", "SNS_PLATFORM_APPLICATION_ARN"]
    gps-ingest        = ["TABLE_*", "API_ROUTES", "CURSOR_KEY", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_JWKS_URL", "JWT_ROLE_CLAIM", "KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PUBLISH_TIMEOUT_MS", "LIVE_SOCKET_URL", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE", "OFFER_WINDOW_SECS", "SCHEDULE_LEAD_SECS", "SHARE_LINK_HOURS", "SHARE_PAGE_URL", "SNS_PLATFORM_APPLICATION_ARN"]
    audit-consumer    = ["AUDIT_BUCKET", "KAFKA_FAILURE_REPORTING", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    deadline-sweeper  = ["TABLE_*", "DEADLINE_SWEEP_EVERY_SECS", "DEADLINE_SWEEP_FOR_SECS", "KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PUBLISH_TIMEOUT_MS", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE", "OFFER_WINDOW_SECS", "SCHEDULE_LEAD_SECS"]
    fcm-consumer      = ["TABLE_*", "KAFKA_FAILURE_REPORTING", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    kafka-topics      = ["KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PUBLISH_TIMEOUT_MS", "KAFKA_TOPIC_REPLICATION", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    live-socket       = ["TABLE_*", "CURSOR_KEY", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_JWKS_URL", "JWT_ROLE_CLAIM", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    live-tracking     = ["TABLE_*", "KAFKA_FAILURE_REPORTING", "LIVE_CONNECTIONS_URL", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    location-consumer = ["TABLE_*", "GEO_H3_RESOLUTION", "GEO_INDEX_REFRESH_SECS", "KAFKA_FAILURE_REPORTING", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE"]
    order-fanout      = ["TABLE_*", "GEO_H3_RESOLUTION", "KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_FAILURE_REPORTING", "KAFKA_PUBLISH_TIMEOUT_MS", "MATCH_MAX_CANDIDATES", "MATCH_MAX_POSITION_AGE_SECS", "MATCH_MAX_RINGS", "MATCH_WIDER_RINGS", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE", "OFFER_WINDOW_SECS", "ORDER_CANDIDATES_PER_TRUCK", "SCHEDULE_LEAD_SECS"]
    outbox-relay      = ["TABLE_*", "KAFKA_AUTH", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PUBLISH_TIMEOUT_MS", "METRICS_FLUSH_SECONDS", "METRICS_NAMESPACE", "OUTBOX_RELAY_GRACE_SECS"]
  }
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

# The same data source answers for either kind of cluster (SASL/IAM brokers on 9098).
override_data {
  target = data.aws_msk_bootstrap_brokers.main
  values = { bootstrap_brokers_sasl_iam = "b-1.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098" }
}

override_resource {
  target = aws_kms_key.main
  values = { arn = "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}

override_resource {
  target = aws_msk_serverless_cluster.main
  values = { arn = "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-s1" }
}

override_resource {
  target = aws_msk_cluster.main
  values = { arn = "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/66666666-7777-8888-9999-000000000000-2" }
}

override_resource {
  target = aws_msk_configuration.main
  values = { arn = "arn:aws:kafka:ap-south-1:123456789012:configuration/weelo-prod-small/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-2", latest_revision = 1 }
}

override_resource {
  target = aws_sns_platform_application.fcm
  values = { arn = "arn:aws:sns:ap-south-1:123456789012:app/GCM/weelo-prod-fcm" }
}

override_resource {
  target = aws_apigatewayv2_api.live
  values = {
    id            = "live0api01"
    execution_arn = "arn:aws:execute-api:ap-south-1:123456789012:live0api01"
    api_endpoint  = "wss://live0api01.execute-api.ap-south-1.amazonaws.com"
  }
}

# The user pool's endpoint and client id, the HTTP API's endpoint, the WebSocket stage's URL and the
# archive bucket's id are AWS's to give too: known ones here, so that every function's environment
# is known to the plan.
override_resource {
  target = aws_cognito_user_pool.main
  # No domain (the postcondition of sns_cognito.tf would refuse a generated one).
  values = { endpoint = "cognito-idp.ap-south-1.amazonaws.com/ap-south-1_plantest", domain = "", custom_domain = "" }
}

override_resource {
  target = aws_cognito_user_pool_client.app
  values = { id = "plantestclient" }
}

override_resource {
  target = aws_apigatewayv2_api.main
  values = {
    id            = "http0api01"
    execution_arn = "arn:aws:execute-api:ap-south-1:123456789012:http0api01"
    api_endpoint  = "https://http0api01.execute-api.ap-south-1.amazonaws.com"
  }
}

override_resource {
  target = aws_apigatewayv2_stage.live
  values = { invoke_url = "wss://live0api01.execute-api.ap-south-1.amazonaws.com/live" }
}

# audit-consumer's AUDIT_BUCKET is the bucket's id, which equals its name once created.
override_resource {
  target = aws_s3_bucket.audit
  values = { id = "weelo-prod-audit-123456789012-ap-south-1" }
}


run "the_small_profile_runs_two_small_msk_brokers_with_iam_and_no_serverless_cluster" {
  command = plan

  assert {
    condition     = length(aws_msk_serverless_cluster.main) == 0 && length(aws_msk_cluster.main) == 1
    error_message = "the small profile must have one MSK provisioned cluster and no Serverless cluster"
  }

  # Two zones, one broker each (subnet ids are unknown to a plan: infra/checks/test_drift_profile.py
  # checks that the brokers take the first msk_broker_count subnets). The configuration keeps the
  # name and description it had when small was the only profile with brokers (a new name would be a
  # new configuration, a new description a new revision rolled out to the brokers).
  assert {
    condition = (
      local.az_count == 2 && length(aws_subnet.private) == 2 && local.msk_broker_count == 2 &&
      aws_msk_configuration.main[0].name == "weelo-prod-small" &&
      aws_msk_configuration.main[0].description == "weelo prod: two brokers, replication 2, min in-sync 1 (msk_provisioned.tf)"
    )
    error_message = "the small profile must have two zones with a broker each, and its configuration keep the name weelo-prod-small and its description"
  }

  assert {
    condition = (
      aws_msk_cluster.main[0].number_of_broker_nodes == 2 &&
      aws_msk_cluster.main[0].broker_node_group_info[0].instance_type == "kafka.t3.small" &&
      aws_msk_cluster.main[0].broker_node_group_info[0].storage_info[0].ebs_storage_info[0].volume_size == 20 &&
      aws_msk_cluster.main[0].kafka_version == "3.8.x"
    )
    error_message = "the small cluster must be two kafka.t3.small brokers with 20 GiB each on Kafka 3.8.x"
  }

  assert {
    condition = (
      aws_msk_cluster.main[0].client_authentication[0].sasl[0].iam == true &&
      aws_msk_cluster.main[0].client_authentication[0].unauthenticated == false &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_in_transit[0].client_broker == "TLS" &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_in_transit[0].in_cluster == true &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_at_rest_kms_key_arn == "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    )
    error_message = "the small cluster must take IAM clients only, over TLS, with TLS between brokers and its volumes under the stack key"
  }

  # Two brokers: both hold every partition, writes go on with one of them away, no unclean leader.
  assert {
    condition = alltrue([
      for line in [
        "auto.create.topics.enable=false", "default.replication.factor=2", "min.insync.replicas=1",
        "unclean.leader.election.enable=false", "offsets.topic.replication.factor=2",
        "transaction.state.log.replication.factor=2", "transaction.state.log.min.isr=1",
      ] : contains(split("\n", aws_msk_configuration.main[0].server_properties), line)
    ]) && aws_msk_cluster.main[0].configuration_info[0].arn == aws_msk_configuration.main[0].arn
    error_message = "the small cluster's configuration must set replication 2, min in-sync 1, no unclean election, internal topics on 2 brokers and no topic auto-creation"
  }

  assert {
    condition = (
      aws_appautoscaling_target.msk_storage[0].scalable_dimension == "kafka:broker-storage:VolumeSize" &&
      aws_appautoscaling_target.msk_storage[0].resource_id == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/66666666-7777-8888-9999-000000000000-2" &&
      aws_appautoscaling_target.msk_storage[0].max_capacity == 100 &&
      aws_appautoscaling_policy.msk_storage[0].target_tracking_scaling_policy_configuration[0].disable_scale_in == true &&
      length(aws_cloudwatch_metric_alarm.msk_disk_used) == 2
    )
    error_message = "the small cluster's storage must grow by itself up to 100 GiB, never shrink, and each broker's disk be alarmed"
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.msk_brokers[0].retention_in_days == 7 &&
      aws_cloudwatch_log_group.msk_brokers[0].kms_key_id == "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000" &&
      aws_msk_cluster.main[0].logging_info[0].broker_logs[0].cloudwatch_logs[0].enabled == true
    )
    error_message = "the brokers must log to their own encrypted log group, kept 7 days"
  }

  # The functions and the topic bootstrap reach the small cluster's brokers with IAM, and the
  # topics take the cluster's default replication (2, above).
  assert {
    condition = alltrue([
      for f in ["api", "outbox-relay", "deadline-sweeper", "order-fanout", "kafka-topics"] :
      nonsensitive(aws_lambda_function.this[f].environment[0].variables["KAFKA_BOOTSTRAP_SERVERS"]) == "b-1.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098" &&
      nonsensitive(aws_lambda_function.this[f].environment[0].variables["KAFKA_AUTH"]) == "aws-msk-iam"
    ]) && nonsensitive(aws_lambda_function.this["kafka-topics"].environment[0].variables["KAFKA_TOPIC_REPLICATION"]) == "-1" && aws_lambda_invocation.topics.triggers.brokers == "b-1.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c2.kafka.ap-south-1.amazonaws.com:9098"
    error_message = "the Kafka clients and the topic bootstrap must use the small cluster's IAM brokers"
  }

  # The IAM resources are the small cluster's: cluster/, topic/ and group/<name>/<uuid>/...
  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : startswith(r, "arn:aws:kafka:ap-south-1:123456789012:") && strcontains(r, "/weelo-prod/66666666-7777-8888-9999-000000000000-2")
          if startswith(r, "arn:aws:kafka:")
        ]
      ]
    ])) && length(flatten([for p in aws_iam_role_policy.function : [for s in jsondecode(p.policy).Statement : s if startswith(s.Sid, "Kafka") || startswith(s.Sid, "MskMapping")]])) > 0
    error_message = "every Kafka grant must name the small cluster"
  }

  # Same names as the standard profile (the last run of this file plans that one).
  assert {
    condition = jsonencode({
      for f, fn in aws_lambda_function.this : f => sort(nonsensitive(keys(fn.environment[0].variables)))
      }) == jsonencode({
      for f, names in var.expected_env_names : f => sort(flatten([
        for n in names : n == "TABLE_*" ? [for t in jsondecode(file("../definitions/tables.json")).tables : t.env] : [n]
      ]))
    })
    error_message = "a function's environment names differ from the expected ones (the same in both profiles)"
  }
}

run "every_mapping_polls_the_small_cluster_on_demand_and_its_consumer_answers_failures_with_an_error" {
  command = plan

  assert {
    condition = alltrue([
      for m in aws_lambda_event_source_mapping.this :
      m.event_source_arn == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/66666666-7777-8888-9999-000000000000-2"
    ])
    error_message = "every mapping must poll the small cluster"
  }

  # On-demand mode: no poller block (no EPU billed), and none of provisioned mode's error handling
  # (bisection, partial batch responses) asked for; the consumer group, the on-failure destination
  # and the metrics stay.
  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      length(aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].provisioned_poller_config) == 0 &&
      !coalesce(aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].bisect_batch_on_function_error, false) &&
      try(length(aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].function_response_types), 0) == 0 &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].amazon_managed_kafka_event_source_config[0].consumer_group_id == "weelo-${m.function}-${m.topic}" &&
      length(aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].destination_config[0].on_failure) == 1 &&
      toset(aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].metrics_config[0].metrics) == toset(["EventCount", "ErrorCount", "KafkaMetrics"])
    ])
    error_message = "in the small profile every mapping must be on demand (no pollers, bisection or partial batch responses) and keep its consumer group, destination and metrics"
  }

  # An on-demand mapping reads a partial batch response as success: every consumer must answer a
  # failed record with a function error instead; the other functions are not told anything.
  assert {
    condition = alltrue([
      for f, fn in aws_lambda_function.this :
      lookup(nonsensitive(fn.environment[0].variables), "KAFKA_FAILURE_REPORTING", "none") == (
        contains([for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : m.function], f) ? "function-error" : "none"
      )
    ])
    error_message = "in the small profile every consumer (and only a consumer) must get KAFKA_FAILURE_REPORTING=function-error"
  }

  # Nothing sets a failing record aside on demand: every consumer pages when it has failed in three
  # 5-minute windows in a row (a partition held back), whatever its lag.
  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.consumer_failing)) == toset([for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : m.function]) &&
      alltrue([for a in aws_cloudwatch_metric_alarm.consumer_failing : a.metric_name == "Errors" && a.evaluation_periods == 3 && a.datapoints_to_alarm == 3 && a.threshold == 1])
    )
    error_message = "every consumer must have the alarm for failures in 3 consecutive windows"
  }
}

run "the_small_profile_keeps_every_endpoint_on_one_interface_and_logs_seven_days" {
  command = plan

  # Subnet ids are unknown to a plan (and an override gives every subnet the same one), so the
  # endpoints' subnets are read through the profile; infra/checks/test_drift.py checks that the
  # endpoints take slice(subnets, 0, endpoint_subnets).
  assert {
    condition     = keys(aws_vpc_endpoint.interface) == ["cognito-idp", "lambda", "sns", "sqs", "sts"] && local.endpoint_subnets == 1
    error_message = "the small profile must keep the SNS, SQS and cognito-idp endpoints and add Lambda and STS for its on-demand pollers, each in the first subnet only"
  }

  assert {
    condition = alltrue(concat(
      [for g in aws_cloudwatch_log_group.function : g.retention_in_days == 7],
      [aws_cloudwatch_log_group.api_access.retention_in_days == 7, aws_cloudwatch_log_group.live_access.retention_in_days == 7],
      [aws_cloudwatch_log_group.flow_logs.retention_in_days == 7],
    ))
    error_message = "every log group must keep 7 days in the small profile"
  }

  # EMF metric lines carry no level, so the functions stay at INFO (WARN would drop every metric).
  assert {
    condition     = alltrue([for fn in aws_lambda_function.this : fn.logging_config[0].application_log_level == "INFO"])
    error_message = "the functions must log at INFO in the small profile too"
  }
}

# No provisioned table in the small profile: steadyLoad is a standard-profile choice (dynamodb.tf),
# so every table is on-demand, with no scalable target, scaling policy or throttle alarm, whatever
# steady_table_capacity says.
run "the_small_profile_keeps_every_table_on_demand_without_auto_scaling" {
  command = plan

  variables {
    steady_table_capacity = { min_read = 10, min_write = 10 }
  }

  assert {
    condition = toset(keys(merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed))) == toset([
      for t in jsondecode(file("../definitions/tables.json")).tables : t.name
    ]) && alltrue([for t in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed) : t.billing_mode == "PAY_PER_REQUEST"])
    error_message = "every table must be PAY_PER_REQUEST in the small profile: ${jsonencode({ for name, t in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed) : name => t.billing_mode })}"
  }

  assert {
    condition = (
      length(aws_appautoscaling_target.steady_table) == 0 && length(aws_appautoscaling_policy.steady_table) == 0 &&
      length(aws_cloudwatch_metric_alarm.table_throttles) == 0 && length(local.steady_tables) == 0
    )
    error_message = "the small profile must have no DynamoDB scalable target, scaling policy or throttle alarm"
  }
}

run "log_retention_days_still_wins_over_the_profile" {
  command = plan

  variables {
    log_retention_days = 30
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.function : g.retention_in_days == 30]) && aws_cloudwatch_log_group.msk_brokers[0].retention_in_days == 30
    error_message = "log_retention_days must override the profile's retention"
  }
}

run "a_small_profile_on_self_managed_kafka_polls_on_demand_and_creates_no_cluster" {
  command = plan

  variables {
    kafka_mode                     = "self_managed"
    self_managed_bootstrap_servers = "broker-1.internal:9092"
  }

  assert {
    condition = (
      length(aws_msk_cluster.main) == 0 && length(aws_msk_serverless_cluster.main) == 0 &&
      length(aws_msk_configuration.main) == 0 && length(aws_appautoscaling_target.msk_storage) == 0 &&
      length(aws_cloudwatch_log_group.msk_brokers) == 0 &&
      alltrue([for m in aws_lambda_event_source_mapping.this : length(m.provisioned_poller_config) == 0])
    )
    error_message = "a self-managed Kafka needs no MSK resource; its mappings are still on demand"
  }
}

run "an_unknown_profile_is_refused" {
  command = plan

  variables {
    deployment_profile = "tiny"
  }

  expect_failures = [var.deployment_profile]
}

# The standard profile's Kafka: an MSK provisioned cluster too, sized up (profile.tf): three
# kafka.m7g.large brokers, one per zone, replication 3 and min in-sync 2 (a write is acknowledged in
# two zones at least, and one broker can restart for patching while writes go on), 200 GiB volumes
# growing up to 4000, a disk alarm per broker, broker logs kept the standard 30 days.
run "the_standard_profile_runs_three_m7g_large_brokers_in_three_zones_with_replication_three_and_min_in_sync_two" {
  command = plan

  variables {
    deployment_profile = "standard"
  }

  override_resource {
    target = aws_msk_cluster.main
    values = { arn = "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-3" }
  }

  override_resource {
    target = aws_msk_configuration.main
    values = { arn = "arn:aws:kafka:ap-south-1:123456789012:configuration/weelo-prod-standard/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-3", latest_revision = 1 }
  }

  override_data {
    target = data.aws_msk_bootstrap_brokers.main
    values = { bootstrap_brokers_sasl_iam = "b-1.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-3.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098" }
  }

  assert {
    condition = (
      length(aws_msk_serverless_cluster.main) == 0 && length(aws_msk_cluster.main) == 1 &&
      aws_msk_cluster.main[0].number_of_broker_nodes == 3 &&
      aws_msk_cluster.main[0].broker_node_group_info[0].instance_type == "kafka.m7g.large" &&
      aws_msk_cluster.main[0].broker_node_group_info[0].storage_info[0].ebs_storage_info[0].volume_size == 200 &&
      aws_msk_cluster.main[0].kafka_version == "3.8.x"
    )
    error_message = "the standard profile's cluster must be three kafka.m7g.large brokers of 200 GiB each on Kafka 3.8.x, with no Serverless cluster"
  }

  # One broker per zone: three zones by default (subnet ids are unknown to a plan;
  # infra/checks/test_drift_profile.py checks that the brokers take the first msk_broker_count).
  assert {
    condition = (
      local.az_count == 3 && local.msk_broker_count == 3 && length(aws_subnet.private) == 3 &&
      toset([for s in aws_subnet.private : s.availability_zone_id]) == toset(["aps1-az1", "aps1-az2", "aps1-az3"])
    )
    error_message = "the standard profile must have three zones, one for each of its three brokers"
  }

  assert {
    condition = (
      aws_msk_cluster.main[0].client_authentication[0].sasl[0].iam == true &&
      aws_msk_cluster.main[0].client_authentication[0].unauthenticated == false &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_in_transit[0].client_broker == "TLS" &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_in_transit[0].in_cluster == true &&
      aws_msk_cluster.main[0].encryption_info[0].encryption_at_rest_kms_key_arn == "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    )
    error_message = "the standard cluster must take IAM clients only, over TLS, with TLS between brokers and its volumes under the stack key"
  }

  # Three brokers: every partition on all three, a write acknowledged by two, no unclean leader.
  assert {
    condition = alltrue([
      for line in [
        "auto.create.topics.enable=false", "default.replication.factor=3", "min.insync.replicas=2",
        "unclean.leader.election.enable=false", "offsets.topic.replication.factor=3",
        "transaction.state.log.replication.factor=3", "transaction.state.log.min.isr=2",
      ] : contains(split("\n", aws_msk_configuration.main[0].server_properties), line)
    ]) && length(compact(split("\n", aws_msk_configuration.main[0].server_properties))) == 7
    error_message = "the standard cluster's configuration must set replication 3, min in-sync 2, no unclean election, internal topics on 3 brokers with min in-sync 2 and no topic auto-creation, and nothing else"
  }

  assert {
    condition = (
      aws_msk_configuration.main[0].name == "weelo-prod-standard" &&
      aws_msk_configuration.main[0].description == "weelo prod: three brokers, replication 3, min in-sync 2 (msk_provisioned.tf)" &&
      aws_msk_cluster.main[0].configuration_info[0].arn == aws_msk_configuration.main[0].arn
    )
    error_message = "the standard cluster must use its own configuration, weelo-prod-standard"
  }

  assert {
    condition = (
      aws_appautoscaling_target.msk_storage[0].scalable_dimension == "kafka:broker-storage:VolumeSize" &&
      aws_appautoscaling_target.msk_storage[0].resource_id == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-3" &&
      aws_appautoscaling_target.msk_storage[0].max_capacity == 4000 &&
      aws_appautoscaling_policy.msk_storage[0].target_tracking_scaling_policy_configuration[0].disable_scale_in == true &&
      keys(aws_cloudwatch_metric_alarm.msk_disk_used) == ["1", "2", "3"] &&
      alltrue([for b, a in aws_cloudwatch_metric_alarm.msk_disk_used : a.dimensions["Broker ID"] == b && a.dimensions["Cluster Name"] == "weelo-prod" && a.threshold == 85])
    )
    error_message = "the standard cluster's storage must grow by itself up to 4000 GiB, never shrink, and each of its three brokers' disk be alarmed"
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.msk_brokers[0].retention_in_days == 30 &&
      aws_msk_cluster.main[0].logging_info[0].broker_logs[0].cloudwatch_logs[0].enabled == true
    )
    error_message = "the standard cluster's brokers must log to their own log group, kept the profile's 30 days"
  }

  # The Kafka clients and the topic bootstrap reach the three brokers; the topics take the
  # cluster's default replication (3, above).
  assert {
    condition = alltrue([
      for f in ["api", "outbox-relay", "deadline-sweeper", "order-fanout", "kafka-topics"] :
      nonsensitive(aws_lambda_function.this[f].environment[0].variables["KAFKA_BOOTSTRAP_SERVERS"]) == "b-1.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-3.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098"
    ]) && nonsensitive(aws_lambda_function.this["kafka-topics"].environment[0].variables["KAFKA_TOPIC_REPLICATION"]) == "-1"
    error_message = "the Kafka clients must use the standard cluster's three brokers, and kafka-topics the cluster's default replication"
  }
}

# MSK Serverless stays one variable away, in either profile: no broker to size, so no provisioned
# cluster, configuration, storage scaling, disk alarm or broker log group; the mappings poll it.
run "msk_cluster_type_serverless_plans_msk_serverless_and_no_brokers_which_every_mapping_polls" {
  command = plan

  variables {
    deployment_profile = "standard"
    msk_cluster_type   = "serverless"
  }

  override_data {
    target = data.aws_msk_bootstrap_brokers.main
    values = { bootstrap_brokers_sasl_iam = "boot-plantest.c1.kafka-serverless.ap-south-1.amazonaws.com:9098" }
  }

  assert {
    condition = (
      length(aws_msk_serverless_cluster.main) == 1 && length(aws_msk_cluster.main) == 0 && length(aws_msk_configuration.main) == 0 &&
      length(aws_appautoscaling_target.msk_storage) == 0 && length(aws_appautoscaling_policy.msk_storage) == 0 &&
      length(aws_cloudwatch_metric_alarm.msk_disk_used) == 0 && length(aws_cloudwatch_log_group.msk_brokers) == 0
    )
    error_message = "msk_cluster_type = \"serverless\" must plan MSK Serverless and no provisioned cluster, configuration, storage scaling, disk alarm or broker log group"
  }

  assert {
    condition = (
      aws_msk_serverless_cluster.main[0].cluster_name == "weelo-prod" &&
      aws_msk_serverless_cluster.main[0].client_authentication[0].sasl[0].iam[0].enabled == true &&
      alltrue([for m in aws_lambda_event_source_mapping.this : m.event_source_arn == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-s1"]) &&
      nonsensitive(aws_lambda_function.this["api"].environment[0].variables["KAFKA_BOOTSTRAP_SERVERS"]) == "boot-plantest.c1.kafka-serverless.ap-south-1.amazonaws.com:9098"
    )
    error_message = "MSK Serverless must take IAM clients, every mapping poll it and the Kafka clients use its brokers"
  }

  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : strcontains(r, "/weelo-prod/11111111-2222-3333-4444-555555555555-s1")
          if startswith(r, "arn:aws:kafka:")
        ]
      ]
    ]))
    error_message = "every Kafka grant must name the Serverless cluster"
  }
}

run "the_small_profile_can_run_msk_serverless_too" {
  command = plan

  variables {
    msk_cluster_type = "serverless"
  }

  assert {
    condition = (
      length(aws_msk_serverless_cluster.main) == 1 && length(aws_msk_cluster.main) == 0 && length(aws_msk_configuration.main) == 0 &&
      length(aws_appautoscaling_target.msk_storage) == 0 && length(aws_cloudwatch_metric_alarm.msk_disk_used) == 0 &&
      alltrue([for m in aws_lambda_event_source_mapping.this : m.event_source_arn == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-s1"])
    )
    error_message = "with msk_cluster_type = \"serverless\" the small profile's mappings must poll MSK Serverless, with no brokers"
  }
}

# Three brokers, one per zone: two zones cannot hold them (msk_provisioned.tf, the cluster's
# precondition).
run "the_standard_profile_with_two_zones_is_refused_for_its_three_brokers" {
  command = plan

  variables {
    deployment_profile = "standard"
    az_count           = 2
  }

  expect_failures = [aws_msk_cluster.main]
}

# A storage ceiling under the profile's starting volume (standard: 200 GiB) is refused.
run "a_storage_ceiling_below_the_profiles_volume_is_refused" {
  command = plan

  variables {
    deployment_profile       = "standard"
    msk_broker_volume_max_gb = 100
  }

  expect_failures = [aws_appautoscaling_target.msk_storage]
}

# The standard profile, planned from this file too: its cluster and endpoints as the other files
# test them, and the same environment names as the small profile's above.
run "the_standard_profile_gives_every_function_the_same_environment_names" {
  command = plan

  variables {
    deployment_profile = "standard"
  }

  override_resource {
    target = aws_msk_cluster.main
    values = { arn = "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-3" }
  }

  override_resource {
    target = aws_msk_configuration.main
    values = { arn = "arn:aws:kafka:ap-south-1:123456789012:configuration/weelo-prod-standard/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-3", latest_revision = 1 }
  }

  override_data {
    target = data.aws_msk_bootstrap_brokers.main
    values = { bootstrap_brokers_sasl_iam = "b-1.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-2.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098,b-3.weeloprod.plantest.c3.kafka.ap-south-1.amazonaws.com:9098" }
  }

  assert {
    condition = (
      length(aws_msk_serverless_cluster.main) == 0 && length(aws_msk_cluster.main) == 1 && length(aws_msk_configuration.main) == 1 &&
      aws_msk_cluster.main[0].number_of_broker_nodes == 3 &&
      alltrue([for m in aws_lambda_event_source_mapping.this : m.event_source_arn == "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo-prod/11111111-2222-3333-4444-555555555555-3"])
    )
    error_message = "the standard profile must run an MSK provisioned cluster of three brokers, which every mapping polls, and no Serverless cluster"
  }

  # Unlike small: provisioned mode, each mapping in its poller group, and every consumer answering
  # failed records with a partial batch response.
  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].provisioned_poller_config[0].poller_group_name == "weelo-prod-${m.pollerGroup}" &&
      nonsensitive(aws_lambda_function.this[m.function].environment[0].variables["KAFKA_FAILURE_REPORTING"]) == "partial-batch"
    ])
    error_message = "in the standard profile every mapping must be in its poller group weelo-prod-<pollerGroup>, its consumer answering with partial batch responses"
  }

  assert {
    condition = (
      keys(aws_vpc_endpoint.interface) == ["cognito-idp", "sns", "sqs"] && local.endpoint_subnets == local.az_count && local.az_count == 3 &&
      alltrue([for g in aws_cloudwatch_log_group.function : g.retention_in_days == 30])
    )
    error_message = "the standard profile must keep an endpoint interface in every subnet and 30-day logs"
  }

  # Unlike small: the steadyLoad tables provisioned, each (and each of its indexes) with its read and write scaling
  # (tests/plan.tftest.hcl checks them in detail).
  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].billing_mode == (try(t.steadyLoad, false) ? "PROVISIONED" : "PAY_PER_REQUEST")
      ]) && length(aws_appautoscaling_target.steady_table) == 2 * length(flatten([
        for t in jsondecode(file("../definitions/tables.json")).tables : concat([t.name], [for i in t.globalSecondaryIndexes : i.name]) if try(t.steadyLoad, false)
    ]))
    error_message = "the standard profile must provision the steadyLoad tables, with a read and a write scalable target each and for each of their indexes, and keep the others on-demand"
  }

  assert {
    condition = jsonencode({
      for f, fn in aws_lambda_function.this : f => sort(nonsensitive(keys(fn.environment[0].variables)))
      }) == jsonencode({
      for f, names in var.expected_env_names : f => sort(flatten([
        for n in names : n == "TABLE_*" ? [for t in jsondecode(file("../definitions/tables.json")).tables : t.env] : [n]
      ]))
    })
    error_message = "a function's environment names differ from the expected ones (the same in both profiles)"
  }
}
