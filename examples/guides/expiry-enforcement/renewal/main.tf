# A lease's timeline, with these numbers:
#
#   issued at T, expires_at = T+2h, max_expires_at = T+8h (the role's max_ttl)
#   a refresh before T+1h30m changes nothing; from T+1h30m (inside renew_before) it renews: expires_at = now+2h
#   ...and so on, until a renewal could no longer carry the lease past its next window (close to T+8h):
#   then the plan replaces the credential (a new IAM user and key, the old one revoked)
#   if no refresh comes at all, the key stops working at expires_at: the guard denies everything from then on
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  max_ttl         = "8h"
}

resource "awsdynamic_credential" "deploy" {
  role         = awsdynamic_role.deploy
  ttl          = "2h"
  renew_before = "30m"

  # A replacement issues the new credential before the old one is revoked, so consumers never see a gap.
  lifecycle {
    create_before_destroy = true
  }
}

output "expires_at" {
  value = awsdynamic_credential.deploy.expires_at
}

output "max_expires_at" {
  value = awsdynamic_credential.deploy.max_expires_at
}
