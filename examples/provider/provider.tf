terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

# The provider's own credentials are the root identity that mints short-lived ones. Here they come from the
# environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), as in the AWS SDK; access_key and
# secret_key in this block would override them.
provider "awsdynamic" {
  region = "eu-west-1"

  # Leases last an hour unless a role or credential says otherwise, and are never renewed past a day.
  default_ttl = "1h"
  max_ttl     = "24h"

  # IAM user names: at most 64 characters. This is Vault's template syntax, so a Vault template works as is.
  username_template = "tf-{{ .RoleName | truncate 20 }}-{{ .DisplayName | truncate 16 }}-{{ random 8 }}"
  user_path         = "/awsdynamic/"

  default_tags = {
    managed-by = "terraform"
    owner      = "platform-team"
  }
}
