# Plan-level tests of infra/terraform with the real AWS provider, offline (localstack/plan-check.sh
# runs them in `make test`): `tofu test` plans the whole configuration and checks the planned
# values against the files they come from (infra/definitions/*.json, docs/openapi.yaml), not
# against copies. Nothing here changes what a user applies: the provider block, the overrides and
# the variables below exist only in this test run.
#
# No AWS is called: static dummy credentials with every start-up check skipped, and the data
# sources that would call AWS at plan time answered by override_data. The KMS key, the MSK
# cluster, the SNS application and the WebSocket API get known ARNs (and id) from override_resource
# (their ARNs hold ids AWS picks); tables, queues, buckets and log groups have ARNs built from their names (main.tf,
# arn_prefix) and the policies are plain JSON (iam.tf), so every role's policy is known at plan
# time and can be asserted.

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


# --- Event-source mappings = infra/definitions/event-source-mappings.json --------------------------

run "every_mapping_is_planned_as_its_definition_says" {
  command = plan

  assert {
    condition = toset(keys(aws_lambda_event_source_mapping.this)) == toset([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : "${m.function}/${m.topic}"
    ])
    error_message = "the planned mappings are not the definitions' ones: ${jsonencode(sort(keys(aws_lambda_event_source_mapping.this)))}"
  }

  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].topics == toset([m.topic]) &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].starting_position == m.startingPosition &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].batch_size == m.batchSize &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].maximum_batching_window_in_seconds == m.maximumBatchingWindowSeconds &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].maximum_retry_attempts == m.maximumRetryAttempts &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].bisect_batch_on_function_error == m.bisectBatchOnFunctionError &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].function_response_types == toset(["ReportBatchItemFailures"])
    ])
    error_message = "a mapping's topic, starting position, batch size, window, retries or bisection differs from event-source-mappings.json"
  }

  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].provisioned_poller_config[0].minimum_pollers == m.provisionedPollers.min &&
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].provisioned_poller_config[0].maximum_pollers == m.provisionedPollers.max
    ])
    error_message = "a mapping's provisioned pollers differ from event-source-mappings.json"
  }

  # Standard profile (profile.tf): two poller groups (pollerGroup), the paths someone waits on (a
  # booking's way to the phones, the GPS stream) and the records nobody waits for; no consumer is
  # in two groups.
  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].provisioned_poller_config[0].poller_group_name == "weelo-prod-${m.pollerGroup}"
    ])
    error_message = "in the standard profile every mapping must be in its poller group weelo-prod-<pollerGroup>"
  }

  assert {
    condition = jsonencode({
      for g in distinct([for m in aws_lambda_event_source_mapping.this : m.provisioned_poller_config[0].poller_group_name]) :
      g => sort(distinct([for k, m in aws_lambda_event_source_mapping.this : split("/", k)[0] if m.provisioned_poller_config[0].poller_group_name == g]))
      }) == jsonencode({
      "weelo-prod-live"    = ["fcm-consumer", "live-tracking", "location-consumer", "order-fanout"]
      "weelo-prod-records" = ["analytics", "audit-consumer"]
    })
    error_message = "the standard profile's poller groups must be live (order-fanout, fcm-consumer, location-consumer, live-tracking) and records (audit-consumer, analytics)"
  }

  # The consumer group is named as `weelo-local bridge` names it: offsets and IAM group ARNs mean the
  # same thing locally and in AWS.
  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].amazon_managed_kafka_event_source_config[0].consumer_group_id == "weelo-${m.function}-${m.topic}"
    ])
    error_message = "a mapping's consumer group is not weelo-<function>-<topic>"
  }

  assert {
    condition = alltrue([
      for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings :
      aws_lambda_event_source_mapping.this["${m.function}/${m.topic}"].destination_config[0].on_failure[0].destination_arn == (
        try(m.onFailureKind, "sqs") == "s3"
        ? "arn:aws:s3:::weelo-prod-${m.onFailure}"
        : "arn:aws:sqs:ap-south-1:123456789012:weelo-prod-${m.onFailure}"
      )
    ])
    error_message = "a mapping's on-failure destination is not the one event-source-mappings.json names: ${jsonencode({ for k, m in aws_lambda_event_source_mapping.this : k => m.destination_config[0].on_failure[0].destination_arn })}"
  }

  assert {
    condition = alltrue([
      for m in aws_lambda_event_source_mapping.this :
      toset(m.metrics_config[0].metrics) == toset(["EventCount", "ErrorCount", "KafkaMetrics"])
    ])
    error_message = "every mapping must report EventCount, ErrorCount and KafkaMetrics (what the mapping alarms watch)"
  }
}

# --- Tables = infra/definitions/tables.json ------------------------------------------------------

run "every_table_is_planned_as_its_definition_says" {
  command = plan

  # The provider plans an index's (deprecated, computed) hash_key as unknown when key_schema is
  # given, which makes the whole set of indexes unknown to an assertion, and a table without a ttl
  # block has an unknown one. Here the tables' computed values are generated instead, so what the
  # configuration sets can be compared with tables.json; every other run plans the tables with the
  # provider itself.
  override_resource {
    target = aws_dynamodb_table.this
  }
  override_resource {
    target = aws_dynamodb_table.indexed
  }

  assert {
    condition = toset(keys(merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed))) == toset([
      for t in jsondecode(file("../definitions/tables.json")).tables : t.name
    ])
    error_message = "the planned tables are not the definitions' ones: ${jsonencode(sort(keys(merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed))))}"
  }

  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].name == "weelo-prod-${t.name}" &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].billing_mode == (try(t.steadyLoad, false) ? "PROVISIONED" : "PAY_PER_REQUEST") &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].hash_key == t.hashKey.name &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].range_key == try(t.rangeKey.name, null)
    ])
    error_message = "a table's name, billing mode (standard profile: PROVISIONED with steadyLoad, else PAY_PER_REQUEST) or key schema differs from tables.json"
  }

  # The standard profile provisions exactly the steadyLoad tables (dynamodb.tf), starting at the
  # auto-scaling minimums; there are some, so the assertion above is not vacuous.
  assert {
    condition = toset([
      for name, t in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed) : name if t.billing_mode == "PROVISIONED"
      ]) == toset([
      for t in jsondecode(file("../definitions/tables.json")).tables : t.name if try(t.steadyLoad, false)
      ]) && length([for t in jsondecode(file("../definitions/tables.json")).tables : t if try(t.steadyLoad, false)]) > 0 && alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].read_capacity == var.steady_table_capacity.min_read &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].write_capacity == var.steady_table_capacity.min_write
      if try(t.steadyLoad, false)
    ])
    error_message = "the provisioned tables must be exactly the steadyLoad ones, at steady_table_capacity's minimums: ${jsonencode({ for name, t in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed) : name => [t.billing_mode, t.read_capacity, t.write_capacity] })}"
  }

  # The steadyLoad tables with indexes are the `indexed` resource (dynamodb.tf: it leaves their
  # indexes to auto scaling), there is one (offers), and each index starts at the minimums too.
  assert {
    condition = toset(keys(aws_dynamodb_table.indexed)) == toset([
      for t in jsondecode(file("../definitions/tables.json")).tables : t.name if try(t.steadyLoad, false) && length(t.globalSecondaryIndexes) > 0
      ]) && length(aws_dynamodb_table.indexed) > 0 && alltrue(flatten([
        for name, t in aws_dynamodb_table.indexed : [
          for i in t.global_secondary_index :
          i.read_capacity == var.steady_table_capacity.min_read && i.write_capacity == var.steady_table_capacity.min_write
        ]
    ]))
    error_message = "the indexed steady tables, and only those, must be the `indexed` resource, their indexes at steady_table_capacity's minimums: ${jsonencode({ for name, t in aws_dynamodb_table.indexed : name => [for i in t.global_secondary_index : [i.name, i.read_capacity, i.write_capacity]] })}"
  }

  # Every key attribute of a table and its indexes is declared once, with the definitions' type.
  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      jsonencode({ for a in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].attribute : a.name => a.type }) == jsonencode({
        for name, types in {
          for a in concat(
            [t.hashKey], try([t.rangeKey], []),
            flatten([for i in t.globalSecondaryIndexes : concat([i.hashKey], try([i.rangeKey], []))]),
          ) : a.name => a.type...
        } : name => types[0]
      })
    ])
    error_message = "a table's key attributes differ from tables.json"
  }

  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      jsonencode(sort([
        for i in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].global_secondary_index : jsonencode([
          i.name, [for k in i.key_schema : [k.attribute_name, k.key_type]], i.projection_type, sort(tolist(coalesce(i.non_key_attributes, toset([])))),
        ])
        ])) == jsonencode(sort([
        for i in t.globalSecondaryIndexes : jsonencode([
          i.name, concat([[i.hashKey.name, "HASH"]], try([[i.rangeKey.name, "RANGE"]], [])), i.projection, sort(try(i.nonKeyAttributes, [])),
        ])
      ]))
    ])
    error_message = "a table's global secondary indexes (names, keys, projection) differ from tables.json"
  }

  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      (try(t.ttlAttribute, null) == null
        ? length(merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].ttl) == 0 || !merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].ttl[0].enabled
      : merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].ttl[0].enabled && merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].ttl[0].attribute_name == t.ttlAttribute) &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].point_in_time_recovery[0].enabled &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].server_side_encryption[0].enabled
    ])
    error_message = "a table's TTL differs from tables.json, or it lacks point-in-time recovery or encryption"
  }
}

# --- Provisioned tables: auto scaling and throttle alarms (autoscaling.tf, alarms.tf) ------------

# Standard profile: for each steadyLoad table of tables.json and each of its indexes, a read and a write scalable target
# with steady_table_capacity's bounds, a target-tracking policy on DynamoDB's predefined
# utilization metric, and a throttle alarm; nothing for any other table.
run "the_steady_tables_scale_by_target_tracking_and_alarm_on_throttling" {
  command = plan

  assert {
    condition = toset(keys(aws_appautoscaling_target.steady_table)) == toset(flatten([
      for t in jsondecode(file("../definitions/tables.json")).tables : [
        for path in concat([t.name], [for i in t.globalSecondaryIndexes : "${t.name}/${i.name}"]) : ["${path}/read", "${path}/write"]
      ] if try(t.steadyLoad, false)
      ])) && anytrue([for key in keys(aws_appautoscaling_target.steady_table) : length(split("/", key)) == 3]) && toset(keys(aws_appautoscaling_policy.steady_table)) == toset(keys(aws_appautoscaling_target.steady_table)) && (
      toset(keys(aws_cloudwatch_metric_alarm.table_throttles)) == toset(keys(aws_appautoscaling_target.steady_table))
    ) && length(aws_appautoscaling_target.steady_table) > 0
    error_message = "every steadyLoad table and each of its indexes, and only those, must have a read and a write scalable target, policy and throttle alarm: ${jsonencode(sort(keys(aws_appautoscaling_target.steady_table)))}"
  }

  assert {
    condition = alltrue([
      for key, target in aws_appautoscaling_target.steady_table :
      target.service_namespace == "dynamodb" &&
      target.resource_id == (length(split("/", key)) == 3
        ? "table/weelo-prod-${split("/", key)[0]}/index/${split("/", key)[1]}"
      : "table/weelo-prod-${split("/", key)[0]}") &&
      target.scalable_dimension == format("dynamodb:%s:%s", length(split("/", key)) == 3 ? "index" : "table",
      endswith(key, "/read") ? "ReadCapacityUnits" : "WriteCapacityUnits") &&
      target.min_capacity == (endswith(key, "/read") ? var.steady_table_capacity.min_read : var.steady_table_capacity.min_write) &&
      target.max_capacity == (endswith(key, "/read") ? var.steady_table_capacity.max_read : var.steady_table_capacity.max_write)
    ]) && var.steady_table_capacity == { min_read = 5, max_read = 4000, min_write = 5, max_write = 40000, target_utilization_percent = 70 }
    error_message = "a steady table's or index's scalable target has the wrong table, index, dimension or bounds (defaults: read 5-4000, write 5-40000): ${jsonencode({ for k, t in aws_appautoscaling_target.steady_table : k => [t.resource_id, t.scalable_dimension, t.min_capacity, t.max_capacity] })}"
  }

  assert {
    condition = alltrue([
      for key, policy in aws_appautoscaling_policy.steady_table :
      policy.policy_type == "TargetTrackingScaling" &&
      policy.service_namespace == "dynamodb" &&
      policy.resource_id == aws_appautoscaling_target.steady_table[key].resource_id &&
      policy.scalable_dimension == aws_appautoscaling_target.steady_table[key].scalable_dimension &&
      policy.target_tracking_scaling_policy_configuration[0].target_value == var.steady_table_capacity.target_utilization_percent &&
      policy.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == (
        endswith(key, "/read") ? "DynamoDBReadCapacityUtilization" : "DynamoDBWriteCapacityUtilization"
      )
    ])
    error_message = "a steady table's scaling policy must track DynamoDB{Read,Write}CapacityUtilization at target_utilization_percent (70) on its own target"
  }

  assert {
    condition = alltrue([
      for key, alarm in aws_cloudwatch_metric_alarm.table_throttles :
      alarm.namespace == "AWS/DynamoDB" &&
      alarm.metric_name == (endswith(key, "/read") ? "ReadThrottleEvents" : "WriteThrottleEvents") &&
      alarm.dimensions == (length(split("/", key)) == 3
        ? tomap({ TableName = "weelo-prod-${split("/", key)[0]}", GlobalSecondaryIndexName = split("/", key)[1] })
      : tomap({ TableName = "weelo-prod-${split("/", key)[0]}" })) &&
      alarm.alarm_name == "weelo-prod-${replace(key, "/", "-")}-throttles" &&
      alarm.statistic == "Sum" && alarm.period == 300 && alarm.evaluation_periods == 3 && alarm.datapoints_to_alarm == 3 &&
      alarm.threshold == 0 && alarm.comparison_operator == "GreaterThanThreshold" && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "a steady table's or index's throttle alarm must be the Sum of its Read/WriteThrottleEvents > 0 in 3 of 3 five-minute windows"
  }
}

run "steady_table_capacity_sets_the_bounds_and_the_target" {
  command = plan

  variables {
    steady_table_capacity = { min_read = 10, max_write = 1000, target_utilization_percent = 50 }
  }

  # The fields not given keep their defaults.
  assert {
    condition = alltrue([
      for key, target in aws_appautoscaling_target.steady_table :
      [target.min_capacity, target.max_capacity] == (endswith(key, "/read") ? [10, 4000] : [5, 1000]) &&
      aws_appautoscaling_policy.steady_table[key].target_tracking_scaling_policy_configuration[0].target_value == 50
    ]) && length(aws_appautoscaling_target.steady_table) > 0
    error_message = "steady_table_capacity must set the targets' bounds and the policies' target value, the fields left out keeping their defaults"
  }

  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].read_capacity == 10 &&
      merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)[t.name].write_capacity == 5
      if try(t.steadyLoad, false)
      ]) && alltrue(flatten([
        for t in aws_dynamodb_table.indexed : [for i in t.global_secondary_index : i.read_capacity == 10 && i.write_capacity == 5]
    ]))
    error_message = "a steady table and its indexes must be created at steady_table_capacity's minimums"
  }
}

run "a_steady_table_capacity_out_of_range_is_refused" {
  command = plan

  variables {
    steady_table_capacity = { min_write = 50, max_write = 40, target_utilization_percent = 95 }
  }

  expect_failures = [var.steady_table_capacity]
}

# --- HTTP API routes = docs/openapi.yaml -----------------------------------------------------------

run "every_contract_operation_is_a_route_behind_the_jwt_authorizer_but_health" {
  command = plan

  assert {
    condition = toset(concat(keys(aws_apigatewayv2_route.authenticated), keys(aws_apigatewayv2_route.public))) == toset(flatten([
      for path, operations in yamldecode(file("../../docs/openapi.yaml")).paths : [
        for method, operation in operations : "${upper(method)} ${path}"
        if contains(["get", "put", "post", "delete", "patch"], method)
      ]
    ]))
    error_message = "the API's routes are not docs/openapi.yaml's operations: ${jsonencode(sort(concat(keys(aws_apigatewayv2_route.authenticated), keys(aws_apigatewayv2_route.public))))}"
  }

  # Public = the operations whose `security` is empty: the liveness check, and the static tracking
  # page of shared links (issue 17: its token is in the URL fragment, never sent).
  assert {
    condition = toset(keys(aws_apigatewayv2_route.public)) == toset(flatten([
      for path, operations in yamldecode(file("../../docs/openapi.yaml")).paths : [
        for method, operation in operations : "${upper(method)} ${path}"
        if contains(["get", "put", "post", "delete", "patch"], method) && try(length(operation.security) == 0, false)
      ]
    ])) && toset(keys(aws_apigatewayv2_route.public)) == toset(["GET /v1/health", "GET /track"])
    error_message = "only GET /v1/health and GET /track may be public: ${jsonencode(keys(aws_apigatewayv2_route.public))}"
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_apigatewayv2_route.authenticated), [aws_apigatewayv2_route.fallback]) :
      r.authorization_type == "JWT"
    ]) && alltrue([for r in values(aws_apigatewayv2_route.public) : r.authorization_type == "NONE"])
    error_message = "every route but GET /v1/health and GET /track (the $default fallback included) must use the JWT authorizer"
  }

  # The shared-link operations exist and need a JWT (only the booking's customer shares or revokes).
  assert {
    condition = alltrue([
      for key in ["POST /v1/bookings/{bookingId}/share", "DELETE /v1/bookings/{bookingId}/share/{shareId}"] :
      try(aws_apigatewayv2_route.authenticated[key].authorization_type == "JWT", false)
    ])
    error_message = "POST /v1/bookings/{bookingId}/share and DELETE /v1/bookings/{bookingId}/share/{shareId} must be routes behind the JWT authorizer: ${jsonencode(sort(keys(aws_apigatewayv2_route.authenticated)))}"
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.jwt.authorizer_type == "JWT" && aws_apigatewayv2_authorizer.jwt.identity_sources == toset(["$request.header.Authorization"])
    error_message = "the authorizer must be the JWT one reading the Authorization header"
  }
}

# --- Users: the Cognito user pool (sns_cognito.tf) ----------------------------------------------

# Nothing the pool uses needs more than Lite (variables.tf, cognito_user_pool_tier), and AWS's own
# default for a pool that names no plan is Essentials, so the default must reach the plan.
run "the_user_pool_is_on_the_lite_feature_plan_by_default" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.main.user_pool_tier == "LITE"
    error_message = "the user pool must be planned on the LITE feature plan by default"
  }
}

run "an_unknown_user_pool_tier_is_refused" {
  command = plan

  variables {
    cognito_user_pool_tier = "BASIC"
  }

  expect_failures = [var.cognito_user_pool_tier]
}

run "the_access_logs_can_be_kept_in_the_standard_class_and_nothing_else" {
  command = plan

  variables {
    access_log_class = "STANDARD"
  }

  assert {
    condition     = aws_cloudwatch_log_group.api_access.log_group_class == "STANDARD" && aws_cloudwatch_log_group.live_access.log_group_class == "STANDARD"
    error_message = "access_log_class = STANDARD must put both access log groups in the Standard class"
  }
}

run "an_unknown_access_log_class_is_refused" {
  command = plan

  variables {
    access_log_class = "DELIVERY"
  }

  expect_failures = [var.access_log_class]
}

# --- Live tracking: the WebSocket API (websocket.tf, docs/live-tracking.md) ----------------------

run "the_live_websocket_api_authorizes_at_connect_only_and_logs_no_token" {
  command = plan

  # Known ids for the authorizer and the integration, which the routes and permissions name.
  override_resource {
    target = aws_apigatewayv2_authorizer.live
    values = { id = "liveauth" }
  }

  override_resource {
    target = aws_apigatewayv2_integration.live
    values = { id = "liveint" }
  }

  assert {
    condition     = aws_apigatewayv2_api.live.protocol_type == "WEBSOCKET" && aws_apigatewayv2_api.live.route_selection_expression == "$request.body.action"
    error_message = "the live API must be a WebSocket API selecting routes by $request.body.action"
  }

  assert {
    condition     = toset(keys(aws_apigatewayv2_route.live)) == toset(["$connect", "$disconnect", "subscribe", "unsubscribe", "$default"])
    error_message = "the WebSocket routes must be $connect, $disconnect, subscribe, unsubscribe and $default: ${jsonencode(sort(keys(aws_apigatewayv2_route.live)))}"
  }

  # Every route goes to the one live-socket integration, a Lambda proxy.
  assert {
    condition = alltrue([
      for r in values(aws_apigatewayv2_route.live) : r.target == "integrations/liveint"
    ]) && aws_apigatewayv2_integration.live.integration_type == "AWS_PROXY"
    error_message = "every WebSocket route must target the live-socket AWS_PROXY integration"
  }

  # The authorizer on $connect, and on nothing else (API Gateway authorizes WebSocket connections
  # only there).
  assert {
    condition = jsonencode({
      for k, r in aws_apigatewayv2_route.live : k => [r.authorization_type, r.authorizer_id]
      }) == jsonencode({
      "$connect"    = ["CUSTOM", "liveauth"]
      "$default"    = ["NONE", null]
      "$disconnect" = ["NONE", null]
      "subscribe"   = ["NONE", null]
      "unsubscribe" = ["NONE", null]
    })
    error_message = "only $connect may use the authorizer (CUSTOM), every other route NONE: ${jsonencode({ for k, r in aws_apigatewayv2_route.live : k => [r.authorization_type, r.authorizer_id] })}"
  }

  # REQUEST, and no identity sources: the token may come in the query string or in
  # Sec-WebSocket-Protocol, and API Gateway refuses a connect lacking any listed source.
  assert {
    condition     = aws_apigatewayv2_authorizer.live.authorizer_type == "REQUEST" && try(length(aws_apigatewayv2_authorizer.live.identity_sources), 0) == 0
    error_message = "the WebSocket authorizer must be a REQUEST authorizer without identity sources"
  }

  # Two-way routes: the function's answer reaches the client through a $default route response.
  assert {
    condition = jsonencode({
      for k, r in aws_apigatewayv2_route.live : k => r.route_response_selection_expression
      }) == jsonencode({
      "$connect"    = null
      "$default"    = "$default"
      "$disconnect" = null
      "subscribe"   = "$default"
      "unsubscribe" = "$default"
      }) && toset(keys(aws_apigatewayv2_route_response.live)) == toset(["subscribe", "unsubscribe", "$default"]) && alltrue([
      for r in values(aws_apigatewayv2_route_response.live) : r.route_response_key == "$default"
    ])
    error_message = "subscribe, unsubscribe and $default must be two-way (route response $default), $connect and $disconnect one-way"
  }

  assert {
    condition = (
      aws_apigatewayv2_stage.live.auto_deploy &&
      aws_apigatewayv2_stage.live.default_route_settings[0].throttling_burst_limit == 500 &&
      aws_apigatewayv2_stage.live.default_route_settings[0].throttling_rate_limit == 1000 &&
      aws_apigatewayv2_stage.live.default_route_settings[0].logging_level == "OFF" &&
      !aws_apigatewayv2_stage.live.default_route_settings[0].data_trace_enabled
    )
    error_message = "the live stage must auto-deploy, throttle (burst 500, rate 1000 by default) and write no execution log (it would hold the token)"
  }

  # The access log: the fields an operator needs, and nothing from the query string or a header
  # (the token travels in either): every field is a $context variable, none of them a request
  # parameter, the user agent or an error message that could echo the request.
  assert {
    condition = alltrue([
      for v in values(jsondecode(aws_apigatewayv2_stage.live.access_log_settings[0].format)) :
      startswith(v, "$context.") && length(regexall("(?i)querystring|header|useragent|request\\.|input|path|messageString|validationErrorString", v)) == 0
      ]) && length(setsubtract([
        "$context.requestId", "$context.identity.sourceIp", "$context.connectionId", "$context.routeKey",
        "$context.eventType", "$context.status", "$context.integration.error", "$context.authorizer.error",
    ], values(jsondecode(aws_apigatewayv2_stage.live.access_log_settings[0].format)))) == 0
    error_message = "the live access log must hold requestId, sourceIp, connectionId, routeKey, eventType, status, the integration and authorizer errors, and no query string or header: ${aws_apigatewayv2_stage.live.access_log_settings[0].format}"
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.live_access.kms_key_id == "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000" &&
      aws_cloudwatch_log_group.live_access.retention_in_days == local.log_retention_days
    )
    error_message = "the live access log group must be encrypted with the stack key and keep log_retention_days"
  }

  # Both access logs are written only and read through Logs Insights: the cheaper log class.
  assert {
    condition     = aws_cloudwatch_log_group.live_access.log_group_class == "INFREQUENT_ACCESS" && aws_cloudwatch_log_group.api_access.log_group_class == "INFREQUENT_ACCESS"
    error_message = "both access log groups must default to the INFREQUENT_ACCESS log class"
  }

  # A WebSocket stage's access log needs the region's API Gateway CloudWatch role.
  assert {
    condition     = length(aws_api_gateway_account.cloudwatch) == 1 && aws_iam_role_policy_attachment.api_gateway_cloudwatch[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    error_message = "the stack must set API Gateway's CloudWatch Logs role (manage_api_gateway_account defaults to true)"
  }

  # API Gateway may invoke live-socket as this API's authorizer and as its routes' integration on
  # the live stage, and from nowhere else.
  assert {
    condition = (
      aws_lambda_permission.live_authorizer.function_name == "weelo-prod-live-socket" &&
      aws_lambda_permission.live_authorizer.principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.live_authorizer.source_arn == "arn:aws:execute-api:ap-south-1:123456789012:live0api01/authorizers/liveauth" &&
      aws_lambda_permission.live_routes.function_name == "weelo-prod-live-socket" &&
      aws_lambda_permission.live_routes.principal == "apigateway.amazonaws.com" &&
      aws_lambda_permission.live_routes.source_arn == "arn:aws:execute-api:ap-south-1:123456789012:live0api01/live/*"
    )
    error_message = "API Gateway must invoke live-socket only as this API's authorizer and on its live stage"
  }
}

run "a_second_manager_of_the_api_gateway_account_setting_can_opt_out" {
  command = plan

  variables {
    manage_api_gateway_account = false
  }

  assert {
    condition     = length(aws_api_gateway_account.cloudwatch) == 0 && length(aws_iam_role.api_gateway_cloudwatch) == 0
    error_message = "manage_api_gateway_account = false must leave the region's API Gateway account setting alone"
  }
}

run "live_tracking_runs_outside_the_vpc_and_knows_where_to_post" {
  command = plan

  # The HTTP API's endpoint, the WebSocket stage's URL and the user pool's endpoint and client id
  # are AWS's to give: known ones here, so the api's and live-socket's environment can be read. So
  # are MSK's brokers (read only once the cluster exists): a self-managed Kafka's are given.
  variables {
    kafka_mode                     = "self_managed"
    self_managed_bootstrap_servers = "broker-1.internal:9092"
  }

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

  # live-tracking alone has no vpc_config (lambda.tf, "Outside the VPC"); every other function is in
  # the private subnets with the functions' security group.
  assert {
    condition = jsonencode({
      for f, fn in aws_lambda_function.this : f => length(fn.vpc_config)
      }) == jsonencode({
      for f in keys(aws_lambda_function.this) : f => f == "live-tracking" ? 0 : 1
    })
    error_message = "live-tracking must run outside the VPC and every other function inside it: ${jsonencode({ for f, fn in aws_lambda_function.this : f => length(fn.vpc_config) })}"
  }

  assert {
    condition     = nonsensitive(aws_lambda_function.this["live-tracking"].environment[0].variables["LIVE_CONNECTIONS_URL"]) == "https://live0api01.execute-api.ap-south-1.amazonaws.com/live"
    error_message = "live-tracking's LIVE_CONNECTIONS_URL must be the live stage's @connections endpoint"
  }

  assert {
    condition     = output.live_connections_url == "https://live0api01.execute-api.ap-south-1.amazonaws.com/live"
    error_message = "the live_connections_url output must be the live stage's @connections endpoint"
  }

  # The api hands out shared links: the page on the HTTP API, the socket it connects to.
  assert {
    condition = (
      nonsensitive(aws_lambda_function.this["api"].environment[0].variables["SHARE_PAGE_URL"]) == "https://http0api01.execute-api.ap-south-1.amazonaws.com/track" &&
      nonsensitive(aws_lambda_function.this["api"].environment[0].variables["LIVE_SOCKET_URL"]) == "wss://live0api01.execute-api.ap-south-1.amazonaws.com/live" &&
      output.live_url == "wss://live0api01.execute-api.ap-south-1.amazonaws.com/live"
    )
    error_message = "the api's SHARE_PAGE_URL must be the HTTP API's /track and its LIVE_SOCKET_URL (and the live_url output) the WebSocket stage's URL"
  }

  # Share tokens are sealed with the api's CURSOR_KEY: live-socket checks them with the same key.
  assert {
    condition = alltrue([
      for f in ["api", "live-socket"] :
      nonsensitive(aws_lambda_function.this[f].environment[0].variables["CURSOR_KEY"] == var.cursor_key)
    ])
    error_message = "the api and live-socket must share CURSOR_KEY"
  }

  # Both new functions link weelo-dynamo: every TABLE_* name, the new tables included.
  assert {
    condition = alltrue(flatten([
      for f in ["api", "live-socket", "live-tracking"] : [
        for t in jsondecode(file("../definitions/tables.json")).tables :
        nonsensitive(aws_lambda_function.this[f].environment[0].variables[t.env]) == "weelo-prod-${t.name}"
      ]
    ]))
    error_message = "api, live-socket and live-tracking must receive every TABLE_* name (TABLE_LIVE_CONNECTIONS and TABLE_SHARES included)"
  }
}

run "live_tracking_is_alarmed_like_every_consumer" {
  command = plan

  # Function errors and throttles cover both new functions; OffsetLag, failed records and the
  # mapping alarms cover live-tracking's mappings as event-source-mappings.json lists them.
  assert {
    condition = alltrue([
      for f in ["live-socket", "live-tracking"] :
      contains(keys(aws_cloudwatch_metric_alarm.function_errors), f) && contains(keys(aws_cloudwatch_metric_alarm.function_throttles), f)
    ]) && contains(keys(aws_cloudwatch_metric_alarm.offset_lag), "live-tracking") && contains(keys(aws_cloudwatch_metric_alarm.consumer_failed_records), "live-tracking") && contains(keys(aws_cloudwatch_metric_alarm.consumer_failing), "live-tracking")
    error_message = "live-socket and live-tracking must have error and throttle alarms, live-tracking OffsetLag and failed-records alarms"
  }

  assert {
    condition = alltrue([
      for alarms in [aws_cloudwatch_metric_alarm.mapping_stopped, aws_cloudwatch_metric_alarm.mapping_errors, aws_cloudwatch_metric_alarm.mapping_records_lost] :
      toset(keys(alarms)) == toset([
        for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : "${m.function}/${m.topic}"
      ])
    ]) && contains(keys(aws_cloudwatch_metric_alarm.dlq_depth), "live-tracking-dlq")
    error_message = "every mapping of event-source-mappings.json (live-tracking's included) must have its stopped, errors and records-lost alarms, and live-tracking-dlq its depth alarm"
  }

  assert {
    condition = alltrue([
      for a in [aws_cloudwatch_metric_alarm.live_execution_errors, aws_cloudwatch_metric_alarm.live_integration_errors] :
      a.namespace == "AWS/ApiGateway" && a.dimensions == tomap({ ApiId = "live0api01", Stage = "live" })
    ]) && aws_cloudwatch_metric_alarm.live_execution_errors.metric_name == "ExecutionError" && aws_cloudwatch_metric_alarm.live_integration_errors.metric_name == "IntegrationError"
    error_message = "the WebSocket API's ExecutionError and IntegrationError must be alarmed on its live stage"
  }
}
