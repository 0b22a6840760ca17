# Every IAM user the provider creates carries this boundary; the root policy lets the root identity create users
# only with it, and never remove or edit it.
provider "awsdynamic" {
  required_permissions_boundary_arn = "arn:aws:iam::123456789012:policy/awsdynamic-boundary"
}

# The root identity's policy for iam_user and assumed_role credentials: it may attach only these managed policies,
# join only this group and assume only this role.
data "awsdynamic_root_policy" "root" {
  credential_types    = ["iam_user", "assumed_role"]
  allowed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  allowed_groups      = ["deployers"]
  role_arns           = ["arn:aws:iam::123456789012:role/awsdynamic-deployer"]
}

output "root_policy_json" {
  value = data.awsdynamic_root_policy.root.json
}
