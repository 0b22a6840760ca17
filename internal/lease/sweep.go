package lease

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// SweepOptions say where to look and how patient to be.
type SweepOptions struct {
	// PathPrefix limits the sweep to users under this IAM path ("/awsdynamic/"). Required: a sweep never looks
	// at the whole account by accident.
	PathPrefix string
	// Grace is how long past its expiry (or, for a user that never got its key and guard, past its creation) a
	// lease's user is left alone, so that a renewal or an issue in flight is never raced.
	Grace time.Duration
	// DryRun reports what would be revoked and revokes nothing.
	DryRun bool
	// Concurrency bounds the IAM calls in flight; default 4.
	Concurrency int
}

// SweptUser is one user a sweep revoked (or would have).
type SweptUser struct {
	UserName string
	LeaseID  string
	Reason   string
}

// SweepReport says what a sweep saw and did.
type SweepReport struct {
	Examined int         // users under the path
	Leases   int         // of those, users carrying this provider's lease tags
	Revoked  []SweptUser // revoked, or with DryRun, to be revoked
	Failed   []SweptUser // found due but not revoked; Reason holds the error
}

// Sweep finds IAM users under the path whose lease tags say they expired more than Grace ago, and users that
// carry lease tags but never got their access key or expiry guard (the leftovers of an interrupted issue) and are
// older than Grace, and revokes them. Users without this provider's lease-ID tag are never touched.
func (i *Issuer) Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	var rep SweepReport
	if o.PathPrefix == "" || !strings.HasPrefix(o.PathPrefix, "/") {
		return rep, fmt.Errorf("sweep needs an IAM path prefix such as %q", DefaultUserPath)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	var users []iamUser
	p := iam.NewListUsersPaginator(i.iam, &iam.ListUsersInput{PathPrefix: aws.String(o.PathPrefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return rep, fmt.Errorf("listing IAM users under %s: %w", o.PathPrefix, awsError(err))
		}
		for _, u := range page.Users {
			users = append(users, iamUser{name: aws.ToString(u.UserName), created: aws.ToTime(u.CreateDate)})
		}
	}
	rep.Examined = len(users)
	now := i.clock.Now()

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, u := range users {
		g.Go(func() error {
			verdict, err := i.sweepVerdict(gctx, u, now, o.Grace)
			if err == nil && verdict.Reason != "" && !o.DryRun {
				err = i.Revoke(gctx, &Lease{ID: verdict.LeaseID, Kind: IAMUser, UserName: u.name})
			}
			mu.Lock()
			defer mu.Unlock()
			if verdict.LeaseID != "" {
				rep.Leases++
			}
			switch {
			case err != nil:
				verdict.Reason = err.Error()
				rep.Failed = append(rep.Failed, verdict)
			case verdict.Reason != "":
				rep.Revoked = append(rep.Revoked, verdict)
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(rep.Revoked, func(a, b int) bool { return rep.Revoked[a].UserName < rep.Revoked[b].UserName })
	sort.Slice(rep.Failed, func(a, b int) bool { return rep.Failed[a].UserName < rep.Failed[b].UserName })
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("sweep could not handle %d of %d users under %s; the first: %s: %s", len(rep.Failed), rep.Examined, o.PathPrefix, rep.Failed[0].UserName, rep.Failed[0].Reason)
	}
	return rep, ctx.Err()
}

type iamUser struct {
	name    string
	created time.Time
}

// sweepVerdict decides about one user: a non-empty Reason means revoke it.
func (i *Issuer) sweepVerdict(ctx context.Context, u iamUser, now time.Time, grace time.Duration) (SweptUser, error) {
	v := SweptUser{UserName: u.name}
	tags, err := i.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(u.name)})
	if IsNoSuchEntity(err) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("listing tags of IAM user %q: %w", u.name, awsError(err))
	}
	var expires string
	for _, t := range tags.Tags {
		switch aws.ToString(t.Key) {
		case TagLeaseID:
			v.LeaseID = aws.ToString(t.Value)
		case TagExpiresAt:
			expires = aws.ToString(t.Value)
		}
	}
	if v.LeaseID == "" {
		return v, nil // not ours
	}
	if exp, err := time.Parse(time.RFC3339, expires); err == nil && now.After(exp.Add(grace)) {
		v.Reason = fmt.Sprintf("lease expired at %s", exp.UTC().Format(time.RFC3339))
		return v, nil
	}
	if !now.After(u.created.Add(grace)) {
		return v, nil // young: an issue may still be in flight
	}
	// An older user whose lease has not expired is left alone only if it was completely issued: it has its key
	// and its guard. Otherwise an issue was interrupted (a crash, a lost answer) and nothing accounts for it.
	complete, err := i.completelyIssued(ctx, u.name)
	if err != nil {
		return v, err
	}
	if !complete {
		v.Reason = fmt.Sprintf("half-created: no access key or expiry guard since %s", u.created.UTC().Format(time.RFC3339))
	}
	return v, nil
}

func (i *Issuer) completelyIssued(ctx context.Context, user string) (bool, error) {
	var keys, guard bool
	err := concurrently(
		func() error {
			out, err := i.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
			if err != nil {
				return fmt.Errorf("listing access keys of IAM user %q: %w", user, awsError(err))
			}
			keys = len(out.AccessKeyMetadata) > 0
			return nil
		},
		func() error {
			out, err := i.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
			if err != nil {
				return fmt.Errorf("listing inline policies of IAM user %q: %w", user, awsError(err))
			}
			for _, n := range out.PolicyNames {
				guard = guard || n == GuardPolicyName
			}
			return nil
		},
	)
	if IsNoSuchEntity(err) {
		return true, nil // gone meanwhile: nothing to sweep
	}
	return keys && guard, err
}
