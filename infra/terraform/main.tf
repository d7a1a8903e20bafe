# Shared locals: the definitions the local stack is provisioned from (infra/definitions/*.json),
# the API routes of docs/openapi.yaml, and the account facts every policy needs.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "weelo-${var.environment}-"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition

  definitions = "${path.module}/../definitions"
  table_defs  = { for t in jsondecode(file("${local.definitions}/tables.json")).tables : t.name => t }
  topic_defs  = jsondecode(file("${local.definitions}/topics.json")).topics
  # One entry per consumer function and topic; the key is what the local bridge logs.
  mappings = { for m in jsondecode(file("${local.definitions}/event-source-mappings.json")).mappings : "${m.function}/${m.topic}" => m }

  # The consumer group of a mapping is named exactly as `weelo-local bridge` names it, so offsets,
  # IAM group ARNs and dashboards mean the same thing locally and in AWS.
  consumer_groups = { for key, m in local.mappings : key => "weelo-${m.function}-${m.topic}" }

  msk = var.kafka_mode == "msk"

  # ARN prefixes for the named resources: "${prefix}${resource.name}" is the resource's ARN as AWS
  # documents it, known at plan time (unlike `.arn`), so `plan` shows every role's policy in full
  # and infra/terraform/tests can assert it, while the reference to the resource still orders it
  # first. The KMS key, the MSK cluster and the SNS application carry ids AWS picks: their `.arn`.
  arn_prefix = {
    dynamodb = "arn:${local.partition}:dynamodb:${var.region}:${local.account_id}:table/"
    sqs      = "arn:${local.partition}:sqs:${var.region}:${local.account_id}:"
    logs     = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:"
    s3       = "arn:${local.partition}:s3:::"
    # + "<api id>/<stage>/<method>/<path>": API Gateway's execute-api resources (websocket.tf).
    execute_api = "arn:${local.partition}:execute-api:${var.region}:${local.account_id}:"
  }

  # Every operation of docs/openapi.yaml (tested by infra/checks/test_drift.py). `public` routes are
  # those whose operation says `security: []`; all others go through the Cognito JWT authorizer.
  # Public: the liveness check, and GET /track, the static tracking page of shared links (issue 17;
  # its token is in the URL fragment, which browsers never send).
  api_routes = {
    "GET /v1/health"                                                    = { public = true }
    "GET /track"                                                        = { public = true }
    "POST /v1/devices"                                                  = { public = false }
    "DELETE /v1/devices/{deviceId}"                                     = { public = false }
    "PUT /v1/transporters/me"                                           = { public = false }
    "POST /v1/tracking/location"                                        = { public = false }
    "POST /v1/bookings"                                                 = { public = false }
    "GET /v1/bookings"                                                  = { public = false }
    "GET /v1/bookings/{bookingId}"                                      = { public = false }
    "POST /v1/bookings/{bookingId}/accept"                              = { public = false }
    "POST /v1/bookings/{bookingId}/cancel"                              = { public = false }
    "POST /v1/bookings/{bookingId}/arrive"                              = { public = false }
    "POST /v1/bookings/{bookingId}/pickup"                              = { public = false }
    "POST /v1/bookings/{bookingId}/deliver"                             = { public = false }
    "POST /v1/bookings/{bookingId}/release"                             = { public = false }
    "GET /v1/bookings/{bookingId}/location"                             = { public = false }
    "GET /v1/bookings/{bookingId}/track"                                = { public = false }
    "POST /v1/bookings/{bookingId}/share"                               = { public = false }
    "DELETE /v1/bookings/{bookingId}/share/{shareId}"                   = { public = false }
    "GET /v1/offers"                                                    = { public = false }
    "GET /v1/trips"                                                     = { public = false }
    "POST /v1/orders"                                                   = { public = false }
    "GET /v1/orders"                                                    = { public = false }
    "GET /v1/orders/{orderId}"                                          = { public = false }
    "POST /v1/orders/{orderId}/cancel"                                  = { public = false }
    "POST /v1/orders/{orderId}/truck-requests/{truckRequestId}/accept"  = { public = false }
    "POST /v1/orders/{orderId}/truck-requests/{truckRequestId}/arrive"  = { public = false }
    "POST /v1/orders/{orderId}/truck-requests/{truckRequestId}/pickup"  = { public = false }
    "POST /v1/orders/{orderId}/truck-requests/{truckRequestId}/deliver" = { public = false }
    "POST /v1/orders/{orderId}/truck-requests/{truckRequestId}/release" = { public = false }
    "GET /v1/orders/{orderId}/truck-requests/{truckRequestId}/track"    = { public = false }
  }
}
