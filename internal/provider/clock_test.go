package provider_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// ---------------------------------------------------------------------------------------------------------------
// "Now" is AWS's time. These tests serve the provider with a local clock that is off by an hour or two and leave
// moto's Date headers alone (acctest.FactoriesWithMotoTime), so moto's clock, this machine's, plays AWS.
// ---------------------------------------------------------------------------------------------------------------

// awsTimeWindow brackets AWS's time over a step: issued expiries must fall within it, plus the TTL. A second
// either side covers the Date header's truncated second.
type awsTimeWindow struct{ from, to time.Time }

func (w *awsTimeWindow) open()  { w.from = time.Now().Add(-2 * time.Second) }
func (w *awsTimeWindow) close() { w.to = time.Now().Add(2 * time.Second) }
func (w *awsTimeWindow) check(what string, got time.Time, ttl time.Duration) error {
	if got.Before(w.from.Add(ttl)) || got.After(w.to.Add(ttl)) {
		return fmt.Errorf("%s is %s; AWS's time plus the %s TTL was between %s and %s: it followed the local clock, off by about %s",
			what, got.Format(time.RFC3339), ttl, w.from.Add(ttl).Format(time.RFC3339), w.to.Add(ttl).Format(time.RFC3339),
			got.Sub(w.from.Add(ttl)).Round(time.Minute))
	}
	return nil
}

// The guard AWS enforces, the expiry tag the sweep reads and expires_at in state all follow AWS's clock, whether
// the runner's clock is an hour behind or an hour ahead; and the provider says that the clock is off.
func TestAccCredential_expiryFollowsAWSClockNotTheLocalOne(t *testing.T) {
	for _, skew := range []time.Duration{-time.Hour, time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			acctest.Reset(t)
			config := deployConfig("", readOnlyPolicy, `  ttl  = "1h"`)
			var w awsTimeWindow
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.FactoriesWithMotoTime(provider.Options{Clock: clock.Offset(skew)}),
				CheckDestroy:             checkNoUsersUnder("/"),
				Steps: []resource.TestStep{{
					PreConfig: w.open,
					Config:    config,
					Check: func(s *terraform.State) error {
						w.close()
						a, err := stateAttrs(s, credAddr)
						if err != nil {
							return err
						}
						u, err := readUser(context.Background(), a["iam_user_name"])
						if err != nil || u == nil {
							return fmt.Errorf("reading the issued user %q: %v", a["iam_user_name"], err)
						}
						guard, err := u.guardExpiry()
						if err != nil {
							return err
						}
						tag, err := time.Parse(time.RFC3339, u.Tags[lease.TagExpiresAt])
						if err != nil {
							return fmt.Errorf("tag %s: %w", lease.TagExpiresAt, err)
						}
						state, err := time.Parse(time.RFC3339, a["expires_at"])
						if err != nil {
							return fmt.Errorf("expires_at: %w", err)
						}
						for what, got := range map[string]time.Time{"the guard's date": guard, "the " + lease.TagExpiresAt + " tag": tag, "expires_at": state} {
							if err := w.check(what, got, time.Hour); err != nil {
								return err
							}
						}
						return nil
					},
				}},
			})
		})
	}
}

// A provider whose clock runs two hours ahead sweeps with sweep_expired_leases = true: a lease AWS still honors
// for an hour is left alone.
func TestAccProvider_sweepGoesByAWSClock(t *testing.T) {
	acctest.Reset(t)
	ctx := context.Background()
	root := credentials.NewStaticCredentialsProvider(acctest.RootAccessKey, acctest.RootSecretKey, "")
	is := lease.NewIssuer(lease.Options{
		IAM:    acctest.IAM(),
		STS:    acctest.STS(root),
		NewSTS: func(p aws.CredentialsProvider) lease.STSAPI { return acctest.STS(p) },
	})
	live, _, err := is.Issue(ctx, lease.Role{Name: "live", CredentialType: lease.IAMUser, PolicyARNs: []string{readOnly}}, lease.Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = is.Revoke(context.Background(), live) })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.FactoriesWithMotoTime(provider.Options{Clock: clock.Offset(2 * time.Hour)}),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock("  sweep_expired_leases = true") + callerIdentity,
			Check: func(*terraform.State) error {
				u, err := readUser(ctx, live.UserName)
				if err != nil {
					return err
				}
				if u == nil {
					return fmt.Errorf("the sweep of a provider two hours ahead revoked %s, a lease AWS honors until %s",
						live.UserName, live.ExpiresAt.Format(time.RFC3339))
				}
				return nil
			},
		}},
	})
}
