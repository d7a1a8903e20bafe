# The deployment profile (var.deployment_profile): one variable that chooses between today's stack
# ("standard") and a small deployment whose idle floor is lower ("small"). What changes, and only
# this (docs/deploy.md, section 11, prices every line):
#
# - Kafka: MSK Serverless (standard) or an MSK provisioned cluster of two small brokers (small,
#   msk_provisioned.tf). Everything that names the cluster reads local.kafka_cluster_arn (msk.tf):
#   the bootstrap brokers, the IAM cluster/topic/group ARNs, the topic bootstrap, the mappings.
# - Event pollers: standard gives each mapping its own provisioned pollers, as
#   event-source-mappings.json says. Small puts every mapping in one poller group
#   (provisioned_poller_config.poller_group_name), so they share Event Poller Units instead of one
#   EPU each, with min 1 and at most small_max_pollers per mapping. Provisioned mode itself is kept:
#   the retries, bisection and partial batch responses (ReportBatchItemFailures) that every
#   consumer relies on exist for Kafka mappings in provisioned mode only (Lambda guide,
#   "Configuring error handling controls for Kafka event sources"), and the consumers answer a
#   failed record with a partial batch response, which an on-demand mapping would read as success.
# - Interface endpoints: the same three (every one has a caller that cannot reach its service
#   otherwise, network.tf), but in small with one network interface, in the first subnet, instead
#   of one per zone.
# - Logs: 7 days instead of 30 unless log_retention_days says otherwise.
#
# Not changed, on purpose: the application log level. The functions' metrics are EMF lines without
# a "level" field, which Lambda's log-level filtering files as INFO, so WARN would drop every metric
# and silence the alarms built on them (variables.tf, log_level). The functions' environment: the
# same variable names in both profiles, only values differ (KAFKA_BOOTSTRAP_SERVERS).

locals {
  small = var.deployment_profile == "small"

  profiles = {
    standard = {
      log_retention_days = 30
      # One endpoint network interface in each private subnet.
      endpoint_subnets = var.az_count
    }
    small = {
      log_retention_days = 7
      endpoint_subnets   = 1
    }
  }
  profile = local.profiles[var.deployment_profile]

  log_retention_days = coalesce(var.log_retention_days, local.profile.log_retention_days)

  # Small: every mapping in this poller group (esm.tf). A group is scoped to the event source's VPC,
  # and each stack has its own VPC; the name says which stack the pollers serve.
  poller_group = local.small ? "weelo-${var.environment}" : null
}
