package lease

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
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
	// AuditTags (see AuditTags in audit.go) are put on every user the Issuer creates, beside the lease tags: who
	// issued it and from which CI run. Nil: none.
	AuditTags map[string]string

	DefaultTTL time.Duration // DefaultLeaseTTL: a lease's TTL when neither request nor role gives one
	MaxTTL     time.Duration // DefaultLeaseMaxTTL: a lease's maximum when the role gives none

	Propagation     PropagationPolicy
	RollbackTimeout time.Duration // DefaultRollbackTimeout: how long a failed Issue may spend removing what it made

	// UserQuota, when set, refuses an iam_user issue that would pass the account's IAM user quota, before any
	// call that creates something. Share one per process (the provider keeps it in its configured data).
	UserQuota *UserQuota

	// CheckAddedCredentials makes Presence (a refresh) also list the lease user's access keys and read its login
	// profile, in the same round trip, so that a credential another principal added is seen (Presence.Added).
	// Off: Presence makes two calls, and looks only when it finds the guard tampered with.
	CheckAddedCredentials bool
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
	auditTags   map[string]string
	defaultTTL  time.Duration
	maxTTL      time.Duration

	propagation     PropagationPolicy
	rollbackTimeout time.Duration
	quota           *UserQuota
	checkAdded      bool
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
		auditTags:       o.AuditTags,
		defaultTTL:      o.DefaultTTL,
		maxTTL:          o.MaxTTL,
		propagation:     o.Propagation.withDefaults(),
		rollbackTimeout: o.RollbackTimeout,
		quota:           o.UserQuota,
		checkAdded:      o.CheckAddedCredentials,
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
	return GuardSize(i.partition, i.pathFor(role), name, role.Network), nil
}
