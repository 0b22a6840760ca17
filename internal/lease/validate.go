package lease

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// Problem is one thing wrong with a role, tied to the attribute that causes it. The provider turns each into a
// diagnostic on that attribute; Warning problems do not stop a plan.
type Problem struct {
	Attribute string
	Warning   bool
	Summary   string
	Detail    string
}

// ValidateOptions is what a role's validity depends on besides the role itself.
type ValidateOptions struct {
	// ReservedTags is how many of the user's 50 tags are taken before the role's own: the lease tags and the
	// provider's default_tags.
	ReservedTags int
	// GuardSize is the size of the expiry guard the role's users will carry (see GuardSize and
	// Issuer.GuardSizeFor): it depends on the user's rendered name, path and partition. Zero: the largest it can be
	// under the role's (or the default) path, for a 64-character name.
	GuardSize int
	// ProviderMaxTTL caps default_ttl when the role sets no max_ttl.
	ProviderMaxTTL time.Duration
	// Unknown names attributes whose value is not known yet (planned from another resource): checks that need
	// them are skipped rather than guessed.
	Unknown map[string]bool
}

// AWS's ranges for STS durations.
const (
	MinSTSDuration             = 15 * time.Minute
	MaxAssumeRoleDuration      = 12 * time.Hour
	MaxFederationTokenDuration = 36 * time.Hour
	MaxSessionTokenDuration    = 36 * time.Hour
)

// MaxSTSDuration is the longest duration AWS accepts for the kind's STS call.
func MaxSTSDuration(kind CredentialType) time.Duration {
	if kind == AssumedRole {
		return MaxAssumeRoleDuration
	}
	return MaxFederationTokenDuration
}

// belongs says which credential types each kind-specific attribute is meaningful for.
var belongs = map[string][]CredentialType{
	"policy_arns":              {IAMUser, AssumedRole, FederationToken},
	"policy_document":          {IAMUser, AssumedRole, FederationToken},
	"iam_groups":               {IAMUser, FederationToken},
	"iam_tags":                 {IAMUser},
	"permissions_boundary_arn": {IAMUser},
	"user_path":                {IAMUser},
	"default_ttl":              {IAMUser},
	"max_ttl":                  {IAMUser},
	"role_arns":                {AssumedRole},
	"external_id":              {AssumedRole},
	"session_tags":             {AssumedRole, FederationToken},
	"default_sts_ttl":          {AssumedRole, FederationToken, SessionToken},
	"max_sts_ttl":              {AssumedRole, FederationToken, SessionToken},
	"mfa_serial_number":        {SessionToken},
	"source_identity":          {AssumedRole},
	// session_token takes no session policy, so nothing can bind it to a network.
	"allowed_source_ips":    {IAMUser, AssumedRole, FederationToken},
	"allowed_source_vpcs":   {IAMUser, AssumedRole, FederationToken},
	"allowed_vpc_endpoints": {IAMUser, AssumedRole, FederationToken},
}

// set reports which kind-specific attributes the role sets.
func (r Role) set() map[string]bool {
	return map[string]bool{
		"policy_arns":              len(r.PolicyARNs) > 0,
		"policy_document":          r.PolicyDocument != "",
		"iam_groups":               len(r.IAMGroups) > 0,
		"iam_tags":                 len(r.IAMTags) > 0,
		"permissions_boundary_arn": r.PermissionsBoundaryARN != "",
		"user_path":                r.UserPath != "",
		"default_ttl":              r.DefaultTTL != 0,
		"max_ttl":                  r.MaxTTL != 0,
		"role_arns":                len(r.RoleARNs) > 0,
		"external_id":              r.ExternalID != "",
		"session_tags":             len(r.SessionTags) > 0,
		"default_sts_ttl":          r.DefaultSTSTTL != 0,
		"max_sts_ttl":              r.MaxSTSTTL != 0,
		"mfa_serial_number":        r.MFASerialNumber != "",
		"source_identity":          r.SourceIdentity != "",
		"allowed_source_ips":       len(r.Network.SourceIPs) > 0,
		"allowed_source_vpcs":      len(r.Network.SourceVPCs) > 0,
		"allowed_vpc_endpoints":    len(r.Network.VPCEndpoints) > 0,
	}
}

// Validate checks the role against IAM's and STS's limits before any AWS call is made. It returns every problem,
// not just the first, sorted by attribute.
func (r Role) Validate(o ValidateOptions) []Problem {
	var ps []Problem
	add := func(attr string, warning bool, summary, format string, args ...any) {
		ps = append(ps, Problem{Attribute: attr, Warning: warning, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	known := func(attrs ...string) bool {
		for _, a := range attrs {
			if o.Unknown[a] {
				return false
			}
		}
		return true
	}

	if known("name") {
		if err := ValidateUserName(r.Name); err != nil {
			add("name", false, "Invalid Role Name", "name must be 1–64 characters of letters, digits and +=,.@_- (it becomes part of IAM user and session names): %s.", err)
		}
	}
	kindKnown := known("credential_type")
	if kindKnown && !r.CredentialType.valid() {
		add("credential_type", false, "Invalid Credential Type", "credential_type must be one of %s; got %q.", quoteKinds(), r.CredentialType)
		kindKnown = false
	}

	if kindKnown {
		set := r.set()
		attrs := make([]string, 0, len(belongs))
		for a := range belongs {
			attrs = append(attrs, a)
		}
		sort.Strings(attrs)
		for _, a := range attrs {
			if set[a] && !r.CredentialType.in(belongs[a]) {
				add(a, false, "Attribute Does Not Apply", "%s has no meaning for credential_type %q; it applies to %s. Remove it, or change credential_type.", a, r.CredentialType, policy.QuoteList(belongs[a]))
			}
		}
		hasPolicy := set["policy_arns"] || set["policy_document"] || set["iam_groups"]
		policyKnown := known("policy_arns", "policy_document", "iam_groups")
		switch r.CredentialType {
		case IAMUser:
			if policyKnown && !hasPolicy {
				add("policy_arns", false, "Role Grants Nothing", "An iam_user role needs at least one of policy_arns, policy_document or iam_groups: a user without any policy can do nothing.")
			}
		case FederationToken:
			if policyKnown && !hasPolicy {
				add("policy_arns", false, "Missing Session Policy", "A federation_token role needs policy_arns, policy_document or iam_groups: AWS grants a federated user nothing without a session policy.")
			}
		case AssumedRole:
			if known("role_arns") && !set["role_arns"] {
				add("role_arns", false, "Missing Role ARNs", "An assumed_role role needs role_arns: the IAM role(s) to assume.")
			}
		}
	}

	for i, arn := range r.PolicyARNs {
		if err := ValidatePolicyARN(arn); err != nil {
			add("policy_arns", false, "Invalid Policy ARN", "policy_arns[%d] %q is not a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess: %s.", i, arn, err)
		}
	}
	if kindKnown && r.CredentialType == IAMUser {
		switch n := len(r.PolicyARNs); {
		case n > MaxManagedPoliciesHard:
			add("policy_arns", false, "Too Many Managed Policies", "policy_arns has %d policies; IAM attaches at most %d managed policies to a user. Combine them into fewer policies or use policy_document.", n, MaxManagedPoliciesHard)
		case n > MaxManagedPoliciesDefault:
			add("policy_arns", true, "Managed Policies Above Default Quota", "policy_arns has %d policies; IAM's default quota is %d per user. Issue fails unless the account's quota was raised (at most %d).", n, MaxManagedPoliciesDefault, MaxManagedPoliciesHard)
		}
	} else if n := len(r.PolicyARNs); n > MaxSessionPolicyARNs {
		add("policy_arns", false, "Too Many Session Policies", "policy_arns has %d policies; STS accepts at most %d session policy ARNs.", n, MaxSessionPolicyARNs)
	}

	if r.PolicyDocument != "" {
		if err := policy.Validate(r.PolicyDocument); err != nil {
			add("policy_document", false, "Invalid Policy Document", "policy_document is not a valid IAM policy: %s.", err)
		} else {
			budget, why := policy.InlineBudget, "STS's 2,048-character session policy limit"
			if r.CredentialType == IAMUser {
				guard := r.guardSize(o)
				budget -= guard
				why = fmt.Sprintf("IAM's 2,048-character inline policy budget per user, of which the expiry guard takes %d", guard)
			}
			if size := policy.Size(r.PolicyDocument); size > budget {
				add("policy_document", false, "Policy Document Too Large", "policy_document is %d characters without white space; at most %d fit (%s). Move statements into managed policies (policy_arns).", size, budget, why)
			}
		}
	}

	if known("allowed_source_ips", "allowed_source_vpcs", "allowed_vpc_endpoints") {
		for _, p := range r.Network.validate() {
			attr, _, _ := strings.Cut(p, ":")
			add(attr, false, "Invalid Allowed Network", "%s. Fix the entry or remove it.", p)
		}
		switch {
		case r.Network.IsZero() || !kindKnown:
		case r.CredentialType == IAMUser && r.PolicyDocument == "":
			// With a document, its check above counts the guard, networks included.
			guard := r.guardSize(o)
			if guard > policy.InlineBudget {
				add("allowed_source_ips", false, "Allowed Networks Too Large", "The expiry guard with allowed_source_ips, allowed_source_vpcs and allowed_vpc_endpoints takes %d characters, over IAM's %d-character inline policy budget per user. Use fewer, wider CIDR blocks, or VPC endpoints.", guard, policy.InlineBudget)
			}
		case r.CredentialType == AssumedRole || r.CredentialType == FederationToken:
			if doc, err := r.Network.withNetwork(r.PolicyDocument, len(r.PolicyARNs) > 0); err == nil && policy.Size(doc) > policy.InlineBudget {
				add("allowed_source_ips", false, "Allowed Networks Too Large", "The session policy with policy_document and the Deny of allowed_source_ips, allowed_source_vpcs and allowed_vpc_endpoints takes %d characters, over STS's %d-character limit. Use fewer, wider CIDR blocks, or shorten policy_document.", policy.Size(doc), policy.InlineBudget)
			}
		}
	}

	if r.SourceIdentity != "" && known("source_identity") && !sourceIdentityPattern.MatchString(r.SourceIdentity) {
		add("source_identity", false, "Invalid Source Identity", "source_identity %q must be 2–64 characters of letters, digits and +=,.@_- (STS's rule), and may not begin with \"aws:\".", r.SourceIdentity)
	}

	for i, g := range r.IAMGroups {
		if err := ValidateGroupName(g); err != nil {
			add("iam_groups", false, "Invalid Group Name", "iam_groups[%d] %q: %s.", i, g, err)
		}
	}
	if n := len(r.IAMGroups); n > MaxGroupsPerUser {
		add("iam_groups", false, "Too Many Groups", "iam_groups has %d groups; an IAM user can belong to at most %d.", n, MaxGroupsPerUser)
	}
	if len(r.IAMTags) > 0 && known("iam_tags") {
		if err := ValidateTags(r.IAMTags, o.ReservedTags); err != nil {
			add("iam_tags", false, "Invalid IAM Tags", "iam_tags: %s. The provider's default_tags and its %d lease tags count toward IAM's 50 per user.", err, LeaseTagCount)
		}
	}
	if r.PermissionsBoundaryARN != "" {
		if err := ValidatePolicyARN(r.PermissionsBoundaryARN); err != nil {
			add("permissions_boundary_arn", false, "Invalid Permissions Boundary ARN", "permissions_boundary_arn %q is not a managed policy ARN: %s.", r.PermissionsBoundaryARN, err)
		}
	}
	if r.UserPath != "" {
		if err := ValidatePath(r.UserPath); err != nil {
			add("user_path", false, "Invalid IAM Path", "user_path must be an IAM path such as /awsdynamic/ci/: %s.", err)
		}
	}
	max := r.MaxTTL
	if max == 0 {
		max = o.ProviderMaxTTL
	}
	if r.DefaultTTL != 0 && max != 0 && r.DefaultTTL > max && known("default_ttl", "max_ttl") {
		add("default_ttl", false, "Default TTL Exceeds Maximum", "default_ttl (%s) is longer than the maximum (%s). Lower default_ttl or raise max_ttl.", r.DefaultTTL, max)
	}

	for i, arn := range r.RoleARNs {
		if err := ValidateARN(arn); err != nil || !strings.Contains(arn, ":role/") {
			add("role_arns", false, "Invalid Role ARN", "role_arns[%d] %q is not an IAM role ARN such as arn:aws:iam::123456789012:role/deploy.", i, arn)
		}
	}
	if r.ExternalID != "" {
		if err := ValidateExternalID(r.ExternalID); err != nil {
			add("external_id", false, "Invalid External ID", "external_id: %s.", err)
		}
	}
	if len(r.SessionTags) > 0 {
		// The audit tags join a role's session tags (see Issuer.sessionTags): two are reserved.
		if err := ValidateTags(r.SessionTags, 2); err != nil {
			add("session_tags", false, "Invalid Session Tags", "session_tags: %s.", err)
		}
	}
	if r.MFASerialNumber != "" {
		if err := ValidateARN(r.MFASerialNumber); err != nil && !isHardwareSerial(r.MFASerialNumber) {
			add("mfa_serial_number", false, "Invalid MFA Serial Number", "mfa_serial_number must be a virtual MFA device ARN (arn:aws:iam::123456789012:mfa/name) or a hardware device serial.")
		}
	}
	if kindKnown && r.CredentialType != IAMUser {
		lo, hi := MinSTSDuration, MaxSTSDuration(r.CredentialType)
		for _, d := range []struct {
			attr string
			v    time.Duration
		}{{"default_sts_ttl", r.DefaultSTSTTL}, {"max_sts_ttl", r.MaxSTSTTL}} {
			if d.v != 0 && (d.v < lo || d.v > hi) {
				add(d.attr, false, "STS Duration Out Of Range", "%s is %s; AWS accepts %s to %s for credential_type %q.", d.attr, d.v, lo, hi, r.CredentialType)
			}
		}
		if r.DefaultSTSTTL != 0 && r.MaxSTSTTL != 0 && r.DefaultSTSTTL > r.MaxSTSTTL {
			add("default_sts_ttl", false, "Default STS TTL Exceeds Maximum", "default_sts_ttl (%s) is longer than max_sts_ttl (%s).", r.DefaultSTSTTL, r.MaxSTSTTL)
		}
	}
	ps = append(ps, r.trustWarnings(o)...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Attribute < ps[j].Attribute })
	return ps
}

// requestBelongs says which credential types each of a credential's own STS arguments is meaningful for.
var requestBelongs = map[string][]CredentialType{
	"role_arn":          {AssumedRole},
	"role_session_name": {AssumedRole, FederationToken},
	"mfa_code":          {SessionToken},
}

// ValidateRequest checks what one credential asks of its role (role_arn, role_session_name, mfa_code, ttl) before
// any call is made. Problems name the credential's attributes, not the role's. unknown names role and credential
// attributes whose value is not known yet; checks that need them are skipped. A role whose credential_type is not
// known or not valid yields nothing here: Validate reports it.
func (r Role) ValidateRequest(req Request, unknown map[string]bool) []Problem {
	var ps []Problem
	add := func(attr string, warning bool, summary, format string, args ...any) {
		ps = append(ps, Problem{Attribute: attr, Warning: warning, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	known := func(attrs ...string) bool {
		for _, a := range attrs {
			if unknown[a] {
				return false
			}
		}
		return true
	}
	if !known("credential_type") || !r.CredentialType.valid() {
		return nil
	}
	kind := r.CredentialType
	set := map[string]bool{"role_arn": req.RoleARN != "", "role_session_name": req.RoleSessionName != "", "mfa_code": req.MFACode != ""}
	for _, a := range []string{"mfa_code", "role_arn", "role_session_name"} {
		if set[a] && known(a) && !kind.in(requestBelongs[a]) {
			add(a, false, "Attribute Does Not Apply", "%s has no meaning for credential_type %q; it applies to %s. Remove it, or change the role's credential_type.", a, kind, policy.QuoteList(requestBelongs[a]))
		}
	}

	switch kind {
	case AssumedRole:
		if known("role_arn", "role_arns") && len(r.RoleARNs) > 0 {
			switch {
			case set["role_arn"] && !slices.Contains(r.RoleARNs, req.RoleARN):
				add("role_arn", false, "Role ARN Not Allowed", "role_arn %q is not one of the role's role_arns: %s. Use one of them, or add it to the role's role_arns.", req.RoleARN, policy.QuoteList(r.RoleARNs))
			case !set["role_arn"] && len(unique(r.RoleARNs)) > 1:
				add("role_arn", false, "Missing Role ARN", "The role has %d role_arns, so the credential must say which one to assume: set role_arn to one of %s.", len(unique(r.RoleARNs)), policy.QuoteList(r.RoleARNs))
			}
		}
		if set["role_session_name"] && known("role_session_name") {
			if err := ValidateRoleSessionName(req.RoleSessionName); err != nil {
				add("role_session_name", false, "Invalid Role Session Name", "role_session_name is the AssumeRole session name: %s.", err)
			}
		}
	case FederationToken:
		if set["role_session_name"] && known("role_session_name") {
			if err := ValidateFederatedName(req.RoleSessionName); err != nil {
				add("role_session_name", false, "Invalid Federated User Name", "role_session_name is the federated user's name for credential_type \"federation_token\", which STS limits to 32 characters: %s.", err)
			}
		}
	case SessionToken:
		if set["mfa_code"] && known("mfa_code") {
			if err := ValidateMFACode(req.MFACode); err != nil {
				add("mfa_code", false, "Invalid MFA Code", "mfa_code must be the 6 digits your MFA device shows: %s.", err)
			}
		}
		if known("mfa_code", "mfa_serial_number") {
			switch {
			case r.MFASerialNumber != "" && !set["mfa_code"]:
				add("mfa_code", false, "Missing MFA Code", "The role has mfa_serial_number %q, so AWS requires a code from that device: set mfa_code to its current 6 digits (from a variable, e.g. -var mfa_code=123456).", r.MFASerialNumber)
			case r.MFASerialNumber == "" && set["mfa_code"]:
				add("mfa_code", false, "MFA Code Without MFA Device", "The role has no mfa_serial_number, so there is no device for AWS to check mfa_code against. Set mfa_serial_number on the role, or remove mfa_code.")
			}
		}
	}

	if kind != IAMUser && req.TTL != 0 && known("ttl") {
		lo, hi := MinSTSDuration, MaxSTSDuration(kind)
		switch {
		case req.TTL < lo:
			add("ttl", false, "STS Duration Out Of Range", "ttl is %s; AWS accepts %s to %s for credential_type %q.", req.TTL, lo, hi, kind)
		case known("max_sts_ttl") && r.MaxSTSTTL > 0 && req.TTL > r.MaxSTSTTL:
			add("ttl", true, "TTL Capped At Maximum", "ttl (%s) is longer than the role's max_sts_ttl (%s); the credential will be issued for %s, as Vault does.", req.TTL, r.MaxSTSTTL, r.MaxSTSTTL)
		case req.TTL > hi && r.MaxSTSTTL == 0 && known("max_sts_ttl"):
			add("ttl", false, "STS Duration Out Of Range", "ttl is %s; AWS accepts %s to %s for credential_type %q.", req.TTL, lo, hi, kind)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Attribute < ps[j].Attribute })
	return ps
}

// guardSize is the size of the expiry guard r's users will carry: o.GuardSize, or when that is zero the largest it
// can be, under the role's (or the default) path, for a 64-character name in the longest partition name.
func (r Role) guardSize(o ValidateOptions) int {
	if o.GuardSize > 0 {
		return o.GuardSize
	}
	path := r.UserPath
	if path == "" {
		path = DefaultUserPath
	}
	return GuardSize("aws-us-gov", path, strings.Repeat("x", MaxUserNameLen), r.Network)
}

func isHardwareSerial(s string) bool {
	if len(s) < 9 || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("=,.@:/-", c)) {
			return false
		}
	}
	return true
}

func (k CredentialType) valid() bool { return k.in(CredentialTypes) }

func (k CredentialType) in(kinds []CredentialType) bool {
	for _, c := range kinds {
		if c == k {
			return true
		}
	}
	return false
}

func quoteKinds() string { return policy.QuoteList(CredentialTypes) }

var sourceIdentityPattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
