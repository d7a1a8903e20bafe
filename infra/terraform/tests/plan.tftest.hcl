# Plan-level tests of infra/terraform with the real AWS provider, offline (localstack/plan-check.sh
# runs them in `make test`): `tofu test` plans the whole configuration and checks the planned
# values against the files they come from (infra/definitions/*.json, docs/openapi.yaml), not
# against copies. Nothing here changes what a user applies: the provider block, the overrides and
# the variables below exist only in this test run.
#
# No AWS is called: static dummy credentials with every start-up check skipped, and the data
# sources that would call AWS at plan time answered by override_data. The KMS key, the MSK
# cluster and the SNS application get known ARNs from override_resource (their ARNs hold ids AWS
# picks); tables, queues, buckets and log groups have ARNs built from their names (main.tf,
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

override_data {
  target = data.aws_msk_bootstrap_brokers.main
  values = { bootstrap_brokers_sasl_iam = "b-1.plan-test.kafka-serverless.ap-south-1.amazonaws.com:9098" }
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
  target = aws_sns_platform_application.fcm
  values = { arn = "arn:aws:sns:ap-south-1:123456789012:app/GCM/weelo-prod-fcm" }
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

  assert {
    condition = toset(keys(aws_dynamodb_table.this)) == toset([
      for t in jsondecode(file("../definitions/tables.json")).tables : t.name
    ])
    error_message = "the planned tables are not the definitions' ones: ${jsonencode(sort(keys(aws_dynamodb_table.this)))}"
  }

  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      aws_dynamodb_table.this[t.name].name == "weelo-prod-${t.name}" &&
      aws_dynamodb_table.this[t.name].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.this[t.name].hash_key == t.hashKey.name &&
      aws_dynamodb_table.this[t.name].range_key == try(t.rangeKey.name, null)
    ])
    error_message = "a table's name, billing mode or key schema differs from tables.json"
  }

  # Every key attribute of a table and its indexes is declared once, with the definitions' type.
  assert {
    condition = alltrue([
      for t in jsondecode(file("../definitions/tables.json")).tables :
      jsonencode({ for a in aws_dynamodb_table.this[t.name].attribute : a.name => a.type }) == jsonencode({
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
        for i in aws_dynamodb_table.this[t.name].global_secondary_index : jsonencode([
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
      (t.ttlAttribute == null
        ? length(aws_dynamodb_table.this[t.name].ttl) == 0 || !aws_dynamodb_table.this[t.name].ttl[0].enabled
      : aws_dynamodb_table.this[t.name].ttl[0].enabled && aws_dynamodb_table.this[t.name].ttl[0].attribute_name == t.ttlAttribute) &&
      aws_dynamodb_table.this[t.name].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.this[t.name].server_side_encryption[0].enabled
    ])
    error_message = "a table's TTL differs from tables.json, or it lacks point-in-time recovery or encryption"
  }
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

  # Public = the operations whose `security` is empty; today only the liveness check.
  assert {
    condition = toset(keys(aws_apigatewayv2_route.public)) == toset(flatten([
      for path, operations in yamldecode(file("../../docs/openapi.yaml")).paths : [
        for method, operation in operations : "${upper(method)} ${path}"
        if contains(["get", "put", "post", "delete", "patch"], method) && try(length(operation.security) == 0, false)
      ]
    ])) && toset(keys(aws_apigatewayv2_route.public)) == toset(["GET /v1/health"])
    error_message = "only GET /v1/health may be public: ${jsonencode(keys(aws_apigatewayv2_route.public))}"
  }

  assert {
    condition = alltrue([
      for r in concat(values(aws_apigatewayv2_route.authenticated), [aws_apigatewayv2_route.fallback]) :
      r.authorization_type == "JWT"
    ]) && alltrue([for r in values(aws_apigatewayv2_route.public) : r.authorization_type == "NONE"])
    error_message = "every route but GET /v1/health (the $default fallback included) must use the JWT authorizer"
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.jwt.authorizer_type == "JWT" && aws_apigatewayv2_authorizer.jwt.identity_sources == toset(["$request.header.Authorization"])
    error_message = "the authorizer must be the JWT one reading the Authorization header"
  }
}
