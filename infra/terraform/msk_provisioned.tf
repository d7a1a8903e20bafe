# The MSK provisioned cluster (kafka_mode = "msk" with msk_cluster_type = "provisioned", the
# default, in both deployment profiles; profile.tf sizes it): one Standard broker per zone in the
# first private subnets (standard: three kafka.m7g.large of 200 GiB; small: two kafka.t3.small of
# 20 GiB; msk_broker_* override the type and volumes), IAM client authentication on port 9098 like
# MSK Serverless, TLS between clients and brokers and between brokers, broker storage encrypted with
# the stack key, and its own server configuration. msk.tf reads its ARN into
# local.kafka_cluster_arn, so the IAM policies, the topic bootstrap and the mappings are the same as
# with Serverless (msk_cluster_type = "serverless", msk.tf).
#
# Why brokers in the standard profile too: at the seed's load three kafka.m7g.large brokers cost
# less than MSK Serverless's cluster-hour, partition-hour and per-GB charges (docs/COSTS.md,
# generated, prices Serverless under "Choices"). The price is the operator's: size and watch the brokers' disks
# (storage auto-scaling and a disk alarm per broker, below) and partitions (every broker holds a
# replica of every partition; MSK recommends at most 1000 per kafka.m7g.large broker and 300 per
# kafka.t3.small, replicas and internal topics included), and MSK patches the brokers one at a time.
#
# kafka.t3.small accepts IAM clients (MSK's quota page lists it, with at most 4 new IAM connections
# per second per broker against 100 for M5/M7g): a burst of cold starts may wait for a connection;
# the api then leaves its event to the outbox relay after KAFKA_PUBLISH_TIMEOUT_MS.

locals {
  msk_provisioned = local.msk && var.msk_cluster_type == "provisioned"

  # One broker per zone, the profile's number: MSK needs the broker count to be a multiple of the
  # client subnets, and the server properties below follow it.
  msk_broker_count = local.profile.msk_brokers

  # Every partition on every broker, and one replica fewer in sync: one broker may be away.
  msk_replication_factor  = min(local.msk_broker_count, 3)
  msk_min_insync_replicas = local.msk_replication_factor - 1

  # Server properties of the provisioned cluster, from the broker count:
  # - Three brokers (standard), one per zone: default.replication.factor = 3, min.insync.replicas
  #   = 2. Producers use acks=all (crates/kafka, bus.rs), which waits for every replica in sync,
  #   and never for fewer than two: a write is acknowledged by two zones at least, so losing a
  #   broker, its volume or its whole zone loses no acknowledged record. One broker can restart
  #   (MSK patches brokers one at a time) and writes go on, acknowledged by the other two.
  # - Two brokers (small): default.replication.factor = 2, every partition on both brokers, and
  #   min.insync.replicas = 1: acks=all then waits for every replica in sync, and with both
  #   brokers up that is both. With 2, any broker restart (MSK patches brokers one at a time)
  #   would stop every write; with 1, writes go on while one broker is away, acknowledged by the
  #   other alone. The price: a record acknowledged while only one copy was in sync is lost if
  #   that broker's volume is lost before the other catches up. MSK's EBS volumes are replicated
  #   within their zone, so that takes a volume failure, not a restart.
  # - kafka-topics creates the topics with KAFKA_TOPIC_REPLICATION = -1, the cluster's default,
  #   i.e. the replication factor above (lambda.tf).
  # - the internal topics (consumer offsets, transaction state) take the same replication and
  #   minimum in sync; Kafka's own default of 3 cannot be created on two brokers.
  # - unclean.leader.election.enable = false: a replica that fell behind never becomes leader, so
  #   acknowledged records are not silently dropped; a partition whose only in-sync replica is down
  #   waits for it (unavailable rather than lossy).
  # - auto.create.topics.enable = false: topics come from topics.json only (MSK's default too).
  msk_server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${local.msk_replication_factor}
    min.insync.replicas=${local.msk_min_insync_replicas}
    unclean.leader.election.enable=false
    offsets.topic.replication.factor=${local.msk_replication_factor}
    transaction.state.log.replication.factor=${local.msk_replication_factor}
    transaction.state.log.min.isr=${local.msk_min_insync_replicas}
  PROPERTIES
}

resource "aws_msk_configuration" "main" {
  count = local.msk_provisioned ? 1 : 0

  # Named after the profile: a small deployment keeps its configuration (a new name is a new one).
  name = "weelo-${var.environment}-${var.deployment_profile}"
  # A new description is a new revision, which MSK rolls out broker by broker: small's is unchanged.
  description       = "weelo ${var.environment}: ${local.msk_broker_count == 3 ? "three" : "two"} brokers, replication ${local.msk_replication_factor}, min in-sync ${local.msk_min_insync_replicas} (msk_provisioned.tf)"
  kafka_versions    = [var.msk_kafka_version]
  server_properties = local.msk_server_properties

  # A configuration in use cannot be deleted: a change makes a new one first.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_msk_cluster" "main" {
  count = local.msk_provisioned ? 1 : 0

  cluster_name           = "weelo-${var.environment}"
  kafka_version          = var.msk_kafka_version
  number_of_broker_nodes = local.msk_broker_count

  broker_node_group_info {
    instance_type   = local.msk_broker_instance_type
    client_subnets  = slice(aws_subnet.private[*].id, 0, local.msk_broker_count)
    security_groups = [aws_security_group.kafka.id]

    storage_info {
      ebs_storage_info {
        volume_size = local.msk_broker_volume_gb
      }
    }
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.main.arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.main[0].arn
    revision = aws_msk_configuration.main[0].latest_revision
  }

  # The DEFAULT level's broker and topic metrics are free; the higher levels are billed per metric.
  enhanced_monitoring = "DEFAULT"

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk_brokers[0].name
      }
    }
  }

  lifecycle {
    # Storage auto-scaling (below) grows the volumes; a plan must not shrink them back.
    ignore_changes = [broker_node_group_info[0].storage_info[0].ebs_storage_info[0].volume_size]

    # One broker per zone (client_subnets above): three brokers need three private subnets.
    precondition {
      condition     = local.az_count >= local.msk_broker_count
      error_message = "the ${var.deployment_profile} profile's ${local.msk_broker_count} MSK brokers need one zone each, so az_count = ${local.msk_broker_count} (az_count is ${local.az_count}); leave az_count null (the profile's) or set msk_cluster_type = \"serverless\"."
    }
  }
}

resource "aws_cloudwatch_log_group" "msk_brokers" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (profile default 30 days in standard, 7 in small, for cost); set 365 where compliance asks for a year.
  count = local.msk_provisioned ? 1 : 0

  name              = "/weelo/${var.environment}/msk-brokers"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# Storage grows by itself (by 10 GiB or 10 %, whichever is more, at most once every six hours)
# when a broker's disk passes 60 % used, up to msk_broker_volume_max_gb (standard 4000 GiB, small
# 100); it never shrinks. Every topic keeps 7 days, and with as many replicas as brokers each broker
# holds all of it.
resource "aws_appautoscaling_target" "msk_storage" {
  count = local.msk_provisioned ? 1 : 0

  service_namespace  = "kafka"
  scalable_dimension = "kafka:broker-storage:VolumeSize"
  resource_id        = aws_msk_cluster.main[0].arn
  min_capacity       = 1
  max_capacity       = local.msk_broker_volume_max_gb

  lifecycle {
    precondition {
      condition     = local.msk_broker_volume_max_gb >= local.msk_broker_volume_gb
      error_message = "msk_broker_volume_max_gb (${local.msk_broker_volume_max_gb} GiB) must be at least msk_broker_volume_gb (${local.msk_broker_volume_gb} GiB), the profile's unless set."
    }
  }
}

resource "aws_appautoscaling_policy" "msk_storage" {
  count = local.msk_provisioned ? 1 : 0

  name               = "weelo-${var.environment}-msk-storage"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.msk_storage[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.msk_storage[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.msk_storage[0].resource_id

  target_tracking_scaling_policy_configuration {
    target_value     = 60
    disable_scale_in = true
    predefined_metric_specification {
      predefined_metric_type = "KafkaBrokerStorageUtilization"
    }
  }
}

# A backstop to the auto-scaling: a broker whose data volume is 85 % full (the ceiling reached, or
# growth faster than one step per six hours). A full volume stops the broker.
resource "aws_cloudwatch_metric_alarm" "msk_disk_used" {
  for_each = local.msk_provisioned ? toset([for b in range(local.msk_broker_count) : tostring(b + 1)]) : toset([])

  alarm_name          = "${local.name_prefix}msk-broker-${each.key}-disk-used"
  alarm_description   = "MSK broker ${each.key}: data volume above 85 % (auto-scaling stops at msk_broker_volume_max_gb)."
  namespace           = "AWS/Kafka"
  metric_name         = "KafkaDataLogsDiskUsed"
  dimensions          = { "Cluster Name" = aws_msk_cluster.main[0].cluster_name, "Broker ID" = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 85
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
