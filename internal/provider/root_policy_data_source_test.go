package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// forMotoEnforcement returns the rendered policy as moto can enforce it, and says what that drops.
//
// moto's IAM authorization matches IAM actions only in statements whose Resource is "*", and it does not evaluate
// the conditions of an identity policy (iam:PermissionsBoundary, iam:PolicyARN): it applies the statement as if
// the condition held. So every Resource becomes "*" (the rendered user, group, role and boundary ARNs are AWS's to
// enforce), the Allow statements' conditions are dropped (moto would ignore them anyway), and the Deny statements
// that depend on a condition are dropped (moto would apply them unconditionally: "deny CreateUser with another
// boundary" would deny every CreateUser). The unconditional Denies (removing the boundary, editing the boundary
// policy) stay. What this test proves is that the rendered policy names every action the lifecycle calls; that its
// resources and conditions are right is internal/rootpolicy's unit tests' to prove.
func forMotoEnforcement(t *testing.T, rendered string) string {
	t.Helper()
	var doc struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(rendered), &doc); err != nil {
		t.Fatalf("the rendered policy does not parse: %v", err)
	}
	kept := doc.Statement[:0]
	for _, s := range doc.Statement {
		_, conditioned := s["Condition"]
		if s["Effect"] == "Deny" && conditioned {
			continue
		}
		delete(s, "Condition")
		s["Resource"] = "*"
		kept = append(kept, s)
	}
	doc.Statement = kept
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rootUserHolding creates the IAM user name holding exactly document as its only policy and returns its key.
func rootUserHolding(t *testing.T, name, document string) (string, string) {
	t.Helper()
	ctx := context.Background()
	c := acctest.IAM()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("awsdynamic-root"), PolicyDocument: aws.String(document)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: out.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

// expiredLeaseUser leaves what a lease whose run never came back looks like: a user with the boundary, the lease
// tags and an expiry guard whose date has passed, for the sweep to find.
func expiredLeaseUser(t *testing.T, name, boundary string) {
	t.Helper()
	ctx := context.Background()
	c := acctest.IAM()
	past := time.Now().Add(-2 * time.Hour).UTC()
	created, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(leasePath), PermissionsBoundary: aws.String(boundary),
		Tags: []iamtypes.Tag{{Key: aws.String(lease.TagLeaseID), Value: aws.String("lease-expired")}, {Key: aws.String(lease.TagExpiresAt), Value: aws.String(past.Format(time.RFC3339))}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(lease.GuardPolicyName),
		PolicyDocument: aws.String(lease.GuardDocument(past, aws.ToString(created.User.Arn)))}); err != nil {
		t.Fatal(err)
	}
}

// withoutAuth runs check with moto's authorization off (its SDK clients sign with moto's test keys, which no IAM
// user owns) and turns it back on for the steps that follow.
func withoutAuth(check func() error) error {
	if err := acctest.Moto.DisableAuth(); err != nil {
		return err
	}
	err := check()
	if e := acctest.Moto.EnableAuth(); e != nil && err == nil {
		err = e
	}
	return err
}

// The rendered root policy, and nothing else, lets the provider run the whole iam_user lifecycle under moto's IAM
// authorization: the sweep of an expired lease, issue (managed and ephemeral), renewal on refresh, an in-place role
// update and revoke. moto cannot enforce the policy's resources and conditions (see forMotoEnforcement): this proves
// its actions; the boundary requests are asserted with moto's recorder, since moto also drops a user's boundary.
func TestAccRootPolicy_lifecycleUnderEnforcement(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "deployers")
	boundary := mustCreatePolicy(t, "awsdynamic-boundary")
	extra := mustCreatePolicy(t, "deploy-extra")
	providerArgs := fmt.Sprintf("  required_permissions_boundary_arn = %q\n  sweep_expired_leases = true", boundary)
	dataSource := fmt.Sprintf(`
data "awsdynamic_root_policy" "root" {
  allowed_policy_arns = [%q, %q]
  allowed_groups      = ["deployers"]
}
`, readOnly, extra)

	// Rendered by the provider as the account's administrator would, before the root identity exists.
	var rendered string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(providerArgs) + dataSource,
			Check: func(s *terraform.State) error {
				a, err := stateAttrs(s, "data.awsdynamic_root_policy.root")
				if err != nil {
					return err
				}
				rendered = a["json"]
				return nil
			},
		}},
	})
	if rendered == "" {
		t.Fatal("the data source rendered no policy")
	}
	accessKey, secretKey := rootUserHolding(t, "awsdynamic-root", forMotoEnforcement(t, rendered))
	expiredLeaseUser(t, "awsdyn-expired", boundary)

	config := func(policyARNs string, managed bool) string {
		cfg := acctest.ProviderBlockAt(acctest.Moto.URL, accessKey, secretKey, providerArgs) + dataSource + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ` + policyARNs + `
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["deployers"]
}

ephemeral "awsdynamic_credential" "run" {
  role = awsdynamic_role.deploy
  ttl  = "15m"
}
` + useEphemeral("run")
		if managed {
			cfg += `
resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
  ttl  = "1h"
}
`
		}
		return cfg
	}
	one := fmt.Sprintf("[%q]", readOnly)
	both := fmt.Sprintf("[%q, %q]", readOnly, extra)
	sameRendered := func(s *terraform.State) error {
		a, err := stateAttrs(s, "data.awsdynamic_root_policy.root")
		if err != nil {
			return err
		}
		if a["json"] != rendered {
			return fmt.Errorf("the data source renders another policy as the root identity than the one it holds:\n%s\nwant\n%s", a["json"], rendered)
		}
		return nil
	}
	everyUserBounded := func(*terraform.State) error {
		reqs, err := recorded()
		if err != nil {
			return err
		}
		n := 0
		for _, r := range reqs {
			if r.Action == "CreateUser" {
				n++
				if got := r.Form.Get("PermissionsBoundary"); got != boundary {
					return fmt.Errorf("CreateUser of %s sent PermissionsBoundary %q, want %q", r.Form.Get("UserName"), got, boundary)
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("moto recorded no CreateUser")
		}
		return nil
	}

	fake := clock.NewFake(time.Now())
	authOff := enforceAuth(t)
	startRecording(t)
	var expiresAt string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fake}),
		CheckDestroy:             noLeaseUsersAuthOff(authOff, "deployers"),
		Steps: []resource.TestStep{
			{
				// Configure sweeps the expired lease's user; apply issues the managed and the ephemeral credential.
				Config: config(one, true),
				Check: resource.ComposeAggregateTestCheckFunc(
					sameRendered,
					everyUserBounded,
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundary),
					func(s *terraform.State) error {
						a, err := stateAttrs(s, credAddr)
						if err != nil {
							return err
						}
						expiresAt = a["expires_at"]
						return withoutAuth(func() error {
							if _, err := acctest.IAM().GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("awsdyn-expired")}); err == nil {
								return fmt.Errorf("the expired lease's user is still there: the sweep did not run as the root identity")
							}
							return nil
						})
					},
				),
			},
			// Inside the renewal window: refresh renews (the guard is rewritten, the tags move).
			renewedOnRefresh(fake, credAddr, &expiresAt),
			{
				// The role attaches another allowed policy: an in-place update.
				Config: config(both, true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					a, err := stateAttrs(s, credAddr)
					if err != nil {
						return err
					}
					var out *iam.ListAttachedUserPoliciesOutput
					if err := withoutAuth(func() (err error) {
						out, err = acctest.IAM().ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String(a["iam_user_name"])})
						return err
					}); err != nil {
						return err
					}
					var got []string
					for _, p := range out.AttachedPolicies {
						got = append(got, aws.ToString(p.PolicyArn))
					}
					sort.Strings(got)
					if want := []string{extra, readOnly}; fmt.Sprint(got) != fmt.Sprint(want) {
						return fmt.Errorf("attached %v, want %v", got, want)
					}
					return nil
				},
			},
			{
				// The managed credential leaves the configuration: revoked as the root identity.
				Config: config(both, false),
				Check: func(*terraform.State) error {
					return withoutAuth(func() error { return noLeaseUsers("deployers") })
				},
			},
		},
	})
}

// The data source refuses, at plan, arguments that cannot make a working policy, naming the argument.
func TestAccRootPolicy_badArgumentsFailAtPlan(t *testing.T) {
	acctest.PreCheck(t)
	for name, tc := range map[string]struct{ args, want string }{
		"assumed_role without role_arns": {`credential_types = ["assumed_role"]`, `(?s)Missing Role ARNs.*role_arns`},
		"role_arns without assumed_role": {`role_arns = ["arn:aws:iam::123456789012:role/deployer"]`, `(?s)Role ARNs Without assumed_role.*` + words(`add "assumed_role" to credential_types`)},
		"unknown credential type":        {`credential_types = ["root"]`, `(?s)credential_types.*iam_user`},
		"policy that is no ARN":          {`allowed_policy_arns = ["ReadOnlyAccess"]`, `(?s)Invalid Policy ARN.*allowed_policy_arns`},
		"group with a path":              {`allowed_groups = ["/team/deployers"]`, `(?s)allowed_groups.*IAM group name`},
	} {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				Steps: []resource.TestStep{{
					Config:      acctest.ProviderBlock("") + "data \"awsdynamic_root_policy\" \"root\" {\n  " + tc.args + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
}
