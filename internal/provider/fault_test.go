package provider_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// The fault tests through Terraform: the provider's IAM and STS calls pass the fault proxy, which fails the chosen
// call; afterwards state and AWS must agree that nothing of the attempt is left, or a sweep removes what is.

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

// faultRole is a role with two policy ARNs, a document, a group and tags: every kind of step Issue has.
const faultRole = `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/SecurityAudit"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["deployers"]
  iam_tags        = { team = "platform" }
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
}
`

// An apply that fails at a chosen AWS call leaves no credential in state and nothing in AWS: the next plan creates
// the credential afresh, and moto holds no user, key or group membership from the failed attempt.
func TestAccCredential_applyFailingAtAChosenCallLeavesNothing(t *testing.T) {
	cases := []struct {
		name  string
		rule  faultproxy.Rule
		extra string // provider arguments
		want  string
		// keys is how many access keys moto created during the failed apply, each of which rollback must delete.
		keys int
	}{
		{
			name: "second AttachUserPolicy denied",
			rule: faultproxy.Rule{Action: "AttachUserPolicy", Call: 2, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied},
			want: `(?s)Credential Not Issued.*` + words(`attaching policy`) + `\s+arn:aws:iam::aws:policy/\S+\s+` + words(`to IAM user "awsdyn-`) +
				`.*AccessDenied.*` + words("rollback complete: nothing from this attempt remains"),
		},
		{
			// The guard and the document are put at once; whichever arrives first is refused.
			name: "first PutUserPolicy denied",
			rule: faultproxy.Rule{Action: "PutUserPolicy", Call: 1, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied},
			want: `(?s)Credential Not Issued.*` + words(`putting the`) + `\s+(expiry\s+guard\s+policy|role's\s+policy\s+document).*AccessDenied.*` + words("rollback complete"),
		},
		{
			// Not Throttling: a throttled call is retried for about two minutes (awsconfig.ThrottleMaxAttempts).
			name:  "AddUserToGroup unavailable past the retries",
			rule:  faultproxy.Rule{Action: "AddUserToGroup", Kind: faultproxy.Error, Fault: faultproxy.ServiceUnavailable},
			extra: "  max_retries = 1",
			want:  `(?s)Credential Not Issued.*` + words(`adding IAM user "awsdyn-`) + `.*` + words(`to group "deployers"`) + `.*ServiceUnavailable.*` + words("rollback complete"),
		},
		{
			// Every attempt reaches moto, which creates a key each time; the SDK never hears of either.
			name:  "CreateAccessKey cut on every attempt",
			rule:  faultproxy.Rule{Action: "CreateAccessKey", Kind: faultproxy.Cut},
			extra: "  max_retries = 1",
			want:  `(?s)Credential Not Issued.*` + words(`creating an access key for IAM user "awsdyn-`) + `.*` + words("rollback complete"),
			keys:  2,
		},
		{
			// moto created the user; the SDK's retry meets EntityAlreadyExists, and the user carries this lease's ID.
			name: "CreateUser cut once",
			rule: faultproxy.Rule{Action: "CreateUser", Kind: faultproxy.Cut, Times: 1},
			want: `(?s)Credential Not Issued.*` + words(`creating IAM user "awsdyn-`) + `.*EntityAlreadyExists.*` + words("rollback complete"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acctest.Reset(t)
			mustCreateGroup(t, "deployers")
			proxy := startFaultProxy(t)
			config := proxiedProvider(proxy.URL, tc.extra) + faultRole
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				CheckDestroy:             func(*terraform.State) error { return noLeaseUsers("deployers") },
				Steps: []resource.TestStep{
					{
						PreConfig:   func() { proxy.Reset(); proxy.Add(tc.rule) },
						Config:      config,
						ExpectError: regexp.MustCompile(tc.want),
					},
					{
						PreConfig: func() {
							if n := proxy.Count(tc.rule.Action); n == 0 {
								t.Fatalf("the fault on %s never fired: the apply failed for another reason", tc.rule.Action)
							}
							if err := noLeaseUsers("deployers"); err != nil {
								t.Fatalf("after the failed apply: %v", err)
							}
							if tc.keys > 0 {
								if created, deleted := proxy.Count("CreateAccessKey"), proxy.Count("DeleteAccessKey"); created != tc.keys || deleted < created {
									t.Fatalf("CreateAccessKey reached moto %d times (want %d) and DeleteAccessKey %d times: every key moto made must be deleted (moto's DeleteUser does not prove it)", created, tc.keys, deleted)
								}
							}
							t.Logf("fault point %s (%s): calls %v", tc.rule.Action, tc.name, proxy.Counts())
							proxy.Reset()
						},
						Config: config,
						// A create, not an update or a no-op: the failed apply left no credential in state.
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction("awsdynamic_credential.ci", plancheck.ResourceActionCreate),
						}},
						Check: resource.TestCheckResourceAttrSet("awsdynamic_credential.ci", "access_key_id"),
					},
				},
			})
		})
	}
}

// A destroy that fails (DeleteUser refused once) keeps the credential in state, and the next destroy removes the
// user: the failed revoke already deleted the key, so a refresh in between must not take the credential for gone.
func TestAccCredential_destroyFailingKeepsCredentialForNextDestroy(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "deployers")
	proxy := startFaultProxy(t)
	config := proxiedProvider(proxy.URL, "") + faultRole
	var user string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             func(*terraform.State) error { return noLeaseUsers("deployers") },
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					user = s.RootModule().Resources["awsdynamic_credential.ci"].Primary.Attributes["iam_user_name"]
					return nil
				},
			},
			{
				PreConfig: func() {
					proxy.Reset()
					proxy.Add(faultproxy.Rule{Action: "DeleteUser", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied, Times: 1})
				},
				Config:      config,
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Credential Not Revoked.*` + words(`it stays in state so that the next destroy tries again`) + `.*` + words(`deleting IAM user`) + `.*AccessDenied`),
			},
			{
				PreConfig: func() {
					names, err := usersUnder(context.Background(), leasePath)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Contains(names, user) {
						t.Fatalf("user %s is gone although DeleteUser was refused; users: %v", user, names)
					}
					proxy.Reset()
				},
				Config:  config,
				Destroy: true,
				// The state this destroy starts from, after its refresh: the credential must still be there.
				Check: func(s *terraform.State) error {
					return resource.TestCheckResourceAttr("awsdynamic_credential.ci", "iam_user_name", user)(s)
				},
			},
		},
	})
}

// A provider killed while it issues (the proxy holds CreateAccessKey until the kill) leaves a half-created user that
// no state accounts for: lease tags and a guard, no key. The binary's sweep leaves it while its guard is live (a
// sweep trusts only what AWS enforces), removes it once the guard has denied everything for longer than the grace,
// and leaves other users be. The lease's ttl is a few seconds so that the guard expires within the test.
// The provider must run as its own process for this, so the test builds it and drives the CLI directly.
func TestAccCredential_providerKilledMidIssueIsSwept(t *testing.T) {
	acctest.Reset(t)
	cli := terraformCLI(t)
	ctx := context.Background()
	mustCreateGroup(t, "deployers")
	// Under the provider's path, without lease tags: the sweep must not touch it.
	if _, err := acctest.IAM().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bystander"), Path: aws.String(leasePath),
		Tags: []iamtypes.Tag{{Key: aws.String(lease.TagExpiresAt), Value: aws.String("2000-01-01T00:00:00Z")}}}); err != nil {
		t.Fatal(err)
	}
	proxy := startFaultProxy(t)
	proxy.Add(faultproxy.Rule{Action: "CreateAccessKey", Kind: faultproxy.Hold})

	w := newCLIWorkdir(t, cli, devOverridesConfig(t))
	const ttl = 6 * time.Second
	w.write("main.tf", requiredProviders+proxiedProvider(proxy.URL, "")+
		strings.Replace(faultRole, "role = awsdynamic_role.deploy\n", fmt.Sprintf("role = awsdynamic_role.deploy\n  ttl  = %q\n", ttl), 1))
	apply := w.start("apply", "-auto-approve", "-input=false")
	issued := time.Now()

	waitFor(t, 2*time.Minute, "the provider to reach CreateAccessKey", func() bool { return proxy.Holding("CreateAccessKey") == 1 }, apply.done)
	pids := w.providerPIDs()
	if len(pids) != 1 {
		t.Fatalf("provider processes %v, want exactly one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The held call must see its client go away, so that releasing it cannot create a key after all.
	waitFor(t, 30*time.Second, "the proxy to drop the killed provider's CreateAccessKey", func() bool { return proxy.Holding("CreateAccessKey") == 0 }, nil)
	proxy.Release()
	out, err := apply.wait(2 * time.Minute)
	if err == nil {
		t.Fatalf("apply succeeded although its provider was killed:\n%s", out)
	}
	t.Logf("apply after the kill (%v):\n%s", err, lastLines(out, 15))

	// The orphan: lease tags, the guard, no key; and no state that accounts for it.
	names, err := usersUnder(ctx, leasePath)
	if err != nil {
		t.Fatal(err)
	}
	var orphan string
	for _, n := range names {
		if n != "bystander" {
			orphan = n
		}
	}
	if len(names) != 2 || orphan == "" {
		t.Fatalf("users under %s after the kill: %v, want the bystander and one orphan", leasePath, names)
	}
	tags, err := acctest.IAM().ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(orphan)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tags.Tags, func(tg iamtypes.Tag) bool { return aws.ToString(tg.Key) == lease.TagLeaseID }) {
		t.Fatalf("the orphan %s carries no %s tag: %v", orphan, lease.TagLeaseID, tags.Tags)
	}
	if keys, err := acctest.IAM().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(orphan)}); err != nil || len(keys.AccessKeyMetadata) != 0 {
		t.Fatalf("the orphan has access keys %v (%v): the held CreateAccessKey must not have reached moto", keys, err)
	}
	if state, _ := w.run("state", "list"); strings.Contains(state, "awsdynamic_credential") {
		t.Fatalf("the state lists a credential although Create never returned:\n%s", state)
	}

	// The sweep, as a scheduled job runs it: AWS settings from the environment, endpoints as flags. Its grace is a
	// second (a grace must be positive).
	sweep := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(w.binary(), append([]string{"sweep", "--path", leasePath, "--grace", "1s",
			"--iam-endpoint", acctest.Moto.URL, "--sts-endpoint", acctest.Moto.URL, "--region", acctest.Region}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+acctest.RootAccessKey, "AWS_SECRET_ACCESS_KEY="+acctest.RootSecretKey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sweep %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if time.Since(issued) < ttl {
		if out := sweep(); !strings.Contains(out, "revoked 0") {
			t.Fatalf("a sweep while the orphan's guard is live revoked something:\n%s", out)
		}
	}
	time.Sleep(time.Until(issued.Add(ttl + 3*time.Second))) // past the guard's date and the grace
	if out := sweep("--dry-run"); !strings.Contains(out, "would revoke 1") || !strings.Contains(out, orphan) {
		t.Fatalf("dry-run sweep did not name the orphan %s:\n%s", orphan, out)
	}
	out = sweep()
	t.Logf("sweep:\n%s", out)
	if !strings.Contains(out, "revoked 1") || !strings.Contains(out, orphan) || !strings.Contains(out, "expiry guard has denied everything") {
		t.Fatalf("sweep did not revoke the orphan %s:\n%s", orphan, out)
	}
	if names, err := usersUnder(ctx, leasePath); err != nil || !slices.Equal(names, []string{"bystander"}) {
		t.Fatalf("users under %s after the sweep: %v (%v), want only the bystander", leasePath, names, err)
	}
	if err := noGroupMembers(ctx, "deployers"); err != nil {
		t.Fatal(err)
	}
	if _, err := acctest.IAM().DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bystander")}); err != nil {
		t.Fatal(err)
	}
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

// waitFor polls cond until it holds; it fails the test on timeout, or when done (if not nil) is closed first.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-done:
			t.Fatalf("the CLI exited while waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
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

// Terraform may call Renew on an ephemeral credential while it closes it: its renewal loop releases its lock
// before Close and can still fire a Renew whose timer had already run out. Here every Renew comes due at once
// (the clock stands 50 minutes behind Terraform's, so RenewAt is always past) and Terraform renews in a loop until
// the run closes the credential. Whatever the interleaving, Close must revoke everything: a Renew that lands during
// Close must not put the guard back on a user Close is deleting.
func TestAccCredential_ephemeralRenewRacingCloseLeavesNothing(t *testing.T) {
	acctest.Reset(t)
	proxy := startFaultProxy(t)
	fake := clock.NewFake(time.Now().Add(-50 * time.Minute))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("calls in order: %v", proxy.Actions())
		}
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fake}),
		CheckDestroy:             func(*terraform.State) error { return noLeaseUsers() },
		Steps: []resource.TestStep{{
			Config: proxiedProvider(proxy.URL, "") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

ephemeral "awsdynamic_credential" "run" {
  role         = awsdynamic_role.deploy
  ttl          = "15m"
  renew_before = "5m"
}
` + useEphemeral("run"),
			Check: func(*terraform.State) error {
				t.Logf("calls: %v", proxy.Counts())
				if proxy.Count("TagUser") == 0 {
					return errors.New("Terraform never renewed the ephemeral credential: the test proves nothing")
				}
				return noLeaseUsers()
			},
		}},
	})
}
