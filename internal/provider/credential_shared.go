package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// privateLeaseKey is where a credential keeps its lease: managed resources in private state, ephemeral ones in
// their private data. Close and Delete need nothing else.
const privateLeaseKey = "lease"

// privateWindowKey keeps an ephemeral credential's effective renew_before for Renew, which never sees config.
const privateWindowKey = "renew_before"

// Defaults of the credential arguments.
const (
	DefaultPropagationTimeout = 2 * time.Minute
)

// credentialArgs are the arguments both credential resources take.
// Parallel on purpose: a tagged field per argument, as the framework reads them, the same shape as other records.
type credentialArgs struct {
	Role               types.Object `tfsdk:"role"`
	TTL                types.String `tfsdk:"ttl"`
	DisplayName        types.String `tfsdk:"display_name"`
	RenewBefore        types.String `tfsdk:"renew_before"`
	WaitForPropagation types.Bool   `tfsdk:"wait_for_propagation"`
	PropagationTimeout types.String `tfsdk:"propagation_timeout"`
	RoleARN            types.String `tfsdk:"role_arn"`
	RoleSessionName    types.String `tfsdk:"role_session_name"`
	MFACode            types.String `tfsdk:"mfa_code"`
}

// credentialArg is one argument of both credential resources: the table below is the one place they are listed
// (besides credentialArgs' fields, which the framework needs); the schemas and getArgs are built from it.
type credentialArg struct {
	name string
	kind credentialArgKind
	// sensitive: never shown in plan output; replaces: on the managed resource, a change issues a new credential.
	sensitive, replaces bool
	field               func(*credentialArgs) any // where getArgs puts the value
	desc                string
}

type credentialArgKind int

const (
	argString   credentialArgKind = iota
	argDuration                   // a string holding a Go duration, validated at plan
	argBool
	argRole // the nested role object, whose attributes each resource builds itself
)

var credentialArgTable = []credentialArg{
	{name: "role", kind: argRole, field: func(a *credentialArgs) any { return &a.Role },
		desc: "The role to issue from: `role = awsdynamic_role.deploy` passes the whole role resource (its `id` is " +
			"dropped), or write the role's arguments as an object literal."},
	{name: "ttl", kind: argDuration, field: func(a *credentialArgs) any { return &a.TTL },
		desc: "Lease TTL as a Go duration (`\"2h\"`). For `iam_user`: default the role's `default_ttl`, then the provider's, " +
			"capped at the role's (or provider's) `max_ttl`; changing it renews the lease with the new TTL, without new keys. " +
			"For the STS kinds: default the role's `default_sts_ttl`, then 1h, capped at `max_sts_ttl` and AWS's range " +
			"(15m–12h for `assumed_role`, 15m–36h otherwise); changing it replaces the credential."},
	{name: "display_name", kind: argString, replaces: true, field: func(a *credentialArgs) any { return &a.DisplayName },
		desc: "Fed to the username template as `.DisplayName`, e.g. the pipeline or person the credential is for."},
	{name: "renew_before", kind: argDuration, field: func(a *credentialArgs) any { return &a.RenewBefore },
		desc: "Renewal window as a Go duration: a refresh (or, for the ephemeral resource, Terraform's renew " +
			"call) inside this window before expiry renews the lease. Default: a third of the TTL."},
	{name: "wait_for_propagation", kind: argBool, field: func(a *credentialArgs) any { return &a.WaitForPropagation },
		desc: "Wait until the new key authenticates (sts:GetCallerIdentity with it succeeds several " +
			"times in a row) before handing it out, so the first use does not fail on IAM's eventual consistency. Default `true`."},
	{name: "propagation_timeout", kind: argDuration, field: func(a *credentialArgs) any { return &a.PropagationTimeout },
		desc: "How long to wait for the new key to authenticate, as a Go duration. Default `\"2m\"`. " +
			"If it never does, the credential is revoked and the apply fails."},
	{name: "role_arn", kind: argString, replaces: true, field: func(a *credentialArgs) any { return &a.RoleARN },
		desc: "For `assumed_role`: which of the role's `role_arns` to assume. Required when it has several."},
	{name: "role_session_name", kind: argString, replaces: true, field: func(a *credentialArgs) any { return &a.RoleSessionName },
		desc: "For `assumed_role` and `federation_token`: the session (or federated user) name. Default from the username template."},
	{name: "mfa_code", kind: argString, sensitive: true, field: func(a *credentialArgs) any { return &a.MFACode },
		desc: "For `session_token` with `mfa_serial_number`: the current 6-digit MFA code."},
}

// getArgs reads only the arguments from a config (the outputs are not part of a config's meaning).
func getArgs(ctx context.Context, cfg tfsdk.Config, a *credentialArgs) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, arg := range credentialArgTable {
		diags.Append(cfg.GetAttribute(ctx, path.Root(arg.name), arg.field(a))...)
	}
	return diags
}

// request converts the arguments into an engine request and its role, validating what plan could not know.
func (a credentialArgs) request(ctx context.Context, diags *diag.Diagnostics) (lease.Role, lease.Request, time.Duration) {
	var ra roleArgs
	diags.Append(a.Role.As(ctx, &ra, basetypes.ObjectAsOptions{})...)
	role, _ := ra.toRole(ctx, path.Root("role"), diags)
	req := lease.Request{
		DisplayName:        a.DisplayName.ValueString(),
		WaitForPropagation: a.WaitForPropagation.IsNull() || a.WaitForPropagation.ValueBool(),
		RoleARN:            a.RoleARN.ValueString(),
		RoleSessionName:    a.RoleSessionName.ValueString(),
		MFACode:            a.MFACode.ValueString(),
	}
	req.TTL, _ = parseKnownDuration(a.TTL, 0)
	req.PropagationTimeout, _ = parseKnownDuration(a.PropagationTimeout, DefaultPropagationTimeout)
	window, _ := parseKnownDuration(a.RenewBefore, 0)
	return role, req, window
}

// validateCredentialArgs is the plan-time check shared by both credential resources.
func validateCredentialArgs(ctx context.Context, a credentialArgs, data *providerData, diags *diag.Diagnostics) {
	if a.Role.IsNull() || a.Role.IsUnknown() {
		return
	}
	var ra roleArgs
	diags.Append(a.Role.As(ctx, &ra, basetypes.ObjectAsOptions{UnhandledUnknownAsEmpty: true})...)
	if diags.HasError() {
		return
	}
	role, unknown := ra.toRole(ctx, path.Root("role"), diags)
	if a.DisplayName.IsUnknown() {
		unknown["display_name"] = true
	}
	validateRole(role, a.DisplayName.ValueString(), unknown, data, path.Root("role"), diags)

	ttl, ttlOK := parseKnownDuration(a.TTL, 0)
	window, winOK := parseKnownDuration(a.RenewBefore, 0)
	if ttlOK && winOK && ttl > 0 && window > 0 && window >= ttl {
		diags.AddAttributeError(path.Root("renew_before"), "Renewal Window Too Long",
			fmt.Sprintf("renew_before (%s) must be shorter than ttl (%s): otherwise every refresh renews. Leave it unset for a third of the TTL.", fmtDuration(window), fmtDuration(ttl)))
	}
	if !unknown["max_ttl"] && ttlOK && ttl > 0 && role.MaxTTL > 0 && ttl > role.MaxTTL && role.CredentialType == lease.IAMUser {
		diags.AddAttributeWarning(path.Root("ttl"), "TTL Capped At Maximum",
			fmt.Sprintf("ttl (%s) is longer than the role's max_ttl (%s); the lease will be issued for %s, as Vault does.", fmtDuration(ttl), fmtDuration(role.MaxTTL), fmtDuration(role.MaxTTL)))
	}
	// role_arn, role_session_name, mfa_code and an STS ttl against the role: the engine's own check, which Issue
	// repeats before any call.
	if !ttlOK {
		unknown["ttl"] = true
	}
	for name, v := range map[string]types.String{"role_arn": a.RoleARN, "role_session_name": a.RoleSessionName, "mfa_code": a.MFACode} {
		if v.IsUnknown() {
			unknown[name] = true
		}
	}
	req := lease.Request{TTL: ttl, RoleARN: a.RoleARN.ValueString(), RoleSessionName: a.RoleSessionName.ValueString(), MFACode: a.MFACode.ValueString()}
	for _, p := range role.ValidateRequest(req, unknown) {
		if p.Warning {
			diags.AddAttributeWarning(path.Root(p.Attribute), p.Summary, p.Detail)
		} else {
			diags.AddAttributeError(path.Root(p.Attribute), p.Summary, p.Detail)
		}
	}
}

// credentialOutputs are the values both credential resources return.
type credentialOutputs struct {
	AccessKeyID       types.String `tfsdk:"access_key_id"`
	SecretAccessKey   types.String `tfsdk:"secret_access_key"`
	SessionToken      types.String `tfsdk:"session_token"`
	IAMUserName       types.String `tfsdk:"iam_user_name"`
	IAMUserARN        types.String `tfsdk:"iam_user_arn"`
	AssumedRoleARN    types.String `tfsdk:"assumed_role_arn"`
	FederatedUserARN  types.String `tfsdk:"federated_user_arn"`
	ExpiresAt         types.String `tfsdk:"expires_at"`
	Env               types.Map    `tfsdk:"env"`
	CredentialProcess types.String `tfsdk:"credential_process"`
}

var outputDescriptions = map[string]string{
	"access_key_id":      "Access key ID.",
	"secret_access_key":  "Secret access key.",
	"session_token":      "Session token of STS credentials; empty for `iam_user`.",
	"iam_user_name":      "Name of the IAM user created for the lease (`iam_user`).",
	"iam_user_arn":       "ARN of the IAM user created for the lease (`iam_user`).",
	"assumed_role_arn":   "ARN of the assumed-role session (`assumed_role`).",
	"federated_user_arn": "ARN of the federated user (`federation_token`).",
	"expires_at":         "When the credential stops working (RFC 3339): the lease's expiry, enforced by AWS through the expiry guard.",
	"env": "Environment variables for a CI step: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (when " +
		"there is one) and `AWS_CREDENTIAL_EXPIRATION`.",
	"credential_process": "JSON in the format the AWS CLI and SDKs read from a `credential_process` program (Version 1, " +
		"AccessKeyId, SecretAccessKey, SessionToken, Expiration).",
}

// sensitiveOutputs are never shown in plan output or logs.
var sensitiveOutputs = map[string]bool{"secret_access_key": true, "session_token": true, "env": true, "credential_process": true}

func outputsFrom(l *lease.Lease, c lease.Credentials) (credentialOutputs, diag.Diagnostics) {
	expires := l.ExpiresAt
	o := credentialOutputs{
		AccessKeyID:      types.StringValue(c.AccessKeyID),
		SecretAccessKey:  types.StringValue(c.SecretAccessKey),
		SessionToken:     types.StringValue(c.SessionToken),
		IAMUserName:      types.StringValue(l.UserName),
		IAMUserARN:       types.StringValue(l.UserARN),
		AssumedRoleARN:   types.StringValue(l.AssumedRoleARN),
		FederatedUserARN: types.StringValue(l.FederatedUserARN),
		ExpiresAt:        types.StringValue(formatTime(expires)),
	}
	var diags diag.Diagnostics
	o.Env, o.CredentialProcess, diags = ciOutputs(c, expires)
	return o, diags
}

// ciOutputs renders the credential for pipelines: environment variables and credential_process JSON.
func ciOutputs(c lease.Credentials, expires time.Time) (types.Map, types.String, diag.Diagnostics) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":         c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     c.SecretAccessKey,
		"AWS_CREDENTIAL_EXPIRATION": formatTime(expires),
	}
	if c.SessionToken != "" {
		env["AWS_SESSION_TOKEN"] = c.SessionToken
	}
	m, diags := types.MapValueFrom(context.Background(), types.StringType, env)
	proc := struct {
		Version         int    `json:"Version"`
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		SessionToken    string `json:"SessionToken,omitempty"`
		Expiration      string `json:"Expiration"`
	}{1, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, formatTime(expires)}
	b, _ := json.Marshal(proc) //nolint:gosec // G117: this JSON is the credential by design; the attribute is sensitive
	return m, types.StringValue(string(b)), diags
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// issueDiagnostic turns an engine error into a diagnostic: what failed, what to do, AWS's answer last.
func issueDiagnostic(diags *diag.Diagnostics, role string, err error) {
	var qe *lease.QuotaError
	if errors.As(err, &qe) {
		diags.AddAttributeError(path.Root("role").AtName("credential_type"), "IAM User Quota Reached", fmt.Sprintf(
			"No credential was issued from role %q: its credential_type \"iam_user\" creates an IAM user, and the account has "+
				"%d IAM users against a UsersQuota of %d. Nothing was created. Revoke or sweep credentials that are no longer "+
				"needed, shorten their ttl, issue fewer at once, or ask AWS to raise the quota; then apply again.\n\n%s",
			role, qe.Users, qe.Quota, err))
		return
	}
	var ie *lease.IssueError
	detail := err.Error()
	if errors.As(err, &ie) && ie.RollbackErr != nil {
		detail += "\n\nRun `terraform-provider-awsdynamic sweep` (or apply again later) to remove what the failed attempt left; it carries the lease tags."
	}
	diags.AddError("Credential Not Issued", fmt.Sprintf("No credential was issued from role %q. Fix the cause below and apply again.\n\n%s", role, detail))
}

// privateGetter is the read side of private state (managed) and private data (ephemeral) alike.
type privateGetter interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}

// privateLease reads the lease kept beside a credential. Nil, with a diagnostic, when it is missing or unreadable,
// or when diags already holds an error.
func privateLease(ctx context.Context, p privateGetter, diags *diag.Diagnostics) *lease.Lease {
	raw, d := p.GetKey(ctx, privateLeaseKey)
	diags.Append(d...)
	if diags.HasError() {
		return nil
	}
	if len(raw) == 0 {
		diags.AddError("Lease Missing", "The credential's lease record is missing from its private state. This is a bug in the provider: please report it.")
		return nil
	}
	l, err := lease.Unmarshal(raw)
	if err != nil {
		diags.AddError("Lease Unreadable", fmt.Sprintf("The credential's lease record could not be read: %s. This is a bug in the provider: please report it.", err))
		return nil
	}
	return l
}

// issue is what Create and Open do alike: turn the arguments into the role (with the provider's required boundary)
// and request, check the role as plan did, warn about what its policies let a holder keep past expiry, and issue.
// It returns the role as issued; a nil lease means diags say why nothing was issued.
func (data *providerData) issue(ctx context.Context, a credentialArgs, diags *diag.Diagnostics) (*lease.Lease, lease.Credentials, lease.Role, time.Duration) {
	if data == nil {
		diags.AddError("Provider Not Configured", "The awsdynamic provider was not configured before this credential was issued.")
		return nil, lease.Credentials{}, lease.Role{}, 0
	}
	role, request, window := a.request(ctx, diags)
	validateRole(role, request.DisplayName, nil, data, path.Root("role"), diags)
	if diags.HasError() {
		return nil, lease.Credentials{}, role, 0
	}
	warnPolicyRisks := checkPolicyRisks(ctx, data.issuer, role)
	role = data.withRequiredBoundary(role)
	l, creds, err := data.issuer.Issue(ctx, role, request)
	warnPolicyRisks(diags)
	if err != nil {
		issueDiagnostic(diags, role.Name, err)
		return nil, lease.Credentials{}, role, 0
	}
	return l, creds, role, l.RenewWindow(window)
}
