package lease

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// The guard proof. AWS kills a lease's key at expiry because of one statement: Deny "*" on "*" when aws:CurrentTime
// is after the expiry. Two things make that true, and they are proven separately:
//
//   - the date logic: moto does not evaluate conditions (see internal/acctest/moto/README.md), so a small evaluator of the IAM rules the guard
//     relies on judges the documents, the very documents read back from AWS after issue and after renew;
//   - the enforcement: with moto's authorization on, the guard's explicit Deny refuses a request the user's own
//     policy allows, and removing the guard lets it through.

// policyRequest is what the evaluator judges: one action on one resource at one time, with the request context
// keys of where it came from (aws:SourceIp, aws:SourceVpc, aws:SourceVpce, aws:ViaAWSService); a key not in
// context is absent from the request, as aws:SourceVpc is for a request over the internet.
type policyRequest struct {
	action, resource string
	at               time.Time
	context          map[string]string
}

// conditionHolds applies one condition operator to one key, by IAM's rules: the values of a key are ORed (for a
// negated operator, the request's value must match none of them); a key absent from the request makes a positive
// operator false and a negated one (NotIpAddress, StringNotEquals) true; ...IfExists makes an absent key true.
func conditionHolds(op, key string, values []string, req policyRequest) (bool, error) {
	base, ifExists := strings.CutSuffix(op, "IfExists")
	if strings.EqualFold(key, "aws:CurrentTime") {
		compare, ok := map[string]func(now, v time.Time) bool{
			"DateGreaterThan":       func(now, v time.Time) bool { return now.After(v) },
			"DateGreaterThanEquals": func(now, v time.Time) bool { return !now.Before(v) },
			"DateLessThan":          func(now, v time.Time) bool { return now.Before(v) },
			"DateLessThanEquals":    func(now, v time.Time) bool { return !now.After(v) },
		}[op]
		if !ok {
			return false, fmt.Errorf("condition operator %s on aws:CurrentTime is beyond this evaluator", op)
		}
		holds := false
		for _, v := range values {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return false, fmt.Errorf("%s %s: %w", op, key, err)
			}
			holds = holds || compare(req.at, at)
		}
		return holds, nil
	}
	var match func(got, v string) (bool, error)
	negated := false
	switch {
	case (base == "IpAddress" || base == "NotIpAddress") && strings.EqualFold(key, "aws:SourceIp"):
		negated = base == "NotIpAddress"
		match = func(got, v string) (bool, error) {
			ip, err := netip.ParseAddr(got)
			if err != nil {
				return false, err
			}
			pfx, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return false, err
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			return pfx.Contains(ip), nil
		}
	case (base == "StringEquals" || base == "StringNotEquals") && (strings.EqualFold(key, "aws:SourceVpc") || strings.EqualFold(key, "aws:SourceVpce")):
		negated = base == "StringNotEquals"
		match = func(got, v string) (bool, error) { return got == v, nil }
	case base == "Bool" && strings.EqualFold(key, "aws:ViaAWSService"):
		match = func(got, v string) (bool, error) { return strings.EqualFold(got, v), nil }
	default:
		return false, fmt.Errorf("condition %s on %s is beyond this evaluator", op, key)
	}
	got, present := req.context[key]
	if !present {
		return ifExists || negated, nil
	}
	any := false
	for _, v := range values {
		m, err := match(got, v)
		if err != nil {
			return false, fmt.Errorf("%s %s: %w", op, key, err)
		}
		any = any || m
	}
	return any != negated, nil
}

// explicitlyDenied reports whether a Deny statement of an identity policy applies to req, by IAM's rules for what
// the guard uses: Action and Resource with IAM's wildcards (actions case-insensitive), and the Date condition
// operators on aws:CurrentTime, values of one key ORed, keys and operators ANDed. Whatever else a document holds
// is an error, never a guess.
func explicitlyDenied(doc string, req policyRequest) (bool, error) {
	var p struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false, err
	}
	if p.Version != "2012-10-17" {
		return false, fmt.Errorf("policy version %q: without 2012-10-17, IAM does not evaluate policy variables and dates alike", p.Version)
	}
	var statements []map[string]json.RawMessage
	if raw := bytes.TrimSpace(p.Statement); len(raw) > 0 && raw[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return false, err
		}
		statements = append(statements, one)
	} else if err := json.Unmarshal(raw, &statements); err != nil {
		return false, err
	}
	for n, st := range statements {
		applies, effect, err := statementApplies(st, req)
		if err != nil {
			return false, fmt.Errorf("statement %d: %w", n, err)
		}
		if applies && effect == "Deny" {
			return true, nil
		}
	}
	return false, nil
}

func statementApplies(st map[string]json.RawMessage, req policyRequest) (bool, string, error) {
	for k := range st {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "Condition":
		default:
			return false, "", fmt.Errorf("element %s is beyond this evaluator", k)
		}
	}
	var effect string
	if err := json.Unmarshal(st["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
		return false, "", fmt.Errorf("effect %s", st["Effect"])
	}
	if (st["Action"] == nil) == (st["NotAction"] == nil) {
		return false, "", errors.New("a statement needs exactly one of Action and NotAction")
	}
	actionKey, wantMatch := "Action", true
	if st["NotAction"] != nil {
		actionKey, wantMatch = "NotAction", false // the statement applies to every action the list does not match
	}
	actions, err := stringOrList(st[actionKey])
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", actionKey, err)
	}
	resources, err := stringOrList(st["Resource"])
	if err != nil {
		return false, "", fmt.Errorf("resource: %w", err)
	}
	if anyMatches(actions, req.action, true) != wantMatch || !anyMatches(resources, req.resource, false) {
		return false, effect, nil
	}
	if st["Condition"] == nil {
		return true, effect, nil
	}
	var cond map[string]map[string]json.RawMessage
	if err := json.Unmarshal(st["Condition"], &cond); err != nil {
		return false, "", fmt.Errorf("condition: %w", err)
	}
	for op, keys := range cond {
		for key, raw := range keys {
			values, err := stringOrList(raw)
			if err != nil {
				return false, "", fmt.Errorf("%s %s: %w", op, key, err)
			}
			holds, err := conditionHolds(op, key, values, req)
			if err != nil {
				return false, "", err
			}
			if !holds {
				return false, effect, nil
			}
		}
	}
	return true, effect, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("want a string or a list of strings, got %s", raw)
	}
	return list, nil
}

// anyMatches applies IAM's wildcards: * any run of characters, ? any one.
func anyMatches(patterns []string, s string, foldCase bool) bool {
	for _, p := range patterns {
		re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
		if foldCase {
			re = "(?i)" + re
		}
		if regexp.MustCompile(re).MatchString(s) {
			return true
		}
	}
	return false
}

// TestGuardProof_EvaluatorKnowsTheRules checks the evaluator on its own, so that its verdicts on the guard mean
// something: a condition that does not hold lifts the Deny, wildcards and case work as IAM's do, and what it does
// not understand is an error.
func TestGuardProof_EvaluatorKnowsTheRules(t *testing.T) {
	cutoff := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["iam:Get*","s3:?utObject"],
		"Resource":"arn:aws:s3:::bucket/*","Condition":{"DateLessThan":{"aws:CurrentTime":["2020-01-01T00:00:00Z","2030-06-01T12:00:00Z"]}}}}`
	for _, tc := range []struct {
		action, resource string
		at               time.Time
		want             bool
	}{
		{"iam:GetUser", "arn:aws:s3:::bucket/key", cutoff.Add(-time.Second), true},
		{"IAM:getuser", "arn:aws:s3:::bucket/key", cutoff.Add(-time.Second), true}, // actions ignore case
		{"s3:PutObject", "arn:aws:s3:::bucket/a/b", cutoff.Add(-time.Hour), true},
		{"iam:GetUser", "arn:aws:s3:::bucket/key", cutoff, false},                  // DateLessThan is strict
		{"iam:GetUser", "arn:aws:s3:::bucket/key", cutoff.Add(time.Second), false}, // the condition lifts the Deny
		{"iam:ListUsers", "arn:aws:s3:::bucket/key", cutoff.Add(-time.Hour), false},
		{"s3:PutObjects", "arn:aws:s3:::bucket/key", cutoff.Add(-time.Hour), false},
		{"iam:GetUser", "arn:aws:s3:::BUCKET/key", cutoff.Add(-time.Hour), false}, // resources do not
		{"iam:GetUser", "arn:aws:s3:::other/key", cutoff.Add(-time.Hour), false},
	} {
		got, err := explicitlyDenied(doc, policyRequest{action: tc.action, resource: tc.resource, at: tc.at})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s on %s at %s: denied = %v, want %v", tc.action, tc.resource, tc.at.Format(time.RFC3339), got, tc.want)
		}
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if denied, err := explicitlyDenied(allow, policyRequest{action: "s3:GetObject", resource: "*", at: cutoff}); err != nil || denied {
		t.Errorf("an Allow denied: %v %v", denied, err)
	}
	guard := GuardDocument(cutoff, testUserARN)
	for name, bad := range map[string]string{
		"Action and NotAction": strings.Replace(guard, `"Action":"*"`, `"Action":"*","NotAction":"s3:*"`, 1),
		"other operator":       strings.Replace(guard, "DateGreaterThan", "DateEquals", 1),
		"other key":            strings.Replace(guard, "aws:CurrentTime", "aws:EpochTime", 1),
		"unparsable date":      strings.Replace(guard, "2030-06-01T12:00:00Z", "June 2030", 1),
		"missing version":      strings.Replace(guard, `"Version":"2012-10-17",`, "", 1),
		"numbers as dates":     strings.Replace(guard, `"2030-06-01T12:00:00Z"`, "1906012000", 1),
	} {
		if _, err := explicitlyDenied(bad, policyRequest{action: "s3:GetObject", resource: "*", at: cutoff}); err == nil {
			t.Errorf("%s: the evaluator judged a document it does not understand", name)
		}
	}
}

// guardRequests are requests the guard must refuse after expiry and allow before: a spread of services, actions
// and resources. (sts:GetCallerIdentity is not among them: AWS answers it whatever a policy says, which is why the
// propagation check needs no permission.)
var guardRequests = []policyRequest{
	{action: "s3:GetObject", resource: "arn:aws:s3:::bucket/key"},
	{action: "iam:CreateUser", resource: "arn:aws:iam::123456789012:user/x"},
	{action: "iam:CreateAccessKey", resource: "*"},
	{action: "ec2:TerminateInstances", resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-1"},
	{action: "sqs:SendMessage", resource: "*"},
	{action: "sts:AssumeRole", resource: "arn:aws:iam::123456789012:role/admin"},
}

// assertGuardCutsAt evaluates a guard document at times around expiry for every guardRequest.
func assertGuardCutsAt(t *testing.T, doc string, expiry time.Time) {
	t.Helper()
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{expiry.Add(-24 * time.Hour), false},
		{expiry.Add(-time.Second), false},
		{expiry, false}, // DateGreaterThan: the last second of the lease still works
		{expiry.Add(time.Second), true},
		{expiry.Add(365 * 24 * time.Hour), true},
	} {
		for _, req := range guardRequests {
			req.at = tc.at
			got, err := explicitlyDenied(doc, req)
			if err != nil {
				t.Fatalf("evaluating the guard: %v\n%s", err, doc)
			}
			if got != tc.want {
				t.Errorf("%s on %s at expiry%+v: denied = %v, want %v", req.action, req.resource, tc.at.Sub(expiry), got, tc.want)
			}
		}
	}
}

func TestGuardProof_DeniesEverythingAfterExpiryOnly(t *testing.T) {
	for _, expiry := range []time.Time{
		time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2031, 2, 3, 4, 5, 6, 0, time.FixedZone("CET", 3600)), // the guard writes UTC
		time.Now().Add(time.Hour).Truncate(time.Second),
	} {
		assertGuardCutsAt(t, GuardDocument(expiry, testUserARN), expiry)
	}
}

// TestGuardProof_IssuedAndRenewedGuardsFromAWS evaluates the guard documents AWS holds, as IAM returns them, for an
// issued lease, the same lease renewed, and a lease whose expiry is already past.
func TestGuardProof_IssuedAndRenewedGuardsFromAWS(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	role := Role{Name: "guarded", CredentialType: IAMUser,
		PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`}
	l, _, err := i.Issue(e.ctx(), role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	issued := guardDocumentOf(t, e.iam, l.UserName)
	t.Logf("guard in AWS after issue: %s", issued)
	assertGuardCutsAt(t, issued, l.ExpiresAt)
	if denied, _ := explicitlyDenied(issued, policyRequest{action: "s3:GetObject", resource: "*", at: l.IssuedAt}); denied {
		t.Error("the guard denies at issue")
	}

	oldExpiry := l.ExpiresAt
	e.clock.Advance(50 * time.Minute)
	if err := i.Renew(e.ctx(), l, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	renewed := guardDocumentOf(t, e.iam, l.UserName)
	t.Logf("guard in AWS after renew: %s", renewed)
	if !l.ExpiresAt.After(oldExpiry.Add(time.Hour)) {
		t.Fatalf("renewal moved the expiry from %s to %s only", oldExpiry, l.ExpiresAt)
	}
	assertGuardCutsAt(t, renewed, l.ExpiresAt)
	// Where the old guard had cut the key off, the renewed one does not.
	for _, req := range guardRequests {
		req.at = oldExpiry.Add(time.Second)
		if denied, _ := explicitlyDenied(renewed, req); denied {
			t.Errorf("%s just after the old expiry: denied by the renewed guard", req.action)
		}
		if denied, _ := explicitlyDenied(issued, req); !denied {
			t.Errorf("%s just after the old expiry: not denied by the issued guard", req.action)
		}
	}
	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}

	// A lease issued three hours ago with a one-hour TTL, never revoked: the key exists, and its guard already
	// refuses everything now.
	e.clock.Set(time.Now().Add(-3 * time.Hour).Truncate(time.Second))
	past, _, err := i.Issue(e.ctx(), role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	doc := guardDocumentOf(t, e.iam, past.UserName)
	for _, req := range guardRequests {
		req.at = time.Now()
		if denied, err := explicitlyDenied(doc, req); err != nil || !denied {
			t.Errorf("%s now, two hours after the lease expired: denied = %v (%v)", req.action, denied, err)
		}
	}
	if err := i.Revoke(e.ctx(), past); err != nil {
		t.Fatal(err)
	}
}

// TestGuardProof_MotoEnforcesTheDeny shows the guard's Deny enforced by moto's authorization: the lease's own policy
// allows iam:ListUsers, and the key is refused while the guard is on the user and let through once it is removed.
//
// moto ignores Condition blocks (see internal/acctest/moto/README.md), so under its authorization the guard denies from the start, whatever its
// date: that is shown too, with a guard dated a year ahead. What this test proves is that the guard's statement is
// an explicit Deny that IAM-style evaluation enforces over the role's Allow, on every action and resource. When it
// applies (after the date, not before) is what the evaluator proves above, on the documents AWS holds.
func TestGuardProof_MotoEnforcesTheDeny(t *testing.T) {
	e := newMotoEnv(t)
	adminIAM, i := e.adminIssuer()
	role := Role{Name: "guarded", CredentialType: IAMUser,
		PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`}
	l, creds, err := i.Issue(e.ctx(), role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	keyIAM := iam.NewFromConfig(e.cfg, func(o *iam.Options) {
		o.BaseEndpoint = aws.String(e.server.URL)
		o.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
		o.RetryMaxAttempts = 1
	})
	listUsers := func() error {
		_, err := keyIAM.ListUsers(e.ctx(), &iam.ListUsersInput{})
		return err
	}
	listRoles := func() error {
		_, err := keyIAM.ListRoles(e.ctx(), &iam.ListRolesInput{})
		return err
	}
	refused := func(what string, err error) {
		t.Helper()
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
			t.Errorf("%s: err = %v, want HTTP 403", what, err)
		}
	}
	setGuard := func(doc string) {
		t.Helper()
		if _, err := adminIAM.PutUserPolicy(e.ctx(), &iam.PutUserPolicyInput{UserName: aws.String(l.UserName),
			PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}

	// The issued guard, expiring in an hour: moto denies already, as it does not read the date.
	refused("iam:ListUsers with the guard on", listUsers())
	// Authorization is really on: what the role does not allow is refused with or without the guard.
	refused("iam:ListRoles, which the role does not allow", listRoles())

	if _, err := adminIAM.DeleteUserPolicy(e.ctx(), &iam.DeleteUserPolicyInput{UserName: aws.String(l.UserName),
		PolicyName: aws.String(GuardPolicyName)}); err != nil {
		t.Fatal(err)
	}
	if err := listUsers(); err != nil {
		t.Fatalf("iam:ListUsers without the guard: %v; the role's Allow does not work, so the refusals above prove nothing", err)
	}
	refused("iam:ListRoles without the guard", listRoles())

	// A guard a year ahead: AWS would let the request through (the evaluator says so); moto refuses it, because it
	// enforces the Deny and ignores the date.
	ahead := GuardDocument(time.Now().Add(365*24*time.Hour), l.UserARN)
	if denied, err := explicitlyDenied(ahead, policyRequest{action: "iam:ListUsers", resource: "*", at: time.Now()}); err != nil || denied {
		t.Fatalf("the evaluator denies under a guard a year ahead: %v %v", denied, err)
	}
	setGuard(ahead)
	refused("iam:ListUsers under a guard a year ahead (moto ignores its date)", listUsers())
	// And a guard dated in the past, what AWS enforces once the lease expired.
	setGuard(GuardDocument(time.Now().Add(-time.Minute), l.UserARN))
	refused("iam:ListUsers under a guard already past", listUsers())

	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
}

// guardDocumentOf reads a user's guard policy back from AWS, URL-decoded as IAM returns it encoded.
func guardDocumentOf(t *testing.T, c *iam.Client, user string) string {
	t.Helper()
	out, err := c.GetUserPolicy(testCtx(t), &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(GuardPolicyName)})
	if err != nil {
		t.Fatalf("reading the guard of IAM user %s: %v", user, err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatalf("decoding the guard of IAM user %s: %v", user, err)
	}
	return doc
}

const testUserARN = "arn:aws:iam::123456789012:user/awsdynamic/awsdyn-deploy-1700000000-abc"

// selfWrites are requests by which an issued key could change its own user and so outlive its lease: every one is
// authorized against the user's ARN, and the guard must deny each at any time, not only after expiry.
func selfWrites(userARN string) []policyRequest {
	var out []policyRequest
	for _, a := range []string{
		"iam:DeleteUserPolicy", "iam:PutUserPolicy", // the guard itself
		"iam:UntagUser", "iam:TagUser", // the lease tags
		"iam:UpdateUser", "iam:DeleteUser", // rename, delete
		"iam:AttachUserPolicy", "iam:DetachUserPolicy", // managed policies
		"iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
		"iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey",
		"iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:ChangePassword",
		"iam:EnableMFADevice", "iam:DeactivateMFADevice", "iam:ResyncMFADevice",
		"iam:UploadSSHPublicKey", "iam:UpdateSSHPublicKey",
		"iam:UploadSigningCertificate", "iam:UpdateSigningCertificate",
		"iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
	} {
		out = append(out, policyRequest{action: a, resource: userARN})
	}
	// Group membership is authorized against the group: the guard denies it on every group.
	out = append(out,
		policyRequest{action: "iam:AddUserToGroup", resource: "arn:aws:iam::123456789012:group/admins"},
		policyRequest{action: "iam:RemoveUserFromGroup", resource: "arn:aws:iam::123456789012:group/readers"})
	return out
}

// assertGuardProtectsItsUser evaluates a guard before its expiry: the user's writes to itself and to any group
// membership are denied; reads of itself, and writes to another user, are not (the guard must not break a role
// that manages other users).
func assertGuardProtectsItsUser(t *testing.T, doc, userARN string, expiry time.Time) {
	t.Helper()
	before := expiry.Add(-time.Minute)
	for _, req := range selfWrites(userARN) {
		req.at = before
		if denied, err := explicitlyDenied(doc, req); err != nil || !denied {
			t.Errorf("%s on %s before expiry: denied = %v (%v), want denied", req.action, req.resource, denied, err)
		}
	}
	other := userARN + "-someone-else"
	for _, req := range []policyRequest{
		{action: "iam:GetUser", resource: userARN},
		{action: "iam:ListAccessKeys", resource: userARN},
		{action: "iam:GetUserPolicy", resource: userARN},
		{action: "iam:CreateAccessKey", resource: other},
		{action: "iam:PutUserPolicy", resource: other},
		{action: "s3:PutObject", resource: "arn:aws:s3:::bucket/key"},
	} {
		req.at = before
		if denied, err := explicitlyDenied(doc, req); err != nil || denied {
			t.Errorf("%s on %s before expiry: denied = %v (%v), want allowed", req.action, req.resource, denied, err)
		}
	}
}

func TestGuardProof_ProtectsItsOwnUser(t *testing.T) {
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	assertGuardProtectsItsUser(t, GuardDocument(expiry, testUserARN), testUserARN, expiry)
}

// TestGuardProof_IssuedGuardProtectsItsUser judges the guard AWS holds for an issued user, and the one a renewal
// writes, against that user's real ARN.
func TestGuardProof_IssuedGuardProtectsItsUser(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	l, _, err := i.Issue(e.ctx(), Role{Name: "self", CredentialType: IAMUser,
		PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`}, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = i.Revoke(e.ctx(), l) }()
	if !strings.HasSuffix(l.UserARN, ":user"+l.UserPath+l.UserName) {
		t.Fatalf("lease's user ARN %s is not of user %s%s", l.UserARN, l.UserPath, l.UserName)
	}
	doc := guardDocumentOf(t, e.iam, l.UserName)
	assertGuardProtectsItsUser(t, doc, l.UserARN, l.ExpiresAt)
	g, err := ReadGuard(doc)
	if err != nil || g.UserARN != l.UserARN {
		t.Fatalf("ReadGuard = %+v, %v; want user ARN %s", g, err, l.UserARN)
	}
	if got, want := policy.Size(doc), GuardSize("aws", l.UserPath, l.UserName, l.Network); got != want {
		t.Errorf("the guard AWS holds is %d characters, GuardSize says %d: the budget would be wrong", got, want)
	}
}
