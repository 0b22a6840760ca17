package lease

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// The calls that TestFault_IssueAtEveryCall, TestFault_RevokeAtEveryCall and TestFault_RenewAtEveryCall do not reach:
// the deletes of a rollback, the rounds of a revoke that removes what was added to its user out of band, the
// removal of keys whose creation was not answered, and a role update in place. Each is failed at every call in
// turn, with the same machinery and the same promise: AWS holds nothing that no lease accounts for.

// faulted counts the calls the proxy failed so far.
func (f *faultEnv) faulted() int {
	n := 0
	for _, c := range f.px.Calls() {
		if c.Faulted {
			n++
		}
	}
	return n
}

// refuseKey makes an issue fail at its last step, so that it rolls back everything it made.
var refuseKey = faultproxy.Rule{Action: "CreateAccessKey", Call: 1, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied, Times: 1}

// TestFault_RollbackAtEveryCall fails each call of a rollback in turn: an issue refused its access key rolls back
// the user, its guard, document, attachments and group, and that rollback (a revoke) meets the fault. Whatever it
// cannot remove must be reported and be the sweep's to remove: a user with the lease tags and no key.
func TestFault_RollbackAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()

	clean := f.faultCase(t, role, refuseKey)
	_, _, err := f.proxied(noRetries).Issue(testCtx(t), clean, Request{})
	var ie *IssueError
	if !errors.As(err, &ie) || ie.RollbackErr != nil {
		t.Fatalf("the issue refused its key should fail and roll back completely: %v", err)
	}
	actions := f.px.Actions()
	first := slices.Index(actions, "CreateAccessKey")
	if first < 0 {
		t.Fatalf("no CreateAccessKey in %v", actions)
	}
	points := faultPoints(actions)[first+1:]
	f.assertClean(t, clean)
	t.Logf("rollback fault points (%d): %v", len(points), points)
	if !slices.ContainsFunc(points, func(p faultPoint) bool { return p.action == "DeleteUser" }) || len(points) < 8 {
		t.Fatalf("the rollback made calls %v, want the revoke's listings, deletes and DeleteUser", points)
	}

	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) { f.rollbackFaultCase(t, role, kind, p) })
		}
	}
	t.Logf("leaks found: %d", f.leaks)
}

func (f *faultEnv) rollbackFaultCase(t *testing.T, role Role, kind faultKind, p faultPoint) {
	role = f.faultCase(t, role, append([]faultproxy.Rule{refuseKey}, kind.rules(p)...)...)
	is := f.proxied(kind.attempts)
	_, _, err := is.Issue(testCtx(t), role, Request{})
	n := f.faulted()
	f.px.Reset()
	if n < 2 {
		t.Fatalf("the fault at %s never fired", p)
	}
	var ie *IssueError
	if !errors.As(err, &ie) {
		t.Fatalf("err is %T, want *IssueError: %v", err, err)
	}
	mustContain(t, ie.Step, "creating an access key")
	t.Log(err)
	_, deletes := knownDeletes[p.action]
	_, keeps := guardKeepers[p.action]
	if kind == deniedOnce && (deletes || keeps) && ie.RollbackErr == nil {
		t.Errorf("the rollback says it is complete although %s was refused", p)
	}
	if p.action == "GetUser" && ie.RollbackErr != nil {
		f.assertSweptAfterItsGuard(t, role, is, ie)
	} else {
		f.assertRolledBackOrSweepable(t, role, is, ie)
	}
	f.assertClean(t, role)
}

// assertSweptAfterItsGuard checks a rollback that could not read the user back: unable to prove the user is this
// attempt's (trust invariant 3), it removed nothing, so the user keeps its guard, dated the lease's expiry. It has
// no key (CreateAccessKey was refused), and the sweep, which trusts only the guard, leaves it alone until that date
// and removes it after.
func (f *faultEnv) assertSweptAfterItsGuard(t *testing.T, role Role, is *Issuer, ie *IssueError) {
	t.Helper()
	mustContain(t, ie.Error(), "to prove it is the lease's", fmt.Sprintf("IAM user %q carries lease tags and the sweep removes it", ie.UserName))
	s := f.userState(t, ie.UserName)
	if len(s.keys) > 0 || s.tags[TagLeaseID] == "" {
		f.leak(t, "left-over IAM user %s has keys %v and tags %v", ie.UserName, s.keys, s.tags)
	}
	guard := f.readGuard(t, ie.UserName)
	sweep := func(at time.Time) []string {
		f.clock.Set(at)
		rep, err := is.Sweep(testCtx(t), SweepOptions{PathPrefix: role.UserPath, Grace: time.Minute})
		if err != nil {
			t.Errorf("sweep at %s: %v", at, err)
		}
		var swept []string
		for _, u := range rep.Revoked {
			swept = append(swept, u.UserName)
		}
		return swept
	}
	if swept := sweep(guard.Add(-time.Minute)); len(swept) > 0 {
		t.Errorf("the sweep removed %v before its guard's date %s: it must trust only the guard", swept, guard)
	}
	if swept := sweep(guard.Add(2 * time.Minute)); !slices.Equal(swept, []string{ie.UserName}) {
		f.leak(t, "the sweep after the guard's date %s removed %v, the failed issue left %s", guard, swept, ie.UserName)
	}
}

// TestFault_RevokeExtrasAtEveryCall is TestFault_RevokeAtEveryCall for a user that holds more than its lease made:
// a second access key, a console password, an inline policy, a managed policy and a group membership, all added out
// of band. Revoke removes them too (the credentials first, then the guard, then the user: four rounds), and every
// one of its calls is failed in turn.
func TestFault_RevokeExtrasAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()
	const extraGroup = "fault-extra-group"
	if _, err := f.iam.CreateGroup(testCtx(t), &iam.CreateGroupInput{GroupName: aws.String(extraGroup)}); err != nil {
		t.Fatal(err)
	}
	extraARN := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	if slices.Contains(role.PolicyARNs, extraARN) {
		t.Fatalf("the role already has %s: it would be no extra", extraARN)
	}
	// Straight to moto, not through the proxy: they are not the revoke's calls. moto's recorder sees them, so
	// assertClean holds each to being removed.
	f.extras = func(t *testing.T, user string) {
		ctx, name := testCtx(t), aws.String(user)
		steps := []func() error{
			func() error {
				_, err := f.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
				return err
			},
			func() error {
				_, err := f.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("Extra-Passw0rd!")})
				return err
			},
			func() error {
				_, err := f.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String("extra-inline"),
					PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ListQueues","Resource":"*"}]}`)})
				return err
			},
			func() error {
				_, err := f.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(extraARN)})
				return err
			},
			func() error {
				_, err := f.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(extraGroup)})
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("adding extras to IAM user %s: %v", user, err)
			}
		}
	}
	cleanRole := role
	cleanRole.IAMGroups = append(slices.Clone(role.IAMGroups), extraGroup) // assertClean checks both groups' members

	clean := f.faultCase(t, cleanRole)
	is, l := f.proxiedLease(t, clean, noRetries)
	f.extras(t, l.UserName)
	f.px.Reset()
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	points := faultPoints(f.px.Actions())
	rounds := f.px.RoundTrips()
	f.assertClean(t, clean)
	t.Logf("revoke-with-extras fault points (%d, %d round trips): %v", len(points), rounds, points)
	for _, want := range []string{"DeleteAccessKey#2", "DeleteLoginProfile#1", "DeleteUserPolicy#3", "DetachUserPolicy#3", "RemoveUserFromGroup#2"} {
		if !slices.ContainsFunc(points, func(p faultPoint) bool { return p.String() == want }) {
			t.Errorf("the clean revoke made no %s: the extras were not all removed by calls of their own", want)
		}
	}

	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) { f.revokeFaultCase(t, cleanRole, kind, p) })
		}
	}
	t.Logf("leaks found: %d", f.leaks)
}

// TestFault_LostKeyRemovalAtEveryCall fails the calls that remove a key whose creation was not answered. The first
// CreateAccessKey is cut (moto made the key, the answer never came), the SDK retries and makes a second; the
// engine lists the user's keys and deletes the one no lease names. Each of those calls is failed in turn: the issue
// either ends with exactly the lease's key on the user, or fails and rolls back, keys included.
func TestFault_LostKeyRemovalAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultRole()
	cutKey := faultproxy.Rule{Action: "CreateAccessKey", Call: 1, Kind: faultproxy.Cut, Times: 1}

	clean := f.faultCase(t, role, cutKey)
	is := f.proxied(sdkRetries)
	l, creds, err := is.Issue(testCtx(t), clean, Request{})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.px.Count("CreateAccessKey"); n != 2 {
		t.Fatalf("CreateAccessKey was sent %d times, want the cut attempt and the SDK's retry", n)
	}
	actions := f.px.Actions()
	points := faultPoints(actions)[slices.Index(actions, "CreateAccessKey")+2:]
	f.px.Reset()
	f.assertLeaseIsAll(t, clean, l, creds)
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	f.assertClean(t, clean)
	t.Logf("lost-key removal fault points: %v", points)
	if !slices.Equal(actionsOf(points), []string{"ListAccessKeys", "DeleteAccessKey"}) {
		t.Fatalf("after the retried CreateAccessKey the issue made %v, want ListAccessKeys then DeleteAccessKey", points)
	}

	deniedRetrying := faultKind{name: "AccessDenied", kind: faultproxy.Error, attempts: sdkRetries}
	for _, kind := range []faultKind{deniedRetrying, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) {
				role := f.faultCase(t, role, append([]faultproxy.Rule{cutKey}, kind.rules(p)...)...)
				l, creds, err := is.Issue(testCtx(t), role, Request{})
				n := f.faulted()
				f.px.Reset()
				if n < 2 {
					t.Fatalf("the fault at %s never fired", p)
				}
				if err == nil && kind.kind == faultproxy.Error {
					t.Errorf("Issue succeeded although %s was refused", p)
				}
				// On success, exactly one key: the lease's.
				if ie := f.issueOutcome(t, role, is, l, creds, err); ie != nil {
					mustContain(t, ie.Step, "whose creation was not answered")
					f.assertRolledBackOrSweepable(t, role, is, ie)
				}
				f.assertClean(t, role)
			})
		}
	}
}

func actionsOf(points []faultPoint) []string {
	out := make([]string, len(points))
	for i, p := range points {
		out[i] = p.action
	}
	return out
}

// TestFault_UpdateAtEveryCall fails each call of a role update in place: one policy ARN detached and another
// attached, the document replaced, one group left and another joined, tags set and removed. A failed update reports
// the failure and records in the lease only what succeeded; after a refused call (which changed nothing) the lease
// matches AWS exactly. The update then goes through without faults, and the revoke leaves nothing.
func TestFault_UpdateAtEveryCall(t *testing.T) {
	f := newFaultEnv(t)
	from := f.faultRole()
	const newGroup = "fault-update-group"
	if _, err := f.iam.CreateGroup(testCtx(t), &iam.CreateGroupInput{GroupName: aws.String(newGroup)}); err != nil {
		t.Fatal(err)
	}
	to := from
	to.PolicyARNs = []string{from.PolicyARNs[0], "arn:aws:iam::aws:policy/ReadOnlyAccess"}
	to.PolicyDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"}]}`
	to.IAMGroups = []string{newGroup}
	// team goes (UntagUser), tier comes and env falls back to the issuer's default tag (TagUser).
	to.IAMTags = map[string]string{"tier": "gold"}
	both := from
	both.IAMGroups = []string{from.IAMGroups[0], newGroup} // assertClean checks both groups' members

	// update issues a lease of from and updates it to to with the rules on; it returns both roles as the case used
	// them (under the case's own user path).
	update := func(t *testing.T, kind faultKind, rules []faultproxy.Rule) (is *Issuer, l *Lease, caseRole, a, b Role, err error) {
		t.Helper()
		caseRole = f.faultCase(t, both)
		a, b = from, to
		a.UserPath, b.UserPath = caseRole.UserPath, caseRole.UserPath
		is = f.proxied(kind.attempts)
		if l, _, err = is.Issue(testCtx(t), a, Request{}); err != nil {
			t.Fatal(err)
		}
		f.px.Reset()
		f.px.Add(rules...)
		err = is.Update(testCtx(t), l, a, b)
		return is, l, caseRole, a, b, err
	}

	is, l, caseRole, _, b, err := update(t, deniedOnce, nil)
	if err != nil {
		t.Fatal(err)
	}
	points := faultPoints(f.px.Actions())
	f.px.Reset()
	f.assertLeaseIsAWS(t, l, b)
	if err := is.Revoke(testCtx(t), l); err != nil {
		t.Fatal(err)
	}
	f.assertClean(t, caseRole)
	t.Logf("update fault points (%d): %v", len(points), points)
	for _, want := range []string{"AttachUserPolicy", "DetachUserPolicy", "PutUserPolicy", "AddUserToGroup", "RemoveUserFromGroup", "TagUser", "UntagUser"} {
		if !slices.Contains(actionsOf(points), want) {
			t.Errorf("the clean update made no %s call: %v", want, points)
		}
	}

	for _, kind := range []faultKind{deniedOnce, cutOnce, cutSDKRetried} {
		for _, p := range points {
			t.Run(kind.name+"/"+p.String(), func(t *testing.T) {
				is, l, caseRole, a, b, err := update(t, kind, kind.rules(p))
				fired := f.fired()
				f.px.Reset()
				if !fired {
					t.Fatalf("the fault at %s never fired", p)
				}
				switch {
				case err == nil && kind == deniedOnce:
					t.Errorf("Update succeeded although %s was refused", p)
				case err != nil:
					t.Log(err)
					mustContain(t, err.Error(), "updating lease "+l.ID+" to role ")
					if kind == deniedOnce {
						mustContain(t, err.Error(), "AccessDenied")
						// A refused call changed nothing: what the lease records is what AWS holds.
						f.assertLeaseRecordsAWS(t, l)
					}
					// Applied again, as after a failed apply: from the role the lease was issued for.
					if err := is.Update(testCtx(t), l, a, b); err != nil {
						t.Errorf("the update again, without faults: %v", err)
					}
				}
				f.assertLeaseIsAWS(t, l, b)
				if err := is.Revoke(testCtx(t), l); err != nil {
					t.Errorf("revoking the lease: %v", err)
				}
				f.assertClean(t, caseRole)
			})
		}
	}
	t.Logf("leaks found: %d", f.leaks)
}

// assertLeaseRecordsAWS checks that the lease lists exactly the policies and groups its user has in AWS.
func (f *faultEnv) assertLeaseRecordsAWS(t *testing.T, l *Lease) {
	t.Helper()
	s := f.userState(t, l.UserName)
	if !sameSet(s.attached, l.PolicyARNs) || !sameSet(s.groups, l.Groups) || !sameSet(s.inline, l.InlinePolicies) {
		f.leak(t, "IAM user %s has attached %v, groups %v, inline %v; its lease records %v, %v, %v",
			l.UserName, s.attached, s.groups, s.inline, l.PolicyARNs, l.Groups, l.InlinePolicies)
	}
}

// assertLeaseIsAWS checks that the lease and its user in AWS both are what role asks for: its policy ARNs, groups,
// document and tags (the guard and the key untouched).
func (f *faultEnv) assertLeaseIsAWS(t *testing.T, l *Lease, role Role) {
	t.Helper()
	f.assertLeaseRecordsAWS(t, l)
	s := f.userState(t, l.UserName)
	if !sameSet(l.PolicyARNs, role.PolicyARNs) || !sameSet(l.Groups, role.IAMGroups) {
		t.Errorf("lease has policies %v and groups %v, the role %v and %v", l.PolicyARNs, l.Groups, role.PolicyARNs, role.IAMGroups)
	}
	if !sameSet(s.keys, []string{l.AccessKeyID}) {
		t.Errorf("IAM user %s has keys %v, want the lease's %s", l.UserName, s.keys, l.AccessKeyID)
	}
	doc, err := f.iam.GetUserPolicy(testCtx(t), &iam.GetUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(DocumentPolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := policy.DecodeIAM(aws.ToString(doc.PolicyDocument)); !sameDocument(got, role.PolicyDocument) {
		t.Errorf("the user's document is %s, want the role's %s", got, role.PolicyDocument)
	}
	for k, v := range role.IAMTags {
		if s.tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, s.tags[k], v)
		}
	}
	for k := range s.tags {
		if _, ours := role.IAMTags[k]; !ours && (k == "team" || k == "env" && s.tags[k] != "default") {
			t.Errorf("tag %s = %q is left from the old role", k, s.tags[k])
		}
	}
	if got := f.readGuard(t, l.UserName); !got.Equal(l.ExpiresAt) {
		t.Errorf("guard enforces %s, lease expires %s", got, l.ExpiresAt)
	}
}
