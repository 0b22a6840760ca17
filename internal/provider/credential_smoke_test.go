package provider_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

func TestAccCredential_smoke(t *testing.T) {
	acctest.Reset(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock("") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_tags        = { team = "platform" }
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
  ttl  = "2h"
}

ephemeral "awsdynamic_credential" "run" {
  role = awsdynamic_role.deploy
  ttl  = "15m"
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttrSet("awsdynamic_credential.ci", "access_key_id"),
				resource.TestCheckResourceAttrSet("awsdynamic_credential.ci", "iam_user_name"),
			),
		}},
	})
}
