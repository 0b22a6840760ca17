package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// IAMAPI is the part of *iam.Client the engine calls. Tests pass the real client pointed at moto.
type IAMAPI interface {
	CreateUser(context.Context, *iam.CreateUserInput, ...func(*iam.Options)) (*iam.CreateUserOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	DeleteUser(context.Context, *iam.DeleteUserInput, ...func(*iam.Options)) (*iam.DeleteUserOutput, error)
	TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error)
	UntagUser(context.Context, *iam.UntagUserInput, ...func(*iam.Options)) (*iam.UntagUserOutput, error)
	PutUserPermissionsBoundary(context.Context, *iam.PutUserPermissionsBoundaryInput, ...func(*iam.Options)) (*iam.PutUserPermissionsBoundaryOutput, error)
	DeleteUserPermissionsBoundary(context.Context, *iam.DeleteUserPermissionsBoundaryInput, ...func(*iam.Options)) (*iam.DeleteUserPermissionsBoundaryOutput, error)

	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	GetUserPolicy(context.Context, *iam.GetUserPolicyInput, ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	ListUserPolicies(context.Context, *iam.ListUserPoliciesInput, ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	AttachUserPolicy(context.Context, *iam.AttachUserPolicyInput, ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	AddUserToGroup(context.Context, *iam.AddUserToGroupInput, ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	RemoveUserFromGroup(context.Context, *iam.RemoveUserFromGroupInput, ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	ListGroupsForUser(context.Context, *iam.ListGroupsForUserInput, ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)

	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)

	// What someone may have added to a lease's user out of band, which revoke must remove before DeleteUser.
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	DeleteLoginProfile(context.Context, *iam.DeleteLoginProfileInput, ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	DeactivateMFADevice(context.Context, *iam.DeactivateMFADeviceInput, ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
	DeleteVirtualMFADevice(context.Context, *iam.DeleteVirtualMFADeviceInput, ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
	ListSSHPublicKeys(context.Context, *iam.ListSSHPublicKeysInput, ...func(*iam.Options)) (*iam.ListSSHPublicKeysOutput, error)
	DeleteSSHPublicKey(context.Context, *iam.DeleteSSHPublicKeyInput, ...func(*iam.Options)) (*iam.DeleteSSHPublicKeyOutput, error)
	ListSigningCertificates(context.Context, *iam.ListSigningCertificatesInput, ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error)
	DeleteSigningCertificate(context.Context, *iam.DeleteSigningCertificateInput, ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
	ListServiceSpecificCredentials(context.Context, *iam.ListServiceSpecificCredentialsInput, ...func(*iam.Options)) (*iam.ListServiceSpecificCredentialsOutput, error)
	DeleteServiceSpecificCredential(context.Context, *iam.DeleteServiceSpecificCredentialInput, ...func(*iam.Options)) (*iam.DeleteServiceSpecificCredentialOutput, error)

	// Role checks, and reading policy_arns' documents for what outlives a credential (escalation.go).
	GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	GetGroup(context.Context, *iam.GetGroupInput, ...func(*iam.Options)) (*iam.GetGroupOutput, error)

	// federation_token: the policies of iam_groups become the session policy, as Vault merges them.
	ListGroupPolicies(context.Context, *iam.ListGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error)
	GetGroupPolicy(context.Context, *iam.GetGroupPolicyInput, ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)

	// The account's IAM user count and quota, read once per process (quota.go).
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)

	// Sweep.
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
}

// STSAPI is the part of *sts.Client the engine calls.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetFederationToken(context.Context, *sts.GetFederationTokenInput, ...func(*sts.Options)) (*sts.GetFederationTokenOutput, error)
	GetSessionToken(context.Context, *sts.GetSessionTokenInput, ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error)
}

var (
	_ IAMAPI = (*iam.Client)(nil)
	_ STSAPI = (*sts.Client)(nil)
)

// Defaults for zero Options fields.
const (
	DefaultUserPath    = "/awsdynamic/"
	DefaultLeaseTTL    = time.Hour
	DefaultLeaseMaxTTL = 24 * time.Hour
	// DefaultRollbackTimeout bounds the cleanup of a failed issue. Its calls are retried on throttling as often as
	// issue's (the same clients, the same retryer); the bound is there only so that a canceled apply ends. It
	// leaves room for each of revoke's sequential steps to use every throttled attempt at the longest backoff,
	// and for the adaptive rate limiter's waits when many pipelines share the account: a rollback cut short
	// leaves a half-created user for the sweep.
	DefaultRollbackTimeout = 10 * time.Minute
)

// Options configure an Issuer. Zero values take the defaults named on each field.
type Options struct {
	IAM IAMAPI
	STS STSAPI
	// NewSTS returns an STS client that signs with other credentials than the root identity's, with the same
	// endpoint, region and retries. The propagation check calls it with the new access key.
	NewSTS func(aws.CredentialsProvider) STSAPI
	Clock  clock.Clock // clock.Real{}
	Namer  *Namer      // the default username template

	// Partition is the AWS partition of the account ("aws", "aws-cn", "aws-us-gov", ...), which the guard's
	// user ARN, and so its size, depends on. Default "aws".
	Partition string

	UserPath    string            // DefaultUserPath; a role's UserPath wins
	DefaultTags map[string]string // put on every user; a role's iam_tags win, the lease tags win over both

	DefaultTTL time.Duration // DefaultLeaseTTL: a lease's TTL when neither request nor role gives one
	MaxTTL     time.Duration // DefaultLeaseMaxTTL: a lease's maximum when the role gives none

	Propagation     PropagationPolicy
	RollbackTimeout time.Duration // DefaultRollbackTimeout: how long a failed Issue may spend removing what it made

	// UserQuota, when set, refuses an iam_user issue that would pass the account's IAM user quota, before any
	// call that creates something. Share one per process (the provider keeps it in its configured data).
	UserQuota *UserQuota
}

// Request is what one issue asks for beyond the role.
type Request struct {
	TTL                time.Duration // zero: the role's default TTL, else the provider's
	DisplayName        string        // fed to the username template
	WaitForPropagation bool          // do not return keys before they authenticate
	PropagationTimeout time.Duration // zero: Options.Propagation.Timeout

	// STS kinds.
	RoleARN         string
	RoleSessionName string
	MFACode         string
}

// Issuer turns roles into leases. It holds the root identity's clients and nothing per lease, so one Issuer serves
// concurrent calls.
type Issuer struct {
	iam    IAMAPI
	sts    STSAPI
	newSTS func(aws.CredentialsProvider) STSAPI
	clock  clock.Clock
	names  *Namer

	partition   string
	userPath    string
	defaultTags map[string]string
	defaultTTL  time.Duration
	maxTTL      time.Duration

	propagation     PropagationPolicy
	rollbackTimeout time.Duration
	quota           *UserQuota
}

// NewIssuer returns an Issuer with o's zero fields set to their defaults.
func NewIssuer(o Options) *Issuer {
	i := &Issuer{
		iam:             o.IAM,
		sts:             o.STS,
		newSTS:          o.NewSTS,
		clock:           o.Clock,
		names:           o.Namer,
		partition:       o.Partition,
		userPath:        o.UserPath,
		defaultTags:     o.DefaultTags,
		defaultTTL:      o.DefaultTTL,
		maxTTL:          o.MaxTTL,
		propagation:     o.Propagation.withDefaults(),
		rollbackTimeout: o.RollbackTimeout,
		quota:           o.UserQuota,
	}
	if i.clock == nil {
		i.clock = clock.Real{}
	}
	if i.names == nil {
		i.names = defaultNamer()
	}
	if i.partition == "" {
		i.partition = "aws"
	}
	if i.userPath == "" {
		i.userPath = DefaultUserPath
	}
	if i.defaultTTL <= 0 {
		i.defaultTTL = DefaultLeaseTTL
	}
	if i.maxTTL <= 0 {
		i.maxTTL = DefaultLeaseMaxTTL
	}
	if i.rollbackTimeout <= 0 {
		i.rollbackTimeout = DefaultRollbackTimeout
	}
	return i
}

// TTLs applies Vault's rule for a lease's durations: the TTL is the request's, else the role's default, else the
// provider's default; the maximum is the role's, else the provider's; the TTL never exceeds the maximum.
func TTLs(role Role, req Request, providerDefault, providerMax time.Duration) (ttl, max time.Duration) {
	max = firstPositive(role.MaxTTL, providerMax)
	return cappedTTL(max, req.TTL, role.DefaultTTL, providerDefault), max
}

// cappedTTL is the first positive of candidates, at most max when max is positive: Vault's rule for every TTL
// (the request's, else the role's default, else the engine's), for leases and STS credentials alike.
func cappedTTL(max time.Duration, candidates ...time.Duration) time.Duration {
	ttl := firstPositive(candidates...)
	if max > 0 && ttl > max {
		ttl = max
	}
	return ttl
}

func firstPositive(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}

// concurrently runs every fn to completion and joins their errors. Cleanup and in-place updates use it: one failure
// must not stop the others, and every failure is reported.
func concurrently(fns ...func() error) error {
	var g errgroup.Group
	errs := make([]error, len(fns))
	for n, fn := range fns {
		g.Go(func() error {
			errs[n] = fn()
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// defaultNamer renders DefaultUsernameTemplate, which is a constant of this package: failing to parse it is a bug.
func defaultNamer() *Namer {
	n, err := NewNamer("")
	if err != nil {
		panic(fmt.Sprintf("lease: the default username template does not parse: %v", err))
	}
	return n
}

// GuardSizeFor is the size of the expiry guard a user issued from role for displayName will carry: it holds the
// user's ARN, so it depends on the name the username template renders, the path and the partition. Templates that
// draw random characters or the time render names of the same length each time.
func (i *Issuer) GuardSizeFor(role Role, displayName string) (int, error) {
	name, err := i.names.Render(NameData{RoleName: role.Name, DisplayName: displayName, Type: "IAM"})
	if err != nil {
		return 0, err
	}
	return GuardSize(i.partition, i.pathFor(role), name), nil
}
