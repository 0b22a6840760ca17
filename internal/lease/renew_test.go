package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

// expiryTag reads the user's expiry tag.
func (e *motoEnv) expiryTag(user string) string {
	e.t.Helper()
	out, err := e.iam.ListUserTags(e.ctx(), &iam.ListUserTagsInput{UserName: aws.String(user)})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, tg := range out.Tags {
		if aws.ToString(tg.Key) == TagExpiresAt {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// guardExpiry reads the date the user's guard enforces.
func (e *motoEnv) guardExpiry(user string) time.Time {
	e.t.Helper()
	at, err := GuardExpiry(e.inlinePolicy(user, GuardPolicyName))
	if err != nil {
		e.t.Fatal(err)
	}
	return at
}

func TestRenew_MovesGuardAndTag(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	l, _, _ := e.issueDeploy(i)
	e.clock.Advance(50 * time.Minute)
	want := e.clock.Now().Add(2 * time.Hour)

	e.record()
	if err := i.Renew(e.ctx(), l, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	reqs := e.recording()
	if !l.ExpiresAt.Equal(want) || l.TTL != 2*time.Hour {
		t.Errorf("lease expires %s ttl %s, want %s 2h", l.ExpiresAt, l.TTL, want)
	}
	if got := e.guardExpiry(l.UserName); !got.Equal(want) {
		t.Errorf("guard enforces %s, want %s", got, want)
	}
	if got := e.expiryTag(l.UserName); got != want.Format(time.RFC3339) {
		t.Errorf("expiry tag %s, want %s", got, want.Format(time.RFC3339))
	}
	if got := moto.Actions(reqs); len(got) != 2 || got[0] != "TagUser" || got[1] != "PutUserPolicy" {
		t.Errorf("renew calls = %v, want [TagUser PutUserPolicy]: the tag first", got)
	}
}

func TestRenew_CappedAtMax(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	role := e.fullRole("deploy")
	role.DefaultTTL, role.MaxTTL = 3*time.Hour, 4*time.Hour
	l, _, err := i.Issue(e.ctx(), role, Request{})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	if err := i.Renew(e.ctx(), l, 0); err != nil { // 0: the lease's own TTL, 3h, capped at issue + 4h
		t.Fatal(err)
	}
	if !l.ExpiresAt.Equal(l.MaxExpiresAt) {
		t.Errorf("lease expires %s, want its maximum %s", l.ExpiresAt, l.MaxExpiresAt)
	}
	if got := e.guardExpiry(l.UserName); !got.Equal(l.MaxExpiresAt) {
		t.Errorf("guard enforces %s, want the maximum %s", got, l.MaxExpiresAt)
	}
	if err := i.Renew(e.ctx(), l, time.Hour); !errors.Is(err, ErrNotRenewable) {
		t.Errorf("renewing at the maximum: err = %v, want ErrNotRenewable", err)
	}
}

func TestRenew_NotRenewablePastMaxOrExpired(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	l, _, _ := e.issueDeploy(i)
	issued := *l
	for _, tc := range []struct {
		name  string
		lease func() *Lease
		now   time.Time
		want  string
	}{
		{"expired", func() *Lease { c := issued; return &c }, issued.ExpiresAt, "it expired at " + issued.ExpiresAt.Format(time.RFC3339)},
		{"long expired", func() *Lease { c := issued; return &c }, issued.MaxExpiresAt.Add(time.Hour), "it expired at"},
		{"at max", func() *Lease { c := issued; c.ExpiresAt = c.MaxExpiresAt; return &c }, issued.IssuedAt.Add(time.Minute), "it already expires at its maximum"},
		{"sts", func() *Lease { c := issued; c.Kind = AssumedRole; return &c }, issued.IssuedAt, "assumed_role credentials expire when AWS said at issue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(tc.now)
			l := tc.lease()
			before := *l
			e.record()
			err := i.Renew(e.ctx(), l, time.Hour)
			reqs := e.recording()
			if !errors.Is(err, ErrNotRenewable) {
				t.Fatalf("err = %v, want ErrNotRenewable", err)
			}
			mustContain(t, err.Error(), "renewing lease "+l.ID+": lease is not renewable: "+tc.want)
			if len(reqs) != 0 {
				t.Errorf("a refused renewal called AWS: %v", moto.Actions(reqs))
			}
			if l.ExpiresAt != before.ExpiresAt || l.TTL != before.TTL {
				t.Error("a refused renewal changed the lease")
			}
		})
	}
}

func TestRenew_LeaseUnchangedWhenGuardWriteFails(t *testing.T) {
	e := newMotoEnv(t)
	f, i := e.failing()
	l, _, _ := e.issueDeploy(i)
	before := *l
	f.putUserPolicy = func(context.Context, *iam.PutUserPolicyInput) (*iam.PutUserPolicyOutput, error) {
		return nil, sdkError("IAM", "PutUserPolicy", 400, "Throttling", "Rate exceeded")
	}
	e.clock.Advance(30 * time.Minute)
	err := i.Renew(e.ctx(), l, time.Hour)
	if err == nil {
		t.Fatal("Renew succeeded although the guard was not written")
	}
	mustContain(t, err.Error(), "moving the expiry guard of IAM user", "Throttling")
	if !l.ExpiresAt.Equal(before.ExpiresAt) || l.TTL != before.TTL {
		t.Errorf("lease now expires %s: it claims a date the guard does not enforce (%s)", l.ExpiresAt, e.guardExpiry(l.UserName))
	}
	if got := e.guardExpiry(l.UserName); !got.Equal(before.ExpiresAt) {
		t.Errorf("guard moved to %s", got)
	}
}
