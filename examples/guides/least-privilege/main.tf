# The root identity as an IAM user holding exactly the documented policies, as customer managed policies (together
# they would crowd IAM's 2,048-character budget for a user's inline policies). A CI job that assumes a role
# (assume_role or assume_role_with_web_identity) attaches the same policies to that role instead.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

resource "aws_iam_user" "awsdynamic_root" {
  name = "awsdynamic-root"
}

resource "aws_iam_policy" "awsdynamic" {
  for_each = toset(["iam_user", "sts"])

  name        = "awsdynamic-${replace(each.key, "_", "-")}-credentials"
  description = "What the awsdynamic provider's root identity needs for ${each.key} credentials."
  policy      = file("${path.module}/${each.key}.json")
}

resource "aws_iam_user_policy_attachment" "awsdynamic" {
  for_each = aws_iam_policy.awsdynamic

  user       = aws_iam_user.awsdynamic_root.name
  policy_arn = each.value.arn
}
