# Plan-level tests of the analytics consumer and the SQL over the audit archive (analytics.tf,
# dashboard.tf, athena.tf, athena_queries.tf, and analytics' entries in lambda.tf): the function and
# its mappings as the definitions say, its grants, its dashboard and alarms, the Glue table with
# partition projection, the enforced Athena workgroup and the saved queries, and the validation of
# analytics_cities. The set-up is plan.tftest.hcl's (each test file configures its own provider).
# Nothing here changes what a user applies: the provider block, the overrides and the variables
# below exist only in this test run.
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


# --- The function: deployed from the definitions like every consumer -------------------------------

run "analytics_consumes_its_three_topics_in_its_own_groups_inside_the_vpc" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.this["analytics"].function_name == "weelo-prod-analytics" &&
      aws_lambda_function.this["analytics"].memory_size == one([for f in jsondecode(file("../definitions/functions.json")).functions : f.memoryMb if f.name == "analytics"]) &&
      aws_lambda_function.this["analytics"].timeout == one([for f in jsondecode(file("../definitions/functions.json")).functions : f.timeoutSeconds if f.name == "analytics"]) &&
      length(aws_lambda_function.this["analytics"].vpc_config) == 1
    )
    error_message = "analytics must be deployed with functions.json's memory and timeout, in the VPC"
  }

  # The environment its code reads: the metrics namespace (the code appends /Analytics), the
  # cities, the scope of its marks, and every TABLE_* (it links weelo-dynamo), its own table included.
  assert {
    condition = (
      aws_lambda_function.this["analytics"].environment[0].variables["METRICS_NAMESPACE"] == "Weelo/prod" &&
      aws_lambda_function.this["analytics"].environment[0].variables["ANALYTICS_CITIES"] == "Mumbai:19.076,72.8777,40;Delhi:28.6139,77.209,45;Bengaluru:12.9716,77.5946,35;Chennai:13.0827,80.2707,30" &&
      aws_lambda_function.this["analytics"].environment[0].variables["ANALYTICS_SCOPE"] == "analytics" &&
      aws_lambda_function.this["analytics"].environment[0].variables["TABLE_ANALYTICS_PROGRESS"] == "weelo-prod-analytics-progress" &&
      alltrue([
        for t in jsondecode(file("../definitions/tables.json")).tables :
        aws_lambda_function.this["analytics"].environment[0].variables[t.env] == "weelo-prod-${t.name}"
      ])
    )
    error_message = "analytics' environment: ${jsonencode(aws_lambda_function.this["analytics"].environment[0].variables)}"
  }

  assert {
    condition = toset([for k, m in aws_lambda_event_source_mapping.this : k if startswith(k, "analytics/")]) == toset([
      "analytics/booking.events", "analytics/order.events", "analytics/location.updated",
    ])
    error_message = "analytics must have exactly its three mappings (booking.events, order.events, location.updated)"
  }

  assert {
    condition = alltrue([
      for t in ["booking.events", "order.events", "location.updated"] :
      aws_lambda_event_source_mapping.this["analytics/${t}"].amazon_managed_kafka_event_source_config[0].consumer_group_id == "weelo-analytics-${t}" &&
      aws_lambda_event_source_mapping.this["analytics/${t}"].starting_position == "LATEST" &&
      aws_lambda_event_source_mapping.this["analytics/${t}"].destination_config[0].on_failure[0].destination_arn == "arn:aws:sqs:ap-south-1:123456789012:weelo-prod-analytics-dlq"
    ]) && aws_sqs_queue.dlq["analytics-dlq"].name == "weelo-prod-analytics-dlq"
    error_message = "analytics' mappings must use their own consumer groups (weelo-analytics-<topic>), start at LATEST and dead-letter to weelo-prod-analytics-dlq"
  }

  # Its grants, written down: GetItem and PutItem on analytics-progress, its three topics and
  # groups, its DLQ; no other table, no topic write, no SNS, S3, execute-api, Glue or Athena.
  assert {
    condition = jsonencode(sort(flatten([
      for s in jsondecode(aws_iam_role_policy.function["analytics"].policy).Statement : [
        for pair in setproduct(flatten([s.Action]), flatten([s.Resource])) : "${pair[0]} ${pair[1]}"
        if startswith(pair[0], "dynamodb:") || startswith(pair[0], "sqs:") || startswith(pair[0], "sns:") || startswith(pair[0], "s3:") || startswith(pair[0], "execute-api:") || pair[0] == "kafka-cluster:ReadData" || pair[0] == "kafka-cluster:WriteData" || pair[0] == "kafka-cluster:AlterGroup"
      ]
      ]))) == jsonencode(sort([
      "dynamodb:GetItem arn:aws:dynamodb:ap-south-1:123456789012:table/weelo-prod-analytics-progress",
      "dynamodb:PutItem arn:aws:dynamodb:ap-south-1:123456789012:table/weelo-prod-analytics-progress",
      "sqs:SendMessage arn:aws:sqs:ap-south-1:123456789012:weelo-prod-analytics-dlq",
      "kafka-cluster:ReadData arn:aws:kafka:ap-south-1:123456789012:topic/weelo-prod/11111111-2222-3333-4444-555555555555-3/booking.events",
      "kafka-cluster:ReadData arn:aws:kafka:ap-south-1:123456789012:topic/weelo-prod/11111111-2222-3333-4444-555555555555-3/order.events",
      "kafka-cluster:ReadData arn:aws:kafka:ap-south-1:123456789012:topic/weelo-prod/11111111-2222-3333-4444-555555555555-3/location.updated",
      "kafka-cluster:AlterGroup arn:aws:kafka:ap-south-1:123456789012:group/weelo-prod/11111111-2222-3333-4444-555555555555-3/weelo-analytics-booking.events",
      "kafka-cluster:AlterGroup arn:aws:kafka:ap-south-1:123456789012:group/weelo-prod/11111111-2222-3333-4444-555555555555-3/weelo-analytics-order.events",
      "kafka-cluster:AlterGroup arn:aws:kafka:ap-south-1:123456789012:group/weelo-prod/11111111-2222-3333-4444-555555555555-3/weelo-analytics-location.updated",
    ]))
    error_message = "analytics' grants differ: ${aws_iam_role_policy.function["analytics"].policy}"
  }

  # Athena is for people: no function role may touch Glue or Athena.
  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for a in flatten([s.Action]) : !startswith(a, "glue:") && !startswith(a, "athena:")
        ]
      ]
    ]))
    error_message = "no function role may have a glue: or athena: action"
  }

  # The generic alarms of alarms.tf cover it like every consumer.
  assert {
    condition = (
      contains(keys(aws_cloudwatch_metric_alarm.function_errors), "analytics") &&
      contains(keys(aws_cloudwatch_metric_alarm.function_throttles), "analytics") &&
      contains(keys(aws_cloudwatch_metric_alarm.offset_lag), "analytics") &&
      contains(keys(aws_cloudwatch_metric_alarm.consumer_failed_records), "analytics") &&
      contains(keys(aws_cloudwatch_metric_alarm.dlq_depth), "analytics-dlq") &&
      alltrue([
        for t in ["booking.events", "order.events", "location.updated"] :
        contains(keys(aws_cloudwatch_metric_alarm.mapping_stopped), "analytics/${t}") &&
        contains(keys(aws_cloudwatch_metric_alarm.mapping_errors), "analytics/${t}") &&
        contains(keys(aws_cloudwatch_metric_alarm.mapping_records_lost), "analytics/${t}")
      ])
    )
    error_message = "analytics must have the errors, throttles, OffsetLag, failed-records, DLQ and per-mapping alarms"
  }
}

# --- Dashboard and alarms on its metrics -------------------------------------------------------------

run "the_dashboard_and_the_two_alarms_watch_the_analytics_metrics" {
  command = plan

  variables {
    analytics_max_time_to_accept_seconds = 90
  }

  assert {
    condition     = aws_cloudwatch_dashboard.analytics.dashboard_name == "weelo-prod-analytics"
    error_message = "the dashboard must be weelo-prod-analytics"
  }

  # Every consumer of event-source-mappings.json has its OffsetLag, Errors and Failed on the dashboard.
  assert {
    condition = alltrue(flatten([
      for f in distinct([for m in jsondecode(file("../definitions/event-source-mappings.json")).mappings : m.function]) : [
        for probe in [
          ["AWS/Lambda", "OffsetLag", "FunctionName", "weelo-prod-${f}"],
          ["AWS/Lambda", "Errors", "FunctionName", "weelo-prod-${f}"],
          ["Weelo/prod", "Failed", "Function", f],
          ] : anytrue(flatten([
            for w in jsondecode(aws_cloudwatch_dashboard.analytics.dashboard_body).widgets : [
              for row in try(w.properties.metrics, []) : length(row) >= 4 && try(slice(row, 0, 4) == probe, false)
            ]
        ]))
      ]
    ]))
    error_message = "every consumer's OffsetLag, Errors and Failed must be on the dashboard"
  }

  # The funnel, acceptance rate, delays, transporters per offer, pushes and GPS per second.
  assert {
    condition = alltrue([
      for needle in [
        "\"Weelo/prod/Analytics\",\"BookingsCreated\"", "\"Weelo/prod/Analytics\",\"BookingsDelivered\"",
        "100 * FILL(accepted, 0) / created", "reached / offered", "gps / 60",
        "\"Weelo/prod/Analytics\",\"TimeToAccept\",{\"label\":\"p90\",\"stat\":\"p90\"}",
        "\"Weelo/prod/Analytics\",\"TimeToFirstOffer\",{\"label\":\"p50\",\"stat\":\"p50\"}",
        "\"Weelo/prod\",\"Pushed\",\"Function\",\"fcm-consumer\"",
        "{Weelo/prod/Analytics,City} MetricName=\\\"BookingsCreated\\\"",
      ] : strcontains(aws_cloudwatch_dashboard.analytics.dashboard_body, needle)
    ])
    error_message = "the dashboard lacks a funnel, rate, delay, push or GPS widget: ${aws_cloudwatch_dashboard.analytics.dashboard_body}"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.analytics_acceptance_rate.alarm_name == "weelo-prod-analytics-acceptance-rate" &&
      aws_cloudwatch_metric_alarm.analytics_acceptance_rate.threshold == 50 &&
      aws_cloudwatch_metric_alarm.analytics_acceptance_rate.comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.analytics_acceptance_rate.treat_missing_data == "notBreaching" &&
      one([for q in aws_cloudwatch_metric_alarm.analytics_acceptance_rate.metric_query : q.expression if q.return_data == true]) == "IF(created >= 10, 100 * FILL(accepted, 0) / created)" &&
      toset([
        for q in aws_cloudwatch_metric_alarm.analytics_acceptance_rate.metric_query : "${q.id} ${q.metric[0].namespace} ${q.metric[0].metric_name} ${q.metric[0].stat} ${q.metric[0].period}" if length(q.metric) > 0
      ]) == toset(["created Weelo/prod/Analytics BookingsCreated Sum 900", "accepted Weelo/prod/Analytics BookingsAccepted Sum 900"])
    )
    error_message = "the acceptance-rate alarm must compare 100 * accepted / created (no data under 10 bookings) per 15 minutes with the threshold"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.alarm_name == "weelo-prod-analytics-time-to-accept-p90" &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.namespace == "Weelo/prod/Analytics" &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.metric_name == "TimeToAccept" &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.extended_statistic == "p90" &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.threshold == 90000 &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.analytics_time_to_accept.treat_missing_data == "notBreaching"
    )
    error_message = "the time-to-accept alarm must watch p90 of TimeToAccept against the threshold in milliseconds (90 s = 90000)"
  }
}

# --- SQL over the audit archive -------------------------------------------------------------------

run "the_audit_archive_is_queryable_through_an_enforced_workgroup" {
  command = plan

  assert {
    condition = (
      aws_glue_catalog_database.audit.name == "weelo_prod_audit" &&
      aws_glue_catalog_table.audit_events.table_type == "EXTERNAL_TABLE" &&
      aws_glue_catalog_table.audit_events.parameters["projection.enabled"] == "true" &&
      aws_glue_catalog_table.audit_events.parameters["projection.topic.type"] == "enum" &&
      aws_glue_catalog_table.audit_events.parameters["projection.topic.values"] == join(",", [for t in jsondecode(file("../definitions/topics.json")).topics : t.name]) &&
      aws_glue_catalog_table.audit_events.parameters["projection.dt.type"] == "date" &&
      aws_glue_catalog_table.audit_events.parameters["projection.dt.format"] == "yyyy/MM/dd" &&
      aws_glue_catalog_table.audit_events.parameters["projection.dt.range"] == "2025/01/01,NOW" &&
      aws_glue_catalog_table.audit_events.parameters["storage.location.template"] == "s3://weelo-prod-audit-123456789012-ap-south-1/events/$${topic}/$${dt}/" &&
      [for k in aws_glue_catalog_table.audit_events.partition_keys : k.name] == ["topic", "dt"] &&
      aws_glue_catalog_table.audit_events.storage_descriptor[0].ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    )
    error_message = "the audit table must project topic (topics.json) and dt (yyyy/MM/dd) onto events/<topic>/<dt>/ with the OpenX JSON SerDe"
  }

  # The columns the saved queries read: value.type, value.time, value.data.bookingid, ...
  assert {
    condition = alltrue([
      for field in ["type:string", "time:string", "id:string", "bookingid:string", "vehicletype:string", "status:string", "transporterid:string", "createdat:string", "pickup:struct<lat:double,lng:double>"] :
      strcontains(one([for c in aws_glue_catalog_table.audit_events.storage_descriptor[0].columns : c.type if c.name == "value"]), field)
    ]) && !contains([for c in aws_glue_catalog_table.audit_events.storage_descriptor[0].columns : c.name], "topic")
    error_message = "the audit table's value column lacks a field the queries read, or topic is both a column and a partition key"
  }

  assert {
    condition = (
      aws_athena_workgroup.audit.name == "weelo-prod-audit" &&
      aws_athena_workgroup.audit.configuration[0].enforce_workgroup_configuration == true &&
      aws_athena_workgroup.audit.configuration[0].bytes_scanned_cutoff_per_query == 53687091200 &&
      aws_athena_workgroup.audit.configuration[0].result_configuration[0].output_location == "s3://weelo-prod-athena-123456789012-ap-south-1/results/" &&
      aws_athena_workgroup.audit.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS" &&
      aws_athena_workgroup.audit.configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == "arn:aws:kms:ap-south-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    )
    error_message = "the workgroup must enforce its configuration: the byte cutoff, results in the results bucket encrypted with the stack key"
  }

  assert {
    condition = (
      one(flatten([for r in aws_s3_bucket_server_side_encryption_configuration.athena_results.rule : [for d in r.apply_server_side_encryption_by_default : d.sse_algorithm]])) == "aws:kms" &&
      aws_s3_bucket_public_access_block.athena_results.block_public_policy && aws_s3_bucket_public_access_block.athena_results.restrict_public_buckets &&
      one(flatten([for r in aws_s3_bucket_lifecycle_configuration.athena_results.rule : [for e in r.expiration : e.days] if r.id == "expire-results"])) == 30
    )
    error_message = "the results bucket must be SSE-KMS, private, and expire results after athena_results_expire_days"
  }

  assert {
    condition = alltrue([
      for q in [aws_athena_named_query.daily_funnel, aws_athena_named_query.booking_history, aws_athena_named_query.transporter_record] :
      q.workgroup == "weelo-prod-audit" && q.database == "weelo_prod_audit" && strcontains(q.query, "FROM weelo_prod_audit.events") && strcontains(q.query, "dt BETWEEN ? AND ?")
      ]) && alltrue([
      for step in ["created", "accepted", "expired", "cancelled", "released", "delivered"] :
      strcontains(aws_athena_named_query.daily_funnel.query, "count(DISTINCT IF(value.type = 'com.weelo.booking.${step}.v1', value.id)) AS ${step}")
      ]) && strcontains(aws_athena_named_query.booking_history.query, "(key = ? OR value.data.bookingid = ?)") && strcontains(aws_athena_named_query.booking_history.query, "WHERE topic IN (${join(", ", [for t in jsondecode(file("../definitions/topics.json")).topics : "'${t.name}'" if t.name != "location.updated"])})") && (
      strcontains(aws_athena_named_query.transporter_record.query, "value.data.transporterid = ?")
    )
    error_message = "the three saved queries (daily funnel, booking history, transporter record) must read the audit table by day with their parameters: ${aws_athena_named_query.daily_funnel.query}"
  }
}

# --- analytics_cities is checked as the code parses it --------------------------------------------

run "eleven_cities_are_refused" {
  command = plan
  variables {
    analytics_cities = "A:1,1,1;B:1,1,1;C:1,1,1;D:1,1,1;E:1,1,1;F:1,1,1;G:1,1,1;H:1,1,1;I:1,1,1;J:1,1,1;K:1,1,1"
  }
  expect_failures = [var.analytics_cities]
}

run "a_city_without_its_radius_is_refused" {
  command = plan
  variables {
    analytics_cities = "Mumbai:19.076,72.8777"
  }
  expect_failures = [var.analytics_cities]
}

run "a_city_off_the_earth_is_refused" {
  command = plan
  variables {
    analytics_cities = "Mumbai:95.1,72.8777,40"
  }
  expect_failures = [var.analytics_cities]
}

run "a_city_named_like_the_catch_all_or_twice_is_refused" {
  command = plan
  variables {
    analytics_cities = "Other:19.076,72.8777,40;Pune:18.52,73.85,30;pune:18.52,73.85,20"
  }
  expect_failures = [var.analytics_cities]
}

run "ten_cities_or_none_are_accepted" {
  command = plan
  variables {
    analytics_cities = "A:1,1,1;B:1,1,1;C:1,1,1;D:1,1,1;E:1,1,1;F:1,1,1;G:1,1,1;H:1,1,1;I:1,1,1;New Delhi-2_x:-1.5,-179.25,0.5"
  }
  assert {
    condition     = aws_lambda_function.this["analytics"].environment[0].variables["ANALYTICS_CITIES"] == var.analytics_cities
    error_message = "ten well-formed cities must be accepted and passed on as ANALYTICS_CITIES"
  }
}

run "no_city_at_all_is_accepted" {
  command = plan
  variables {
    analytics_cities = ""
  }
  assert {
    condition     = aws_lambda_function.this["analytics"].environment[0].variables["ANALYTICS_CITIES"] == ""
    error_message = "an empty analytics_cities (every pickup is \"other\") must be accepted"
  }
}
