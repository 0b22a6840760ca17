package provider_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// An apply of more iam_user credentials than the account's quota has room for issues those that fit and refuses
// the rest before creating anything, naming the numbers, instead of IAM's LimitExceeded halfway through; the
// account summary is read once per provider process, not per credential. moto always reports UsersQuota 5,000
// and never enforces it: the proxy rewrites its answer to a quota three users above the account's count.
func TestAccCredential_refusedPastTheUserQuota(t *testing.T) {
	acctest.Reset(t)
	proxy := startFaultProxy(t)
	summary, err := acctest.IAM().GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	quota := int(summary.SummaryMap["Users"]) + 3
	config := proxiedProvider(proxy.URL, "") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

resource "awsdynamic_credential" "ci" {
  count        = 5
  role         = awsdynamic_role.deploy
  display_name = "ci${count.index}"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             func(*terraform.State) error { return noLeaseUsers() },
		Steps: []resource.TestStep{{
			PreConfig: func() { proxy.Reset(); proxy.Rewrite("GetAccountSummary", faultproxy.UsersQuota(quota)) },
			Config:    config,
			ExpectError: regexp.MustCompile(`(?s)IAM User Quota Reached.*credential_type.*` + words("iam_user") + `.*` +
				words("the account has") + `\s+\d+\s+` + words("IAM users against a UsersQuota of") + `\s+` + strconv.Itoa(quota)),
		}, {
			PreConfig: func() {
				names, err := usersUnder(context.Background(), leasePath)
				if err != nil {
					t.Fatal(err)
				}
				if len(names) != 3 {
					t.Errorf("users after the apply: %v, want the 3 the quota had room for", names)
				}
				if n := proxy.Count("CreateUser"); n != 3 {
					t.Errorf("CreateUser sent %d times, want 3: a refused credential must not try", n)
				}
				// Plan and apply each configure the provider once: two summaries, not one per credential.
				if n := proxy.Count("GetAccountSummary"); n == 0 || n > 3 {
					t.Errorf("iam:GetAccountSummary sent %d times for 5 credentials, want once per provider configuration", n)
				}
				proxy.Reset()
			},
			Config:  config,
			Destroy: true,
		}},
	})
}
