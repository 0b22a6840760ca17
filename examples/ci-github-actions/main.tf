# Self-contained on purpose: this directory is meant to be copied alone, so it repeats other examples' setup.
# GitHub Actions with no AWS key stored anywhere. The job's OIDC token becomes the provider's root identity
# (sts:AssumeRoleWithWebIdentity); an ephemeral assumed_role credential, narrowed to what this configuration
# deploys, configures the aws provider for this run only: it is never written to plan or state.
#
# The workflow job:
#
#   permissions:
#     id-token: write
#     contents: read
#   steps:
#     - uses: actions/checkout@v4
#     - uses: hashicorp/setup-terraform@v3
#     - name: Fetch the OIDC token for AWS
#       run: |
#         curl -sSf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
#           "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com" | jq -r .value > "$RUNNER_TEMP/aws-oidc-token"
#     - run: terraform init
#     - run: terraform apply -auto-approve -var "oidc_token_file=$RUNNER_TEMP/aws-oidc-token" -var "run_id=$GITHUB_RUN_ID"
#
# IAM needs the GitHub OIDC provider (token.actions.githubusercontent.com) and two roles: the minter, which trusts
# that provider for this repository and may only sts:AssumeRole (and sts:TagSession) the deploy role; and the deploy
# role, which trusts the minter.
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

variable "oidc_token_file" {
  description = "File holding the job's OIDC token (written by the workflow step above)."
  type        = string
}

variable "run_id" {
  description = "GITHUB_RUN_ID: part of the session name, so CloudTrail shows which run did what."
  type        = string
  default     = "local"
}

provider "awsdynamic" {
  region = "us-east-1"

  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::123456789012:role/github-actions-minter"
    session_name            = "github-actions"
    web_identity_token_file = var.oidc_token_file
  }
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/deploy"]

  # This run may only write the site bucket, whatever else the deploy role allows.
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:GetObject", "s3:ListBucket"]
      Resource = ["arn:aws:s3:::example-site", "arn:aws:s3:::example-site/*"]
    }]
  })

  session_tags = {
    repository = "example/site"
  }
}

# The root identity is itself an assumed role, so AWS allows this second AssumeRole (role chaining) at most 1h.
ephemeral "awsdynamic_credential" "deploy" {
  role              = awsdynamic_role.deploy
  role_session_name = "gha-${var.run_id}"
  ttl               = "1h"
}

provider "aws" {
  region     = "us-east-1"
  access_key = ephemeral.awsdynamic_credential.deploy.access_key_id
  secret_key = ephemeral.awsdynamic_credential.deploy.secret_access_key
  token      = ephemeral.awsdynamic_credential.deploy.session_token
}

resource "aws_s3_object" "index" {
  bucket       = "example-site"
  key          = "index.html"
  content      = "<h1>Deployed by run ${var.run_id}</h1>"
  content_type = "text/html"
}
