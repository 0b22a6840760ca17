package lease

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// A refresh asks AWS three things at once and nothing else: the user (its ID proves it is the lease's), the key's
// last use (the key exists, and is that user's) and the guard. The round trip count is what `make bench` measures
// (BenchmarkRefresh); the calls are asserted here with moto's recorder.
func TestPresence_OneRoundOfTwoReads(t *testing.T) {
	e := newMotoEnv(t)
	is := e.issuer()
	l, creds, err := is.Issue(e.ctx(), e.fullRole("deploy"), Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.record()
	p, err := is.Presence(e.ctx(), l)
	calls := actionCounts(e.recording())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"GetAccessKeyLastUsed": 1, "GetUserPolicy": 1}
	if !maps.Equal(calls, want) {
		t.Errorf("refresh calls %v, want %v", calls, want)
	}
	if !p.User || !p.Key || p.GuardProblem != "" || p.LastUsed.At != nil {
		t.Errorf("Presence right after issue = %+v; want user, key, the lease's guard and no use yet", p)
	}

	// moto records the use of a key on any request signed with it, as AWS does (AWS within hours).
	e.useKey(creds)
	p, err = is.Presence(e.ctx(), l)
	if err != nil {
		t.Fatal(err)
	}
	if p.LastUsed.At == nil || p.LastUsed.Service != "sts" || p.LastUsed.Region != "eu-west-1" {
		t.Errorf("last use after a call through STS in eu-west-1 = %+v", p.LastUsed)
	}

	// Without its key, the user must still be proven the lease's: a second round reads it.
	if _, err := e.iam.DeleteAccessKey(e.ctx(), &iam.DeleteAccessKeyInput{UserName: aws.String(l.UserName), AccessKeyId: aws.String(l.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	e.record()
	p, err = is.Presence(e.ctx(), l)
	calls = actionCounts(e.recording())
	if err != nil {
		t.Fatal(err)
	}
	if !p.User || p.Key || calls["GetUser"] != 1 {
		t.Errorf("Presence without the key = %+v with calls %v; want the user (read with GetUser) and no key", p, calls)
	}
}

// Only another principal can remove or rewrite the guard (it denies the key every write to its own user). Refresh
// sees it and puts the lease's guard back; a guard cut earlier than the lease (a revoke that failed moves it to now)
// is never moved later: the lease takes its date.
func TestRepairGuard_PutsBackAMissingOrLaterGuardAndKeepsAnEarlierOne(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	is := e.issuer()
	l, _, err := is.Issue(ctx, Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc}, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	lease := GuardDocument(l.ExpiresAt, l.UserARN)
	put := func(doc string) {
		t.Helper()
		if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	repair := func(wantFound string) string {
		t.Helper()
		p, err := is.Presence(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.GuardProblem, wantFound) {
			t.Fatalf("Presence found %q, want it to say %q", p.GuardProblem, wantFound)
		}
		msg, err := is.RepairGuard(ctx, l, p)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}

	if _, err := e.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName)}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, repair("is missing"), "put back")
	if got := e.inlinePolicy(l.UserName, GuardPolicyName); got != lease {
		t.Errorf("guard after repair:\n%s\nwant\n%s", got, lease)
	}

	put(GuardDocument(l.ExpiresAt.Add(24*time.Hour), l.UserARN))
	mustContain(t, repair("not the lease's"), "put back")
	if got := e.inlinePolicy(l.UserName, GuardPolicyName); got != lease {
		t.Errorf("a guard moved later was not put back:\n%s", got)
	}

	put(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	mustContain(t, repair("not the one this provider writes"), "put back")
	if got := e.inlinePolicy(l.UserName, GuardPolicyName); got != lease {
		t.Errorf("a rewritten guard was not put back:\n%s", got)
	}

	earlier := e.clock.Now().UTC().Truncate(time.Second)
	put(GuardDocument(earlier, l.UserARN))
	mustContain(t, repair("not the lease's"), "the lease now says the guard's date")
	if !l.ExpiresAt.Equal(earlier) {
		t.Errorf("the lease says %s after the guard was cut to %s", l.ExpiresAt, earlier)
	}
	if got := e.inlinePolicy(l.UserName, GuardPolicyName); got != GuardDocument(earlier, l.UserARN) {
		t.Errorf("an earlier guard was moved:\n%s", got)
	}

	if p, err := is.Presence(ctx, l); err != nil || p.GuardProblem != "" {
		t.Errorf("after the repairs Presence = %+v, %v; want no problem", p, err)
	}
}

// A root identity whose policy predates iam:GetAccessKeyLastUsed (the least-privilege policies before 0.3) is
// refused it: refresh then looks for the key with ListAccessKeys, and the last use stays unknown. Under moto's
// authorization, which evaluates actions (see internal/acctest/moto/README.md).
func TestPresence_FallsBackToListingKeysWhenLastUseIsDenied(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	l, _, err := e.issuer().Issue(ctx, Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc}, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("old-root")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("old-root"), PolicyName: aws.String("root"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},` +
			`{"Effect":"Deny","Action":"iam:GetAccessKeyLastUsed","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("old-root")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.server.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	old := iam.NewFromConfig(e.cfg, func(o *iam.Options) {
		o.BaseEndpoint = aws.String(e.server.URL)
		o.Credentials = credentialsOf(key.AccessKey)
	})
	is := e.issuer(func(o *Options) { o.IAM = old })

	e.record()
	p, err := is.Presence(ctx, l)
	calls := actionCounts(e.recording())
	if err != nil {
		t.Fatal(err)
	}
	if !p.User || !p.Key || p.LastUsed.At != nil {
		t.Errorf("Presence with GetAccessKeyLastUsed denied = %+v; want the user and its key", p)
	}
	if calls["GetAccessKeyLastUsed"] != 1 || calls["ListAccessKeys"] != 1 {
		t.Errorf("calls %v: want GetAccessKeyLastUsed refused, then ListAccessKeys", calls)
	}

	if err := e.server.DisableAuth(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(l.UserName), AccessKeyId: aws.String(l.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	if err := e.server.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	if p, err := is.Presence(ctx, l); err != nil || !p.User || p.Key {
		t.Errorf("Presence after the key was deleted = %+v, %v; want the user without its key", p, err)
	}
}

func credentialsOf(k *types.AccessKey) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "")
}
