# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# An SES SMTP user that already exists and that another team owns: the provider rotates only the key it creates.
resource "awsdynamic_static_credential" "smtp" {
  username        = "ses-smtp-legacy"
  rotation_period = "720h" # 30 days; Vault's rotation_period, at least 1m
}

# The same for a user in another account, reached through a role there.
resource "awsdynamic_static_credential" "partner" {
  username                 = "partner-uploader"
  rotation_period          = "168h"
  assume_role_arn          = "arn:aws:iam::210987654321:role/awsdynamic-key-rotator"
  assume_role_session_name = "awsdynamic-static"
  external_id              = "partner-4242"
}

output "smtp_access_key_id" {
  value = awsdynamic_static_credential.smtp.access_key_id
}

output "smtp_next_rotation" {
  value = awsdynamic_static_credential.smtp.next_rotation_at
}
