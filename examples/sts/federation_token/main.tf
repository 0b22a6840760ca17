# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# Temporary credentials of a federated user (sts:GetFederationToken): permissions come only from the session
# policy, which combines policy_document, policy_arns and, as Vault does, the policies of iam_groups (a federated
# user cannot join a group, so the groups' inline policies are merged into the document and their managed policies
# join policy_arns; at most 10 ARNs and 2,048 characters in all).
#
# AWS refuses GetFederationToken with temporary credentials: the provider's root identity must be an IAM user's
# long-lived access key (a profile or access_key/secret_key), not assume_role or assume_role_with_web_identity.
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

provider "awsdynamic" {
  region  = "us-east-1"
  profile = "awsdynamic-minter"
}

resource "awsdynamic_role" "analyst" {
  name            = "analyst"
  credential_type = "federation_token"

  iam_groups  = ["data-readers"] # must exist: applying the role checks it
  policy_arns = ["arn:aws:iam::aws:policy/AmazonAthenaFullAccess"]
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::analytics", "arn:aws:s3:::analytics/*"]
    }]
  })

  session_tags = {
    team = "data"
  }

  default_sts_ttl = "8h"
  max_sts_ttl     = "12h"
}

resource "awsdynamic_credential" "analyst" {
  role              = awsdynamic_role.analyst
  role_session_name = "analyst-reports" # the federated user's name: 2-32 characters
}

output "federated_user_arn" {
  value = awsdynamic_credential.analyst.federated_user_arn
}

output "expires_at" {
  value = awsdynamic_credential.analyst.expires_at
}

# A ~/.aws/config profile can run this as credential_process.
output "credential_process" {
  value     = awsdynamic_credential.analyst.credential_process
  sensitive = true
}
