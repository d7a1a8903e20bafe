# The deployment profile (var.deployment_profile): one variable that chooses between today's stack
# ("standard") and a small deployment whose idle floor is lower ("small"). What changes, and only
# this (docs/COSTS.md, generated, prices both; docs/deploy.md, section 11, explains it):
#
# - Kafka: an MSK provisioned cluster in both (msk_provisioned.tf), sized by the profile: standard
#   three kafka.m7g.large brokers of 200 GiB (growing to 4000) in three zones, replication 3 and
#   min in-sync 2; small two kafka.t3.small brokers of 20 GiB (growing to 100) in two zones,
#   replication 2 and min in-sync 1. At the seed's load the three brokers cost less than MSK
#   Serverless's cluster-hour, partition-hour and per-GB charges (docs/COSTS.md,
#   generated); the price is that the operator sizes and watches the brokers' disks and
#   partitions. msk_cluster_type = "serverless" runs MSK Serverless instead, in either profile
#   (msk.tf). Everything that names the cluster reads local.kafka_cluster_arn (msk.tf): the
#   bootstrap brokers, the IAM cluster/topic/group ARNs, the topic bootstrap, the mappings.
# - Zones: three in standard (a broker in each), two in small. az_count, when set, overrides either;
#   a provisioned cluster needs a zone per broker (a precondition in msk_provisioned.tf).
# - Event pollers: standard puts every mapping in provisioned mode, in poller groups
#   (provisioned_poller_config.poller_group_name), where they share Event Poller Units (EPUs, 10
#   pollers each by default) instead of taking one EPU each: two groups, the mapping's pollerGroup
#   in event-source-mappings.json (live: order-fanout, fcm-consumer, location-consumer and
#   live-tracking, the paths someone waits on; records: audit-consumer and analytics, which nobody
#   waits for), each mapping with the pollers that file gives it: 16 mappings, 2 EPUs while idle
#   instead of 16 ungrouped (3 with a group per path, 6 with a group per function). A replay or a
#   backlog of the records reads at full speed and can crowd only the records' group, never a
#   booking's way to the phones or the GPS stream. Provisioned mode gives
#   the retries, bisection and partial batch responses (ReportBatchItemFailures) of "Configuring
#   error handling controls for Kafka event sources" (Lambda guide), which exist in that mode only.
#   Small puts every mapping in on-demand mode, which bills no pollers (2 EPUs, $270 a month, were
#   most of small's idle floor): Lambda scales the pollers itself, reads no partial batch
#   response, and delivers a batch again, whole and without limit, while the function answers it
#   with an error, until its records leave the topic (7 days). So the consumers are told
#   (KAFKA_FAILURE_REPORTING = "function-error", lambda.tf) to answer a failed record with an
#   error: an answer naming it would be read as success and the record lost. Redelivered records
#   change nothing (every consumer is idempotent). What small gives up: a record that always fails
#   is never set aside, it stops its partition (the function's Errors and OffsetLag alarms fire)
#   until a fix is deployed or the record is skipped (docs/operations.md, "A partition that does
#   not move"); a new mapping starts polling without the minimum of pollers; and a burst waits for
#   Lambda's own scaling (a minute or more) instead of a floor of pollers.
# - Interface endpoints: the same three (every one has a caller that cannot reach its service
#   otherwise, network.tf), but in small with one network interface, in the first subnet, instead
#   of one per zone (local.endpoint_subnets).
# - Logs: 7 days instead of 30 unless log_retention_days says otherwise.
# - DynamoDB: standard gives the tables written all day at a slowly moving rate ("steadyLoad" in
#   tables.json: positions, geo-cells, location-history, push-log; local.steady_tables, dynamodb.tf)
#   provisioned capacity with auto scaling (autoscaling.tf, steady_table_capacity) and alarms on
#   their throttling (alarms.tf); small keeps every table on-demand, with no scaling or throttle
#   alarm. Every other table is on-demand in both.
#
# Not changed, on purpose: the application log level. The functions' metrics are EMF lines without
# a "level" field, which Lambda's log-level filtering files as INFO, so WARN would drop every metric
# and silence the alarms built on them (variables.tf, log_level). The functions' environment: the
# same variable names in both profiles, only values differ (KAFKA_BOOTSTRAP_SERVERS).

locals {
  small = var.deployment_profile == "small"

  profiles = {
    standard = {
      # Event-source mappings: provisioned (poller groups, partial batch responses) or on-demand.
      mapping_mode       = "provisioned"
      log_retention_days = 30
      # Zones (a private subnet each) and the provisioned cluster: a broker per zone, its type,
      # its volume (GiB) and the ceiling storage auto-scaling grows it to.
      az_count                 = 3
      msk_brokers              = 3
      msk_broker_instance_type = "kafka.m7g.large"
      msk_broker_volume_gb     = 200
      msk_broker_volume_max_gb = 4000
      # null: one endpoint network interface in each private subnet (local.az_count; it cannot be
      # named here, local.az_count reads this map).
      endpoint_subnets = null
    }
    small = {
      mapping_mode             = "on-demand"
      log_retention_days       = 7
      az_count                 = 2
      msk_brokers              = 2
      msk_broker_instance_type = "kafka.t3.small"
      msk_broker_volume_gb     = 20
      msk_broker_volume_max_gb = 100
      endpoint_subnets         = 1
    }
  }
  profile = local.profiles[var.deployment_profile]

  # The profile's sizes, unless a variable of the same name (null by default) says otherwise. Every
  # .tf file reads these locals, never the variables.
  az_count                 = coalesce(var.az_count, local.profile.az_count)
  msk_broker_instance_type = coalesce(var.msk_broker_instance_type, local.profile.msk_broker_instance_type)
  msk_broker_volume_gb     = coalesce(var.msk_broker_volume_gb, local.profile.msk_broker_volume_gb)
  msk_broker_volume_max_gb = coalesce(var.msk_broker_volume_max_gb, local.profile.msk_broker_volume_max_gb)
  endpoint_subnets         = coalesce(local.profile.endpoint_subnets, local.az_count)

  provisioned_mappings = local.profile.mapping_mode == "provisioned"
  # What every consumer is told (weelo_msk::FailureReporting): how its mappings read a failure.
  failure_reporting = local.provisioned_mappings ? "partial-batch" : "function-error"

  log_retention_days = coalesce(var.log_retention_days, local.profile.log_retention_days)

  # Each mapping's poller group (esm.tf; standard only, small's mappings are on demand): the group
  # its definition names (pollerGroup in event-source-mappings.json): live (order-fanout and
  # fcm-consumer, a booking's way to the phones; location-consumer and live-tracking, the GPS
  # stream) and records (audit-consumer and analytics, which nobody waits for). The records'
  # replays and catch-ups cannot take the live paths' EPUs. The live paths share theirs: one EPU
  # carries 20 MB/s, and the seed's GPS stream is about 0.15 MB/s a consumer (10× the seed, 1.5),
  # so a GPS surge adds pollers, and past 10 pollers an EPU, long before it could crowd a booking's
  # mappings (docs/deploy.md, section 11). A group is scoped to the event source's VPC, and each
  # stack has its own VPC; the name says which stack and which group the pollers serve. AWS allows
  # up to 100 mappings per group and 2000 maximum pollers over a group's mappings
  # (https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html): today's
  # largest group has 9 mappings and at most 56 pollers.
  poller_groups = {
    for key, m in local.mappings :
    key => "weelo-${var.environment}-${m.pollerGroup}"
  }
}
