package lease

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

// staticUser arranges an existing IAM user that the engine did not create: an inline policy and nkeys access keys
// of its own (created a second apart when there are two, so that "older" is not a tie at IAM's one-second
// CreateDate resolution). It returns the user's own key IDs, oldest first.
func (e *motoEnv) staticUser(name string, nkeys int) []string {
	e.t.Helper()
	ctx := e.ctx()
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("own"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`)}); err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for n := 0; n < nkeys; n++ {
		if n > 0 {
			waitNextSecond()
		}
		out, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.AccessKey.AccessKeyId))
	}
	return ids
}

// waitNextSecond waits for the wall clock's next second: moto stamps CreateDate with the real time, and the
// two-key rule orders keys by it. This is AWS's clock, which no fake clock moves.
func waitNextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond).Sub(now))
}

// keysOf lists a user's access key IDs, sorted.
func (e *motoEnv) keysOf(user string) []string {
	e.t.Helper()
	out, err := e.iam.ListAccessKeys(e.ctx(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := fieldOf(out.AccessKeyMetadata, func(k types.AccessKeyMetadata) *string { return k.AccessKeyId })
	sort.Strings(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

// assertUserUntouched checks that the user still exists with its own inline policy.
func (e *motoEnv) assertUserUntouched(user string) {
	e.t.Helper()
	if _, err := e.iam.GetUserPolicy(e.ctx(), &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("own")}); err != nil {
		e.t.Errorf("IAM user %s or its own policy is gone: %v", user, err)
	}
}

func TestStatic_CreateRotateDeleteTouchOnlyOwnKeys(t *testing.T) {
	e := newMotoEnv(t)
	own := e.staticUser("smtp-legacy", 1)
	is := e.issuer()
	ctx := e.ctx()
	e.record()

	k, err := is.BindStatic(ctx, "smtp-legacy")
	if err != nil {
		t.Fatal(err)
	}
	if k.UserID == "" || !strings.HasSuffix(k.UserARN, ":user/smtp-legacy") {
		t.Fatalf("bound %+v, want the user's ID and ARN", k)
	}
	t0 := e.clock.Now()
	c1, warnings, err := is.RotateStatic(ctx, k, 0)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("first key: %v %v", err, warnings)
	}
	if c1.AccessKeyID != k.AccessKeyID || c1.SecretAccessKey == "" || !k.RotatedAt.Equal(t0) {
		t.Fatalf("record %+v does not name the new key %s issued at %s", k, c1.AccessKeyID, t0)
	}
	if got, want := e.keysOf("smtp-legacy"), sorted(own[0], c1.AccessKeyID); !slices.Equal(got, want) {
		t.Fatalf("keys after create: %v, want %v", got, want)
	}

	e.clock.Advance(time.Hour)
	c2, warnings, err := is.RotateStatic(ctx, k, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The user's own key and ours fill IAM's two slots: ours is retired first, and a warning says so.
	if len(warnings) != 1 || !strings.Contains(warnings[0], c1.AccessKeyID+" was deleted just before its successor") {
		t.Fatalf("warnings %q, want one saying the previous key went first", warnings)
	}
	if c2.AccessKeyID == c1.AccessKeyID || k.AccessKeyID != c2.AccessKeyID || !k.RotatedAt.Equal(t0.Add(time.Hour)) || len(k.Stale) > 0 {
		t.Fatalf("after rotation the record is %+v, want the new key %s at %s", k, c2.AccessKeyID, t0.Add(time.Hour))
	}
	if got, want := e.keysOf("smtp-legacy"), sorted(own[0], c2.AccessKeyID); !slices.Equal(got, want) {
		t.Fatalf("keys after rotation: %v, want %v (the old key %s deleted, the user's own kept)", got, want, c1.AccessKeyID)
	}

	if err := is.DeleteStatic(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got := e.keysOf("smtp-legacy"); !slices.Equal(got, own) {
		t.Fatalf("keys after delete: %v, want only the user's own %v", got, own)
	}
	e.assertUserUntouched("smtp-legacy")
	if err := is.DeleteStatic(ctx, k); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	reqs := e.recording()
	// Only keys are written, and only keys the engine made are deleted.
	var writes []string
	for _, r := range reqs {
		switch {
		case r.Action == "DeleteAccessKey":
			if id := r.Form.Get("AccessKeyId"); id == own[0] {
				t.Errorf("the user's own key %s was deleted", id)
			}
			writes = append(writes, r.Action)
		case strings.HasPrefix(r.Action, "Create"), strings.HasPrefix(r.Action, "Delete"), strings.HasPrefix(r.Action, "Put"),
			strings.HasPrefix(r.Action, "Attach"), strings.HasPrefix(r.Action, "Detach"), strings.HasPrefix(r.Action, "Tag"):
			writes = append(writes, r.Action)
		}
	}
	if want := []string{"CreateAccessKey", "DeleteAccessKey", "CreateAccessKey", "DeleteAccessKey"}; !slices.Equal(writes, want) {
		t.Errorf("writes %v, want %v", writes, want)
	}
}

func TestStatic_BindRefusesMissingUser(t *testing.T) {
	e := newMotoEnv(t)
	_, err := e.issuer().BindStatic(e.ctx(), "nobody")
	if !errors.Is(err, ErrStaticUserGone) {
		t.Fatalf("err = %v, want ErrStaticUserGone", err)
	}
	mustContain(t, err.Error(), `"nobody"`, "create the user first")
}

func TestStatic_TwoKeysDeletesTheOlderAndWarns(t *testing.T) {
	e := newMotoEnv(t)
	own := e.staticUser("team-user", 2)
	is := e.issuer()
	k, err := is.BindStatic(e.ctx(), "team-user")
	if err != nil {
		t.Fatal(err)
	}
	c, warnings, err := is.RotateStatic(e.ctx(), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], own[0]) || !strings.Contains(warnings[0], "did not create") {
		t.Fatalf("warnings %q, want one naming the deleted older key %s", warnings, own[0])
	}
	if got, want := e.keysOf("team-user"), sorted(own[1], c.AccessKeyID); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want the newer own key and the new one %v", got, want)
	}
}

// TestStatic_FullUserRotationKeepsTheOtherKey: a user holding this credential's key and another is full; the
// rotation retires its own previous key first instead of deleting the other (which Vault's "delete the oldest" would,
// ours being the older here).
func TestStatic_FullUserRotationKeepsTheOtherKey(t *testing.T) {
	e := newMotoEnv(t)
	e.staticUser("busy", 0)
	is := e.issuer()
	k, err := is.BindStatic(e.ctx(), "busy")
	if err != nil {
		t.Fatal(err)
	}
	c1, _, err := is.RotateStatic(e.ctx(), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitNextSecond()
	added, err := e.iam.CreateAccessKey(e.ctx(), &iam.CreateAccessKeyInput{UserName: aws.String("busy")})
	if err != nil {
		t.Fatal(err)
	}
	other := aws.ToString(added.AccessKey.AccessKeyId)
	e.record()
	c2, warnings, err := is.RotateStatic(e.ctx(), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.recording()
	deletes := requestsFor(reqs, "DeleteAccessKey")
	if len(deletes) != 1 || deletes[0].Form.Get("AccessKeyId") != c1.AccessKeyID {
		t.Fatalf("deleted %v, want only the previous key %s", keyIDs(deletes), c1.AccessKeyID)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], c1.AccessKeyID) || strings.Contains(warnings[0], other) {
		t.Fatalf("warnings %q, want one naming the previous key only", warnings)
	}
	if got, want := e.keysOf("busy"), sorted(other, c2.AccessKeyID); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want the other key and the new one %v", got, want)
	}
}

func TestStatic_RefusesARecreatedUserOfTheSameName(t *testing.T) {
	e := newMotoEnv(t)
	e.staticUser("svc", 0)
	is := e.issuer()
	k, err := is.BindStatic(e.ctx(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := is.RotateStatic(e.ctx(), k, 0); err != nil {
		t.Fatal(err)
	}
	// The user is deleted (its key and policy first, as AWS requires) and another of the same name created.
	ctx := e.ctx()
	if _, err := e.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("svc"), AccessKeyId: aws.String(k.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("svc"), PolicyName: aws.String("own")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("svc")}); err != nil {
		t.Fatal(err)
	}
	own := e.staticUser("svc", 1)

	st, err := is.CheckStatic(ctx, k)
	if err != nil || !st.Replaced {
		t.Fatalf("CheckStatic = %+v, %v; want Replaced", st, err)
	}
	e.record()
	_, _, err = is.RotateStatic(ctx, k, 0)
	var re *UserReplacedError
	if !errors.As(err, &re) || re.BoundID != k.UserID || re.FoundID == k.UserID {
		t.Fatalf("err = %v, want *UserReplacedError", err)
	}
	if writes := iamWritesOf(e.recording()); len(writes) > 0 {
		t.Fatalf("the new user was touched: %v", writes)
	}
	if got := e.keysOf("svc"); !slices.Equal(got, own) {
		t.Fatalf("keys of the new user %v, want its own %v", got, own)
	}
}

func iamWritesOf(reqs []moto.Request) []string {
	var out []string
	for _, r := range reqs {
		for _, p := range []string{"Create", "Delete", "Put", "Attach", "Detach", "Tag", "Untag", "Update", "Add", "Remove"} {
			if strings.HasPrefix(r.Action, p) {
				out = append(out, r.Action)
			}
		}
	}
	return out
}

func keyIDs(reqs []moto.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Form.Get("AccessKeyId"))
	}
	return out
}

func TestStatic_OutOfBandDeletedKeyIsReplacedWithoutDeletingOthers(t *testing.T) {
	e := newMotoEnv(t)
	own := e.staticUser("gone-key", 1)
	is := e.issuer()
	k, _ := is.BindStatic(e.ctx(), "gone-key")
	c1, _, err := is.RotateStatic(e.ctx(), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.DeleteAccessKey(e.ctx(), &iam.DeleteAccessKeyInput{UserName: aws.String("gone-key"), AccessKeyId: aws.String(c1.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	st, err := is.CheckStatic(e.ctx(), k)
	if err != nil || !st.UserExists || st.KeyExists {
		t.Fatalf("CheckStatic = %+v, %v; want the user without the key", st, err)
	}
	c2, _, err := is.RotateStatic(e.ctx(), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.keysOf("gone-key"), sorted(own[0], c2.AccessKeyID); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
}

// TestFault_StaticAtEveryCall fails every call of a static credential's create, rotation and delete in turn,
// refused and cut, with and without the SDK's retries. After each, the user must hold only its own keys and those
// the record names, never an unknown key; the user's own key must survive, and the record must still be usable:
// a clean DeleteStatic afterwards leaves exactly the user's own keys.
func TestFault_StaticAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	f.lenient = true // no DeleteUser here: strictIAM's check is not needed
	own := f.staticUser("static-fault", 1)
	direct := f.issuer()
	ctx := testCtx(t)

	type op struct {
		name string
		// arrange returns the record the operation starts from, made without faults.
		arrange func(t *testing.T) *StaticKey
		act     func(is *Issuer, k *StaticKey) error
	}
	bound := func(t *testing.T) *StaticKey {
		k, err := direct.BindStatic(ctx, "static-fault")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	withKey := func(t *testing.T) *StaticKey {
		k := bound(t)
		if _, _, err := direct.RotateStatic(ctx, k, 0); err != nil {
			t.Fatal(err)
		}
		return k
	}
	ops := []op{
		{"create", func(*testing.T) *StaticKey { return nil }, func(is *Issuer, k *StaticKey) error {
			b, err := is.BindStatic(ctx, "static-fault")
			if err != nil {
				return err
			}
			*k = *b
			_, _, err = is.RotateStatic(ctx, k, 0)
			return err
		}},
		{"rotate", withKey, func(is *Issuer, k *StaticKey) error { _, _, err := is.RotateStatic(ctx, k, 0); return err }},
		{"delete", withKey, func(is *Issuer, k *StaticKey) error { return is.DeleteStatic(ctx, k) }},
	}
	cases := 0
	for _, o := range ops {
		// The clean run's calls are the fault points.
		start := o.arrange(t)
		k := &StaticKey{}
		if start != nil {
			k = start
		}
		f.px.Reset()
		if err := o.act(f.proxied(noRetries), k); err != nil {
			t.Fatalf("%s without faults: %v", o.name, err)
		}
		points := faultPoints(f.px.Actions())
		if err := direct.DeleteStatic(ctx, k); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s fault points: %v", o.name, points)
		for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
			for _, p := range points {
				t.Run(o.name+"/"+kind.name+"/"+p.String(), func(t *testing.T) {
					cases++
					k := &StaticKey{}
					if s := o.arrange(t); s != nil {
						k = s
					}
					f.px.Reset()
					f.px.Add(kind.rules(p)...)
					err := o.act(f.proxied(kind.attempts), k)
					if !f.fired() {
						t.Fatalf("the fault at %s never fired", p)
					}
					f.px.Reset()
					if err != nil {
						t.Log(err)
						mustContain(t, err.Error(), `IAM user "static-fault"`)
					}
					got := f.keysOf("static-fault")
					for _, id := range got {
						if id != own[0] && !slices.Contains(k.Owned(), id) {
							f.leak(t, "access key %s is on the user but in no record (record %+v)", id, k)
						}
					}
					if !slices.Contains(got, own[0]) {
						t.Errorf("the user's own key %s was deleted", own[0])
					}
					if k.UserName != "" {
						if err := direct.DeleteStatic(ctx, k); err != nil {
							t.Fatalf("cleaning up from the record: %v", err)
						}
					}
					if got := f.keysOf("static-fault"); !slices.Equal(got, own) {
						f.leak(t, "after deleting what the record names, the user holds %v, want its own %v", got, own)
					}
				})
			}
		}
	}
	f.assertUserUntouched("static-fault")
	t.Logf("static fault cases: %d, leaks: %d", cases, f.leaks)
}

// TestFault_StaticRotationKeepsThePreviousKeyRecordedWhenItsDeleteFails: the new key is live; the old one stays in
// the record (Stale) with a warning, and the next rotation deletes it.
func TestFault_StaticRotationKeepsThePreviousKeyRecordedWhenItsDeleteFails(t *testing.T) {
	f := newFaultEnv(t)
	f.lenient = true
	f.staticUser("stale", 0)
	direct := f.issuer()
	k, _ := direct.BindStatic(testCtx(t), "stale")
	c1, _, err := direct.RotateStatic(testCtx(t), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.px.Reset()
	f.px.Add(faultproxy.Rule{Action: "DeleteAccessKey", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	c2, warnings, err := f.proxied(noRetries).RotateStatic(testCtx(t), k, 0)
	f.px.Reset()
	if err != nil {
		t.Fatal(err)
	}
	if k.AccessKeyID != c2.AccessKeyID || !slices.Equal(k.Stale, []string{c1.AccessKeyID}) {
		t.Fatalf("record %+v, want key %s and stale %s", k, c2.AccessKeyID, c1.AccessKeyID)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], c1.AccessKeyID) || !strings.Contains(warnings[0], c2.AccessKeyID+" is live") {
		t.Fatalf("warnings %q", warnings)
	}
	c3, _, err := direct.RotateStatic(testCtx(t), k, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.keysOf("stale"); !slices.Equal(got, []string{c3.AccessKeyID}) || len(k.Stale) > 0 {
		t.Fatalf("keys %v, record %+v: want only %s", got, k, c3.AccessKeyID)
	}
}
