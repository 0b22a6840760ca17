package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// checkPolicyRisks starts reading the role's policy ARNs that plan could not judge (customer-managed ones) beside
// Issue, so that the check adds calls but no round trip to it; the returned func waits for it and adds its
// warnings under role. Reading never fails an apply: lease.Issuer.PolicyRisks turns its own failures into warnings.
func checkPolicyRisks(ctx context.Context, issuer *lease.Issuer, role lease.Role) func(*diag.Diagnostics) {
	done := make(chan []lease.Problem, 1)
	go func() { done <- issuer.PolicyRisks(ctx, role) }()
	return func(diags *diag.Diagnostics) {
		for _, p := range <-done {
			diags.AddAttributeWarning(path.Root("role").AtName(p.Attribute), p.Summary, p.Detail)
		}
	}
}
