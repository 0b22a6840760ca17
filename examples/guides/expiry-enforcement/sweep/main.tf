# Self-contained on purpose: this example works when copied alone, so it repeats blocks of other examples.
# Every time this provider is configured (each plan and apply), it first revokes the IAM users under its user_path
# whose lease expired more than 10 minutes ago, and users left half-created by an interrupted issue (no access key
# or no expiry guard) older than that. Only users carrying the awsdynamic:lease-id tag are ever touched; what was
# removed is reported as a warning.
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

provider "awsdynamic" {
  region               = "us-east-1"
  user_path            = "/awsdynamic/"
  sweep_expired_leases = true
}
