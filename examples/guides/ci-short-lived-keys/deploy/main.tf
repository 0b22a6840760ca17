# Self-contained on purpose: each step of this guide is its own configuration, so it repeats the others' setup.
# The deployment itself. The CI job's OIDC token becomes the provider's root identity; an ephemeral credential,
# issued for this run only, configures the aws provider. Nothing secret is in the plan, the state or the CI
# settings, and the IAM user behind the credential is revoked when the run ends.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

variable "oidc_token_file" {
  description = "File holding the CI job's OIDC token (the pipeline writes it, see the workflow)."
  type        = string
}

variable "job_id" {
  description = "The CI job or run ID: part of the IAM user's name, so CloudTrail shows which job did what."
  type        = string
  default     = "local"
}

provider "awsdynamic" {
  region = "us-east-1"

  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::123456789012:role/awsdynamic-minter"
    session_name            = "ci-${var.job_id}"
    web_identity_token_file = var.oidc_token_file
  }
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"

  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = ["arn:aws:s3:::example-site", "arn:aws:s3:::example-site/*"]
    }]
  })
}

# Opened when the run needs it (it waits until the new key authenticates), renewed if the run outlasts
# renew_before, revoked when the run ends. If the job is killed first, the expiry guard stops the key after ttl.
ephemeral "awsdynamic_credential" "deploy" {
  role         = awsdynamic_role.deploy
  ttl          = "30m"
  display_name = var.job_id
}

provider "aws" {
  region     = "us-east-1"
  access_key = ephemeral.awsdynamic_credential.deploy.access_key_id
  secret_key = ephemeral.awsdynamic_credential.deploy.secret_access_key
}

resource "aws_s3_object" "index" {
  bucket       = "example-site"
  key          = "index.html"
  source       = "${path.module}/site/index.html"
  etag         = filemd5("${path.module}/site/index.html")
  content_type = "text/html"
}
