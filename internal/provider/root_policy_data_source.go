package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/rootpolicy"
)

// groupNameRe is IAM's rule for a group name.
var groupNameRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

// managedPolicyMaxChars is IAM's limit on a customer managed policy document, white space not counted.
const managedPolicyMaxChars = 6144

// rootPolicyDataSource renders the root identity's least-privilege policy from the provider's settings and the
// arguments; it makes no AWS call. The rendering is internal/rootpolicy's, whose actions come from the engine.
type rootPolicyDataSource struct{ data *providerData }

func newRootPolicyDataSource() datasource.DataSource { return &rootPolicyDataSource{} }

var (
	_ datasource.DataSourceWithConfigure      = (*rootPolicyDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*rootPolicyDataSource)(nil)
)

type rootPolicyModel struct {
	CredentialTypes        types.Set    `tfsdk:"credential_types"`
	AllowedPolicyARNs      types.Set    `tfsdk:"allowed_policy_arns"`
	AllowedGroups          types.Set    `tfsdk:"allowed_groups"`
	RoleARNs               types.Set    `tfsdk:"role_arns"`
	UserPaths              types.Set    `tfsdk:"user_paths"`
	JSON                   types.String `tfsdk:"json"`
	PermissionsBoundaryARN types.String `tfsdk:"permissions_boundary_arn"`
}

func (d *rootPolicyDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_root_policy"
}

func (d *rootPolicyDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	var kinds []string
	for _, k := range lease.CredentialTypes {
		kinds = append(kinds, string(k))
	}
	strs := func(v ...validator.String) []validator.Set {
		return []validator.Set{setvalidator.ValueStringsAre(v...)}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The least-privilege IAM policy of the provider's root identity, rendered from the provider's " +
			"`user_path` and `required_permissions_boundary_arn` and from what the roles may hand out. It follows AWS's " +
			"delegated-administration pattern: the root identity may create and change IAM users only under the provider's " +
			"paths and only with the required boundary, attach only the allowed managed policies, join only the allowed " +
			"groups, and may never remove the boundary or edit the boundary policy. Every AWS call the provider can make " +
			"is covered: the actions are derived from the provider's own code. No AWS call is made.",
		Attributes: map[string]schema.Attribute{
			"credential_types": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The credential types your roles issue: `iam_user`, `assumed_role`, `federation_token`, `session_token`. " +
					"Only their permissions are granted. Default `[\"iam_user\"]`.",
				Validators: strs(stringvalidator.OneOf(kinds...)),
			},
			"allowed_policy_arns": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Managed policies roles may attach to their users (`policy_arns`): `iam:AttachUserPolicy` is allowed " +
					"only for these (condition `iam:PolicyARN`). Empty: roles cannot attach managed policies.",
				Validators: strs(stringCheck("Invalid Policy ARN", "a managed policy ARN such as `arn:aws:iam::aws:policy/ReadOnlyAccess`", lease.ValidatePolicyARN)),
			},
			"allowed_groups": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Names of the IAM groups roles may put their users in (`iam_groups`), and whose policies " +
					"`federation_token` roles merge into their session policy. Empty: no group membership.",
				Validators: strs(stringvalidator.RegexMatches(groupNameRe, "an IAM group name (no path): 1–128 characters of `[A-Za-z0-9+=,.@_-]`")),
			},
			"role_arns": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "IAM roles `assumed_role` credentials may assume (the roles' `role_arns`); required with `assumed_role`.",
				Validators:          strs(stringCheck("Invalid Role ARN", "an IAM role ARN such as `arn:aws:iam::123456789012:role/name`", lease.ValidateARN)),
			},
			"user_paths": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "IAM paths of roles that set their own `user_path`. The provider's `user_path` is always included.",
				Validators:          strs(stringCheck("Invalid IAM Path", "an IAM path such as `/awsdynamic/`", lease.ValidatePath)),
			},
			"json": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The policy document, for an `aws_iam_policy` attached to the root identity.",
			},
			"permissions_boundary_arn": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The provider's `required_permissions_boundary_arn` the policy enforces; empty when none is required.",
			},
		},
	}
}

func (d *rootPolicyDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (d *rootPolicyDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m rootPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.CredentialTypes.IsUnknown() || m.RoleARNs.IsUnknown() {
		return
	}
	kinds := credentialTypesOf(ctx, m.CredentialTypes, &resp.Diagnostics)
	assumed := slices.Contains(kinds, lease.AssumedRole)
	switch {
	case assumed && len(m.RoleARNs.Elements()) == 0:
		resp.Diagnostics.AddAttributeError(path.Root("role_arns"), "Missing Role ARNs",
			"credential_types includes assumed_role, which needs the IAM roles it may assume: list your roles' role_arns in role_arns.")
	case !assumed && len(m.RoleARNs.Elements()) > 0:
		resp.Diagnostics.AddAttributeError(path.Root("role_arns"), "Role ARNs Without assumed_role",
			"role_arns are only used by assumed_role credentials: add \"assumed_role\" to credential_types, or remove role_arns.")
	}
}

func credentialTypesOf(ctx context.Context, v types.Set, diags *diag.Diagnostics) []lease.CredentialType {
	if v.IsNull() {
		return []lease.CredentialType{lease.IAMUser}
	}
	var names []string
	diags.Append(v.ElementsAs(ctx, &names, false)...)
	out := make([]lease.CredentialType, 0, len(names))
	for _, n := range names {
		out = append(out, lease.CredentialType(n))
	}
	return out
}

func (d *rootPolicyDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil {
		resp.Diagnostics.AddError("Provider Not Configured", "The awsdynamic provider was not configured before this data source was read.")
		return
	}
	var m rootPolicyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := rootpolicy.Settings{
		UserPaths:       []string{d.data.userPath},
		BoundaryARN:     d.data.requiredBoundary,
		CredentialTypes: credentialTypesOf(ctx, m.CredentialTypes, &resp.Diagnostics),
	}
	var extraPaths []string
	for _, f := range []struct {
		v   types.Set
		dst *[]string
	}{{m.AllowedPolicyARNs, &s.AllowedPolicyARNs}, {m.AllowedGroups, &s.AllowedGroups}, {m.RoleARNs, &s.RoleARNs}, {m.UserPaths, &extraPaths}} {
		resp.Diagnostics.Append(f.v.ElementsAs(ctx, f.dst, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	s.UserPaths = append(s.UserPaths, extraPaths...)
	doc, err := rootpolicy.Render(s)
	if err != nil {
		resp.Diagnostics.AddError("Root Policy Not Rendered", fmt.Sprintf("The root identity's policy could not be rendered from "+
			"the provider's settings and this data source's arguments. Fix the setting named below.\n\n%s", err))
		return
	}
	if compact, _ := json.Marshal(doc); len(compact) > managedPolicyMaxChars {
		resp.Diagnostics.AddWarning("Root Policy Too Large For One Managed Policy", fmt.Sprintf("The rendered policy has %d characters "+
			"without white space; IAM allows %d in one managed policy. Narrow allowed_policy_arns or allowed_groups, or "+
			"render two awsdynamic_root_policy data sources, each with part of them, and attach both policies.", len(compact), managedPolicyMaxChars))
	}
	m.JSON = types.StringValue(doc.JSON())
	m.PermissionsBoundaryARN = types.StringValue(d.data.requiredBoundary)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
