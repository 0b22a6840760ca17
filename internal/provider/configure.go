package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// configuredData unpacks what the provider's Configure handed over. Nil before configuration (validate runs so).
func configuredData(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider: please report it.", v))
		return nil
	}
	return d
}

// accountID names the account for messages; unknown when credential validation was skipped.
func (d *providerData) accountID() string {
	if d.identity == nil {
		return "(unknown: skip_credentials_validation is set)"
	}
	return d.identity.AccountID
}
