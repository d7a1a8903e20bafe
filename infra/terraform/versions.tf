# Terraform and provider versions are pinned: a deploy must not change because a provider moved.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.20"
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
