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

	// LeaseTagCount is how many of the user's 50 tags the engine itself uses.
	LeaseTagCount = 3
)

// Names of the inline policies the engine puts on a user.
const (
	GuardPolicyName    = "awsdynamic-lease-guard"
	DocumentPolicyName = "awsdynamic-role-policy"
)

// Lease is what was issued. It is plain data: the managed resource keeps it in state, the ephemeral resource in
// private data. It holds no secret.
type Lease struct {
	ID   string         `json:"id"`
	Kind CredentialType `json:"kind"`
	Role string         `json:"role"`

	// iam_user: the user and what the engine attached to it, so that revoke can delete exactly that.
	UserName       string   `json:"user_name,omitempty"`
	UserARN        string   `json:"user_arn,omitempty"`
	UserPath       string   `json:"user_path,omitempty"`
	AccessKeyID    string   `json:"access_key_id,omitempty"`
	PolicyARNs     []string `json:"policy_arns,omitempty"`
	InlinePolicies []string `json:"inline_policies,omitempty"`
	Groups         []string `json:"groups,omitempty"`

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

// Marshal encodes the lease for private data.
func (l *Lease) Marshal() ([]byte, error) { return json.Marshal(l) }

// Unmarshal decodes a lease written by Marshal.
func Unmarshal(b []byte) (*Lease, error) {
	var l Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("decoding lease: %w", err)
	}
	return &l, nil
}

func newLeaseID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "lease-" + hex.EncodeToString(b[:])
}
