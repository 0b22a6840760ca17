package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// boundaryCalls lists the recorded requests that set or remove a user's permissions boundary.
func boundaryCalls() ([]string, error) {
	reqs, err := recorded()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range reqs {
		if r.Action == "PutUserPermissionsBoundary" || r.Action == "DeleteUserPermissionsBoundary" {
			out = append(out, r.Action+" "+r.Form.Get("UserName"))
		}
	}
	return out, nil
}

// createUserBoundaries maps the user name of every recorded CreateUser to the PermissionsBoundary it sent.
func createUserBoundaries() (map[string]string, error) {
	reqs, err := recorded()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range reqs {
		if r.Action == "CreateUser" {
			out[r.Form.Get("UserName")] = r.Form.Get("PermissionsBoundary")
		}
	}
	return out, nil
}

// required_permissions_boundary_arn reaches every iam_user the provider creates, managed and ephemeral; a role change
// in place never touches it; a new required boundary replaces the credential with one whose user carries it; and
// dropping the requirement leaves the boundary on the user.
//
// moto drops PermissionsBoundary on CreateUser and answers PutUserPermissionsBoundary and
// DeleteUserPermissionsBoundary with HTTP 500, so GetUser cannot show a boundary: the test asserts the requests the
// provider sent, from moto's recorder. That 500 is also why a boundary call the provider should not make fails the
// in-place steps outright.
func TestAccCredential_requiredPermissionsBoundary(t *testing.T) {
	acctest.Reset(t)
	boundaryA, boundaryB := mustCreatePolicy(t, "boundary-a"), mustCreatePolicy(t, "boundary-b")
	config := func(required, role string) string {
		return deployConfig(fmt.Sprintf("  required_permissions_boundary_arn = %q", required), role, "") + `
ephemeral "awsdynamic_credential" "run" {
  role = awsdynamic_role.deploy
}
` + useEphemeral("run")
	}
	// Every user created in the step carried want, and there was one for the managed credential and the ephemeral one.
	everyCreateUserCarries := func(want string, atLeast int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got, err := createUserBoundaries()
			if err != nil {
				return err
			}
			if len(got) < atLeast {
				return fmt.Errorf("moto recorded %d CreateUser calls (%v), want at least %d", len(got), got, atLeast)
			}
			for user, b := range got {
				if b != want {
					return fmt.Errorf("CreateUser of %s sent PermissionsBoundary %q, want %q", user, b, want)
				}
			}
			return nil
		}
	}
	noBoundaryCall := func(*terraform.State) error {
		calls, err := boundaryCalls()
		if err != nil {
			return err
		}
		if len(calls) > 0 {
			return fmt.Errorf("an in-place role change sent %v: the user's boundary must stay as it is", calls)
		}
		return nil
	}
	orig := attrCapture{}
	update := []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{
				// The role names no boundary: the provider's goes on the managed and the ephemeral user alike.
				PreConfig: func() { startRecording(t) },
				Config:    config(boundaryA, `  policy_arns = ["`+readOnly+`"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(credAddr, tfjsonpath.New("permissions_boundary_arn"), knownvalue.StringExact(boundaryA)),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundaryA),
					everyCreateUserCarries(boundaryA, 2),
					orig.save(credAddr, "id", "access_key_id", "iam_user_name"),
				),
			},
			{
				// The role starts naming the same boundary, and changes its policies: an in-place update that sends
				// no PutUserPermissionsBoundary (the provider's boundary was already on both sides of the change).
				PreConfig:        func() { startRecording(t) },
				Config:           config(boundaryA, `  policy_arns = ["`+readOnly+`", "`+s3ReadOnly+`"]`+"\n  permissions_boundary_arn = \""+boundaryA+`"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.same(credAddr, "id", "access_key_id", "iam_user_name"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{readOnly, s3ReadOnly}}),
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundaryA),
					noBoundaryCall,
				),
			},
			{
				// The role stops naming it: the provider's still applies, so no DeleteUserPermissionsBoundary.
				PreConfig:        func() { startRecording(t) },
				Config:           config(boundaryA, `  policy_arns = ["`+readOnly+`"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.same(credAddr, "id", "access_key_id", "iam_user_name"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{readOnly}}),
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundaryA),
					noBoundaryCall,
				),
			},
			{
				// A new required boundary: the credential is replaced by one whose user was created with it, and
				// the user with the old boundary is revoked.
				PreConfig: func() { startRecording(t) },
				Config:    config(boundaryB, `  policy_arns = ["`+readOnly+`"]`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.changed(credAddr, "id", "access_key_id", "iam_user_name"),
					orig.checkUserGone(),
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundaryB),
					everyCreateUserCarries(boundaryB, 2),
					checkKeyWorks(credAddr),
				),
			},
			{
				// The provider stops requiring a boundary while the role changes: the user keeps the one it has (no
				// DeleteUserPermissionsBoundary), and the credential still says so.
				PreConfig: func() { startRecording(t) },
				Config: strings.Replace(config(boundaryB, `  policy_arns = ["`+s3ReadOnly+`"]`),
					fmt.Sprintf("  required_permissions_boundary_arn = %q", boundaryB), "", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{s3ReadOnly}}),
					resource.TestCheckResourceAttr(credAddr, "permissions_boundary_arn", boundaryB),
					noBoundaryCall,
				),
			},
		},
	})
}

// A role that names another boundary than the provider requires is refused at plan, on the role's attribute, for
// the role resource and both credential resources (the CLI prints the attribute only for a top-level one: a role
// object's attribute shows as the credential); an STS role is not given the boundary (it has no meaning there).
func TestAccCredential_otherBoundaryRefusedAtPlan(t *testing.T) {
	acctest.Reset(t)
	required := mustCreatePolicy(t, "required-boundary")
	providerBlock := acctest.ProviderBlock(fmt.Sprintf("  required_permissions_boundary_arn = %q", required))
	const role = `{
    name                     = "deploy"
    credential_type          = "iam_user"
    policy_arns              = ["` + readOnly + `"]
    permissions_boundary_arn = "` + powerUser + `"
  }`
	cases := []struct{ name, config, attr string }{
		{"role resource", `
resource "awsdynamic_role" "deploy" {
  name                     = "deploy"
  credential_type          = "iam_user"
  policy_arns              = ["` + readOnly + `"]
  permissions_boundary_arn = "` + powerUser + `"
}`, `permissions_boundary_arn`},
		{"managed credential", `
resource "awsdynamic_credential" "ci" {
  role = ` + role + `
}`, ``},
		{"ephemeral credential", `
ephemeral "awsdynamic_credential" "run" {
  role = ` + role + `
}` + useEphemeral("run"), ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				Steps: []resource.TestStep{{
					Config:   providerBlock + tc.config,
					PlanOnly: true,
					ExpectError: regexp.MustCompile(`(?s)Permissions Boundary Not Allowed.*` + regexp.QuoteMeta(tc.attr) + `.*` +
						words("requires every iam_user credential to carry the permissions boundary "+required) + `.*` +
						words("Remove permissions_boundary_arn from the role")),
				}},
			})
		})
	}
	t.Run("the provider's own argument must be a policy ARN", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{{
				Config:      acctest.ProviderBlock(`  required_permissions_boundary_arn = "arn:aws:s3:::bucket"`) + callerIdentity,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Permissions Boundary ARN.*required_permissions_boundary_arn.*` + words("is not an IAM policy ARN")),
			}},
		})
	})
	t.Run("an STS role is left without it", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{{
				Config: providerBlock + `
resource "awsdynamic_credential" "session" {
  role = {
    name            = "session"
    credential_type = "session_token"
  }
}`,
				Check: resource.TestCheckResourceAttr("awsdynamic_credential.session", "permissions_boundary_arn", ""),
			}},
		})
	})
}
