# Parallel on purpose: awsdynamic-after/main.tf mirrors this file block for block, to compare line by line.
# Before: Vault's AWS secrets engine, configured and used through the Vault provider. A Vault server has to run,
# be unsealed and be reachable from wherever Terraform runs.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
    vault = {
      source = "hashicorp/vault"
    }
  }
}

# config/root and config/lease
resource "vault_aws_secret_backend" "aws" {
  path                      = "aws"
  region                    = "us-east-1"
  default_lease_ttl_seconds = 3600
  max_lease_ttl_seconds     = 86400
}

# roles/deploy
resource "vault_aws_secret_backend_role" "deploy" {
  backend         = vault_aws_secret_backend.aws.path
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

# creds/deploy: read at every plan, and written to the state.
data "vault_aws_access_credentials" "deploy" {
  backend = vault_aws_secret_backend.aws.path
  role    = vault_aws_secret_backend_role.deploy.name
  type    = "creds"
}

provider "aws" {
  region     = "us-east-1"
  access_key = data.vault_aws_access_credentials.deploy.access_key
  secret_key = data.vault_aws_access_credentials.deploy.secret_key
}

resource "aws_s3_object" "release" {
  bucket  = "example-artifacts"
  key     = "release.txt"
  content = "deployed"
}
