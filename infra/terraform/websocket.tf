# Live tracking (issue 17, docs/live-tracking.md): an API Gateway WebSocket API in front of the
# live-socket function, which is both its REQUEST authorizer and the integration of every route.
# live-tracking (lambda.tf) posts positions and status changes to the connections through the
# stage's @connections management endpoint.
#
# - $connect is the only route with an authorizer (WebSocket APIs authorize only there); every
#   other message travels on a connection the authorizer already let in.
# - The authorizer has no identity sources. The token comes in the query string (`?token=`) or in
#   `Sec-WebSocket-Protocol` (browsers cannot set other headers), and a WebSocket REQUEST
#   authorizer answers 401 without invoking the function unless every identity source it lists is
#   present ("When you connect to your WebSocket API, you need to provide values for any configured
#   identity sources", API Gateway guide, "Creating a Lambda REQUEST authorizer function"). With
#   none, it always runs, so nothing is cached: every connection is authorized afresh, which is
#   what a revoked or expired share link needs.
# - subscribe, unsubscribe and $default are two-way: a `$default` route response sends the
#   function's returned body (the snapshot, or an error) back to the client. $connect answers
#   through its integration response (the `Sec-WebSocket-Protocol: weelo.live.v1` header), which
#   needs no route response.
# - The access log holds no query string and no header: either may carry the token.
#
# Not checked in a real account: auto_deploy on a WebSocket stage (the provider documents it for
# HTTP APIs; CreateStage takes it for both), and the authorizer's source ARN form
# (<execution ARN>/authorizers/<id>, as for HTTP and REST APIs).

locals {
  # Route key => whether the function's answer goes back to the client (a two-way route).
  live_routes = {
    "$connect"    = { two_way = false }
    "$disconnect" = { two_way = false }
    "subscribe"   = { two_way = true }
    "unsubscribe" = { two_way = true }
    "$default"    = { two_way = true }
  }

  # The stage's @connections management endpoint (API Gateway guide, "Use @connections commands in
  # your backend service"): https://{api-id}.execute-api.{region}.amazonaws.com/{stage}.
  live_connections_url = "https://${aws_apigatewayv2_api.live.id}.execute-api.${var.region}.${data.aws_partition.current.dns_suffix}/${aws_apigatewayv2_stage.live.name}"
  # What live-tracking may call there (iam.tf): PostToConnection on this API's stage only. The
  # @connections API's resources are <api-id>/<stage>/<METHOD>/@connections/<connection id>
  # ("Using IAM authorization" for WebSocket APIs); GET (GetConnection) and DELETE
  # (DeleteConnection) are not granted: the function only posts, and a post answered 410 Gone
  # means the connection is already closed.
  live_manage_connections_arn = "${local.arn_prefix.execute_api}${aws_apigatewayv2_api.live.id}/${aws_apigatewayv2_stage.live.name}/POST/@connections/*"
}

resource "aws_apigatewayv2_api" "live" {
  name                       = "weelo-${var.environment}-live"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  description                = "Weelo live tracking (docs/live-tracking.md)"
}

resource "aws_apigatewayv2_authorizer" "live" {
  api_id          = aws_apigatewayv2_api.live.id
  name            = "live-socket"
  authorizer_type = "REQUEST"
  authorizer_uri  = aws_lambda_function.this["live-socket"].invoke_arn
  # No identity_sources: see the top of this file.
}

resource "aws_apigatewayv2_integration" "live" {
  api_id             = aws_apigatewayv2_api.live.id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = aws_lambda_function.this["live-socket"].invoke_arn
}

resource "aws_apigatewayv2_route" "live" {
  #checkov:skip=CKV_AWS_309:A WebSocket API authorizes at $connect only (its REQUEST authorizer, CUSTOM); $disconnect, subscribe, unsubscribe and $default run on a connection $connect already authorized, and API Gateway accepts no authorizer on them.
  for_each = local.live_routes

  api_id             = aws_apigatewayv2_api.live.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.live.id}"
  authorization_type = each.key == "$connect" ? "CUSTOM" : "NONE"
  authorizer_id      = each.key == "$connect" ? aws_apigatewayv2_authorizer.live.id : null

  route_response_selection_expression = each.value.two_way ? "$default" : null
}

resource "aws_apigatewayv2_route_response" "live" {
  for_each = { for key, r in local.live_routes : key => r if r.two_way }

  api_id             = aws_apigatewayv2_api.live.id
  route_id           = aws_apigatewayv2_route.live[each.key].id
  route_response_key = "$default"
}

resource "aws_cloudwatch_log_group" "live_access" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (profile default 30 or 7 days, for cost); set 365 where compliance asks for a year.
  name              = "/weelo/${var.environment}/live-access"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  # Read only through Logs Insights; half the Standard ingestion price (var.access_log_class).
  log_group_class = var.access_log_class
}

resource "aws_apigatewayv2_stage" "live" {
  #checkov:skip=CKV2_AWS_51:A stage's client certificate is what API Gateway presents to HTTP backends; the only integration here is a Lambda proxy (IAM-invoked), which has no use for it. Clients authenticate at $connect (REQUEST authorizer).
  api_id      = aws_apigatewayv2_api.live.id
  name        = "live"
  auto_deploy = true

  # Per stage, for connects and messages alike. No execution logging (logging_level OFF, data trace
  # off): it would log requests, headers included, i.e. the tokens.
  default_route_settings {
    throttling_rate_limit    = var.live_throttle_rate_limit
    throttling_burst_limit   = var.live_throttle_burst_limit
    detailed_metrics_enabled = true
    data_trace_enabled       = false
    logging_level            = "OFF"
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.live_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      sourceIp           = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      connectionId       = "$context.connectionId"
      routeKey           = "$context.routeKey"
      eventType          = "$context.eventType"
      status             = "$context.status"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integration.error"
      authorizerError    = "$context.authorizer.error"
      authorizerStatus   = "$context.authorizer.status"
      userId             = "$context.authorizer.userId"
      role               = "$context.authorizer.role"
    })
  }

  # API Gateway refuses a WebSocket stage's access log until the region's account settings name a
  # CloudWatch Logs role ("CloudWatch Logs role ARN must be set in account settings to enable
  # logging"); see aws_api_gateway_account below.
  depends_on = [aws_api_gateway_account.cloudwatch]
}

# The authorizer and the routes invoke the same function; each permission names its own source.
resource "aws_lambda_permission" "live_authorizer" {
  statement_id  = "WebSocketAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["live-socket"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.live.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.live.id}"
}

resource "aws_lambda_permission" "live_routes" {
  statement_id  = "WebSocketRoutes"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["live-socket"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.live.execution_arn}/${aws_apigatewayv2_stage.live.name}/*"
}

# --- API Gateway's CloudWatch Logs role (account settings, one per account and region) -------------
# REST and WebSocket APIs write access logs with the role the account settings name (HTTP APIs, as
# in apigw.tf, do not need it). The role is AWS's documented one ("Permissions for CloudWatch
# logging": the AmazonAPIGatewayPushToCloudWatchLogs managed policy): API Gateway checks it can
# write logs with it when the setting is made, and the setting serves every REST and WebSocket API
# in the region, so it cannot be narrowed to this stack's log group. Destroying it clears the
# setting. If something else already manages the setting in this account and region (another
# environment of this stack, an organisation baseline), set manage_api_gateway_account = false.

resource "aws_api_gateway_account" "cloudwatch" {
  count               = var.manage_api_gateway_account ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count              = var.manage_api_gateway_account ? 1 : 0
  name               = "${local.name_prefix}apigateway-cloudwatch"
  assume_role_policy = data.aws_iam_policy_document.api_gateway_assume.json
}

# Trusted as AWS documents it, without the aws:SourceAccount condition the functions' roles carry:
# AWS does not say API Gateway sends it when it assumes this role, and a condition it does not meet
# would make the account setting fail. At worst, another account naming this role in its own
# settings could write API logs into this account; it cannot read anything.
data "aws_iam_policy_document" "api_gateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count      = var.manage_api_gateway_account ? 1 : 0
  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}
