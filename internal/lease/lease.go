package lease

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Tags the engine puts on every IAM user it creates. A sweep touches only users carrying TagLeaseID.
const (
	TagLeaseID   = "awsdynamic:lease-id"
	TagRole      = "awsdynamic:role"
	TagExpiresAt = "awsdynamic:expires-at"

	// Audit tags (see audit.go): who issued the user (the root identity's ARN) and from where (the CI run).
	TagIssuedBy   = "awsdynamic:issued-by"
	TagIssuedFrom = "awsdynamic:issued-from"

	// LeaseTagCount is how many of the user's 50 tags the engine itself may use: the three lease tags and the two
	// audit tags, reserved whether or not audit tags are on, so that turning them on never breaks a valid role.
	LeaseTagCount = 5
)

// Names of the inline policies the engine puts on a user.
const (
	GuardPolicyName    = "awsdynamic-lease-guard"
	DocumentPolicyName = "awsdynamic-role-policy"
)

// LeaseVersion is the version of the lease record this engine writes. 0 is the record of 0.1.0, which had no
// version field: it lacks UserID and Tags, and Unmarshal upgrades it. A record of a later version than this engine
// knows is refused rather than half-read: a provider downgrade must not revoke with a misread lease.
const LeaseVersion = 1

// Lease is what was issued. It is plain data: the managed resource keeps it in state, the ephemeral resource in
// private data. It holds no secret.
type Lease struct {
	Version int            `json:"version"`
	ID      string         `json:"id"`
	Kind    CredentialType `json:"kind"`
	Role    string         `json:"role"`

	// iam_user: the user and what the engine attached to it, so that revoke can delete exactly that.
	UserName string `json:"user_name,omitempty"`
	UserARN  string `json:"user_arn,omitempty"`
	UserPath string `json:"user_path,omitempty"`
	// UserID is IAM's unique ID of the user (AIDA...): a user deleted and re-created under the same name gets
	// another one, so it proves that a user is this lease's. Empty in version-0 records: the lease-ID tag proves it.
	UserID string `json:"user_id,omitempty"`
	// Tags are the user's tags besides the lease's own (default_tags, then iam_tags) as last written, so that a
	// change of either reaches the user in place. Nil in version-0 records.
	Tags map[string]string `json:"tags,omitempty"`
	// Network is what the guard (or, for STS kinds, the session policy) allows requests from; zero: anywhere.
	Network        NetworkBinding `json:"network,omitzero"`
	AccessKeyID    string         `json:"access_key_id,omitempty"`
	PolicyARNs     []string       `json:"policy_arns,omitempty"`
	InlinePolicies []string       `json:"inline_policies,omitempty"`
	Groups         []string       `json:"groups,omitempty"`
	// Added names the credentials a refresh found on the user besides AccessKeyID (Presence.Added): a lease that
	// has any is replaced, and its revoke removes them with the user.
	Added []string `json:"added,omitempty"`

	// STS kinds: the identity AWS returned.
	AssumedRoleARN   string `json:"assumed_role_arn,omitempty"`
	FederatedUserARN string `json:"federated_user_arn,omitempty"`

	TTL          time.Duration `json:"ttl"`
	IssuedAt     time.Time     `json:"issued_at"`
	ExpiresAt    time.Time     `json:"expires_at"`
	MaxExpiresAt time.Time     `json:"max_expires_at"`
}

// Credentials are the secret half of an issue: returned once, never stored by the engine.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// String never prints the secret parts.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyID: %s, SecretAccessKey: <redacted>, Expiration: %s}", c.AccessKeyID, c.Expiration.Format(time.RFC3339))
}

// GoString never prints the secret parts either.
func (c Credentials) GoString() string { return c.String() }

// Renewable reports whether the lease can still be extended at now: only IAM-user leases can, before they
// expired and while their expiry is short of the maximum.
func (l *Lease) Renewable(now time.Time) bool {
	return l.Kind == IAMUser && now.Before(l.ExpiresAt) && l.ExpiresAt.Before(l.MaxExpiresAt)
}

// Expired reports whether the lease's credentials no longer work at now.
func (l *Lease) Expired(now time.Time) bool { return !now.Before(l.ExpiresAt) }

// Due reports whether now is inside the renewal window that ends at expiry.
func (l *Lease) Due(now time.Time, window time.Duration) bool {
	return !now.Before(l.ExpiresAt.Add(-window))
}

// RenewedExpiry is where a renewal at now with ttl would move the expiry: never past the maximum.
func (l *Lease) RenewedExpiry(now time.Time, ttl time.Duration) time.Time {
	e := now.Add(ttl)
	if e.After(l.MaxExpiresAt) {
		e = l.MaxExpiresAt
	}
	return e.UTC().Truncate(time.Second)
}

// NeedsReplacement reports whether a lease inside its renewal window can no longer be usefully renewed: it has
// expired, or renewing would not carry it past the window again. The managed resource plans a replacement then.
func (l *Lease) NeedsReplacement(now time.Time, window time.Duration) bool {
	if l.Expired(now) {
		return true
	}
	if !l.Due(now, window) {
		return false
	}
	if l.Kind != IAMUser {
		return true
	}
	return !l.RenewedExpiry(now, l.TTL).After(now.Add(window))
}

// DefaultRenewWindowDivisor: renew_before defaults to a third of the lease's TTL.
const DefaultRenewWindowDivisor = 3

// RenewWindow is a lease's effective renewal window: the configured one, else a third of its TTL.
func (l *Lease) RenewWindow(configured time.Duration) time.Duration {
	if configured > 0 {
		return configured
	}
	return l.TTL / DefaultRenewWindowDivisor
}

// Action is what to do with a lease now.
type Action int

const (
	Keep    Action = iota // nothing to do yet
	Renew                 // inside its renewal window, and renewing carries it past the window again
	Replace               // expired, or renewal can no longer carry it past its window: issue a new credential
)

// Decision is the one answer to "keep, renew or replace, and when next": the managed resource's refresh and plan
// and the ephemeral resource's renewal all ask it.
type Decision struct {
	Action Action
	// RenewAt is when the lease falls due for renewal (its expiry less the window); zero for a lease that can never
	// be renewed (STS kinds, at its maximum, expired).
	RenewAt time.Time
}

// Decide says what to do with the lease at now, with renewal window window (see RenewWindow).
func (l *Lease) Decide(now time.Time, window time.Duration) Decision {
	var d Decision
	if l.Renewable(now) {
		d.RenewAt = l.ExpiresAt.Add(-window)
	}
	switch {
	case l.NeedsReplacement(now, window):
		d.Action = Replace
	case l.Due(now, window) && l.Renewable(now):
		d.Action = Renew
	}
	return d
}

// Marshal encodes the lease for private data, as a record of LeaseVersion.
func (l *Lease) Marshal() ([]byte, error) {
	c := *l
	c.Version = LeaseVersion
	return json.Marshal(&c)
}

// Unmarshal decodes a lease written by Marshal, of this version or an earlier one, which it upgrades.
func Unmarshal(b []byte) (*Lease, error) {
	var l Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decoding lease: %w", err)
	}
	switch {
	case l.Version > LeaseVersion:
		return nil, fmt.Errorf("decoding lease %s: its record is version %d, and this provider knows versions up to %d: "+
			"it was written by a newer provider; use that version (or newer) to renew or revoke it", l.ID, l.Version, LeaseVersion)
	case l.Version < 0:
		return nil, fmt.Errorf("decoding lease %s: its record has version %d, which no provider writes", l.ID, l.Version)
	}
	// Version 0 needs nothing filled in: an empty UserID makes revoke ask for the lease-ID tag, and nil Tags make
	// an update write every tag the role wants.
	l.Version = LeaseVersion
	return &l, nil
}

func newLeaseID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "lease-" + hex.EncodeToString(b[:])
}
