package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// A fixed username_template gives every credential of a role the same user name. Someone deletes the lease's user
// and creates another under that name, with a key and policies of its own: neither the refresh nor the destroy may
// delete anything from it. Before the lease recorded its user ID, destroy revoked whatever user had the name.
func TestAccCredential_foreignUserOfTheSameNameIsLeftAlone(t *testing.T) {
	acctest.Reset(t)
	config := deployConfig(`  username_template = "fixed-{{ .RoleName }}"`, readOnlyPolicy, "")
	const name = "fixed-deploy"
	var theirKey string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		// After destroy: the other user is still there with everything it had.
		CheckDestroy: func(*terraform.State) error {
			u, err := readUser(context.Background(), name)
			switch {
			case err != nil:
				return err
			case u == nil:
				return fmt.Errorf("destroy deleted IAM user %s, which is not the lease's", name)
			case !slices.Contains(u.AccessKeys, theirKey) || u.Inline["theirs"] == "" || !slices.Contains(u.Attached, readOnly):
				return fmt.Errorf("destroy took something from IAM user %s, which is not the lease's: %+v", name, u)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: config, Check: resource.TestCheckResourceAttr(credAddr, "iam_user_name", name)},
			{
				// The refresh of this step sees the other user: the lease is gone, and a new credential is planned
				// (whose issue then fails on the taken name, leaving the other user as it was).
				PreConfig: func() {
					ctx := context.Background()
					c := acctest.IAM()
					out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
					if err != nil {
						t.Fatal(err)
					}
					for _, k := range out.AccessKeyMetadata {
						if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(name), AccessKeyId: k.AccessKeyId}); err != nil {
							t.Fatal(err)
						}
					}
					for _, call := range []func() error{
						func() error {
							_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("awsdynamic-lease-guard")})
							return err
						},
						func() error {
							_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(readOnly)})
							return err
						},
						func() error {
							_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
							return err
						},
						func() error {
							_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
							return err
						},
						func() error {
							_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("theirs"),
								PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
							return err
						},
						func() error {
							_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(readOnly)})
							return err
						},
						func() error {
							k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
							if err == nil {
								theirKey = aws.ToString(k.AccessKey.AccessKeyId)
							}
							return err
						},
					} {
						if err := call(); err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate),
				}},
				ExpectError: regexp.MustCompile(`(?s)Credential Not Issued.*EntityAlreadyExists`),
			},
		},
	})
}

// A change of the provider's default_tags reaches a live credential's user in place, on the next apply: the
// credential is updated (not replaced), tags_all shows the new set, and the user carries it.
func TestAccCredential_defaultTagsChangeReachesTheUserInPlace(t *testing.T) {
	acctest.Reset(t)
	config := func(tags string) string {
		return acctest.ProviderBlock(`  default_tags = `+tags) + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["` + readOnly + `"]
  iam_tags        = { owner = "role" }
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
}
`
	}
	old := attrCapture{}
	userTagsWith := func(want map[string]string, goneRemoved bool) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			attrs, err := stateAttrs(s, credAddr)
			if err != nil {
				return err
			}
			u, err := readUser(context.Background(), attrs["iam_user_name"])
			if err != nil || u == nil {
				return fmt.Errorf("reading the user: %v", err)
			}
			for k, v := range want {
				if u.Tags[k] != v {
					return fmt.Errorf("user tag %s = %q, want %q (tags %v)", k, u.Tags[k], v, u.Tags)
				}
			}
			if _, ok := u.Tags["gone"]; ok && goneRemoved {
				return fmt.Errorf("the removed default tag is still on the user: %v", u.Tags)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{
				Config: config(`{ team = "a", gone = "x" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					old.save(credAddr, "id", "access_key_id"),
					resource.TestCheckResourceAttr(credAddr, "tags_all.team", "a"),
					resource.TestCheckResourceAttr(credAddr, "tags_all.owner", "role"),
					userTagsWith(map[string]string{"team": "a", "gone": "x", "owner": "role"}, false),
				),
			},
			{
				Config: config(`{ team = "b", cost = "1" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					old.same(credAddr, "id", "access_key_id"),
					resource.TestCheckResourceAttr(credAddr, "tags_all.team", "b"),
					resource.TestCheckResourceAttr(credAddr, "tags_all.cost", "1"),
					resource.TestCheckNoResourceAttr(credAddr, "tags_all.gone"),
					userTagsWith(map[string]string{"team": "b", "cost": "1", "owner": "role"}, true),
				),
			},
			{Config: config(`{ team = "b", cost = "1" }`), PlanOnly: true}, // and then nothing more to do
		},
	})
}
