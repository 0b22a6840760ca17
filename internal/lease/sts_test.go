package lease

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

const (
	deployRoleARN = "arn:aws:iam::123456789012:role/deploy"
	otherRoleARN  = "arn:aws:iam::123456789012:role/other"
	sessionDoc    = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"*\"}]\n}"
)

var stsActions = []string{"AssumeRole", "GetFederationToken", "GetSessionToken"}

// createIAMRole arranges the IAM role an assumed_role credential assumes. moto would assume a role that does not
// exist (see internal/acctest/moto/README.md); AWS would not, so the tests assume real ones.
func (e *motoEnv) createIAMRole(name string) string {
	e.t.Helper()
	out, err := e.iam.CreateRole(e.ctx(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`),
	})
	if err != nil {
		e.t.Fatalf("arranging IAM role %s: %v", name, err)
	}
	return aws.ToString(out.Role.Arn)
}

// oneSTSCall returns the single STS request recorded, failing unless there is exactly one.
func oneSTSCall(t *testing.T, reqs []moto.Request) moto.Request {
	t.Helper()
	var found []moto.Request
	for _, r := range reqs {
		if slices.Contains(stsActions, r.Action) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("STS calls = %v, want exactly one", moto.Actions(found))
	}
	return found[0]
}

// formList reads a query-protocol list (PolicyArns.member.N.arn and the like) in order.
func formList(f url.Values, format string) []string {
	var out []string
	for n := 1; f.Has(fmt.Sprintf(format, n)); n++ {
		out = append(out, f.Get(fmt.Sprintf(format, n)))
	}
	return out
}

func formTags(f url.Values) map[string]string {
	out := map[string]string{}
	for n := 1; f.Has(fmt.Sprintf("Tags.member.%d.Key", n)); n++ {
		out[f.Get(fmt.Sprintf("Tags.member.%d.Key", n))] = f.Get(fmt.Sprintf("Tags.member.%d.Value", n))
	}
	return out
}

// expiresAbout checks the lease's expiry against the duration asked for. moto computes Expiration with its own
// clock, the lease takes it from the answer: seconds apart at most.
func expiresAbout(t *testing.T, l *Lease, c Credentials, issued time.Time, ttl time.Duration) {
	t.Helper()
	if l.TTL != ttl {
		t.Errorf("lease TTL = %s, want %s", l.TTL, ttl)
	}
	if d := l.ExpiresAt.Sub(issued.Add(ttl)); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("lease expires at %s, %s off issue time + ttl (%s)", l.ExpiresAt, d, issued.Add(ttl))
	}
	if !l.MaxExpiresAt.Equal(l.ExpiresAt) || !c.Expiration.Equal(l.ExpiresAt) || l.ExpiresAt.Nanosecond() != 0 {
		t.Errorf("max %s, credential expiration %s, lease expiry %s: want the same whole second", l.MaxExpiresAt, c.Expiration, l.ExpiresAt)
	}
	if l.Renewable(issued) {
		t.Error("an STS lease says it is renewable")
	}
	if l.UserName != "" || l.AccessKeyID != "" || len(l.PolicyARNs) != 0 {
		t.Errorf("an STS lease records IAM objects to revoke: %+v", l)
	}
}

// moto answers GetFederationToken and GetSessionToken with fixed example credentials (moto/sts/responses.py): the
// same key ID as the tests' root key (AKIAIOSFODNN7EXAMPLE), so GetCallerIdentity with them says nothing about whose
// they are, but a secret unlike the root's and a session token of each call's own. Finding those in the issued
// credentials shows that they are that call's answer, not the root's keys or another call's.
const (
	motoSTSSecret             = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
	motoFederationTokenPrefix = "AQoDYXdzEPT//////////wEXAMPLE"
	motoSessionTokenPrefix    = "AQoEXAMPLEH4aoAH0gNCAPy"
)

// fromMotoAnswer fails unless c is moto's fixed answer to the call whose session token starts with tokenPrefix. It
// never prints the secret or the token.
func fromMotoAnswer(t *testing.T, c Credentials, call, tokenPrefix string) {
	t.Helper()
	if c.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" || c.SecretAccessKey != motoSTSSecret || !strings.HasPrefix(c.SessionToken, tokenPrefix) {
		t.Errorf("credentials (key %s) are not moto's answer to %s: the key ID, secret or session token differ", c.AccessKeyID, call)
	}
}

// offLocalClock sets the engine's clock 20 minutes behind AWS's (moto's, the real one) and returns AWS's now, so that
// an expiry taken from the local clock instead of STS's answer is 20 minutes off.
func (e *motoEnv) offLocalClock() time.Time {
	now := time.Now().UTC()
	e.clock.Set(now.Add(-20 * time.Minute).Truncate(time.Second))
	return now
}

func (e *motoEnv) whoami(c Credentials) string {
	e.t.Helper()
	out, err := e.newSTS(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)).
		GetCallerIdentity(e.ctx(), &sts.GetCallerIdentityInput{})
	if err != nil {
		e.t.Fatalf("GetCallerIdentity with the issued credentials: %v", err)
	}
	return aws.ToString(out.Arn)
}

func TestIssueSTS_AssumedRoleSendsEverythingAndWorks(t *testing.T) {
	e := newMotoEnv(t)
	arn := e.createIAMRole("deploy")
	managed := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	role := Role{
		Name: "deploy", CredentialType: AssumedRole, RoleARNs: []string{arn, otherRoleARN},
		PolicyDocument: sessionDoc, PolicyARNs: []string{managed, managed},
		SessionTags: map[string]string{"team": "platform", "env": "ci"}, ExternalID: "ext-1234",
		DefaultSTSTTL: 2 * time.Hour, MaxSTSTTL: 6 * time.Hour,
	}
	now := e.offLocalClock()

	e.record()
	l, c, err := e.issuer().Issue(e.ctx(), role, Request{RoleARN: arn, DisplayName: "ci", WaitForPropagation: true})
	reqs := e.recording()
	if err != nil {
		t.Fatal(err)
	}
	call := oneSTSCall(t, reqs)
	if got := moto.Actions(reqs); !slices.Equal(got, []string{"AssumeRole"}) {
		t.Errorf("calls = %v, want only AssumeRole: STS credentials need no IAM call and no propagation wait", got)
	}
	f := call.Form
	session := f.Get("RoleSessionName")
	if !regexp.MustCompile(`^awsdyn-deploy-[A-Za-z0-9]{12}$`).MatchString(session) {
		t.Errorf("RoleSessionName = %q, want the default template's STS name", session)
	}
	want := map[string]string{"RoleArn": arn, "DurationSeconds": "7200", "ExternalId": "ext-1234"}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("AssumeRole %s = %q, want %q", k, f.Get(k), v)
		}
	}
	if norm, _ := policy.Normalize(sessionDoc); f.Get("Policy") != norm {
		t.Errorf("AssumeRole Policy = %q, want the normalized document %q", f.Get("Policy"), norm)
	}
	if got := formList(f, "PolicyArns.member.%d.arn"); !slices.Equal(got, []string{managed}) {
		t.Errorf("AssumeRole PolicyArns = %v, want [%s] once", got, managed)
	}
	if got := formTags(f); len(got) != 2 || got["team"] != "platform" || got["env"] != "ci" {
		t.Errorf("AssumeRole Tags = %v", got)
	}

	wantARN := "arn:aws:sts::123456789012:assumed-role/deploy/" + session
	if l.Kind != AssumedRole || l.Role != "deploy" || l.AssumedRoleARN != wantARN || l.FederatedUserARN != "" {
		t.Errorf("lease = %+v, want assumed-role ARN %s", l, wantARN)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Errorf("credentials %v lack a part", c)
	}
	expiresAbout(t, l, c, now, 2*time.Hour)
	// moto issues AssumeRole's keys as AWS does, with the temporary-key prefix ASIA (the root key is AKIA...).
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") {
		t.Errorf("access key ID %s: want a temporary key (ASIA...)", c.AccessKeyID)
	}
	// moto knows AssumeRole's keys: GetCallerIdentity with them answers the session's ARN, while a key it does not
	// know gets a default identity. So this shows the credentials are the session's.
	if who := e.whoami(c); who != wantARN {
		t.Errorf("the credentials authenticate as %s, want %s", who, wantARN)
	}

	// Revoke is a no-op: AWS cannot revoke one STS session.
	e.record()
	if err := e.issuer().Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
	if got := e.recording(); len(got) != 0 {
		t.Errorf("revoking an STS lease called %v", moto.Actions(got))
	}
}

func TestIssueSTS_AssumedRoleSessionNameAndSingleARN(t *testing.T) {
	e := newMotoEnv(t)
	arn := e.createIAMRole("deploy")
	role := Role{Name: "deploy", CredentialType: AssumedRole, RoleARNs: []string{arn}}
	e.record()
	l, _, err := e.issuer().Issue(e.ctx(), role, Request{RoleSessionName: "pipeline-42@main", TTL: 20 * time.Minute})
	f := oneSTSCall(t, e.recording()).Form
	if err != nil {
		t.Fatal(err)
	}
	if f.Get("RoleArn") != arn || f.Get("RoleSessionName") != "pipeline-42@main" || f.Get("DurationSeconds") != "1200" {
		t.Errorf("AssumeRole got RoleArn=%q RoleSessionName=%q DurationSeconds=%q", f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("DurationSeconds"))
	}
	for _, absent := range []string{"Policy", "ExternalId", "PolicyArns.member.1.arn", "Tags.member.1.Key"} {
		if f.Has(absent) {
			t.Errorf("AssumeRole sent %s = %q for a role without it", absent, f.Get(absent))
		}
	}
	if !strings.HasSuffix(l.AssumedRoleARN, "/deploy/pipeline-42@main") {
		t.Errorf("assumed-role ARN %s", l.AssumedRoleARN)
	}
}

func TestIssueSTS_FederationTokenMergesGroupPolicies(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	groupDoc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/<x>&*"}}`
	managed, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("group-managed"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"readers", "empty"} {
		if _, err := e.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.iam.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(groupDoc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.iam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: managed.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	role := Role{
		Name: "fed", CredentialType: FederationToken, PolicyDocument: sessionDoc,
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, IAMGroups: []string{"readers", "empty"},
		SessionTags: map[string]string{"team": "data"},
	}
	now := e.offLocalClock()

	e.record()
	l, c, err := e.issuer().Issue(e.ctx(), role, Request{RoleSessionName: "ci-fed"})
	reqs := e.recording()
	if err != nil {
		t.Fatal(err)
	}
	counts := actionCounts(reqs)
	if counts["ListAttachedGroupPolicies"] != 2 || counts["ListGroupPolicies"] != 2 || counts["GetGroupPolicy"] != 1 {
		t.Errorf("group reads = %v, want both groups listed and the one inline policy read", counts)
	}
	call := oneSTSCall(t, reqs)
	if call.Action != "GetFederationToken" || indexOf(reqs, "GetFederationToken") != len(reqs)-1 {
		t.Errorf("calls = %v, want GetFederationToken last", moto.Actions(reqs))
	}
	f := call.Form
	if f.Get("Name") != "ci-fed" || f.Get("DurationSeconds") != "3600" {
		t.Errorf("GetFederationToken Name=%q DurationSeconds=%q, want ci-fed and Vault's default 3600", f.Get("Name"), f.Get("DurationSeconds"))
	}
	// Vault's merge: the groups' statements first, then the role's, in one document.
	wantDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/<x>&*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
	if f.Get("Policy") != wantDoc {
		t.Errorf("GetFederationToken Policy =\n%s\nwant\n%s", f.Get("Policy"), wantDoc)
	}
	wantARNs := []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", aws.ToString(managed.Policy.Arn)}
	if got := formList(f, "PolicyArns.member.%d.arn"); !slices.Equal(got, wantARNs) {
		t.Errorf("GetFederationToken PolicyArns = %v, want %v", got, wantARNs)
	}
	if got := formTags(f); len(got) != 1 || got["team"] != "data" {
		t.Errorf("GetFederationToken Tags = %v", got)
	}

	if l.Kind != FederationToken || l.FederatedUserARN != "arn:aws:sts::123456789012:federated-user/ci-fed" || l.AssumedRoleARN != "" {
		t.Errorf("lease = %+v", l)
	}
	if c.SessionToken == "" {
		t.Error("no session token")
	}
	expiresAbout(t, l, c, now, time.Hour)
	// GetCallerIdentity cannot tell whose these are (see internal/acctest/moto/README.md): compare with the answer.
	fromMotoAnswer(t, c, "GetFederationToken", motoFederationTokenPrefix)
}

func TestIssueSTS_FederationTokenDefaultNameAndGroupErrors(t *testing.T) {
	e := newMotoEnv(t)
	role := Role{Name: "a-rather-long-role-name", CredentialType: FederationToken, IAMGroups: []string{"missing"}}

	e.record()
	_, _, err := e.issuer().Issue(e.ctx(), role, Request{})
	reqs := e.recording()
	if err == nil {
		t.Fatal("issued from a missing group")
	}
	mustContain(t, err.Error(), `IAM group "missing": the group does not exist`, "iam_groups", "NoSuchEntity")
	if n := len(requestsFor(reqs, "GetFederationToken")); n != 0 {
		t.Errorf("GetFederationToken called %d times after a group read failed", n)
	}

	if _, err := e.iam.CreateGroup(e.ctx(), &iam.CreateGroupInput{GroupName: aws.String("missing")}); err != nil {
		t.Fatal(err)
	}
	e.record()
	_, _, err = e.issuer().Issue(e.ctx(), role, Request{})
	reqs = e.recording()
	if err == nil {
		t.Fatal("issued a federation token with an empty session policy")
	}
	mustContain(t, err.Error(), "the session policy is empty", `iam_groups "missing"`)
	if n := len(requestsFor(reqs, "GetFederationToken")); n != 0 {
		t.Errorf("GetFederationToken called %d times without a policy", n)
	}

	role.IAMGroups, role.PolicyARNs = nil, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
	e.record()
	l, _, err := e.issuer().Issue(e.ctx(), role, Request{})
	f := oneSTSCall(t, e.recording()).Form
	if err != nil {
		t.Fatal(err)
	}
	name := f.Get("Name")
	if len(name) > 32 || !strings.HasPrefix(name, "awsdyn-a-rather-lon-") || ValidateFederatedName(name) != nil {
		t.Errorf("default federated name %q: want the STS template branch, at most 32 characters", name)
	}
	if l.FederatedUserARN != "arn:aws:sts::123456789012:federated-user/"+name {
		t.Errorf("federated user ARN %s for name %s", l.FederatedUserARN, name)
	}
}

func TestIssueSTS_SessionTokenSendsMFA(t *testing.T) {
	e := newMotoEnv(t)
	serial := "arn:aws:iam::123456789012:mfa/ci"
	role := Role{Name: "mfa", CredentialType: SessionToken, MFASerialNumber: serial, DefaultSTSTTL: 8 * time.Hour}
	now := e.offLocalClock()

	e.record()
	l, c, err := e.issuer().Issue(e.ctx(), role, Request{MFACode: "123456"})
	f := oneSTSCall(t, e.recording()).Form
	if err != nil {
		t.Fatal(err)
	}
	if f.Get("DurationSeconds") != "28800" || f.Get("SerialNumber") != serial || f.Get("TokenCode") != "123456" {
		t.Errorf("GetSessionToken DurationSeconds=%q SerialNumber=%q TokenCode=%q", f.Get("DurationSeconds"), f.Get("SerialNumber"), f.Get("TokenCode"))
	}
	if l.Kind != SessionToken || l.AssumedRoleARN != "" || l.FederatedUserARN != "" || c.SessionToken == "" {
		t.Errorf("lease %+v, credentials %v", l, c)
	}
	expiresAbout(t, l, c, now, 8*time.Hour)
	fromMotoAnswer(t, c, "GetSessionToken", motoSessionTokenPrefix)

	// Without a device, no MFA fields; the request's ttl wins over the role's default; max_sts_ttl caps it.
	role = Role{Name: "plain", CredentialType: SessionToken, MaxSTSTTL: 3 * time.Hour}
	e.record()
	_, _, err = e.issuer().Issue(e.ctx(), role, Request{TTL: 30 * time.Hour})
	f = oneSTSCall(t, e.recording()).Form
	if err != nil {
		t.Fatal(err)
	}
	if f.Get("DurationSeconds") != "10800" || f.Has("SerialNumber") || f.Has("TokenCode") {
		t.Errorf("GetSessionToken form %v: want 10800 s (capped at max_sts_ttl) and no MFA", f)
	}
}

// Every combination that issue 4 calls invalid is refused by the engine before any AWS call, whatever the provider
// checked at plan time.
func TestIssueSTS_InvalidCombinationsMakeNoCall(t *testing.T) {
	e := newMotoEnv(t)
	assumed := func(r *Role) { r.CredentialType, r.RoleARNs = AssumedRole, []string{deployRoleARN, otherRoleARN} }
	cases := []struct {
		name   string
		role   func(*Role)
		req    Request
		phrase string
	}{
		{"role_arn not in role_arns", assumed, Request{RoleARN: "arn:aws:iam::123456789012:role/admin"}, `role_arn "arn:aws:iam::123456789012:role/admin" is not one of the role's role_arns: "` + deployRoleARN},
		{"role_arn missing among several", assumed, Request{}, "set role_arn to one of"},
		{"assumed_role without role_arns", func(r *Role) { r.CredentialType = AssumedRole }, Request{}, "needs role_arns"},
		{"session name too long", assumed, Request{RoleARN: deployRoleARN, RoleSessionName: strings.Repeat("s", 65)}, "at most 64 characters"},
		{"federated name too long", func(r *Role) {
			r.CredentialType, r.PolicyARNs = FederationToken, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}
		}, Request{RoleSessionName: strings.Repeat("f", 33)}, "at most 32 characters"},
		{"federation without policy", func(r *Role) { r.CredentialType = FederationToken }, Request{}, "needs policy_arns, policy_document or iam_groups"},
		{"mfa code missing", func(r *Role) {
			r.CredentialType, r.MFASerialNumber = SessionToken, "arn:aws:iam::123456789012:mfa/ci"
		}, Request{}, "set mfa_code"},
		{"mfa code not 6 digits", func(r *Role) {
			r.CredentialType, r.MFASerialNumber = SessionToken, "arn:aws:iam::123456789012:mfa/ci"
		}, Request{MFACode: "12345a"}, "exactly 6 digits"},
		{"mfa code without device", func(r *Role) { r.CredentialType = SessionToken }, Request{MFACode: "123456"}, "no mfa_serial_number"},
		{"role_arn on session_token", func(r *Role) { r.CredentialType = SessionToken }, Request{RoleARN: deployRoleARN}, `role_arn has no meaning for credential_type "session_token"`},
		{"ttl below 15m", assumed, Request{RoleARN: deployRoleARN, TTL: 10 * time.Minute}, "ttl is 10m0s; AWS accepts 15m0s to 12h0m0s"},
		{"ttl above 12h", assumed, Request{RoleARN: deployRoleARN, TTL: 13 * time.Hour}, "ttl is 13h0m0s"},
		{"policy on session_token", func(r *Role) { r.CredentialType, r.PolicyDocument = SessionToken, sessionDoc }, Request{}, "policy_document has no meaning"},
		{"boundary on assumed_role", func(r *Role) {
			assumed(r)
			r.PermissionsBoundaryARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
		}, Request{RoleARN: deployRoleARN}, "permissions_boundary_arn has no meaning"},
		{"11 session policies", func(r *Role) { assumed(r); r.PolicyARNs = arns(11) }, Request{RoleARN: deployRoleARN}, "at most 10 session policy ARNs"},
	}
	e.record()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := Role{Name: "r"}
			tc.role(&role)
			_, _, err := e.issuer().Issue(e.ctx(), role, tc.req)
			if err == nil {
				t.Fatal("Issue succeeded")
			}
			mustContain(t, err.Error(), `issuing credential for role "r": refused before any AWS call: `, tc.phrase)
		})
	}
	if reqs := e.recording(); len(reqs) != 0 {
		t.Errorf("invalid combinations made calls: %v", moto.Actions(reqs))
	}
}

// moto refuses AssumeRole with HTTP 403 when its authorization is on and the caller has no permission: the one
// STS refusal moto can produce. The others are in TestSTSFailure_SaysWhatToChange.
func TestIssueSTS_AccessDeniedOnAssumeRoleNamesTheTrustPolicy(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("powerless")}); err != nil {
		t.Fatal(err)
	}
	key, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("powerless")})
	if err != nil {
		t.Fatal(err)
	}
	arn := e.createIAMRole("deploy")
	if err := e.server.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	powerless := e.newSTS(credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
	i := e.issuer(func(o *Options) { o.STS = powerless })
	role := Role{Name: "deploy", CredentialType: AssumedRole, RoleARNs: []string{arn}, ExternalID: "ext-1234"}
	_, _, err = i.Issue(ctx, role, Request{})
	if err == nil {
		t.Fatal("a user without permissions assumed the role: moto's authorization is not on, this test proves nothing")
	}
	var se *STSError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an *STSError", err)
	}
	mustContain(t, err.Error(), "assuming IAM role "+arn, "trust policy must name the root identity as Principal for sts:AssumeRole",
		"sts:ExternalId", "AccessDenied")
}

// The errors of AWS that moto cannot produce (it checks no duration, packs no policy, and never refuses temporary
// credentials), mapped as AWS words them.
func TestSTSFailure_SaysWhatToChange(t *testing.T) {
	assumed := Role{Name: "r", CredentialType: AssumedRole, RoleARNs: []string{deployRoleARN}, SessionTags: map[string]string{"a": "b"}}
	fed := Role{Name: "r", CredentialType: FederationToken, PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}
	session := Role{Name: "r", CredentialType: SessionToken}
	mfa := Role{Name: "r", CredentialType: SessionToken, MFASerialNumber: "arn:aws:iam::123456789012:mfa/ci"}
	cases := []struct {
		name    string
		role    Role
		req     Request
		err     error
		phrases []string
	}{
		{"max session duration", assumed, Request{TTL: 4 * time.Hour},
			sdkError("STS", "AssumeRole", 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
			[]string{"requested duration (4h0m0s) is longer than the IAM role's MaxSessionDuration", "lower the credential's ttl (or the role's default_sts_ttl / max_sts_ttl)", "raise MaxSessionDuration"}},
		{"role chaining", assumed, Request{TTL: 2 * time.Hour},
			sdkError("STS", "AssumeRole", 400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."),
			[]string{"root identity is itself an assumed role", "from 2h0m0s to 1h or less"}},
		{"packed policy", assumed, Request{},
			sdkError("STS", "AssumeRole", 400, "PackedPolicyTooLarge", "Packed policy consumes 112% of allotted space, please use smaller policy for session."),
			[]string{"take 112% of the space AWS allows", "shorten policy_document", "session_tags"}},
		{"packed policy federation", fed, Request{},
			sdkError("STS", "GetFederationToken", 400, "PackedPolicyTooLarge", "Serialized token too large for session"),
			[]string{"take more than all of the space", "policy_arns"}},
		{"access denied assume role", assumed, Request{},
			sdkError("STS", "AssumeRole", 403, "AccessDenied", "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: "+deployRoleARN),
			[]string{"trust policy must name the root identity as Principal for sts:AssumeRole and sts:TagSession", "own policies must allow sts:AssumeRole"}},
		{"access denied without code (moto)", assumed, Request{},
			sdkError("STS", "AssumeRole", 403, "UnknownError", "UnknownError"),
			[]string{"trust policy", "AccessDenied (HTTP 403): the root identity is not allowed to call sts:AssumeRole"}},
		{"session token with session credentials", session, Request{},
			sdkError("STS", "GetSessionToken", 403, "AccessDenied", "Cannot call GetSessionToken with session credentials"),
			[]string{`credential_type "session_token" needs long-lived access keys of an IAM user`, "refuses GetSessionToken with temporary credentials", "access_key and secret_key"}},
		{"federation token with session credentials", fed, Request{},
			sdkError("STS", "GetFederationToken", 403, "AccessDenied", "Cannot call GetFederationToken with session credentials"),
			[]string{`credential_type "federation_token" needs long-lived access keys`, "GetFederationToken"}},
		{"federation token not allowed", fed, Request{},
			sdkError("STS", "GetFederationToken", 403, "AccessDenied", "User is not authorized to perform: sts:GetFederationToken"),
			[]string{"must allow sts:GetFederationToken"}},
		{"mfa rejected", mfa, Request{MFACode: "123456"},
			sdkError("STS", "GetSessionToken", 403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code."),
			[]string{"did not accept mfa_code for mfa_serial_number arn:aws:iam::123456789012:mfa/ci", "code the device shows now"}},
		{"malformed session policy", fed, Request{},
			sdkError("STS", "GetFederationToken", 400, "MalformedPolicyDocument", "Syntax errors in policy."),
			[]string{"STS rejected the session policy"}},
		{"other errors keep AWS's word", assumed, Request{},
			sdkError("STS", "AssumeRole", 400, "ExpiredTokenException", "The security token included in the request is expired"),
			[]string{"assuming IAM role " + deployRoleARN, ": operation error STS: AssumeRole"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &refusingSTS{err: tc.err}
			_, _, err := NewIssuer(Options{STS: s}).Issue(context.Background(), tc.role, tc.req)
			if err == nil || s.calls != 1 {
				t.Fatalf("Issue = %v after %d calls, want the refusal of one call", err, s.calls)
			}
			mustContain(t, err.Error(), tc.phrases...)
			// What to do comes before AWS's original answer, which stays reachable.
			var se *STSError
			var api smithy.APIError
			if !errors.As(err, &se) || !errors.As(err, &api) || !errors.Is(err, tc.err) {
				t.Errorf("error %q does not unwrap to AWS's answer", err)
			}
			if api.ErrorCode() != "UnknownError" && !strings.HasSuffix(err.Error(), tc.err.Error()) {
				t.Errorf("error %q does not end with AWS's answer", err)
			}
		})
	}
}

// refusingSTS answers every STS call with err.
type refusingSTS struct {
	STSAPI
	err   error
	calls int
}

func (s *refusingSTS) AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	s.calls++
	return nil, s.err
}

func (s *refusingSTS) GetFederationToken(context.Context, *sts.GetFederationTokenInput, ...func(*sts.Options)) (*sts.GetFederationTokenOutput, error) {
	s.calls++
	return nil, s.err
}

func (s *refusingSTS) GetSessionToken(context.Context, *sts.GetSessionTokenInput, ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error) {
	s.calls++
	return nil, s.err
}

func TestSTSTTL_FollowsVaultsRule(t *testing.T) {
	for _, tc := range []struct {
		name         string
		req, def, mx time.Duration
		want         time.Duration
	}{
		{"vault's default", 0, 0, 0, time.Hour},
		{"role default", 0, 3 * time.Hour, 0, 3 * time.Hour},
		{"request wins", 2 * time.Hour, 3 * time.Hour, 0, 2 * time.Hour},
		{"capped at max", 8 * time.Hour, 0, 4 * time.Hour, 4 * time.Hour},
		{"default capped at max", 0, 0, 30 * time.Minute, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := STSTTL(Role{DefaultSTSTTL: tc.def, MaxSTSTTL: tc.mx}, Request{TTL: tc.req})
			if got != tc.want {
				t.Errorf("STSTTL = %s, want %s", got, tc.want)
			}
		})
	}
}

// STS leases cannot be extended or looked up, and are replaced once inside their window.
func TestSTSLease_NotRenewableAlwaysExistsReplacedWhenDue(t *testing.T) {
	i := NewIssuer(Options{}) // no clients: a call would panic
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, kind := range []CredentialType{AssumedRole, FederationToken, SessionToken} {
		l := &Lease{ID: "l", Kind: kind, TTL: time.Hour, IssuedAt: now, ExpiresAt: now.Add(time.Hour), MaxExpiresAt: now.Add(time.Hour)}
		if err := i.Renew(context.Background(), l, time.Hour); !errors.Is(err, ErrNotRenewable) {
			t.Errorf("%s: Renew = %v, want ErrNotRenewable", kind, err)
		}
		if !l.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("%s: a refused renewal moved the expiry to %s", kind, l.ExpiresAt)
		}
		if ok, err := i.Exists(context.Background(), l); !ok || err != nil {
			t.Errorf("%s: Exists = %v, %v; want true: STS credentials last until they expire", kind, ok, err)
		}
		window := 20 * time.Minute
		if l.Renewable(now) || l.NeedsReplacement(now.Add(39*time.Minute), window) || !l.NeedsReplacement(now.Add(41*time.Minute), window) {
			t.Errorf("%s: renewable %v, replaced at 39m %v, at 41m %v; want false, false, true", kind,
				l.Renewable(now), l.NeedsReplacement(now.Add(39*time.Minute), window), l.NeedsReplacement(now.Add(41*time.Minute), window))
		}
	}
}
