package provider_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

const (
	stsDeployARN = "arn:aws:iam::123456789012:role/deploy"
	stsAuditARN  = "arn:aws:iam::123456789012:role/audit"
	stsMFASerial = "arn:aws:iam::123456789012:mfa/ci"
)

// stsCreateIAMRoles arranges the IAM roles an assumed_role credential assumes. moto would also assume a role that
// does not exist (see internal/acctest/moto/README.md); AWS would not.
func stsCreateIAMRoles(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		mustCreateRole(t, name, "sts:AssumeRole", "sts:TagSession")
	}
}

// recordedAction returns the requests of one action moto recorded since startRecording.
func recordedAction(action string) ([]moto.Request, error) {
	reqs, err := recorded()
	if err != nil {
		return nil, err
	}
	var out []moto.Request
	for _, r := range reqs {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out, nil
}

// checkSTSRequest finds the requests of action whose key field has value, n of them (0: at least one; Terraform
// opens an ephemeral resource at plan and again at apply), and checks the form fields in want on each.
// withSessionTags adds to want the Tags.member.N parameters of a role's session tags as the provider sends them:
// sorted by key, with the audit tags (audit_tags is on by default) joining a role that sets session tags.
func withSessionTags(want, tags map[string]string) map[string]string {
	all := lease.AuditTags(rootARN(), os.Getenv)
	for k, v := range tags {
		all[k] = v
	}
	for n, k := range slices.Sorted(maps.Keys(all)) {
		want[fmt.Sprintf("Tags.member.%d.Key", n+1)] = k
		want[fmt.Sprintf("Tags.member.%d.Value", n+1)] = all[k]
	}
	return want
}

func checkSTSRequest(action, key, value string, n int, want map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs, err := recordedAction(action)
		if err != nil {
			return err
		}
		var found []moto.Request
		for _, r := range reqs {
			if r.Form.Get(key) == value {
				found = append(found, r)
			}
		}
		if len(found) == 0 || n > 0 && len(found) != n {
			return fmt.Errorf("%d %s requests with %s=%q recorded, want %d", len(found), action, key, value, n)
		}
		for _, r := range found {
			for k, v := range want {
				if got := r.Form.Get(k); got != v {
					return fmt.Errorf("%s sent %s=%q, want %q", action, k, got, v)
				}
			}
		}
		return nil
	}
}

// stsCheckCallerIdentity calls sts:GetCallerIdentity with the credentials at addr (prefix "data." for echo's nested
// data) and compares the ARN with want(attributes).
func stsCheckCallerIdentity(addr, prefix string, want func(map[string]string) string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		a := rs.Primary.Attributes
		get := func(k string) string { return a[prefix+k] }
		if get("session_token") == "" {
			return fmt.Errorf("%s has no session_token", addr)
		}
		out, err := acctest.STS(credentials.NewStaticCredentialsProvider(get("access_key_id"), get("secret_access_key"), get("session_token"))).
			GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			return fmt.Errorf("GetCallerIdentity with the credentials of %s: %w", addr, err)
		}
		trimmed := map[string]string{}
		for k, v := range a {
			trimmed[strings.TrimPrefix(k, prefix)] = v
		}
		if w := want(trimmed); aws.ToString(out.Arn) != w {
			return fmt.Errorf("the credentials of %s authenticate as %s, want %s", addr, aws.ToString(out.Arn), w)
		}
		return nil
	}
}

// moto answers GetFederationToken and GetSessionToken with fixed example credentials (moto/sts/responses.py) whose
// key ID is the root's (acctest.RootAccessKey), and GetCallerIdentity answers any key it does not track with a
// default identity (internal/acctest/moto/README.md): asking who they are cannot fail. What can: the secret differs
// from the root's and each call has its own session token, so finding them in state shows that the credential is
// that call's answer.
const (
	motoSTSSecret          = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
	motoFederationTokenPfx = "AQoDYXdzEPT//////////wEXAMPLE"
	motoSessionTokenPfx    = "AQoEXAMPLEH4aoAH0gNCAPy"
)

// stsCheckMotoAnswer checks that the credential at addr is moto's answer to call (see above). Its errors name the
// key ID only, never the secret or the token.
func stsCheckMotoAnswer(addr, call, tokenPrefix string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		a := rs.Primary.Attributes
		if a["access_key_id"] != acctest.RootAccessKey || a["secret_access_key"] != motoSTSSecret ||
			!strings.HasPrefix(a["session_token"], tokenPrefix) {
			return fmt.Errorf("%s (key %s) is not moto's answer to %s: its key ID, secret or session token differ",
				addr, a["access_key_id"], call)
		}
		return nil
	}
}

// stsCheckExpiry checks that an STS credential expires ttl after AWS issued it (moto's clock: the real one), that its
// maximum is its expiry, and that it says it cannot be renewed. *id receives the lease ID.
func stsCheckExpiry(addr string, ttl time.Duration, id *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a := s.RootModule().Resources[addr].Primary.Attributes
		e, err := time.Parse(time.RFC3339, a["expires_at"])
		if err != nil {
			return err
		}
		if d := time.Until(e) - ttl; d < -30*time.Second || d > 5*time.Second {
			return fmt.Errorf("%s expires at %s: %s off now + %s", addr, a["expires_at"], d, ttl)
		}
		if a["max_expires_at"] != a["expires_at"] || a["renewable"] != "false" || a["iam_user_name"] != "" {
			return fmt.Errorf("%s: max_expires_at %s, expires_at %s, renewable %s, iam_user_name %q; want the same date, false and none",
				addr, a["max_expires_at"], a["expires_at"], a["renewable"], a["iam_user_name"])
		}
		if id != nil {
			*id = a["id"]
		}
		return nil
	}
}

// stsReplacedWhenDue is the step that moves the provider's clock into the renewal window: the plan replaces the
// credential, the apply issues a new one (a new lease). moto's clock does not move with ours, so the new
// credential expires ttl after the real now; the clock is brought back to it once the step is applied, so that the
// plan after apply sees a credential that is not due.
func stsReplacedWhenDue(clk *clock.Fake, advance time.Duration, config, addr string, ttl time.Duration, first *string, checks ...resource.TestCheckFunc) resource.TestStep {
	var second string
	return resource.TestStep{
		PreConfig: func() { clk.Advance(advance) },
		Config:    config,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace)},
		},
		Check: resource.ComposeAggregateTestCheckFunc(append(checks,
			stsCheckExpiry(addr, ttl, &second),
			func(*terraform.State) error {
				clk.Set(time.Now())
				if second == "" || second == *first {
					return fmt.Errorf("lease %q after the replacement, %q before: no new credential was issued", second, *first)
				}
				return nil
			})...),
	}
}

// stsIssueThenReplace is the test each STS credential type gets: config applied with moto's recorder on, the
// credential at addr expiring ttl after it was issued and passing issued; then the step that moves the clock by
// advance into the renewal window, where it is replaced by a new one passing replaced (stsReplacedWhenDue); after
// destroy nothing is left in IAM.
func stsIssueThenReplace(t *testing.T, clk *clock.Fake, config, addr string, ttl, advance time.Duration, issued []resource.TestCheckFunc, replaced ...resource.TestCheckFunc) {
	t.Helper()
	var first string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: withEcho(acctest.Factories(provider.Options{Clock: clk})),
		CheckDestroy:             checkNoUsersUnder("/"), // STS credentials create no IAM user
		Steps: []resource.TestStep{
			{
				PreConfig: func() { startRecording(t) },
				Config:    config,
				Check:     resource.ComposeAggregateTestCheckFunc(append(issued, stsCheckExpiry(addr, ttl, &first))...),
			},
			stsReplacedWhenDue(clk, advance, config, addr, ttl, &first, replaced...),
		},
	})
}

func TestAccCredentialSTS_assumedRole(t *testing.T) {
	acctest.Reset(t)
	stsCreateIAMRoles(t, "deploy", "audit")
	clk := clock.NewFake(time.Now())
	config := acctest.ProviderBlock("") + fmt.Sprintf(`
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "assumed_role"
  role_arns       = [%[1]q, %[2]q]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  session_tags    = { team = "platform" }
  external_id     = "ext-1234"
  default_sts_ttl = "1h"
}

resource "awsdynamic_credential" "ci" {
  role              = awsdynamic_role.deploy
  role_arn          = %[1]q
  role_session_name = "ci-pipeline"
}

ephemeral "awsdynamic_credential" "run" {
  role              = awsdynamic_role.deploy
  role_arn          = %[2]q
  role_session_name = "terraform-run"
  ttl               = "15m"
}

provider "echo" {
  data = ephemeral.awsdynamic_credential.run
}

resource "echo" "run" {}
`, stsDeployARN, stsAuditARN)
	const ci = "awsdynamic_credential.ci"
	// Default renew_before is a third of the TTL: 20 minutes before expiry.
	stsIssueThenReplace(t, clk, config, ci, time.Hour, 41*time.Minute,
		[]resource.TestCheckFunc{
			resource.TestCheckResourceAttr(ci, "assumed_role_arn", "arn:aws:sts::123456789012:assumed-role/deploy/ci-pipeline"),
			resource.TestCheckResourceAttr(ci, "federated_user_arn", ""),
			resource.TestCheckResourceAttrSet(ci, "session_token"),
			resource.TestCheckResourceAttrSet(ci, "env.AWS_SESSION_TOKEN"),
			// moto tracks AssumeRole's keys: GetCallerIdentity with them answers the session's ARN.
			stsCheckCallerIdentity(ci, "", func(a map[string]string) string { return a["assumed_role_arn"] }),
			checkSTSRequest("AssumeRole", "RoleSessionName", "ci-pipeline", 1, withSessionTags(map[string]string{
				"RoleArn": stsDeployARN, "DurationSeconds": "3600", "ExternalId": "ext-1234",
				"Policy":                  `{"Statement":[{"Action":"s3:ListBucket","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}`,
				"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
			}, map[string]string{"team": "platform"})),
			// The ephemeral credential, carried into state by the echo provider.
			resource.TestCheckResourceAttr("echo.run", "data.assumed_role_arn", "arn:aws:sts::123456789012:assumed-role/audit/terraform-run"),
			stsCheckCallerIdentity("echo.run", "data.", func(a map[string]string) string { return a["assumed_role_arn"] }),
			checkSTSRequest("AssumeRole", "RoleSessionName", "terraform-run", 0, map[string]string{"RoleArn": stsAuditARN, "DurationSeconds": "900"}),
		},
		resource.TestCheckResourceAttr(ci, "assumed_role_arn", "arn:aws:sts::123456789012:assumed-role/deploy/ci-pipeline"),
		stsCheckCallerIdentity(ci, "", func(a map[string]string) string { return a["assumed_role_arn"] }))
}

func TestAccCredentialSTS_federationToken(t *testing.T) {
	acctest.Reset(t)
	ctx := context.Background()
	c := acctest.IAM()
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("sqs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now())
	config := acctest.ProviderBlock("") + `
resource "awsdynamic_role" "fed" {
  name            = "fed"
  credential_type = "federation_token"
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  iam_groups      = ["readers"]
  session_tags    = { team = "data" }
  max_sts_ttl     = "4h"
}

resource "awsdynamic_credential" "fed" {
  role              = awsdynamic_role.fed
  role_session_name = "ci-fed"
  ttl               = "2h"
}
`
	const fed = "awsdynamic_credential.fed"
	// renew_before defaults to a third of 2h: 40 minutes.
	stsIssueThenReplace(t, clk, config, fed, 2*time.Hour, 81*time.Minute,
		[]resource.TestCheckFunc{
			resource.TestCheckResourceAttr(fed, "federated_user_arn", "arn:aws:sts::123456789012:federated-user/ci-fed"),
			resource.TestCheckResourceAttr(fed, "assumed_role_arn", ""),
			stsCheckMotoAnswer(fed, "GetFederationToken", motoFederationTokenPfx),
			// As Vault does: the group's inline policy merged before the role's document, its managed policy
			// appended to policy_arns.
			checkSTSRequest("GetFederationToken", "Name", "ci-fed", 1, withSessionTags(map[string]string{
				"DurationSeconds":         "7200",
				"Policy":                  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"},{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}]}`,
				"PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
				"PolicyArns.member.2.arn": "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess",
			}, map[string]string{"team": "data"})),
		})
}

func TestAccCredentialSTS_sessionToken(t *testing.T) {
	acctest.Reset(t)
	clk := clock.NewFake(time.Now())
	config := acctest.ProviderBlock("") + fmt.Sprintf(`
resource "awsdynamic_role" "mfa" {
  name              = "mfa"
  credential_type   = "session_token"
  mfa_serial_number = %q
  default_sts_ttl   = "8h"
}

resource "awsdynamic_credential" "mfa" {
  role         = awsdynamic_role.mfa
  mfa_code     = "123456"
  renew_before = "1h"
}
`, stsMFASerial)
	const mfa = "awsdynamic_credential.mfa"
	// renew_before = "1h": due a minute after 7h.
	stsIssueThenReplace(t, clk, config, mfa, 8*time.Hour, 7*time.Hour+time.Minute,
		[]resource.TestCheckFunc{
			resource.TestCheckResourceAttr(mfa, "assumed_role_arn", ""),
			resource.TestCheckResourceAttr(mfa, "federated_user_arn", ""),
			stsCheckMotoAnswer(mfa, "GetSessionToken", motoSessionTokenPfx),
			checkSTSRequest("GetSessionToken", "SerialNumber", stsMFASerial, 1, map[string]string{"DurationSeconds": "28800", "TokenCode": "123456"}),
		})
}

// An ephemeral STS credential gives Terraform no RenewAt: AWS fixes its expiry, so there is nothing to renew. The
// CLIs never show RenewAt, so this drives the provider through the plugin protocol, as Terraform does. An iam_user
// credential is opened first to show that the test sees a RenewAt when there is one.
func TestAccCredentialSTS_ephemeralHasNoRenewAt(t *testing.T) {
	acctest.Reset(t)
	stsCreateIAMRoles(t, "deploy")
	ctx := context.Background()
	srv, schemas := protoServer(t, provider.Options{})
	protoConfigure(t, srv, schemas)
	credType := schemas.EphemeralResourceSchemas["awsdynamic_credential"].ValueType()

	for _, tc := range []struct {
		role      map[string]any
		args      map[string]any
		renewable bool
	}{
		{map[string]any{"name": "user", "credential_type": "iam_user", "policy_arns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}, nil, true},
		{map[string]any{"name": "deploy", "credential_type": "assumed_role", "role_arns": []string{stsDeployARN}}, nil, false},
		{map[string]any{"name": "fed", "credential_type": "federation_token", "policy_arns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}, map[string]any{"ttl": "2h"}, false},
		{map[string]any{"name": "mfa", "credential_type": "session_token", "mfa_serial_number": stsMFASerial}, map[string]any{"mfa_code": "654321"}, false},
	} {
		kind := tc.role["credential_type"].(string)
		t.Run(kind, func(t *testing.T) {
			args := map[string]any{"role": tc.role}
			for k, v := range tc.args {
				args[k] = v
			}
			config := protoValue(t, credType, args)
			v, err := srv.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{TypeName: "awsdynamic_credential", Config: config})
			if err != nil || diagError(v.Diagnostics) != nil {
				t.Fatalf("validate: %v %v", err, diagError(v.Diagnostics))
			}
			opened, err := srv.OpenEphemeralResource(ctx, &tfprotov6.OpenEphemeralResourceRequest{TypeName: "awsdynamic_credential", Config: config})
			if err != nil || diagError(opened.Diagnostics) != nil {
				t.Fatalf("open: %v %v", err, diagError(opened.Diagnostics))
			}
			result, err := opened.Result.Unmarshal(credType)
			if err != nil {
				t.Fatal(err)
			}
			var attrs map[string]tftypes.Value
			if err := result.As(&attrs); err != nil {
				t.Fatal(err)
			}
			var token string
			_ = attrs["session_token"].As(&token)
			switch {
			case tc.renewable && opened.RenewAt.IsZero():
				t.Error("an iam_user credential opened without RenewAt: this test cannot see RenewAt, and proves nothing")
			case !tc.renewable && !opened.RenewAt.IsZero():
				t.Errorf("an STS credential asked to be renewed at %s", opened.RenewAt)
			case !tc.renewable && token == "":
				t.Error("an STS credential opened without a session token")
			}
			closed, err := srv.CloseEphemeralResource(ctx, &tfprotov6.CloseEphemeralResourceRequest{TypeName: "awsdynamic_credential", Private: opened.Private})
			if err != nil || diagError(closed.Diagnostics) != nil {
				t.Fatalf("close: %v %v", err, diagError(closed.Diagnostics))
			}
		})
	}
}

// stsInvalid is one invalid combination from issue 4: the resource whose diagnostic it is, its summary, and a
// phrase of the detail that names the attribute and says what to change.
type stsInvalid struct {
	addr, summary, phrase string
	hcl                   string
}

// Every invalid combination of issue 4 fails plan with its own diagnostic, before any AWS call. All of them sit in
// one configuration, so one plan shows them all (a plan per row would take a CLI run each): each diagnostic is
// matched to its resource by the "with <address>" line Terraform prints. Credentials take their role as an object
// literal here, so that their checks run when the configuration is validated, as the roles' do.
func TestAccCredentialSTS_invalidCombinations(t *testing.T) {
	acctest.PreCheck(t)
	// Parallel on purpose: every row writes out its invalid resource in full, to be read next to its diagnostic.
	rows := []stsInvalid{
		{"awsdynamic_role.arns_on_iam_user", "Attribute Does Not Apply", `role_arns has no meaning for credential_type "iam_user"`, `
resource "awsdynamic_role" "arns_on_iam_user" {
  name            = "u"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  role_arns       = ["arn:aws:iam::123456789012:role/x"]
}`},
		{"awsdynamic_role.boundary_on_sts", "Attribute Does Not Apply", `permissions_boundary_arn has no meaning for credential_type "assumed_role"`, `
resource "awsdynamic_role" "boundary_on_sts" {
  name                     = "a"
  credential_type          = "assumed_role"
  role_arns                = ["arn:aws:iam::123456789012:role/x"]
  permissions_boundary_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}`},
		{"awsdynamic_role.policy_on_session_token", "Attribute Does Not Apply", `policy_arns has no meaning for credential_type "session_token"`, `
resource "awsdynamic_role" "policy_on_session_token" {
  name            = "s"
  credential_type = "session_token"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}`},
		{"awsdynamic_role.federation_without_policy", "Missing Session Policy", "needs policy_arns, policy_document or iam_groups", `
resource "awsdynamic_role" "federation_without_policy" {
  name            = "f"
  credential_type = "federation_token"
}`},
		{"awsdynamic_role.assumed_without_arns", "Missing Role ARNs", "needs role_arns", `
resource "awsdynamic_role" "assumed_without_arns" {
  name            = "a"
  credential_type = "assumed_role"
}`},
		{"awsdynamic_role.default_above_max", "Default STS TTL Exceeds Maximum", "default_sts_ttl (2h0m0s) is longer than max_sts_ttl (1h0m0s)", `
resource "awsdynamic_role" "default_above_max" {
  name            = "s"
  credential_type = "session_token"
  default_sts_ttl = "2h"
  max_sts_ttl     = "1h"
}`},
		{"awsdynamic_role.assume_role_13h", "STS Duration Out Of Range", `max_sts_ttl is 13h0m0s; AWS accepts 15m0s to 12h0m0s for credential_type "assumed_role"`, `
resource "awsdynamic_role" "assume_role_13h" {
  name            = "a"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/x"]
  max_sts_ttl     = "13h"
}`},
		{"awsdynamic_role.federation_37h", "STS Duration Out Of Range", "default_sts_ttl is 37h0m0s; AWS accepts 15m0s to 36h0m0s", `
resource "awsdynamic_role" "federation_37h" {
  name            = "f"
  credential_type = "federation_token"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  default_sts_ttl = "37h"
}`},
		{"awsdynamic_role.eleven_session_policies", "Too Many Session Policies", "policy_arns has 11 policies; STS accepts at most 10", `
resource "awsdynamic_role" "eleven_session_policies" {
  name            = "a"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/x"]
  policy_arns     = [for n in range(11) : "arn:aws:iam::123456789012:policy/p${n}"]
}`},
		{"awsdynamic_credential.role_arn_not_allowed", "Role ARN Not Allowed", `role_arn "arn:aws:iam::123456789012:role/admin" is not one of the role's role_arns`, `
resource "awsdynamic_credential" "role_arn_not_allowed" {
  role     = { name = "a", credential_type = "assumed_role", role_arns = ["arn:aws:iam::123456789012:role/x"] }
  role_arn = "arn:aws:iam::123456789012:role/admin"
}`},
		{"awsdynamic_credential.role_arn_missing", "Missing Role ARN", "set role_arn to one of", `
resource "awsdynamic_credential" "role_arn_missing" {
  role = { name = "a", credential_type = "assumed_role", role_arns = ["arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/y"] }
}`},
		{"awsdynamic_credential.session_name_65", "Invalid Role Session Name", "role_session_name is the AssumeRole session name: a role session name is at most 64 characters", `
resource "awsdynamic_credential" "session_name_65" {
  role              = { name = "a", credential_type = "assumed_role", role_arns = ["arn:aws:iam::123456789012:role/x"] }
  role_session_name = "${join("", [for n in range(65) : "s"])}"
}`},
		{"awsdynamic_credential.federated_name_33", "Invalid Federated User Name", "limits to 32 characters: a federated user name is at most 32 characters", `
resource "awsdynamic_credential" "federated_name_33" {
  role              = { name = "f", credential_type = "federation_token", policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }
  role_session_name = "${join("", [for n in range(33) : "f"])}"
}`},
		{"awsdynamic_credential.mfa_5_digits", "Invalid MFA Code", "mfa_code must be the 6 digits your MFA device shows", `
resource "awsdynamic_credential" "mfa_5_digits" {
  role     = { name = "s", credential_type = "session_token", mfa_serial_number = "arn:aws:iam::123456789012:mfa/ci" }
  mfa_code = "12345"
}`},
		{"awsdynamic_credential.mfa_missing", "Missing MFA Code", `The role has mfa_serial_number "arn:aws:iam::123456789012:mfa/ci", so AWS requires a code from that device: set mfa_code`, `
resource "awsdynamic_credential" "mfa_missing" {
  role = { name = "s", credential_type = "session_token", mfa_serial_number = "arn:aws:iam::123456789012:mfa/ci" }
}`},
		{"awsdynamic_credential.mfa_without_device", "MFA Code Without MFA Device", "Set mfa_serial_number on the role, or remove mfa_code", `
resource "awsdynamic_credential" "mfa_without_device" {
  role     = { name = "s", credential_type = "session_token" }
  mfa_code = "123456"
}`},
		{"awsdynamic_credential.role_arn_on_federation", "Attribute Does Not Apply", `role_arn has no meaning for credential_type "federation_token"`, `
resource "awsdynamic_credential" "role_arn_on_federation" {
  role     = { name = "f", credential_type = "federation_token", policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }
  role_arn = "arn:aws:iam::123456789012:role/x"
}`},
		{"awsdynamic_credential.ttl_10m", "STS Duration Out Of Range", `ttl is 10m0s; AWS accepts 15m0s to 36h0m0s for credential_type "session_token"`, `
resource "awsdynamic_credential" "ttl_10m" {
  role = { name = "s", credential_type = "session_token" }
  ttl  = "10m"
}`},
		{"ephemeral.awsdynamic_credential.ttl_13h", "STS Duration Out Of Range", `ttl is 13h0m0s; AWS accepts 15m0s to 12h0m0s for credential_type "assumed_role"`, `
ephemeral "awsdynamic_credential" "ttl_13h" {
  role = { name = "a", credential_type = "assumed_role", role_arns = ["arn:aws:iam::123456789012:role/x"] }
  ttl  = "13h"
}`},
	}
	var config strings.Builder
	config.WriteString(acctest.ProviderBlock(""))
	for _, r := range rows {
		config.WriteString(r.hcl + "\n")
	}
	stsExpectDiagnostics(t, config.String(), rows)

	// With the role passed as a resource, as configurations usually do, the same checks run when the plan knows
	// the role's values.
	// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
	stsExpectDiagnostics(t, acctest.ProviderBlock("")+`
resource "awsdynamic_role" "two" {
  name            = "two"
  credential_type = "assumed_role"
  role_arns       = ["arn:aws:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/y"]
}

resource "awsdynamic_credential" "by_reference" {
  role = awsdynamic_role.two
}
`, []stsInvalid{{"awsdynamic_credential.by_reference", "Missing Role ARN", "set role_arn to one of", ""}})
}

// stsExpectDiagnostics plans config once and requires, for each row, an error diagnostic with the row's summary on
// the row's resource whose text holds the row's phrase; and no STS call.
func stsExpectDiagnostics(t *testing.T, config string, rows []stsInvalid) {
	t.Helper()
	startRecording(t)
	var planErr error
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		// A failed plan is the point: ErrorCheck keeps its output for the assertions below instead of failing.
		ErrorCheck: func(err error) error { planErr = err; return nil },
		Steps:      []resource.TestStep{{Config: config, PlanOnly: true}},
	})
	if planErr == nil {
		t.Fatal("plan succeeded")
	}
	// Terraform wraps diagnostic text to its terminal width: compare with white space collapsed.
	space := regexp.MustCompile(`\s+`)
	var diags []string
	for _, d := range strings.Split(planErr.Error(), "Error: ")[1:] {
		diags = append(diags, space.ReplaceAllString(d, " "))
	}
	for _, r := range rows {
		found := slices.ContainsFunc(diags, func(d string) bool {
			return strings.HasPrefix(d, r.summary+" ") && strings.Contains(d, "with "+r.addr+",") &&
				strings.Contains(d, space.ReplaceAllString(r.phrase, " "))
		})
		if !found {
			t.Errorf("%s: no %q diagnostic containing %q", r.addr, r.summary, r.phrase)
		}
	}
	if t.Failed() {
		t.Logf("plan output:\n%s", planErr)
	}
	for _, a := range []string{"AssumeRole", "GetFederationToken", "GetSessionToken"} {
		if reqs, err := recordedAction(a); err != nil || len(reqs) != 0 {
			t.Errorf("a plan that failed validation called %s %d times (%v)", a, len(reqs), err)
		}
	}
}
