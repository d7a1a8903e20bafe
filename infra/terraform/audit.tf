# The audit archive: every record of every topic, kept in S3 long after Kafka's 7 days. The
# audit-consumer function (crates/audit) writes one JSON Lines object per partition of each batch,
# under events/<topic>/<yyyy>/<mm>/<dd>/; operators read it with `weelo-ops audit query` or Athena
# (docs/deploy.md).
#
# - Object Lock in GOVERNANCE mode with a default retention of var.audit_retention_days (7 years):
#   no writer bug and no stolen writer credential can delete or replace what was archived. A
#   redelivered batch rewrites its key, which adds a version; the earlier one stays, locked.
#   GOVERNANCE rather than COMPLIANCE so that an administrator granted
#   s3:BypassGovernanceRetention can still remove data that must go (an erasure request, data
#   archived by mistake); COMPLIANCE would forbid that to everyone, root included.
# - Nothing expires: the retention is a minimum, and deleting audit data after it is its owner's
#   decision (add an expiration rule then). Objects move to Glacier Instant Retrieval after
#   var.audit_glacier_ir_after_days: still readable at once, at ~1/6 of the storage price.
# - SSE-KMS with the stack key (kms.tf) and an S3 Bucket Key, so S3 does not call KMS per object.
# - Private: all public access blocked, ACLs disabled (BucketOwnerEnforced), TLS 1.2+ only.
# - Reached from the VPC through the S3 gateway endpoint (network.tf); the functions have no other
#   route to S3.

locals {
  # Bucket names are global: the account and region make this one unique.
  audit_bucket_name = "${local.name_prefix}audit-${local.account_id}-${var.region}"
}

resource "aws_s3_bucket" "audit" {
  #checkov:skip=CKV_AWS_18:Server access logs cannot be delivered to an SSE-KMS bucket and would need a second bucket; who read the archive is a CloudTrail data-event question (an account trail, outside this stack), and the only writer is the audit-consumer role.
  #checkov:skip=CKV_AWS_144:One-region deployment; the archive is itself a copy of Kafka and Object Lock guards it against deletion. Add replication (and double the storage) if losing a region's archive must be survivable.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to archive writes; readers list objects by topic and date prefix.
  bucket              = local.audit_bucket_name
  object_lock_enabled = true
  # Throwaway stacks (LocalStack) only: lets `destroy` empty the bucket, locked versions included.
  force_destroy = !var.table_deletion_protection
}

resource "aws_s3_bucket_versioning" "audit" {
  bucket = aws_s3_bucket.audit.id
  versioning_configuration {
    status = "Enabled" # Object Lock requires it
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  # Applies to every object written without its own retention, i.e. every archive object: the
  # writer needs no s3:PutObjectRetention.
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = var.audit_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.audit]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    # One KMS data key per bucket and period instead of one GenerateDataKey per PUT (~14 M a month,
    # docs/deploy.md); readers still need kms:Decrypt on the key.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "audit" {
  bucket                  = aws_s3_bucket.audit.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id

  # S3's default since 2024, stated so it cannot change under us: objects under 128 KB do not move,
  # since Glacier IR bills every object as at least 128 KB and the quiet topics' objects are a few KB.
  transition_default_minimum_object_size = "all_storage_classes_128K"

  rule {
    id     = "archive-to-glacier-ir"
    status = "Enabled"

    filter {
      prefix = "events/"
    }

    transition {
      days          = var.audit_glacier_ir_after_days
      storage_class = "GLACIER_IR"
    }

    # Versions left behind by a rewritten key are archive data too (a batch cut differently on
    # redelivery can hold records the newer version lacks): same class, same lock, never expired.
    noncurrent_version_transition {
      noncurrent_days = var.audit_glacier_ir_after_days
      storage_class   = "GLACIER_IR"
    }
  }

  # The SDK uploads archive objects in one PUT; this only cleans up after anything else.
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.audit]
}

resource "aws_s3_bucket_policy" "audit" {
  bucket = aws_s3_bucket.audit.id
  policy = data.aws_iam_policy_document.tls_only["audit"].json

  # S3 refuses some policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.audit]
}

# The bucket policies of the archive, of the failure buckets (failures.tf) and of the Athena results
# (athena.tf). Who may read and write is said by IAM (iam.tf for the writers, README.md for
# operators); a bucket policy only refuses what no one may do: plain HTTP, or TLS older than 1.2.
data "aws_iam_policy_document" "tls_only" {
  for_each = merge(
    { audit = aws_s3_bucket.audit.arn, athena-results = aws_s3_bucket.athena_results.arn },
    { for name, bucket in aws_s3_bucket.failures : "failures/${name}" => bucket.arn },
  )

  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "Tls12OrNewer"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}
