package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// roleArgs are a role's arguments: the awsdynamic_role resource's, and the `role` object a credential takes
// (`role = awsdynamic_role.deploy` passes the whole resource; Terraform drops the attributes it does not know).
type roleArgs struct {
	Name                   types.String        `tfsdk:"name"`
	CredentialType         types.String        `tfsdk:"credential_type"`
	Description            types.String        `tfsdk:"description"`
	PolicyARNs             types.Set           `tfsdk:"policy_arns"`
	PolicyDocument         policyDocumentValue `tfsdk:"policy_document"`
	IAMGroups              types.Set           `tfsdk:"iam_groups"`
	IAMTags                types.Map           `tfsdk:"iam_tags"`
	PermissionsBoundaryARN types.String        `tfsdk:"permissions_boundary_arn"`
	UserPath               types.String        `tfsdk:"user_path"`
	DefaultTTL             types.String        `tfsdk:"default_ttl"`
	MaxTTL                 types.String        `tfsdk:"max_ttl"`
	RoleARNs               types.List          `tfsdk:"role_arns"`
	ExternalID             types.String        `tfsdk:"external_id"`
	SessionTags            types.Map           `tfsdk:"session_tags"`
	DefaultSTSTTL          types.String        `tfsdk:"default_sts_ttl"`
	MaxSTSTTL              types.String        `tfsdk:"max_sts_ttl"`
	MFASerialNumber        types.String        `tfsdk:"mfa_serial_number"`
	SourceIdentity         types.String        `tfsdk:"source_identity"`
	AllowedSourceIPs       types.Set           `tfsdk:"allowed_source_ips"`
	AllowedSourceVPCs      types.Set           `tfsdk:"allowed_source_vpcs"`
	AllowedVPCEndpoints    types.Set           `tfsdk:"allowed_vpc_endpoints"`
}

// attrKind is the Terraform type of a role argument.
type attrKind int

const (
	kindString attrKind = iota
	kindDuration
	kindDocument
	kindSet
	kindList
	kindMap
)

// roleAttr describes one role argument once, for both schema packages (resource and ephemeral).
type roleAttr struct {
	name     string
	kind     attrKind
	required bool
	desc     string
}

var roleAttrs = []roleAttr{
	{"name", kindString, true, "Name of the role. It is part of every IAM user and session name issued from it (`.RoleName` in templates) and of the `awsdynamic:role` tag."},
	{"credential_type", kindString, true, "What the role issues: `iam_user` (an IAM user with an access key, renewable), `assumed_role`, `federation_token` or `session_token` (temporary STS credentials). Vault: `credential_type`."},
	{"description", kindString, false, "Free text for humans."},
	{"policy_arns", kindSet, false, "Managed policies attached to the user (`iam_user`) or passed as session policies (`assumed_role`, `federation_token`). Vault: `policy_arns`."},
	{"policy_document", kindDocument, false, "An IAM policy document (JSON) put inline on the user, or passed as the session policy. Reformatting it is no change. Together with the expiry guard it must fit IAM's 2,048-character inline budget. Vault: `policy_document`."},
	{"iam_groups", kindSet, false, "IAM groups the user joins (`iam_user`); for `federation_token` their policies are merged into the session policy, as Vault does. At most 10. Vault: `iam_groups`."},
	{"iam_tags", kindMap, false, "Tags on the IAM user, over the provider's `default_tags` (a key here replaces a default key that differs from it only in case: IAM compares tag keys case-insensitively). Keys may not begin with `awsdynamic:` in any case, the provider's own lease tags' prefix, and no two may differ only in case. Vault: `iam_tags`."},
	{"permissions_boundary_arn", kindString, false, "Managed policy set as the user's permissions boundary (`iam_user`). Vault: `permissions_boundary_arn`."},
	{"user_path", kindString, false, "IAM path of the users this role creates, overriding the provider's `user_path`. Vault: `user_path`."},
	{"default_ttl", kindDuration, false, "Lease TTL of `iam_user` credentials from this role, overriding the provider's `default_ttl`. Vault: `default_ttl`."},
	{"max_ttl", kindDuration, false, "Longest an `iam_user` lease from this role may be renewed to, counted from issue, overriding the provider's `max_ttl`."},
	{"role_arns", kindList, false, "IAM roles an `assumed_role` credential may assume. Vault: `role_arns`."},
	{"external_id", kindString, false, "External ID sent with sts:AssumeRole (`assumed_role`). Vault: `external_id`."},
	{"session_tags", kindMap, false, "Session tags sent with sts:AssumeRole or sts:GetFederationToken. With the provider's `audit_tags` on, the `awsdynamic:issued-by` and `awsdynamic:issued-from` tags join them (only for a role that sets session tags: tagging a session needs `sts:TagSession`, which such a role has); keys may not begin with `awsdynamic:`. Vault: `session_tags`."},
	{"default_sts_ttl", kindDuration, false, "Default lifetime of STS credentials from this role. Vault: `default_sts_ttl`."},
	{"max_sts_ttl", kindDuration, false, "Longest lifetime of STS credentials from this role. Vault: `max_sts_ttl`."},
	{"mfa_serial_number", kindString, false, "MFA device for `session_token` credentials: the credential's `mfa_code` is checked against it. Vault: `mfa_serial_number`."},
	{"source_identity", kindString, false, "Source identity set with sts:AssumeRole (`assumed_role`): CloudTrail records it on every action of the session and of roles chained from it, and the session cannot change it. 2–64 characters of letters, digits and +=,.@_-. The target role's trust policy must allow `sts:SetSourceIdentity`. No Vault equivalent."},
	{"allowed_source_ips", kindSet, false, "CIDR blocks (or addresses), IPv4 or IPv6, that requests made with the credential may come from (`aws:SourceIp`). With `allowed_source_vpcs` and `allowed_vpc_endpoints`, a request passes when it matches any of the three; every other request is denied, except those an AWS service makes on the caller's behalf (`aws:ViaAWSService`). For `iam_user` the expiry guard carries the Deny (and a change is made in place on a live credential); for `assumed_role` and `federation_token`, the session policy. Not for `session_token`, which takes no session policy. The guard's share of IAM's 2,048-character inline budget grows with each entry. No Vault equivalent."},
	{"allowed_source_vpcs", kindSet, false, "VPC IDs (`vpc-...`) that requests made with the credential may come from, through a VPC endpoint (`aws:SourceVpc`). See `allowed_source_ips`."},
	{"allowed_vpc_endpoints", kindSet, false, "VPC endpoint IDs (`vpce-...`) that requests made with the credential may come through (`aws:SourceVpce`). See `allowed_source_ips`."},
}

// toRole converts the arguments into the engine's Role, recording which are not known yet.
func (a roleArgs) toRole(ctx context.Context, base path.Path, diags *diag.Diagnostics) (lease.Role, map[string]bool) {
	unknown := map[string]bool{}
	str := func(name string, v types.String) string {
		if v.IsUnknown() {
			unknown[name] = true
		}
		return v.ValueString()
	}
	dur := func(name string, v types.String) time.Duration {
		s := str(name, v)
		if s == "" {
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			// The attribute's validator reports it; checks that need the value are skipped.
			unknown[name] = true
		}
		return d
	}
	strs := func(name string, v interface {
		IsUnknown() bool
		ElementsAs(context.Context, any, bool) diag.Diagnostics
	}) []string {
		var out []string
		if v.IsUnknown() {
			unknown[name] = true
			return nil
		}
		diags.Append(v.ElementsAs(ctx, &out, true)...)
		return out
	}
	strMap := func(name string, v types.Map) map[string]string {
		if v.IsUnknown() {
			unknown[name] = true
			return nil
		}
		var out map[string]string
		diags.Append(v.ElementsAs(ctx, &out, true)...)
		return out
	}
	r := lease.Role{
		Name:                   str("name", a.Name),
		CredentialType:         lease.CredentialType(str("credential_type", a.CredentialType)),
		PolicyARNs:             strs("policy_arns", a.PolicyARNs),
		PolicyDocument:         str("policy_document", a.PolicyDocument.StringValue),
		IAMGroups:              strs("iam_groups", a.IAMGroups),
		IAMTags:                strMap("iam_tags", a.IAMTags),
		PermissionsBoundaryARN: str("permissions_boundary_arn", a.PermissionsBoundaryARN),
		UserPath:               str("user_path", a.UserPath),
		DefaultTTL:             dur("default_ttl", a.DefaultTTL),
		MaxTTL:                 dur("max_ttl", a.MaxTTL),
		RoleARNs:               strs("role_arns", a.RoleARNs),
		ExternalID:             str("external_id", a.ExternalID),
		SessionTags:            strMap("session_tags", a.SessionTags),
		DefaultSTSTTL:          dur("default_sts_ttl", a.DefaultSTSTTL),
		MaxSTSTTL:              dur("max_sts_ttl", a.MaxSTSTTL),
		MFASerialNumber:        str("mfa_serial_number", a.MFASerialNumber),
		SourceIdentity:         str("source_identity", a.SourceIdentity),
		Network: lease.NetworkBinding{
			SourceIPs:    strs("allowed_source_ips", a.AllowedSourceIPs),
			SourceVPCs:   strs("allowed_source_vpcs", a.AllowedSourceVPCs),
			VPCEndpoints: strs("allowed_vpc_endpoints", a.AllowedVPCEndpoints),
		},
	}
	return r, unknown
}

// validateRole reports the engine's problems with a role as diagnostics on the attributes under base. displayName is
// the credential's (empty for the role resource): the expiry guard holds the user's ARN, so its share of IAM's
// inline-policy budget depends on the name the username template renders from it.
func validateRole(r lease.Role, displayName string, unknown map[string]bool, data *providerData, base path.Path, diags *diag.Diagnostics) {
	o := lease.ValidateOptions{ReservedTags: lease.LeaseTagCount, ProviderMaxTTL: DefaultMaxTTL, Unknown: unknown}
	issuer := lease.NewIssuer(lease.Options{}) // before Configure: the default template, path and partition
	if data != nil {
		o.ReservedTags += len(data.defaultTags)
		o.ProviderMaxTTL = data.maxTTL
		if data.issuer != nil {
			issuer = data.issuer
		}
	}
	if !unknown["name"] && !unknown["user_path"] && !unknown["display_name"] {
		o.GuardSize, _ = issuer.GuardSizeFor(r, displayName) // a template that fails is reported on its own
	}
	for _, p := range r.Validate(o) {
		at := base.AtName(p.Attribute)
		if p.Warning {
			diags.AddAttributeWarning(at, p.Summary, p.Detail)
		} else {
			diags.AddAttributeError(at, p.Summary, p.Detail)
		}
	}
	checkRequiredBoundary(r, unknown, data, base, diags)
}
