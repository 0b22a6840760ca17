package lease

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestSweep_RevokesExpiredAndHalfCreatedOnlyOurs(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	role := Role{Name: "sweep", CredentialType: IAMUser, PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`}

	// A lease that will have expired, one that stays valid, a half-created user (lease tags, no key, no guard),
	// and a user of someone else's under the same path.
	expired, _, err := is.Issue(ctx, role, Request{TTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Minute)
	valid, _, err := is.Issue(ctx, role, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	half := "awsdyn-half-created"
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(half), Path: aws.String(DefaultUserPath), Tags: []types.Tag{
		{Key: aws.String(TagLeaseID), Value: aws.String("lease-half")},
		{Key: aws.String(TagExpiresAt), Value: aws.String(e.clock.Now().Add(time.Hour).Format(time.RFC3339))},
	}}); err != nil {
		t.Fatal(err)
	}
	foreign := "someone-elses-user"
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(foreign), Path: aws.String(DefaultUserPath), Tags: []types.Tag{
		{Key: aws.String(TagExpiresAt), Value: aws.String("2000-01-01T00:00:00Z")},
	}}); err != nil {
		t.Fatal(err)
	}

	// moto stamps CreateDate with the real time; the fake clock is moved an hour past it so that the half-created
	// user is older than the grace.
	e.clock.Set(time.Now().Add(time.Hour))
	dry, err := is.Sweep(ctx, SweepOptions{PathPrefix: DefaultUserPath, Grace: 10 * time.Minute, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	names := func(us []SweptUser) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.UserName)
		}
		slices.Sort(out)
		return out
	}
	want := []string{half, expired.UserName}
	slices.Sort(want)
	if got := names(dry.Revoked); !slices.Equal(got, want) {
		t.Fatalf("dry run would revoke %v, want %v", got, want)
	}
	if dry.Examined != 4 || dry.Leases != 3 {
		t.Errorf("examined %d users, %d leases; want 4 and 3", dry.Examined, dry.Leases)
	}
	if n := len(e.usersUnder("/")); n != 4 {
		t.Fatalf("a dry run removed users: %d left, want 4", n)
	}

	rep, err := is.Sweep(ctx, SweepOptions{PathPrefix: DefaultUserPath, Grace: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rep.Revoked); !slices.Equal(got, want) {
		t.Fatalf("sweep revoked %v, want %v", got, want)
	}
	left := e.usersUnder("/")
	slices.Sort(left)
	wantLeft := []string{valid.UserName, foreign}
	slices.Sort(wantLeft)
	if !slices.Equal(left, wantLeft) {
		t.Fatalf("users left %v, want %v (the valid lease and the foreign user)", left, wantLeft)
	}
}

func TestSweep_RefusesWithoutPath(t *testing.T) {
	is := NewIssuer(Options{})
	if _, err := is.Sweep(t.Context(), SweepOptions{}); err == nil {
		t.Fatal("a sweep without a path prefix must be refused")
	}
}
