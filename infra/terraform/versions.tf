# Terraform and provider versions are pinned: a deploy must not change because a provider moved.
# 1.10: the S3 backend's use_lockfile below (OpenTofu 1.10; Terraform 1.10 experimental, 1.11 GA).
# AWS provider 6.37: global_secondary_index.key_schema (6.29, fixed with dynamic blocks in 6.30, for
# single range keys in 6.32.1, for GSI removal in 6.37), and metrics_config's ErrorCount and
# KafkaMetrics (the provider checks them against its AWS SDK, whose Lambda client has them since
# 2026-01-28). provisioned_poller_config (5.x) and an S3 on-failure ARN need nothing newer; the
# poller groups' poller_group_name (profile.tf, esm.tf) needs 6.28.
terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.37"
    }
  }

  # Remote state (recommended for any shared deployment):
  # backend "s3" {
  #   bucket       = "my-weelo-terraform-state"
  #   key          = "weelo/terraform.tfstate"
  #   region       = "ap-south-1"
  #   use_lockfile = true
  #   encrypt      = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = "weelo"
      environment = var.environment
    }
  }
}
