package lease

import (
	"context"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
// motoServer is shared by every test of the package; nil when AWSDYNAMIC_MOTO_PYTHON is unset.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "internal/lease", &motoServer)) }

// motoEnv is one test's view of moto: an emptied server, root clients, and an Issuer built on them.
type motoEnv struct {
	t      *testing.T
	server *moto.Server
	cfg    aws.Config
	iam    *iam.Client
	sts    *sts.Client
	clock  *clock.Fake
}

// newMotoEnv resets moto and builds clients. Tests using it must not run in parallel: moto's state and its
// recorder are global.
func newMotoEnv(t *testing.T) *motoEnv {
	t.Helper()
	resetMoto(t, "this test needs a moto server")
	t.Cleanup(func() {
		if err := motoServer.DisableAuth(); err != nil {
			t.Errorf("turning moto's authorization off again: %v", err)
		}
	})
	cfg := motoConfig(credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""))
	e := &motoEnv{
		t:      t,
		server: motoServer,
		cfg:    cfg,
		iam:    iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(motoServer.URL) }),
		sts:    sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(motoServer.URL) }),
		clock:  clock.NewFake(time.Now().UTC().Truncate(time.Second)),
	}
	return e
}

// resetMoto skips tb when moto is not running (why says what needs it); otherwise it turns moto's authorization off
// and empties it.
func resetMoto(tb testing.TB, why string) {
	tb.Helper()
	if motoServer == nil {
		tb.Skipf("%s is not set: %s", moto.PythonEnv, why)
	}
	if err := motoServer.DisableAuth(); err != nil {
		tb.Fatal(err)
	}
	if err := motoServer.Reset(); err != nil {
		tb.Fatal(err)
	}
}

// motoConfig is a root aws.Config as the provider would build it, with the SDK's standard retryer: its backoff is
// shortened only so that retried moto 500s do not slow the suite.
func motoConfig(creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: creds,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Millisecond })
		},
	}
}

// newSTS is Options.NewSTS against moto.
func (e *motoEnv) newSTS(p aws.CredentialsProvider) STSAPI {
	return sts.NewFromConfig(e.cfg, func(o *sts.Options) {
		o.Credentials = p
		o.BaseEndpoint = aws.String(e.server.URL)
	})
}

// issuer builds an Issuer on the env's clients; change adjusts the options first.
func (e *motoEnv) issuer(change ...func(*Options)) *Issuer {
	o := Options{
		IAM:         e.iam,
		STS:         e.sts,
		NewSTS:      e.newSTS,
		Clock:       e.clock,
		DefaultTags: map[string]string{"managed-by": "awsdynamic", "env": "default"},
		Propagation: PropagationPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}
	for _, c := range change {
		c(&o)
	}
	return NewIssuer(o)
}

func (e *motoEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	e.t.Cleanup(cancel)
	return ctx
}

// record clears moto's recorder and starts it.
func (e *motoEnv) record() {
	e.t.Helper()
	if err := e.server.StartRecording(); err != nil {
		e.t.Fatal(err)
	}
}

// recording returns the requests since record, and stops recording.
func (e *motoEnv) recording() []moto.Request {
	e.t.Helper()
	reqs, err := e.server.Recording()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.server.StopRecording(); err != nil {
		e.t.Fatal(err)
	}
	return reqs
}

// fullRole arranges in moto what a role with everything refers to: two customer-managed policies and one AWS
// managed policy, a group, a policy document and tags.
func (e *motoEnv) fullRole(name string) Role {
	e.t.Helper()
	ctx := e.ctx()
	var arns []string
	for _, p := range []string{name + "-read", name + "-write"} {
		out, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(p),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		})
		if err != nil {
			e.t.Fatalf("arranging policy %s: %v", p, err)
		}
		arns = append(arns, aws.ToString(out.Policy.Arn))
	}
	arns = append(arns, "arn:aws:iam::aws:policy/ReadOnlyAccess")
	group := name + "-group"
	if _, err := e.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}); err != nil {
		e.t.Fatalf("arranging group %s: %v", group, err)
	}
	return Role{
		Name:           name,
		CredentialType: IAMUser,
		PolicyARNs:     arns,
		PolicyDocument: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"sqs:SendMessage\", \"Resource\": \"*\"}\n  ]\n}",
		IAMGroups:      []string{group},
		IAMTags:        map[string]string{"team": "platform", "env": "role"},
		DefaultTTL:     time.Hour,
		MaxTTL:         4 * time.Hour,
	}
}

// actionCounts counts recorded actions.
func actionCounts(reqs []moto.Request) map[string]int {
	out := map[string]int{}
	for _, a := range moto.Actions(reqs) {
		out[a]++
	}
	return out
}

// requestsFor returns the recorded requests of one action.
func requestsFor(reqs []moto.Request, action string) []moto.Request {
	var out []moto.Request
	for _, r := range reqs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// indexOf is the position of the first request of action, -1 if none.
func indexOf(reqs []moto.Request, action string) int {
	return slices.IndexFunc(reqs, func(r moto.Request) bool { return r.Action == action })
}

// lastIndexOf is the position of the last request of action, -1 if none.
func lastIndexOf(reqs []moto.Request, action string) int {
	for n := len(reqs) - 1; n >= 0; n-- {
		if reqs[n].Action == action {
			return n
		}
	}
	return -1
}

// issueDeploy arranges fullRole("deploy") and issues a lease of it through i, failing the test if it cannot; it
// returns the lease, its credentials and the role.
func (e *motoEnv) issueDeploy(i *Issuer) (*Lease, Credentials, Role) {
	e.t.Helper()
	role := e.fullRole("deploy")
	l, creds, err := i.Issue(e.ctx(), role, Request{})
	if err != nil {
		e.t.Fatal(err)
	}
	return l, creds, role
}

// usersUnder lists the user names moto holds under path.
func (e *motoEnv) usersUnder(path string) []string {
	e.t.Helper()
	out, err := e.iam.ListUsers(e.ctx(), &iam.ListUsersInput{PathPrefix: aws.String(path)})
	if err != nil {
		e.t.Fatal(err)
	}
	return fieldOf(out.Users, func(u types.User) *string { return u.UserName })
}

// fieldOf lists one field of each item of an IAM listing (names, ARNs, key IDs), in the listing's order; nil for an
// empty listing.
func fieldOf[T any](items []T, field func(T) *string) []string {
	var out []string
	for _, it := range items {
		out = append(out, aws.ToString(field(it)))
	}
	return out
}

// decodedPolicy reads an inline policy back: IAM returns documents URL-encoded.
func (e *motoEnv) inlinePolicy(user, name string) string {
	e.t.Helper()
	out, err := e.iam.GetUserPolicy(e.ctx(), &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("reading inline policy %s of %s: %v", name, user, err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		return aws.ToString(out.PolicyDocument)
	}
	return doc
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%q\ndoes not contain %q", s, p)
		}
	}
}
