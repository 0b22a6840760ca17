package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: each framework type states its own struct, constructor and compiler-checked interfaces.

// staticCredentialResource is Vault's static role and static-creds in one: an access key on an IAM user that exists
// already, rotated every rotation_period. The time provider's time_rotating pattern: once rotation is due, the plan
// shows the key as unknown and Update rotates it in place.
type staticCredentialResource struct{ data *providerData }

func newStaticCredentialResource() resource.Resource { return &staticCredentialResource{} }

var (
	_ resource.ResourceWithConfigure   = (*staticCredentialResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*staticCredentialResource)(nil)
	_ resource.ResourceWithImportState = (*staticCredentialResource)(nil)
)

// Private state keys: the engine's record, and the ID of a namesake found in place of the bound user.
const (
	privateStaticKey      = "static_key"
	privateStaticReplaced = "static_user_replaced"
)

type staticCredentialModel struct {
	ID                    types.String `tfsdk:"id"`
	Username              types.String `tfsdk:"username"`
	RotationPeriod        types.String `tfsdk:"rotation_period"`
	AssumeRoleARN         types.String `tfsdk:"assume_role_arn"`
	AssumeRoleSessionName types.String `tfsdk:"assume_role_session_name"`
	ExternalID            types.String `tfsdk:"external_id"`
	PropagationTimeout    types.String `tfsdk:"propagation_timeout"`

	UserID            types.String `tfsdk:"user_id"`
	UserARN           types.String `tfsdk:"user_arn"`
	AccessKeyID       types.String `tfsdk:"access_key_id"`
	SecretAccessKey   types.String `tfsdk:"secret_access_key"`
	Env               types.Map    `tfsdk:"env"`
	CredentialProcess types.String `tfsdk:"credential_process"`
	RotatedAt         types.String `tfsdk:"rotated_at"`
	NextRotationAt    types.String `tfsdk:"next_rotation_at"`
}

func (r *staticCredentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_static_credential"
}

func (r *staticCredentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An access key on an IAM user that already exists and that this provider did not create (a " +
			"legacy service user, an SES SMTP user, a user another team owns), rotated every `rotation_period`: Vault's " +
			"`aws/static-roles` and `aws/static-creds`. The provider owns only the keys it creates; the user, its policies " +
			"and its other keys are left alone. Once `next_rotation_at` has passed, a plan shows the key as changing and " +
			"the apply rotates it in place: a new key, a check that it authenticates, then the previous key is deleted. " +
			"Destroy deletes the provider's key and nothing else.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The IAM user name."},
			"username": schema.StringAttribute{
				Required: true, PlanModifiers: replace,
				MarkdownDescription: "Name of the existing IAM user whose key the provider rotates. Vault: `username`. Changing it replaces the credential.",
				Validators:          []validator.String{stringCheck("Invalid IAM User Name", "an existing IAM user's name: 1–64 characters of `[A-Za-z0-9+=,.@_-]`", lease.ValidateUserName)},
			},
			"rotation_period": schema.StringAttribute{
				Required: true,
				MarkdownDescription: fmt.Sprintf("How often the key is rotated, as a Go duration (`\"720h\"` for 30 days); at least %s, "+
					"Vault's minimum. Rotation happens on the first apply after `next_rotation_at`. Vault: `rotation_period`.", fmtDuration(lease.MinRotationPeriod)),
				Validators: []validator.String{stringCheck("Rotation Period Too Short",
					fmt.Sprintf("a Go duration of at least %s (Vault's minimum for static roles), such as `\"24h\"`", fmtDuration(lease.MinRotationPeriod)), validRotationPeriod)},
			},
			"assume_role_arn": schema.StringAttribute{
				Optional: true, PlanModifiers: replace,
				MarkdownDescription: "For a user in another account: a role there that the provider's root identity assumes to " +
					"manage the user's keys (it needs `iam:GetUser`, `iam:ListAccessKeys`, `iam:CreateAccessKey` and " +
					"`iam:DeleteAccessKey` on the user). Vault: `assume_role_arn`. Changing it replaces the credential.",
				Validators: []validator.String{stringCheck("Invalid Role ARN", "an IAM role ARN such as `arn:aws:iam::210987654321:role/key-rotator`", lease.ValidateARN)},
			},
			"assume_role_session_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Session name when assuming `assume_role_arn`. Default `terraform-provider-awsdynamic`. Vault: `assume_role_session_name`.",
				Validators:          []validator.String{stringCheck("Invalid Session Name", "2–64 characters of `[A-Za-z0-9+=,.@_-]`", lease.ValidateRoleSessionName)},
			},
			"external_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "External ID that the trust policy of `assume_role_arn` requires. Vault: `external_id`.",
				Validators:          []validator.String{stringCheck("Invalid External ID", "2–1,224 characters of `[A-Za-z0-9+=,.@:/_-]`", lease.ValidateExternalID)},
			},
			"propagation_timeout": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "How long to wait for a new key to authenticate before the previous one is deleted, as a Go duration. Default `\"2m\"`. If it never does, the new key is deleted and the previous one stays.",
				Validators:          []validator.String{duration()},
			},
			"user_id":            schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "IAM's unique ID of the user when it was bound. A user deleted and re-created under the same name has another ID; the provider refuses to touch it, as Vault does."},
			"user_arn":           schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "ARN of the user."},
			"access_key_id":      schema.StringAttribute{Computed: true, MarkdownDescription: "Access key ID of the current key. Empty after an import, until the next apply creates a key."},
			"secret_access_key":  schema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: "Secret access key of the current key."},
			"env":                schema.MapAttribute{Computed: true, Sensitive: true, ElementType: types.StringType, MarkdownDescription: "Environment variables for a CI step: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`."},
			"credential_process": schema.StringAttribute{Computed: true, Sensitive: true, MarkdownDescription: "JSON in the format the AWS CLI and SDKs read from a `credential_process` program (Version 1, AccessKeyId, SecretAccessKey; no Expiration: the key does not expire by itself)."},
			"rotated_at":         schema.StringAttribute{Computed: true, MarkdownDescription: "When the current key was created (RFC 3339)."},
			"next_rotation_at":   schema.StringAttribute{Computed: true, MarkdownDescription: "`rotated_at` plus `rotation_period` (RFC 3339): the first plan after it rotates the key."},
		},
	}
}

func validRotationPeriod(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < lease.MinRotationPeriod {
		return fmt.Errorf("%s is shorter than %s", fmtDuration(d), fmtDuration(lease.MinRotationPeriod))
	}
	return nil
}

func (r *staticCredentialResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// issuer acts in the user's account: the root identity's, or the one assume_role_arn reaches.
func (r *staticCredentialResource) issuer(m *staticCredentialModel) *lease.Issuer {
	if m.AssumeRoleARN.ValueString() == "" {
		return r.data.issuer
	}
	c := r.data.clients.AssumeRole(awsconfig.AssumeRole{
		RoleARN:     m.AssumeRoleARN.ValueString(),
		SessionName: m.AssumeRoleSessionName.ValueString(),
		ExternalID:  m.ExternalID.ValueString(),
	})
	return lease.NewIssuer(lease.Options{
		IAM:    c.IAM,
		STS:    c.STS,
		NewSTS: func(p aws.CredentialsProvider) lease.STSAPI { return c.NewSTS(p) },
		Clock:  r.data.clock,
	})
}

func (m *staticCredentialModel) period() time.Duration {
	d, err := time.ParseDuration(m.RotationPeriod.ValueString())
	if err != nil {
		return 0
	}
	return d
}

func (m *staticCredentialModel) propagationTimeout() time.Duration {
	d, _ := parseKnownDuration(m.PropagationTimeout, DefaultPropagationTimeout)
	return d
}

// ModifyPlan plans a rotation once it is due, or when the key is gone; and refuses to plan for a re-created user.
func (r *staticCredentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || req.State.Raw.IsNull() || r.data == nil {
		return // create or destroy: nothing to decide
	}
	var state, plan staticCredentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Username.Equal(state.Username) || !plan.AssumeRoleARN.Equal(state.AssumeRoleARN) {
		return // replaced
	}
	if raw, _ := req.Private.GetKey(ctx, privateStaticReplaced); len(raw) > 0 {
		var found string
		_ = json.Unmarshal(raw, &found)
		resp.Diagnostics.AddAttributeError(path.Root("username"), "IAM User Re-created",
			fmt.Sprintf("IAM user %q was deleted and re-created: its ID is now %s, but this credential was bound to %s. The provider "+
				"does not touch a user it was not bound to, as Vault does. If the new user is the one to manage, remove the "+
				"credential from state (`terraform state rm`, or destroy it: that deletes nothing on the new user) and create "+
				"or import it again; otherwise restore the original user's name.",
				state.Username.ValueString(), found, state.UserID.ValueString()))
		return
	}
	if plan.RotationPeriod.IsUnknown() {
		return
	}
	k := privateStaticRecord(ctx, req.Private, &resp.Diagnostics)
	if k == nil {
		return
	}
	plan.AccessKeyID, plan.SecretAccessKey, plan.Env, plan.CredentialProcess = state.AccessKeyID, state.SecretAccessKey, state.Env, state.CredentialProcess
	plan.RotatedAt = state.RotatedAt
	plan.NextRotationAt = types.StringValue(formatTime(nextRotation(k, plan.period())))
	if k.AccessKeyID == "" || !r.data.clock.Now().Before(nextRotation(k, plan.period())) {
		plan.AccessKeyID, plan.SecretAccessKey, plan.CredentialProcess = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		plan.Env = types.MapUnknown(types.StringType)
		plan.RotatedAt, plan.NextRotationAt = types.StringUnknown(), types.StringUnknown()
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func nextRotation(k *lease.StaticKey, period time.Duration) time.Time {
	return k.RotatedAt.Add(period)
}

func (r *staticCredentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	ctx = maskSecrets(ctx)
	if r.data == nil {
		resp.Diagnostics.AddError("Provider Not Configured", "The awsdynamic provider was not configured before this static credential was created.")
		return
	}
	var m staticCredentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	is := r.issuer(&m)
	k, err := is.BindStatic(ctx, m.Username.ValueString())
	if err != nil {
		if errors.Is(err, lease.ErrStaticUserGone) {
			resp.Diagnostics.AddAttributeError(path.Root("username"), "IAM User Not Found",
				fmt.Sprintf("IAM user %q does not exist%s. A static credential rotates the key of a user that exists; create the user first, "+
					"or use awsdynamic_credential to have the provider create users.\n\n%s", m.Username.ValueString(), inAccount(&m), err))
			return
		}
		resp.Diagnostics.AddError("Static Credential Not Created", fmt.Sprintf("IAM user %q could not be read%s. Check the provider's "+
			"permissions (iam:GetUser)%s.\n\n%s", m.Username.ValueString(), inAccount(&m), assumeHint(&m), err))
		return
	}
	creds, warnings, err := is.RotateStatic(ctx, k, m.propagationTimeout())
	addWarnings(&resp.Diagnostics, warnings)
	if err != nil {
		resp.Diagnostics.AddError("Static Credential Not Created", fmt.Sprintf("No access key was created for IAM user %q. Fix the cause "+
			"below and apply again; the user's own keys are as they were%s.\n\n%s", k.UserName, staleNote(k), err))
		if len(k.Owned()) > 0 {
			// A key that could not be deleted is recorded: the resource is saved (tainted) so that the next apply or destroy deletes it.
			r.save(ctx, &m, k, nil, &resp.State, resp.Private, &resp.Diagnostics)
		}
		return
	}
	r.save(ctx, &m, k, &creds, &resp.State, resp.Private, &resp.Diagnostics)
}

func staleNote(k *lease.StaticKey) string {
	if len(k.Owned()) == 0 {
		return ""
	}
	return fmt.Sprintf("; access keys %s made by this attempt could not be deleted and are recorded, so that the next apply or destroy deletes them",
		strings.Join(k.Owned(), ", "))
}

func inAccount(m *staticCredentialModel) string {
	if m.AssumeRoleARN.ValueString() == "" {
		return ""
	}
	return " in the account of " + m.AssumeRoleARN.ValueString()
}

func assumeHint(m *staticCredentialModel) string {
	if m.AssumeRoleARN.ValueString() == "" {
		return ""
	}
	return ", and that the root identity may assume assume_role_arn (sts:AssumeRole, and external_id if its trust policy requires one)"
}

func addWarnings(diags *diag.Diagnostics, warnings []string) {
	for _, w := range warnings {
		diags.AddWarning("Static Credential Key Deleted", w+".")
	}
}

// stateSetter is resp.State of Create, Read and Update alike.
type stateSetter interface {
	Set(context.Context, any) diag.Diagnostics
}

// save writes the model and the engine's record. creds nil keeps the secret in m, if any, for the key k still names.
func (r *staticCredentialResource) save(ctx context.Context, m *staticCredentialModel, k *lease.StaticKey, creds *lease.Credentials,
	state stateSetter, private privateSetter, diags *diag.Diagnostics) {
	m.ID = types.StringValue(k.UserName)
	m.UserID, m.UserARN = types.StringValue(k.UserID), types.StringValue(k.UserARN)
	c := lease.Credentials{}
	switch {
	case creds != nil:
		c = *creds
	case k.AccessKeyID != "" && m.AccessKeyID.ValueString() == k.AccessKeyID:
		c = lease.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: m.SecretAccessKey.ValueString()}
	}
	m.AccessKeyID, m.SecretAccessKey = types.StringValue(c.AccessKeyID), types.StringValue(c.SecretAccessKey)
	var d diag.Diagnostics
	m.Env, m.CredentialProcess, d = staticOutputs(c)
	diags.Append(d...)
	if k.RotatedAt.IsZero() {
		m.RotatedAt, m.NextRotationAt = types.StringValue(""), types.StringValue("")
	} else {
		m.RotatedAt = types.StringValue(formatTime(k.RotatedAt))
		m.NextRotationAt = types.StringValue(formatTime(nextRotation(k, m.period())))
	}
	diags.Append(state.Set(ctx, m)...)
	b, err := k.Marshal()
	if err != nil {
		diags.AddError("Static Credential Not Recorded", err.Error())
		return
	}
	diags.Append(private.SetKey(ctx, privateStaticKey, b)...)
}

// staticOutputs are ciOutputs without an expiration: a static key does not expire by itself, and an Expiration in
// credential_process output would make SDKs run the process again at that time for nothing.
func staticOutputs(c lease.Credentials) (types.Map, types.String, diag.Diagnostics) {
	if c.AccessKeyID == "" {
		return types.MapValueMust(types.StringType, nil), types.StringValue(""), nil
	}
	env, diags := types.MapValueFrom(context.Background(), types.StringType, map[string]string{
		"AWS_ACCESS_KEY_ID":     c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": c.SecretAccessKey,
	})
	proc := struct {
		Version         int    `json:"Version"`
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
	}{1, c.AccessKeyID, c.SecretAccessKey}
	b, _ := json.Marshal(proc) //nolint:gosec // G117: this JSON is the credential by design; the attribute is sensitive
	return env, types.StringValue(string(b)), diags
}

func privateStaticRecord(ctx context.Context, p privateGetter, diags *diag.Diagnostics) *lease.StaticKey {
	raw, d := p.GetKey(ctx, privateStaticKey)
	diags.Append(d...)
	if diags.HasError() {
		return nil
	}
	if len(raw) == 0 {
		diags.AddError("Static Credential Record Missing", "The static credential's record is missing from its private state. This is a bug in the provider: please report it.")
		return nil
	}
	k, err := lease.UnmarshalStaticKey(raw)
	if err != nil {
		diags.AddError("Static Credential Record Unreadable", fmt.Sprintf("%s. This is a bug in the provider: please report it.", err))
		return nil
	}
	return k
}

// Read binds an imported credential, notices a key or user gone, and a namesake in place of the bound user.
func (r *staticCredentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	ctx = maskSecrets(ctx)
	if r.data == nil {
		return
	}
	var m staticCredentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	k := privateStaticRecord(ctx, req.Private, &resp.Diagnostics)
	if k == nil {
		return
	}
	is := r.issuer(&m)
	if k.UserID == "" { // imported: bind to the user as it is now
		b, err := is.BindStatic(ctx, k.UserName)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("username"), "Static Credential Not Imported",
				fmt.Sprintf("IAM user %q could not be bound. Import takes the name of an existing IAM user%s.\n\n%s", k.UserName, inAccount(&m), err))
			return
		}
		k = b
	}
	st, err := is.CheckStatic(ctx, k)
	if err != nil {
		resp.Diagnostics.AddError("Static Credential Not Read", fmt.Sprintf("Could not read IAM user %q and its access keys%s.\n\n%s", k.UserName, assumeHint(&m), err))
		return
	}
	switch {
	case !st.UserExists:
		resp.Diagnostics.AddWarning("Static Credential User Gone", fmt.Sprintf("IAM user %q no longer exists, and its keys with it; the credential "+
			"is removed from state. Re-create the user, or remove the resource from the configuration.", k.UserName))
		resp.State.RemoveResource(ctx)
		return
	case st.Replaced:
		resp.Diagnostics.AddWarning("IAM User Re-created", fmt.Sprintf("IAM user %q now has ID %s, not %s, the ID this credential was bound to. "+
			"The provider will not touch the new user: plans fail until the credential is removed from state or destroyed (which deletes nothing on the new user).",
			k.UserName, st.FoundID, k.UserID))
		found, _ := json.Marshal(st.FoundID) // private state holds JSON
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateStaticReplaced, found)...)
		return
	case k.AccessKeyID != "" && !st.KeyExists:
		resp.Diagnostics.AddWarning("Static Credential Key Gone", fmt.Sprintf("Access key %s of IAM user %q was deleted outside Terraform; "+
			"the next apply creates a new one.", k.AccessKeyID, k.UserName))
		k.AccessKeyID = ""
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateStaticReplaced, nil)...)
	r.save(ctx, &m, k, nil, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *staticCredentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	ctx = maskSecrets(ctx)
	var plan, state staticCredentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	k := privateStaticRecord(ctx, req.Private, &resp.Diagnostics)
	if k == nil {
		return
	}
	// The plan decided (ModifyPlan marks the key unknown when rotation is due); deciding again by the clock here
	// could contradict a plan made a moment before the due time.
	rotate := plan.AccessKeyID.IsUnknown()
	plan.AccessKeyID, plan.SecretAccessKey = state.AccessKeyID, state.SecretAccessKey
	if rotate {
		creds, warnings, err := r.issuer(&plan).RotateStatic(ctx, k, plan.propagationTimeout())
		addWarnings(&resp.Diagnostics, warnings)
		if err != nil {
			resp.Diagnostics.AddError("Static Credential Not Rotated", fmt.Sprintf("The access key of IAM user %q could not be rotated; "+
				"the key in state is the one that works%s. Fix the cause below and apply again.\n\n%s", k.UserName, staleNote(k), err))
			r.save(ctx, &plan, k, nil, &resp.State, resp.Private, &resp.Diagnostics)
			return
		}
		r.save(ctx, &plan, k, &creds, &resp.State, resp.Private, &resp.Diagnostics)
		return
	}
	r.save(ctx, &plan, k, nil, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *staticCredentialResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	ctx = maskSecrets(ctx)
	var m staticCredentialModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	k := privateStaticRecord(ctx, req.Private, &resp.Diagnostics)
	if k == nil {
		return
	}
	if err := r.issuer(&m).DeleteStatic(ctx, k); err != nil {
		resp.Diagnostics.AddError("Static Credential Not Deleted", fmt.Sprintf("Access keys %s of IAM user %q could not all be deleted; "+
			"the credential stays in state so that the next destroy tries again. Nothing else of the user was changed.\n\n%s",
			strings.Join(k.Owned(), ", "), k.UserName, err))
	}
}

// ImportState takes an IAM user name and takes over no key: AWS never returns an existing key's secret, so the next
// apply creates a key of the provider's own. The user is bound (its ID recorded) on the read that follows.
func (r *staticCredentialResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := lease.ValidateUserName(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import a static credential by the IAM user's name, e.g. `terraform import "+
			"awsdynamic_static_credential.smtp ses-smtp-user`; %q is not a user name: %s.", req.ID, err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("username"), req.ID)...)
	b, _ := (&lease.StaticKey{UserName: req.ID}).Marshal()
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateStaticKey, b)...)
}
