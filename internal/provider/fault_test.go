package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
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
