package lease

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// DefaultSTSTTL is how long STS credentials last when neither the credential nor the role says: Vault's default.
const DefaultSTSTTL = time.Hour

// STSTTL applies Vault's rule for the lifetime of STS credentials: the request's ttl, else the role's
// default_sts_ttl, else DefaultSTSTTL; never longer than the role's max_sts_ttl. The provider's default_ttl and
// max_ttl are for IAM-user leases only, as Vault's config/lease is.
func STSTTL(role Role, req Request) time.Duration {
	return cappedTTL(role.MaxSTSTTL, req.TTL, role.DefaultSTSTTL, DefaultSTSTTL)
}

// STSError is an STS call AWS refused, with what to change so that it succeeds.
type STSError struct {
	Call string // what was being done: `assuming IAM role arn:aws:iam::123456789012:role/deploy as session "..."`
	Fix  string // what to change; empty when AWS's own message is the best advice
	Err  error  // AWS's answer
}

func (e *STSError) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %v", e.Call, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Call, e.Fix, e.Err)
}

// Unwrap returns AWS's answer: errors.As finds the smithy.APIError.
func (e *STSError) Unwrap() error { return e.Err }

// issueSTS asks STS for temporary credentials. Nothing is created that a revoke would have to remove, so a failure
// needs no rollback; every check that can be made without AWS is made before the call.
// WaitForPropagation does not apply: STS credentials work as soon as STS returns them.
func (i *Issuer) issueSTS(ctx context.Context, role Role, req Request) (*Lease, Credentials, error) {
	fail := func(err error) (*Lease, Credentials, error) {
		return nil, Credentials{}, fmt.Errorf("issuing credential for role %q: %w", role.Name, err)
	}
	if err := refuseBeforeCall(role, req); err != nil {
		return fail(err)
	}
	// Whole seconds, as everywhere in a lease.
	now := i.clock.Now().UTC().Truncate(time.Second)
	l := &Lease{ID: newLeaseID(), Kind: role.CredentialType, Role: role.Name, TTL: STSTTL(role, req), IssuedAt: now}

	var (
		c   *ststypes.Credentials
		err error
	)
	switch role.CredentialType {
	case AssumedRole:
		c, err = i.assumeRole(ctx, role, req, l)
	case FederationToken:
		c, err = i.federationToken(ctx, role, req, l)
	default:
		c, err = i.sessionToken(ctx, role, req, l)
	}
	if err != nil {
		return fail(err)
	}
	if c == nil || c.AccessKeyId == nil {
		return fail(fmt.Errorf("STS answered %s without credentials", role.CredentialType))
	}
	// AWS's expiry is the truth; the local clock may be off.
	expires := now.Add(l.TTL)
	if c.Expiration != nil {
		expires = c.Expiration.UTC().Truncate(time.Second)
	}
	l.ExpiresAt, l.MaxExpiresAt = expires, expires
	return l, Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      expires,
	}, nil
}

// refuseBeforeCall reports what the role and the request get wrong by themselves, so that an invalid combination
// never reaches AWS. The provider reports the same problems at plan time, on their attributes.
func refuseBeforeCall(role Role, req Request) error {
	var details []string
	for _, p := range append(role.Validate(ValidateOptions{}), role.ValidateRequest(req, nil)...) {
		if !p.Warning {
			details = append(details, strings.TrimSuffix(p.Detail, "."))
		}
	}
	if len(details) == 0 {
		return nil
	}
	return fmt.Errorf("refused before any AWS call: %s", strings.Join(details, "; "))
}

func (i *Issuer) assumeRole(ctx context.Context, role Role, req Request, l *Lease) (*ststypes.Credentials, error) {
	arn, err := pickRoleARN(role, req)
	if err != nil {
		return nil, err
	}
	name, err := i.stsName(role, req)
	if err != nil {
		return nil, err
	}
	document, err := sessionDocument(role.PolicyDocument)
	if err != nil {
		return nil, err
	}
	if document, err = role.Network.withNetwork(document, len(role.PolicyARNs) > 0); err != nil {
		return nil, fmt.Errorf("allowed networks: %w", err)
	}
	l.Network = role.Network.normalized()
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(arn),
		RoleSessionName: aws.String(name),
		DurationSeconds: aws.Int32(seconds(l.TTL)),
		PolicyArns:      policyDescriptors(unique(role.PolicyARNs)),
		Tags:            stsTags(i.sessionTags(role)),
	}
	if role.SourceIdentity != "" {
		in.SourceIdentity = aws.String(role.SourceIdentity)
	}
	if document != "" {
		in.Policy = aws.String(document)
	}
	if role.ExternalID != "" {
		in.ExternalId = aws.String(role.ExternalID)
	}
	out, err := i.sts.AssumeRole(ctx, in)
	if err != nil {
		return nil, stsFailure(role, l.TTL, fmt.Sprintf("assuming IAM role %s as session %q for %s", arn, name, l.TTL), err)
	}
	if out.AssumedRoleUser != nil {
		l.AssumedRoleARN = aws.ToString(out.AssumedRoleUser.Arn)
	}
	return out.Credentials, nil
}

func (i *Issuer) federationToken(ctx context.Context, role Role, req Request, l *Lease) (*ststypes.Credentials, error) {
	name, err := i.stsName(role, req)
	if err != nil {
		return nil, err
	}
	document, arns, err := i.federationPolicies(ctx, role)
	if err != nil {
		return nil, err
	}
	if document, err = role.Network.withNetwork(document, len(arns) > 0); err != nil {
		return nil, fmt.Errorf("allowed networks: %w", err)
	}
	l.Network = role.Network.normalized()
	in := &sts.GetFederationTokenInput{
		Name:            aws.String(name),
		DurationSeconds: aws.Int32(seconds(l.TTL)),
		PolicyArns:      policyDescriptors(arns),
		Tags:            stsTags(i.sessionTags(role)),
	}
	if document != "" {
		in.Policy = aws.String(document)
	}
	out, err := i.sts.GetFederationToken(ctx, in)
	if err != nil {
		return nil, stsFailure(role, l.TTL, fmt.Sprintf("getting a federation token for federated user %q for %s", name, l.TTL), err)
	}
	if out.FederatedUser != nil {
		l.FederatedUserARN = aws.ToString(out.FederatedUser.Arn)
	}
	return out.Credentials, nil
}

func (i *Issuer) sessionToken(ctx context.Context, role Role, req Request, l *Lease) (*ststypes.Credentials, error) {
	in := &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(seconds(l.TTL))}
	call := fmt.Sprintf("getting a session token for %s", l.TTL)
	if role.MFASerialNumber != "" {
		in.SerialNumber = aws.String(role.MFASerialNumber)
		in.TokenCode = aws.String(req.MFACode)
		call += fmt.Sprintf(" with MFA device %s", role.MFASerialNumber)
	}
	out, err := i.sts.GetSessionToken(ctx, in)
	if err != nil {
		return nil, stsFailure(role, l.TTL, call, err)
	}
	return out.Credentials, nil
}

// pickRoleARN is the role to assume: the request's, which must be one of the role's role_arns, or the only one.
func pickRoleARN(role Role, req Request) (string, error) {
	arns := unique(role.RoleARNs)
	switch {
	case req.RoleARN != "":
		for _, a := range arns {
			if a == req.RoleARN {
				return a, nil
			}
		}
		return "", fmt.Errorf("role_arn %q is not one of the role's role_arns: %s", req.RoleARN, policy.QuoteList(arns))
	case len(arns) == 1:
		return arns[0], nil
	case len(arns) == 0:
		return "", errors.New("the role has no role_arns: an assumed_role role needs the IAM role(s) to assume")
	}
	return "", fmt.Errorf("the role has %d role_arns, so the credential must say which one to assume: set role_arn to one of %s",
		len(arns), policy.QuoteList(arns))
}

// stsName is the AssumeRole session name or the federated user's name: the request's, else the username template
// rendered with Type "STS" (the default template's STS branch renders at most 32 characters, which fits both).
func (i *Issuer) stsName(role Role, req Request) (string, error) {
	check, what, max := ValidateRoleSessionName, "role session name", limitsMaxSessionNameLen
	if role.CredentialType == FederationToken {
		check, what, max = ValidateFederatedName, "federated user name", limitsMaxFederatedLen
	}
	if req.RoleSessionName != "" {
		return req.RoleSessionName, check(req.RoleSessionName)
	}
	name, err := i.names.Render(NameData{RoleName: role.Name, DisplayName: req.DisplayName, Type: "STS"})
	if err != nil {
		return "", err
	}
	if err := check(name); err != nil {
		return "", fmt.Errorf("the username template rendered %q for type \"STS\", which STS rejects as a %s: %w; "+
			"set role_session_name, or make the template's STS branch ({{ if eq .Type \"STS\" }}) render at most %d "+
			"characters of [A-Za-z0-9+=,.@_-]", name, what, err, max)
	}
	return name, nil
}

// sessionDocument is the role's document as STS receives it: without insignificant white space, which STS counts.
func sessionDocument(doc string) (string, error) {
	if doc == "" {
		return "", nil
	}
	out, err := policy.Normalize(doc)
	if err != nil {
		return "", fmt.Errorf("policy_document: %w", err)
	}
	return out, nil
}

// federationPolicies is the session policy of a federation_token: as Vault does, the inline policies of iam_groups
// are merged with the role's document into one document, and the managed policies attached to the groups join
// policy_arns. A federated user cannot belong to a group, so this is how a role lends it a group's permissions.
// Every group is read at once; the result does not depend on the order the answers arrive in.
func (i *Issuer) federationPolicies(ctx context.Context, role Role) (string, []string, error) {
	own, err := sessionDocument(role.PolicyDocument)
	if err != nil {
		return "", nil, err
	}
	groups := unique(role.IAMGroups)
	inline := make([][]string, len(groups))
	attached := make([][]string, len(groups))
	g, gctx := errgroup.WithContext(ctx)
	for n, group := range groups {
		g.Go(func() error {
			p := iam.NewListAttachedGroupPoliciesPaginator(i.iam, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return groupError("listing the managed policies attached to", group, err)
				}
				for _, a := range page.AttachedPolicies {
					attached[n] = append(attached[n], aws.ToString(a.PolicyArn))
				}
			}
			return nil
		})
		g.Go(func() error {
			var names []string
			p := iam.NewListGroupPoliciesPaginator(i.iam, &iam.ListGroupPoliciesInput{GroupName: aws.String(group)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return groupError("listing the inline policies of", group, err)
				}
				names = append(names, page.PolicyNames...)
			}
			docs := make([]string, len(names))
			dg, dctx := errgroup.WithContext(gctx)
			for k, name := range names {
				dg.Go(func() error {
					out, err := i.iam.GetGroupPolicy(dctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
					if err != nil {
						return groupError(fmt.Sprintf("reading inline policy %q of", name), group, err)
					}
					docs[k], err = policy.DecodeIAM(aws.ToString(out.PolicyDocument))
					if err != nil {
						return fmt.Errorf("decoding inline policy %q of IAM group %q: %w", name, group, err)
					}
					return nil
				})
			}
			if err := dg.Wait(); err != nil {
				return err
			}
			inline[n] = docs
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", nil, err
	}

	var groupDocs []string
	arns := unique(role.PolicyARNs)
	for n := range groups {
		groupDocs = append(groupDocs, inline[n]...)
		arns = unique(append(arns, attached[n]...))
	}
	document := own
	if len(groupDocs) > 0 {
		// Vault's order: the groups' statements, then the role's.
		if document, err = policy.Combine(append(groupDocs, own)...); err != nil {
			return "", nil, fmt.Errorf("merging the inline policies of iam_groups %s with policy_document: %w", policy.QuoteList(groups), err)
		}
	}

	fromGroups := ""
	if len(groups) > 0 {
		fromGroups = fmt.Sprintf(" (with the policies of iam_groups %s)", policy.QuoteList(groups))
	}
	switch {
	case document == "" && len(arns) == 0:
		return "", nil, fmt.Errorf("the session policy is empty: policy_document, policy_arns and iam_groups%s give no policy, "+
			"and AWS grants a federated user nothing without one: attach policies to the groups, or set policy_document or policy_arns", fromGroups)
	case len(arns) > MaxSessionPolicyARNs:
		return "", nil, fmt.Errorf("the session policy ARNs%s are %d (%s); STS accepts at most %d: attach fewer managed policies "+
			"to the groups, or combine them", fromGroups, len(arns), strings.Join(arns, ", "), MaxSessionPolicyARNs)
	case policy.Size(document) > policy.InlineBudget:
		return "", nil, fmt.Errorf("the session policy document%s is %d characters; STS accepts at most %d: move statements "+
			"into managed policies (policy_arns, or policies attached to the groups)", fromGroups, policy.Size(document), policy.InlineBudget)
	}
	return document, arns, nil
}

func groupError(doing, group string, err error) error {
	if IsNoSuchEntity(err) {
		return fmt.Errorf("%s IAM group %q: the group does not exist: create it, or remove it from the role's iam_groups: %w", doing, group, err)
	}
	return fmt.Errorf("%s IAM group %q: %w", doing, group, awsError(err))
}

// seconds is DurationSeconds. Validation keeps STS durations within 36h; the clamp only keeps a bug from wrapping.
func seconds(d time.Duration) int32 {
	return int32(min(max(d/time.Second, 0), math.MaxInt32)) //nolint:gosec // clamped to int32's range on this line
}

func policyDescriptors(arns []string) []ststypes.PolicyDescriptorType {
	if len(arns) == 0 {
		return nil
	}
	out := make([]ststypes.PolicyDescriptorType, len(arns))
	for n, a := range arns {
		out[n] = ststypes.PolicyDescriptorType{Arn: aws.String(a)}
	}
	return out
}

// stsTags sorts by key, so that requests are reproducible.
func stsTags(m map[string]string) []ststypes.Tag {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ststypes.Tag, len(keys))
	for n, k := range keys {
		out[n] = ststypes.Tag{Key: aws.String(k), Value: aws.String(m[k])}
	}
	return out
}

var packedPercent = regexp.MustCompile(`(\d+)\s*%`)

// stsFailure turns what AWS answered an STS call into an *STSError that says what to change, for the errors users
// run into: the IAM role's MaxSessionDuration, role chaining's one hour, the packed policy size, a trust policy or
// permission that does not allow the call, and temporary root credentials where STS wants long-lived ones.
func stsFailure(role Role, ttl time.Duration, call string, err error) error {
	err = awsError(err)
	var code, msg string
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg = api.ErrorCode(), api.ErrorMessage()
	}
	var ad *AccessDeniedError
	denied := code == "AccessDenied" || code == "AccessDeniedException" || errors.As(err, &ad)
	lower := strings.ToLower(msg)
	kind := role.CredentialType
	op := map[CredentialType]string{AssumedRole: "AssumeRole", FederationToken: "GetFederationToken", SessionToken: "GetSessionToken"}[kind]
	tagSession, tagWhy := "", ""
	if len(role.SessionTags) > 0 {
		tagSession, tagWhy = " and sts:TagSession", " (sts:TagSession because the role has session_tags)"
	}

	var fix string
	switch {
	case code == "PackedPolicyTooLarge" || strings.Contains(lower, "packed policy"):
		size := "more than all"
		if m := packedPercent.FindStringSubmatch(msg); m != nil {
			size = m[1] + "%"
		}
		fix = fmt.Sprintf("the session policy and session tags, as AWS packs them, take %s of the space AWS allows: "+
			"shorten policy_document, pass fewer policy_arns, or use fewer or shorter session_tags", size)
	case strings.Contains(lower, "maxsessionduration"):
		fix = fmt.Sprintf("the requested duration (%s) is longer than the IAM role's MaxSessionDuration: lower the credential's "+
			"ttl (or the role's default_sts_ttl / max_sts_ttl) to at most the IAM role's MaxSessionDuration, or raise "+
			"MaxSessionDuration on the IAM role (at most 12h; aws iam update-role --max-session-duration)", ttl)
	case strings.Contains(lower, "role chaining"):
		fix = fmt.Sprintf("the provider's root identity is itself an assumed role (assume_role or assume_role_with_web_identity), "+
			"and AWS limits a role assumed with another role's credentials to 1h: lower ttl (or the role's default_sts_ttl) "+
			"from %s to 1h or less", ttl)
	case denied && strings.Contains(lower, "session credentials"):
		fix = fmt.Sprintf("credential_type %q needs long-lived access keys of an IAM user as the provider's root identity: "+
			"AWS refuses %s with temporary credentials (the provider's assume_role or assume_role_with_web_identity, or a "+
			"session token). Configure the provider with an IAM user's access_key and secret_key, or use credential_type "+
			"\"assumed_role\"", kind, op)
	case denied && (strings.Contains(lower, "multifactorauthentication") || strings.Contains(lower, "mfa")):
		fix = fmt.Sprintf("AWS did not accept mfa_code for mfa_serial_number %s: use the code the device shows now (each code "+
			"works once, for about 30 seconds), and check that mfa_serial_number is a device of the root identity's IAM user",
			role.MFASerialNumber)
	case denied && kind == AssumedRole:
		externalID := ""
		if role.ExternalID != "" {
			externalID = " with a condition that sts:ExternalId equals the role's external_id"
		}
		fix = fmt.Sprintf("the root identity may not assume this IAM role: the IAM role's trust policy must name the root "+
			"identity as Principal for sts:AssumeRole%s%s, and the root identity's own policies must allow sts:AssumeRole%s "+
			"on the IAM role's ARN%s", tagSession, externalID, tagSession, tagWhy)
	case denied && kind == FederationToken:
		fix = fmt.Sprintf("the root identity's policies must allow sts:GetFederationToken%s%s", tagSession, tagWhy)
	case code == "MalformedPolicyDocument":
		fix = "STS rejected the session policy: check policy_document"
		if kind == FederationToken && len(role.IAMGroups) > 0 {
			fix += " and the inline policies of iam_groups, which are merged into it"
		}
	case code == "ValidationError" && strings.Contains(lower, "policy") && strings.Contains(lower, "length"):
		fix = fmt.Sprintf("the session policy is longer than STS's %d characters: move statements into managed policies (policy_arns)", policy.InlineBudget)
	case code == "RegionDisabledException":
		fix = "STS is not activated in the provider's region: activate it in the IAM console (account settings), or set the provider's region to one where it is"
	}
	return &STSError{Call: call, Fix: fix, Err: err}
}
