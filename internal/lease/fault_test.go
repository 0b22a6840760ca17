package lease

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
)

// The fault tests put the fault-injection proxy between the engine's real SDK clients and moto and fail one call
// at a time: every call of an issue, of a revoke and of a renewal, once refused (AccessDenied: nothing happened in
// AWS) and once cut (moto did the work, the client never heard). After each, AWS must hold nothing that no lease
// accounts for.
//
// moto is reset once per test, not per case: a reset costs about 0.7 s (moto reloads AWS's managed policies on the
// next call). Each case issues under a user path of its own instead, and must leave that path empty, which it
// asserts anyway; what a case created is checked with moto's recorder, not only by the user being gone.

// faultEnv is a motoEnv whose engine clients talk to moto through the proxy.
type faultEnv struct {
	*motoEnv
	px    *faultproxy.Proxy
	cases int
	leaks int
	// lenient skips strictIAM, for a test that compares the calls moto saw with those the proxy saw.
	lenient bool
	// fillGaps answers where moto cannot (see moto.GapClient).
	fillGaps bool
	// extras, when set, adds things to each lease's user out of band before revokeFaultCase revokes it (see
	// TestFault_RevokeExtrasAtEveryCall).
	extras func(t *testing.T, user string)
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := newMotoEnv(t)
	px, err := faultproxy.Start(e.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	return &faultEnv{motoEnv: e, px: px}
}

// Retry settings of the proxied clients. noRetries makes the injected fault the engine's answer; sdkRetries is the
// SDK standard retryer's default (3 attempts), under which a cut call is retried; providerRetries is what
// internal/awsconfig configures (DefaultMaxRetries+1 attempts). Backoffs are short only for the suite's speed.
const (
	noRetries       = 1
	sdkRetries      = 0
	providerRetries = awsconfig.DefaultMaxRetries + 1
)

// faultRole is fullRole as the reliability issue asks for it: two policy ARNs, a document, a group and tags.
func (f *faultEnv) faultRole() Role {
	role := f.fullRole("fault")
	role.PolicyARNs = role.PolicyARNs[:2] // the two customer-managed policies
	return role
}

// proxied returns an Issuer whose IAM and STS clients, the new key's STS client included, talk to the proxy.
// DeleteUser is judged by AWS's rule (see strictIAM). apiOptions are added to every client.
func (f *faultEnv) proxied(maxAttempts int, apiOptions ...func(*middleware.Stack) error) *Issuer {
	cfg := motoConfig(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""))
	cfg.Retryer = func() aws.Retryer {
		r := retry.NewStandard(func(o *retry.StandardOptions) {
			if maxAttempts > 0 {
				o.MaxAttempts = maxAttempts
			}
			o.MaxBackoff = 5 * time.Millisecond
		})
		// As internal/awsconfig does: IAM's "try again" answers the SDK does not retry by itself.
		return retry.AddWithErrorCodes(r, "ConcurrentModification", "EntityTemporarilyUnmodifiable", "ServiceFailure")
	}
	cfg.APIOptions = apiOptions
	if f.fillGaps {
		cfg.HTTPClient = moto.GapClient{Next: awshttp.NewBuildableClient()}
	}
	endpoint := aws.String(f.px.URL)
	var client IAMAPI = iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = endpoint })
	if !f.lenient {
		client = &strictIAM{IAMAPI: client, direct: f.iam}
	}
	return f.issuer(func(o *Options) {
		o.IAM = client
		o.STS = sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint })
		o.NewSTS = func(p aws.CredentialsProvider) STSAPI {
			return sts.NewFromConfig(cfg, func(o *sts.Options) {
				o.Credentials = p
				o.BaseEndpoint = endpoint
			})
		}
		o.Propagation = PropagationPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 10 * time.Second}
		o.RollbackTimeout = 20 * time.Second
	})
}

// strictIAM refuses DeleteUser as AWS does. moto deletes a user that still has access keys or group memberships
// (see internal/acctest/moto/README.md), which would let a revoke that skipped them pass; AWS answers DeleteConflict. The check goes to moto
// directly, so that it neither shows in the proxy's call numbers nor can be faulted.
type strictIAM struct {
	IAMAPI
	direct *iam.Client
}

func (s *strictIAM) DeleteUser(ctx context.Context, in *iam.DeleteUserInput, o ...func(*iam.Options)) (*iam.DeleteUserOutput, error) {
	keys, err := s.direct.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: in.UserName})
	if err == nil {
		groups, gerr := s.direct.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: in.UserName})
		if gerr == nil && len(keys.AccessKeyMetadata)+len(groups.Groups) > 0 {
			return nil, sdkError("IAM", "DeleteUser", 409, "DeleteConflict",
				fmt.Sprintf("Cannot delete entity, must remove %d access keys and %d group memberships first (strictIAM, as AWS)",
					len(keys.AccessKeyMetadata), len(groups.Groups)))
		}
	}
	return s.IAMAPI.DeleteUser(ctx, in, o...)
}

// faultCase starts one case: a user path of its own, the clock at the real time (moto stamps CreateDate with it),
// the proxy without rules and with fresh counts, moto's recorder on.
func (f *faultEnv) faultCase(t *testing.T, role Role, rules ...faultproxy.Rule) Role {
	t.Helper()
	f.cases++
	role.UserPath = fmt.Sprintf("%sfault-%d/", DefaultUserPath, f.cases)
	f.clock.Set(time.Now().UTC().Truncate(time.Second))
	if err := f.server.StartRecording(); err != nil {
		t.Fatal(err)
	}
	f.px.Reset()
	f.px.Add(rules...)
	return role
}

// recorded returns what reached moto since faultCase.
func (f *faultEnv) recorded(t *testing.T) []moto.Request {
	t.Helper()
	reqs, err := f.server.Recording()
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// fired reports whether a rule fired. The proxy marks a call when its handler returns, which for a call held until
// its client went away can be a moment after the client returned.
func (f *faultEnv) fired() bool {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		if slices.ContainsFunc(f.px.Calls(), func(c faultproxy.Call) bool { return c.Faulted }) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// leak reports a violation of "AWS holds nothing that no lease accounts for".
func (f *faultEnv) leak(t *testing.T, format string, args ...any) {
	t.Helper()
	f.leaks++
	t.Errorf("LEAK: "+format, args...)
}

// assertClean checks that a case left nothing: no user under its path, nothing any recorded call put on a user
// without a later recorded call removing it, and no member in the role's groups.
func (f *faultEnv) assertClean(t *testing.T, role Role) {
	t.Helper()
	ctx := testCtx(t)
	users, err := f.iam.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String(role.UserPath)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		f.leak(t, "IAM user %s is left under %s", aws.ToString(u.UserName), role.UserPath)
	}
	for _, o := range unremoved(f.recorded(t)) {
		// moto's DeleteUser, like AWS's, refuses while inline or attached policies are left: of a user that is gone
		// they are gone too, whatever the recording says (a revoke that lost DeleteUser's answer puts its guard
		// back, and that call reaches moto only to be told the user does not exist).
		if len(users.Users) == 0 && (strings.HasPrefix(o, "inline policy ") || strings.HasPrefix(o, "attachment of ")) {
			continue
		}
		f.leak(t, "%s was created and never removed", o)
	}
	for _, g := range role.IAMGroups {
		out, err := f.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(g)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Users {
			f.leak(t, "IAM user %s is still a member of group %s", aws.ToString(u.UserName), g)
		}
	}
}

// unremoved lists what the recorded calls put on users and no later recorded call removed. moto records only calls
// that reached it, and each of those took effect, a cut one too. moto's DeleteUser does not remove access keys or
// group memberships first, as AWS would refuse to, so "the user is gone" alone would prove nothing.
func unremoved(reqs []moto.Request) []string {
	type object struct{ kind, user, name string }
	open := map[object]bool{}
	keysCreated := map[string]int{}
	keysDeleted := map[string]map[string]bool{}
	for _, r := range reqs {
		user := r.Form.Get("UserName")
		switch r.Action {
		case "CreateUser":
			open[object{"IAM user", user, ""}] = true
		case "DeleteUser":
			delete(open, object{"IAM user", user, ""})
		case "PutUserPolicy":
			open[object{"inline policy", user, r.Form.Get("PolicyName")}] = true
		case "DeleteUserPolicy":
			delete(open, object{"inline policy", user, r.Form.Get("PolicyName")})
		case "AttachUserPolicy":
			open[object{"attachment of", user, r.Form.Get("PolicyArn")}] = true
		case "DetachUserPolicy":
			delete(open, object{"attachment of", user, r.Form.Get("PolicyArn")})
		case "AddUserToGroup":
			open[object{"membership in group", user, r.Form.Get("GroupName")}] = true
		case "RemoveUserFromGroup":
			delete(open, object{"membership in group", user, r.Form.Get("GroupName")})
		case "CreateAccessKey":
			keysCreated[user]++
		case "DeleteAccessKey":
			if keysDeleted[user] == nil {
				keysDeleted[user] = map[string]bool{}
			}
			keysDeleted[user][r.Form.Get("AccessKeyId")] = true
		}
	}
	var out []string
	for o := range open {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s of IAM user %s", o.kind, o.name, o.user)))
	}
	for user, n := range keysCreated {
		if d := len(keysDeleted[user]); d < n {
			out = append(out, fmt.Sprintf("%d of the %d access keys created for IAM user %s", n-d, n, user))
		}
	}
	sort.Strings(out)
	return out
}

// proxiedLease issues a lease of role through the proxy, the SDK making maxAttempts attempts a call, and fails t if
// it cannot: the lease a fault case then revokes, renews or updates.
func (f *faultEnv) proxiedLease(t *testing.T, role Role, maxAttempts int) (*Issuer, *Lease) {
	t.Helper()
	is := f.proxied(maxAttempts)
	l, _, err := is.Issue(testCtx(t), role, Request{})
	if err != nil {
		t.Fatal(err)
	}
	return is, l
}

// cleanLease issues a lease of a fresh fault case of role through the proxy, with no fault and no retries, and
// forgets the issue's calls: the operation that follows is the clean run whose calls are the fault points.
func (f *faultEnv) cleanLease(t *testing.T, role Role) (Role, *Issuer, *Lease) {
	t.Helper()
	clean := f.faultCase(t, role)
	is, l := f.proxiedLease(t, clean, noRetries)
	f.px.Reset()
	return clean, is, l
}

// logExercised logs how many fault cases of each kind ran for op, how many in all, and the leaks found so far.
func (f *faultEnv) logExercised(t *testing.T, op string, exercised map[string]int) {
	t.Helper()
	total := 0
	for _, n := range exercised {
		total += n
	}
	t.Logf("%s fault points exercised: %d %v, leaks found: %d", op, total, exercised, f.leaks)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// faultPoint is one call of a clean run: the n-th call of an action.
type faultPoint struct {
	action string
	call   int
}

func (p faultPoint) String() string { return fmt.Sprintf("%s#%d", p.action, p.call) }

// faultPoints numbers the calls the proxy saw per action, in order.
func faultPoints(actions []string) []faultPoint {
	seen := map[string]int{}
	out := make([]faultPoint, 0, len(actions))
	for _, a := range actions {
		seen[a]++
		out = append(out, faultPoint{a, seen[a]})
	}
	return out
}

// faultKind is how a fault point fails.
type faultKind struct {
	name     string
	kind     faultproxy.Kind
	attempts int
	// denyRollback also refuses the first DeleteUser, so that rolling back cannot finish and a user is left for
	// the sweep.
	denyRollback bool
}

func (k faultKind) rules(p faultPoint) []faultproxy.Rule {
	rules := []faultproxy.Rule{{Action: p.action, Call: p.call, Kind: k.kind, Fault: faultproxy.AccessDenied, Times: 1}}
	if k.denyRollback {
		rules = append(rules, faultproxy.Rule{Action: "DeleteUser", Call: 1, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied, Times: 1})
	}
	return rules
}

var (
	deniedOnce     = faultKind{name: "AccessDenied", kind: faultproxy.Error, attempts: noRetries}
	cutOnce        = faultKind{name: "Cut", kind: faultproxy.Cut, attempts: noRetries}
	cutSDKRetried  = faultKind{name: "Cut+SDKRetries", kind: faultproxy.Cut, attempts: sdkRetries}
	deniedStranded = faultKind{name: "AccessDenied+RollbackDenied", kind: faultproxy.Error, attempts: noRetries, denyRollback: true}
	cutStranded    = faultKind{name: "Cut+RollbackDenied", kind: faultproxy.Cut, attempts: noRetries, denyRollback: true}
)

// issueSteps are the steps of an issue of role, each with the phrases its error must name, by the action that
// performs it. The concurrent calls of an action arrive in any order, so which step a call number hits is read
// from the error.
func issueSteps(role Role) map[string]map[string][]string {
	steps := map[string]map[string][]string{
		"CreateUser": {"create user": {"creating IAM user"}},
		"PutUserPolicy": {
			"guard":    {"putting the expiry guard policy on IAM user"},
			"document": {"putting the role's policy document on IAM user", DocumentPolicyName},
		},
		"AttachUserPolicy": {},
		"AddUserToGroup":   {},
		"CreateAccessKey":  {"create key": {"creating an access key for IAM user"}},
	}
	for _, arn := range role.PolicyARNs {
		steps["AttachUserPolicy"]["attach "+arn] = []string{"attaching policy " + arn + " to IAM user"}
	}
	for _, g := range role.IAMGroups {
		steps["AddUserToGroup"]["join "+g] = []string{"adding IAM user", "to group \"" + g + "\""}
	}
	return steps
}

// TestFault_IssueAtEveryCall fails every call of an issue in turn, each way, and checks that nothing is left that
// no lease accounts for, and that the error names the step and says truthfully whether rolling back finished.
func TestFault_IssueAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()
	steps := issueSteps(role)

	// The clean run through the proxy: its calls are the fault points.
	clean := f.faultCase(t, role)
	l, _, err := f.proxied(noRetries).Issue(testCtx(t), clean, Request{WaitForPropagation: true})
	if err != nil {
		t.Fatal(err)
	}
	points := faultPoints(f.px.Actions())
	if err := f.proxied(noRetries).Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	f.assertClean(t, clean)
	t.Logf("issue fault points (%d): %v", len(points), points)
	if len(points) < 10 {
		t.Fatalf("the clean issue made %d calls, want at least 10 (user, 2 inline, 2 attach, group, key, 3 checks)", len(points))
	}

	exercised := map[string]int{}
	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried, deniedStranded, cutStranded} {
		covered := map[string]bool{}
		run := func(p faultPoint) {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) {
				if step := f.issueFaultCase(t, role, kind, p, steps); step != "" {
					covered[step] = true
				}
			})
			exercised[kind.name]++
		}
		for _, p := range points {
			run(p)
		}
		if kind.attempts != noRetries {
			continue
		}
		// Which of the concurrent calls gets call number n is up to the scheduler: fail them again until each
		// step has failed once, so that every object of the role was the failing one.
		for round := 0; round < 6; round++ {
			missing := missingSteps(steps, covered)
			if len(missing) == 0 {
				break
			}
			for _, p := range points {
				if p.action == "PutUserPolicy" || p.action == "AttachUserPolicy" {
					run(p)
				}
			}
		}
		if missing := missingSteps(steps, covered); len(missing) > 0 {
			t.Errorf("%s: no case failed at these steps: %v", kind.name, missing)
		}
	}
	f.logExercised(t, "issue", exercised)
}

func missingSteps(steps map[string]map[string][]string, covered map[string]bool) []string {
	var out []string
	for _, byStep := range steps {
		for step := range byStep {
			if !covered[step] {
				out = append(out, step)
			}
		}
	}
	sort.Strings(out)
	return out
}

// issueFaultCase issues with the fault kind at point p and checks what is left. It returns the step the error
// named, if it failed.
func (f *faultEnv) issueFaultCase(t *testing.T, role Role, kind faultKind, p faultPoint, steps map[string]map[string][]string) string {
	role = f.faultCase(t, role, kind.rules(p)...)
	is := f.proxied(kind.attempts)
	l, creds, err := is.Issue(testCtx(t), role, Request{WaitForPropagation: true})
	fired := f.fired()
	calls := f.px.Actions()
	f.px.Reset() // what follows runs without faults
	if !fired {
		t.Fatalf("the fault at %s never fired: calls %v", p, calls)
	}
	if err == nil && kind.attempts == noRetries && p.action != "GetCallerIdentity" {
		t.Errorf("Issue succeeded although %s failed", p)
	}
	var step string
	if ie := f.issueOutcome(t, role, is, l, creds, err); ie != nil {
		if p.action == "GetCallerIdentity" {
			t.Errorf("a failed propagation check is retried, not fatal: %v", err)
		}
		for name, phrases := range steps[p.action] {
			if containsAll(ie.Step, phrases) {
				step = name
			}
		}
		if step == "" && kind.attempts == noRetries {
			t.Errorf("the error's step %q does not name the failed %s", ie.Step, p.action)
		}
		f.assertRolledBackOrSweepable(t, role, is, ie)
	}
	f.assertClean(t, role)
	return step
}

// issueOutcome checks an issue a fault hit. When it succeeded (err nil): the lease is all its user holds, and it is
// revoked; nil is returned. When it failed: the error is logged and must be an *IssueError, which is returned.
func (f *faultEnv) issueOutcome(t *testing.T, role Role, is *Issuer, l *Lease, creds Credentials, err error) *IssueError {
	t.Helper()
	if err == nil {
		f.assertLeaseIsAll(t, role, l, creds)
		if err := is.Revoke(testCtx(t), l); err != nil {
			t.Errorf("revoking the lease: %v", err)
		}
		return nil
	}
	t.Log(err)
	var ie *IssueError
	if !errors.As(err, &ie) {
		t.Fatalf("err is %T, want *IssueError: %v", err, err)
	}
	return ie
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// assertLeaseIsAll checks that a successful issue left exactly what its lease records, all of the role.
func (f *faultEnv) assertLeaseIsAll(t *testing.T, role Role, l *Lease, creds Credentials) {
	t.Helper()
	s := f.userState(t, l.UserName)
	if creds.AccessKeyID != l.AccessKeyID || l.AccessKeyID == "" {
		t.Errorf("credentials %s, lease %q: the lease does not name the key handed out", creds, l.AccessKeyID)
	}
	if !slices.Equal(s.keys, []string{l.AccessKeyID}) {
		f.leak(t, "IAM user %s has access keys %v; its lease knows only %s", l.UserName, s.keys, l.AccessKeyID)
	}
	if !sameSet(s.inline, l.InlinePolicies) || !sameSet(l.InlinePolicies, []string{GuardPolicyName, DocumentPolicyName}) {
		t.Errorf("inline policies %v, lease %v", s.inline, l.InlinePolicies)
	}
	if !sameSet(s.attached, l.PolicyARNs) || !sameSet(l.PolicyARNs, role.PolicyARNs) {
		t.Errorf("attached policies %v, lease %v, role %v", s.attached, l.PolicyARNs, role.PolicyARNs)
	}
	if !sameSet(s.groups, l.Groups) || !sameSet(l.Groups, role.IAMGroups) {
		t.Errorf("groups %v, lease %v, role %v", s.groups, l.Groups, role.IAMGroups)
	}
	if got := f.readGuard(t, l.UserName); !got.Equal(l.ExpiresAt) {
		t.Errorf("guard enforces %s, lease expires %s", got, l.ExpiresAt)
	}
}

// assertRolledBackOrSweepable checks a failed issue: the error says whether rolling back finished, and truthfully;
// whatever is left carries the lease tags, has no access key, and the sweep removes it.
func (f *faultEnv) assertRolledBackOrSweepable(t *testing.T, role Role, is *Issuer, ie *IssueError) {
	t.Helper()
	msg := ie.Error()
	mustContain(t, msg, fmt.Sprintf("issuing credential for role %q: ", role.Name), ie.Step)
	ctx := testCtx(t)
	out, err := f.iam.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String(role.UserPath)})
	if err != nil {
		t.Fatal(err)
	}
	if ie.RollbackErr == nil {
		mustContain(t, msg, "; rollback complete: nothing from this attempt remains")
		for _, u := range out.Users {
			f.leak(t, "rollback said complete, but IAM user %s is left", aws.ToString(u.UserName))
		}
		return
	}
	mustContain(t, msg, "; rollback incomplete: ", fmt.Sprintf("IAM user %q carries lease tags and the sweep removes it", ie.UserName))
	if len(out.Users) == 0 {
		t.Errorf("rollback said incomplete, but nothing is left: the error sends the user to a sweep for nothing")
		return
	}
	var left []string
	for _, u := range out.Users {
		name := aws.ToString(u.UserName)
		left = append(left, name)
		s := f.userState(t, name)
		if s.tags[TagLeaseID] == "" || s.tags[TagRole] != role.Name {
			f.leak(t, "left-over IAM user %s lacks the lease tags: %v", name, s.tags)
		}
		if _, err := time.Parse(time.RFC3339, s.tags[TagExpiresAt]); err != nil {
			f.leak(t, "left-over IAM user %s has no readable expiry tag: %v", name, s.tags)
		}
		// The strong form: no key at all, not even one whose secret nobody got.
		if len(s.keys) > 0 {
			f.leak(t, "left-over IAM user %s has access keys %v", name, s.keys)
		}
	}
	// The sweep, with the clock two minutes past the user's creation and a grace of one: the user is older than the
	// grace, and has no key (and no guard, or a guard already past: a failed revoke moves it to now), so it is a
	// leftover the sweep proves dead.
	f.clock.Set(time.Now().Add(2 * time.Minute))
	rep, err := is.Sweep(ctx, SweepOptions{PathPrefix: role.UserPath, Grace: time.Minute})
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
	var swept []string
	for _, u := range rep.Revoked {
		swept = append(swept, u.UserName)
	}
	if !sameSet(swept, left) {
		f.leak(t, "the sweep removed %v, the failed issue left %v", swept, left)
	}
}

// readGuard reads the date the user's guard enforces, from AWS.
func (f *faultEnv) readGuard(t *testing.T, user string) time.Time {
	t.Helper()
	doc := guardDocumentOf(t, f.iam, user)
	at, err := GuardExpiry(doc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestFault_RevokeAtEveryCall fails every call of a revoke in turn, each way. A revoke that reports success must
// have removed everything; one that fails must leave what a second revoke, without faults, finishes.
func TestFault_RevokeAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()

	clean, is, l := f.cleanLease(t, role)
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	points := faultPoints(f.px.Actions())
	f.assertClean(t, clean)
	t.Logf("revoke fault points (%d): %v", len(points), points)

	exercised := map[string]int{}
	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) { f.revokeFaultCase(t, role, kind, p) })
			exercised[kind.name]++
		}
	}
	f.logExercised(t, "revoke", exercised)
}

// knownDeletes are the revoke calls that remove what the lease recorded: refused, the revoke cannot finish.
var knownDeletes = map[string]string{
	"DeleteAccessKey":     "deleting access key",
	"DeleteUserPolicy":    "deleting inline policy",
	"DetachUserPolicy":    "detaching policy",
	"RemoveUserFromGroup": "removing IAM user",
	"DeleteUser":          "deleting IAM user",
	// Only with extras (a console password added out of band).
	"DeleteLoginProfile": "deleting the console password",
}

func (f *faultEnv) revokeFaultCase(t *testing.T, role Role, kind faultKind, p faultPoint) {
	role = f.faultCase(t, role)
	is, l := f.proxiedLease(t, role, kind.attempts)
	before := *l
	if f.extras != nil {
		f.extras(t, l.UserName)
	}
	f.px.Reset()
	f.px.Add(kind.rules(p)...)
	err := is.Revoke(testCtx(t), l)
	fired := f.fired()
	f.px.Reset()
	if !fired {
		t.Fatalf("the fault at %s never fired", p)
	}
	if !leaseEqual(&before, l) {
		t.Errorf("Revoke changed the lease: %+v, was %+v", l, before)
	}

	phrase, known := knownDeletes[p.action]
	if !known {
		phrase, known = guardKeepers[p.action]
	}
	switch {
	case err == nil:
		if kind == deniedOnce && known {
			t.Errorf("Revoke succeeded although %s was refused", p)
		}
		// A revoke that says it is done is done: the caller forgets the lease now.
		f.assertClean(t, role)
		return
	case kind == deniedOnce && !known && f.extras == nil:
		// With extras, a refused listing hides something DeleteUser then refuses to delete the user with: failing
		// is right, and the second revoke below must finish.
		t.Errorf("a refused listing failed a revoke that DeleteUser could finish: %v", err)
	case kind == deniedOnce:
		mustContain(t, err.Error(), "revoking lease "+l.ID+": ", phrase, "AccessDenied")
	}
	t.Log(err)
	f.assertNoKeyWithoutGuard(t, l.UserName)
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Errorf("the second revoke, without faults: %v", err)
	}
	f.assertClean(t, role)
}

// guardKeepers are the revoke calls whose refusal must stop the revoke with the guard still on: what they did not
// show may be a working credential (a listing of credentials), or the user may not be the lease's (GetUser).
var guardKeepers = map[string]string{
	"GetUser":                 "to prove it is the lease's",
	"ListAccessKeys":          "listing the access keys",
	"GetLoginProfile":         "listing the console password",
	"ListSSHPublicKeys":       "listing the SSH public keys",
	"ListSigningCertificates": "listing the signing certificates",
}

// assertNoKeyWithoutGuard checks what a revoke that stopped left: a user that still holds an access key still holds
// its guard (trust invariant 1), dated no later than its lease.
func (f *faultEnv) assertNoKeyWithoutGuard(t *testing.T, user string) {
	t.Helper()
	ctx := testCtx(t)
	keys, err := f.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if IsNoSuchEntity(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) == 0 {
		return
	}
	if _, err := f.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(GuardPolicyName)}); err != nil {
		f.leak(t, "a failed revoke left IAM user %s with %d access key(s) and no expiry guard: %v", user, len(keys.AccessKeyMetadata), err)
	}
}

func leaseEqual(a, b *Lease) bool {
	x, _ := a.Marshal()
	y, _ := b.Marshal()
	return string(x) == string(y)
}

// TestFault_RenewAtEveryCall fails each call of a renewal, each way, and a renewal canceled while its guard write
// is in flight. Whatever Renew returns, the lease must say the date the guard in AWS enforces: a lease that claims
// less than the guard allows keeps a key alive past its recorded expiry, one that claims more is denied early.
func TestFault_RenewAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()

	clean, is, l := f.cleanLease(t, role)
	f.clock.Advance(30 * time.Minute)
	if err := is.Renew(testCtx(t), l, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	points := faultPoints(f.px.Actions())
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	f.assertClean(t, clean)
	t.Logf("renew fault points (%d): %v", len(points), points)

	exercised := map[string]int{}
	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) {
				f.renewFaultCase(t, role, kind, p, func(ctx context.Context, l *Lease) error {
					return f.proxied(kind.attempts).Renew(ctx, l, 2*time.Hour)
				})
			})
			exercised[kind.name]++
		}
	}
	// Canceled mid-write (Terraform interrupted during refresh): the proxy holds the guard write until the caller
	// gives up, so it never reaches AWS; Renew must still leave the lease at the date AWS holds.
	hold := faultKind{name: "Canceled", kind: faultproxy.Hold, attempts: providerRetries}
	guardWrite := faultPoint{"PutUserPolicy", 1}
	t.Run("Canceled/"+guardWrite.String(), func(t *testing.T) {
		f.renewFaultCase(t, role, hold, guardWrite, func(ctx context.Context, l *Lease) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				for f.px.Holding("PutUserPolicy") == 0 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			err := f.proxied(hold.attempts).Renew(ctx, l, 2*time.Hour)
			for f.px.Holding("PutUserPolicy") > 0 { // released only once the proxy saw the client go
				time.Sleep(time.Millisecond)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Renew on a canceled context: err = %v, want context.Canceled", err)
			}
			return err
		})
	})
	exercised[hold.name]++
	f.logExercised(t, "renew", exercised)
}

func (f *faultEnv) renewFaultCase(t *testing.T, role Role, kind faultKind, p faultPoint, renew func(context.Context, *Lease) error) {
	role = f.faultCase(t, role)
	is, l := f.proxiedLease(t, role, noRetries)
	before := *l
	f.clock.Advance(30 * time.Minute)
	want := f.clock.Now().Add(2 * time.Hour)
	f.px.Reset()
	if kind.kind == faultproxy.Hold {
		// The proxy's Release closes its hold channel for good, and Reset calls Release: after the first Reset
		// nothing is held any more. A proxy of its own for this case, until that is fixed in faultproxy.
		shared := f.px
		px, err := faultproxy.Start(f.server.URL)
		if err != nil {
			t.Fatal(err)
		}
		f.px = px
		defer func() { px.Close(); f.px = shared }()
	}
	f.px.Add(kind.rules(p)...)
	err := renew(testCtx(t), l)
	fired := f.fired()
	f.px.Reset()
	if !fired {
		t.Fatalf("the fault at %s never fired", p)
	}

	guard := f.readGuard(t, l.UserName)
	tag, _ := time.Parse(time.RFC3339, f.userState(t, l.UserName).tags[TagExpiresAt])
	t.Logf("err=%v; lease %s, guard %s, tag %s", err, l.ExpiresAt.Format(time.RFC3339), guard.Format(time.RFC3339), tag.Format(time.RFC3339))
	if !guard.Equal(l.ExpiresAt) {
		f.leak(t, "half-renewed: the lease expires %s, the guard in AWS enforces %s (Renew returned %v)", l.ExpiresAt, guard, err)
	}
	// The sweep trusts the tag: it must never say less than the lease, or a sweep removes a valid lease's user.
	if tag.Before(l.ExpiresAt) {
		t.Errorf("expiry tag %s is earlier than the lease's expiry %s", tag, l.ExpiresAt)
	}
	if err == nil {
		if kind.attempts == noRetries && kind.kind == faultproxy.Error {
			t.Errorf("Renew succeeded although %s was refused", p)
		}
		if !l.ExpiresAt.Equal(want) || l.TTL != 2*time.Hour {
			t.Errorf("Renew succeeded, lease expires %s ttl %s, want %s 2h", l.ExpiresAt, l.TTL, want)
		}
	} else {
		mustContain(t, err.Error(), "renewing lease "+l.ID+": ")
		if !l.ExpiresAt.Equal(before.ExpiresAt) || l.TTL != before.TTL {
			t.Errorf("Renew failed but moved the lease to %s", l.ExpiresAt)
		}
	}
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Errorf("revoking: %v", err)
	}
	f.assertClean(t, role)
}

// TestFault_RenewSaysSoWhenTheGuardCannotBeReadBack: the guard write is cut and reading it back is refused too. Then
// nobody knows which date the guard enforces, and Renew must say so: the lease keeps the earlier date (it never
// claims more than the guard may allow), the tag has the later one (the sweep never removes the user early), and
// the error names both, so that the next renewal, which rewrites the guard, settles it.
func TestFault_RenewSaysSoWhenTheGuardCannotBeReadBack(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultCase(t, f.faultRole())
	is, l := f.proxiedLease(t, role, noRetries)
	before := *l
	f.clock.Advance(30 * time.Minute)
	want := f.clock.Now().Add(time.Hour)
	f.px.Reset()
	f.px.Add(faultproxy.Rule{Action: "PutUserPolicy", Call: 1, Kind: faultproxy.Cut},
		faultproxy.Rule{Action: "GetUserPolicy", Call: 1, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	err := is.Renew(testCtx(t), l, time.Hour)
	f.px.Reset()
	if err == nil {
		t.Fatal("Renew succeeded without knowing the guard's date")
	}
	t.Log(err)
	mustContain(t, err.Error(), "moving the expiry guard", "reading the guard back failed too",
		formatExpiry(before.ExpiresAt), formatExpiry(want), "AccessDenied")
	if !l.ExpiresAt.Equal(before.ExpiresAt) {
		t.Errorf("lease moved to %s", l.ExpiresAt)
	}
	if tag := f.userState(t, l.UserName).tags[TagExpiresAt]; tag != formatExpiry(want) {
		t.Errorf("expiry tag %s, want the later date %s", tag, formatExpiry(want))
	}
	// The next renewal settles it.
	if err := is.Renew(testCtx(t), l, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := f.readGuard(t, l.UserName); !got.Equal(l.ExpiresAt) || !got.Equal(want) {
		t.Errorf("after the next renewal: guard %s, lease %s, want %s", got, l.ExpiresAt, want)
	}
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	f.assertClean(t, role)
}

// TestFault_IssueRefusedCreateUserLeavesNamesakeAlone: a username template that renders a fixed name, a user of
// that name that is not ours, and a CreateUser that AWS refuses. Rolling back must not delete the namesake: its
// name is all it shares with the attempt.
func TestFault_IssueRefusedCreateUserLeavesNamesakeAlone(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()
	role = f.faultCase(t, role, faultproxy.Rule{Action: "CreateUser", Call: 1, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	namer, err := NewNamer("ci-deployer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.iam.CreateUser(testCtx(t), &iam.CreateUserInput{UserName: aws.String("ci-deployer"), Path: aws.String(role.UserPath)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.iam.CreateAccessKey(testCtx(t), &iam.CreateAccessKeyInput{UserName: aws.String("ci-deployer")}); err != nil {
		t.Fatal(err)
	}
	is := f.proxied(noRetries)
	is.names = namer
	_, _, err = is.Issue(testCtx(t), role, Request{})
	if err == nil {
		t.Fatal("Issue succeeded although CreateUser was refused")
	}
	t.Log(err)
	mustContain(t, err.Error(), `creating IAM user "ci-deployer"`, "AccessDenied", "rollback complete")
	s := f.userState(t, "ci-deployer") // fails the test if the user is gone
	if len(s.keys) != 1 {
		t.Errorf("the namesake's access keys are %v, want its one key untouched", s.keys)
	}
	for _, a := range f.px.Actions() {
		if strings.HasPrefix(a, "Delete") || strings.HasPrefix(a, "Remove") || strings.HasPrefix(a, "Detach") {
			t.Errorf("rolling back a refused CreateUser called %s on a user it did not create: %v", a, f.px.Actions())
		}
	}
}

// attemptLog records, per SDK operation call, how many attempts the retryer made and how it ended.
type attemptLog struct {
	mu    sync.Mutex
	calls []loggedCall
}

type loggedCall struct {
	op       string
	attempts int
	err      error
}

// option is an APIOptions entry: outermost in the stack, it sees the retry middleware's attempt results.
func (a *attemptLog) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("faultTestAttemptLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			attempts := 0
			if r, ok := retry.GetAttemptResults(md); ok {
				attempts = len(r.Results)
			}
			a.mu.Lock()
			a.calls = append(a.calls, loggedCall{awsmiddleware.GetOperationName(ctx), attempts, err})
			a.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}

// TestThrottling_IssueAndRevokeSurvive30Percent throttles 30% of all calls, the propagation check's included, and
// issues and revokes leases with the provider's retry settings: every call must get through within the bounded
// attempts. 20 leases rather than 10: the proxy's random numbers are seeded, and over the ~340 calls of 10 leases
// they throttle only 23%; over ~700 calls, 28-30%.
func TestThrottling_IssueAndRevokeSurvive30Percent(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()
	role = f.faultCase(t, role, faultproxy.Rule{Probability: 0.3, Kind: faultproxy.Error, Fault: faultproxy.Throttling})
	f.lenient = true // every call moto sees must be one the proxy let through
	f.fillGaps = true
	log := &attemptLog{}
	is := f.proxied(awsconfig.ThrottleMaxAttempts, log.option) // the provider's retryer tries throttled calls this often

	const leases = 20
	for n := range leases {
		l, _, err := is.Issue(testCtx(t), role, Request{WaitForPropagation: true, DisplayName: fmt.Sprint(n)})
		if err != nil {
			t.Fatalf("issue %d: %v", n, err)
		}
		if err := is.Revoke(testCtx(t), l); err != nil {
			t.Fatalf("revoke %d: %v", n, err)
		}
	}

	calls := f.px.Calls()
	throttled := map[string]int{}
	sent := map[string]int{}
	for _, c := range calls {
		sent[c.Action]++
		if c.Faulted {
			throttled[c.Action]++
		}
	}
	reached := actionCounts(f.recorded(t))
	maxAttempts, attempts, retried := 0, 0, 0
	for _, c := range log.calls {
		attempts += c.attempts
		if c.attempts > 1 {
			retried++
		}
		if c.attempts > awsconfig.ThrottleMaxAttempts {
			t.Errorf("%s took %d attempts, more than the %d allowed", c.op, c.attempts, awsconfig.ThrottleMaxAttempts)
		}
		maxAttempts = max(maxAttempts, c.attempts)
		if c.err != nil && !IsNoSuchEntity(c.err) { // NoSuchEntity is an answer: no login profile, say
			t.Errorf("%s failed after %d attempts: %v", c.op, c.attempts, c.err)
		}
	}
	if attempts != len(calls) {
		t.Errorf("the SDK counted %d attempts, the proxy saw %d calls", attempts, len(calls))
	}
	for action, n := range sent {
		if got := reached[action]; got != n-throttled[action] {
			t.Errorf("%s: %d calls sent, %d throttled, but %d reached moto", action, n, throttled[action], got)
		}
	}
	totalThrottled := 0
	for _, n := range throttled {
		totalThrottled += n
	}
	t.Logf("throttling 30%%: %d leases issued and revoked; %d of %d calls throttled (%.0f%%), %d of %d SDK calls retried, "+
		"max attempts of a call that succeeded %d (bound %d); throttled per action %v",
		leases, totalThrottled, len(calls), 100*float64(totalThrottled)/float64(len(calls)), retried, len(log.calls),
		maxAttempts, awsconfig.ThrottleMaxAttempts, throttled)
	if totalThrottled*4 < len(calls) {
		t.Errorf("only %d of %d calls were throttled, under 25%%", totalThrottled, len(calls))
	}
	if users := f.usersUnder(role.UserPath); len(users) != 0 {
		t.Errorf("users left: %v", users)
	}
	if left := unremoved(f.recorded(t)); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if keys := slices.Sorted(maps.Keys(throttled)); len(keys) < 10 {
		t.Errorf("only %v were throttled; want every kind of call of issue and revoke", keys)
	}
}
