package lease

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

// The trust model's engine tests: each arranges what an attacker holding an issued key, or an unlucky operator,
// could leave in AWS, and checks that the engine touches only what a lease provably owns.

var sweepRole = Role{Name: "trust", CredentialType: IAMUser,
	PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`}

// recreateForeign deletes a lease's user as an operator would by hand, and creates another user of the same name
// that is not the lease's: a fixed username_template makes that an everyday event. It has a key, an inline policy
// and an attached policy that a revoke must not touch.
func (e *motoEnv) recreateForeign(l *Lease) (keyID string) {
	e.t.Helper()
	ctx := e.ctx()
	bare := NewIssuer(Options{IAM: e.iam, STS: e.sts, Clock: e.clock})
	if err := bare.Revoke(ctx, l); err != nil {
		e.t.Fatalf("deleting the lease's user by hand: %v", err)
	}
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(l.UserName), Path: aws.String(l.UserPath)}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String("theirs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(l.UserName),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		e.t.Fatal(err)
	}
	key, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(l.UserName)})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId)
}

func TestRevoke_LeavesAForeignUserOfTheSameNameUntouched(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lease func(*Lease) // what the record holds: 0.1.0's had no user ID, so the lease-ID tag proves ownership
	}{
		{"proof by user ID", func(*Lease) {}},
		{"proof by lease-ID tag (record of 0.1.0)", func(l *Lease) { l.UserID = ""; l.Version = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMotoEnv(t)
			is := e.issuer()
			l, _, err := is.Issue(e.ctx(), sweepRole, Request{})
			if err != nil {
				t.Fatal(err)
			}
			if l.UserID == "" { // AWS's are AIDA...; moto's are random letters
				t.Fatal("the lease records no user ID")
			}
			tc.lease(l)
			theirKey := e.recreateForeign(l)

			p, err := is.Presence(e.ctx(), l)
			if err != nil {
				t.Fatal(err)
			}
			if p.User || p.Key || p.Foreign == "" {
				t.Errorf("Presence = %+v: a foreign user of the lease's name must count as gone, and say why", p)
			}

			e.record()
			err = is.Revoke(e.ctx(), l)
			if !errors.Is(err, ErrNotLeaseUser) {
				t.Fatalf("Revoke = %v, want ErrNotLeaseUser", err)
			}
			for _, r := range e.recording() {
				if r.Action == "DeleteAccessKey" && r.Form.Get("AccessKeyId") == l.AccessKeyID {
					continue // the lease's own key, by its unique ID: allowed, and already gone
				}
				if strings.HasPrefix(r.Action, "Delete") || strings.HasPrefix(r.Action, "Detach") ||
					strings.HasPrefix(r.Action, "Remove") || strings.HasPrefix(r.Action, "Put") {
					t.Errorf("revoke called %s on the foreign user: %v", r.Action, moto.Actions(e.recording()))
				}
			}
			s := e.userState(t, l.UserName)
			if !slices.Contains(s.keys, theirKey) || !slices.Contains(s.inline, "theirs") || len(s.attached) != 1 {
				t.Errorf("the foreign user lost something: %+v", s)
			}
		})
	}
}

func TestRevoke_RemovesTheRealKeyWhenTheRecordIsStale(t *testing.T) {
	e := newMotoEnv(t)
	is := e.issuer()
	l, _, err := is.Issue(e.ctx(), sweepRole, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The key the lease records is one IAM will not find under the user (a record from before an out-of-band
	// rotation, say): the real key stays, and the revoke must not remove the guard from under it.
	real := l.AccessKeyID
	l.AccessKeyID = "AKIA" + strings.Repeat("X", 16)
	err = is.Revoke(e.ctx(), l)
	if err != nil {
		t.Fatalf("Revoke with an unknown recorded key and the real one listed: %v", err)
	}
	if slices.Contains(e.usersUnder("/"), l.UserName) {
		t.Fatalf("the user with the real key %s is still there", real)
	}
}

func TestSweep_TrustsTheGuardNotTheTags(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()

	// A live lease whose holder (with iam:TagUser) wrote a past expiry tag on its own user before the guard stopped
	// that: the tag lies, the guard does not.
	live, _, err := is.Issue(ctx, sweepRole, Request{TTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(live.UserName), Tags: []types.Tag{
		{Key: aws.String(TagExpiresAt), Value: aws.String("2000-01-01T00:00:00Z")}}}); err != nil {
		t.Fatal(err)
	}
	// Someone's user with a key, made to look like a lease by one tag: a key and no guard is never ours.
	victim := "awsdyn-not-a-lease"
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(victim), Path: aws.String(DefaultUserPath), Tags: []types.Tag{
		{Key: aws.String(TagLeaseID), Value: aws.String("lease-forged")},
		{Key: aws.String(TagExpiresAt), Value: aws.String("2000-01-01T00:00:00Z")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(victim)}); err != nil {
		t.Fatal(err)
	}
	// A lease whose guard expired: the only one to sweep.
	e.clock.Advance(-3 * time.Hour)
	dead, _, err := is.Issue(ctx, sweepRole, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Now().Add(time.Hour)) // an hour after moto's CreateDates: every user is older than the grace

	rep, err := is.Sweep(ctx, SweepOptions{PathPrefix: DefaultUserPath, Grace: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var revoked, skipped []string
	for _, u := range rep.Revoked {
		revoked = append(revoked, u.UserName)
	}
	for _, u := range rep.Skipped {
		skipped = append(skipped, u.UserName)
	}
	if !slices.Equal(revoked, []string{dead.UserName}) {
		t.Errorf("swept %v, want only the lease whose guard expired, %s", revoked, dead.UserName)
	}
	if !slices.Contains(skipped, victim) {
		t.Errorf("skipped %v: the user with a key and no guard must be reported as left alone", skipped)
	}
	left := e.usersUnder("/")
	for _, u := range []string{live.UserName, victim} {
		if !slices.Contains(left, u) {
			t.Errorf("the sweep removed %s (users left: %v)", u, left)
		}
	}
}

func TestSweep_SeesARenewalMadeAfterTheListing(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	l, _, err := is.Issue(ctx, sweepRole, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The sweeper's clock says the lease expired long ago; a renewer (with the same lease, another process) moves the
	// guard past that just before the sweep reads it. The decision must come from the guard as it is then.
	sweeper := e.issuer(func(o *Options) { o.Clock = fixedClock(e.clock.Now().Add(3 * time.Hour)) })
	renewer := e.issuer(func(o *Options) { o.Clock = fixedClock(e.clock.Now().Add(50 * time.Minute)) })
	if err := renewer.Renew(ctx, l, 4*time.Hour); err != nil {
		t.Fatal(err)
	}
	rep, err := sweeper.Sweep(ctx, SweepOptions{PathPrefix: DefaultUserPath, Grace: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Revoked) != 0 || !slices.Contains(e.usersUnder("/"), l.UserName) {
		t.Errorf("the sweep revoked a renewed lease: %+v", rep)
	}
}

func TestSweep_RefusesUnsafeOptions(t *testing.T) {
	is := NewIssuer(Options{})
	for _, tc := range []struct {
		name string
		o    SweepOptions
		want string
	}{
		{"no path", SweepOptions{Grace: time.Minute}, "path"},
		{"whole account", SweepOptions{PathPrefix: "/", Grace: time.Minute}, "whole account"},
		{"not a path", SweepOptions{PathPrefix: "awsdynamic", Grace: time.Minute}, "awsdynamic"},
		{"no grace", SweepOptions{PathPrefix: DefaultUserPath}, "grace must be positive"},
		{"negative grace", SweepOptions{PathPrefix: DefaultUserPath, Grace: -time.Minute}, "grace must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := is.Sweep(t.Context(), tc.o)
			if err == nil {
				t.Fatal("accepted")
			}
			mustContain(t, err.Error(), tc.want)
		})
	}
}

// TestRenew_TagNeverEarlierThanTheGuard shortens and lengthens a lease with the second of its two writes refused:
// whichever direction, the expiry tag must not say earlier than the guard enforces, and the lease must say what the
// guard enforces.
func TestRenew_TagNeverEarlierThanTheGuard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		refused string // the second write of that direction
	}{
		{"shortened, tag refused", 20 * time.Minute, "TagUser"},
		{"lengthened, guard refused", 3 * time.Hour, "PutUserPolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultEnv(t)
			role := f.faultCase(t, f.faultRole())
			is := f.proxied(noRetries)
			l, _, err := is.Issue(testCtx(t), role, Request{TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			f.px.Reset()
			f.px.Add(deniedOnce.rules(faultPoint{tc.refused, 1})...)
			err = is.Renew(testCtx(t), l, tc.ttl)
			f.px.Reset()
			if err == nil {
				t.Fatalf("Renew succeeded with %s refused", tc.refused)
			}
			guard := f.guardExpiry(l.UserName)
			tag, perr := time.Parse(time.RFC3339, f.expiryTag(l.UserName))
			if perr != nil {
				t.Fatal(perr)
			}
			if tag.Before(guard) {
				t.Errorf("the expiry tag says %s, earlier than the guard's %s: a sweep trusting it would remove a live key", tag, guard)
			}
			if !l.ExpiresAt.Equal(guard) {
				t.Errorf("the lease says %s, the guard enforces %s", l.ExpiresAt, guard)
			}
			if err := is.Revoke(testCtx(t), l); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIssue_RefusesADocumentThatLeavesNoRoomForTheGuard(t *testing.T) {
	e := newMotoEnv(t)
	is := e.issuer()
	name, _ := is.names.Render(NameData{RoleName: "big", Type: "IAM"})
	room := 2048 - GuardSize("aws", DefaultUserPath, name, NetworkBinding{})
	// A document one character too large for what the guard leaves, as IAM counts it (white space excluded).
	stmt := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` +
		strings.Repeat("b", 1) + `"}]}`
	pad := room + 1 - len(stmt)
	doc := strings.Replace(stmt, "arn:aws:s3:::b", "arn:aws:s3:::"+strings.Repeat("b", 1+pad), 1)
	e.record()
	_, _, err := is.Issue(e.ctx(), Role{Name: "big", CredentialType: IAMUser, PolicyDocument: doc}, Request{})
	if err == nil {
		t.Fatal("issued a user whose inline policies exceed IAM's budget")
	}
	mustContain(t, err.Error(), "policy_document is", "expiry guard", "2048")
	if n := len(e.recording()); n != 0 {
		t.Errorf("the refusal made %d AWS calls, want 0", n)
	}
}

func TestLease_Versions(t *testing.T) {
	v0 := `{"id":"lease-old","kind":"iam_user","role":"r","user_name":"u","user_arn":"arn:aws:iam::123456789012:user/awsdynamic/u","ttl":3600000000000}`
	l, err := Unmarshal([]byte(v0))
	if err != nil {
		t.Fatalf("a 0.1.0 record: %v", err)
	}
	if l.Version != LeaseVersion || l.UserID != "" || l.Tags != nil {
		t.Errorf("upgraded 0.1.0 record = %+v", l)
	}
	b, _ := l.Marshal()
	if !strings.Contains(string(b), `"version":1`) {
		t.Errorf("a record is written without its version: %s", b)
	}
	_, err = Unmarshal([]byte(`{"version":99,"id":"lease-new"}`))
	if err == nil {
		t.Fatal("a record of an unknown version was read")
	}
	mustContain(t, err.Error(), "version 99", "newer provider")
}

// TestUpdate_DefaultTagsReachALiveUser: the provider's default_tags change; the lease's user gets the new set in
// place, the removed key is untagged, and the lease tags are untouched.
func TestUpdate_DefaultTagsReachALiveUser(t *testing.T) {
	e := newMotoEnv(t)
	before := e.issuer(func(o *Options) { o.DefaultTags = map[string]string{"team": "a", "gone": "x"} })
	l, _, err := before.Issue(e.ctx(), sweepRole, Request{})
	if err != nil {
		t.Fatal(err)
	}
	after := e.issuer(func(o *Options) { o.DefaultTags = map[string]string{"team": "b", "cost": "1"} })
	if !after.TagsOutOfDate(l, sweepRole) {
		t.Fatal("TagsOutOfDate = false after default_tags changed")
	}
	if before.TagsOutOfDate(l, sweepRole) {
		t.Fatal("TagsOutOfDate = true with the same default_tags")
	}
	if err := after.Update(e.ctx(), l, sweepRole, sweepRole); err != nil {
		t.Fatal(err)
	}
	out, err := e.iam.ListUserTags(e.ctx(), &iam.ListUserTagsInput{UserName: aws.String(l.UserName)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tg := range out.Tags {
		got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if got["team"] != "b" || got["cost"] != "1" || got["gone"] != "" || got[TagLeaseID] != l.ID {
		t.Errorf("user's tags after the update: %v", got)
	}
	if after.TagsOutOfDate(l, sweepRole) {
		t.Errorf("still out of date after the update: lease records %v", l.Tags)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestRevoke_GuardGoesLastInThreeRoundTrips: with nothing added out of band, revoke is three sequential rounds, and
// the guard is deleted only after the access key is gone (never concurrently with it).
func TestRevoke_GuardGoesLastInThreeRoundTrips(t *testing.T) {
	f := newFaultEnv(t)
	f.fillGaps = true // AWS answers ListServiceSpecificCredentials at once; moto's 500 would add retries
	role := f.faultCase(t, f.faultRole())
	is := f.proxied(providerRetries)
	l, _, err := is.Issue(testCtx(t), role, Request{})
	if err != nil {
		t.Fatal(err)
	}
	f.px.Reset()
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	calls := f.px.Calls()
	if got := faultproxy.RoundTrips(calls); got != 3 {
		t.Errorf("revoke took %d sequential round trips, want 3: %v", got, f.px.Actions())
	}
	var keyDeleted, guardDeleted time.Time
	for _, c := range calls {
		switch c.Action {
		case "DeleteAccessKey":
			keyDeleted = c.End
		case "DeleteUserPolicy":
			if guardDeleted.IsZero() || c.Start.Before(guardDeleted) {
				guardDeleted = c.Start
			}
		}
	}
	if keyDeleted.IsZero() || guardDeleted.IsZero() || !guardDeleted.After(keyDeleted) {
		t.Errorf("the inline policies' deletion started at %s, the key's deletion ended at %s: the guard must go after the key",
			guardDeleted.Format(time.StampMicro), keyDeleted.Format(time.StampMicro))
	}
	f.assertClean(t, role)
}

// TestRollback_RevokesAgainWhatLandsAfterTheListing: a step of a failed issue that was canceled in flight can reach
// IAM after the rollback's revoke listed the user; IAM then refuses DeleteUser. The rollback revokes again, and
// nothing is left. Here the late arrival is an inline policy put while the rollback's DeleteUser is held.
func TestRollback_RevokesAgainWhatLandsAfterTheListing(t *testing.T) {
	f := newFaultEnv(t)
	f.lenient = true
	role := f.faultCase(t, f.faultRole())
	is := f.proxied(noRetries)
	f.px.Add(deniedOnce.rules(faultPoint{"CreateAccessKey", 1})...)
	f.px.Add(faultproxy.Rule{Action: "DeleteUser", Call: 1, Kind: faultproxy.Hold})
	done := make(chan error, 1)
	go func() {
		_, _, err := is.Issue(testCtx(t), role, Request{})
		done <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for f.px.Holding("DeleteUser") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the rollback never reached DeleteUser")
		}
		time.Sleep(5 * time.Millisecond)
	}
	users := f.usersUnder(role.UserPath)
	if len(users) != 1 {
		t.Fatalf("users under %s while the rollback holds: %v", role.UserPath, users)
	}
	if _, err := f.iam.PutUserPolicy(testCtx(t), &iam.PutUserPolicyInput{UserName: aws.String(users[0]), PolicyName: aws.String("late"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	f.px.Release()
	err := <-done
	var ie *IssueError
	if !errors.As(err, &ie) {
		t.Fatalf("Issue = %v, want an IssueError", err)
	}
	if ie.RollbackErr != nil {
		t.Errorf("rollback incomplete: %v", ie.RollbackErr)
	}
	if left := f.usersUnder(role.UserPath); len(left) != 0 {
		t.Errorf("users left after the rollback: %v", left)
	}
}
