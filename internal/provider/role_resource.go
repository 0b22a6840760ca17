package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// Parallel on purpose: each framework type states its own struct, constructor and compiler-checked interfaces.

// roleResource is a validated credential recipe. It creates nothing in AWS: create and update check that what
// it refers to exists; read keeps state as it is.
type roleResource struct{ data *providerData }

func newRoleResource() resource.Resource { return &roleResource{} }

var (
	_ resource.ResourceWithConfigure      = (*roleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*roleResource)(nil)
)

type roleModel struct {
	ID types.String `tfsdk:"id"`
	roleArgs
}

func (r *roleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

func (r *roleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := resourceRoleAttributes(false)
	attrs["id"] = schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: "The role's name.",
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A reusable, validated credential recipe: what Vault's AWS engine calls a role (`roles/<name>`). " +
			"It creates nothing in AWS. Plan checks it against IAM's and STS's limits; apply checks that every policy, " +
			"boundary and group it names exists. Credentials take it as their `role` argument.",
		Attributes: attrs,
	}
}

// resourceRoleAttributes builds the role's attributes for the resource schema package: top-level for
// awsdynamic_role, nested in a credential's `role` object when nested is true.
func resourceRoleAttributes(nested bool) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for _, a := range roleAttrs {
		req, opt := a.required, !a.required
		switch a.kind {
		case kindSet:
			out[a.name] = schema.SetAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindList:
			out[a.name] = schema.ListAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindMap:
			out[a.name] = schema.MapAttribute{Required: req, Optional: opt, ElementType: types.StringType, MarkdownDescription: a.desc}
		case kindDocument:
			out[a.name] = schema.StringAttribute{Required: req, Optional: opt, CustomType: policyDocumentType{}, MarkdownDescription: a.desc,
				PlanModifiers: []planmodifier.String{equivalentDocument{}}}
		default:
			s := schema.StringAttribute{Required: req, Optional: opt, MarkdownDescription: a.desc, Validators: stringValidators(a)}
			if a.name == "name" && !nested {
				s.PlanModifiers = []planmodifier.String{stringplanmodifier.RequiresReplace()}
			}
			out[a.name] = s
		}
	}
	return out
}

// equivalentDocument plans the document in state when the configured one means the same policy. The type's semantic
// equality only covers values the provider returns (read, apply); without this, reformatting the configuration would
// still plan an update of the role and of every credential issued from it. Terraform accepts a planned value that
// differs from the configuration when it is the prior value: that is how it lets a provider disregard an equivalent
// configuration.
type equivalentDocument struct{}

func (equivalentDocument) Description(context.Context) string {
	return "Keeps the policy document in state when the configured one is equivalent (reformatted, reordered)."
}

func (m equivalentDocument) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (equivalentDocument) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	if eq, err := policy.Equivalent(req.StateValue.ValueString(), req.ConfigValue.ValueString()); err == nil && eq {
		resp.PlanValue = req.StateValue
	}
}

func stringValidators(a roleAttr) []validator.String {
	if a.kind == kindDuration {
		return []validator.String{duration()}
	}
	return nil
}

func (r *roleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *roleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	role, unknown := m.toRole(ctx, path.Empty(), &resp.Diagnostics)
	// Terraform validates before it configures the provider, when r.data is nil, and validates again during plan
	// once the provider is configured: the checks that depend on provider settings (default_tags' share of the tag
	// budget, the provider's max_ttl) run then (TestAccRole_badInputsFailAtPlan checks both CLIs do so).
	validateRole(role, "", unknown, r.data, path.Empty(), &resp.Diagnostics)
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

// apply is create and update alike: check what the role refers to, then keep the plan as state.
func (r *roleResource) apply(ctx context.Context, plan tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var m roleModel
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return
	}
	r.checkRemote(ctx, m, diags)
	if diags.HasError() {
		return
	}
	m.ID = m.Name
	diags.Append(state.Set(ctx, m)...)
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	// A role is a recipe held in state: there is nothing remote to refresh.
}

func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *roleResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
	// Nothing in AWS belongs to a role; credentials issued from it are resources of their own.
}

// checkRemote confirms, at apply time, that every policy, the boundary and every group exist.
func (r *roleResource) checkRemote(ctx context.Context, m roleModel, diags *diag.Diagnostics) {
	if r.data == nil {
		diags.AddError("Provider Not Configured", "The awsdynamic provider was not configured before this role was applied.")
		return
	}
	// Plan reported the role's warnings already; here only its errors matter.
	var d diag.Diagnostics
	role, _ := m.toRole(ctx, path.Empty(), &d)
	validateRole(role, "", nil, r.data, path.Empty(), &d)
	diags.Append(d.Errors()...)
	if diags.HasError() {
		return
	}
	named := role.PermissionsBoundaryARN
	role = r.data.withRequiredBoundary(role)
	err := r.data.issuer.CheckRole(maskSecrets(ctx), role)
	var missing *lease.MissingError
	switch {
	case errors.As(err, &missing):
		var lines []string
		for _, a := range missing.PolicyARNs {
			lines = append(lines, "  policy_arns: "+a)
		}
		switch {
		case missing.BoundaryARN != "" && named == "":
			lines = append(lines, "  required_permissions_boundary_arn (provider): "+missing.BoundaryARN)
		case missing.BoundaryARN != "":
			lines = append(lines, "  permissions_boundary_arn: "+missing.BoundaryARN)
		}
		for _, g := range missing.Groups {
			lines = append(lines, "  iam_groups: "+g)
		}
		diags.AddError("Role Refers To Missing IAM Objects",
			fmt.Sprintf("Role %q refers to IAM objects that do not exist in account %s:\n%s\n\nCreate them first (or fix the names), then apply again.",
				role.Name, r.data.accountID(), strings.Join(lines, "\n")))
	case err != nil:
		diags.AddError("Role Not Checked", fmt.Sprintf("Could not confirm that the IAM objects role %q names exist.\n\n%s", role.Name, err))
	}
}
