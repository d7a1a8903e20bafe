# One IAM role per function, with one inline policy generated from `functions` (lambda.tf), so a
# permission exists only if listed there. infra/terraform/tests/access.tftest.hcl asserts the
# planned policies: who writes which table, topic, queue and bucket, who may post to WebSocket
# connections, and that no action or resource is a wildcard except the ENI management Lambda
# requires.

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = "${local.name_prefix}${each.key}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ENIs in the VPC: Lambda and the MSK event pollers create them with the function's role (the
# pollers of live-tracking too, which itself runs outside the VPC: lambda.tf). These EC2
# actions are the ones AWSLambdaVPCAccessExecutionRole and AWSLambdaMSKExecutionRole grant, on "*"
# as there: Describe* cannot be scoped, and Lambda picks the ENI ids itself.
data "aws_iam_policy_document" "vpc_access" {
  #checkov:skip=CKV_AWS_111:ENI management by Lambda needs Resource "*" (as in AWS's managed AWSLambdaVPCAccessExecutionRole).
  #checkov:skip=CKV_AWS_356:ENI management by Lambda needs Resource "*" (as in AWS's managed AWSLambdaVPCAccessExecutionRole).
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeVpcs",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }
}

# Each function's policy, from `functions` (lambda.tf): the one place that says what each function
# touches. Written with jsonencode rather than an aws_iam_policy_document data source: a data
# source that refers to resources still to be created is read only during apply, so every policy
# would show as "(known after apply)" in a plan. This one is known (ARNs built from names,
# main.tf's arn_prefix), so a reviewer sees each policy in `plan` and infra/terraform/tests
# asserts it.
locals {
  sns_endpoints_arn = "arn:${local.partition}:sns:${var.region}:${local.account_id}:endpoint/GCM/${aws_sns_platform_application.fcm.name}/*"

  function_policy = {
    for f, fn in local.functions : f => concat(
      jsondecode(data.aws_iam_policy_document.vpc_access.json).Statement,
      [{
        Sid      = "OwnLogGroup"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.arn_prefix.logs}${aws_cloudwatch_log_group.function[f].name}:*"]
      }],
      # Lambda decrypts the environment with the stack key; consumers also encrypt what they put in
      # their (KMS-encrypted) dead-letter queue, and S3 asks for a data key with the caller's rights
      # when audit-consumer writes to the SSE-KMS audit bucket or a mapping writes a failed batch to
      # its SSE-KMS on-failure bucket (GenerateDataKey is all a single-part PUT needs; kms:Encrypt is
      # never called).
      [{
        Sid      = "StackKey"
        Action   = length(local.dlq_of[f]) > 0 || length(local.failure_buckets_of[f]) > 0 || fn.audit_write ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
      }],
      # "table/index/name" entries grant on that index only.
      [for entry, actions in fn.dynamodb : {
        Sid      = "Dynamo${replace(title(replace(entry, "/[-/]/", " ")), " ", "")}"
        Action   = actions
        Resource = ["${local.arn_prefix.dynamodb}${local.tables[split("/", entry)[0]].name}${trimprefix(entry, split("/", entry)[0])}"]
      }],
      # Only functions that touch Kafka connect to it: producers, the topic bootstrap, and the
      # consumers, whose mappings connect with their role (live-socket has none of the three).
      local.msk && (length(fn.kafka_write) > 0 || fn.kafka_admin || length(local.consumer_topics[f]) > 0) ? [{
        Sid      = "KafkaConnect"
        Action   = length(fn.kafka_write) > 0 ? ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"] : ["kafka-cluster:Connect"]
        Resource = [local.kafka_cluster_arn]
      }] : [],
      local.msk && length(fn.kafka_write) > 0 ? [{
        Sid      = "KafkaProduce"
        Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
        Resource = [for t in fn.kafka_write : "${local.kafka_topic_arn}/${t}"]
      }] : [],
      # Create the defined topics, add partitions to them (AlterTopic) and set their retention
      # (AlterTopicDynamicConfiguration) when topics.json changes; never delete.
      local.msk && fn.kafka_admin ? [{
        Sid = "KafkaManageTopics"
        Action = [
          "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic",
          "kafka-cluster:DescribeTopicDynamicConfiguration", "kafka-cluster:AlterTopicDynamicConfiguration",
        ]
        Resource = [for t in local.topic_defs : "${local.kafka_topic_arn}/${t.name}"]
      }] : [],
      # What an MSK event-source mapping does with the function's role: find the brokers, read its
      # topics, and commit offsets in its own consumer groups.
      local.msk && length(local.consumer_topics[f]) > 0 ? [
        {
          Sid      = "MskMappingCluster"
          Action   = ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers", "kafka-cluster:DescribeClusterDynamicConfiguration"]
          Resource = [local.kafka_cluster_arn]
        },
        {
          Sid      = "MskMappingTopics"
          Action   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
          Resource = [for t in local.consumer_topics[f] : "${local.kafka_topic_arn}/${t}"]
        },
        {
          Sid      = "MskMappingGroups"
          Action   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
          Resource = [for g in local.consumer_groups_of[f] : "${local.kafka_group_arn}/${g}"]
        },
      ] : [],
      length(local.dlq_of[f]) > 0 ? [{
        Sid      = "OwnDeadLetterQueue"
        Action   = ["sqs:SendMessage"]
        Resource = [for q in local.dlq_of[f] : "${local.arn_prefix.sqs}${aws_sqs_queue.dlq[q].name}"]
      }] : [],
      # The mappings' S3 on-failure destinations (failures.tf): Lambda writes the failed batch with
      # this role, and asks for PutObject and ListBucket (Lambda guide, "Capturing discarded batches
      # for Amazon MSK and self-managed Apache Kafka event sources").
      length(local.failure_buckets_of[f]) > 0 ? [
        {
          Sid      = "OwnFailureBucketList"
          Action   = ["s3:ListBucket"]
          Resource = [for b in local.failure_buckets_of[f] : "${local.arn_prefix.s3}${aws_s3_bucket.failures[b].bucket}"]
        },
        {
          Sid      = "OwnFailureBucketWrite"
          Action   = ["s3:PutObject"]
          Resource = [for b in local.failure_buckets_of[f] : "${local.arn_prefix.s3}${aws_s3_bucket.failures[b].bucket}/*"]
        },
      ] : [],
      # Writes archive objects and nothing else: no read, no delete, no retention or version calls
      # (the bucket's default retention locks each object without any).
      fn.audit_write ? [{
        Sid      = "AuditArchiveWrite"
        Action   = ["s3:PutObject"]
        Resource = ["${local.arn_prefix.s3}${aws_s3_bucket.audit.bucket}/events/*"]
      }] : [],
      # A device's logout deletes its endpoint: the same function that registers devices.
      fn.sns_create_endpoint ? [
        { Sid = "RegisterDevices", Action = ["sns:CreatePlatformEndpoint"], Resource = [aws_sns_platform_application.fcm.arn] },
        { Sid = "UnregisterDevices", Action = ["sns:DeleteEndpoint"], Resource = [local.sns_endpoints_arn] },
      ] : [],
      fn.sns_publish ? [{ Sid = "PushToDevices", Action = ["sns:Publish"], Resource = [local.sns_endpoints_arn] }] : [],
      # PostToConnection on the live-tracking WebSocket stage's connections, and nothing else of
      # API Gateway (websocket.tf, local.live_manage_connections_arn).
      fn.manage_connections ? [{
        Sid      = "PostToLiveConnections"
        Action   = ["execute-api:ManageConnections"]
        Resource = [local.live_manage_connections_arn]
      }] : [],
    )
  }
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name = "least-privilege"
  role = aws_iam_role.function[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [for s in local.function_policy[each.key] : merge({ Effect = "Allow" }, s)]
  })
}
