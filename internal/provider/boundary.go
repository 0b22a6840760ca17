package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// required_permissions_boundary_arn is a floor under every iam_user credential: whatever a role asks for, the user
// can never do more than the boundary allows. The provider fills it into the role it hands the engine, so the
// engine needs no notion of it, and refuses at plan a role that names another boundary.

const requiredBoundaryDescription = "Managed policy every IAM user the provider creates carries as its permissions " +
	"boundary. A role that names no `permissions_boundary_arn` gets this one; a role that names another is refused at " +
	"plan. Together with the root identity's policy from the `awsdynamic_root_policy` data source (which allows " +
	"creating users only with this boundary and denies removing it), the root identity cannot mint a user more " +
	"powerful than the boundary. Changing it replaces every `iam_user` credential whose user carries another boundary " +
	"(or none): the new user is created with the new boundary and the old one is revoked. Removing it leaves existing " +
	"users' boundaries as they are."

// policyARN checks a managed-policy ARN at plan, with the engine's rule for a role's permissions_boundary_arn.
func policyARN() validator.String {
	return stringCheck("Invalid Permissions Boundary ARN", "a managed policy ARN such as `arn:aws:iam::123456789012:policy/boundary`", lease.ValidatePolicyARN)
}

// withRequiredBoundary is the role the engine is given: an iam_user role that names no permissions boundary gets
// the provider's required one. Issue and the role check go through it; an in-place update compares the boundary
// the user carries with boundaryValue instead.
func (d *providerData) withRequiredBoundary(r lease.Role) lease.Role {
	if d != nil && d.requiredBoundary != "" && r.CredentialType == lease.IAMUser && r.PermissionsBoundaryARN == "" {
		r.PermissionsBoundaryARN = d.requiredBoundary
	}
	return r
}

// checkRequiredBoundary refuses an iam_user role that names a boundary other than the provider's required one.
func checkRequiredBoundary(r lease.Role, unknown map[string]bool, data *providerData, base path.Path, diags *diag.Diagnostics) {
	if data == nil || data.requiredBoundary == "" || unknown["credential_type"] || unknown["permissions_boundary_arn"] {
		return
	}
	if r.CredentialType != lease.IAMUser || r.PermissionsBoundaryARN == "" || r.PermissionsBoundaryARN == data.requiredBoundary {
		return
	}
	diags.AddAttributeError(base.AtName("permissions_boundary_arn"), "Permissions Boundary Not Allowed",
		fmt.Sprintf("The provider requires every iam_user credential to carry the permissions boundary %s "+
			"(required_permissions_boundary_arn), but role %q names %s. Remove permissions_boundary_arn from the role "+
			"(the provider sets %s), or set it to %s.",
			data.requiredBoundary, r.Name, r.PermissionsBoundaryARN, data.requiredBoundary, data.requiredBoundary))
}

// boundaryValue is the boundary a credential's user carries, as the managed resource reports it.
//
// For a role that names a boundary it is that one; otherwise the provider's required one. With neither, a user
// keeps what it has: when the role never named a boundary (stateRole is empty), the user's boundary came from a
// provider setting that has since been removed, and nothing removes it from the user; when the role named one and
// now names none, the engine's update removes it.
func boundaryValue(data *providerData, planRole roleArgs, stateRole *roleArgs, live types.String) types.String {
	if planRole.CredentialType.IsUnknown() || planRole.PermissionsBoundaryARN.IsUnknown() {
		return types.StringUnknown()
	}
	if lease.CredentialType(planRole.CredentialType.ValueString()) != lease.IAMUser {
		return types.StringValue("")
	}
	if b := planRole.PermissionsBoundaryARN.ValueString(); b != "" {
		return types.StringValue(b)
	}
	if data != nil && data.requiredBoundary != "" {
		return types.StringValue(data.requiredBoundary)
	}
	if stateRole != nil && stateRole.PermissionsBoundaryARN.ValueString() == "" && !live.IsNull() && !live.IsUnknown() {
		return live
	}
	return types.StringValue("")
}

// liveBoundary is the boundary the user of a managed credential carries: the recorded one, else (state written
// before the provider recorded it) the role's, which is what CreateUser and every update since were sent.
func liveBoundary(recorded types.String, stateRole roleArgs) types.String {
	if !recorded.IsNull() && !recorded.IsUnknown() {
		return recorded
	}
	if lease.CredentialType(stateRole.CredentialType.ValueString()) != lease.IAMUser {
		return types.StringValue("")
	}
	return types.StringValue(stateRole.PermissionsBoundaryARN.ValueString())
}
