# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# A CI pipeline with no long-lived AWS key at all: the provider exchanges the CI system's OIDC token for its root
# identity (sts:AssumeRoleWithWebIdentity), then mints a short-lived credential per job from that identity.
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

variable "ci_oidc_token_file" {
  description = "File the CI system writes its OIDC token to (GitHub Actions, GitLab CI, ...)."
  type        = string
  default     = "/var/run/secrets/ci/oidc-token"
}

provider "awsdynamic" {
  region = "us-east-1"

  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::123456789012:role/awsdynamic-minter"
    session_name            = "ci-awsdynamic"
    web_identity_token_file = var.ci_oidc_token_file
    duration                = "1h"
  }
}

resource "awsdynamic_role" "ci" {
  name            = "ci"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/PowerUserAccess"]
}

ephemeral "awsdynamic_credential" "job" {
  role         = awsdynamic_role.ci
  ttl          = "30m"
  display_name = "ci-job"
}
