package provider_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// testCallerIdentity reads the caller identity data source through the provider configured by block (with default
// options): check must pass, or, with expectError set, the read must fail with it.
func testCallerIdentity(t *testing.T, block string, check resource.TestCheckFunc, expectError *regexp.Regexp) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps:                    []resource.TestStep{{Config: block + callerIdentity, Check: check, ExpectError: expectError}},
	})
}

func TestAccProvider_staticKeys(t *testing.T) {
	acctest.PreCheck(t)
	testCallerIdentity(t, acctest.ProviderBlock(""), resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttr("data.awsdynamic_caller_identity.root", "account_id", "123456789012"),
		resource.TestMatchResourceAttr("data.awsdynamic_caller_identity.root", "arn", regexp.MustCompile(`^arn:aws:(iam|sts)::123456789012:`)),
	), nil)
}

// The SDK's own environment variables are the fallback for keys, region and endpoints alike.
func TestAccProvider_environmentFallback(t *testing.T) {
	acctest.PreCheck(t)
	t.Setenv("AWS_ACCESS_KEY_ID", acctest.RootAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", acctest.RootSecretKey)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_IAM", acctest.Moto.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", acctest.Moto.URL)
	testCallerIdentity(t, `provider "awsdynamic" {}`, resource.TestCheckResourceAttr("data.awsdynamic_caller_identity.root", "account_id", "123456789012"), nil)
}

// A shared credentials file and a named profile are read by the SDK's loader, not by us.
func TestAccProvider_sharedCredentialsProfile(t *testing.T) {
	acctest.PreCheck(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte(fmt.Sprintf("[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n", acctest.RootAccessKey, acctest.RootSecretKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	testCallerIdentity(t, fmt.Sprintf(`
provider "awsdynamic" {
  profile                  = "ci"
  shared_credentials_files = [%q]
  endpoints {
    iam = %q
    sts = %q
  }
}`, creds, acctest.Moto.URL, acctest.Moto.URL), resource.TestCheckResourceAttr("data.awsdynamic_caller_identity.root", "account_id", "123456789012"), nil)
}

func TestAccProvider_assumeRole(t *testing.T) {
	acctest.Reset(t)
	arn := mustCreateRole(t, "awsdynamic-root", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity")
	testCallerIdentity(t, acctest.ProviderBlock(fmt.Sprintf(`
  assume_role {
    role_arn     = %q
    session_name = "ci-run-42"
    external_id  = "ext-123"
    duration     = "30m"
  }`, arn)), resource.TestCheckResourceAttr("data.awsdynamic_caller_identity.root", "arn",
		"arn:aws:sts::123456789012:assumed-role/awsdynamic-root/ci-run-42"), nil)
}

func TestAccProvider_assumeRoleWithWebIdentity(t *testing.T) {
	acctest.Reset(t)
	arn := mustCreateRole(t, "awsdynamic-oidc", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No root keys at all: a CI runner holds only its OIDC token.
	cfg := func(tokenArg string) string {
		return fmt.Sprintf(`
provider "awsdynamic" {
  endpoints {
    iam = %q
    sts = %q
  }
  assume_role_with_web_identity {
    role_arn     = %q
    session_name = "gha-deploy"
    %s
  }
}`, acctest.Moto.URL, acctest.Moto.URL, arn, tokenArg) + callerIdentity
	}
	check := resource.TestCheckResourceAttr("data.awsdynamic_caller_identity.root", "arn",
		"arn:aws:sts::123456789012:assumed-role/awsdynamic-oidc/gha-deploy")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{
			{Config: cfg(fmt.Sprintf("web_identity_token_file = %q", tokenFile)), Check: check},
			{Config: cfg(`web_identity_token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"`), Check: check},
		},
	})
}

// With authorization on, moto rejects keys no IAM user owns: Configure must say so, name the endpoint and the
// code, and never echo the secret.
func TestAccProvider_wrongKeys(t *testing.T) {
	acctest.Reset(t)
	if err := acctest.Moto.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = acctest.Moto.DisableAuth() })
	const secret = "ThisIsNotARealSecretKeyButItIsFortyChars"
	testCallerIdentity(t, fmt.Sprintf(`
provider "awsdynamic" {
  access_key = "AKIAWRONGWRONGWRONG1"
  secret_key = %q
  endpoints {
    iam = %q
    sts = %q
  }
}`, secret, acctest.Moto.URL, acctest.Moto.URL), nil, regexp.MustCompile(`(?s)Root Identity Not Validated.*`+regexp.QuoteMeta(acctest.Moto.URL)+`.*(InvalidClientTokenId|AccessDenied)`))
}

func TestAccProvider_unreachableEndpointFailsFast(t *testing.T) {
	acctest.PreCheck(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close() // nothing listens here any more: connections are refused
	start := time.Now()
	testCallerIdentity(t, fmt.Sprintf(`
provider "awsdynamic" {
  access_key = %q
  secret_key = %q
  endpoints {
    sts = %q
  }
}`, acctest.RootAccessKey, acctest.RootSecretKey, dead), nil, regexp.MustCompile(`(?s)Root Identity Not Validated.*`+regexp.QuoteMeta(dead)+`.*endpoint\s+unreachable`))
	// Not a timing assertion on the provider's speed: a guard against a hang, which would otherwise take the
	// whole test timeout to notice.
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("an unreachable endpoint took %s to fail; it must fail within seconds", d)
	}
}

func TestAccProvider_skipCredentialsValidation(t *testing.T) {
	acctest.PreCheck(t)
	// skip_credentials_validation only skips the check: the data source still asks STS, so it must fail at
	// read with its own message rather than at Configure.
	testCallerIdentity(t, fmt.Sprintf(`
provider "awsdynamic" {
  access_key                  = %q
  secret_key                  = %q
  skip_credentials_validation = true
  endpoints {
    sts = "http://127.0.0.1:9"
  }
}`, acctest.RootAccessKey, acctest.RootSecretKey), nil, regexp.MustCompile(`Caller Identity Not Read`))
}

// Every plan-time check of the provider block: the diagnostic names the attribute and says what to do.
func TestAccProvider_planTimeValidation(t *testing.T) {
	acctest.PreCheck(t)
	cases := []struct {
		name, extra string
		want        string
	}{
		{"unparsable default_ttl", `default_ttl = "1 hour"`, `(?s)Invalid Duration.*default_ttl must be a Go duration`},
		{"unparsable max_ttl", `max_ttl = "forever"`, `(?s)Invalid Duration.*max_ttl`},
		{"default above max", `
  default_ttl = "48h"
  max_ttl     = "24h"`, `(?s)Default TTL Exceeds Maximum.*default_ttl \(48h\) is longer than max_ttl \(24h\)`},
		{"default above implicit max", `default_ttl = "25h"`, `(?s)Default TTL Exceeds Maximum.*max_ttl \(24h\)`},
		{"template parse error", `username_template = "{{ .RoleName "`, `(?s)Invalid Username Template.*username_template`},
		{"template too long", `username_template = "{{ printf \"%s-%s\" .RoleName (random 80) }}"`, `(?s)Invalid Username Template.*64`},
		{"template bad characters", `username_template = "awsdyn/{{ .RoleName }}"`, `(?s)Invalid Username Template.*username_template`},
		{"template unknown function", `username_template = "{{ nosuch .RoleName }}"`, `(?s)Invalid Username Template.*nosuch`},
		{"malformed user_path", `user_path = "awsdynamic"`, `(?s)Invalid IAM Path.*user_path`},
		{"retry_mode", `retry_mode = "aggressive"`, `(?s)retry_mode.*standard.*adaptive`},
		{"negative max_retries", `max_retries = -1`, `(?s)max_retries`},
		{"bad endpoint", `
  endpoints {
    iam = "moto:5000"
  }`, `(?s)Invalid Endpoint URL.*endpoints.iam`},
		{"assume_role without role_arn", `
  assume_role {
    session_name = "x1"
  }`, `(?s)Missing Role ARN.*assume_role`},
		{"assume_role bad arn", `
  assume_role {
    role_arn = "not-an-arn"
  }`, `(?s)Invalid Role ARN.*assume_role.role_arn`},
		{"assume_role duration out of range", `
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/x"
    duration = "13h"
  }`, `(?s)Duration Out Of Range.*assume_role.duration.*15m.*12h`},
		{"both token and file", `
  assume_role_with_web_identity {
    role_arn                = "arn:aws:iam::123456789012:role/x"
    web_identity_token      = "t"
    web_identity_token_file = "/tmp/t"
  }`, `(?s)web_identity_token`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			block := fmt.Sprintf("provider \"awsdynamic\" {\n  skip_credentials_validation = true\n%s\n}\n", tc.extra)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				Steps: []resource.TestStep{{
					Config:      block + callerIdentity,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
	t.Run("access_key without secret_key", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{{
				Config:      `provider "awsdynamic" { access_key = "AKIAONLYTHEKEY000000" }` + callerIdentity,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)secret_key`),
			}},
		})
	})
}

// sweep_expired_leases removes the user of an expired lease (its guard, read back, has denied everything for two
// hours), and nothing else: not a user without the lease tags, nor one whose tags alone say expired (a forged
// lease tag, a key and no guard).
func TestAccProvider_sweepExpiredLeases(t *testing.T) {
	acctest.Reset(t)
	ctx := context.Background()
	c := acctest.IAM()
	pastTime := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	past := pastTime.Format(time.RFC3339)
	for name, tags := range map[string][]iamtypes.Tag{
		"awsdyn-expired-lease": {{Key: aws.String(lease.TagLeaseID), Value: aws.String("lease-old")}, {Key: aws.String(lease.TagExpiresAt), Value: aws.String(past)}},
		"awsdyn-forged":        {{Key: aws.String(lease.TagLeaseID), Value: aws.String("lease-forged")}, {Key: aws.String(lease.TagExpiresAt), Value: aws.String(past)}},
		"not-a-lease":          {{Key: aws.String(lease.TagExpiresAt), Value: aws.String(past)}},
	} {
		out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String("/awsdynamic/"), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		switch name {
		case "awsdyn-expired-lease":
			_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(lease.GuardPolicyName),
				PolicyDocument: aws.String(lease.GuardDocument(pastTime, aws.ToString(out.User.Arn)))})
		case "awsdyn-forged":
			_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	testCallerIdentity(t, acctest.ProviderBlock("  sweep_expired_leases = true"), func(*terraform.State) error {
		out, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/awsdynamic/")})
		if err != nil {
			return err
		}
		var names []string
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"awsdyn-forged", "not-a-lease"}) {
			return fmt.Errorf("users left %v, want awsdyn-forged and not-a-lease", names)
		}
		return nil
	}, nil)
}
