// Package provider is the Terraform surface of awsdynamic: schemas, plan-time validation and diagnostics. The
// credential lifecycle itself lives in internal/lease; this package maps Terraform values onto it.
package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/providervalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Defaults of the provider's lease arguments (Vault's config/lease): the engine's, named once there.
const (
	DefaultTTL      = lease.DefaultLeaseTTL
	DefaultMaxTTL   = lease.DefaultLeaseMaxTTL
	DefaultUserPath = lease.DefaultUserPath
)

// Options are what tests inject; the zero value is production.
type Options struct {
	Clock      clock.Clock
	HTTPClient aws.HTTPClient
}

// New returns the provider factory that main serves.
func New(version string) func() provider.Provider {
	return NewWithOptions(version, Options{})
}

// NewWithOptions returns a provider factory with injected clock and transport.
func NewWithOptions(version string, o Options) func() provider.Provider {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return func() provider.Provider { return &awsdynamicProvider{version: version, opts: o} }
}

type awsdynamicProvider struct {
	version string
	opts    Options
}

var (
	_ provider.Provider                       = (*awsdynamicProvider)(nil)
	_ provider.ProviderWithConfigValidators   = (*awsdynamicProvider)(nil)
	_ provider.ProviderWithValidateConfig     = (*awsdynamicProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*awsdynamicProvider)(nil)
)

// Parallel on purpose: providerModel and the block models below are each the framework's reading of one block, a
// tagged field per attribute.
type providerModel struct {
	AccessKey                 types.String      `tfsdk:"access_key"`
	SecretKey                 types.String      `tfsdk:"secret_key"`
	Token                     types.String      `tfsdk:"token"`
	Profile                   types.String      `tfsdk:"profile"`
	SharedConfigFiles         types.List        `tfsdk:"shared_config_files"`
	SharedCredentialsFiles    types.List        `tfsdk:"shared_credentials_files"`
	Region                    types.String      `tfsdk:"region"`
	Endpoints                 *endpointsModel   `tfsdk:"endpoints"`
	AssumeRole                *assumeRoleModel  `tfsdk:"assume_role"`
	AssumeRoleWithWebIdentity *webIdentityModel `tfsdk:"assume_role_with_web_identity"`
	MaxRetries                types.Int64       `tfsdk:"max_retries"`
	RetryMode                 types.String      `tfsdk:"retry_mode"`
	DefaultTTL                types.String      `tfsdk:"default_ttl"`
	MaxTTL                    types.String      `tfsdk:"max_ttl"`
	UsernameTemplate          types.String      `tfsdk:"username_template"`
	UserPath                  types.String      `tfsdk:"user_path"`
	DefaultTags               types.Map         `tfsdk:"default_tags"`
	SkipCredentialsValidation types.Bool        `tfsdk:"skip_credentials_validation"`
	SweepExpiredLeases        types.Bool        `tfsdk:"sweep_expired_leases"`
	RequiredBoundaryARN       types.String      `tfsdk:"required_permissions_boundary_arn"`
	AuditTags                 types.Bool        `tfsdk:"audit_tags"`
	CheckAddedCredentials     types.Bool        `tfsdk:"check_added_credentials"`
}

type endpointsModel struct {
	IAM types.String `tfsdk:"iam"`
	STS types.String `tfsdk:"sts"`
}

// Parallel on purpose: the framework reads each block into a struct of its own, field by tagged field, like
// providerModel above.
type assumeRoleModel struct {
	RoleARN     types.String `tfsdk:"role_arn"`
	SessionName types.String `tfsdk:"session_name"`
	ExternalID  types.String `tfsdk:"external_id"`
	Duration    types.String `tfsdk:"duration"`
}

type webIdentityModel struct {
	RoleARN              types.String `tfsdk:"role_arn"`
	SessionName          types.String `tfsdk:"session_name"`
	WebIdentityToken     types.String `tfsdk:"web_identity_token"`
	WebIdentityTokenFile types.String `tfsdk:"web_identity_token_file"`
	Duration             types.String `tfsdk:"duration"`
}

func (p *awsdynamicProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "awsdynamic"
	resp.Version = p.version
}

func (p *awsdynamicProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	sessionName := stringCheck("Invalid Session Name", "2–64 characters of `[A-Za-z0-9+=,.@_-]`", lease.ValidateRoleSessionName)
	roleARN := stringCheck("Invalid Role ARN", "an IAM role ARN such as `arn:aws:iam::123456789012:role/name`", lease.ValidateARN)
	resp.Schema = schema.Schema{
		MarkdownDescription: "The awsdynamic provider issues short-lived AWS credentials from reusable roles, renews their " +
			"lease and revokes them, as HashiCorp Vault's AWS secrets engine does, with no server to run. Its own " +
			"configuration is the *root identity* that mints those credentials. Every argument is optional: the AWS " +
			"SDK's usual environment variables and shared files are the fallback.",
		Attributes: map[string]schema.Attribute{
			"access_key": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Access key ID of the root identity. Falls back to `AWS_ACCESS_KEY_ID`, then to the shared files and profile.",
			},
			"secret_key": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Secret access key of the root identity. Falls back to `AWS_SECRET_ACCESS_KEY`.",
			},
			"token": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Session token, when `access_key` and `secret_key` are temporary. Falls back to `AWS_SESSION_TOKEN`.",
			},
			"profile": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Named profile of the shared config and credentials files. Falls back to `AWS_PROFILE`.",
			},
			"shared_config_files": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Shared config files to read instead of `~/.aws/config` (`AWS_CONFIG_FILE`).",
			},
			"shared_credentials_files": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Shared credentials files to read instead of `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`).",
			},
			"region": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Region for STS. IAM is global. Falls back to `AWS_REGION`, then the profile, then `us-east-1`.",
			},
			"max_retries": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: fmt.Sprintf("How many times a failed AWS call is retried by the SDK. Default %d. A throttled call is retried up to %d times whatever this says: IAM throttles account-wide, and a cleanup that gives up would leave a user behind.", awsconfig.DefaultMaxRetries, awsconfig.ThrottleMaxAttempts-1),
				Validators:          []validator.Int64{int64validator.AtLeast(0)},
			},
			"retry_mode": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "The SDK's retry mode: `adaptive` (default: once IAM throttles, every call of this provider process waits for a client-side token, so that concurrent applies share the account's rate instead of fighting over it) or `standard` (jittered backoff only). Both retry with jittered exponential backoff and no client-side retry budget.",
				Validators:          []validator.String{stringvalidator.OneOf("standard", "adaptive")},
			},
			"default_ttl": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Lease TTL of credentials whose role and resource set none, as a Go duration. Default `\"1h\"`. " +
					"Vault: `config/lease` `lease`.",
				Validators: []validator.String{duration()},
			},
			"max_ttl": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Longest a lease may be renewed to, counted from issue, as a Go duration. Default `\"24h\"`. " +
					"Vault: `config/lease` `lease_max`.",
				Validators: []validator.String{duration()},
			},
			"username_template": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Go text/template for IAM user names, with Vault's function names (`truncate`, `truncate_sha256`, " +
					"`uppercase`, `lowercase`, `replace`, `sha256`, `base64`, `unix_time`, `unix_time_millis`, `timestamp`, " +
					"`uuid`, `random`) and data `.RoleName`, `.DisplayName` (Vault's `.PolicyName` and `.Type` work too), so a " +
					"template copied from Vault works unchanged. It must render a valid IAM user name of at most 64 characters. " +
					"Default: `awsdyn-` followed by the role name, the display name, the Unix time and random characters.",
				Validators: []validator.String{usernameTemplate()},
			},
			"user_path": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "IAM path of the users the provider creates. Default `\"/awsdynamic/\"`. A role's `user_path` overrides it.",
				Validators:          []validator.String{stringCheck("Invalid IAM Path", "an IAM path such as `/awsdynamic/`", lease.ValidatePath)},
			},
			"default_tags": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Tags applied to every IAM user the provider creates. A role's `iam_tags` override them, key for key " +
					"compared as IAM compares them, without regard to case. Keys may not begin with `awsdynamic:`, in any case: the " +
					"provider reserves that prefix for its own lease tags.",
			},
			"required_permissions_boundary_arn": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: requiredBoundaryDescription,
				Validators:          []validator.String{policyARN()},
			},
			"sweep_expired_leases": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Once per provider configuration, revoke the IAM users under `user_path` whose lease expired more "+
					"than %s ago, and users left half-created by an interrupted issue (no key or expiry guard) older than that. Only users "+
					"carrying this provider's lease tags are touched. What was removed is reported as a warning. The same sweep runs "+
					"as `terraform-provider-awsdynamic sweep` for a scheduled job. Default `false`.", fmtDuration(sweepGrace)),
			},
			"audit_tags": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Tag every IAM user a lease creates with who issued it and from where: `" + lease.TagIssuedBy + "` is the root " +
					"identity's ARN (as `sts:GetCallerIdentity` answers it; left out with `skip_credentials_validation`), and `" + lease.TagIssuedFrom +
					"` names the CI run when the provider runs in one (GitHub Actions: repository, run ID and attempt; GitLab CI: project path and job ID; " +
					"CircleCI, Buildkite, Bitbucket Pipelines, Azure Pipelines and Jenkins from their standard variables). Values are sanitized to IAM's " +
					"tag characters and 256 characters, and hold no secret. Both tags count among the 5 of IAM's 50 tags per user the provider reserves " +
					"for its own, whether or not this is on. `terraform-provider-awsdynamic leases` shows them. Default `true`.",
			},
			"check_added_credentials": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "On each refresh of an `iam_user` credential, also list its IAM user's access keys and read its login " +
					"profile, in the same round trip as the other two reads (four calls instead of two), and plan a replacement, with a " +
					"warning, when the user holds a credential besides the lease's key: another access key or a console password. No " +
					"issue makes one and the guard denies the lease's key the calls that would, so another principal added it; the " +
					"replacement revokes the user with everything on it. With `false` a refresh makes two calls and looks for added " +
					"credentials only when it finds the guard tampered with; `terraform-provider-awsdynamic leases` still shows them " +
					"(`tampered`), and an added credential stops working at the lease's expiry all the same (the guard is the user's, " +
					"not the key's). Default `true`.",
			},
			"skip_credentials_validation": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Skip the `sts:GetCallerIdentity` check of the root identity when the provider is configured. The " +
					"provider still makes that call once to read AWS's time (its answer counts even when it is a refusal); see " +
					"\"Whose clock\" in the expiry enforcement guide.",
			},
		},
		Blocks: map[string]schema.Block{
			"endpoints": schema.SingleNestedBlock{
				MarkdownDescription: "Custom service endpoints (an emulator, a VPC endpoint). `AWS_ENDPOINT_URL_IAM` and `AWS_ENDPOINT_URL_STS` work too.",
				Attributes: map[string]schema.Attribute{
					"iam": schema.StringAttribute{Optional: true, MarkdownDescription: "IAM endpoint URL.", Validators: []validator.String{endpointURL()}},
					"sts": schema.StringAttribute{Optional: true, MarkdownDescription: "STS endpoint URL.", Validators: []validator.String{endpointURL()}},
				},
			},
			"assume_role": schema.SingleNestedBlock{
				MarkdownDescription: "Assume this role with the credentials found above and mint credentials as that role.",
				Attributes: map[string]schema.Attribute{
					"role_arn":     schema.StringAttribute{Optional: true, MarkdownDescription: "ARN of the role to assume. Required in this block.", Validators: []validator.String{roleARN}},
					"session_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Session name. Default `terraform-provider-awsdynamic`.", Validators: []validator.String{sessionName}},
					"external_id":  schema.StringAttribute{Optional: true, MarkdownDescription: "External ID the role's trust policy requires.", Validators: []validator.String{stringCheck("Invalid External ID", "2–1,224 characters of `[A-Za-z0-9+=,.@:/_-]`", lease.ValidateExternalID)}},
					"duration":     schema.StringAttribute{Optional: true, MarkdownDescription: "Session duration, a Go duration between 15m and 12h. Default 1h.", Validators: []validator.String{durationBetween(15*time.Minute, 12*time.Hour)}},
				},
			},
			"assume_role_with_web_identity": schema.SingleNestedBlock{
				MarkdownDescription: "Exchange an OIDC token (a CI system's) for the root identity: no long-lived key at all.",
				Attributes: map[string]schema.Attribute{
					"role_arn":                schema.StringAttribute{Optional: true, MarkdownDescription: "ARN of the role to assume. Required in this block.", Validators: []validator.String{roleARN}},
					"session_name":            schema.StringAttribute{Optional: true, MarkdownDescription: "Session name. Default `terraform-provider-awsdynamic`.", Validators: []validator.String{sessionName}},
					"web_identity_token":      schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "The OIDC token itself. Conflicts with `web_identity_token_file`."},
					"web_identity_token_file": schema.StringAttribute{Optional: true, MarkdownDescription: "File holding the OIDC token. Falls back to `AWS_WEB_IDENTITY_TOKEN_FILE`."},
					"duration":                schema.StringAttribute{Optional: true, MarkdownDescription: "Session duration, a Go duration between 15m and 12h. Default 1h.", Validators: []validator.String{durationBetween(15*time.Minute, 12*time.Hour)}},
				},
			},
		},
	}
}

func (p *awsdynamicProvider) ConfigValidators(context.Context) []provider.ConfigValidator {
	return []provider.ConfigValidator{
		providervalidator.RequiredTogether(path.MatchRoot("access_key"), path.MatchRoot("secret_key")),
		providervalidator.Conflicting(path.MatchRoot("assume_role"), path.MatchRoot("assume_role_with_web_identity")),
		providervalidator.Conflicting(
			path.MatchRoot("assume_role_with_web_identity").AtName("web_identity_token"),
			path.MatchRoot("assume_role_with_web_identity").AtName("web_identity_token_file")),
	}
}

// ValidateConfig checks what spans several attributes, at plan time.
func (p *awsdynamicProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	def, defOK := parseKnownDuration(m.DefaultTTL, DefaultTTL)
	max, maxOK := parseKnownDuration(m.MaxTTL, DefaultMaxTTL)
	if defOK && maxOK && def > max {
		resp.Diagnostics.AddAttributeError(path.Root("default_ttl"), "Default TTL Exceeds Maximum",
			fmt.Sprintf("default_ttl (%s) is longer than max_ttl (%s). Lower default_ttl or raise max_ttl.", fmtDuration(def), fmtDuration(max)))
	}
	if !m.DefaultTags.IsUnknown() && !m.DefaultTags.IsNull() {
		var tags map[string]string
		// Unknown elements are left empty here; Configure checks them once known.
		if d := m.DefaultTags.ElementsAs(ctx, &tags, true); !d.HasError() {
			if err := lease.ValidateTags(tags, lease.LeaseTagCount); err != nil {
				resp.Diagnostics.AddAttributeError(path.Root("default_tags"), "Invalid Default Tags", fmt.Sprintf("default_tags: %s.", err))
			}
		}
	}
	if m.AssumeRole != nil && m.AssumeRole.RoleARN.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("assume_role").AtName("role_arn"), "Missing Role ARN",
			"The assume_role block needs role_arn: the ARN of the role the provider assumes before minting credentials.")
	}
	if w := m.AssumeRoleWithWebIdentity; w != nil && w.RoleARN.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("assume_role_with_web_identity").AtName("role_arn"), "Missing Role ARN",
			"The assume_role_with_web_identity block needs role_arn: the ARN of the role the OIDC token is exchanged for.")
	}
	if m.SweepExpiredLeases.ValueBool() && m.UserPath.ValueString() == "/" {
		resp.Diagnostics.AddAttributeError(path.Root("sweep_expired_leases"), "Sweep Refused",
			`sweep_expired_leases sweeps the users under user_path, and user_path "/" is the whole account. Issue under a path of the provider's own (default "`+DefaultUserPath+`"), or turn sweep_expired_leases off.`)
	}
}

// parseKnownDuration returns the configured duration, or def when unset; ok is false while the value is unknown
// or invalid (the attribute validator reports the latter).
func parseKnownDuration(v types.String, def time.Duration) (time.Duration, bool) {
	if v.IsUnknown() {
		return 0, false
	}
	if v.IsNull() {
		return def, true
	}
	d, err := time.ParseDuration(v.ValueString())
	return d, err == nil
}

// providerData is what Configure hands to every resource, data source and ephemeral resource.
type providerData struct {
	clients  *awsconfig.Clients
	identity *awsconfig.Identity // nil with skip_credentials_validation
	issuer   *lease.Issuer
	clock    clock.Clock

	defaultTTL, maxTTL time.Duration
	userPath           string
	defaultTags        map[string]string
	requiredBoundary   string // required_permissions_boundary_arn; empty when unset

	// quota is the account's IAM user quota, read once for the process and shared by every credential's plan
	// and issue; quotaUnread says once, not per credential, that it could not be read.
	quota       *lease.UserQuota
	quotaUnread sync.Once
}

func (p *awsdynamicProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	ctx = maskSecrets(ctx)
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if unknownProviderValue(&m, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}

	settings := awsconfig.Settings{
		AccessKey:  m.AccessKey.ValueString(),
		SecretKey:  m.SecretKey.ValueString(),
		Token:      m.Token.ValueString(),
		Profile:    m.Profile.ValueString(),
		Region:     m.Region.ValueString(),
		MaxRetries: int(m.MaxRetries.ValueInt64()),
		RetryMode:  m.RetryMode.ValueString(),
		HTTPClient: p.opts.HTTPClient,
		Clock:      p.opts.Clock,
	}
	resp.Diagnostics.Append(m.SharedConfigFiles.ElementsAs(ctx, &settings.SharedConfigFiles, false)...)
	resp.Diagnostics.Append(m.SharedCredentialsFiles.ElementsAs(ctx, &settings.SharedCredentialsFiles, false)...)
	if m.Endpoints != nil {
		settings.IAMEndpoint = m.Endpoints.IAM.ValueString()
		settings.STSEndpoint = m.Endpoints.STS.ValueString()
	}
	if a := m.AssumeRole; a != nil {
		d, _ := parseKnownDuration(a.Duration, 0)
		settings.AssumeRole = &awsconfig.AssumeRole{RoleARN: a.RoleARN.ValueString(), SessionName: a.SessionName.ValueString(), ExternalID: a.ExternalID.ValueString(), Duration: d}
	}
	if w := m.AssumeRoleWithWebIdentity; w != nil {
		d, _ := parseKnownDuration(w.Duration, 0)
		file := w.WebIdentityTokenFile.ValueString()
		if file == "" && w.WebIdentityToken.ValueString() == "" {
			file = os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
		}
		if file == "" && w.WebIdentityToken.ValueString() == "" {
			resp.Diagnostics.AddAttributeError(path.Root("assume_role_with_web_identity"), "Missing Web Identity Token",
				"Set web_identity_token or web_identity_token_file (or AWS_WEB_IDENTITY_TOKEN_FILE) to the OIDC token your CI system issues.")
			return
		}
		settings.AssumeRoleWebIdentity = &awsconfig.AssumeRoleWithWebIdentity{RoleARN: w.RoleARN.ValueString(), SessionName: w.SessionName.ValueString(), WebIdentityToken: w.WebIdentityToken.ValueString(), TokenFilePath: file, Duration: d}
	}

	data := &providerData{clock: p.opts.Clock, userPath: DefaultUserPath}
	data.defaultTTL, _ = parseKnownDuration(m.DefaultTTL, DefaultTTL)
	data.maxTTL, _ = parseKnownDuration(m.MaxTTL, DefaultMaxTTL)
	if !m.UserPath.IsNull() {
		data.userPath = m.UserPath.ValueString()
	}
	data.requiredBoundary = m.RequiredBoundaryARN.ValueString()
	resp.Diagnostics.Append(m.DefaultTags.ElementsAs(ctx, &data.defaultTags, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := lease.ValidateTags(data.defaultTags, lease.LeaseTagCount); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("default_tags"), "Invalid Default Tags", fmt.Sprintf("default_tags: %s.", err))
		return
	}
	namer, err := lease.NewNamer(m.UsernameTemplate.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("username_template"), "Invalid Username Template", err.Error())
		return
	}

	clients, err := awsconfig.New(ctx, settings)
	if err != nil {
		resp.Diagnostics.AddError("Invalid AWS Configuration", fmt.Sprintf("The provider could not load its AWS configuration. Check the provider block and the AWS_* environment variables.\n\n%s", err))
		return
	}
	data.clients = clients
	if !m.SkipCredentialsValidation.ValueBool() {
		id, err := clients.Validate(ctx)
		if err != nil {
			resp.Diagnostics.AddError("Root Identity Not Validated",
				"The provider could not confirm its root AWS identity with sts:GetCallerIdentity. Check the credentials "+
					"(access_key/secret_key, AWS_* variables, profile, assume_role) and the STS endpoint; set "+
					"skip_credentials_validation = true only if STS is unreachable on purpose.\n\n"+err.Error())
			return
		}
		data.identity = id
		tflog.Info(ctx, "awsdynamic root identity validated", map[string]any{"account_id": id.AccountID, "caller_arn": id.ARN})
	}
	// From here on "now" is AWS's time: the expiry guard is enforced by AWS's aws:CurrentTime, so expiries,
	// renewal decisions and the sweep must not follow a runner whose clock is off.
	data.clock = clients.Clock
	clockOffset(ctx, clients, &resp.Diagnostics)
	partition := ""
	if data.identity != nil {
		if parts := strings.SplitN(data.identity.ARN, ":", 3); len(parts) == 3 && parts[0] == "arn" {
			partition = parts[1] // the guard holds the user's ARN, whose partition sizes it
		}
	}
	var audit map[string]string
	if m.AuditTags.IsNull() || m.AuditTags.ValueBool() {
		arn := ""
		if data.identity != nil {
			arn = data.identity.ARN
		}
		audit = lease.AuditTags(arn, os.Getenv)
	}
	data.quota = lease.NewUserQuota(clients.IAM)
	data.issuer = lease.NewIssuer(lease.Options{
		CheckAddedCredentials: m.CheckAddedCredentials.IsNull() || m.CheckAddedCredentials.ValueBool(),
		UserQuota:             data.quota,
		AuditTags:             audit,
		Partition:             partition,
		IAM:                   clients.IAM,
		STS:                   clients.STS,
		NewSTS:                func(c aws.CredentialsProvider) lease.STSAPI { return clients.NewSTS(c) },
		Clock:                 data.clock,
		Namer:                 namer,
		UserPath:              data.userPath,
		DefaultTags:           data.defaultTags,
		DefaultTTL:            data.defaultTTL,
		MaxTTL:                data.maxTTL,
	})
	if m.SweepExpiredLeases.ValueBool() {
		sweepOnce(ctx, data, &resp.Diagnostics)
	}
	resp.DataSourceData = data
	resp.ResourceData = data
	resp.EphemeralResourceData = data
}

// clockOffset makes sure AWS's time is measured and says when this machine's clock is far from it.
func clockOffset(ctx context.Context, clients *awsconfig.Clients, diags *diag.Diagnostics) {
	off, known := clients.SyncClock(ctx)
	if !known {
		tflog.Warn(ctx, "awsdynamic could not read AWS's time from STS: the local clock is used until the first IAM response corrects it")
		return
	}
	tflog.Debug(ctx, "awsdynamic measured AWS's clock", map[string]any{"aws_minus_local": off.String()})
	if off.Abs() > awsconfig.ClockOffsetWarning {
		diags.AddWarning("Local Clock Differs From AWS", fmt.Sprintf(
			"This machine's clock is %s AWS's (read from the Date of AWS's responses). The provider takes the time "+
				"for lease expiries, renewals and the sweep from AWS, so leases are not affected; but AWS rejects "+
				"requests signed more than 5 minutes off, and the AWS SDK gets through only by re-signing after "+
				"a rejection. Synchronize this machine's clock (NTP).", awsconfig.DescribeOffset(off)))
	}
}

// unknownProviderValue refuses to configure from values that are not known yet: credentials computed by another
// resource in the same apply cannot mint anything at plan time.
func unknownProviderValue(m *providerModel, diags *diag.Diagnostics) {
	for name, v := range map[string]interface{ IsUnknown() bool }{
		"access_key": m.AccessKey, "secret_key": m.SecretKey, "token": m.Token, "profile": m.Profile, "region": m.Region,
		"default_ttl": m.DefaultTTL, "max_ttl": m.MaxTTL, "username_template": m.UsernameTemplate, "user_path": m.UserPath,
		"default_tags": m.DefaultTags, "required_permissions_boundary_arn": m.RequiredBoundaryARN, "audit_tags": m.AuditTags,
		"check_added_credentials": m.CheckAddedCredentials,
	} {
		if v.IsUnknown() {
			diags.AddAttributeError(path.Root(name), "Unknown Provider Value",
				fmt.Sprintf("%s depends on a value that is only known after apply. The provider needs it to plan: set it from a variable or a value known before apply.", name))
		}
	}
}

func (p *awsdynamicProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newRoleResource, newCredentialResource, newStaticCredentialResource}
}

func (p *awsdynamicProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{newCredentialEphemeral}
}

func (p *awsdynamicProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newCallerIdentityDataSource, newRootPolicyDataSource}
}

// sweepGrace is how long past expiry the provider's own sweep leaves a lease's user alone.
const sweepGrace = lease.DefaultSweepGrace

// sweepOnce runs the opt-in sweep of expired leases and reports what it removed.
func sweepOnce(ctx context.Context, data *providerData, diags *diag.Diagnostics) {
	o := lease.SweepOptions{PathPrefix: data.userPath, Grace: sweepGrace}
	if err := o.Validate(); err != nil {
		diags.AddAttributeError(path.Root("sweep_expired_leases"), "Sweep Refused",
			fmt.Sprintf("sweep_expired_leases sweeps the users under user_path, and %s. Set user_path to the path the provider issues under (default %q), or turn sweep_expired_leases off.", err, DefaultUserPath))
		return
	}
	rep, err := data.issuer.Sweep(ctx, o)
	var b strings.Builder
	rep.Print(&b, data.userPath, false)
	tflog.Info(ctx, "awsdynamic sweep of expired leases", map[string]any{"report": b.String()})
	if err != nil {
		diags.AddWarning("Expired Leases Not All Swept", fmt.Sprintf("sweep_expired_leases could not remove everything; the next run tries again.\n\n%s\n%s", b.String(), err))
		return
	}
	if len(rep.Revoked) > 0 {
		diags.AddWarning("Expired Leases Swept", b.String())
	}
}
