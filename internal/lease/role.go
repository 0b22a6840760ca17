package lease

import "time"

// CredentialType is the kind of credential a role issues; the names are Vault's.
type CredentialType string

const (
	IAMUser         CredentialType = "iam_user"
	AssumedRole     CredentialType = "assumed_role"
	FederationToken CredentialType = "federation_token"
	SessionToken    CredentialType = "session_token"
)

// CredentialTypes lists every kind, in the order the docs present them.
var CredentialTypes = []CredentialType{IAMUser, AssumedRole, FederationToken, SessionToken}

// Role is a credential recipe. Field meanings follow Vault's AWS engine (roles/<name>).
type Role struct {
	Name                   string
	CredentialType         CredentialType
	PolicyARNs             []string
	PolicyDocument         string
	IAMGroups              []string
	IAMTags                map[string]string
	PermissionsBoundaryARN string
	UserPath               string // empty: the issuer's default
	DefaultTTL             time.Duration
	MaxTTL                 time.Duration
	// Network limits where the credentials work: the guard (iam_user) or the session policy (assumed_role,
	// federation_token) denies requests from anywhere else.
	Network NetworkBinding

	// STS kinds.
	RoleARNs        []string
	ExternalID      string
	SessionTags     map[string]string
	DefaultSTSTTL   time.Duration
	MaxSTSTTL       time.Duration
	MFASerialNumber string
	// SourceIdentity (assumed_role) is sent with sts:AssumeRole: CloudTrail records it on every action of the
	// session, and of any role chained from it, and the session cannot change it.
	SourceIdentity string
}
