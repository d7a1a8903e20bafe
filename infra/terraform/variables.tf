# Inputs of the deployment. Everything a user must choose is here; the rest comes from
# infra/definitions/*.json and docs/openapi.yaml so that local and AWS cannot drift apart.

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "ap-south-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like ap-south-1."
  }
}

variable "environment" {
  description = "Deployment name, used as the resource name prefix (weelo-<environment>-...)."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "artifacts_dir" {
  description = "Folder holding <function>/bootstrap.zip as written by infra/build-zips.sh (relative to infra/terraform or absolute)."
  type        = string
  default     = "../../target/lambda"

  validation {
    condition     = length(trimspace(var.artifacts_dir)) > 0
    error_message = "artifacts_dir must not be empty."
  }
}

# --- Kafka -------------------------------------------------------------------------------------

variable "kafka_mode" {
  description = "\"msk\": Amazon MSK with IAM auth (AWS): a provisioned cluster sized by the deployment_profile, or MSK Serverless (msk_cluster_type). \"self_managed\": no MSK; the mappings and functions use self_managed_bootstrap_servers in plaintext (LocalStack + Redpanda)."
  type        = string
  default     = "msk"

  validation {
    condition     = contains(["msk", "self_managed"], var.kafka_mode)
    error_message = "kafka_mode must be \"msk\" or \"self_managed\"."
  }
}

variable "msk_cluster_type" {
  description = "Only with kafka_mode = \"msk\". \"provisioned\" (default): an MSK provisioned cluster sized by the deployment_profile (standard: three kafka.m7g.large brokers of 200 GiB in three zones, replication 3, min in-sync 2; small: two kafka.t3.small brokers of 20 GiB, replication 2, min in-sync 1; msk_broker_* override the type and volumes, msk_provisioned.tf); the operator sizes and watches the brokers' disks and partitions. \"serverless\": MSK Serverless in every private subnet; no broker to size or patch, but it costs more: it bills every cluster-hour, partition-hour and GB in and out (docs/COSTS.md prices both). Switching an existing stack replaces the cluster (new, empty topics)."
  type        = string
  default     = "provisioned"

  validation {
    condition     = contains(["provisioned", "serverless"], var.msk_cluster_type)
    error_message = "msk_cluster_type must be \"provisioned\" or \"serverless\"."
  }
}

variable "self_managed_bootstrap_servers" {
  description = "Comma-separated host:port list of a plaintext Kafka (e.g. Redpanda); used only when kafka_mode = \"self_managed\"."
  type        = string
  default     = ""

  validation {
    condition     = var.kafka_mode != "self_managed" || can(regex("^[A-Za-z0-9.-]+:[0-9]+(,[A-Za-z0-9.-]+:[0-9]+)*$", var.self_managed_bootstrap_servers))
    error_message = "with kafka_mode = \"self_managed\", self_managed_bootstrap_servers must be host:port[,host:port...]."
  }
}

variable "kafka_publish_timeout_ms" {
  description = "KAFKA_PUBLISH_TIMEOUT_MS: how long a publish may take before the api leaves the event to the outbox relay."
  type        = number
  default     = 2000

  validation {
    condition     = var.kafka_publish_timeout_ms >= 100 && var.kafka_publish_timeout_ms <= 10000
    error_message = "kafka_publish_timeout_ms must be 100-10000 (the api must still answer well inside the API Gateway 30 s limit)."
  }
}

# --- Deployment profile (profile.tf) ----------------------------------------------------------

variable "deployment_profile" {
  description = "\"standard\": MSK provisioned with three kafka.m7g.large brokers in three zones (az_count 3; MSK Serverless with msk_cluster_type), the mappings in provisioned mode in two poller groups (live paths, records), interface endpoints in every zone, 30-day logs, the tables with \"steadyLoad\" provisioned with auto scaling (steady_table_capacity). \"small\": MSK provisioned with two kafka.t3.small brokers in two zones (az_count 2), every mapping in on-demand mode (no pollers billed; the consumers answer a failure with an error), one endpoint network interface per service, 7-day logs, every table on-demand; the idle floor and what it gives up are in docs/deploy.md, section 11."
  type        = string
  default     = "standard"

  validation {
    condition     = contains(["standard", "small"], var.deployment_profile)
    error_message = "deployment_profile must be \"standard\" or \"small\"."
  }
}

variable "msk_broker_instance_type" {
  description = "Broker type of the MSK provisioned cluster (msk_cluster_type = \"provisioned\"). null: the deployment profile's (standard kafka.m7g.large, three brokers; small kafka.t3.small, two brokers; profile.tf). kafka.t3.small is the smallest MSK offers and supports IAM client authentication, but accepts at most 4 new IAM connections per second per broker (MSK quota; 100 for M5/M7g)."
  type        = string
  default     = null

  validation {
    condition     = var.msk_broker_instance_type == null ? true : can(regex("^kafka\\.(t3|m5|m7g)\\.[0-9a-z]+$", var.msk_broker_instance_type))
    error_message = "msk_broker_instance_type must be a Standard broker type (kafka.t3.small, kafka.m5.*, kafka.m7g.*)."
  }
}

variable "msk_kafka_version" {
  description = "Apache Kafka version of the MSK provisioned cluster, in both profiles (ZooKeeper mode; MSK's recommended version when this was written). IAM client authentication for non-Java clients (librdkafka here) needs 2.7.1 or later."
  type        = string
  default     = "3.8.x"

  validation {
    condition     = can(regex("^[3-9]\\.[0-9]+\\.(x|[0-9]+)$", var.msk_kafka_version))
    error_message = "msk_kafka_version must be an MSK version string of 3.0 or later, e.g. 3.8.x."
  }
}

variable "msk_broker_volume_gb" {
  description = "EBS storage per broker (GiB) the MSK provisioned cluster starts with. null: the deployment profile's (standard 200, small 20; profile.tf). Storage auto-scaling (msk_provisioned.tf) grows it up to msk_broker_volume_max_gb; MSK never shrinks it."
  type        = number
  default     = null

  validation {
    condition     = var.msk_broker_volume_gb == null ? true : var.msk_broker_volume_gb >= 1 && var.msk_broker_volume_gb <= 16384 && floor(var.msk_broker_volume_gb) == var.msk_broker_volume_gb
    error_message = "msk_broker_volume_gb must be a whole number of GiB, 1-16384."
  }
}

variable "msk_broker_volume_max_gb" {
  description = "Ceiling (GiB per broker) of the MSK provisioned cluster's storage auto-scaling. null: the deployment profile's (standard 4000, small 100; profile.tf). Every topic keeps 7 days and each broker holds a copy of every partition (replication = brokers), so size it from the week's traffic (docs/deploy.md, section 11)."
  type        = number
  default     = null

  # At least msk_broker_volume_gb: checked here when both are set, against the profile's volume by
  # a precondition on the storage scaling target (msk_provisioned.tf).
  validation {
    condition     = var.msk_broker_volume_max_gb == null ? true : var.msk_broker_volume_max_gb >= coalesce(var.msk_broker_volume_gb, 1) && var.msk_broker_volume_max_gb <= 16384 && floor(var.msk_broker_volume_max_gb) == var.msk_broker_volume_max_gb
    error_message = "msk_broker_volume_max_gb must be a whole number of GiB, at least msk_broker_volume_gb and at most 16384."
  }
}

variable "steady_table_capacity" {
  description = "Standard profile only (the small profile keeps every table on-demand): the provisioned capacity of the tables written all day at a slowly moving rate (\"steadyLoad\" in tables.json: positions, geo-cells, location-history, push-log; dynamodb.tf), each on its own. Application Auto Scaling (autoscaling.tf) keeps each table's consumed read and write capacity near target_utilization_percent of its provisioned capacity, between min_read and max_read read units and between min_write and max_write write units; a new table starts at the minimums, which are billed every hour even when idle. Why provisioned capacity costs less than on-demand for this load: docs/deploy.md, section 11."
  type = object({
    min_read                   = optional(number, 5)
    max_read                   = optional(number, 4000)
    min_write                  = optional(number, 5)
    max_write                  = optional(number, 40000)
    target_utilization_percent = optional(number, 70)
  })
  default  = {}
  nullable = false

  validation {
    condition = (
      var.steady_table_capacity.min_read >= 1 && var.steady_table_capacity.max_read >= var.steady_table_capacity.min_read
      && var.steady_table_capacity.min_write >= 1 && var.steady_table_capacity.max_write >= var.steady_table_capacity.min_write
      && alltrue([for v in [var.steady_table_capacity.min_read, var.steady_table_capacity.max_read, var.steady_table_capacity.min_write, var.steady_table_capacity.max_write] : floor(v) == v])
      && var.steady_table_capacity.target_utilization_percent >= 20 && var.steady_table_capacity.target_utilization_percent <= 90
    )
    error_message = "steady_table_capacity: min_read and min_write must be at least 1, max_read and max_write at least their minimum (all whole capacity units), and target_utilization_percent 20-90."
  }
}

# --- Network -----------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR of the VPC that holds MSK, the functions and the VPC endpoints."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR of /20 or larger."
  }
}

variable "az_count" {
  description = "Availability zones (one private subnet each). null: the deployment profile's (standard 3, small 2; profile.tf). MSK needs at least 2; the provisioned cluster puts one broker in each of the first zones (standard: three brokers, so 3 zones; small: two), MSK Serverless uses every zone."
  type        = number
  default     = null

  validation {
    condition     = var.az_count == null ? true : var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "nat_gateway" {
  description = "Add a public subnet and one NAT gateway for internet egress. Off by default: every dependency is reached through VPC endpoints (see network.tf); turn on only if a dependency outside AWS appears, or if the api cannot load Cognito's JWKS through the cognito-idp endpoint (true also removes that endpoint, so the JWKS is fetched through the NAT)."
  type        = bool
  default     = false
}

# --- FCM ---------------------------------------------------------------------------------------

variable "fcm_service_account_secret_arn" {
  description = "ARN (or name) of a Secrets Manager secret whose string is the Firebase service-account JSON (FCM HTTP v1). Preferred over fcm_service_account_json. Exactly one of the two must be set."
  type        = string
  default     = null

  validation {
    condition     = (var.fcm_service_account_secret_arn == null) != (var.fcm_service_account_json == null)
    error_message = "set exactly one of fcm_service_account_secret_arn and fcm_service_account_json."
  }
}

variable "fcm_service_account_json" {
  description = "The Firebase service-account JSON itself (FCM HTTP v1), e.g. from TF_VAR_fcm_service_account_json. Never commit it; prefer fcm_service_account_secret_arn."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.fcm_service_account_json == null || can(jsondecode(var.fcm_service_account_json).private_key)
    error_message = "fcm_service_account_json must be a service-account JSON document (with a private_key field)."
  }
}

# --- Functions ---------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of the functions', API access, VPC flow and (MSK provisioned) broker log groups. null: the deployment profile's (standard 30 days, small 7 days; profile.tf)."
  type        = number
  default     = null

  validation {
    condition     = var.log_retention_days == null || contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "access_log_class" {
  description = "Log class of the HTTP and WebSocket APIs' access-log groups. INFREQUENT_ACCESS (default) ingests at half the Standard price and keeps KMS, retention and Logs Insights (all but pattern, diff, filterIndex, unmask); it has no metric or subscription filters, Live Tail or GetLogEvents, none of which this stack uses on them. CloudWatch cannot change a group's class: changing this replaces both groups and drops the access logs they hold."
  type        = string
  default     = "INFREQUENT_ACCESS"

  validation {
    condition     = contains(["STANDARD", "INFREQUENT_ACCESS"], var.access_log_class)
    error_message = "access_log_class must be STANDARD or INFREQUENT_ACCESS."
  }
}

variable "log_level" {
  description = "Application log level of the functions (Lambda sets AWS_LAMBDA_LOG_LEVEL from it). At most INFO: the functions' metrics are EMF log lines without a level, which Lambda files as INFO, so WARN or above would drop every metric and silence the alarms on them (alarms.tf)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO"], var.log_level)
    error_message = "log_level must be TRACE, DEBUG or INFO (WARN and above would filter out the EMF metric lines, which Lambda files as INFO)."
  }
}

variable "function_memory_mb" {
  description = "Memory per function, overriding the defaults of infra/definitions/functions.json (keys: api, gps-ingest, outbox-relay, deadline-sweeper, order-fanout, fcm-consumer, location-consumer, live-socket, live-tracking, audit-consumer, analytics, kafka-topics)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for m in values(var.function_memory_mb) : m >= 128 && m <= 10240])
    error_message = "function memory must be 128-10240 MB."
  }
}

variable "function_reserved_concurrency" {
  description = "Reserved concurrency per function (keys as function_memory_mb); unlisted functions share the account's unreserved pool. gps-ingest's (default 100) is what caps a flood of GPS requests to its public function URL, which has no API Gateway throttling in front, and keeps it from taking the other functions' concurrency (docs/deploy.md, step 4). Lambda keeps at least 100 of the account's limit unreserved, so the default needs a limit of 200 or more: lower it, or ask for a higher limit, in an account with less."
  type        = map(number)
  default     = { gps-ingest = 100 }

  validation {
    condition     = alltrue([for c in values(var.function_reserved_concurrency) : c >= 0 && floor(c) == c])
    error_message = "reserved concurrency is a whole number, 0 (the function is never invoked) or more."
  }
}

variable "outbox_relay_schedule" {
  description = "EventBridge schedule of the outbox relay (it only publishes what the api could not)."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.outbox_relay_schedule))
    error_message = "outbox_relay_schedule must be an EventBridge rate(...) or cron(...) expression."
  }
}

variable "outbox_relay_publish_timeout_ms" {
  description = "The outbox relay's KAFKA_PUBLISH_TIMEOUT_MS. Nobody waits on the relay, and a publish that times out after the broker stored it is published again by the next run, so it waits longer than the api."
  type        = number
  default     = 10000

  validation {
    condition     = var.outbox_relay_publish_timeout_ms >= 100 && var.outbox_relay_publish_timeout_ms <= 30000
    error_message = "outbox_relay_publish_timeout_ms must be 100-30000 (a run that fails publishes one page and stops, well inside the relay's 60 s timeout)."
  }
}

variable "outbox_relay_grace_secs" {
  description = "OUTBOX_RELAY_GRACE_SECS: the relay leaves events younger than this to the api."
  type        = number
  default     = 10

  validation {
    condition     = var.outbox_relay_grace_secs >= 1 && var.outbox_relay_grace_secs <= 300
    error_message = "outbox_relay_grace_secs must be 1-300."
  }
}

variable "deadline_sweeper_schedule" {
  description = "EventBridge schedule of the deadline sweeper. Each run sweeps every deadline_sweep_every_secs for deadline_sweep_for_secs, so a deadline is met within deadline_sweep_every_secs although EventBridge fires at most once a minute."
  type        = string
  default     = "rate(1 minute)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.deadline_sweeper_schedule))
    error_message = "deadline_sweeper_schedule must be an EventBridge rate(...) or cron(...) expression."
  }
}

variable "deadline_sweep_every_secs" {
  description = "DEADLINE_SWEEP_EVERY_SECS: the deadline sweeper's interval between sweeps within one run, i.e. how late a deadline may fire."
  type        = number
  default     = 10

  validation {
    condition     = var.deadline_sweep_every_secs >= 1 && var.deadline_sweep_every_secs <= 60 && floor(var.deadline_sweep_every_secs) == var.deadline_sweep_every_secs
    error_message = "deadline_sweep_every_secs must be a whole number of seconds, 1-60."
  }
}

variable "deadline_sweep_for_secs" {
  description = "DEADLINE_SWEEP_FOR_SECS: how long one deadline-sweeper run keeps sweeping (0: once). Keep it under the schedule's interval, so runs do not pile up, and well under the function's timeout (90 s, infra/definitions/functions.json), which must also cover the last sweep."
  type        = number
  default     = 50

  validation {
    condition     = var.deadline_sweep_for_secs >= 0 && var.deadline_sweep_for_secs <= 60 && floor(var.deadline_sweep_for_secs) == var.deadline_sweep_for_secs
    error_message = "deadline_sweep_for_secs must be a whole number of seconds, 0-60 (a run lasts about that long plus one sweep, inside the 90 s timeout)."
  }
}

variable "cursor_key" {
  description = "CURSOR_KEY of the api: the secret list cursors are sealed with (HMAC-SHA256), base64 of at least 32 random bytes, e.g. `export TF_VAR_cursor_key=$(openssl rand -base64 32)`. Never commit it. Changing it makes the cursors clients hold answer 400 once (they list from the first page again)."
  type        = string
  sensitive   = true

  validation {
    condition     = can(base64decode(var.cursor_key)) && length(var.cursor_key) >= 44
    error_message = "cursor_key must be base64 of at least 32 bytes (openssl rand -base64 32)."
  }
}

variable "offer_window_secs" {
  description = "OFFER_WINDOW_SECS of api, order-fanout and deadline-sweeper: how long each search round of a booking lasts before it is widened, then expired."
  type        = number
  default     = 120

  validation {
    condition     = var.offer_window_secs >= 10 && var.offer_window_secs <= 3600 && floor(var.offer_window_secs) == var.offer_window_secs
    error_message = "offer_window_secs must be a whole number of seconds, 10-3600 (deadlines are swept every few seconds, so shorter windows would not be kept)."
  }
}

variable "schedule_lead_secs" {
  description = "SCHEDULE_LEAD_SECS of api, order-fanout and deadline-sweeper: how long before its scheduledAt a scheduled booking is offered."
  type        = number
  default     = 1800

  validation {
    condition     = var.schedule_lead_secs >= 0 && var.schedule_lead_secs <= 86400 && floor(var.schedule_lead_secs) == var.schedule_lead_secs
    error_message = "schedule_lead_secs must be a whole number of seconds, 0-86400."
  }
}

variable "share_link_hours" {
  description = "SHARE_LINK_HOURS of the api: how long a shared tracking link (POST /v1/bookings/{bookingId}/share) works while its trip goes on; it stops earlier when revoked or when the trip ends."
  type        = number
  default     = 12

  validation {
    condition     = var.share_link_hours >= 1 && var.share_link_hours <= 72 && floor(var.share_link_hours) == var.share_link_hours
    error_message = "share_link_hours must be a whole number of hours, 1-72 (the api refuses anything else at start)."
  }
}

variable "geo_index_refresh_secs" {
  description = "location-consumer: how often (seconds) a transporter who stays in one H3 cell has its geo-index entry rewritten (GEO_INDEX_REFRESH_SECS); 0 rewrites it with every GPS point. Must stay well under matching.max_position_age_secs."
  type        = number
  default     = 60

  validation {
    condition     = var.geo_index_refresh_secs >= 0 && var.geo_index_refresh_secs <= 300
    error_message = "geo_index_refresh_secs must be between 0 and 300."
  }
}

variable "matching" {
  description = "Matching tuning of order-fanout (MATCH_*, ORDER_CANDIDATES_PER_TRUCK) and the H3 resolution shared with location-consumer (GEO_H3_RESOLUTION). wider_rings (MATCH_WIDER_RINGS): how many rings beyond max_rings a booking's wider search reads, when its first search got no accept in time."
  type = object({
    max_candidates             = optional(number, 1000)
    max_rings                  = optional(number, 10)
    wider_rings                = optional(number, 5)
    max_position_age_secs      = optional(number, 900)
    order_candidates_per_truck = optional(number, 20)
    h3_resolution              = optional(number, 7)
  })
  default = {}

  validation {
    condition = (
      var.matching.max_candidates >= 1 && var.matching.max_rings >= 0 && var.matching.wider_rings >= 0 && var.matching.max_position_age_secs >= 1
      && var.matching.order_candidates_per_truck >= 1 && var.matching.h3_resolution >= 0 && var.matching.h3_resolution <= 15
    )
    error_message = "matching values must be positive and h3_resolution 0-15."
  }
}

# --- Edge --------------------------------------------------------------------------------------

variable "api_throttle_rate_limit" {
  description = "Default steady-state requests per second of the HTTP API stage (all routes)."
  type        = number
  default     = 1000

  validation {
    condition     = var.api_throttle_rate_limit > 0
    error_message = "api_throttle_rate_limit must be positive."
  }
}

variable "api_throttle_burst_limit" {
  description = "Default burst of the HTTP API stage."
  type        = number
  default     = 2000

  validation {
    condition     = var.api_throttle_burst_limit > 0
    error_message = "api_throttle_burst_limit must be positive."
  }
}

variable "live_throttle_rate_limit" {
  description = "Default steady-state rate (connects and messages per second) of the live-tracking WebSocket stage (websocket.tf); the account's own WebSocket quotas (e.g. 500 new connections per second per region) still apply."
  type        = number
  default     = 1000

  validation {
    condition     = var.live_throttle_rate_limit > 0
    error_message = "live_throttle_rate_limit must be positive."
  }
}

variable "live_throttle_burst_limit" {
  description = "Default burst of the live-tracking WebSocket stage."
  type        = number
  default     = 500

  validation {
    condition     = var.live_throttle_burst_limit > 0 && floor(var.live_throttle_burst_limit) == var.live_throttle_burst_limit
    error_message = "live_throttle_burst_limit must be a positive whole number."
  }
}

variable "manage_api_gateway_account" {
  description = "Set this region's API Gateway account setting (one per account and region) to a CloudWatch Logs role this stack creates: a WebSocket stage's access log is refused without one (websocket.tf). false when something else already sets it in this account and region (another environment of this stack, an organisation baseline); destroying the stack with true clears the setting for every API in the region."
  type        = bool
  default     = true
}

variable "cors_allowed_origins" {
  description = "Origins allowed by CORS. Empty (default): no CORS, since the clients are native apps; set it only if a web view or web app calls the API from a browser."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https://", o))])
    error_message = "cors_allowed_origins must be https:// origins."
  }
}

variable "table_deletion_protection" {
  description = "Deletion protection of the DynamoDB tables and the Cognito user pool; false also lets `destroy` empty the audit bucket, locked objects included. Keep true in AWS; false only for throwaway stacks (LocalStack)."
  type        = bool
  default     = true
}

# --- Users (sns_cognito.tf) ---------------------------------------------------------------------

variable "cognito_user_pool_tier" {
  description = "The user pool's feature plan (user_pool_tier), billed per monthly active user above the free 10,000: LITE (from $0.0055), ESSENTIALS ($0.015, AWS's default for new pools) or PLUS. LITE has everything this stack uses (ID tokens with custom:role, SRP and admin password sign-in, token revocation); ESSENTIALS is needed for access-token customisation (a V2 pre token generation trigger), email MFA, password history or managed login, PLUS for threat protection and log export. Changed in place, no new pool."
  type        = string
  default     = "LITE"

  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.cognito_user_pool_tier)
    error_message = "cognito_user_pool_tier must be \"LITE\", \"ESSENTIALS\" or \"PLUS\"."
  }
}

# --- Audit archive -----------------------------------------------------------------------------

variable "audit_retention_days" {
  description = "Object Lock (GOVERNANCE) default retention of the audit archive, in days: no archived record can be deleted or overwritten before it without s3:BypassGovernanceRetention. Default 2555 = 7 years. Raising it applies to objects written afterwards only."
  type        = number
  default     = 2555

  validation {
    condition     = var.audit_retention_days >= 1 && var.audit_retention_days <= 36500 && floor(var.audit_retention_days) == var.audit_retention_days
    error_message = "audit_retention_days must be a whole number of days between 1 and 36500 (S3's 100-year maximum)."
  }
}

variable "audit_glacier_ir_after_days" {
  description = "Days after which audit archive objects (128 KB and larger) move from S3 Standard to Glacier Instant Retrieval: about 1/6 of the storage price and still read at once, but reads are charged per GB and each object is billed for at least 90 days."
  type        = number
  default     = 30

  validation {
    condition     = var.audit_glacier_ir_after_days >= 1 && floor(var.audit_glacier_ir_after_days) == var.audit_glacier_ir_after_days
    error_message = "audit_glacier_ir_after_days must be a whole number of days, at least 1."
  }
}

# --- Alarms ------------------------------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail subscribed to the alarm topic (confirm the subscription mail). null: subscribe something else to the alarm_topic_arn output."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address."
  }
}

variable "alarm_offset_lag_records" {
  description = "Alarm when a consumer function's maximum OffsetLag stays above this many records for 15 minutes."
  type        = number
  default     = 50000

  validation {
    condition     = var.alarm_offset_lag_records > 0
    error_message = "alarm_offset_lag_records must be positive."
  }
}

variable "alarm_api_p99_latency_ms" {
  description = "Alarm when the API's p99 latency stays above this for 15 minutes."
  type        = number
  default     = 1500

  validation {
    condition     = var.alarm_api_p99_latency_ms > 0
    error_message = "alarm_api_p99_latency_ms must be positive."
  }
}

variable "alarm_push_failure_rate_percent" {
  description = "Alarm when more than this percentage of fcm-consumer's SNS pushes fail in each of three consecutive 5-minute windows (windows with fewer than 20 pushes are not judged). Pushes to disabled endpoints (uninstalled apps) count as failures, hence not 0."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_push_failure_rate_percent > 0 && var.alarm_push_failure_rate_percent < 100
    error_message = "alarm_push_failure_rate_percent must be between 0 and 100 (exclusive)."
  }
}

# --- Analytics (analytics.tf, dashboard.tf) ----------------------------------------------------

variable "analytics_cities" {
  description = "ANALYTICS_CITIES of the analytics function: the cities its City dimension tells apart, as name:lat,lng,radiusKm separated by ';' (at most 10; a pickup in none of them counts as \"other\"; empty: every pickup is \"other\"). Names as the code accepts them: 1-40 letters, digits, spaces, - or _. Each city adds 10 metric series, about $3 a month (README.md, \"Analytics\")."
  type        = string
  default     = "Mumbai:19.076,72.8777,40;Delhi:28.6139,77.209,45;Bengaluru:12.9716,77.5946,35;Chennai:13.0827,80.2707,30"

  validation {
    condition     = length(compact(split(";", var.analytics_cities))) <= 10
    error_message = "analytics_cities holds at most 10 cities."
  }

  validation {
    condition = alltrue([
      for c in compact(split(";", var.analytics_cities)) :
      can(regex("^[A-Za-z0-9_-]([A-Za-z0-9 _-]{0,38}[A-Za-z0-9_-])?:-?[0-9]{1,3}(\\.[0-9]+)?,-?[0-9]{1,3}(\\.[0-9]+)?,[0-9]+(\\.[0-9]+)?$", c))
    ])
    error_message = "each entry of analytics_cities must be name:lat,lng,radiusKm (e.g. Mumbai:19.076,72.8777,40), entries separated by ';' without spaces around them; a name is 1-40 letters, digits, spaces, - or _."
  }

  validation {
    condition = alltrue([
      # An entry of another shape is the validation above's to refuse (try: true here).
      for c in compact(split(";", var.analytics_cities)) : try(
        abs(tonumber(regex("^[^:]+:([^,]+),([^,]+),(.+)$", c)[0])) <= 90 &&
        abs(tonumber(regex("^[^:]+:([^,]+),([^,]+),(.+)$", c)[1])) <= 180 &&
        tonumber(regex("^[^:]+:([^,]+),([^,]+),(.+)$", c)[2]) > 0,
        true
      )
    ])
    error_message = "in analytics_cities, lat must be within ±90, lng within ±180 and the radius (km) above 0."
  }

  validation {
    condition = (
      !contains([for c in compact(split(";", var.analytics_cities)) : lower(split(":", c)[0])], "other") &&
      length(distinct([for c in compact(split(";", var.analytics_cities)) : lower(split(":", c)[0])])) == length(compact(split(";", var.analytics_cities)))
    )
    error_message = "analytics_cities names a city twice, or one \"other\" (the catch-all's name)."
  }
}

variable "analytics_min_acceptance_rate_percent" {
  description = "Alarm when the accepts in a 15-minute window are fewer than this percentage of the bookings created in it (BookingsAccepted / BookingsCreated), in two consecutive windows; windows with fewer than 10 bookings created are not judged."
  type        = number
  default     = 50

  validation {
    condition     = var.analytics_min_acceptance_rate_percent > 0 && var.analytics_min_acceptance_rate_percent < 100
    error_message = "analytics_min_acceptance_rate_percent must be between 0 and 100 (exclusive)."
  }
}

variable "analytics_max_time_to_accept_seconds" {
  description = "Alarm when the p90 of TimeToAccept (a booking's creation to its first accept) stays above this many seconds for 15 minutes. Keep it under the offer rounds' length (offer_window_secs, twice with the wider search), past which a booking expires instead."
  type        = number
  default     = 120

  validation {
    condition     = var.analytics_max_time_to_accept_seconds >= 1 && var.analytics_max_time_to_accept_seconds <= 3600
    error_message = "analytics_max_time_to_accept_seconds must be 1-3600."
  }
}

# --- SQL over the audit archive (athena.tf, athena_queries.tf) ---------------------------------

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes a query of the Athena workgroup may scan before Athena cancels it (enforced by the workgroup; Athena bills per TB scanned, ~$5). Default 50 GB: about half a day of location.updated at the cost estimate's load, or years of booking.events."
  type        = number
  default     = 53687091200

  validation {
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10485760 && floor(var.athena_bytes_scanned_cutoff_per_query) == var.athena_bytes_scanned_cutoff_per_query
    error_message = "athena_bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10485760 (10 MB, Athena's minimum)."
  }
}

variable "athena_results_expire_days" {
  description = "Days after which query results (and their replaced versions) are deleted from the Athena results bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_expire_days >= 1 && var.athena_results_expire_days <= 3650 && floor(var.athena_results_expire_days) == var.athena_results_expire_days
    error_message = "athena_results_expire_days must be a whole number of days, 1-3650."
  }
}

variable "audit_query_start_date" {
  description = "First day (yyyy/MM/dd) the audit table's partition projection knows: days before it cannot be queried, days after it up to today can. Set it to the day the archive began."
  type        = string
  default     = "2025/01/01"

  validation {
    condition     = can(regex("^20[0-9]{2}/(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])$", var.audit_query_start_date))
    error_message = "audit_query_start_date must be a date written yyyy/MM/dd (e.g. 2025/01/01)."
  }
}
