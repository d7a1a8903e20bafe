# Outputs: the API and live-tracking URLs and the AWS equivalents of what the local stack writes
# to .local/stack.env and .local/tokens.env, so tools and tests can be pointed at a deployment by
# configuration.

output "api_url" {
  description = "Base URL of the API (the $default stage: paths are /v1/... directly)."
  value       = aws_apigatewayv2_api.main.api_endpoint
}

output "gps_ingest_url" {
  description = "Where the truck apps send GPS points: POST <url>v1/tracking/location with the same token and body as on api_url (gps_ingest.tf). The URL ends with a slash."
  value       = aws_lambda_function_url.gps_ingest.function_url
}

output "live_url" {
  description = "WebSocket URL of live tracking (wss://.../live): what the apps and the tracking page connect to, with ?token=<JWT or share token> or the token in Sec-WebSocket-Protocol (docs/live-tracking.md)."
  value       = aws_apigatewayv2_stage.live.invoke_url
}

output "live_connections_url" {
  description = "The WebSocket stage's @connections management endpoint (https://.../live): live-tracking's LIVE_CONNECTIONS_URL, where PostToConnection is called (IAM-signed)."
  value       = local.live_connections_url
}

output "cognito_user_pool_id" {
  description = "User pool to create users in (docs/deploy.md)."
  value       = aws_cognito_user_pool.main.id
}

output "cognito_app_client_id" {
  description = "App client the mobile apps sign in with; also the JWT audience."
  value       = aws_cognito_user_pool_client.app.id
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "audit_bucket" {
  description = "S3 bucket of the audit archive (events/<topic>/<yyyy>/<mm>/<dd>/...jsonl): what `weelo-ops audit query` and Athena read."
  value       = aws_s3_bucket.audit.id
}

output "stack_env" {
  description = "The deployment's values under the names of .local/stack.env (write them as KEY=value lines). Sensitive: it carries the api's CURSOR_KEY, which the in-process api of the tests needs too."
  sensitive   = true
  value = merge(local.table_env, {
    AWS_REGION                   = var.region
    KAFKA_BOOTSTRAP_SERVERS      = local.kafka_bootstrap_servers
    KAFKA_AUTH                   = local.kafka_auth
    KAFKA_PUBLISH_TIMEOUT_MS     = tostring(var.kafka_publish_timeout_ms)
    SNS_PLATFORM_APPLICATION_ARN = aws_sns_platform_application.fcm.arn
    JWT_JWKS_URL                 = local.jwt_jwks_url
    JWT_ISSUER                   = local.jwt_issuer
    JWT_AUDIENCE                 = aws_cognito_user_pool_client.app.id
    JWT_ROLE_CLAIM               = local.jwt_role_claim
    WEELO_TABLE_PREFIX           = local.name_prefix
    WEELO_QUEUE_PREFIX           = local.name_prefix
    BASE_URL                     = aws_apigatewayv2_api.main.api_endpoint
    AUDIT_BUCKET                 = aws_s3_bucket.audit.id
    CURSOR_KEY                   = var.cursor_key
    LIVE_SOCKET_URL              = aws_apigatewayv2_stage.live.invoke_url
    SHARE_PAGE_URL               = "${aws_apigatewayv2_api.main.api_endpoint}/track"
    LIVE_CONNECTIONS_URL         = local.live_connections_url
  })
}

output "kafka_topics_bootstrap" {
  description = "What the kafka-topics function answered on the last apply: {\"created\":[...],\"updated\":[\"<topic>: partitions 6 → 12\", ...],\"existing\":[...]}."
  value       = jsondecode(aws_lambda_invocation.topics.result)
}

output "dead_letter_queues" {
  description = "URL of each SQS dead-letter queue named by event-source-mappings.json (onFailure, onFailureKind \"sqs\" or absent)."
  value       = { for name, q in aws_sqs_queue.dlq : name => q.url }
}

output "failure_buckets" {
  description = "S3 bucket of each on-failure destination named by event-source-mappings.json (onFailure, onFailureKind \"s3\"): the failed batches, records included."
  value       = { for name, b in aws_s3_bucket.failures : name => b.id }
}

output "table_environment" {
  description = "The TABLE_* environment variables every function receives (same names as .local/stack.env)."
  value       = local.table_env
}

output "analytics_dashboard" {
  description = "The analytics CloudWatch dashboard (booking funnel, delays, order trucks, pushes, GPS, every consumer's lag and errors): its name and console URL."
  value = {
    name = aws_cloudwatch_dashboard.analytics.dashboard_name
    url  = "https://console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards:name=${aws_cloudwatch_dashboard.analytics.dashboard_name}"
  }
}

output "athena_workgroup" {
  description = "Athena workgroup for SQL over the audit archive (results encrypted in their own bucket, bytes scanned per query capped); its saved queries: daily-booking-funnel, booking-history, transporter-acceptance-record."
  value       = aws_athena_workgroup.audit.name
}

output "audit_glue_database" {
  description = "Glue database holding the audit archive's table `events` (partition projection over topic and dt = yyyy/MM/dd)."
  value       = aws_glue_catalog_database.audit.name
}
