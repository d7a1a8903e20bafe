# SQL over the audit archive (audit.tf): a Glue table over its JSON Lines objects, partitioned by
# topic and day through partition projection, and an Athena workgroup whose results go to their own
# encrypted bucket. The saved queries are in athena_queries.tf. Whoever runs them is a person with
# their own credentials (README.md, "Operator access to the audit archive"); no function role has
# any Glue or Athena action (tests/analytics.tftest.hcl).
#
# The archive (crates/audit): objects events/<topic>/<yyyy>/<mm>/<dd>/<topic>-<partition>-<first
# offset>.jsonl, one line per Kafka record:
#   {"topic", "partition", "offset", "timestamp" (RFC 3339), "key", "value": <the CloudEvent>}
# or "valueBase64" instead of "value" for a record that is not JSON. A batch cut differently on
# redelivery can repeat records in two objects: deduplicate by (topic, partition, offset), or by
# the CloudEvent id, as the saved queries do.
#
# - SerDe: the OpenX JSON SerDe, whose case.insensitive (default TRUE) lowercases JSON keys, so the
#   camelCase keys (bookingId, vehicleType, valueBase64) fill the lowercase columns and struct
#   fields Glue and Athena use (Athena guide, "OpenX JSON SerDe"; nested objects as struct
#   columns: its "Deserializing nested JSON" example). Its "mapping.<column>" property maps the
#   keys partition, offset and timestamp, keywords in Athena, to kafka_partition, kafka_offset and
#   kafka_timestamp. The guide warns that this SerDe can give non-deterministic results on some
#   data and suggests the Hive JSON SerDe instead, which documents no lowercasing of keys; the
#   archive's keys are camelCase, hence OpenX. Cross-check a surprising count with
#   `weelo-ops audit query`.
# - The record's own "topic" is not a column: a partition key of the same name comes from the
#   object's path (always equal), and Glue refuses a column and a partition key of one name.
# - Partition projection: topic is an enum of topics.json, dt a date yyyy/MM/dd from
#   var.audit_query_start_date to today, and storage.location.template builds each partition's
#   prefix, so no partition is ever added or crawled and a query reads only the days and topics
#   its WHERE names. dt is the day of an object's first record: a record written just after
#   midnight can sit in the previous day's object, so filter dt one day wider than the event
#   times you want.
# - value holds the CloudEvent; value.data only the fields the saved queries and common questions
#   need (JSON fields not declared are skipped). Types are strings except the coordinates and
#   counts, whose JSON types never vary across events.

locals {
  glue_database_name    = "weelo_${replace(var.environment, "-", "_")}_audit"
  athena_workgroup_name = "${local.name_prefix}audit"
  # Bucket names are global: the account and region make this one unique (at most 57 characters).
  athena_results_bucket_name = "${local.name_prefix}athena-${local.account_id}-${var.region}"

  audit_event_data_type = join("", [
    "struct<",
    join(",", [
      "bookingid:string", "orderid:string", "truckrequestid:string", "customerid:string",
      "transporterid:string", "recipientid:string", "vehicletype:string", "status:string",
      "step:string", "previousstatus:string", "round:string", "transporters:int", "kind:string",
      "createdat:string", "scheduledat:string", "offeredat:string", "acceptedat:string",
      "acceptedby:string", "deliveredat:string", "cancelledat:string", "expiredat:string",
      "pickup:struct<lat:double,lng:double>",
      "lat:double", "lng:double", "recordedat:string", "speedkmh:double",
    ]),
    ">",
  ])
  audit_event_type = "struct<specversion:string,id:string,type:string,source:string,subject:string,time:string,datacontenttype:string,data:${local.audit_event_data_type}>"
}

# --- Query results -------------------------------------------------------------------------------
# As the failure buckets (failures.tf): SSE-KMS with the stack key and a Bucket Key, versioning,
# public access blocked, ACLs disabled, TLS 1.2+ only. Results are throwaway copies of what a query
# read: they and their replaced versions expire after var.athena_results_expire_days.

resource "aws_s3_bucket" "athena_results" {
  #checkov:skip=CKV_AWS_18:Server access logs cannot be delivered to an SSE-KMS bucket; who ran which query is in Athena's query history and CloudTrail.
  #checkov:skip=CKV_AWS_144:Query results are disposable copies that expire; nothing to replicate.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to query results.
  #checkov:skip=CKV_AWS_143:No Object Lock: results must expire (athena_results_expire_days).
  bucket = local.athena_results_bucket_name
  # Results are disposable: `destroy` may empty the bucket.
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "athena_results" {
  bucket = aws_s3_bucket.athena_results.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "athena_results" {
  bucket = aws_s3_bucket.athena_results.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "athena_results" {
  bucket                  = aws_s3_bucket.athena_results.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "athena_results" {
  bucket = aws_s3_bucket.athena_results.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "athena_results" {
  bucket = aws_s3_bucket.athena_results.id

  rule {
    id     = "expire-results"
    status = "Enabled"

    filter {}

    expiration {
      days = var.athena_results_expire_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.athena_results]
}

resource "aws_s3_bucket_policy" "athena_results" {
  bucket = aws_s3_bucket.athena_results.id
  policy = data.aws_iam_policy_document.tls_only["athena-results"].json

  # S3 refuses some policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.athena_results]
}

# --- Catalog -------------------------------------------------------------------------------------

resource "aws_glue_catalog_database" "audit" {
  name        = local.glue_database_name
  description = "weelo-${var.environment}: tables over the S3 audit archive (${local.audit_bucket_name}), for Athena."
}

resource "aws_glue_catalog_table" "audit_events" {
  name          = "events"
  database_name = aws_glue_catalog_database.audit.name
  description   = "Every Kafka record archived by audit-consumer, one row per JSON line (deduplicate by topic, kafka_partition, kafka_offset). Partitions: topic and dt (yyyy/MM/dd, the day of the object's first record), projected."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL       = "TRUE"
    classification = "json"

    "projection.enabled"          = "true"
    "projection.topic.type"       = "enum"
    "projection.topic.values"     = join(",", [for t in local.topic_defs : t.name])
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy/MM/dd"
    "projection.dt.range"         = "${var.audit_query_start_date},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    # $${...} is Athena's placeholder, written literally ($$ escapes it from Terraform).
    "storage.location.template" = "s3://${aws_s3_bucket.audit.bucket}/events/$${topic}/$${dt}/"
  }

  partition_keys {
    name    = "topic"
    type    = "string"
    comment = "Kafka topic (topics.json): the objects' first path segment under events/."
  }

  partition_keys {
    name    = "dt"
    type    = "string"
    comment = "yyyy/MM/dd: the day of each object's first record, its path under events/<topic>/."
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.audit.bucket}/events/"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "openx-json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "case.insensitive"        = "TRUE"
        "mapping.kafka_partition" = "partition"
        "mapping.kafka_offset"    = "offset"
        "mapping.kafka_timestamp" = "timestamp"
      }
    }

    columns {
      name    = "kafka_partition"
      type    = "int"
      comment = "The record's Kafka partition (JSON key partition)."
    }
    columns {
      name    = "kafka_offset"
      type    = "bigint"
      comment = "The record's offset in its partition (JSON key offset)."
    }
    columns {
      name    = "kafka_timestamp"
      type    = "string"
      comment = "The record's Kafka timestamp, RFC 3339 (JSON key timestamp): from_iso8601_timestamp(kafka_timestamp)."
    }
    columns {
      name    = "key"
      type    = "string"
      comment = "The record key: the booking id on booking.events, the order id on order.events, the transporter on location.updated, the recipient on notification.fcm."
    }
    columns {
      name    = "value"
      type    = local.audit_event_type
      comment = "The CloudEvent (value.type com.weelo.<aggregate>.<step>.v1, value.time RFC 3339, value.data its payload)."
    }
    columns {
      name    = "valuebase64"
      type    = "string"
      comment = "The value as base64 when it was not JSON (then value is null)."
    }
  }
}

# --- Workgroup -----------------------------------------------------------------------------------
# Enforced: a query cannot choose another result location or encryption, and one that would scan
# more than var.athena_bytes_scanned_cutoff_per_query is cancelled (Athena bills per byte scanned).
# Results are SSE-KMS with the stack key, written with the caller's credentials, so a person who
# runs queries needs kms:GenerateDataKey and kms:Decrypt on the key (README.md).

resource "aws_athena_workgroup" "audit" {
  name          = local.athena_workgroup_name
  description   = "SQL over the weelo-${var.environment} audit archive (database ${local.glue_database_name}); saved queries: daily funnel, booking history, transporter record."
  state         = "ENABLED"
  force_destroy = true

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${aws_s3_bucket.athena_results.bucket}/results/"
      expected_bucket_owner = local.account_id

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.main.arn
      }
    }
  }

  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.athena_results,
    aws_s3_bucket_policy.athena_results,
  ]
}
