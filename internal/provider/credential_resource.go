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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: each framework type states its own struct, constructor and compiler-checked interfaces.
//
// credentialResource is a lease kept in state: issued on create, renewed on refresh inside its window, replaced
// when it can no longer be renewed, revoked on destroy.
type credentialResource struct{ data *providerData }

func newCredentialResource() resource.Resource { return &credentialResource{} }

var (
	_ resource.ResourceWithConfigure      = (*credentialResource)(nil)
	_ resource.ResourceWithValidateConfig = (*credentialResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*credentialResource)(nil)
	_ resource.ResourceWithImportState    = (*credentialResource)(nil)
)

type credentialModel struct {
	ID types.String `tfsdk:"id"`
	credentialArgs
	credentialOutputs
	IssuedAt     types.String `tfsdk:"issued_at"`
	MaxExpiresAt types.String `tfsdk:"max_expires_at"`
	Renewable    types.Bool   `tfsdk:"renewable"`
	TagsAll      types.Map    `tfsdk:"tags_all"`
	// The boundary the user carries: not in the lease, which the engine owns, but here, so that a plan can see
	// when the provider's required boundary moved away from it.
	PermissionsBoundaryARN types.String `tfsdk:"permissions_boundary_arn"`
	// When and where AWS last saw the key used (iam:GetAccessKeyLastUsed), read at refresh; null until then.
	LastUsedAt      types.String `tfsdk:"last_used_at"`
	LastUsedService types.String `tfsdk:"last_used_service"`
	LastUsedRegion  types.String `tfsdk:"last_used_region"`
}

func (r *credentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential"
}

func (r *credentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Lease ID; also the `awsdynamic:lease-id` tag on the IAM user."},
	}
	for _, a := range credentialArgTable {
		var mods []planmodifier.String
		if a.replaces {
			mods = replace
		}
		switch a.kind {
		case argRole:
			attrs[a.name] = schema.SingleNestedAttribute{Required: true, MarkdownDescription: a.desc, Attributes: resourceRoleAttributes(true)}
		case argBool: // wait_for_propagation: in state, so its default shows in plans
			attrs[a.name] = schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true), MarkdownDescription: a.desc}
		case argDuration:
			attrs[a.name] = schema.StringAttribute{Optional: true, PlanModifiers: mods, Sensitive: a.sensitive, MarkdownDescription: a.desc, Validators: []validator.String{duration()}}
		default:
			attrs[a.name] = schema.StringAttribute{Optional: true, PlanModifiers: mods, Sensitive: a.sensitive, MarkdownDescription: a.desc}
		}
	}
	for name, a := range map[string]schema.Attribute{
		"issued_at":      schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "When the lease was issued (RFC 3339)."},
		"max_expires_at": schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The latest the lease can be renewed to (RFC 3339): issue time plus `max_ttl`."},
		"renewable":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the lease can still be extended: `iam_user` leases before their maximum; STS credentials never."},
		"tags_all": schema.MapAttribute{Computed: true, ElementType: types.StringType, PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			MarkdownDescription: "The tags of the IAM user besides the lease's own `awsdynamic:*` tags: the provider's `default_tags` under the role's `iam_tags`. A change of either is applied to the live user in place. Empty for STS credentials."},
		"permissions_boundary_arn": schema.StringAttribute{Computed: true, MarkdownDescription: "The permissions boundary the lease's IAM user carries: " +
			"the role's `permissions_boundary_arn`, else the provider's `required_permissions_boundary_arn`; empty for none and for the STS kinds. " +
			"When the provider's required boundary changes, a credential whose user carries another one is replaced."},
	} {
		attrs[name] = a
	}
	for name, desc := range map[string]string{
		"last_used_at":      "When AWS last saw the access key used (RFC 3339), as `iam:GetAccessKeyLastUsed` reports it at refresh; null until its first use and for STS credentials. AWS updates it within hours, not at once.",
		"last_used_service": "The AWS service (`s3`, `sts`, ...) the access key was last used with; null until its first use and for STS credentials.",
		"last_used_region":  "The AWS region the access key was last used in; null until its first use and for STS credentials.",
	} {
		attrs[name] = schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: desc}
	}
	for name, desc := range outputDescriptions {
		a := schema.StringAttribute{Computed: true, Sensitive: sensitiveOutputs[name], MarkdownDescription: desc}
		if name != "expires_at" {
			a.PlanModifiers = keep
		}
		attrs[name] = a
	}
	attrs["env"] = schema.MapAttribute{Computed: true, Sensitive: true, ElementType: types.StringType, MarkdownDescription: outputDescriptions["env"]}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Issues a credential from a role and keeps its lease in state. `iam_user` leases are renewed " +
			"on refresh once inside `renew_before` of their expiry (capped at `max_expires_at`); a lease that has " +
			"expired or can no longer be renewed is planned for replacement, and destroy revokes everything the " +
			"lease created. The secret lives in state: prefer the ephemeral `awsdynamic_credential` where the consumer " +
			"accepts ephemeral values.",
		Attributes: attrs,
	}
}

func (r *credentialResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (r *credentialResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var a credentialArgs
	resp.Diagnostics.Append(getArgs(ctx, req.Config, &a)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateCredentialArgs(ctx, a, r.data, &resp.Diagnostics)
}

// ModifyPlan decides between keeping the lease, changing it in place and replacing it.
func (r *credentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if !req.Plan.Raw.IsNull() && req.State.Raw.IsNull() && r.data != nil {
		r.planNewBoundary(ctx, req, resp)
		return
	}
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() || r.data == nil {
		return // destroy: nothing to decide
	}
	var state, plan credentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	now := r.data.clock.Now()
	window, _ := parseKnownDuration(plan.RenewBefore, 0)
	window = l.RenewWindow(window)
	if l.Kind == lease.IAMUser && (l.AccessKeyID == "" || len(l.Added) > 0) {
		// The key is gone, or someone added a credential to the user (see Read): a new credential replaces this one,
		// and its revoke removes the user that is left, with whatever was added.
		plan.AccessKeyID, plan.SecretAccessKey = types.StringUnknown(), types.StringUnknown()
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("access_key_id"))
		if len(l.Added) > 0 {
			resp.Diagnostics.AddAttributeWarning(path.Root("access_key_id"), "Credential Will Be Replaced",
				fmt.Sprintf("IAM user %q of lease %s holds %s besides the lease's key: a new credential replaces it, and the old user is revoked with everything on it.",
					l.UserName, l.ID, strings.Join(l.Added, " and ")))
		}
	}

	var sr, pr roleArgs
	resp.Diagnostics.Append(state.Role.As(ctx, &sr, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	resp.Diagnostics.Append(plan.Role.As(ctx, &pr, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	// The name is in the user's name and tags, the type and path are fixed at CreateUser; everything else of an
	// iam_user role changes in place.
	for name, changed := range map[string]bool{
		"name":            !sr.Name.Equal(pr.Name),
		"credential_type": !sr.CredentialType.Equal(pr.CredentialType),
		"user_path":       !sr.UserPath.Equal(pr.UserPath),
	} {
		if changed {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("role").AtName(name))
		}
	}
	// What only issue, renewal or replacement changes stays as it is unless one of them is planned below.
	plan.ExpiresAt, plan.Env, plan.CredentialProcess, plan.Renewable = state.ExpiresAt, state.Env, state.CredentialProcess, state.Renewable
	if l.Kind == lease.IAMUser && r.data.issuer != nil {
		var d diag.Diagnostics
		if role, unknown := pr.toRole(ctx, path.Root("role"), &d); !d.HasError() && !unknown["iam_tags"] && !unknown["name"] &&
			!plan.Role.IsUnknown() && r.data.issuer.TagsOutOfDate(l, role) {
			// default_tags (or iam_tags) changed: the user is retagged in place by Update.
			tags, d := types.MapValueFrom(ctx, types.StringType, r.data.issuer.UserTags(role))
			resp.Diagnostics.Append(d...)
			plan.TagsAll = tags
		}
	}
	ttlChanged := !plan.TTL.Equal(state.TTL)
	roleChanged := !plan.Role.Equal(state.Role)
	switch {
	case l.Decide(now, window).Action == lease.Replace:
		// The tls provider's pattern: an expiry that must move is planned as unknown, and a change to it replaces.
		plan.ExpiresAt, plan.Env, plan.CredentialProcess = types.StringUnknown(), types.MapUnknown(types.StringType), types.StringUnknown()
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("expires_at"))
		resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Credential Will Be Replaced",
			fmt.Sprintf("The lease %s expires at %s and cannot be renewed past its renewal window (max %s): a new credential replaces it and the old one is revoked.",
				l.ID, formatTime(l.ExpiresAt), formatTime(l.MaxExpiresAt)))
	case ttlChanged && !l.Renewable(now):
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("ttl"))
	case ttlChanged:
		plan.ExpiresAt = types.StringUnknown()
		plan.Env = types.MapUnknown(types.StringType)
		plan.CredentialProcess = types.StringUnknown()
		plan.Renewable = types.BoolUnknown()
	case roleChanged && l.Kind != lease.IAMUser:
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("role"))
	}
	live := liveBoundary(state.PermissionsBoundaryARN, sr)
	plan.PermissionsBoundaryARN = boundaryValue(r.data, pr, &sr, live)
	if plan.Role.IsUnknown() {
		plan.PermissionsBoundaryARN = types.StringUnknown() // decided once the role is known, at apply
	}
	if b := plan.PermissionsBoundaryARN; r.data.requiredBoundary != "" && l.Kind == lease.IAMUser && !b.IsUnknown() && !b.Equal(live) {
		// A new user is created with the new boundary rather than the live one changed: it carries the boundary
		// from its first moment, and the old user (with another boundary, or none) is revoked.
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("permissions_boundary_arn"))
		resp.Diagnostics.AddAttributeWarning(path.Root("permissions_boundary_arn"), "Credential Will Be Replaced",
			fmt.Sprintf("IAM user %q of lease %s carries the permissions boundary %q, but the provider now requires %s "+
				"(required_permissions_boundary_arn): a new credential whose user carries it replaces this one, and the old one is revoked.",
				l.UserName, l.ID, live.ValueString(), b.ValueString()))
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// planNewBoundary shows, in the plan of a new credential, the boundary its user will carry.
func (r *credentialResource) planNewBoundary(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var role types.Object
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("role"), &role)...)
	if resp.Diagnostics.HasError() || role.IsNull() || role.IsUnknown() {
		return
	}
	var ra roleArgs
	resp.Diagnostics.Append(role.As(ctx, &ra, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("permissions_boundary_arn"), boundaryValue(r.data, ra, nil, types.StringNull()))...)
	if ra.CredentialType.ValueString() == string(lease.IAMUser) {
		planQuota(ctx, r.data, &resp.Diagnostics)
	}
}

// planQuota warns when the IAM users this plan creates take the account past 80% of its UsersQuota, or past the
// quota. A resource's ModifyPlan sees only itself, so the estimate is what this provider process has planned so
// far: Terraform plans every resource of one provider configuration in one process, and the process counts each
// planned iam_user credential (lease.UserQuota). The warning comes once, from the credential that crosses the
// line, and names the numbers.
func planQuota(ctx context.Context, d *providerData, diags *diag.Diagnostics) {
	if d == nil || d.quota == nil {
		return
	}
	at := path.Root("role").AtName("credential_type")
	s, err := d.quota.Plan(ctx)
	if err != nil {
		d.quotaUnread.Do(func() {
			diags.AddAttributeWarning(at, "IAM User Quota Not Checked", fmt.Sprintf(
				"How close the account is to its quota of IAM users could not be read, so this plan cannot warn before "+
					"issuing would pass it. Grant iam:GetAccountSummary to the provider's identity (see the least-privilege "+
					"guide) to have it checked.\n\n%s", err))
		})
		return
	}
	prev := s
	prev.Planned--
	first := s.Planned == 1
	switch {
	case s.Exceeded() && (first || !prev.Exceeded()):
		diags.AddAttributeWarning(at, "IAM User Quota Would Be Exceeded", fmt.Sprintf(
			"The account has %d IAM users and a UsersQuota of %d; this plan creates at least %d more. The credentials past "+
				"the quota will not be issued: revoke or sweep credentials that are no longer needed, shorten their ttl, "+
				"plan fewer, or ask AWS to raise the quota.", s.Users, s.Quota, s.Planned))
	case s.Warn() && (first || !prev.Warn()):
		diags.AddAttributeWarning(at, "IAM User Quota Nearly Reached", fmt.Sprintf(
			"The account has %d IAM users and a UsersQuota of %d; with the %d this plan creates it passes %.0f%% of it. "+
				"Revoke or sweep credentials that are no longer needed, shorten their ttl, or ask AWS to raise the quota "+
				"before issuing fails.", s.Users, s.Quota, s.Planned, 100*lease.QuotaWarnShare))
	}
}

func (r *credentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = maskSecrets(ctx)
	var m credentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	l, creds, role, _ := r.data.issue(ctx, m.credentialArgs, &resp.Diagnostics)
	if l == nil {
		return
	}
	r.store(ctx, &m, l, &creds, &resp.Diagnostics)
	m.setLastUse(lease.LastUse{})
	m.PermissionsBoundaryARN = types.StringValue("")
	if role.CredentialType == lease.IAMUser {
		m.PermissionsBoundaryARN = types.StringValue(role.PermissionsBoundaryARN)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
}

// store fills the model from a lease (and, on issue, its credentials).
func (r *credentialResource) store(ctx context.Context, m *credentialModel, l *lease.Lease, creds *lease.Credentials, diags *diag.Diagnostics) {
	now := r.data.clock.Now()
	if creds == nil {
		c := lease.Credentials{AccessKeyID: m.AccessKeyID.ValueString(), SecretAccessKey: m.SecretAccessKey.ValueString(), SessionToken: m.SessionToken.ValueString()}
		creds = &c
	}
	out, d := outputsFrom(l, *creds)
	diags.Append(d...)
	m.credentialOutputs = out
	m.ID = types.StringValue(l.ID)
	m.IssuedAt = types.StringValue(formatTime(l.IssuedAt))
	m.MaxExpiresAt = types.StringValue(formatTime(l.MaxExpiresAt))
	m.Renewable = types.BoolValue(l.Renewable(now))
	tags, d := types.MapValueFrom(ctx, types.StringType, nonNil(l.Tags))
	diags.Append(d...)
	m.TagsAll = tags
}

// setLastUse sets the last_used_* attributes; null until the key's first use.
func (m *credentialModel) setLastUse(u lease.LastUse) {
	m.LastUsedAt, m.LastUsedService, m.LastUsedRegion = types.StringNull(), types.StringNull(), types.StringNull()
	if u.At == nil {
		return
	}
	m.LastUsedAt = types.StringValue(formatTime(*u.At))
	if u.Service != "" {
		m.LastUsedService = types.StringValue(u.Service)
	}
	if u.Region != "" {
		m.LastUsedRegion = types.StringValue(u.Region)
	}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

func setPrivateLease(ctx context.Context, p privateSetter, l *lease.Lease) diag.Diagnostics {
	b, err := l.Marshal()
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Lease Not Recorded", err.Error())
		return d
	}
	return p.SetKey(ctx, privateLeaseKey, b)
}

// Read renews a lease inside its renewal window and drops a credential whose user or key is gone.
func (r *credentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = maskSecrets(ctx)
	if r.data == nil {
		return
	}
	var m credentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	present, err := r.data.issuer.Presence(ctx, l)
	if err != nil {
		resp.Diagnostics.AddError("Credential Not Read", fmt.Sprintf("Could not check lease %s in AWS.\n\n%s", l.ID, err))
		return
	}
	if present.User && !present.Key {
		// A revoke that failed after deleting the key (or a key deleted by hand): the user is still there, so the
		// credential stays in state until destroy or a replacement revokes it.
		resp.Diagnostics.AddWarning("Credential Key Gone", fmt.Sprintf("The access key of lease %s no longer exists, but its IAM user %q does; the credential is kept so that destroy (or its replacement) removes the user.", l.ID, l.UserName))
		l.AccessKeyID = ""
		m.AccessKeyID = types.StringValue("")
		resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
		resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
		return
	}
	if !present.User {
		// The user is gone: nothing of this lease can leak any more, and a plan issues a new one. A user of the same
		// name that is not the lease's is someone else's: it is never touched.
		detail := fmt.Sprintf("The IAM user of lease %s no longer exists in AWS; it is removed from state and will be issued again.", l.ID)
		if present.Foreign != "" {
			detail = fmt.Sprintf("The IAM user %q of lease %s was deleted, and the user that now has its name is not the lease's (%s). The lease is removed from state and will be issued again; the other user is left untouched.", l.UserName, l.ID, present.Foreign)
		}
		resp.Diagnostics.AddWarning("Credential Gone", detail)
		resp.State.RemoveResource(ctx)
		return
	}
	// The guard is what AWS enforces: one removed or changed (only another principal can: it denies the key every
	// write to its own user) is put back before anything else, or the lease takes its earlier date.
	if found, err := r.data.issuer.RepairGuard(ctx, l, present); err != nil {
		resp.Diagnostics.AddError("Expiry Guard Not Restored", fmt.Sprintf("The expiry guard of lease %s (IAM user %q) was tampered with and could not be put back: "+
			"until it is, the key works past its expiry. Check the root identity may call iam:PutUserPolicy on the user, then refresh again, "+
			"or revoke the lease now with `terraform-provider-awsdynamic revoke --lease-id %s`.\n\n%s", l.ID, l.UserName, l.ID, err))
		return
	} else if found != "" {
		resp.Diagnostics.AddWarning("Expiry Guard Tampered With", fmt.Sprintf("Refresh of lease %s (IAM user %q) found that %s "+
			"Only a principal other than the lease's key can change the guard: look in CloudTrail for PutUserPolicy and DeleteUserPolicy on the user.", l.ID, l.UserName, found))
	}
	l.Added = present.Added
	if len(l.Added) > 0 {
		resp.Diagnostics.AddWarning("Credential Added To Lease User", fmt.Sprintf("Refresh of lease %s found that its IAM user %q holds %s besides the lease's key. "+
			"No issue makes one, and the guard denies the lease's key the calls that would: another principal added it (look in CloudTrail for "+
			"CreateAccessKey and CreateLoginProfile on the user). The plan replaces the credential, and its revoke removes the user with everything on it.",
			l.ID, l.UserName, strings.Join(l.Added, " and ")))
	}
	m.setLastUse(present.LastUsed)
	if m.PermissionsBoundaryARN.IsNull() {
		var ra roleArgs
		resp.Diagnostics.Append(m.Role.As(ctx, &ra, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
		m.PermissionsBoundaryARN = liveBoundary(m.PermissionsBoundaryARN, ra)
	}
	now := r.data.clock.Now()
	configured, _ := parseKnownDuration(m.RenewBefore, 0)
	if len(l.Added) == 0 && l.Decide(now, l.RenewWindow(configured)).Action == lease.Renew {
		if err := r.data.issuer.Renew(ctx, l, l.TTL); err != nil && !errors.Is(err, lease.ErrNotRenewable) {
			resp.Diagnostics.AddError("Lease Not Renewed", fmt.Sprintf("Lease %s is inside its renewal window but could not be renewed; it still expires at %s.\n\n%s", l.ID, formatTime(l.ExpiresAt), err))
			return
		}
	}
	r.store(ctx, &m, l, nil, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
}

func (r *credentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = maskSecrets(ctx)
	var plan, state credentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	fromRole, _, _ := state.request(ctx, &resp.Diagnostics)
	toRole, request, _ := plan.request(ctx, &resp.Diagnostics)
	validateRole(toRole, request.DisplayName, nil, r.data, path.Root("role"), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// The engine compares the boundary the user carries with the one it should carry: with a required boundary
	// both are it, so a role that starts or stops naming it sends no boundary call. They differ only when the role
	// itself changes its boundary, or when a new required boundary could not be seen at plan (the role was unknown
	// then): the user is moved to it in place rather than left with the old one.
	var sr, pr roleArgs
	resp.Diagnostics.Append(state.Role.As(ctx, &sr, basetypes.ObjectAsOptions{})...)
	resp.Diagnostics.Append(plan.Role.As(ctx, &pr, basetypes.ObjectAsOptions{})...)
	live := liveBoundary(state.PermissionsBoundaryARN, sr)
	plan.PermissionsBoundaryARN = boundaryValue(r.data, pr, &sr, live)
	if toRole.CredentialType == lease.IAMUser {
		fromRole.PermissionsBoundaryARN, toRole.PermissionsBoundaryARN = live.ValueString(), plan.PermissionsBoundaryARN.ValueString()
	}
	if !plan.Role.Equal(state.Role) || r.data.issuer.TagsOutOfDate(l, toRole) {
		err := r.data.issuer.Update(ctx, l, fromRole, toRole)
		// Record what did change even when a step failed, so revoke still knows everything the user holds.
		resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
		if err != nil {
			resp.Diagnostics.AddError("Credential Not Updated", fmt.Sprintf("The role change could not be applied to IAM user %q of lease %s.\n\n%s", l.UserName, l.ID, err))
			return
		}
	}
	if !plan.TTL.Equal(state.TTL) {
		ttl, _ := lease.TTLs(toRole, request, r.data.defaultTTL, r.data.maxTTL)
		if err := r.data.issuer.Renew(ctx, l, ttl); err != nil {
			// The lease says what the guard enforces even when a step failed: keep that.
			resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
			resp.Diagnostics.AddError("Lease Not Renewed", fmt.Sprintf("The new ttl could not be applied to lease %s.\n\n%s", l.ID, err))
			return
		}
	}
	plan.credentialOutputs = state.credentialOutputs
	r.store(ctx, &plan, l, nil, &resp.Diagnostics)
	plan.LastUsedAt, plan.LastUsedService, plan.LastUsedRegion = state.LastUsedAt, state.LastUsedService, state.LastUsedRegion
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(setPrivateLease(ctx, resp.Private, l)...)
}

func (r *credentialResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	ctx = maskSecrets(ctx)
	l := privateLease(ctx, req.Private, &resp.Diagnostics)
	if l == nil {
		return
	}
	err := r.data.issuer.Revoke(ctx, l)
	switch {
	case errors.Is(err, lease.ErrNotLeaseUser):
		resp.Diagnostics.AddWarning("Credential Already Gone", fmt.Sprintf("The IAM user of lease %s was deleted outside Terraform, and another user now has its name; that user is not the lease's and was left untouched.\n\n%s", l.ID, err))
	case err != nil:
		resp.Diagnostics.AddError("Credential Not Revoked", fmt.Sprintf("Lease %s could not be fully revoked; it stays in state so that the next destroy tries again.\n\n%s", l.ID, err))
	}
}

func (r *credentialResource) ImportState(_ context.Context, _ resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.AddError("Import Not Supported",
		"awsdynamic_credential cannot be imported: AWS never returns a secret access key after it is created, so an imported credential could not be used. Create a new credential instead, and remove the old IAM user with `terraform-provider-awsdynamic sweep` or by hand.")
}
