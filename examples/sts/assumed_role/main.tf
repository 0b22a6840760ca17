# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# Temporary credentials of an existing IAM role (sts:AssumeRole), narrowed by a session policy. Nothing is created
# in IAM. The IAM role's trust policy must let the provider's root identity assume it, for example:
#
#   {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/awsdynamic-minter"},
#    "Action": ["sts:AssumeRole", "sts:TagSession"],
#    "Condition": {"StringEquals": {"sts:ExternalId": "awsdynamic-deploy"}}}
#
# (sts:TagSession because the role below sets session_tags; the condition because it sets external_id.)
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

provider "awsdynamic" {
  region = "us-east-1"
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "assumed_role"
  role_arns = [
    "arn:aws:iam::123456789012:role/deploy",
    "arn:aws:iam::123456789012:role/deploy-prod",
  ]

  # Session policies only narrow what the IAM role allows: this session may write to one bucket, whatever else
  # the IAM role could do.
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::deploy-artifacts/*"
    }]
  })

  session_tags = {
    team = "platform"
  }
  external_id = "awsdynamic-deploy"

  # The IAM role's MaxSessionDuration (1h unless raised, 12h at most) must cover every credential's ttl: the one
  # below asks for 2h.
  default_sts_ttl = "1h"
  max_sts_ttl     = "4h"
}

# Kept in state. AWS fixes an STS credential's expiry when it issues it, so it cannot be renewed: a plan inside
# renew_before of the expiry replaces it with a new one. Destroy revokes nothing, because AWS cannot revoke a single
# STS session; the credential simply expires. To cut off every session of an IAM role at once, use "Revoke active
# sessions" on the IAM role (a deny policy on aws:TokenIssueTime).
resource "awsdynamic_credential" "deploy" {
  role              = awsdynamic_role.deploy
  role_arn          = "arn:aws:iam::123456789012:role/deploy" # required: the role has two role_arns
  role_session_name = "deploy-pipeline"                       # shows in CloudTrail; default from the username template
  ttl               = "2h"
  renew_before      = "30m"
}

output "assumed_role_arn" {
  value = awsdynamic_credential.deploy.assumed_role_arn
}

output "expires_at" {
  value = awsdynamic_credential.deploy.expires_at
}

# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION for a CI step.
output "env" {
  value     = awsdynamic_credential.deploy.env
  sensitive = true
}
