# Self-contained on purpose: this directory is meant to be copied alone, so it repeats other examples' setup.
# A complete awsdynamic configuration: one role, a credential kept in state and one that lives for a single run.
# `make demo` applies it against a local moto server; with moto_endpoint unset it runs against the AWS account
# of your AWS_* credentials (it then creates real, short-lived IAM users under /awsdynamic/).
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

variable "moto_endpoint" {
  description = "IAM and STS endpoint of an AWS emulator such as moto (http://127.0.0.1:PORT); null for real AWS."
  type        = string
  default     = null
}

provider "awsdynamic" {
  region      = "us-east-1"
  default_ttl = "1h"
  max_ttl     = "24h"

  endpoints {
    iam = var.moto_endpoint
    sts = var.moto_endpoint
  }

  default_tags = {
    example = "quickstart"
  }
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  description     = "Read-only access plus one bucket to write to"

  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::quickstart-artifacts/*"
    }]
  })

  iam_tags = {
    team = "platform"
  }

  default_ttl = "2h"
  max_ttl     = "8h"
}

# Kept in state, renewed on refresh within 30 minutes of expiry, revoked on destroy.
resource "awsdynamic_credential" "ci" {
  role         = awsdynamic_role.deploy
  ttl          = "2h"
  renew_before = "30m"
  display_name = "ci"
}

# Issued for this run only, and revoked when it ends: never in plan or state. In a real configuration it
# configures another provider (see examples/ephemeral-resources/awsdynamic_credential); here a check block reads
# it. Something must: OpenTofu does not open an ephemeral resource that nothing refers to.
ephemeral "awsdynamic_credential" "run" {
  role         = awsdynamic_role.deploy
  ttl          = "15m"
  display_name = "run"
}

check "run_credential" {
  assert {
    condition     = startswith(ephemeral.awsdynamic_credential.run.iam_user_name, "awsdyn-deploy-run-")
    error_message = "The credential for this run should be an IAM user named after its role and display name."
  }
}

output "iam_user_name" {
  value = awsdynamic_credential.ci.iam_user_name
}

output "expires_at" {
  value = awsdynamic_credential.ci.expires_at
}

output "access_key_id" {
  description = "Not a secret on its own: the secret access key is in the sensitive output below."
  value       = awsdynamic_credential.ci.access_key_id
}

output "lease_id" {
  value = awsdynamic_credential.ci.id
}

output "secret_access_key" {
  value     = awsdynamic_credential.ci.secret_access_key
  sensitive = true
}
