# Import by the IAM user's name. No existing key is taken over (AWS never returns a secret after creation):
# the next apply creates the provider's own key, and the user's other keys stay as they are.
terraform import awsdynamic_static_credential.smtp ses-smtp-legacy
