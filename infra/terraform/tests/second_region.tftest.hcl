# Plan-level test of a second deployment: another region and environment, as one tfvars file would
# give them. The set-up is plan.tftest.hcl's, in eu-west-1 (each test file configures its own
# provider). Nothing here changes what a user applies: the provider block, the overrides and the
# variables below exist only in this test run.
#
# No AWS is called: static dummy credentials with every start-up check skipped, and the data
# sources that would call AWS at plan time answered by override_data. The KMS key, the MSK
# cluster, the SNS application and the WebSocket API get known ARNs (and id) from override_resource
# (their ARNs hold ids AWS picks); tables, queues, buckets and log groups have ARNs built from their names (main.tf,
# arn_prefix) and the policies are plain JSON (iam.tf), so every role's policy is known at plan
# time and can be asserted.

provider "aws" {
  region                      = var.region
  access_key                  = "plan-test"
  secret_key                  = "plan-test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variables {
  # base64 of 32 bytes of zeroes: a syntactically valid key that protects nothing.
  cursor_key                     = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
  region                         = "eu-west-1"
  environment                    = "staging"
  fcm_service_account_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:weelo/fcm-plan-test"
  alarm_email                    = "oncall@example.com"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_availability_zones.available
  values = {
    names    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    zone_ids = ["euw1-az3", "euw1-az1", "euw1-az2"]
  }
}

override_data {
  target = data.aws_secretsmanager_secret_version.fcm
  values = { secret_string = "{\"type\":\"service_account\",\"project_id\":\"plan-test\"}" }
}

# The standard profile's provisioned cluster: three brokers, one per zone (SASL/IAM on 9098).
override_data {
  target = data.aws_msk_bootstrap_brokers.main
  values = { bootstrap_brokers_sasl_iam = "b-1.weelostaging.plantest.c3.kafka.eu-west-1.amazonaws.com:9098,b-2.weelostaging.plantest.c3.kafka.eu-west-1.amazonaws.com:9098,b-3.weelostaging.plantest.c3.kafka.eu-west-1.amazonaws.com:9098" }
}

override_resource {
  target = aws_kms_key.main
  values = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
}

override_resource {
  target = aws_msk_cluster.main
  values = { arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/weelo-staging/11111111-2222-3333-4444-555555555555-3" }
}

override_resource {
  target = aws_msk_configuration.main
  values = { arn = "arn:aws:kafka:eu-west-1:123456789012:configuration/weelo-staging-standard/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee-3", latest_revision = 1 }
}

override_resource {
  target = aws_sns_platform_application.fcm
  values = { arn = "arn:aws:sns:eu-west-1:123456789012:app/GCM/weelo-staging-fcm" }
}

# The live-tracking WebSocket API's id is AWS's pick too; live-tracking's policy and environment
# name it (websocket.tf).
override_resource {
  target = aws_apigatewayv2_api.live
  values = {
    id            = "live0api01"
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:live0api01"
    api_endpoint  = "wss://live0api01.execute-api.eu-west-1.amazonaws.com"
  }
}


run "a_second_region_and_environment_names_everything_after_them" {
  command = plan

  assert {
    condition     = alltrue([for t in merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed) : startswith(t.name, "weelo-staging-")])
    error_message = "tables must be named after the environment"
  }

  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.function : [
        for s in jsondecode(p.policy).Statement : [
          for r in flatten([s.Resource]) : strcontains(r, ":eu-west-1:") && !strcontains(r, "weelo-prod")
          if startswith(r, "arn:aws:dynamodb:") || startswith(r, "arn:aws:sqs:") || startswith(r, "arn:aws:logs:") || startswith(r, "arn:aws:execute-api:")
        ]
      ]
    ]))
    error_message = "every table, queue, log-group and @connections grant must name the second region and environment"
  }

  assert {
    condition     = nonsensitive(aws_lambda_function.this["live-tracking"].environment[0].variables["LIVE_CONNECTIONS_URL"]) == "https://live0api01.execute-api.eu-west-1.amazonaws.com/live" && aws_apigatewayv2_api.live.name == "weelo-staging-live"
    error_message = "the WebSocket API and live-tracking's @connections endpoint must be the second region's and environment's"
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : startswith(s.availability_zone_id, "euw1-")])
    error_message = "subnets must be placed in the second region's zones (by zone ID)"
  }

  assert {
    condition     = aws_msk_cluster.main[0].cluster_name == "weelo-staging" && aws_msk_configuration.main[0].name == "weelo-staging-standard"
    error_message = "the MSK cluster and its configuration must be named after the environment (and the configuration after the profile)"
  }

  assert {
    condition     = aws_s3_bucket.audit.bucket == "weelo-staging-audit-123456789012-eu-west-1"
    error_message = "the archive bucket's global name must carry the environment, account and region"
  }
}

