# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# Vault roles, one per credential type, and the credentials read from them:
#
#   vault write aws/roles/deploy credential_type=iam_user policy_arns=arn:aws:iam::aws:policy/ReadOnlyAccess \
#     iam_groups=deployers iam_tags=team=platform permissions_boundary_arn=arn:aws:iam::123456789012:policy/boundary \
#     user_path=/deploy/
#   vault write aws/roles/audit credential_type=assumed_role role_arns=arn:aws:iam::123456789012:role/audit \
#     default_sts_ttl=1h max_sts_ttl=4h session_tags=team=security external_id=audit-2024
#   vault write aws/roles/reports credential_type=federation_token policy_arns=arn:aws:iam::aws:policy/ReadOnlyAccess
#
#   vault read aws/creds/deploy ttl=2h
#   vault write aws/sts/audit role_session_name=nightly-audit ttl=1h
#   vault write aws/sts/reports ttl=8h
resource "awsdynamic_role" "deploy" {
  name                     = "deploy"
  credential_type          = "iam_user"
  policy_arns              = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  iam_groups               = ["deployers"]
  iam_tags                 = { team = "platform" }
  permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary"
  user_path                = "/deploy/"
}

resource "awsdynamic_role" "audit" {
  name            = "audit"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/audit"]
  default_sts_ttl = "1h"
  max_sts_ttl     = "4h"
  session_tags    = { team = "security" }
  external_id     = "audit-2024"
}

resource "awsdynamic_role" "reports" {
  name            = "reports"
  credential_type = "federation_token"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

# aws/creds/deploy ttl=2h, kept in state: renewed on refresh, revoked on destroy.
resource "awsdynamic_credential" "deploy" {
  role = awsdynamic_role.deploy
  ttl  = "2h"
}

# aws/sts/audit for this run only.
ephemeral "awsdynamic_credential" "audit" {
  role              = awsdynamic_role.audit
  role_session_name = "nightly-audit"
  ttl               = "1h"
}

# aws/sts/reports ttl=8h.
resource "awsdynamic_credential" "reports" {
  role = awsdynamic_role.reports
  ttl  = "8h"
}
