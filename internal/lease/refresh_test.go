package lease

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// A refresh without the check for added credentials asks AWS two things at once and nothing else: the key's last
// use (the key exists, and is the lease's user's, whose ID it proves) and the guard. The round trip count is what
// `make bench` measures (BenchmarkRefresh); the calls are asserted here with moto's recorder.
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

// The check for added credentials (the provider's default, check_added_credentials) adds ListAccessKeys and
// GetLoginProfile to the same round, and names a key or a console password that another principal put on the
// lease's user. Without it, a refresh still looks once it finds the guard tampered with.
func TestPresence_SeesACredentialAddedBesideTheKey(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	checking := e.issuer(func(o *Options) { o.CheckAddedCredentials = true })
	l, _, err := checking.Issue(ctx, Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc}, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	presence := func(is *Issuer) (Presence, map[string]int) {
		t.Helper()
		e.record()
		p, err := is.Presence(ctx, l)
		calls := actionCounts(e.recording())
		if err != nil {
			t.Fatal(err)
		}
		if !p.User || !p.Key {
			t.Fatalf("Presence = %+v; want the lease's user and key", p)
		}
		return p, calls
	}

	p, calls := presence(checking)
	if want := map[string]int{"GetAccessKeyLastUsed": 1, "GetUserPolicy": 1, "ListAccessKeys": 1, "GetLoginProfile": 1}; !maps.Equal(calls, want) {
		t.Errorf("refresh calls with the check %v, want %v", calls, want)
	}
	if len(p.Added) != 0 {
		t.Errorf("right after issue Presence found added credentials: %q", p.Added)
	}

	extra, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(l.UserName)})
	if err != nil {
		t.Fatal(err)
	}
	extraID := aws.ToString(extra.AccessKey.AccessKeyId)
	p, _ = presence(checking)
	if len(p.Added) != 1 || !strings.Contains(p.Added[0], "access key "+extraID) || strings.Contains(p.Added[0], l.AccessKeyID) {
		t.Errorf("Presence after a second key was added: Added = %q, want only %s", p.Added, extraID)
	}

	if _, err := e.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(l.UserName), Password: aws.String("Not-a-real-password-1")}); err != nil {
		t.Fatal(err)
	}
	p, _ = presence(checking)
	if len(p.Added) != 2 || !strings.Contains(p.Added[1], "login profile") {
		t.Errorf("Presence after a login profile was added: Added = %q, want the key and the console password", p.Added)
	}

	// Without the check and with the guard intact: two calls, nothing seen (leases still shows it, revoke removes it).
	plain := e.issuer()
	if p, calls := presence(plain); len(p.Added) != 0 || len(calls) != 2 {
		t.Errorf("without the check Presence = %+v with calls %v; want two calls and no added credential", p, calls)
	}
	// Whoever removed the guard may have added a credential: then the check runs anyway, in a second round.
	if _, err := e.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(GuardPolicyName)}); err != nil {
		t.Fatal(err)
	}
	p, calls = presence(plain)
	if p.GuardProblem == "" || len(p.Added) != 2 || calls["ListAccessKeys"] != 1 || calls["GetLoginProfile"] != 1 {
		t.Errorf("without the check, guard removed: Presence = %+v with calls %v; want the guard problem and both added credentials", p, calls)
	}

	if err := checking.Revoke(ctx, l); err != nil {
		t.Fatal(err)
	}
	if users := e.usersUnder(l.UserPath); slices.Contains(users, l.UserName) {
		t.Errorf("revoke left the user %s with its added credentials", l.UserName)
	}
}

func credentialsOf(k *types.AccessKey) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "")
}
