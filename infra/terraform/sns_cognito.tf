# Identity and push: the Cognito user pool whose ID tokens the API accepts (the role lives in the
# custom attribute `custom:role`), and the SNS platform application for FCM HTTP v1.

# --- FCM ---------------------------------------------------------------------------------------

data "aws_secretsmanager_secret_version" "fcm" {
  count     = var.fcm_service_account_secret_arn == null ? 0 : 1
  secret_id = var.fcm_service_account_secret_arn
}

resource "aws_sns_platform_application" "fcm" {
  name     = "${local.name_prefix}fcm"
  platform = "GCM" # SNS names FCM "GCM"; a service-account JSON as credential selects HTTP v1.
  # The credential never enters the repository, but it does enter the state in plain text (the
  # provider stores platform_credential as given since v3.0, and the secret_version data source
  # stores secret_string): keep the state encrypted and access-controlled (versions.tf backend).
  platform_credential = coalesce(var.fcm_service_account_json, try(data.aws_secretsmanager_secret_version.fcm[0].secret_string, null))
}

# --- Cognito -----------------------------------------------------------------------------------

resource "aws_cognito_user_pool" "main" {
  name                     = "weelo-${var.environment}"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.table_deletion_protection ? "ACTIVE" : "INACTIVE"

  # Feature plan (variables.tf, cognito_user_pool_tier; default LITE): the pool issues ID tokens
  # with custom:role and has no pre token generation trigger, domain, MFA, password history or
  # threat protection, so nothing here needs Essentials or Plus
  # (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-sign-in-feature-plans.html).
  # Not setting it would get AWS's default, Essentials, at about 2.7 times Lite's price per MAU.
  user_pool_tier = var.cognito_user_pool_tier

  # Users are created by an operator with their role (docs/deploy.md): a self-service sign-up
  # would let anyone pick `transporter`. A sign-up flow that sets the role server-side is app work.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = false
  }

  schema {
    name                     = "role"
    attribute_data_type      = "String"
    mutable                  = true
    developer_only_attribute = false
    string_attribute_constraints {
      min_length = 1
      max_length = 32
    }
  }

  # A user pool with a domain (managed login, hosted UI, or a custom domain) refuses every request
  # that comes through a cognito-idp VPC endpoint (Cognito guide, "Access Amazon Cognito using an
  # interface endpoint"): the api's JWKS fetch, the only call to Cognito from the VPC, would then
  # fail at every cold start. Checked on every plan after refresh, so a domain added outside
  # Terraform stops the next plan too. With nat_gateway = true there is no cognito-idp endpoint and
  # the JWKS comes through the NAT, so a domain is allowed.
  lifecycle {
    postcondition {
      condition = !contains(local.interface_endpoints, "cognito-idp") || (
        (self.domain == null || self.domain == "") && (self.custom_domain == null || self.custom_domain == "")
      )
      error_message = "The user pool has a domain, which Cognito refuses through the cognito-idp VPC endpoint the api loads its JWKS through: remove the domain, or set nat_gateway = true (drops that endpoint; the JWKS then comes through the NAT)."
    }
  }
}

resource "aws_cognito_user_pool_client" "app" {
  name         = "weelo-${var.environment}-app"
  user_pool_id = aws_cognito_user_pool.main.id

  generate_secret = false # public (mobile) client
  explicit_auth_flows = [
    "ALLOW_USER_SRP_AUTH",            # the apps
    "ALLOW_REFRESH_TOKEN_AUTH",       # the apps
    "ALLOW_ADMIN_USER_PASSWORD_AUTH", # operators with IAM credentials (docs/deploy.md)
  ]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true

  # The app may read the role (it is in the ID token) but never write it.
  read_attributes  = ["email", "email_verified", "custom:role"]
  write_attributes = ["email"]

  id_token_validity      = 60
  access_token_validity  = 60
  refresh_token_validity = 30
  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "days"
  }
}

locals {
  # What the api verifies (crates/auth): ID tokens of this pool, audience = the app client.
  jwt_issuer     = "https://${aws_cognito_user_pool.main.endpoint}"
  jwt_jwks_url   = "https://${aws_cognito_user_pool.main.endpoint}/.well-known/jwks.json"
  jwt_role_claim = "custom:role"
}
