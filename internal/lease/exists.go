package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// Exists reports whether the lease's credential is still there: for an IAM user, the user and its access key. STS
// credentials cannot be looked up; they exist until they expire.
func (i *Issuer) Exists(ctx context.Context, l *Lease) (bool, error) {
	p, err := i.Presence(ctx, l)
	return p.User && p.Key, err
}

// Presence is what of an IAM-user lease is still in AWS. User is true only for the lease's own user: a user of the
// same name that is not the lease's (Foreign says why) counts as gone.
type Presence struct {
	User, Key bool
	Foreign   string
	// LastUsed is when and where AWS last saw the lease's key used; its At is nil until the first use.
	LastUsed LastUse
	// Guard is the guard read back; GuardProblem says, in words, what is wrong with it ("" when it is the one the
	// lease wrote). Both are set only when the user is the lease's.
	Guard        Guard
	GuardProblem string
	// Added names the credentials the lease's user holds besides the lease's key — another access key, a console
	// password — each in words ("access key AKIA... (Active, created ...)"). No issue makes one, and the guard
	// denies the lease's own key the calls that would, so another principal added it. Read only when the Issuer
	// checks for added credentials (Options.CheckAddedCredentials) or the guard was found tampered with.
	Added []string
}

// Presence reads what of the lease is still in AWS. While the lease's key exists — the usual case — that is one
// round trip of two calls at once: GetAccessKeyLastUsed (the key exists, when and where it was last used, and the
// name of the user that holds it) and GetUserPolicy of the guard (to see it removed or changed). The key also proves
// the user is the lease's: access key IDs are unique and a key never moves to another user, so a user of the lease's
// name re-created by someone else cannot hold it.
//
// With Options.CheckAddedCredentials the same round also lists the user's access keys and reads its login profile
// (four calls, still one round trip), to find a credential someone added beside the lease's key. Without it, that
// check costs a second round only when the guard was found tampered with: whoever changed the guard may have added
// a credential too.
//
// Without the key (deleted, never recorded, or the call refused), a second round reads the user: GetUser, whose user
// ID proves it is the lease's, and where iam:GetAccessKeyLastUsed was refused (a root policy written before it was
// needed) ListAccessKeys, to look for the key the first round could not.
func (i *Issuer) Presence(ctx context.Context, l *Lease) (Presence, error) {
	if l.Kind != IAMUser {
		return Presence{User: true, Key: true}, nil
	}
	var (
		p               Presence
		keyFound        bool
		keyUnknown      bool
		guardDoc        string
		guardFound      bool
		guardReadFailed error
		added           addedCredentials
	)
	reads := []func() error{
		func() error {
			if l.AccessKeyID == "" {
				return nil
			}
			lu, err := i.keyLastUsed(ctx, l.AccessKeyID)
			switch {
			case IsNoSuchEntity(err):
				return nil
			case isAccessDenied(err):
				keyUnknown = true
				return nil
			case err != nil:
				return fmt.Errorf("reading the last use of access key %s of IAM user %q: %w", l.AccessKeyID, l.UserName, err)
			}
			keyFound = lu.UserName == l.UserName
			if keyFound {
				p.LastUsed = lu
			}
			return nil
		},
		func() error {
			doc, err := i.readGuard(ctx, l.UserName)
			switch {
			case IsNoSuchEntity(err):
			case err != nil:
				guardReadFailed = err
			default:
				guardDoc, guardFound = doc, true
			}
			return nil
		},
	}
	if i.checkAdded {
		reads = append(reads, added.reads(ctx, i, l)...)
	}
	err := concurrently(reads...)
	if err == nil && keyUnknown && added.read && holdsKey(added.keys, l.AccessKeyID) {
		// The listing found the key whose last use could not be read: it is the lease's user's (key IDs are unique).
		keyFound, keyUnknown = true, false
	}
	userFound := keyFound
	if err == nil && !keyFound {
		userFound, keyFound, err = i.presentWithoutKey(ctx, l, &p, keyUnknown)
	}
	if err != nil {
		return Presence{}, fmt.Errorf("checking lease %s: %w", l.ID, err)
	}
	p.User, p.Key = userFound, keyFound && userFound
	if !p.User {
		return p, nil
	}
	p = i.judgeGuard(l, p, guardDoc, guardFound, guardReadFailed)
	if !added.read && p.GuardProblem != "" {
		if err := concurrently(added.reads(ctx, i, l)...); err != nil {
			return Presence{}, fmt.Errorf("checking lease %s: %w", l.ID, err)
		}
	}
	p.Added = added.besides(l)
	return p, nil
}

// addedCredentials is what the check for added credentials read: the user's access keys and whether it has a
// console password.
type addedCredentials struct {
	read    bool
	keys    []types.AccessKeyMetadata
	console bool
}

// reads returns the two calls of the check, to run at once: ListAccessKeys and GetLoginProfile.
func (a *addedCredentials) reads(ctx context.Context, i *Issuer, l *Lease) []func() error {
	a.read = true
	return []func() error{
		func() (err error) { a.keys, err = i.userKeysIfAny(ctx, l.UserName); return err },
		func() (err error) { a.console, err = i.hasLoginProfile(ctx, l.UserName); return err },
	}
}

// holdsKey reports whether a listing of keys holds the key id.
func holdsKey(keys []types.AccessKeyMetadata, id string) bool {
	return slices.ContainsFunc(keys, func(k types.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == id })
}

// hasLoginProfile reports whether the user has a console password.
func (i *Issuer) hasLoginProfile(ctx context.Context, user string) (bool, error) {
	_, err := i.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	switch {
	case IsNoSuchEntity(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading the login profile of IAM user %q: %w", user, awsError(err))
	}
	return true, nil
}

// besides names, in words, what was read beyond the lease's key.
func (a *addedCredentials) besides(l *Lease) []string {
	var out []string
	for _, k := range a.keys {
		if id := aws.ToString(k.AccessKeyId); id != l.AccessKeyID {
			out = append(out, fmt.Sprintf("access key %s (%s, created %s)", id, k.Status, formatExpiry(aws.ToTime(k.CreateDate))))
		}
	}
	if a.console {
		out = append(out, "a console password (login profile)")
	}
	return out
}

// presentWithoutKey is Presence's second round, when the first did not find the lease's key: whether the lease's
// user is still there (its user ID, or its lease-ID tag, says it is the lease's), and, when the key's last use
// could not be read, whether the key is.
func (i *Issuer) presentWithoutKey(ctx context.Context, l *Lease, p *Presence, keyUnknown bool) (userFound, keyFound bool, err error) {
	err = concurrently(
		func() error {
			out, err := i.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(l.UserName)})
			if IsNoSuchEntity(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading IAM user %q: %w", l.UserName, awsError(err))
			}
			p.Foreign = notLeaseUser(l, out.User)
			userFound = p.Foreign == ""
			return nil
		},
		func() error {
			if !keyUnknown {
				return nil
			}
			var err error
			keyFound, err = i.hasKey(ctx, l)
			return err
		},
	)
	return userFound, keyFound, err
}

// judgeGuard says what is wrong, if anything, with the guard read back from the lease's user.
func (i *Issuer) judgeGuard(l *Lease, p Presence, guardDoc string, guardFound bool, guardReadFailed error) Presence {
	switch {
	case guardReadFailed != nil:
		// Not knowing is not tampering: the guard AWS holds still enforces whatever it says.
	case !guardFound:
		p.GuardProblem = "the expiry guard policy " + GuardPolicyName + " is missing"
	default:
		g, err := ReadGuard(guardDoc)
		switch {
		case err != nil:
			p.GuardProblem = fmt.Sprintf("the expiry guard policy %s is not the one this provider writes (%v)", GuardPolicyName, err)
		case g.UserARN != "" && l.UserARN != "" && g.UserARN != l.UserARN:
			p.GuardProblem = fmt.Sprintf("the expiry guard policy %s protects another user, %s", GuardPolicyName, g.UserARN)
		case g.UserARN == "" && l.UserID != "":
			// A lease with a user ID was issued by a provider that writes all three statements.
			p.GuardProblem = fmt.Sprintf("the expiry guard policy %s lacks the statements that keep the key from changing its own user", GuardPolicyName)
		default:
			p.Guard = g
			var problems []string
			if !g.ExpiresAt.Equal(l.ExpiresAt.UTC().Truncate(time.Second)) {
				problems = append(problems, fmt.Sprintf("enforces %s, not the lease's %s", formatExpiry(g.ExpiresAt), formatExpiry(l.ExpiresAt)))
			}
			if !g.Network.Equal(l.Network) {
				problems = append(problems, fmt.Sprintf("does not allow the lease's networks (it allows %s, the lease %s)", g.Network, l.Network))
			}
			if len(problems) > 0 {
				p.GuardProblem = fmt.Sprintf("the expiry guard policy %s %s", GuardPolicyName, strings.Join(problems, " and "))
			}
		}
	}
	return p
}

// hasKey looks for the lease's key among its user's keys.
func (i *Issuer) hasKey(ctx context.Context, l *Lease) (bool, error) {
	keys, err := i.userKeysIfAny(ctx, l.UserName)
	return holdsKey(keys, l.AccessKeyID), err
}

// isAccessDenied reports IAM's AccessDenied (or a code-less 403).
func isAccessDenied(err error) bool {
	var ad *AccessDeniedError
	if errors.As(err, &ad) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "AccessDenied"
}

// RepairGuard answers a guard that Presence found missing or changed, and says what it found and did, for a
// warning. Only another principal can have done it: the guard denies the lease's own key every write to its user.
//   - A guard that enforces an earlier date than the lease (a revoke that failed cuts it to now) is never moved
//     later: the lease takes the guard's date, and is replaced once that has passed.
//   - Otherwise (missing, unreadable, protecting another user, or later than the lease) the lease's guard is put
//     back, dated the lease's expiry.
//
// With no problem it does nothing and returns "".
func (i *Issuer) RepairGuard(ctx context.Context, l *Lease, p Presence) (string, error) {
	if p.GuardProblem == "" || !p.User || l.Kind != IAMUser {
		return "", nil
	}
	if l.UserARN == "" {
		return "", fmt.Errorf("%s, and the lease records no ARN for IAM user %q, which its guard needs", p.GuardProblem, l.UserName)
	}
	if !p.Guard.ExpiresAt.IsZero() && p.Guard.ExpiresAt.Before(l.ExpiresAt) {
		l.ExpiresAt = p.Guard.ExpiresAt
		did := fmt.Sprintf("%s; the lease now says the guard's date, %s, and is replaced once it has passed.", p.GuardProblem, formatExpiry(l.ExpiresAt))
		if p.Guard.Network.Equal(l.Network) {
			return did, nil
		}
		// The earlier date stays; the lease's networks go back with it.
		if _, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName),
			PolicyDocument: aws.String(l.guardDocument(l.ExpiresAt))}); err != nil {
			return "", fmt.Errorf("%s, and putting the lease's networks back failed: %w", p.GuardProblem, awsError(err))
		}
		return did + " The guard was put back with the lease's networks.", nil
	}
	_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName),
		PolicyDocument: aws.String(l.guardDocument(l.ExpiresAt))})
	if err != nil {
		return "", fmt.Errorf("%s, and putting it back failed: %w", p.GuardProblem, awsError(err))
	}
	return fmt.Sprintf("%s; it was put back, enforcing the lease's expiry %s.", p.GuardProblem, formatExpiry(l.ExpiresAt)), nil
}
