package provider_test

import (
	"context"
	"fmt"
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

// addCredentials puts a second access key and a console password on an issued user, as another principal with IAM
// rights could (the guard denies the lease's own key both calls), and returns the new key's ID.
func addCredentials(t *testing.T, user string) string {
	t.Helper()
	ctx := context.Background()
	k, err := acctest.IAM().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acctest.IAM().CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String("Not-a-real-password-1")}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId)
}

// A refresh that finds a second access key and a console password on the lease's user plans a replacement (with a
// warning, "Credential Added To Lease User"); applying it issues a new user and revokes the old one, deleting what
// was added. Moto's DeleteUser succeeds with keys and a login profile left on the user (see
// internal/acctest/moto/README.md), so the deletes themselves are checked in moto's recording, not only the user's
// absence.
// Parallel on purpose: the same two-step harness as the other out-of-band tests, with another change and answer.
func TestAccCredential_refreshReplacesAUserGivenAnotherCredential(t *testing.T) {
	acctest.Reset(t)
	config := deployConfig("", readOnlyPolicy, "")
	got := attrCapture{}
	var added string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{Config: config, Check: got.save(credAddr, "id", "iam_user_name", "access_key_id")},
			{
				PreConfig: func() {
					added = addCredentials(t, got["iam_user_name"])
					startRecording(t)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					got.changed(credAddr, "id", "iam_user_name", "access_key_id"),
					got.checkUserGone(),
					func(*terraform.State) error {
						reqs, err := recorded()
						if err != nil {
							return err
						}
						calls := callsFor(reqs, got["iam_user_name"])
						for _, want := range []string{"DeleteLoginProfile", "DeleteAccessKey"} {
							if !slices.Contains(calls, want) {
								return fmt.Errorf("revoking the old user did not call %s; its calls: %v", want, calls)
							}
						}
						for _, r := range reqs {
							if r.Action == "DeleteAccessKey" && r.Form.Get("AccessKeyId") == added {
								return nil
							}
						}
						return fmt.Errorf("the added access key %s was never deleted", added)
					},
				),
			},
		},
	})
}

// With check_added_credentials = false a refresh makes its two calls only; a credential added while the guard is
// intact is left to `leases` and to the revoke at destroy, and the plan stays empty.
// Parallel on purpose: the same two-step harness as the other out-of-band tests, with another change and answer.
func TestAccCredential_checkAddedCredentialsOff(t *testing.T) {
	acctest.Reset(t)
	config := deployConfig("  check_added_credentials = false", readOnlyPolicy, "")
	got := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{Config: config, Check: got.save(credAddr, "id", "iam_user_name", "access_key_id")},
			{
				PreConfig: func() { addCredentials(t, got["iam_user_name"]) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionNoop),
				}},
				Check: got.same(credAddr, "id", "access_key_id"),
			},
		},
	})
}
