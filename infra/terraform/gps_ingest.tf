# GPS points through a Lambda function URL instead of the HTTP API (issue 20). A truck app sends
# a request of ~6 points every 30 s: ~99.7 % of all requests at the seed's load. Through API
# Gateway each costs an HTTP API request and an access-log line (~$890 a month at the seed,
# docs/COSTS.md); a function URL costs nothing beyond the function's own invocation.
#
# gps-ingest is the api's code (functions.json: binary "api", API_ROUTES=gps-ingest), so it
# verifies the Cognito token itself exactly as the api does (signature from the user pool's JWKS,
# issuer, audience, expiry, role: only a transporter may send points) and answers every other
# route 404 before reading a token or a body. Its role may only publish to location.updated
# (lambda.tf): no table, no SNS. What the HTTP API adds and the URL does not, and what stands in:
# - the JWT authorizer: the function's own verification above (the api does it too, behind the
#   authorizer, so one code path is tested locally and runs in AWS);
# - stage throttling: var.function_reserved_concurrency["gps-ingest"] (default 100) caps its
#   concurrency, so a flood is throttled (HTTP 429 from Lambda) without taking the other functions'
#   concurrency; an anonymous request is still an invocation (refused 401 or 404 in ~1 ms);
# - access logs and the API's 5xx and latency alarms: Lambda's function URL metrics
#   (Url5xxCount, UrlRequestLatency: alarms.tf), its Errors and Throttles alarms, and the
#   function's Published/PublishFailed metrics;
# - a custom domain: none; the apps read the URL from the `gps_ingest_url` output. A CloudFront
#   distribution in front would add one, at about API Gateway's price per request.
# The HTTP API keeps POST /v1/tracking/location (served by the api), so an app that has not moved
# to the URL keeps working, at the gateway's price.

resource "aws_lambda_function_url" "gps_ingest" {
  #checkov:skip=CKV_AWS_258:Public by design: the function verifies the caller's Cognito JWT itself (same code as the api behind the JWT authorizer) and only publishes GPS points (see above).
  function_name      = aws_lambda_function.this["gps-ingest"].function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# A URL with auth type NONE needs both statements in the function's policy (since October 2025:
# https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), each limited to calls through
# the URL.
resource "aws_lambda_permission" "gps_ingest_url" {
  #checkov:skip=CKV_AWS_301:A function URL's callers are the public: the source is the URL itself (function_url_auth_type), not an AWS resource.
  statement_id           = "FunctionUrlPublic"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this["gps-ingest"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "gps_ingest_invoke" {
  #checkov:skip=CKV_AWS_301:A function URL's callers are the public: invoked_via_function_url limits this statement to calls through it.
  statement_id             = "FunctionUrlInvoke"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this["gps-ingest"].function_name
  principal                = "*"
  invoked_via_function_url = true
}
