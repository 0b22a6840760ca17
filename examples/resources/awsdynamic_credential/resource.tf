# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

# The lease is kept in state. A refresh within renew_before of expiry renews it; once it cannot be renewed any
# more, the next plan replaces it; destroy revokes it (the IAM user and everything attached to it).
resource "awsdynamic_credential" "ci" {
  role         = awsdynamic_role.deploy
  ttl          = "2h"
  renew_before = "30m"
  display_name = "ci"
}

# Environment variables for a CI step. The secret access key is in state: keep the state encrypted, or use the
# ephemeral awsdynamic_credential, which never is.
output "ci_env" {
  value     = awsdynamic_credential.ci.env
  sensitive = true
}

output "ci_expires_at" {
  value = awsdynamic_credential.ci.expires_at
}
