# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# Temporary credentials of the root identity itself (sts:GetSessionToken), here proven with an MFA code: hand the
# session credentials to tools, keep the long-lived key to this configuration. A session token carries the root
# identity's permissions (no session policy can narrow it) and cannot call IAM unless MFA was used.
#
# AWS refuses GetSessionToken with temporary credentials: the provider's root identity must be an IAM user's
# long-lived access key, and mfa_serial_number a device of that user.
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

variable "mfa_code" {
  description = "The 6 digits the MFA device shows now: terraform apply -var mfa_code=123456."
  type        = string
  sensitive   = true
}

provider "awsdynamic" {
  region  = "us-east-1"
  profile = "operator"
}

resource "awsdynamic_role" "operator" {
  name              = "operator"
  credential_type   = "session_token"
  mfa_serial_number = "arn:aws:iam::123456789012:mfa/operator"
  default_sts_ttl   = "12h"
}

# Each MFA code works once: pass a fresh one whenever a plan issues a new credential (at first, and when the old
# one is within renew_before of its expiry and is replaced).
resource "awsdynamic_credential" "operator" {
  role         = awsdynamic_role.operator
  mfa_code     = var.mfa_code
  renew_before = "1h"
}

output "expires_at" {
  value = awsdynamic_credential.operator.expires_at
}

output "env" {
  value     = awsdynamic_credential.operator.env
  sensitive = true
}
