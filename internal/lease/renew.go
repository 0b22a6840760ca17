package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// ErrNotRenewable says a lease cannot be extended: it is an STS credential (AWS fixes their expiry at issue), it
// expired, or it already reached its maximum. The managed resource plans a replacement instead.
var ErrNotRenewable = errors.New("lease is not renewable")

// Renew moves the lease's expiry to now+ttl, capped at its maximum (ttl zero or less: the lease's TTL): later, or
// earlier when ttl was shortened. It changes l.ExpiresAt only when AWS enforces the new date, so a lease never claims
// more than its guard allows; and when a failed guard write took effect all the same, it takes the new date, so the
// lease does not claim less either. Renewing rewrites the whole guard, so a lease issued before the guard protected
// itself gets that protection too.
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
	if err := i.moveExpiry(ctx, l, expires); err != nil {
		return fmt.Errorf("renewing lease %s: %w", l.ID, err)
	}
	l.TTL = ttl
	return nil
}

// moveExpiry moves the lease's expiry, in the guard and in the expiry tag, to expires, and l.ExpiresAt with them.
// The tag must never say earlier than the guard enforces (a sweep, or whoever reads the tag, would take a live key
// for dead), so the later date is written first: the tag first when the expiry moves later, the guard first when it
// moves earlier. A step that fails leaves the tag later than (or equal to) the guard, and l saying what the guard
// enforces.
func (i *Issuer) moveExpiry(ctx context.Context, l *Lease, expires time.Time) error {
	user := aws.String(l.UserName)
	tag := func() error {
		_, err := i.iam.TagUser(ctx, &iam.TagUserInput{UserName: user, Tags: []types.Tag{
			{Key: aws.String(TagExpiresAt), Value: aws.String(formatExpiry(expires))},
		}})
		if err != nil {
			return fmt.Errorf("tagging IAM user %q with the new expiry %s: %w", l.UserName, formatExpiry(expires), awsError(err))
		}
		return nil
	}
	guard := func() error {
		_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: user, PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(l.guardDocument(expires))})
		if err != nil {
			return i.settleGuard(ctx, l, expires, fmt.Errorf("moving the expiry guard of IAM user %q to %s: %w",
				l.UserName, formatExpiry(expires), awsError(err)))
		}
		l.ExpiresAt = expires
		return nil
	}
	if l.UserARN == "" {
		return fmt.Errorf("the lease records no ARN for IAM user %q, which its guard needs", l.UserName)
	}
	if expires.After(l.ExpiresAt) {
		if err := tag(); err != nil {
			return err
		}
		return guard()
	}
	if err := guard(); err != nil {
		return err
	}
	// The guard enforces the earlier date from here on, whatever happens to the tag.
	return tag()
}

// settleGuard follows a guard write that failed, yet may have happened: its answer was lost, the call was canceled
// in flight, or an attempt the SDK retried went through before a later one was refused. The lease must say the
// date the guard enforces, so AWS is asked which one it holds; the new date means the renewal happened after all.
// The read runs on a context of its own, so that a canceled refresh still leaves a lease that tells the truth.
func (i *Issuer) settleGuard(ctx context.Context, l *Lease, expires time.Time, writeErr error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.rollbackTimeout)
	defer cancel()
	doc, err := i.readGuard(rctx, l.UserName)
	var at time.Time
	if err == nil {
		at, err = GuardExpiry(doc)
	}
	switch {
	case err != nil:
		return fmt.Errorf("%w; reading the guard back failed too, so it enforces %s or %s until a renewal succeeds: %w",
			writeErr, formatExpiry(l.ExpiresAt), formatExpiry(expires), awsError(err))
	case at.Equal(expires):
		l.ExpiresAt = expires
		return nil
	case at.Equal(l.ExpiresAt):
		return writeErr
	default:
		return fmt.Errorf("%w; the guard enforces %s, which is neither the lease's expiry nor the new one", writeErr, formatExpiry(at))
	}
}
