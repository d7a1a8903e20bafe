# One customer-managed key for the stack's data at rest: DynamoDB tables, dead-letter queues, the
# alarm topic, log groups, the functions' environment, the audit archive (audit.tf), the S3
# on-failure destinations (failures.tf) and the MSK provisioned brokers' volumes
# (msk_provisioned.tf; MSK Serverless, msk_cluster_type = "serverless", encrypts with a key of its
# own). One key policy then says who can read any of it, and disabling the key locks it all.

resource "aws_kms_key" "main" {
  description             = "weelo-${var.environment}: data at rest (DynamoDB, SQS, SNS alarms, logs, Lambda environment)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/weelo-${var.environment}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; access is delegated to IAM policies of this account.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; access is delegated to IAM policies of this account.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only (key policies cannot name other resources).
  statement {
    sid       = "AccountAdministersViaIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsOfThisAccount"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
