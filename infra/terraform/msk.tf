# Kafka: Amazon MSK with IAM client authentication, and its topics. Both deployment profiles run an
# MSK provisioned cluster sized by the profile (msk_provisioned.tf: three brokers in standard, two
# in small); msk_cluster_type = "serverless" runs MSK Serverless (here) instead, which needs no
# broker sizing but bills every cluster-hour, partition-hour and GB in and out (more than the
# standard's three brokers at the seed's load: docs/COSTS.md, "Choices", prices it). Whichever exists,
# everything else reads the locals below: the bootstrap brokers, the cluster ARN and the IAM topic
# and group ARNs built from it (the same shape for both kinds of cluster).
#
# The AWS provider has no topic resource for MSK, so `apply` invokes the kafka-topics function
# (Kafka admin API with IAM auth, from inside the VPC) with the topics of
# infra/definitions/topics.json; it creates the missing ones, adds partitions and sets retention
# where the file asks for more or other, and refuses (failing the apply, changing nothing) to
# shrink a topic. It is invoked again whenever the file, the function or the brokers change.
#
# kafka_mode = "self_managed" (LocalStack + Redpanda) creates no cluster: the functions and the
# mappings use var.self_managed_bootstrap_servers in plaintext.

resource "aws_msk_serverless_cluster" "main" {
  count = local.msk && var.msk_cluster_type == "serverless" ? 1 : 0

  cluster_name = "weelo-${var.environment}"

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.kafka.id]
  }

  client_authentication {
    sasl {
      iam {
        enabled = true
      }
    }
  }
}

locals {
  # The one cluster of this stack, Serverless or provisioned ("" without MSK). IAM resources of
  # MSK's kafka-cluster actions, for both kinds:
  #   cluster/<name>/<uuid>, topic/<name>/<uuid>/<topic>, group/<name>/<uuid>/<group>.
  kafka_cluster_arn = one(concat(aws_msk_serverless_cluster.main[*].arn, aws_msk_cluster.main[*].arn, local.msk ? [] : [""]))
  kafka_topic_arn   = replace(local.kafka_cluster_arn, ":cluster/", ":topic/")
  kafka_group_arn   = replace(local.kafka_cluster_arn, ":cluster/", ":group/")

  # SASL/IAM on port 9098 (TLS), for both kinds of cluster.
  kafka_bootstrap_servers = local.msk ? data.aws_msk_bootstrap_brokers.main[0].bootstrap_brokers_sasl_iam : var.self_managed_bootstrap_servers
  kafka_auth              = local.msk ? "aws-msk-iam" : "none"

  # Exactly the shape the kafka-topics function reads: {"topics":[{"name","partitions","retentionMs"}]}.
  topics_request = jsonencode({ topics = local.topic_defs })
}

data "aws_msk_bootstrap_brokers" "main" {
  count       = local.msk ? 1 : 0
  cluster_arn = local.kafka_cluster_arn
}

resource "aws_lambda_invocation" "topics" {
  function_name = aws_lambda_function.this["kafka-topics"].function_name
  input         = local.topics_request

  triggers = {
    topics   = sha256(local.topics_request)
    code     = aws_lambda_function.this["kafka-topics"].source_code_hash
    brokers  = local.kafka_bootstrap_servers
    policies = sha256(aws_iam_role_policy.function["kafka-topics"].policy)
  }

  # The function reaches the brokers only once both sides of the 9098 path exist; nothing else
  # orders these rules before the invocation.
  depends_on = [
    aws_vpc_security_group_egress_rule.functions_to_kafka,
    aws_vpc_security_group_ingress_rule.kafka_from_functions,
  ]
}
