package lease

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// Many pipelines share one account, and each may sweep while others renew: three sweeps racing each other and
// the renewals of a hundred live leases, over two hundred leases, must revoke every expired one, remove no live
// one, and report no error (a user another sweep removed first is not a failure). The live leases expire 30
// minutes after the sweeps' "now" before any renewal: a sweep that judged by anything but the guard's date, or
// failed on a user deleted under it, fails this test.
func TestSweep_RacingSweepsAndRenewalsOnHundredsOfLeases(t *testing.T) {
	if testing.Short() {
		t.Skip("issues 200 leases")
	}
	e := newMotoEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	is := e.issuer()
	role := Role{Name: "race", CredentialType: IAMUser, PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`}

	const each = 100
	issue := func(prefix string, ttl time.Duration) []*Lease {
		out := make([]*Lease, each)
		var g errgroup.Group
		g.SetLimit(8)
		for n := range out {
			g.Go(func() (err error) {
				out[n], _, err = is.Issue(ctx, role, Request{TTL: ttl, DisplayName: fmt.Sprintf("%s%d", prefix, n)})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	expired := issue("x", 15*time.Minute)
	live := issue("l", time.Hour)
	e.clock.Advance(30 * time.Minute) // the first hundred expired 15 minutes ago, past a 10-minute grace

	var (
		mu      sync.Mutex
		revoked = map[string]int{}
		errs    []error
		renewed int
	)
	// The sweeps start staggered, so that each meets users the one before it is removing or has removed; the
	// renewals go on, lease after lease, for as long as any sweep runs.
	var sweeps, renewers errgroup.Group
	for s := range 3 {
		sweeps.Go(func() error {
			time.Sleep(time.Duration(s) * 400 * time.Millisecond)
			rep, err := is.Sweep(ctx, SweepOptions{PathPrefix: DefaultUserPath, Grace: 10 * time.Minute, Concurrency: 8})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep %d: %w (failed: %v)", s, err, rep.Failed))
			}
			for _, u := range rep.Revoked {
				revoked[u.UserName]++
			}
			return nil
		})
	}
	done := make(chan struct{})
	for r := range 4 {
		renewers.Go(func() error {
			for n := r; ; n = (n + 4) % len(live) {
				select {
				case <-done:
					return nil
				default:
				}
				if err := is.Renew(ctx, live[n], time.Hour); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("renewing %s: %w", live[n].UserName, err))
					mu.Unlock()
					return nil
				}
				mu.Lock()
				renewed++
				mu.Unlock()
			}
		})
	}
	_ = sweeps.Wait()
	close(done)
	_ = renewers.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	left := e.usersUnder("/")
	for _, l := range live {
		if !slices.Contains(left, l.UserName) {
			t.Errorf("live lease %s (user %s) was removed", l.ID, l.UserName)
			continue
		}
		if _, err := e.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName)}); err != nil {
			t.Errorf("live lease %s lost its guard: %v", l.ID, err)
		}
		keys, err := e.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(l.UserName)})
		if err != nil || len(keys.AccessKeyMetadata) != 1 {
			t.Errorf("live lease %s: keys %v, %v; want its one key", l.ID, keys, err)
		}
		if revoked[l.UserName] > 0 {
			t.Errorf("a sweep reports revoking live lease %s", l.ID)
		}
	}
	for _, l := range expired {
		if slices.Contains(left, l.UserName) {
			t.Errorf("expired lease %s (user %s) survived three sweeps", l.ID, l.UserName)
		}
		if revoked[l.UserName] == 0 {
			t.Errorf("expired lease %s is gone but no sweep reports revoking it", l.ID)
		}
	}
	if len(left) != each {
		t.Errorf("%d users left, want the %d live ones", len(left), each)
	}
	twice := 0
	for _, n := range revoked {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d expired leases revoked by 3 racing sweeps (%d reported by more than one); %d renewals of %d live leases meanwhile",
		len(revoked), twice, renewed, each)
}
