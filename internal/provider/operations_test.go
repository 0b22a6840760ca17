package provider_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/revokecmd"
)

// runRevoke runs the binary's `revoke` subcommand against moto as the root identity, and fails the test unless it
// exits 0.
func runRevoke(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", acctest.RootAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", acctest.RootSecretKey)
	t.Setenv("AWS_REGION", acctest.Region)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var out, errOut bytes.Buffer
	args = append(args, "--iam-endpoint", acctest.Moto.URL, "--sts-endpoint", acctest.Moto.URL)
	if code := revokecmd.Run(context.Background(), args, &out, &errOut); code != revokecmd.ExitOK {
		t.Fatalf("revoke %v: exit %d\n%s%s", args, code, out.String(), errOut.String())
	}
	return out.String()
}

// After an emergency `revoke --role`, a managed credential of the role is found gone at refresh and issued again;
// a credential of another role is not touched.
func TestAccOperations_emergencyRevokeThenRefreshReissues(t *testing.T) {
	acctest.Reset(t)
	// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
	config := acctest.ProviderBlock("") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["` + readOnly + `"]
}

resource "awsdynamic_role" "other" {
  name            = "other"
  credential_type = "iam_user"
  policy_arns     = ["` + readOnly + `"]
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
}

resource "awsdynamic_credential" "other" {
  role = awsdynamic_role.other
}
`
	old, otherOld := attrCapture{}, attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{Config: config, Check: resource.ComposeAggregateTestCheckFunc(
				old.save(credAddr, "id", "iam_user_name", "access_key_id"),
				otherOld.save("awsdynamic_credential.other", "id", "iam_user_name", "access_key_id"),
			)},
			{
				PreConfig: func() {
					out := runRevoke(t, "--role", "deploy")
					if !strings.Contains(out, "revoked "+old["iam_user_name"]) || !strings.Contains(out, "revoked 1, failed 0") {
						t.Fatalf("revoke --role deploy did not revoke %s:\n%s", old["iam_user_name"], out)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("awsdynamic_credential.other", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					old.changed(credAddr, "id", "iam_user_name", "access_key_id"),
					otherOld.same("awsdynamic_credential.other", "id", "iam_user_name", "access_key_id"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{readOnly}}),
				),
			},
		},
	})
}

// An ephemeral credential revoked by `revoke` while its run lasts closes without any diagnostic: the lease is
// already gone, which is what Close wanted. Terraform cannot be paused between an ephemeral resource's open and its
// close, so this test speaks the plugin protocol to the provider itself, as Terraform does: configure, open, run
// `revoke --role` from outside, close.
func TestAccOperations_ephemeralCloseAfterEmergencyRevokeIsQuiet(t *testing.T) {
	acctest.Reset(t)
	ctx := context.Background()
	srv, schemas := protoServer(t, provider.Options{})
	protoConfigure(t, srv, schemas)

	role := map[string]any{"name": "deploy", "credential_type": "iam_user", "policy_arns": []string{readOnly}}
	open, err := srv.OpenEphemeralResource(ctx, &tfprotov6.OpenEphemeralResourceRequest{TypeName: "awsdynamic_credential",
		Config: protoValue(t, schemas.EphemeralResourceSchemas["awsdynamic_credential"].ValueType(), map[string]any{"role": role})})
	if err != nil || len(open.Diagnostics) > 0 {
		t.Fatalf("open: %v %s", err, fmtDiags(open.Diagnostics))
	}
	users, err := usersUnder(ctx, "/")
	if err != nil || len(users) != 1 {
		t.Fatalf("after open, users %v (%v), want the lease's one", users, err)
	}

	out := runRevoke(t, "--role", "deploy")
	if !strings.Contains(out, "revoked "+users[0]) {
		t.Fatalf("revoke --role deploy did not revoke %s:\n%s", users[0], out)
	}

	closed, err := srv.CloseEphemeralResource(ctx, &tfprotov6.CloseEphemeralResourceRequest{TypeName: "awsdynamic_credential", Private: open.Private})
	if err != nil {
		t.Fatal(err)
	}
	if len(closed.Diagnostics) > 0 {
		t.Errorf("closing a credential already revoked says:\n%s", fmtDiags(closed.Diagnostics))
	}
	if users, err := usersUnder(ctx, "/"); err != nil || len(users) != 0 {
		t.Errorf("after close, users %v (%v), want none", users, err)
	}
}

// Refresh reads the key's last use (null until the first use) and answers a guard that another principal removed:
// it is put back, dated the lease's expiry, and the plan stays empty.
// Parallel on purpose: a different out-of-band change, tested end to end; only the two-step harness is alike.
func TestAccOperations_refreshSeesUseAndPutsBackTheGuard(t *testing.T) {
	acctest.Reset(t)
	config := deployConfig("", readOnlyPolicy, "")
	got := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{Config: config, Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckNoResourceAttr(credAddr, "last_used_at"),
				resource.TestCheckNoResourceAttr(credAddr, "last_used_service"),
				resource.TestCheckNoResourceAttr(credAddr, "last_used_region"),
				got.save(credAddr, "id", "iam_user_name", "iam_user_arn", "access_key_id", "secret_access_key", "expires_at"),
			)},
			{
				PreConfig: func() {
					// A use of the key (moto records it as AWS does), then another principal deletes the guard.
					if err := keyAnswersAs(got["access_key_id"], got["secret_access_key"], got["iam_user_arn"]); err != nil {
						t.Fatal(err)
					}
					if _, err := acctest.IAM().DeleteUserPolicy(context.Background(), &iam.DeleteUserPolicyInput{
						UserName: aws.String(got["iam_user_name"]), PolicyName: aws.String(lease.GuardPolicyName)}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					got.same(credAddr, "id", "access_key_id"),
					resource.TestMatchResourceAttr(credAddr, "last_used_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)),
					resource.TestCheckResourceAttr(credAddr, "last_used_service", "sts"),
					resource.TestCheckResourceAttr(credAddr, "last_used_region", acctest.Region),
					func(*terraform.State) error {
						u, err := readUser(context.Background(), got["iam_user_name"])
						if err != nil {
							return err
						}
						exp, err := u.guardExpiry()
						if err != nil {
							return fmt.Errorf("the guard was not put back: %w", err)
						}
						if want := got["expires_at"]; exp.UTC().Format(time.RFC3339) != want {
							return fmt.Errorf("the guard put back enforces %s, want the lease's %s", exp, want)
						}
						return nil
					},
				),
			},
		},
	})
}

// Every issued user carries who issued it and, in CI, the run (here GitHub Actions' variables, set for the test;
// the token never reaches a tag); audit_tags = false leaves both out. Two runs: the CLIs attach one in-process
// provider for every configuration of it, so a second, aliased provider block would configure the first again.
func TestAccOperations_auditTags(t *testing.T) {
	for k, v := range map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_TOKEN": "ghs_notatag", "GITLAB_CI": "", "CIRCLECI": ""} {
		t.Setenv(k, v)
	}
	config := func(extra string) string {
		return deployConfig(extra, readOnlyPolicy, "")
	}
	tagsOf := func(s *terraform.State) (map[string]string, error) {
		a, err := stateAttrs(s, credAddr)
		if err != nil {
			return nil, err
		}
		u, err := readUser(context.Background(), a["iam_user_name"])
		if err != nil {
			return nil, err
		}
		return u.Tags, nil
	}
	acctest.Reset(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{{
			Config: config(""),
			Check: func(s *terraform.State) error {
				tags, err := tagsOf(s)
				if err != nil {
					return err
				}
				if got, want := tags[lease.TagIssuedBy], rootARN(); got != want {
					return fmt.Errorf("%s is %q, want the root identity %q; tags %v", lease.TagIssuedBy, got, want, tags)
				}
				if got, want := tags[lease.TagIssuedFrom], "github-actions:acme/infra/runs/42/attempts/1"; got != want {
					return fmt.Errorf("%s is %q, want %q", lease.TagIssuedFrom, got, want)
				}
				for k, v := range tags {
					if strings.Contains(v, "ghs_") {
						return fmt.Errorf("tag %s holds the CI token: %q", k, v)
					}
				}
				return nil
			},
		}},
	})
	acctest.Reset(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{{
			Config: config("  audit_tags = false"),
			Check: func(s *terraform.State) error {
				tags, err := tagsOf(s)
				if err != nil {
					return err
				}
				for _, k := range []string{lease.TagIssuedBy, lease.TagIssuedFrom} {
					if _, ok := tags[k]; ok {
						return fmt.Errorf("audit_tags = false, yet the user is tagged %v", tags)
					}
				}
				return nil
			},
		}},
	})
}

// A role bound to networks puts the Deny into the guard AWS holds; changing the networks rewrites the guard in place
// on the live credential (same user, same key); a malformed entry is refused at plan, naming the attribute. moto
// stores the guard but does not evaluate its conditions (internal/acctest/moto/README.md): what the statement denies
// is proven by the engine's evaluator (TestGuardProof_NetworkStatementDeniesOnlyOtherNetworks); here, that the
// provider writes and changes it.
func TestAccOperations_allowedNetworks(t *testing.T) {
	acctest.Reset(t)
	config := func(networks string) string {
		return deployConfig("", readOnlyPolicy+"\n"+networks, "")
	}
	guardNetwork := func(want lease.NetworkBinding) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			a, err := stateAttrs(s, credAddr)
			if err != nil {
				return err
			}
			u, err := readUser(context.Background(), a["iam_user_name"])
			if err != nil {
				return err
			}
			g, err := lease.ReadGuard(u.Inline[lease.GuardPolicyName])
			if err != nil {
				return err
			}
			if !g.Network.Equal(want) {
				return fmt.Errorf("the guard allows %s, want %s", g.Network, want)
			}
			return nil
		}
	}
	first := lease.NetworkBinding{SourceIPs: []string{"203.0.113.0/24"}, SourceVPCs: []string{"vpc-0123456789abcdef0"}}
	second := lease.NetworkBinding{VPCEndpoints: []string{"vpce-1a2b3c4d"}}
	got := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{
				Config:      config(`  allowed_source_ips = ["203.0.113.0/33"]` + "\n" + `  allowed_vpc_endpoints = ["vpc-1a2b3c4d"]`),
				ExpectError: regexp.MustCompile(`(?s)Invalid Allowed Network.*allowed_source_ips.*203\.0\.113\.0/33`),
			},
			{
				Config: config(`  allowed_source_ips  = ["203.0.113.0/24"]` + "\n" + `  allowed_source_vpcs = ["vpc-0123456789abcdef0"]`),
				Check:  resource.ComposeAggregateTestCheckFunc(guardNetwork(first), got.save(credAddr, "id", "iam_user_name", "access_key_id")),
			},
			{
				Config: config(`  allowed_vpc_endpoints = ["vpce-1a2b3c4d"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(guardNetwork(second), got.same(credAddr, "id", "iam_user_name", "access_key_id")),
			},
			{
				Config: config(""),
				Check:  resource.ComposeAggregateTestCheckFunc(guardNetwork(lease.NetworkBinding{}), got.same(credAddr, "id", "access_key_id")),
			},
		},
	})
}
