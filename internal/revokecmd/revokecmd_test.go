package revokecmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/cmdtest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "revokecmd", &motoServer)) }

type env struct {
	t   *testing.T
	iam *iam.Client
	is  *lease.Issuer
}

func newEnv(t *testing.T) *env {
	_, c := cmdtest.Env(t, motoServer)
	t.Setenv("AWS_ENDPOINT_URL_IAM", motoServer.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", motoServer.URL)
	return &env{t: t, iam: c, is: cmdtest.Issuer(c, time.Now())}
}

func (e *env) issue(role string) *lease.Lease {
	e.t.Helper()
	l, _ := cmdtest.Issue(e.t, e.is, role, time.Hour)
	return l
}

func (e *env) exists(name string) bool {
	_, err := e.iam.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	return err == nil
}

func TestRun_RevokesEveryLeaseOfTheRoleAndNothingElse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b, other := e.issue("deploy"), e.issue("deploy"), e.issue("other")
	// A user in the same path, carrying no lease tag: never touched.
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("someone"), Path: aws.String(lease.DefaultUserPath)}); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--role", "deploy", "--dry-run"}, &out, &errOut, clock.Real{}); code != ExitOK {
		t.Fatalf("dry run: exit %d: %s", code, errOut.String())
	}
	if !e.exists(a.UserName) || !e.exists(b.UserName) {
		t.Fatalf("a dry run revoked:\n%s", out.String())
	}
	for _, l := range []*lease.Lease{a, b} {
		if !strings.Contains(out.String(), "would revoke "+l.UserName+" (lease "+l.ID+", role deploy, was live)") {
			t.Errorf("dry run does not list %s:\n%s", l.UserName, out.String())
		}
	}

	out.Reset()
	errOut.Reset()
	if code := run(ctx, []string{"--role", "deploy"}, &out, &errOut, clock.Real{}); code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, out.String(), errOut.String())
	}
	if e.exists(a.UserName) || e.exists(b.UserName) {
		t.Errorf("the role's leases survived:\n%s", out.String())
	}
	if !e.exists(other.UserName) || !e.exists("someone") {
		t.Errorf("revoke --role deploy touched another role's lease or a user without a lease:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "revoked 2, failed 0, under /awsdynamic/") {
		t.Errorf("summary missing:\n%s", out.String())
	}

	// One lease by its ID; then again: nothing carries it any more, which a script must see.
	out.Reset()
	if code := run(ctx, []string{"--lease-id", other.ID}, &out, &errOut, clock.Real{}); code != ExitOK {
		t.Fatalf("--lease-id: exit %d: %s", code, errOut.String())
	}
	if e.exists(other.UserName) {
		t.Errorf("--lease-id %s left its user:\n%s", other.ID, out.String())
	}
	errOut.Reset()
	if code := run(ctx, []string{"--lease-id", other.ID}, &out, &errOut, clock.Real{}); code != ExitFail {
		t.Errorf("--lease-id of a lease already gone: exit %d, want %d", code, ExitFail)
	}
	if !strings.Contains(errOut.String(), "no IAM user under /awsdynamic/ carries lease "+other.ID) {
		t.Errorf("stderr does not say the lease was not found: %s", errOut.String())
	}
}

// A lease whose guard someone deleted is the first to go in an incident: revoke --role revokes it too.
func TestRun_RevokesATamperedLease(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	l := e.issue("deploy")
	if _, err := e.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(l.UserName), PolicyName: aws.String(lease.GuardPolicyName)}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--role", "deploy"}, &out, &errOut, clock.Real{}); code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, out.String(), errOut.String())
	}
	if e.exists(l.UserName) || !strings.Contains(out.String(), "was tampered") {
		t.Errorf("the tampered lease was not revoked:\n%s", out.String())
	}
}

func TestRun_RefusesBadUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"neither":        {},
		"both":           {"--role", "r", "--lease-id", "lease-1"},
		"whole account":  {"--role", "r", "--path", "/"},
		"malformed path": {"--role", "r", "--path", "awsdynamic"},
		"extra argument": {"--role", "r", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, &out, &errOut, clock.Real{}); code != ExitUsage {
				t.Errorf("%v: exit %d, want %d; stderr: %s", args, code, ExitUsage, errOut.String())
			}
		})
	}
}
