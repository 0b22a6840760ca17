package lease

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// ErrNotRenewable says a lease cannot be extended: it is an STS credential (AWS fixes their expiry at issue), it
// expired, or it already reached its maximum. The managed resource plans a replacement instead.
var ErrNotRenewable = errors.New("lease is not renewable")

// Renew moves the lease's expiry to now+ttl, capped at its maximum (ttl zero or less: the lease's TTL). It changes
// *l only when AWS enforces the new date, so a lease never claims more than its guard allows; and when a failed guard
// write took effect all the same, it takes the new date, so the lease does not claim less either.
func (i *Issuer) Renew(ctx context.Context, l *Lease, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = l.TTL
	}
	now := i.clock.Now()
	switch {
	case l.Kind != IAMUser:
		return fmt.Errorf("renewing lease %s: %w: %s credentials expire when AWS said at issue", l.ID, ErrNotRenewable, l.Kind)
	case l.Expired(now):
		return fmt.Errorf("renewing lease %s: %w: it expired at %s", l.ID, ErrNotRenewable, formatExpiry(l.ExpiresAt))
	case !l.Renewable(now):
		return fmt.Errorf("renewing lease %s: %w: it already expires at its maximum, %s", l.ID, ErrNotRenewable,
			formatExpiry(l.MaxExpiresAt))
	}
	expires := l.RenewedExpiry(now, ttl)
	user := aws.String(l.UserName)

	// The tag first: if the guard write then fails, the sweep waits for the later date while the guard still
	// enforces the earlier one. The other order could have the sweep remove a user whose guard was extended.
	_, err := i.iam.TagUser(ctx, &iam.TagUserInput{UserName: user, Tags: []types.Tag{
		{Key: aws.String(TagExpiresAt), Value: aws.String(formatExpiry(expires))},
	}})
	if err != nil {
		return fmt.Errorf("renewing lease %s: tagging IAM user %q with the new expiry %s: %w", l.ID, l.UserName,
			formatExpiry(expires), awsError(err))
	}
	_, err = i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: user, PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(GuardDocument(expires))})
	if err != nil {
		return i.settleGuard(ctx, l, expires, ttl, fmt.Errorf("renewing lease %s: moving the expiry guard of IAM user %q to %s: %w",
			l.ID, l.UserName, formatExpiry(expires), awsError(err)))
	}
	l.ExpiresAt = expires
	l.TTL = ttl
	return nil
}

// settleGuard follows a guard write that failed, yet may have happened: its answer was lost, the call was canceled
// in flight, or an attempt the SDK retried went through before a later one was refused. The lease must say the
// date the guard enforces, so AWS is asked which one it holds; the new date means the renewal happened after all.
// The read runs on a context of its own, so that a canceled refresh still leaves a lease that tells the truth.
func (i *Issuer) settleGuard(ctx context.Context, l *Lease, expires time.Time, ttl time.Duration, writeErr error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.rollbackTimeout)
	defer cancel()
	out, err := i.iam.GetUserPolicy(rctx, &iam.GetUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName)})
	var at time.Time
	if err == nil {
		doc := aws.ToString(out.PolicyDocument)
		if !strings.HasPrefix(strings.TrimSpace(doc), "{") { // IAM returns documents URL-encoded
			doc, err = url.QueryUnescape(doc)
		}
		if err == nil {
			at, err = GuardExpiry(doc)
		}
	}
	switch {
	case err != nil:
		return fmt.Errorf("%w; reading the guard back failed too, so it enforces %s or %s until a renewal succeeds: %w",
			writeErr, formatExpiry(l.ExpiresAt), formatExpiry(expires), awsError(err))
	case at.Equal(expires):
		l.ExpiresAt = expires
		l.TTL = ttl
		return nil
	case at.Equal(l.ExpiresAt):
		return writeErr
	default:
		return fmt.Errorf("%w; the guard enforces %s, which is neither the lease's expiry nor the new one", writeErr, formatExpiry(at))
	}
}
