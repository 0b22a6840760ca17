# Once per AWS account, with an administrator's credentials: trust the CI system's OIDC issuer, and create the role
# the awsdynamic provider's root identity becomes in CI. No access key is stored anywhere.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

# The OIDC issuers of GitHub Actions and GitLab.com (a self-managed GitLab: its own URL). Keep the one you use.
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  url            = "https://gitlab.com"
  client_id_list = ["sts.amazonaws.com"]
}

# The root identity in CI: only jobs of this repository's main branch (GitHub) or this project's main branch
# (GitLab) may become it.
resource "aws_iam_role" "minter" {
  name = "awsdynamic-minter"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      # Parallel on purpose: one statement per CI system (GitHub's, then GitLab's); delete the one you do not use.
      {
        Effect    = "Allow"
        Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
        Action    = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringEquals = {
            "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
            "token.actions.githubusercontent.com:sub" = "repo:example-org/site:ref:refs/heads/main"
          }
        }
      },
      # Parallel on purpose: GitLab's statement, as GitHub's above; delete the one you do not use.
      {
        Effect    = "Allow"
        Principal = { Federated = aws_iam_openid_connect_provider.gitlab.arn }
        Action    = "sts:AssumeRoleWithWebIdentity"
        Condition = {
          StringEquals = {
            "gitlab.com:aud" = "sts.amazonaws.com"
            "gitlab.com:sub" = "project_path:example-group/site:ref_type:branch:ref:main"
          }
        }
      },
    ]
  })
}

# What the minter may do: the iam_user policy of the "Least-privilege IAM policies for the root identity" guide,
# saved next to this file.
resource "aws_iam_role_policy" "minter" {
  name   = "awsdynamic-iam-user"
  role   = aws_iam_role.minter.id
  policy = file("${path.module}/iam_user.json")
}

output "minter_role_arn" {
  value = aws_iam_role.minter.arn
}
