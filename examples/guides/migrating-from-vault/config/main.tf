# Vault's config/root and config/lease, as this provider's configuration:
#
#   vault write aws/config/root region=us-east-1 max_retries=5 \
#     iam_endpoint=https://iam.amazonaws.com sts_endpoint=https://sts.us-east-1.amazonaws.com \
#     username_template='{{ if (eq .Type "STS") }}{{ printf "vault-%s-%s" (unix_time) (random 20) | truncate 32 }}{{ else }}{{ printf "vault-%s-%s-%s" (printf "%s-%s" (.DisplayName) (.PolicyName) | truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}'
#   vault write aws/config/lease lease=1h lease_max=24h
#
# access_key and secret_key are left to the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE), as
# Vault's server did when config/root had none; better, replace the key with assume_role or, in CI,
# assume_role_with_web_identity.
provider "awsdynamic" {
  region      = "us-east-1"
  max_retries = 5

  endpoints {
    iam = "https://iam.amazonaws.com"
    sts = "https://sts.us-east-1.amazonaws.com"
  }

  # Vault's default template, copied as is: its functions and fields (.DisplayName, .PolicyName, which is the
  # role's name, and .Type, "IAM" or "STS") work unchanged. Leave username_template out for the provider's own
  # default, awsdyn-<role>-<display name>-<unix time>-<random>.
  username_template = "{{ if (eq .Type \"STS\") }}{{ printf \"vault-%s-%s\" (unix_time) (random 20) | truncate 32 }}{{ else }}{{ printf \"vault-%s-%s-%s\" (printf \"%s-%s\" (.DisplayName) (.PolicyName) | truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}"

  # config/lease: lease and lease_max.
  default_ttl = "1h"
  max_ttl     = "24h"

  # Where the IAM users go. Vault puts them at "/" unless a role sets user_path; a path of their own lets the sweep
  # and a least-privilege policy find exactly them.
  user_path = "/awsdynamic/"
}
