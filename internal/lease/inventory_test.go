package lease

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const inventoryDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`

// useKey makes one request signed with the key, which moto records as the key's last use (service sts, the
// request's region).
func (e *motoEnv) useKey(c Credentials) {
	e.t.Helper()
	cfg := motoConfig(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken))
	cfg.Region = "eu-west-1"
	s := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.server.URL) })
	if _, err := s.GetCallerIdentity(e.ctx(), &sts.GetCallerIdentityInput{}); err != nil {
		e.t.Fatal(err)
	}
}

func TestInventory_ClassifiesEveryLeaseAndReadsLastUse(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	deploy := Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc}
	other := Role{Name: "other", CredentialType: IAMUser, PolicyDocument: inventoryDoc}

	expired, _, err := is.Issue(ctx, deploy, Request{TTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Minute)
	live, creds, err := is.Issue(ctx, deploy, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.useKey(creds)
	// Someone removed this one's guard: its key now works without an expiry.
	tampered, _, err := is.Issue(ctx, deploy, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(tampered.UserName), PolicyName: aws.String(GuardPolicyName)}); err != nil {
		t.Fatal(err)
	}
	// And gave this one a second key.
	twoKeys, _, err := is.Issue(ctx, deploy, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(twoKeys.UserName)}); err != nil {
		t.Fatal(err)
	}
	// And gave this one a console password.
	console, _, err := is.Issue(ctx, deploy, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(console.UserName), Password: aws.String("Not-a-real-1-password")}); err != nil {
		t.Fatal(err)
	}
	half := "awsdyn-half-created"
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(half), Path: aws.String(DefaultUserPath),
		Tags: []types.Tag{{Key: aws.String(TagLeaseID), Value: aws.String("lease-half")}, {Key: aws.String(TagRole), Value: aws.String("deploy")}}}); err != nil {
		t.Fatal(err)
	}
	otherLease, _, err := is.Issue(ctx, other, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("not-a-lease"), Path: aws.String(DefaultUserPath)}); err != nil {
		t.Fatal(err)
	}

	all, err := is.Inventory(ctx, InventoryOptions{PathPrefix: DefaultUserPath})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]LeaseInfo{}
	for _, l := range all {
		got[l.UserName] = l
	}
	want := map[string]LeaseState{expired.UserName: StateExpired, live.UserName: StateLive, tampered.UserName: StateTampered,
		twoKeys.UserName: StateTampered, console.UserName: StateTampered, half: StateHalfCreated, otherLease.UserName: StateLive}
	if len(got) != len(want) {
		t.Errorf("inventory lists %d users, want %d (not-a-lease has no lease tag): %+v", len(got), len(want), all)
	}
	for name, state := range want {
		if got[name].State != state {
			t.Errorf("%s: state %q (%s), want %q", name, got[name].State, got[name].Reason, state)
		}
	}
	l := got[live.UserName]
	if l.LeaseID != live.ID || l.Role != "deploy" || l.ExpiresAt == nil || !l.ExpiresAt.Equal(live.ExpiresAt) || l.UserID != live.UserID {
		t.Errorf("live lease listed as %+v, want lease %s of role deploy, user ID %s, guard expiry %s", l, live.ID, live.UserID, live.ExpiresAt)
	}
	if len(l.AccessKeys) != 1 || l.AccessKeys[0].AccessKeyID != live.AccessKeyID || l.AccessKeys[0].LastUsedAt == nil ||
		l.AccessKeys[0].LastUsedService != "sts" || l.AccessKeys[0].LastUsedRegion != "eu-west-1" {
		t.Errorf("live lease's keys %+v, want %s last used through sts in eu-west-1", l.AccessKeys, live.AccessKeyID)
	}
	if k := got[otherLease.UserName].AccessKeys; len(k) != 1 || k[0].LastUsedAt != nil || k[0].LastUsedService != "" {
		t.Errorf("a key never used has last use %+v, want none", k)
	}
	if got[tampered.UserName].ExpiresAt != nil {
		t.Errorf("a lease without its guard has expiry %v, want none", got[tampered.UserName].ExpiresAt)
	}

	deployOnly, err := is.Inventory(ctx, InventoryOptions{PathPrefix: DefaultUserPath, Role: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(deployOnly) != 6 {
		t.Errorf("--role deploy lists %d leases, want 6", len(deployOnly))
	}
	one, err := is.Inventory(ctx, InventoryOptions{PathPrefix: DefaultUserPath, LeaseID: otherLease.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].UserName != otherLease.UserName {
		t.Errorf("lease %s listed as %+v", otherLease.ID, one)
	}
	if _, err := is.Inventory(ctx, InventoryOptions{PathPrefix: "/"}); err == nil {
		t.Error(`an inventory of path "/" was accepted`)
	}
}
