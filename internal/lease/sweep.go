package lease

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// DefaultSweepGrace is how long past its expiry (or its creation, for a half-created user) a lease's user is left
// alone by default: the sweep subcommand's --grace and sweep_expired_leases.
const DefaultSweepGrace = 10 * time.Minute

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

// Validate refuses sweep options that could remove what no expired lease accounts for: a path of "/" (the whole
// account) and a grace of zero or less (an issue or renewal in flight would be raced).
func (o SweepOptions) Validate() error {
	if err := ValidateLeasePath(o.PathPrefix); err != nil {
		return err
	}
	if o.Grace <= 0 {
		return fmt.Errorf("the grace must be positive (got %s): it is how long past expiry a lease is left alone, so that a renewal or an issue in flight is never raced", o.Grace)
	}
	return nil
}

// ValidateLeasePath refuses a path under which the sweep, the inventory or an emergency revoke would look at what
// is not the provider's: none, "/" (the whole account), or one that is not an IAM path.
func ValidateLeasePath(path string) error {
	switch path {
	case "/":
		return errors.New(`the path "/" is the whole account: give the IAM path the provider issues under, such as "` + DefaultUserPath + `"`)
	case "":
		return fmt.Errorf("a sweep needs the IAM path the provider issues under, such as %q", DefaultUserPath)
	}
	if err := ValidatePath(path); err != nil {
		return fmt.Errorf("the path %q: %w", path, err)
	}
	return nil
}

// SweptUser is one user a sweep revoked (or would have), or left alone for a reason worth telling.
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
	Skipped  []SweptUser // carry lease tags but are not provably dead or half-created: never touched
}

// Sweep revokes the users under the path that are provably the leftovers of a lease, and nothing else:
//   - a lease whose expiry guard, read back from AWS, has denied everything for longer than Grace (a tag can be set
//     by anyone allowed iam:TagUser; only the guard is what AWS enforces);
//   - a half-created issue: lease tags, no guard, no access key or other credential, created more than Grace ago.
//
// A user with a credential and no guard is never a half-created issue (the engine creates the key last, after the
// guard): it is reported as skipped. Each user is decided from reads made right before it is revoked, so a lease
// renewed while the sweep runs survives. "Now" is the Issuer's clock.
func (i *Issuer) Sweep(ctx context.Context, o SweepOptions) (SweepReport, error) {
	var rep SweepReport
	if err := o.Validate(); err != nil {
		return rep, fmt.Errorf("sweep: %w", err)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	users, err := i.usersUnder(ctx, o.PathPrefix)
	if err != nil {
		return rep, err
	}
	rep.Examined = len(users)

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, u := range users {
		g.Go(func() error {
			verdict, err := i.sweepVerdict(gctx, u, o.Grace)
			if err == nil && verdict.revoke && !o.DryRun {
				err = i.Revoke(gctx, &Lease{ID: verdict.LeaseID, Kind: IAMUser, UserName: u.name, UserARN: u.arn})
				if errors.Is(err, ErrNotLeaseUser) {
					// Re-created under the same name between the reads and the revoke: not ours any more.
					err, verdict.revoke = nil, false
					verdict.Reason = "replaced by another user of the same name while sweeping"
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if verdict.LeaseID != "" {
				rep.Leases++
			}
			switch {
			case err != nil:
				verdict.Reason = err.Error()
				rep.Failed = append(rep.Failed, verdict.SweptUser)
			case verdict.revoke:
				rep.Revoked = append(rep.Revoked, verdict.SweptUser)
			case verdict.Reason != "":
				rep.Skipped = append(rep.Skipped, verdict.SweptUser)
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, list := range [][]SweptUser{rep.Revoked, rep.Failed, rep.Skipped} {
		sort.Slice(list, func(a, b int) bool { return list[a].UserName < list[b].UserName })
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("sweep could not handle %d of %d users under %s; the first: %s: %s", len(rep.Failed), rep.Examined, o.PathPrefix, rep.Failed[0].UserName, rep.Failed[0].Reason)
	}
	return rep, ctx.Err()
}

type iamUser struct {
	name, arn, id string
	created       time.Time
}

// usersUnder lists the IAM users under path, for the sweep and the inventory.
func (i *Issuer) usersUnder(ctx context.Context, path string) ([]iamUser, error) {
	var users []iamUser
	p := iam.NewListUsersPaginator(i.iam, &iam.ListUsersInput{PathPrefix: aws.String(path)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing IAM users under %s: %w", path, awsError(err))
		}
		for _, u := range page.Users {
			users = append(users, iamUser{name: aws.ToString(u.UserName), arn: aws.ToString(u.Arn), id: aws.ToString(u.UserId), created: aws.ToTime(u.CreateDate)})
		}
	}
	return users, nil
}

type verdict struct {
	SweptUser
	revoke bool
}

// sweepVerdict decides about one user from its classification (see classify): an expired lease is revoked once its
// guard has denied everything for longer than grace, a half-created one once it is older than grace; a tampered one
// is left alone with the reason. revoke says to revoke it; a Reason without revoke says why a lease's user was left
// alone.
func (i *Issuer) sweepVerdict(ctx context.Context, u iamUser, grace time.Duration) (verdict, error) {
	c, err := i.classify(ctx, u)
	v := verdict{SweptUser: SweptUser{UserName: u.name, LeaseID: c.LeaseID}}
	if err != nil || c.LeaseID == "" {
		return v, err
	}
	// Now, from the clock, after the reads: a guard renewed before the read is seen; one renewed after it was not
	// expired then either (a lease past its expiry cannot be renewed).
	now := i.clock.Now()
	switch c.State {
	case StateTampered:
		v.Reason = "not swept: " + c.Reason
	case StateExpired:
		if now.After(c.Guard.ExpiresAt.Add(grace)) {
			v.revoke = true
			v.Reason = c.Reason
		}
	case StateHalfCreated:
		if now.After(u.created.Add(grace)) { // young: an issue may still be in flight
			v.revoke = true
			v.Reason = c.Reason
		}
	}
	return v, nil
}

// LeaseState is what AWS says about a lease's user, read back from what AWS enforces (the guard) rather than from
// tags, which anyone allowed iam:TagUser can set.
type LeaseState string

// The states of a lease's user. The sweep and the `leases` inventory share this one classification.
const (
	// StateLive: the guard, read back, still allows the user's credentials.
	StateLive LeaseState = "live"
	// StateExpired: the guard, read back, denies everything since its date.
	StateExpired LeaseState = "expired"
	// StateHalfCreated: lease tags, no guard and no credential, as an issue that stopped before its guard leaves.
	StateHalfCreated LeaseState = "half-created"
	// StateTampered: lease tags and something no issue of this engine leaves: a credential without a guard, or a
	// guard that is not the one this engine writes or protects another user.
	StateTampered LeaseState = "tampered"
)

// classification is what classify found about one user.
type classification struct {
	LeaseID string // "" when the user carries no lease tag: not a lease's, and nothing else is set
	Tags    map[string]string
	State   LeaseState
	Guard   Guard  // read back; zero without one
	Reason  string // why the state, in words
}

// classify reads one user's tags, then its guard, and without a guard its credentials, and says which state its
// lease is in at the Issuer's now. A user that is gone or carries no lease tag is returned without a LeaseID.
func (i *Issuer) classify(ctx context.Context, u iamUser) (classification, error) {
	var c classification
	tags, err := i.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(u.name)})
	if IsNoSuchEntity(err) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("listing tags of IAM user %q: %w", u.name, awsError(err))
	}
	c.Tags = make(map[string]string, len(tags.Tags))
	for _, t := range tags.Tags {
		c.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	c.LeaseID = c.Tags[TagLeaseID]
	if c.LeaseID == "" {
		return c, nil // not ours
	}

	doc, err := i.readGuard(ctx, u.name)
	switch {
	case IsNoSuchEntity(err):
		return i.classifyWithoutGuard(ctx, u, c)
	case err != nil:
		return c, err
	}
	g, err := ReadGuard(doc)
	if err != nil {
		c.State, c.Reason = StateTampered, fmt.Sprintf("its expiry guard is not the one this provider writes (%v)", err)
		return c, nil
	}
	if u.arn != "" && g.UserARN != "" && g.UserARN != u.arn {
		c.State, c.Reason = StateTampered, fmt.Sprintf("its expiry guard protects another user, %s", g.UserARN)
		return c, nil
	}
	c.Guard = g
	if now := i.clock.Now(); now.After(g.ExpiresAt) {
		c.State, c.Reason = StateExpired, fmt.Sprintf("expiry guard has denied everything since %s", formatExpiry(g.ExpiresAt))
		return c, nil
	}
	c.State, c.Reason = StateLive, fmt.Sprintf("expiry guard allows it until %s", formatExpiry(g.ExpiresAt))
	return c, nil
}

// classifyWithoutGuard classifies a lease's user without a guard: an issue interrupted before it put the guard or
// after a rollback that did not finish is half-created when it holds no credential; with a credential it is
// tampered (the engine creates the key last, after the guard).
func (i *Issuer) classifyWithoutGuard(ctx context.Context, u iamUser, c classification) (classification, error) {
	cl := &userCleanup{iam: i.iam, lease: &Lease{UserName: u.name}, user: aws.String(u.name)}
	// A failed listing of what is not a credential (policies, groups) does not stop the classification: revoke
	// lists again, and DeleteUser refuses while anything is left.
	_ = concurrently(cl.listAll(ctx)...)
	if cl.credentialListErr != nil {
		return c, fmt.Errorf("IAM user %q has lease tags and no expiry guard, and whether it holds a credential could not be read: %w", u.name, cl.credentialListErr)
	}
	if held := cl.credentialsHeld(); len(held) > 0 {
		c.State, c.Reason = StateTampered, fmt.Sprintf("it holds %s and no expiry guard, which no issue of this provider leaves", strings.Join(held, ", "))
		return c, nil
	}
	c.State, c.Reason = StateHalfCreated, fmt.Sprintf("half-created: lease tags, no expiry guard and no credential since %s", u.created.UTC().Format(time.RFC3339))
	return c, nil
}

// readGuard returns the URL-decoded guard document of a user.
func (i *Issuer) readGuard(ctx context.Context, user string) (string, error) {
	out, err := i.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(GuardPolicyName)})
	if err != nil {
		if IsNoSuchEntity(err) {
			return "", err
		}
		return "", fmt.Errorf("reading the expiry guard of IAM user %q: %w", user, awsError(err))
	}
	doc, err := policy.DecodeIAM(aws.ToString(out.PolicyDocument))
	if err != nil {
		return "", fmt.Errorf("reading the expiry guard of IAM user %q: %w", user, err)
	}
	return doc, nil
}

// Print writes the report for people: what was examined, and each user revoked (or, with dryRun, to be), failed or
// left alone, with why.
func (rep SweepReport) Print(w io.Writer, path string, dryRun bool) {
	verb := "revoked"
	if dryRun {
		verb = "would revoke"
	}
	fmt.Fprintf(w, "examined %d IAM users under %s, %d carrying awsdynamic lease tags; %s %d\n", rep.Examined, path, rep.Leases, verb, len(rep.Revoked))
	for _, u := range rep.Revoked {
		fmt.Fprintf(w, "  %s %s (lease %s): %s\n", verb, u.UserName, u.LeaseID, u.Reason)
	}
	for _, u := range rep.Failed {
		fmt.Fprintf(w, "  FAILED %s (lease %s): %s\n", u.UserName, u.LeaseID, u.Reason)
	}
	for _, u := range rep.Skipped {
		fmt.Fprintf(w, "  left alone %s (lease tag %s): %s\n", u.UserName, u.LeaseID, u.Reason)
	}
}
