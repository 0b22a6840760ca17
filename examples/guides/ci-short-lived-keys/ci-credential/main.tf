# Self-contained on purpose: each step of this guide is its own configuration, so it repeats the others' setup.
# A credential for the steps after Terraform: scripts, the AWS CLI, SDKs. It is a managed resource, so its outputs
# can leave Terraform (`terraform output -json env`); its secret is therefore in this configuration's state, which
# stays on the CI runner for the length of the job (local state, never committed or uploaded). The job's last step
# destroys it, which revokes the IAM user; if that step never runs, the expiry guard stops the key after ttl.
terraform {
  required_providers {
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
  description = "The CI job or run ID: part of the IAM user's name."
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

resource "awsdynamic_role" "artifacts" {
  name            = "artifacts"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]

  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::example-artifacts/*"
    }]
  })

  # A job that runs longer than an hour must apply again (a refresh renews the lease), never past two hours.
  default_ttl = "1h"
  max_ttl     = "2h"
}

resource "awsdynamic_credential" "job" {
  role         = awsdynamic_role.artifacts
  display_name = var.job_id
}

# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_CREDENTIAL_EXPIRATION (and AWS_SESSION_TOKEN for STS types).
output "env" {
  value     = awsdynamic_credential.job.env
  sensitive = true
}

# The same credential as a credential_process program's output, for tools that read ~/.aws/config.
output "credential_process" {
  value     = awsdynamic_credential.job.credential_process
  sensitive = true
}

output "expires_at" {
  value = awsdynamic_credential.job.expires_at
}
