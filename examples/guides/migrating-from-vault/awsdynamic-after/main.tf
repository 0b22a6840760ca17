# Parallel on purpose: it mirrors vault-before/main.tf block for block and, like every example, stands alone.
# After: the same role and the same kind of credential, with no Vault. The provider block is config/root and
# config/lease; the role is copied field by field; the credential is ephemeral, so it is never in plan or state, and
# it is revoked when the run ends.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

# config/root (credentials from the environment, as Vault's server took them) and config/lease
provider "awsdynamic" {
  region      = "us-east-1"
  default_ttl = "1h"
  max_ttl     = "24h"
}

# roles/deploy
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = "arn:aws:s3:::example-artifacts/*"
    }]
  })
  iam_tags = {
    team = "platform"
  }
}

# creds/deploy
ephemeral "awsdynamic_credential" "deploy" {
  role = awsdynamic_role.deploy
}

provider "aws" {
  region     = "us-east-1"
  access_key = ephemeral.awsdynamic_credential.deploy.access_key_id
  secret_key = ephemeral.awsdynamic_credential.deploy.secret_access_key
}

resource "aws_s3_object" "release" {
  bucket  = "example-artifacts"
  key     = "release.txt"
  content = "deployed"
}
