# Self-contained on purpose: this example works when copied alone, so it repeats other examples' setup.
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

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]
}

# Issued when the run needs it, renewed while the run lasts, revoked when it ends: never in plan or state.
ephemeral "awsdynamic_credential" "run" {
  role         = awsdynamic_role.deploy
  ttl          = "15m"
  display_name = "terraform-run"
}

# The aws provider works with a credential that exists only for this run.
provider "aws" {
  region     = "us-east-1"
  access_key = ephemeral.awsdynamic_credential.run.access_key_id
  secret_key = ephemeral.awsdynamic_credential.run.secret_access_key
}

resource "aws_s3_bucket" "assets" {
  bucket = "example-web-assets"
}
