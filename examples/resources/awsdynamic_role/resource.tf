# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# A role issues nothing by itself: it is the recipe credentials are issued from, checked at plan time against
# IAM's limits and at apply time against what exists in the account.
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  description     = "Deploys the web tier"

  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject", "s3:DeleteObject"]
      Resource = "arn:aws:s3:::example-web-assets/*"
    }]
  })

  iam_tags = {
    team = "web"
  }

  default_ttl = "1h"
  max_ttl     = "8h"
}
