# Self-contained on purpose: this directory is meant to be copied alone, so it repeats other examples' setup.
# The root identity's policy rendered by the provider, granted by an administrator's configuration (with the
# hashicorp/aws provider) to the IAM user the awsdynamic provider runs as.
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

# The boundary every lease user carries: the most any credential can ever do.
resource "aws_iam_policy" "boundary" {
  name = "awsdynamic-boundary"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:Get*", "s3:List*", "sqs:SendMessage"]
      Resource = "*"
    }]
  })
}

provider "awsdynamic" {
  required_permissions_boundary_arn = aws_iam_policy.boundary.arn
}

data "awsdynamic_root_policy" "root" {
  allowed_policy_arns = ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  allowed_groups      = ["deployers"]
}

resource "aws_iam_user" "awsdynamic_root" {
  name = "awsdynamic-root"
}

resource "aws_iam_policy" "awsdynamic_root" {
  name   = "awsdynamic-root"
  policy = data.awsdynamic_root_policy.root.json
}

resource "aws_iam_user_policy_attachment" "awsdynamic_root" {
  user       = aws_iam_user.awsdynamic_root.name
  policy_arn = aws_iam_policy.awsdynamic_root.arn
}
