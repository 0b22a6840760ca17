package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// The CI-ready outputs, `env` and `credential_process`, are what pipelines consume: a step exports `env`, and a
// profile runs a program that prints `credential_process`. These tests hold both to the credential they belong to,
// read `credential_process` with the SDK's own credential_process provider, and use both against moto (which
// answers sts:GetCallerIdentity with the lease user's ARN only for a key it issued to that user). Failures name
// attributes, never secret values.

var outputsIAMUserRole = deployRole(readOnlyPolicy)

// outputsEnvKeys are the variables `env` holds; AWS_SESSION_TOKEN only when the credential has a session token.
var outputsEnvKeys = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CREDENTIAL_EXPIRATION"}

// A managed iam_user credential's `env` and `credential_process` hold exactly its key and expiry, and no session
// token; the key is the one IAM holds for the lease's user, and both outputs authenticate as that user.
func TestAccCredentialOutputs_managedIAMUserMatchesItsKey(t *testing.T) {
	acctest.Reset(t)
	const addr = "awsdynamic_credential.ci"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			Config: deployConfig("", readOnlyPolicy, `  ttl  = "2h"`),
			Check: func(s *terraform.State) error {
				a, err := outputsAttrs(s, addr, "")
				if err != nil {
					return err
				}
				errs := []error{outputsCheckEnv(a, false), outputsCheckProcess(t, a, false)}
				// The key is the one IAM holds for the lease's user.
				keys, err := acctest.IAM().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(a["iam_user_name"])})
				if err != nil {
					errs = append(errs, fmt.Errorf("listing the access keys of %s: %w", a["iam_user_name"], err))
				} else if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != a["access_key_id"] {
					errs = append(errs, fmt.Errorf("IAM user %s does not hold exactly the key %s", a["iam_user_name"], a["access_key_id"]))
				}
				// Both outputs authenticate as the lease's user.
				errs = append(errs,
					outputsCallerIs(credentials.NewStaticCredentialsProvider(a["env.AWS_ACCESS_KEY_ID"], a["env.AWS_SECRET_ACCESS_KEY"], ""), a["iam_user_arn"], "env"),
					outputsCallerIs(outputsProcessProvider(t, a["credential_process"]), a["iam_user_arn"], "credential_process"),
				)
				return errors.Join(errs...)
			},
		}},
	})
}

// An STS credential's outputs carry its session token too: AWS_SESSION_TOKEN in `env`, SessionToken in
// `credential_process`.
func TestAccCredentialOutputs_managedAssumedRoleCarriesSessionToken(t *testing.T) {
	acctest.Reset(t)
	const addr = "awsdynamic_credential.ci"
	mustCreateRole(t, "outputs-deploy", "sts:AssumeRole")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
			Config: acctest.ProviderBlock("") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/outputs-deploy"]
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
  ttl  = "1h"
}
`,
			Check: func(s *terraform.State) error {
				a, err := outputsAttrs(s, addr, "")
				if err != nil {
					return err
				}
				return errors.Join(
					outputsCheckEnv(a, true),
					outputsCheckProcess(t, a, true),
					outputsCallerIs(credentials.NewStaticCredentialsProvider(a["env.AWS_ACCESS_KEY_ID"], a["env.AWS_SECRET_ACCESS_KEY"], a["env.AWS_SESSION_TOKEN"]), a["assumed_role_arn"], "env"),
					outputsCallerIs(outputsProcessProvider(t, a["credential_process"]), a["assumed_role_arn"], "credential_process"),
				)
			},
		}},
	})
}

// The ephemeral credential's outputs reach the echo provider, and a second awsdynamic provider configured from
// `env` authenticates as the lease's user while the run lasts.
func TestAccCredentialOutputs_ephemeralReachesConsumers(t *testing.T) {
	acctest.Reset(t)
	factories := withEcho(acctest.Factories(provider.Options{}))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{{
			// The role first: OpenTofu opens no ephemeral resource during plan while a resource it refers to is
			// still to be created, and the second provider cannot be configured from unknown keys.
			Config: acctest.ProviderBlock("") + outputsIAMUserRole,
		}, {
			Config: acctest.ProviderBlock("") + outputsIAMUserRole + fmt.Sprintf(`
ephemeral "awsdynamic_credential" "run" {
  role = awsdynamic_role.deploy
  ttl  = "15m"
}

provider "echo" {
  data = ephemeral.awsdynamic_credential.run
}

resource "echo" "test" {}

provider "awsdynamic" {
  alias      = "from_env"
  access_key = ephemeral.awsdynamic_credential.run.env["AWS_ACCESS_KEY_ID"]
  secret_key = ephemeral.awsdynamic_credential.run.env["AWS_SECRET_ACCESS_KEY"]
  region     = %q
  endpoints {
    iam = %q
    sts = %q
  }
}

data "awsdynamic_caller_identity" "from_env" {
  provider   = awsdynamic.from_env
  depends_on = [echo.test]
}
`, acctest.Region, acctest.Moto.URL, acctest.Moto.URL),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttrPair("echo.test", "data.iam_user_arn", "data.awsdynamic_caller_identity.from_env", "arn"),
				func(s *terraform.State) error {
					a, err := outputsAttrs(s, "echo.test", "data.")
					if err != nil {
						return err
					}
					if a["iam_user_arn"] == "" {
						return errors.New("echo.test holds no iam_user_arn: the ephemeral credential did not reach it")
					}
					return errors.Join(outputsCheckEnv(a, false), outputsCheckProcess(t, a, false))
				},
			),
		}},
	})
}

// outputsAttrs returns the attributes of addr in state under prefix ("data." for the echo resource), without it.
func outputsAttrs(s *terraform.State, addr, prefix string) (map[string]string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok || rs.Primary == nil {
		return nil, fmt.Errorf("%s is not in state", addr)
	}
	out := map[string]string{}
	for k, v := range rs.Primary.Attributes {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out, nil
}

// outputsCheckEnv holds `env` to the credential's own attributes.
func outputsCheckEnv(a map[string]string, wantSessionToken bool) error {
	var errs []error
	want := slices.Clone(outputsEnvKeys)
	if wantSessionToken {
		want = append(want, "AWS_SESSION_TOKEN")
	}
	var got []string
	for k := range a {
		if name, ok := strings.CutPrefix(k, "env."); ok && name != "%" {
			got = append(got, name)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		errs = append(errs, fmt.Errorf("env holds %v, want %v", got, want))
	}
	for env, attr := range map[string]string{
		"AWS_ACCESS_KEY_ID":         "access_key_id",
		"AWS_SECRET_ACCESS_KEY":     "secret_access_key",
		"AWS_CREDENTIAL_EXPIRATION": "expires_at",
		"AWS_SESSION_TOKEN":         "session_token",
	} {
		if env == "AWS_SESSION_TOKEN" && !wantSessionToken {
			continue
		}
		if a[attr] == "" {
			errs = append(errs, fmt.Errorf("%s is empty", attr))
		} else if a["env."+env] != a[attr] {
			errs = append(errs, fmt.Errorf("env.%s is not the credential's %s", env, attr))
		}
	}
	if _, err := time.Parse(time.RFC3339, a["env.AWS_CREDENTIAL_EXPIRATION"]); err != nil {
		errs = append(errs, fmt.Errorf("env.AWS_CREDENTIAL_EXPIRATION is not RFC 3339: %w", err))
	}
	return errors.Join(errs...)
}

// outputsCheckProcess reads `credential_process` as the AWS CLI and SDKs do, through the SDK's credential_process
// provider running a program that prints it, and holds the result to the credential's attributes.
func outputsCheckProcess(t *testing.T, a map[string]string, wantSessionToken bool) error {
	var errs []error
	var doc map[string]any
	if err := json.Unmarshal([]byte(a["credential_process"]), &doc); err != nil {
		return fmt.Errorf("credential_process is not JSON: %w", err)
	}
	if v, ok := doc["Version"].(float64); !ok || v != 1 {
		errs = append(errs, fmt.Errorf("credential_process has Version %v, want 1", doc["Version"]))
	}
	if _, has := doc["SessionToken"]; has != wantSessionToken {
		errs = append(errs, fmt.Errorf("credential_process has a SessionToken key: %v, want %v", has, wantSessionToken))
	}

	creds, err := outputsProcessProvider(t, a["credential_process"]).Retrieve(context.Background())
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("the SDK's credential_process provider refused credential_process: %w", err))...)
	}
	if creds.AccessKeyID != a["access_key_id"] {
		errs = append(errs, fmt.Errorf("credential_process gives access key %s, the credential's is %s", creds.AccessKeyID, a["access_key_id"]))
	}
	if creds.SecretAccessKey != a["secret_access_key"] {
		errs = append(errs, errors.New("credential_process gives another secret access key than secret_access_key"))
	}
	if creds.SessionToken != a["session_token"] {
		errs = append(errs, errors.New("credential_process gives another session token than session_token"))
	}
	expires, err := time.Parse(time.RFC3339, a["expires_at"])
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("expires_at is not RFC 3339: %w", err))
	case !creds.CanExpire || !creds.Expires.Equal(expires):
		errs = append(errs, fmt.Errorf("credential_process expires at %s (can expire: %v), expires_at is %s", creds.Expires.UTC().Format(time.RFC3339), creds.CanExpire, a["expires_at"]))
	}
	return errors.Join(errs...)
}

// outputsProcessProvider is the SDK's credential_process provider running `cat` of a file holding doc: what a
// ~/.aws/config profile with `credential_process = cat <file>` would do.
func outputsProcessProvider(t *testing.T, doc string) aws.CredentialsProvider {
	t.Helper()
	f := filepath.Join(t.TempDir(), "credential_process.json")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return processcreds.NewProvider("cat '" + f + "'")
}

// outputsCallerIs checks that creds authenticate as arn (sts:GetCallerIdentity against moto).
func outputsCallerIs(creds aws.CredentialsProvider, arn, what string) error {
	out, err := acctest.STS(creds).GetCallerIdentity(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("sts:GetCallerIdentity with the credentials of %s: %w", what, err)
	}
	if got := aws.ToString(out.Arn); got != arn {
		return fmt.Errorf("the credentials of %s authenticate as %s, want %s", what, got, arn)
	}
	return nil
}
