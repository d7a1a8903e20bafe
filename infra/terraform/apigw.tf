# The public edge: an API Gateway HTTP API with every route of docs/openapi.yaml (local.api_routes,
# main.tf), a Cognito JWT authorizer, default throttling and JSON access logs, in front of the api
# function. The api verifies the token again itself (same code as locally), so a route misconfigured
# here still cannot let an unauthenticated caller through.
#
# The stage is `$default`: its URL has no stage segment, so the paths the api sees are exactly the
# /v1/... of the contract (lambda_http would otherwise prefix the stage name).

resource "aws_apigatewayv2_api" "main" {
  name          = "weelo-${var.environment}"
  protocol_type = "HTTP"
  description   = "Weelo API (docs/openapi.yaml)"

  # Native apps need no CORS; it is opened only for origins the operator lists.
  dynamic "cors_configuration" {
    for_each = length(var.cors_allowed_origins) > 0 ? [1] : []
    content {
      allow_origins = var.cors_allowed_origins
      allow_methods = ["GET", "POST", "PUT"]
      allow_headers = ["authorization", "content-type", "idempotency-key"]
      max_age       = 3600
    }
  }
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.main.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = local.jwt_issuer
    audience = [aws_cognito_user_pool_client.app.id]
  }
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.main.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.this["api"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "authenticated" {
  for_each = { for key, r in local.api_routes : key => r if !r.public }

  api_id             = aws_apigatewayv2_api.main.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_apigatewayv2_route" "public" {
  #checkov:skip=CKV_AWS_309:Only GET /v1/health and GET /track are public, by contract (security: [] in docs/openapi.yaml): the liveness check, and the static tracking page of shared links, which holds no data; the share token it connects with is in the URL fragment, which browsers never send.
  for_each = { for key, r in local.api_routes : key => r if r.public }

  api_id             = aws_apigatewayv2_api.main.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = "NONE"
}

# Anything else (other methods on known paths, unknown paths) still reaches the api behind the
# authorizer, so callers get the contract's 404/405 error shape rather than the gateway's.
resource "aws_apigatewayv2_route" "fallback" {
  api_id             = aws_apigatewayv2_api.main.id
  route_key          = "$default"
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.jwt.id
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (profile default 30 or 7 days, for cost); set 365 where compliance asks for a year.
  name              = "/weelo/${var.environment}/api-access"
  retention_in_days = local.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  # Read only through Logs Insights; half the Standard ingestion price (var.access_log_class).
  log_group_class = var.access_log_class
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.main.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.api_throttle_rate_limit
    throttling_burst_limit   = var.api_throttle_burst_limit
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      sourceIp           = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      latencyMs          = "$context.responseLatency"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
      userId             = "$context.authorizer.claims.sub"
    })
  }
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "HttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["api"].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.main.execution_arn}/*"
}
