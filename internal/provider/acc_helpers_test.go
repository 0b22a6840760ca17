package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// ---------------------------------------------------------------------------------------------------------------
// Harness of the credential, role and ephemeral acceptance tests: AWS state read through the SDK, moto's request
// recorder, and a transport that sees the secrets the provider is handed.
// ---------------------------------------------------------------------------------------------------------------

const (
	readOnly   = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	s3ReadOnly = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	iamRead    = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	powerUser  = "arn:aws:iam::aws:policy/PowerUserAccess"
	credAddr   = "awsdynamic_credential.ci"
)

// words turns a phrase into a pattern that matches it however the CLI wrapped its lines.
func words(phrase string) string {
	parts := strings.Fields(phrase)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `\s+`)
}

// deployConfig is the configuration most credential tests start from: the provider (with providerArgs), the
// iam_user role "deploy" (deployRole) and the credential "ci" of it (with credentialArgs, its lines after role).
func deployConfig(providerArgs, roleArgs, credentialArgs string) string {
	return acctest.ProviderBlock(providerArgs) + deployRole(roleArgs) + `
resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
` + credentialArgs + `
}
`
}

// deployRole is the iam_user role "deploy" with roleArgs, its lines after credential_type. readOnlyPolicy is the
// roleArgs of most tests: ReadOnlyAccess only.
func deployRole(roleArgs string) string {
	return `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
` + roleArgs + `
}
`
}

const readOnlyPolicy = `  policy_arns     = ["` + readOnly + `"]`

// withEcho adds terraform-plugin-testing's echo provider, which hands whatever its `data` is configured with to
// resource "echo": the one way to see an ephemeral value from a test.
func withEcho(f map[string]func() (tfprotov6.ProviderServer, error)) map[string]func() (tfprotov6.ProviderServer, error) {
	f["echo"] = echoprovider.NewProviderServer()
	return f
}

// plannedAfterFailure is the step after an apply that failed: preConfig (nil: none), then a plan of config that must
// want action on addr, which shows what the failure left in state.
func plannedAfterFailure(preConfig func(), config, addr string, action plancheck.ResourceActionType) resource.TestStep {
	return resource.TestStep{
		PreConfig:          preConfig,
		Config:             config,
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(addr, action),
		}},
	}
}

// mustCreateGroup creates an IAM group in moto for a role to name.
func mustCreateGroup(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := acctest.IAM().CreateGroup(context.Background(), &iam.CreateGroupInput{GroupName: aws.String(n)}); err != nil {
			t.Fatalf("creating group %s: %v", n, err)
		}
	}
}

// mustCreateRole creates an IAM role in moto that any principal may assume with actions (sts:AssumeRole, ...), and
// returns its ARN.
func mustCreateRole(t *testing.T, name string, actions ...string) string {
	t.Helper()
	acts, err := json.Marshal(actions)
	if err != nil {
		t.Fatal(err)
	}
	out, err := acctest.IAM().CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":` + string(acts) + `}]}`),
	})
	if err != nil {
		t.Fatalf("creating IAM role %s: %v", name, err)
	}
	return aws.ToString(out.Role.Arn)
}

// mustCreatePolicy creates a customer managed policy in moto and returns its ARN.
func mustCreatePolicy(t *testing.T, name string) string {
	t.Helper()
	out, err := acctest.IAM().CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName:     aws.String(name),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatalf("creating policy %s: %v", name, err)
	}
	return aws.ToString(out.Policy.Arn)
}

// record starts moto's recorder for the rest of the test.
func startRecording(t *testing.T) {
	t.Helper()
	if err := acctest.Moto.StartRecording(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = acctest.Moto.StopRecording() })
}

func recorded() ([]moto.Request, error) { return acctest.Moto.Recording() }

// callsFor returns the recorded actions whose UserName is user, in order.
func callsFor(reqs []moto.Request, user string) []string {
	var out []string
	for _, r := range reqs {
		if r.Action != "" && r.Form.Get("UserName") == user {
			out = append(out, r.Action)
		}
	}
	return out
}

// writeActions are the IAM actions that change something.
var writeActions = regexp.MustCompile(`^(Create|Put|Attach|Add|Tag|Untag|Upload|Enable|Deactivate|Delete|Detach|Remove|Update)`)

func iamWrites(reqs []moto.Request) []string {
	var out []string
	for _, a := range moto.Actions(reqs) {
		if writeActions.MatchString(a) {
			out = append(out, a)
		}
	}
	return out
}

// attrs returns the flat attributes of a resource in state.
func stateAttrs(s *terraform.State, addr string) (map[string]string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok || rs.Primary == nil {
		return nil, fmt.Errorf("%s is not in state", addr)
	}
	return rs.Primary.Attributes, nil
}

// iamUser is what IAM holds for one user, read through the SDK.
type iamUser struct {
	Name, Path, ARN string
	Tags            map[string]string
	Attached        []string          // managed policy ARNs, sorted
	Inline          map[string]string // inline policy name -> document, URL-decoded
	Groups          []string          // sorted
	AccessKeys      []string
}

// readUser reads everything IAM keeps about a user; nil when it does not exist.
func readUser(ctx context.Context, name string) (*iamUser, error) {
	c := acctest.IAM()
	out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if lease.IsNoSuchEntity(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("GetUser %s: %w", name, err)
	}
	u := &iamUser{Name: aws.ToString(out.User.UserName), Path: aws.ToString(out.User.Path), ARN: aws.ToString(out.User.Arn),
		Tags: map[string]string{}, Inline: map[string]string{}}
	tags, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("ListUserTags %s: %w", name, err)
	}
	for _, t := range tags.Tags {
		u.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	att, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("ListAttachedUserPolicies %s: %w", name, err)
	}
	for _, p := range att.AttachedPolicies {
		u.Attached = append(u.Attached, aws.ToString(p.PolicyArn))
	}
	sort.Strings(u.Attached)
	inl, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("ListUserPolicies %s: %w", name, err)
	}
	for _, p := range inl.PolicyNames {
		doc, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(p)})
		if err != nil {
			return nil, fmt.Errorf("GetUserPolicy %s %s: %w", name, p, err)
		}
		u.Inline[p] = decodePolicy(aws.ToString(doc.PolicyDocument))
	}
	grp, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("ListGroupsForUser %s: %w", name, err)
	}
	for _, g := range grp.Groups {
		u.Groups = append(u.Groups, aws.ToString(g.GroupName))
	}
	sort.Strings(u.Groups)
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("ListAccessKeys %s: %w", name, err)
	}
	for _, k := range keys.AccessKeyMetadata {
		u.AccessKeys = append(u.AccessKeys, aws.ToString(k.AccessKeyId))
	}
	return u, nil
}

// decodePolicy undoes the URL encoding AWS applies to policy documents it returns (moto may or may not).
func decodePolicy(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if d, err := url.QueryUnescape(doc); err == nil {
		return d
	}
	return doc
}

// guardExpiry reads the date the user's expiry guard enforces.
func (u *iamUser) guardExpiry() (time.Time, error) {
	doc, ok := u.Inline[lease.GuardPolicyName]
	if !ok {
		return time.Time{}, fmt.Errorf("IAM user %s has no %s inline policy; inline policies: %v", u.Name, lease.GuardPolicyName, sortedKeys(u.Inline))
	}
	return lease.GuardExpiry(doc)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// usersUnder lists the names of the IAM users under path.
func usersUnder(ctx context.Context, path string) ([]string, error) {
	out, err := acctest.IAM().ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String(path)})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out.Users))
	for _, u := range out.Users {
		names = append(names, aws.ToString(u.UserName))
	}
	slices.Sort(names)
	return names, nil
}

// checkNoUsersUnder is a CheckDestroy: no IAM user is left under path (the provider's user path by default).
func checkNoUsersUnder(path string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		names, err := usersUnder(context.Background(), path)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			return fmt.Errorf("IAM users left under %s after destroy: %v", path, names)
		}
		return nil
	}
}

// wantUser is what a credential's IAM user must carry in AWS.
type wantUser struct {
	Role       string
	Path       string // default /awsdynamic/
	PolicyARNs []string
	Document   string // the role's policy_document; empty: no awsdynamic-role-policy
	Groups     []string
	Tags       map[string]string // besides the three lease tags, exactly these
	NameRegexp string            // optional
}

// checkIssuedUser compares what IAM holds for the credential at addr with w: path, name, ARN, managed policies,
// inline policies (the guard at expires_at, the document), groups, tags, and exactly one access key, the
// credential's.
func checkIssuedUser(addr string, w wantUser) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := stateAttrs(s, addr)
		if err != nil {
			return err
		}
		name := a["iam_user_name"]
		u, err := readUser(context.Background(), name)
		if err != nil {
			return err
		}
		if u == nil {
			return fmt.Errorf("%s: IAM user %q does not exist", addr, name)
		}
		var errs []error
		fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(addr+": "+format, args...)) }
		path := w.Path
		if path == "" {
			path = provider.DefaultUserPath
		}
		if u.Path != path {
			fail("user path is %q, want %q", u.Path, path)
		}
		if want := "arn:aws:iam::" + moto.AccountID + ":user" + path + name; u.ARN != want || a["iam_user_arn"] != want {
			fail("user ARN is %q in IAM and %q in state, want %q", u.ARN, a["iam_user_arn"], want)
		}
		if w.NameRegexp != "" && !regexp.MustCompile(w.NameRegexp).MatchString(name) {
			fail("user name %q does not match %s", name, w.NameRegexp)
		}
		if want := sortedCopy(w.PolicyARNs); !slices.Equal(u.Attached, want) {
			fail("attached policies are %v, want %v", u.Attached, want)
		}
		if want := sortedCopy(w.Groups); !slices.Equal(u.Groups, want) {
			fail("groups are %v, want %v", u.Groups, want)
		}
		wantInline := []string{lease.GuardPolicyName}
		if w.Document != "" {
			wantInline = append(wantInline, lease.DocumentPolicyName)
		}
		sort.Strings(wantInline)
		if got := sortedKeys(u.Inline); !slices.Equal(got, wantInline) {
			fail("inline policies are %v, want %v", got, wantInline)
		}
		if w.Document != "" {
			if eq, err := policy.Equivalent(u.Inline[lease.DocumentPolicyName], w.Document); err != nil || !eq {
				fail("inline policy %s is %s, want %s (%v)", lease.DocumentPolicyName, u.Inline[lease.DocumentPolicyName], w.Document, err)
			}
		}
		if g, err := u.guardExpiry(); err != nil {
			fail("%v", err)
		} else if got := g.Format(time.RFC3339); got != a["expires_at"] {
			fail("the expiry guard denies from %s, but expires_at is %s", got, a["expires_at"])
		}
		wantTags := map[string]string{
			lease.TagLeaseID:   a["id"],
			lease.TagRole:      w.Role,
			lease.TagExpiresAt: a["expires_at"],
		}
		// audit_tags is on by default: who issued the user (the root identity) and, when these tests run in CI,
		// the run.
		for k, v := range lease.AuditTags(rootARN(), os.Getenv) {
			wantTags[k] = v
		}
		for k, v := range w.Tags {
			wantTags[k] = v
		}
		if !mapsEqual(u.Tags, wantTags) {
			fail("tags are %v, want %v", u.Tags, wantTags)
		}
		if len(u.AccessKeys) != 1 || u.AccessKeys[0] != a["access_key_id"] {
			fail("access keys are %v, want exactly the credential's %s", u.AccessKeys, a["access_key_id"])
		}
		return errors.Join(errs...)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// checkKeyWorks signs sts:GetCallerIdentity with the credential's own key and expects the answer to name its IAM
// user. Without authorization moto answers any unknown key with a default identity (see internal/acctest/moto/README.md), so what proves the
// key is the user's is the ARN comparison; checkKeyWorks also makes sure a made-up key does not get that ARN.
func checkKeyWorks(addr string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := stateAttrs(s, addr)
		if err != nil {
			return err
		}
		return keyAnswersAs(a["access_key_id"], a["secret_access_key"], a["iam_user_arn"])
	}
}

func keyAnswersAs(keyID, secret, wantARN string) error {
	if keyID == "" || secret == "" || wantARN == "" {
		return fmt.Errorf("access key %q, secret (%d characters) or user ARN %q is empty", keyID, len(secret), wantARN)
	}
	ctx := context.Background()
	out, err := acctest.STS(credentials.NewStaticCredentialsProvider(keyID, secret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("sts:GetCallerIdentity with key %s: %w", keyID, err)
	}
	if got := aws.ToString(out.Arn); got != wantARN {
		return fmt.Errorf("sts:GetCallerIdentity with key %s answered as %s, want %s", keyID, got, wantARN)
	}
	bogus, err := acctest.STS(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7BOGUS00", secret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil && aws.ToString(bogus.Arn) == wantARN {
		return fmt.Errorf("a made-up key also answers as %s: the comparison proves nothing", wantARN)
	}
	return nil
}

// rootARN is the root identity's ARN as sts:GetCallerIdentity answers it (moto's for the tests' root keys).
func rootARN() string {
	out, err := acctest.STS(credentials.NewStaticCredentialsProvider(acctest.RootAccessKey, acctest.RootSecretKey, "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "<sts:GetCallerIdentity failed: " + err.Error() + ">"
	}
	return aws.ToString(out.Arn)
}

// attrCapture remembers attribute values between steps.
type attrCapture map[string]string

// each calls f with each of names and its value in addr's state now, until f fails.
func (c attrCapture) each(addr string, names []string, f func(name, now string) error) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := stateAttrs(s, addr)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := f(n, a[n]); err != nil {
				return err
			}
		}
		return nil
	}
}

func (c attrCapture) save(addr string, names ...string) resource.TestCheckFunc {
	return c.each(addr, names, func(n, now string) error { c[n] = now; return nil })
}

// same checks that addr's attributes still have the values saved earlier.
func (c attrCapture) same(addr string, names ...string) resource.TestCheckFunc {
	return c.each(addr, names, func(n, now string) error {
		if now != c[n] {
			return fmt.Errorf("%s.%s changed from %q to %q", addr, n, c[n], now)
		}
		return nil
	})
}

// changed checks that addr's attributes all differ from the values saved earlier.
func (c attrCapture) changed(addr string, names ...string) resource.TestCheckFunc {
	return c.each(addr, names, func(n, now string) error {
		if now == c[n] {
			return fmt.Errorf("%s.%s is still %q", addr, n, now)
		}
		return nil
	})
}

// checkUserGone checks that the IAM user saved under attribute iam_user_name no longer exists, and that revoke
// deleted its key and inline policies itself (moto's DeleteUser would succeed with them left: see internal/acctest/moto/README.md).
func (c attrCapture) checkUserGone() resource.TestCheckFunc {
	return func(*terraform.State) error {
		name := c["iam_user_name"]
		u, err := readUser(context.Background(), name)
		if err != nil {
			return err
		}
		if u != nil {
			return fmt.Errorf("the old IAM user %s still exists", name)
		}
		return nil
	}
}

// wireRecorder is the provider's HTTP transport in tests that need to see what AWS handed out: it reads every AWS
// answer, so the test knows each access key, secret access key and session token AWS sent, whichever credential it
// went to; and it can fail chosen requests.
type wireRecorder struct {
	next aws.HTTPClient

	mu    sync.Mutex
	calls []wireCall
	// fail, when set, answers a request with the returned status and body instead of forwarding it.
	fail func(action, keyID string) (int, string, bool)
}

type wireCall struct {
	action, user string
	keyID        string // AccessKeyId in the answer
	secret       string // SecretAccessKey in the answer
	token        string // SessionToken in the answer
}

// newWireRecorder returns a recorder for provider.Options.HTTPClient. The SDK's config loader refuses any HTTP client
// but its own when AWS_CA_BUNDLE is set (it cannot add the bundle to it), so newWireRecorder unsets it for the test:
// moto is plain HTTP.
func newWireRecorder(t *testing.T) *wireRecorder {
	t.Setenv("AWS_CA_BUNDLE", "")
	return &wireRecorder{next: awshttp.NewBuildableClient()}
}

var (
	keyIDElement  = regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`)
	secretElement = regexp.MustCompile(`<SecretAccessKey>([^<]+)</SecretAccessKey>`)
	tokenElement  = regexp.MustCompile(`<SessionToken>([^<]+)</SessionToken>`)
	credKeyID     = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)
)

func (r *wireRecorder) Do(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		form, _ = url.ParseQuery(string(b))
	}
	r.mu.Lock()
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		keyID := ""
		if m := credKeyID.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
			keyID = m[1]
		}
		if status, msg, ok := fail(form.Get("Action"), keyID); ok {
			return &http.Response{
				StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header:  http.Header{"Content-Type": []string{"text/xml"}},
				Body:    io.NopCloser(strings.NewReader(msg)),
				Request: req,
			}, nil
		}
	}
	resp, err := r.next.Do(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return resp, err
	}
	c := wireCall{action: form.Get("Action"), user: form.Get("UserName")}
	if m := secretElement.FindSubmatch(b); m != nil {
		c.secret = string(m[1])
		if m := keyIDElement.FindSubmatch(b); m != nil {
			c.keyID = string(m[1])
		}
	}
	if m := tokenElement.FindSubmatch(b); m != nil {
		c.token = string(m[1])
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, nil
}

// count is how many calls of action went to users whose name contains user ("" for any).
func (r *wireRecorder) count(action, user string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.action == action && strings.Contains(c.user, user) {
			n++
		}
	}
	return n
}

// pick returns field of every recorded call for which it is not empty, in order, among the calls to users whose
// name contains user ("" for all).
func (r *wireRecorder) pick(user string, field func(wireCall) string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if v := field(c); v != "" && strings.Contains(c.user, user) {
			out = append(out, v)
		}
	}
	return out
}

// secretsOf lists the secret access keys issued to users whose name contains user ("" for all).
func (r *wireRecorder) secretsOf(user string) []string {
	return r.pick(user, func(c wireCall) string { return c.secret })
}

// keyIDs lists every access key ID handed out with a secret.
func (r *wireRecorder) keyIDs() []string {
	return r.pick("", func(c wireCall) string { return c.keyID })
}

// keyIDOf is the access key ID last issued to a user whose name contains user.
func (r *wireRecorder) keyIDOf(user string) string {
	ids := r.pick(user, func(c wireCall) string { return c.keyID })
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

// tokens lists every session token handed out.
func (r *wireRecorder) tokens() []string {
	return r.pick("", func(c wireCall) string { return c.token })
}

func (r *wireRecorder) actions() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, c := range r.calls {
		out[c.action]++
	}
	return out
}

// leaks returns the secret access keys handed out so far that appear in text (containsSecret).
func (r *wireRecorder) leaks(text string) []string {
	var out []string
	for _, s := range r.secretsOf("") {
		if containsSecret(text, s) {
			out = append(out, s)
		}
	}
	return out
}

// ---------------------------------------------------------------------------------------------------------------
// Configurations and AWS state shared across the test files: the caller identity read, the ephemeral credential's
// consumer, the fault proxy, moto's authorization, the lease users a test may leave, static credentials' users.
// ---------------------------------------------------------------------------------------------------------------

const callerIdentity = `
data "awsdynamic_caller_identity" "root" {}
`

const leasePath = "/awsdynamic/"

// startFaultProxy puts a fault proxy in front of moto for one test.
func startFaultProxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(acctest.Moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// proxiedProvider is acctest.ProviderBlock with both endpoints at url, so that every IAM and STS call of the
// provider passes the proxy there.
func proxiedProvider(url, extra string) string {
	return acctest.ProviderBlockAt(url, acctest.RootAccessKey, acctest.RootSecretKey, extra)
}

// noLeaseUsers says what is left under the provider's path, if anything, and which group still has members.
// moto's DeleteUser succeeds with group memberships left (see internal/acctest/moto/README.md), so "the user is gone" alone does not prove the
// membership was removed: the groups are checked on their own.
func noLeaseUsers(groups ...string) error {
	ctx := context.Background()
	names, err := usersUnder(ctx, leasePath)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		return fmt.Errorf("IAM users left under %s: %v", leasePath, names)
	}
	for _, g := range groups {
		if err := noGroupMembers(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

func noGroupMembers(ctx context.Context, group string) error {
	out, err := acctest.IAM().GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group)})
	if err != nil {
		return err
	}
	if len(out.Users) > 0 {
		return fmt.Errorf("group %s still has %d members", group, len(out.Users))
	}
	return nil
}

// useEphemeral is a check block that reads the ephemeral credential: OpenTofu, unlike Terraform, does not open an
// ephemeral resource in apply that nothing refers to.
func useEphemeral(name string) string {
	return fmt.Sprintf(`
check "uses_%[1]s" {
  assert {
    condition     = ephemeral.awsdynamic_credential.%[1]s.access_key_id != ""
    error_message = "The ephemeral credential has no access key."
  }
}
`, name)
}

// enforceAuth turns moto's authorization on until the end of the test (or until the returned func is called).
func enforceAuth(t *testing.T) func() {
	t.Helper()
	if err := acctest.Moto.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	off := func() {
		if err := acctest.Moto.DisableAuth(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(off)
	return off
}

// noLeaseUsersAuthOff is the CheckDestroy of a test that runs with moto's authorization on: it turns it off with
// authOff (the checks sign with moto's test keys, which no IAM user owns), then requires noLeaseUsers(groups...).
func noLeaseUsersAuthOff(authOff func(), groups ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		authOff()
		return noLeaseUsers(groups...)
	}
}

// renewedOnRefresh is the step that moves fake 45 minutes on, inside the renewal window of the 1h credential at addr
// (it opens a third of the TTL before expiry), and refreshes: expires_at must have moved from *before.
func renewedOnRefresh(fake *clock.Fake, addr string, before *string) resource.TestStep {
	return resource.TestStep{
		PreConfig:    func() { fake.Advance(45 * time.Minute) },
		RefreshState: true,
		Check: func(s *terraform.State) error {
			a, err := stateAttrs(s, addr)
			if err != nil {
				return err
			}
			if a["expires_at"] == *before {
				return fmt.Errorf("expires_at is still %s after a refresh inside the renewal window", *before)
			}
			return nil
		},
	}
}

// existingUser arranges, with the SDK, a user the provider did not create: an inline policy and nkeys keys of its
// own, created a second apart so that IAM's CreateDate orders them. It returns the keys, oldest first.
func existingUser(t *testing.T, name string, nkeys int) []string {
	t.Helper()
	ctx := context.Background()
	c := acctest.IAM()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("own"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for n := 0; n < nkeys; n++ {
		if n > 0 {
			// moto stamps CreateDate with the real clock at one-second resolution; the two-key rule orders by it.
			now := time.Now()
			time.Sleep(now.Truncate(time.Second).Add(time.Second + 10*time.Millisecond).Sub(now))
		}
		out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.AccessKey.AccessKeyId))
	}
	return ids
}

func keysOfUser(name string) ([]string, error) {
	out, err := acctest.IAM().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	sort.Strings(ids)
	return ids, nil
}

// ---------------------------------------------------------------------------------------------------------------
// The plugin protocol, spoken to the provider as Terraform does: for what the CLIs cannot show (RenewAt, validation
// before configure) or cannot pause between (an ephemeral resource's open and close).
// ---------------------------------------------------------------------------------------------------------------

// protoServer serves the provider with o in this process and returns it with its schemas.
func protoServer(t *testing.T, o provider.Options) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	srv, err := acctest.Factories(o)["awsdynamic"]()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		t.Fatalf("schema: %v %s", err, fmtDiags(schemas.Diagnostics))
	}
	return srv, schemas
}

// protoConfigure configures srv with the tests' root identity and moto's endpoints; any diagnostic fails the test.
func protoConfigure(t *testing.T, srv tfprotov6.ProviderServer, schemas *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	cfg := protoValue(t, schemas.Provider.ValueType(), map[string]any{
		"access_key": acctest.RootAccessKey, "secret_key": acctest.RootSecretKey, "region": acctest.Region,
		"endpoints": map[string]any{"iam": acctest.Moto.URL, "sts": acctest.Moto.URL},
	})
	resp, err := srv.ConfigureProvider(context.Background(), &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.11.0", Config: cfg})
	if err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %s", err, fmtDiags(resp.Diagnostics))
	}
}

// protoValue is protoObject as the DynamicValue a request carries.
func protoValue(t *testing.T, typ tftypes.Type, set map[string]any) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, protoObject(t, typ, set))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// protoObject is a value of the object type typ with the attributes in set and every other attribute null. A value
// in set is a tftypes.Value, a string, a []string (for a list or set of strings) or a map[string]any (a nested
// object, built the same way).
func protoObject(t *testing.T, typ tftypes.Type, set map[string]any) tftypes.Value {
	t.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("%s is not an object type", typ)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		v, ok := set[name]
		if !ok {
			vals[name] = tftypes.NewValue(at, nil)
			continue
		}
		switch v := v.(type) {
		case tftypes.Value:
			vals[name] = v
		case string:
			vals[name] = tftypes.NewValue(at, v)
		case []string:
			elems := make([]tftypes.Value, len(v))
			for n, s := range v {
				elems[n] = tftypes.NewValue(tftypes.String, s)
			}
			vals[name] = tftypes.NewValue(at, elems)
		case map[string]any:
			vals[name] = protoObject(t, at, v)
		default:
			t.Fatalf("attribute %s: unsupported test value %T", name, v)
		}
	}
	for name := range set {
		if _, ok := obj.AttributeTypes[name]; !ok {
			t.Fatalf("%s is not an attribute of %s", name, typ)
		}
	}
	return tftypes.NewValue(typ, vals)
}

// fmtDiags shows diagnostics in a failure message.
func fmtDiags(ds []*tfprotov6.Diagnostic) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("[%s] %s: %s", d.Severity, d.Summary, d.Detail))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "; ")
}

// diagError is the error diagnostics among ds as one error; nil when there are none (warnings alone).
func diagError(ds []*tfprotov6.Diagnostic) error {
	var msgs []string
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			msgs = append(msgs, d.Summary+": "+d.Detail)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// validateRoleConfig sends an awsdynamic_role configuration (unset attributes null) to the provider's
// ValidateResourceConfig and returns its diagnostics.
func validateRoleConfig(t *testing.T, set map[string]tftypes.Value) []*tfprotov6.Diagnostic {
	t.Helper()
	srv, schemas := protoServer(t, provider.Options{})
	args := map[string]any{}
	for name, v := range set {
		args[name] = v
	}
	cfg := protoValue(t, schemas.ResourceSchemas["awsdynamic_role"].ValueType(), args)
	resp, err := srv.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{TypeName: "awsdynamic_role", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Diagnostics
}

// ---------------------------------------------------------------------------------------------------------------
// Tests that drive a CLI themselves, where terraform-plugin-testing cannot (a flag it overrides, a provider process
// to kill, logs and output to read).
// ---------------------------------------------------------------------------------------------------------------

// terraformCLI is the CLI at TF_ACC_TERRAFORM_PATH (terraform or tofu); without it the test is skipped.
func terraformCLI(t *testing.T) string {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if cli == "" {
		t.Skip("TF_ACC_TERRAFORM_PATH is not set: this test needs a terraform or tofu CLI (make testacc sets it)")
	}
	return cli
}

// inProcessWorkdir is a working directory for cli whose CLI uses the provider served with o from this process
// (serveInProcess); env is more of the CLI's environment.
func inProcessWorkdir(t *testing.T, cli string, o provider.Options, env ...string) *cliWorkdir {
	t.Helper()
	return newCLIWorkdir(t, cli, os.Getenv("TF_CLI_CONFIG_FILE"), append(env, "TF_REATTACH_PROVIDERS="+serveInProcess(t, o))...)
}

// tracedWorkdir is the harness of the secret-hygiene tests: an inProcessWorkdir whose CLI and provider (served with
// clk, and a wireRecorder that sees every secret AWS sends) both log at TRACE, into cliLog and providerLog in logs.
func tracedWorkdir(t *testing.T, cli, logs string, clk clock.Clock) (w *cliWorkdir, wire *wireRecorder, cliLog, providerLog string) {
	t.Helper()
	cliLog, providerLog = filepath.Join(logs, "cli.log"), filepath.Join(logs, "provider.log")
	// The in-process provider's log sink reads these on every request (terraform-plugin-log's test sink).
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", providerLog)
	wire = newWireRecorder(t)
	w = inProcessWorkdir(t, cli, provider.Options{Clock: clk, HTTPClient: wire}, "TF_LOG=TRACE", "TF_LOG_PATH="+cliLog)
	return w, wire, cliLog, providerLog
}

// containsSecret says whether secret is in text, also with white space removed, in case a line was wrapped inside it.
func containsSecret(text, secret string) bool {
	return strings.Contains(text, secret) || strings.Contains(strings.Join(strings.Fields(text), ""), secret)
}

const requiredProviders = `
terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}
`

// devOverridesConfig builds the provider from this tree into a temp dir and returns a CLI config file that makes
// awsdynamic/awsdynamic resolve to it. Under dev_overrides, validate needs no `init` (which would try the
// registry and fail offline) as long as the configuration uses no other provider.
func devOverridesConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "terraform-provider-awsdynamic"), ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "terraformrc")
	writeFile(t, rc, fmt.Sprintf(`provider_installation {
  dev_overrides {
    "awsdynamic/awsdynamic" = %q
  }
  direct {}
}
`, filepath.ToSlash(dir)))
	return rc
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serveInProcess serves the provider from this process the way terraform-plugin-testing does (go-plugin's debug
// mode) and returns the TF_REATTACH_PROVIDERS value with which a CLI uses it. Stopped at cleanup.
func serveInProcess(t *testing.T, o provider.Options) string {
	t.Helper()
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	addr := host + "/awsdynamic/awsdynamic"
	ctx, cancel := context.WithCancel(context.Background())
	configCh := make(chan *plugin.ReattachConfig, 1)
	closeCh := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- tf6server.Serve(addr, providerserver.NewProtocol6(provider.NewWithOptions("test", acctest.AWSTimeFollowsClock(o))()),
			tf6server.WithDebug(ctx, configCh, closeCh),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithLoggingSink(t))
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-configCh:
	case err := <-served:
		cancel()
		t.Fatalf("serving the provider: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider server did not start within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closeCh:
		case <-time.After(10 * time.Second):
			t.Error("the in-process provider server did not stop")
		}
	})
	b, err := json.Marshal(map[string]any{addr: map[string]any{
		"Protocol":        string(rc.Protocol),
		"ProtocolVersion": rc.ProtocolVersion,
		"Pid":             rc.Pid,
		"Test":            rc.Test,
		"Addr":            map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cliWorkdir is a Terraform working directory driven with os/exec: for what terraform-plugin-testing cannot do
// (kill the provider process, pass -parallelism, read the CLI's own output). Every process it starts runs in its
// own process group, killed at cleanup; the cleanup fails the test if a provider process outlived it.
type cliWorkdir struct {
	t   *testing.T
	cli string
	dir string
	rc  string // CLI config file
	env []string
}

func newCLIWorkdir(t *testing.T, cli, rc string, env ...string) *cliWorkdir {
	w := &cliWorkdir{t: t, cli: cli, dir: t.TempDir(), rc: rc}
	for _, kv := range os.Environ() {
		// TF_CLI_ARGS* would change what the commands do; the caller sets TF_LOG when it wants logs.
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TF_CLI_ARGS") || strings.HasPrefix(k, "TF_LOG") || k == "TF_CLI_CONFIG_FILE" || k == "TF_REATTACH_PROVIDERS" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0", "TF_CLI_CONFIG_FILE="+rc)
	w.env = append(w.env, env...)
	t.Cleanup(w.checkNoProviderLeft)
	return w
}

func (w *cliWorkdir) write(name, content string) {
	w.t.Helper()
	writeFile(w.t, filepath.Join(w.dir, name), content)
}

// binary is the provider binary devOverridesConfig built next to the CLI config.
func (w *cliWorkdir) binary() string {
	return filepath.Join(filepath.Dir(w.rc), "terraform-provider-awsdynamic")
}

type cliRun struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

// start runs the CLI in the background, in a process group of its own.
func (w *cliWorkdir) start(args ...string) *cliRun {
	w.t.Helper()
	cmd := exec.Command(w.cli, append(args, "-no-color")...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	r := &cliRun{cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { r.err = cmd.Wait(); close(r.done) }()
	w.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	})
	return r
}

// wait waits for the run to end, killing its process group after timeout.
func (r *cliRun) wait(timeout time.Duration) (string, error) {
	select {
	case <-r.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		return r.out.String(), fmt.Errorf("killed after %s", timeout)
	}
	return r.out.String(), r.err
}

// run runs the CLI to completion and returns its combined output.
func (w *cliWorkdir) run(args ...string) (string, error) {
	w.t.Helper()
	return w.start(args...).wait(5 * time.Minute)
}

// runSplit runs the CLI to completion and returns stdout and stderr apart.
func (w *cliWorkdir) runSplit(args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	cmd := exec.Command(w.cli, append(args, "-no-color")...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = errors.Join(ctx.Err(), <-done)
	}
	return o.String(), e.String(), err
}

// providerPIDs lists the running processes of the provider binary.
func (w *cliWorkdir) providerPIDs() []int {
	bin := w.binary()
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.TrimSuffix(exe, " (deleted)") == bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (w *cliWorkdir) checkNoProviderLeft() {
	if _, err := os.Stat(w.binary()); err != nil {
		return
	}
	// Cleanups run last-registered first: the process groups are killed by now, but reaping takes a moment.
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := w.providerPIDs()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			w.t.Errorf("provider processes left behind: %v", pids)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer that a running command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
