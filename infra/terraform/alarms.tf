# Alarms, all to one SNS topic: consumers falling behind (OffsetLag), poison records
# (dead-letter queue depth, batches sent to an S3 on-failure destination), each mapping stopped,
# failing or losing records, function errors and throttles, API 5xx and p99 latency (and
# gps-ingest's function URL's), the
# live-tracking WebSocket API's execution and integration errors, throttled reads and writes of the
# provisioned tables, and the functions' own metrics (failed records, failed Kafka publishes, FCM
# push failure rate). Every function, consumer and
# mapping gets its alarms from `functions` and event-source-mappings.json (for_each), so
# live-socket and live-tracking need nothing of their own here.

resource "aws_sns_topic" "alarms" {
  name              = "${local.name_prefix}alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
  # kafka-topics only runs during apply, where a failure already fails the apply.
  alarmed_functions = { for name, f in local.functions : name => f if name != "kafka-topics" }
  consumers         = toset([for m in values(local.mappings) : m.function])
  # Every function that may publish to Kafka counts its publishes (weelo-kafka).
  publishers = toset([for name, f in local.functions : name if length(f.kafka_write) > 0])

  # The functions' own metrics (crates/telemetry) are CloudWatch Embedded Metric Format: JSON lines
  # on stdout, which Lambda ships to the function's log group and CloudWatch turns into metrics by
  # itself. No metric filter, agent or cloudwatch:PutMetricData permission is involved, so nothing
  # here creates one. One namespace per environment (the functions get it as METRICS_NAMESPACE),
  # so two stacks in one account do not add up each other's counts; one dimension, Function = the
  # function's short name (`fcm-consumer`, as the code passes it to weelo_telemetry::init).
  # Two conditions for the lines to become metrics: an invocation that times out loses its
  # unflushed counts (the Errors alarm covers it), and the lines carry no "level", which Lambda's
  # JSON log filter reads as INFO, so log_level must stay INFO or more verbose (variables.tf).
  metrics_namespace = "Weelo/${var.environment}"
}

# OffsetLag is alarmed per consumer function (dimension FunctionName): each consumer has its own
# mappings and groups, so the function says which consumer is behind; its log and the mapping's
# metrics say which topic.
resource "aws_cloudwatch_metric_alarm" "offset_lag" {
  for_each = local.consumers

  alarm_name          = "${local.name_prefix}${each.key}-offset-lag"
  alarm_description   = "${each.key} is more than ${var.alarm_offset_lag_records} records behind on a topic for 15 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "OffsetLag"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_offset_lag_records
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each = aws_sqs_queue.dlq

  alarm_name          = "${local.name_prefix}${each.key}-not-empty"
  alarm_description   = "Records were dead-lettered by ${each.key}'s mappings: inspect and replay them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Event-source mappings (their metrics_config, esm.tf) -------------------------------------------

locals {
  # Alarm names cannot hold the mapping key's "/".
  mapping_alarm_name = { for key, m in local.mappings : key => "${local.name_prefix}${m.function}-${m.topic}" }
}

# Stopped: a disabled, deleted or broken mapping reports no metrics at all, which every alarm that
# treats missing data as fine (OffsetLag, errors) would take for a quiet topic. PolledEventCount is
# the one metric a healthy mapping keeps reporting while idle: Lambda emits 0 for an empty poll
# (Lambda guide, "Event source mapping metrics"), whereas its error metrics exist only when errors
# happen and OffsetLag and the invocation metrics need records. So here, and only here, missing
# data is breaching: 15 minutes without a single PolledEventCount datapoint means the mapping has
# stopped polling. SampleCount < 1 can only be missing data; any datapoint, 0 included, is OK.
# Disabling a mapping on purpose sets this off too, and so may a new mapping until its first polls
# are reported.
resource "aws_cloudwatch_metric_alarm" "mapping_stopped" {
  for_each = local.mappings

  alarm_name          = "${local.mapping_alarm_name[each.key]}-stopped"
  alarm_description   = "The ${each.key} event-source mapping reported no poll for 15 minutes: it is disabled, deleted or cannot run. Check its State and StateTransitionReason (aws lambda get-event-source-mapping)."
  namespace           = "AWS/Lambda"
  metric_name         = "PolledEventCount"
  dimensions          = { EventSourceMappingUUID = aws_lambda_event_source_mapping.this[each.key].uuid }
  statistic           = "SampleCount"
  period              = 300
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Failing: the mapping cannot poll the brokers, invoke its function or commit offsets (ErrorCount
# group; emitted only when an error happens, so missing data is fine). Three 5-minute windows in a
# row, so a broker restart or a rebalance does not page.
resource "aws_cloudwatch_metric_alarm" "mapping_errors" {
  for_each = local.mappings

  alarm_name          = "${local.mapping_alarm_name[each.key]}-mapping-errors"
  alarm_description   = "The ${each.key} event-source mapping failed to poll, invoke or commit in each of 3 consecutive 5-minute windows: read its system log and the function's."
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "errors"
    label       = "Polling, invoke and commit errors"
    expression  = "FILL(polling, 0) + FILL(invoke, 0) + FILL(commit, 0)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { polling = "PollingErrorCount", invoke = "InvokeErrorCount", commit = "CommitErrorCount" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/Lambda"
        metric_name = metric_query.value
        dimensions  = { EventSourceMappingUUID = aws_lambda_event_source_mapping.this[each.key].uuid }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

# Lost: records dropped after their retries without reaching the on-failure destination, or whose
# delivery to it failed. They are in neither the function's results nor the destination: one is
# enough to page (replay them from Kafka within its retention).
resource "aws_cloudwatch_metric_alarm" "mapping_records_lost" {
  for_each = local.mappings

  alarm_name          = "${local.mapping_alarm_name[each.key]}-records-lost"
  alarm_description   = "The ${each.key} event-source mapping dropped records or could not deliver them to its on-failure destination: replay them from Kafka before its retention ends."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "lost"
    label       = "Dropped records and on-failure delivery errors"
    expression  = "FILL(dropped, 0) + FILL(undelivered, 0)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { dropped = "DroppedEventCount", undelivered = "OnFailureDestinationDeliveryErrorCount" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/Lambda"
        metric_name = metric_query.value
        dimensions  = { EventSourceMappingUUID = aws_lambda_event_source_mapping.this[each.key].uuid }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

# The S3 on-failure destinations' counterpart of dlq_depth: a failed batch arrived in the bucket.
resource "aws_cloudwatch_metric_alarm" "mapping_sent_to_bucket" {
  for_each = { for key, m in local.mappings : key => m if local.on_failure_kind[key] == "s3" }

  alarm_name          = "${local.mapping_alarm_name[each.key]}-sent-to-bucket"
  alarm_description   = "The ${each.key} event-source mapping sent a failed batch to s3://${local.name_prefix}${each.value.onFailure}: inspect and replay it."
  namespace           = "AWS/Lambda"
  metric_name         = "OnFailureDestinationDeliveredEventCount"
  dimensions          = { EventSourceMappingUUID = aws_lambda_event_source_mapping.this[each.key].uuid }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Functions ------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.alarmed_functions

  alarm_name          = "${local.name_prefix}${each.key}-errors"
  alarm_description   = "${each.key} failed invocations (crash, timeout, or a whole batch failed)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Failing for 15 minutes: a consumer with failed invocations in each of three 5-minute windows in a
# row. In the small profile (on-demand mappings) this is how a record that always fails shows: it
# holds back its partition, and the partitions delivered in the same batches, nothing sets it
# aside, and a small city's lag may stay under alarm_offset_lag_records for days
# (docs/operations.md, "A partition that does not move"). In the standard profile a failing record
# goes to its dead-letter queue after its retries, so this means a dependency down for 15 minutes.
resource "aws_cloudwatch_metric_alarm" "consumer_failing" {
  for_each = local.consumers

  alarm_name          = "${local.name_prefix}${each.key}-failing"
  alarm_description   = "${each.key} failed invocations in each of 3 consecutive 5-minute windows: a dependency is down, or (small profile) a record that always fails holds back its partition: docs/operations.md, \"A partition that does not move\"."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = local.alarmed_functions

  alarm_name          = "${local.name_prefix}${each.key}-throttles"
  alarm_description   = contains(keys(var.function_reserved_concurrency), each.key) ? "${each.key} was throttled: it reached its reserved concurrency (function_reserved_concurrency), so requests were refused with 429 and retried by the apps; raise it if the load is real." : "${each.key} was throttled: the account's concurrency is exhausted."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${local.name_prefix}api-5xx"
  alarm_description   = "The API answered 5xx (503 = a dependency is down; others are bugs)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = aws_apigatewayv2_api.main.id }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# gps-ingest's function URL (gps_ingest.tf) carries the GPS requests outside API Gateway, so the two
# alarms above do not see them: Lambda's function URL metrics do (AWS/Lambda, FunctionName).
resource "aws_cloudwatch_metric_alarm" "gps_ingest_5xx" {
  alarm_name          = "${local.name_prefix}gps-ingest-5xx"
  alarm_description   = "gps-ingest's URL answered 5xx (503 = Kafka did not acknowledge in time, the apps retry; others are bugs or throttling)."
  namespace           = "AWS/Lambda"
  metric_name         = "Url5xxCount"
  dimensions          = { FunctionName = aws_lambda_function.this["gps-ingest"].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "gps_ingest_latency_p99" {
  alarm_name          = "${local.name_prefix}gps-ingest-latency-p99"
  alarm_description   = "gps-ingest's URL p99 latency above ${var.alarm_api_p99_latency_ms} ms for 15 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "UrlRequestLatency"
  dimensions          = { FunctionName = aws_lambda_function.this["gps-ingest"].function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_latency_p99" {
  alarm_name          = "${local.name_prefix}api-latency-p99"
  alarm_description   = "API p99 latency above ${var.alarm_api_p99_latency_ms} ms for 15 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiId = aws_apigatewayv2_api.main.id }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- Live-tracking WebSocket API (websocket.tf) ----------------------------------------------------
# WebSocket APIs report no 4xx/5xx metrics; their errors are ExecutionError (API Gateway could not
# call the integration: live-socket throttled, missing permission, timeout) and IntegrationError (the
# integration answered 4xx/5xx, a refused $connect included). ClientError (a 4xx before the
# integration, an authorizer's refusal included) is not alarmed: expired and revoked share links and
# stale tokens are refused there in normal operation. Dimensions ApiId and Stage ("Monitoring
# WebSocket API execution with CloudWatch metrics").

resource "aws_cloudwatch_metric_alarm" "live_execution_errors" {
  alarm_name          = "${local.name_prefix}live-execution-errors"
  alarm_description   = "The live-tracking WebSocket API could not invoke live-socket (throttled, permission, timeout): connects and subscriptions are failing."
  namespace           = "AWS/ApiGateway"
  metric_name         = "ExecutionError"
  dimensions          = { ApiId = aws_apigatewayv2_api.live.id, Stage = aws_apigatewayv2_stage.live.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# A 4xx that live-socket itself answers to a request it refuses counts here too, so a few are
# normal: three 5-minute windows in a row at or above the threshold.
resource "aws_cloudwatch_metric_alarm" "live_integration_errors" {
  alarm_name          = "${local.name_prefix}live-integration-errors"
  alarm_description   = "live-socket answered 4xx/5xx to at least 10 WebSocket requests in each of 3 consecutive 5-minute windows: read its log."
  namespace           = "AWS/ApiGateway"
  metric_name         = "IntegrationError"
  dimensions          = { ApiId = aws_apigatewayv2_api.live.id, Stage = aws_apigatewayv2_stage.live.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 10
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- DynamoDB: the provisioned tables (dynamodb.tf, autoscaling.tf) --------------------------------
# An on-demand table throttles only past its table or account limits; a provisioned one throttles
# whenever its load outruns the provisioned capacity: a burst faster than target tracking reacts,
# or a load at steady_table_capacity's maximum. The SDK retries a throttled request and a consumer
# redelivers a failed batch, so one throttled window is no page; throttling in each of 3
# consecutive 5-minute windows (Sum of ReadThrottleEvents or WriteThrottleEvents > 0, dimension
# TableName for the table's own requests, TableName and GlobalSecondaryIndexName for an index's)
# means the capacity cannot keep up. A write its index cannot take is throttled on the table too,
# so an index's alarm says which capacity to look at.
# One alarm per steady table or index and capacity (local.steady_capacity); none in the small profile.
resource "aws_cloudwatch_metric_alarm" "table_throttles" {
  for_each = local.steady_capacity

  alarm_name        = "${local.name_prefix}${replace(each.value.path, "/", "-")}-${each.value.kind}-throttles"
  alarm_description = "DynamoDB throttled ${each.value.kind}s of ${each.value.path} (provisioned, auto-scaled) in each of 3 consecutive 5-minute windows: compare its consumed and provisioned ${each.value.kind} capacity, and raise steady_table_capacity's max_${each.value.kind} if it is at the ceiling."
  namespace         = "AWS/DynamoDB"
  metric_name       = each.value.throttle_metric
  dimensions = merge(
    { TableName = local.tables[each.value.table].name },
    each.value.index == null ? {} : { GlobalSecondaryIndexName = each.value.index },
  )
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# --- The functions' own metrics (EMF, see metrics_namespace above) ---------------------------------

# Failed records are redelivered (and, after maximumRetryAttempts, dead-lettered); one bad minute is
# a blip the retries absorb, three in a row mean a dependency or the code is failing.
resource "aws_cloudwatch_metric_alarm" "consumer_failed_records" {
  for_each = local.consumers

  alarm_name          = "${local.name_prefix}${each.key}-failed-records"
  alarm_description   = "${each.key} failed records in each of 3 consecutive minutes (they are retried, then dead-lettered): read its log."
  namespace           = local.metrics_namespace
  metric_name         = "Failed"
  dimensions          = { Function = each.key }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# A failed publish is not lost (the api and deadline-sweeper leave it to the outbox relay, the relay
# retries next run, order-fanout fails the record so it is redelivered, or leaves a booking step's
# event to the relay), so a single one is no page; failures in 3 consecutive minutes mean Kafka is
# unreachable or refusing this function.
resource "aws_cloudwatch_metric_alarm" "publish_failed" {
  for_each = local.publishers

  alarm_name          = "${local.name_prefix}${each.key}-publish-failed"
  alarm_description   = "${each.key} failed Kafka publishes in each of 3 consecutive minutes: MSK unreachable, IAM or a topic missing."
  namespace           = local.metrics_namespace
  metric_name         = "PublishFailed"
  dimensions          = { Function = each.key }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# A rate, not a count: SNS refuses some pushes in normal operation (disabled endpoints of
# uninstalled apps count as PushFailed). Pushed counts successes only, so the rate is
# failed / (pushed + failed); FILL keeps a window with no success at all (a full outage) from
# becoming missing data, and windows with fewer than 20 pushes are not judged.
resource "aws_cloudwatch_metric_alarm" "push_failure_rate" {
  alarm_name          = "${local.name_prefix}fcm-consumer-push-failure-rate"
  alarm_description   = "More than ${var.alarm_push_failure_rate_percent} % of FCM pushes failed for 15 minutes: FCM credential, SNS or the platform application."
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = var.alarm_push_failure_rate_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    label       = "PushFailed %"
    expression  = "IF(FILL(pushed, 0) + FILL(failed, 0) >= 20, 100 * FILL(failed, 0) / (FILL(pushed, 0) + FILL(failed, 0)), 0)"
    return_data = true
  }

  metric_query {
    id = "pushed"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "Pushed"
      dimensions  = { Function = "fcm-consumer" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "PushFailed"
      dimensions  = { Function = "fcm-consumer" }
      stat        = "Sum"
      period      = 300
    }
  }
}
