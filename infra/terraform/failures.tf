# S3 on-failure destinations: one bucket per distinct onFailure of the mappings whose onFailureKind
# is "s3" (event-source-mappings.json; esm.tf), named <prefix><onFailure>. Unlike a dead-letter
# queue, which only gets a failed batch's metadata, Lambda writes the whole invocation record to the
# bucket, records included, so a batch that failed every retry can be replayed from the bucket
# after Kafka's retention has dropped it.
#
# - Lambda writes with the consuming function's execution role (s3:PutObject, s3:ListBucket and,
#   for SSE-KMS, kms:GenerateDataKey on the key: iam.tf), through the S3 gateway endpoint
#   (network.tf), from the pollers in the kafka security group.
# - As the audit archive (audit.tf): SSE-KMS with the stack key and a Bucket Key, all public access
#   blocked, ACLs disabled, TLS 1.2+ only, versioning. No Object Lock and no Glacier transition: an
#   object here is a failed batch waiting to be replayed and then deleted, and there are few.
# - Nothing current expires (the mapping alarms say when a batch arrives, alarms.tf); a deleted or
#   overwritten object's earlier version goes after 30 days.

resource "aws_s3_bucket" "failures" {
  #checkov:skip=CKV_AWS_18:Server access logs cannot be delivered to an SSE-KMS bucket; the only writers are the mappings' function roles, and reads are a CloudTrail data-event question.
  #checkov:skip=CKV_AWS_144:One-region deployment; the failed batches are also in Kafka until its retention ends. Replicate if losing a region's failed batches must be survivable.
  #checkov:skip=CKV2_AWS_62:The mapping alarms (alarms.tf, OnFailureDestinationDeliveredEventCount) already say when a batch arrives; nothing else reacts to it.
  #checkov:skip=CKV_AWS_143:No Object Lock: a failed batch is deleted once replayed, and may hold data that must be erasable.
  for_each = local.failure_buckets

  bucket = "${local.name_prefix}${each.key}"
  # Throwaway stacks (LocalStack) only: lets `destroy` empty the bucket.
  force_destroy = !var.table_deletion_protection
}

resource "aws_s3_bucket_versioning" "failures" {
  for_each = aws_s3_bucket.failures

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "failures" {
  for_each = aws_s3_bucket.failures

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "failures" {
  for_each = aws_s3_bucket.failures

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "failures" {
  for_each = aws_s3_bucket.failures

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "failures" {
  for_each = aws_s3_bucket.failures

  bucket = each.value.id

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.failures]
}

resource "aws_s3_bucket_policy" "failures" {
  for_each = aws_s3_bucket.failures

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only["failures/${each.key}"].json

  # S3 refuses some policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.failures]
}
