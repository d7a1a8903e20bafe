# Network: one VPC, a private subnet per AZ (local.az_count: three in the standard profile, two in
# the small one) for MSK (the provisioned cluster's brokers, one per zone, or MSK Serverless), the
# functions (all but live-tracking, see "Outside the VPC" in lambda.tf) and
# the event-source pollers, and VPC endpoints for every AWS service they call. No execute-api
# endpoint: with private DNS it would capture the public WebSocket and HTTP APIs' host names for the
# whole VPC and answer 403.
#
# Endpoints rather than a NAT gateway, because:
# - every dependency is an AWS service: DynamoDB (gateway endpoint, free, and it carries almost all
#   of the traffic: GPS history, positions, geo cells), SNS (push), SQS (the mappings' dead-letter
#   queues: AWS requires an endpoint for a Kafka mapping's on-failure destination, a NAT is not
#   enough), cognito-idp (the api loads the user pool's JWKS at cold start), and S3 (gateway
#   endpoint, free: audit-consumer writes the audit archive, audit.tf, and S3 on-failure
#   destinations receive failed batches, esm.tf);
# - STS and Lambda endpoints only for on-demand mappings (the small profile): their pollers run in
#   the cluster's subnets and reach Lambda and STS from there, through endpoints or a NAT, whereas
#   provisioned-mode mappings (the standard profile) need neither (Lambda guide, "Configuring your
#   Amazon MSK cluster and Amazon VPC network for Lambda"). No function calls STS or Lambda;
# - no route to the internet means a compromised function cannot exfiltrate anywhere else;
# - per month, 3 interface endpoints x 3 AZs cost less than 3 NAT gateways (one per AZ, for the
#   same availability) before their per-GB processing charge, which endpoints avoid for DynamoDB.
# None of the three can go in the small profile either: without SNS the api cannot register devices
# and fcm-consumer cannot push; without SQS a failing mapping cannot write its dead-letter queue
# (the records would then count as lost); without cognito-idp the api and live-socket cannot load
# the JWKS and refuse every token (unless nat_gateway). The small profile adds Lambda and STS for its
# on-demand mappings, and keeps all five with one network interface each, in the first subnet
# (local.endpoint_subnets): half the hourly charge at two zones; calls from the other zone
# cross zones, and if the first zone fails, so do these services for the whole VPC.
# Secrets Manager needs no endpoint: only Terraform reads the FCM secret, the functions never do.
# `nat_gateway = true` adds a NAT as an escape hatch (see variables.tf). It also drops the
# cognito-idp endpoint: with private DNS on, cognito-idp.<region>.amazonaws.com resolves to the
# endpoint whether or not a NAT exists, so the JWKS fetch would never take the NAT otherwise.

# Zones by ID, not name: names are shuffled per account (one account's "a" is another's "c"), IDs
# name the same physical zone in every account. Pinned to the IDs <region-code>-az1 to -az3 (EC2
# filter wildcards; Local and Wavelength Zones excluded by type), lowest first, so the subnets do
# not move when AWS adds a zone.
data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-id"
    values = ["*-az1", "*-az2", "*-az3"]
  }
  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.zone_ids) >= local.az_count
      error_message = "${var.region} has fewer than az_count = ${local.az_count} available zones among its zone IDs *-az1 to *-az3: lower az_count (at least 2; the standard profile's three MSK brokers then need msk_cluster_type = \"serverless\") or extend the zone-id filter in network.tf."
    }
  }
}

locals {
  az_ids = slice(sort(data.aws_availability_zones.available.zone_ids), 0, local.az_count)
  interface_endpoints = toset(concat(
    ["sns", "sqs"],
    var.nat_gateway ? [] : ["cognito-idp"],
    # The on-demand mappings' pollers call Lambda (to invoke) and STS (to take the function's role).
    local.provisioned_mappings ? [] : ["lambda", "sts"],
  ))
}

resource "aws_vpc" "main" {
  cidr_block = var.vpc_cidr
  # Private DNS of the interface endpoints needs both.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "weelo-${var.environment}" }
}

resource "aws_subnet" "private" {
  count = local.az_count

  vpc_id               = aws_vpc.main.id
  availability_zone_id = local.az_ids[count.index]
  cidr_block           = cidrsubnet(var.vpc_cidr, 4, count.index)

  tags = { Name = "weelo-${var.environment}-private-${local.az_ids[count.index]}" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "weelo-${var.environment}-private" }
}

resource "aws_route_table_association" "private" {
  count = local.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# Nothing may use the default group by accident.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
}

resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = { Name = "weelo-${var.environment}-dynamodb" }
}

# Only audit-consumer's archive writes, and the failed batches mappings write to their S3 on-failure
# destinations (esm.tf), may pass: S3 is the easiest place to carry data out to, and nothing else in
# the VPC has a use for it. Widening this policy is a deliberate change.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy            = data.aws_iam_policy_document.s3_endpoint.json

  tags = { Name = "weelo-${var.environment}-s3" }
}

data "aws_iam_policy_document" "s3_endpoint" {
  statement {
    sid       = "AuditArchiveWritesOnly"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.audit.arn}/events/*"]
    principals {
      type        = "AWS"
      identifiers = [for name, f in local.functions : aws_iam_role.function[name].arn if f.audit_write]
    }
  }

  # A mapping writes its failed batches with its function's role (pollers in the kafka group).
  dynamic "statement" {
    for_each = length(local.failure_buckets) > 0 ? [1] : []
    content {
      sid       = "OnFailureDestinationWrites"
      actions   = ["s3:PutObject", "s3:ListBucket"]
      resources = flatten([for b in aws_s3_bucket.failures : ["${local.arn_prefix.s3}${b.bucket}", "${local.arn_prefix.s3}${b.bucket}/*"]])
      principals {
        type        = "AWS"
        identifiers = [for name, buckets in local.failure_buckets_of : aws_iam_role.function[name].arn if length(buckets) > 0]
      }
    }
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.main.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = slice(aws_subnet.private[*].id, 0, local.endpoint_subnets)
  security_group_ids  = [aws_security_group.endpoints.id]

  tags = { Name = "weelo-${var.environment}-${each.key}" }
}

# --- Security groups ---------------------------------------------------------------------------

resource "aws_security_group" "functions" {
  name = "${local.name_prefix}functions"
  # The description is immutable (changing it replaces the group): S3 joined DynamoDB later.
  description = "Lambda functions: out to MSK, the VPC endpoints and DynamoDB only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "kafka" {
  #checkov:skip=CKV2_AWS_5:Attached to the MSK provisioned brokers (msk_provisioned.tf) or the MSK Serverless cluster (msk.tf vpc_config) and, with self_managed Kafka, to the mappings; checkov's graph does not follow those.
  name = "${local.name_prefix}kafka"
  # Says Serverless, though the brokers are provisioned by default now: the description is
  # immutable, and a new group would replace the cluster it is attached to (new, empty topics).
  description = "MSK Serverless and the event-source-mapping pollers that run in its subnets"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "endpoints" {
  name        = "${local.name_prefix}endpoints"
  description = "Interface VPC endpoints: HTTPS from the functions and the MSK pollers"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_kafka" {
  security_group_id            = aws_security_group.functions.id
  description                  = "Kafka over TLS with IAM auth (MSK port 9098)"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.kafka.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_endpoints" {
  security_group_id            = aws_security_group.functions.id
  description                  = "HTTPS to the interface endpoints (SNS, SQS, Cognito)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_dynamodb" {
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to DynamoDB through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.dynamodb.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_s3" {
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to S3 (the audit archive) through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_ingress_rule" "kafka_from_functions" {
  security_group_id            = aws_security_group.kafka.id
  description                  = "Kafka clients in the functions"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.functions.id
}

# The event pollers of the mappings get ENIs with the cluster's security group; AWS asks that the
# group admit itself so pollers reach the brokers.
resource "aws_vpc_security_group_ingress_rule" "kafka_from_itself" {
  security_group_id            = aws_security_group.kafka.id
  description                  = "Event-source-mapping pollers to the brokers"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.kafka.id
}

resource "aws_vpc_security_group_egress_rule" "kafka_to_itself" {
  security_group_id            = aws_security_group.kafka.id
  description                  = "Pollers to the brokers"
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  referenced_security_group_id = aws_security_group.kafka.id
}

resource "aws_vpc_security_group_egress_rule" "kafka_to_endpoints" {
  security_group_id            = aws_security_group.kafka.id
  description                  = "Pollers to the SQS dead-letter queues"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

# Only with an S3 on-failure destination (esm.tf): the pollers write failed batches to it.
resource "aws_vpc_security_group_egress_rule" "kafka_to_s3" {
  count             = length(local.failure_buckets) > 0 ? 1 : 0
  security_group_id = aws_security_group.kafka.id
  description       = "Pollers to the S3 on-failure destinations through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_functions" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the functions"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.functions.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_kafka" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the MSK pollers"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.kafka.id
}

# --- Flow logs ---------------------------------------------------------------------------------

resource "aws_flow_log" "vpc" {
  vpc_id                   = aws_vpc.main.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 600
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (profile default 30 or 7 days, for cost); set 365 where compliance asks for a year.
  name              = "/weelo/${var.environment}/vpc-flow-logs"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_iam_role" "flow_logs" {
  name               = "${local.name_prefix}vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name = "write-flow-logs"
  role = aws_iam_role.flow_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
    }]
  })
}

# --- Optional NAT (escape hatch) ---------------------------------------------------------------

resource "aws_internet_gateway" "main" {
  count  = var.nat_gateway ? 1 : 0
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "public" {
  count = var.nat_gateway ? 1 : 0

  vpc_id               = aws_vpc.main.id
  availability_zone_id = local.az_ids[0]
  cidr_block           = cidrsubnet(var.vpc_cidr, 4, 15)

  tags = { Name = "weelo-${var.environment}-public-nat" }
}

resource "aws_route_table" "public" {
  count  = var.nat_gateway ? 1 : 0
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main[0].id
  }
}

resource "aws_route_table_association" "public" {
  count          = var.nat_gateway ? 1 : 0
  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count  = var.nat_gateway ? 1 : 0
  domain = "vpc"
}

resource "aws_nat_gateway" "main" {
  count         = var.nat_gateway ? 1 : 0
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
}

resource "aws_route" "private_to_nat" {
  count                  = var.nat_gateway ? 1 : 0
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.main[0].id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_internet" {
  count             = var.nat_gateway ? 1 : 0
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to the internet through the optional NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
