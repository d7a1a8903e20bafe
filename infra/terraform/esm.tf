# Event-source mappings: one per entry of infra/definitions/event-source-mappings.json, the file
# the local bridge (weelo-local bridge) reads, and the on-failure destinations they name: an SQS
# dead-letter queue (onFailureKind "sqs", the default) or an S3 bucket (onFailureKind "s3").
#
# Retries, bisection and ReportBatchItemFailures on Kafka sources: the provider documents
# maximum_retry_attempts, bisect_batch_on_function_error and function_response_types as "stream
# sources only", but it does not restrict them by source type and passes them to
# CreateEventSourceMapping, which accepts them for MSK and self-managed Kafka when the mapping is in
# provisioned mode (AWS Lambda guide, "Configuring error handling controls for Kafka event
# sources"). The standard profile puts every mapping in provisioned mode (provisioned_poller_config)
# and sets them; the small profile puts every mapping in on-demand mode and leaves them unset, and
# its consumers answer a failed record with a function error instead (profile.tf,
# KAFKA_FAILURE_REPORTING in lambda.tf). Not checked against a real account (no AWS access where
# this was written).

locals {
  # "sqs" when the mapping does not say; the mapping's precondition refuses any other kind.
  on_failure_kind = { for key, m in local.mappings : key => try(m.onFailureKind, "sqs") }
  dlq_names       = toset([for key, m in local.mappings : m.onFailure if local.on_failure_kind[key] != "s3"])
  failure_buckets = toset([for key, m in local.mappings : m.onFailure if local.on_failure_kind[key] == "s3"])
  on_failure_arn = merge(
    { for key, m in local.mappings : key => "${local.arn_prefix.sqs}${aws_sqs_queue.dlq[m.onFailure].name}" if local.on_failure_kind[key] != "s3" },
    { for key, m in local.mappings : key => "${local.arn_prefix.s3}${aws_s3_bucket.failures[m.onFailure].bucket}" if local.on_failure_kind[key] == "s3" },
  )
}

# A queue receives the failed batch's metadata only (topic, partition, offsets): replay from Kafka.
resource "aws_sqs_queue" "dlq" {
  for_each = local.dlq_names

  name                              = "${local.name_prefix}${each.key}"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum: time to look at a poison record.
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = local.mappings

  function_name     = aws_lambda_function.this[each.value.function].arn
  event_source_arn  = local.msk ? local.kafka_cluster_arn : null
  topics            = [each.value.topic]
  starting_position = each.value.startingPosition

  batch_size                         = each.value.batchSize
  maximum_batching_window_in_seconds = each.value.maximumBatchingWindowSeconds
  # Provisioned mode only (standard); an on-demand mapping retries a failed batch until its records
  # expire and reads no partial batch response.
  maximum_retry_attempts         = local.provisioned_mappings ? each.value.maximumRetryAttempts : null
  bisect_batch_on_function_error = local.provisioned_mappings ? each.value.bisectBatchOnFunctionError : null
  function_response_types        = local.provisioned_mappings ? ["ReportBatchItemFailures"] : null

  # Per mapping (dimension EventSourceMappingUUID): EventCount (PolledEventCount, ...), ErrorCount
  # (polling, invoke, commit and on-failure delivery errors) and KafkaMetrics (MaxOffsetLag,
  # SumOffsetLag); the last two are Kafka-only groups. The mapping alarms (alarms.tf) read them.
  metrics_config {
    metrics = ["EventCount", "ErrorCount", "KafkaMetrics"]
  }

  # Poller groups (profile.tf), standard only: the mappings of a group share Event Poller Units
  # (EPUs, a default of 10 pollers each) instead of being billed one EPU each at least: two groups
  # (pollerGroup: live, records), each mapping with its definition's pollers. Joining a
  # group or moving to another is an update, not a replacement: AWS lets UpdateEventSourceMapping
  # change PollerGroupName (https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html),
  # and the provider does not force a new mapping for it (6.28+). Small has no block: on-demand
  # mode, no pollers billed. A stack that changes profile changes its cluster, and so gets new
  # mappings (event_source_arn forces a new one), each created in its profile's mode.
  dynamic "provisioned_poller_config" {
    for_each = local.provisioned_mappings ? [1] : []
    content {
      minimum_pollers   = each.value.provisionedPollers.min
      maximum_pollers   = each.value.provisionedPollers.max
      poller_group_name = local.poller_groups[each.key]
    }
  }

  # Both modes: in provisioned mode what still fails after the retries; in on-demand mode what
  # Lambda gives up on (records too large to deliver, or expired from the topic).
  destination_config {
    on_failure {
      destination_arn = local.on_failure_arn[each.key]
    }
  }

  dynamic "amazon_managed_kafka_event_source_config" {
    for_each = local.msk ? [1] : []
    content {
      consumer_group_id = local.consumer_groups[each.key]
    }
  }

  dynamic "self_managed_kafka_event_source_config" {
    for_each = local.msk ? [] : [1]
    content {
      consumer_group_id = local.consumer_groups[each.key]
    }
  }

  dynamic "self_managed_event_source" {
    for_each = local.msk ? [] : [1]
    content {
      endpoints = { KAFKA_BOOTSTRAP_SERVERS = var.self_managed_bootstrap_servers }
    }
  }

  dynamic "source_access_configuration" {
    for_each = local.msk ? [] : concat(
      [for s in aws_subnet.private : { type = "VPC_SUBNET", uri = "subnet:${s.id}" }],
      [{ type = "VPC_SECURITY_GROUP", uri = "security_group:${aws_security_group.kafka.id}" }],
    )
    content {
      type = source_access_configuration.value.type
      uri  = source_access_configuration.value.uri
    }
  }

  lifecycle {
    precondition {
      condition     = contains(["sqs", "s3"], local.on_failure_kind[each.key])
      error_message = "${each.key}: onFailureKind must be \"sqs\" or \"s3\" (event-source-mappings.json)."
    }
  }

  # Topics must exist, and the role must allow reading them, before a mapping starts polling; the
  # pollers (ENIs in the kafka group) need their broker rules, the SQS endpoint and, for an S3
  # destination, the way to S3 and the bucket's encryption and policy (network.tf, failures.tf),
  # which nothing else orders before the mappings. audit-consumer's first batches (from
  # TRIM_HORIZON) need the way to S3 and the bucket's encryption and lock in place, or they would
  # be retried into the on-failure destination or archived unlocked.
  depends_on = [
    aws_lambda_invocation.topics,
    aws_iam_role_policy.function,
    aws_vpc_endpoint.interface,
    aws_vpc_endpoint.s3,
    aws_vpc_security_group_egress_rule.functions_to_s3,
    aws_s3_bucket_server_side_encryption_configuration.audit,
    aws_s3_bucket_object_lock_configuration.audit,
    aws_s3_bucket_policy.audit,
    aws_s3_bucket_server_side_encryption_configuration.failures,
    aws_s3_bucket_policy.failures,
    aws_vpc_security_group_ingress_rule.kafka_from_itself,
    aws_vpc_security_group_egress_rule.kafka_to_itself,
    aws_vpc_security_group_egress_rule.kafka_to_endpoints,
    aws_vpc_security_group_egress_rule.kafka_to_s3,
    aws_vpc_security_group_ingress_rule.endpoints_from_kafka,
  ]
}
