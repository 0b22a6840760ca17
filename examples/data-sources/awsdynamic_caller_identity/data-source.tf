# Who mints the credentials: the provider's root identity.
data "awsdynamic_caller_identity" "root" {}

output "minting_account" {
  value = data.awsdynamic_caller_identity.root.account_id
}

output "minting_principal" {
  value = data.awsdynamic_caller_identity.root.arn
}
