package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// The least-privilege policies of the guide (templates/guides/least-privilege.md.tmpl) are these files: the docs
// render them and these tests load them, so the two cannot drift.
const leastPrivilegeDir = "../../examples/guides/least-privilege"

// stsOnlyIAMActions are the IAM calls only the STS credential types make: a federation_token role's iam_groups are
// read to build its session policy. Every other call of the engine's IAMAPI belongs in the iam_user policy.
var stsOnlyIAMActions = []string{"iam:GetGroupPolicy", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies"}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid      string          `json:"Sid"`
	Effect   string          `json:"Effect"`
	Action   json.RawMessage `json:"Action"`
	Resource json.RawMessage `json:"Resource"`
}

func loadPolicy(t *testing.T, name string) policyDocument {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(leastPrivilegeDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var d policyDocument
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func stringOrList(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		t.Fatalf("neither a string nor a list of strings: %s", raw)
	}
	return many
}

func (d policyDocument) actions(t *testing.T) []string {
	var out []string
	for _, s := range d.Statement {
		out = append(out, stringOrList(t, s.Action)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// without returns the document minus one action (and minus statements left with none).
func (d policyDocument) without(t *testing.T, action string) policyDocument {
	out := policyDocument{Version: d.Version}
	for _, s := range d.Statement {
		acts := slices.DeleteFunc(stringOrList(t, s.Action), func(a string) bool { return a == action })
		if len(acts) == 0 {
			continue
		}
		s.Action, _ = json.Marshal(acts)
		out.Statement = append(out.Statement, s)
	}
	return out
}

// forMoto returns the document as moto can enforce it: moto matches IAM actions only in statements whose Resource
// is "*" (see internal/acctest/moto/README.md), so every statement's Resource becomes "*". The actions, which are what this test proves, stay
// exactly as documented; the documented resource scoping is AWS's to enforce.
func (d policyDocument) forMoto() string {
	out := policyDocument{Version: d.Version}
	for _, s := range d.Statement {
		s.Resource = json.RawMessage(`"*"`)
		out.Statement = append(out.Statement, s)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func interfaceMethods(v any, prefix string) []string {
	typ := reflect.TypeOf(v).Elem()
	out := make([]string, 0, typ.NumMethod())
	for i := 0; i < typ.NumMethod(); i++ {
		out = append(out, prefix+typ.Method(i).Name)
	}
	sort.Strings(out)
	return out
}

// The documented policies name every call the engine can make, and nothing else: IAMAPI and STSAPI list the calls
// (the compiler keeps them honest), so a new call without a docs update fails here.
func TestLeastPrivilege_policiesNameEveryCallOfTheEngine(t *testing.T) {
	user, sts := loadPolicy(t, "iam_user.json").actions(t), loadPolicy(t, "sts.json").actions(t)
	iamCalls := interfaceMethods((*lease.IAMAPI)(nil), "iam:")
	stsCalls := interfaceMethods((*lease.STSAPI)(nil), "sts:")

	var documentedIAM []string
	for _, a := range append(slices.Clone(user), sts...) {
		if strings.HasPrefix(a, "iam:") {
			documentedIAM = append(documentedIAM, a)
		}
	}
	slices.Sort(documentedIAM)
	documentedIAM = slices.Compact(documentedIAM)
	for _, c := range iamCalls {
		if !slices.Contains(documentedIAM, c) {
			t.Errorf("the engine calls %s, which neither policy grants", c)
		}
		if !slices.Contains(stsOnlyIAMActions, c) && !slices.Contains(user, c) {
			t.Errorf("the engine calls %s for iam_user credentials, but iam_user.json does not grant it", c)
		}
	}
	for _, a := range documentedIAM {
		if !slices.Contains(iamCalls, a) {
			t.Errorf("a policy grants %s, which the engine never calls: least privilege means leaving it out", a)
		}
	}
	for _, a := range user {
		if slices.Contains(stsOnlyIAMActions, a) || strings.HasPrefix(a, "sts:") {
			t.Errorf("iam_user.json grants %s, which only the STS credential types need", a)
		}
	}
	// sts:GetCallerIdentity needs no permission in AWS (it answers even under an explicit Deny), so neither policy
	// grants it; every other STS call does. sts:TagSession is the permission session tags need, not a call.
	for _, c := range stsCalls {
		if c == "sts:GetCallerIdentity" {
			continue
		}
		if !slices.Contains(sts, c) {
			t.Errorf("the engine calls %s, which sts.json does not grant", c)
		}
	}
	if !slices.Contains(sts, "sts:TagSession") {
		t.Error("sts.json does not grant sts:TagSession, which roles with session_tags need")
	}
	t.Logf("iam_user.json: %d actions %v", len(user), user)
	t.Logf("sts.json: %d actions %v", len(sts), sts)
}

// rootUser creates the IAM user "awsdynamic-root" holding exactly document (moto's reading of it) and returns
// its access key.
func rootUser(t *testing.T, name string, document policyDocument) (string, string) {
	t.Helper()
	ctx := context.Background()
	c := acctest.IAM()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("awsdynamic-least-privilege"),
		PolicyDocument: aws.String(document.forMoto())}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

func rootProvider(url, accessKey, secretKey string) string {
	return acctest.ProviderBlockAt(url, accessKey, secretKey, "")
}

// deniedAction matches the diagnostic of a call the root identity may not make: the engine's own wording for a
// bare 403, or AWS's (and moto's) AccessDenied message, either naming the action.
func deniedAction(action string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)(not\s+allowed\s+to\s+call|not\s+authorized\s+to\s+perform:?)\s+` + regexp.QuoteMeta(action) + `\b`)
}

// With moto enforcing IAM authorization and the root identity holding exactly iam_user.json, a role and its
// credentials (managed and ephemeral) are created, renewed on refresh and destroyed; without iam:AttachUserPolicy
// the apply fails naming that action, and rolls back.
func TestAccLeastPrivilege_iamUserPolicySuffices(t *testing.T) {
	document := loadPolicy(t, "iam_user.json")
	config := func(url, accessKey, secretKey, policyARN string) string {
		return rootProvider(url, accessKey, secretKey) + fmt.Sprintf(`
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess", %q]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["deployers"]
  iam_tags        = { team = "platform" }
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
  ttl  = "1h"
}

ephemeral "awsdynamic_credential" "run" {
  role = awsdynamic_role.deploy
  ttl  = "15m"
}
`, policyARN) + useEphemeral("run")
	}
	arrange := func(t *testing.T, root string, doc policyDocument) (accessKey, secretKey, policyARN string) {
		acctest.Reset(t)
		mustCreateGroup(t, "deployers")
		out, err := acctest.IAM().CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String("deploy-extra"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		accessKey, secretKey = rootUser(t, root, doc)
		return accessKey, secretKey, aws.ToString(out.Policy.Arn)
	}

	t.Run("whole lifecycle with exactly the documented actions", func(t *testing.T) {
		accessKey, secretKey, policyARN := arrange(t, "awsdynamic-root", document)
		proxy := startFaultProxy(t)
		fake := clock.NewFake(time.Now())
		authOff := enforceAuth(t)
		var expiresAt string
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fake}),
			CheckDestroy:             noLeaseUsersAuthOff(authOff, "deployers"),
			Steps: []resource.TestStep{
				{
					Config: config(proxy.URL, accessKey, secretKey, policyARN),
					Check: func(s *terraform.State) error {
						expiresAt = s.RootModule().Resources["awsdynamic_credential.ci"].Primary.Attributes["expires_at"]
						if proxy.Count("CreateAccessKey") < 2 {
							return fmt.Errorf("CreateAccessKey calls %d: the ephemeral credential was not opened", proxy.Count("CreateAccessKey"))
						}
						return nil
					},
				},
				// Inside the managed credential's renewal window (a third of 1h before expiry): refresh renews.
				renewedOnRefresh(fake, credAddr, &expiresAt),
			},
		})
		var called []string
		for a := range proxy.Counts() {
			called = append(called, a)
		}
		sort.Strings(called)
		t.Logf("actions the lifecycle made as the least-privilege root identity: %v", called)
	})

	t.Run("without iam:AttachUserPolicy the apply names it", func(t *testing.T) {
		accessKey, secretKey, policyARN := arrange(t, "awsdynamic-root", document.without(t, "iam:AttachUserPolicy"))
		authOff := enforceAuth(t)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			CheckDestroy:             noLeaseUsersAuthOff(authOff, "deployers"),
			Steps: []resource.TestStep{
				{
					Config:      config(acctest.Moto.URL, accessKey, secretKey, policyARN),
					ExpectError: deniedAction("iam:AttachUserPolicy"),
				},
				{
					// Rolled back as the same identity: nothing of the attempt is left.
					PreConfig: func() {
						authOff()
						if err := noLeaseUsers("deployers"); err != nil {
							t.Fatalf("after the refused apply: %v", err)
						}
					},
					Config:             config(acctest.Moto.URL, accessKey, secretKey, policyARN),
					PlanOnly:           true,
					ExpectNonEmptyPlan: true,
				},
			},
		})
	})
}

// With moto enforcing IAM authorization and the root identity holding exactly sts.json, credentials of the three
// STS types are issued, refreshed and destroyed; without sts:GetFederationToken the apply fails naming it.
func TestAccLeastPrivilege_stsPolicySuffices(t *testing.T) {
	document := loadPolicy(t, "sts.json")
	const rootName = "awsdynamic-root"
	arrange := func(t *testing.T, doc policyDocument) (accessKey, secretKey, roleARN string) {
		acctest.Reset(t)
		ctx := context.Background()
		c := acctest.IAM()
		mustCreateGroup(t, "readers")
		if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("read"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"),
			PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
			t.Fatal(err)
		}
		// moto checks a trust policy's principal against the caller's exact ARN.
		out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("awsdynamic-deployer"),
			AssumeRolePolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/%s"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, moto.AccountID, rootName))})
		if err != nil {
			t.Fatal(err)
		}
		accessKey, secretKey = rootUser(t, rootName, doc)
		return accessKey, secretKey, aws.ToString(out.Role.Arn)
	}
	// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
	config := func(accessKey, secretKey, roleARN string) string {
		return rootProvider(acctest.Moto.URL, accessKey, secretKey) + fmt.Sprintf(`
resource "awsdynamic_role" "assumed" {
  name            = "assumed"
  credential_type = "assumed_role"
  role_arns       = [%q]
  session_tags    = { team = "platform" }
}

resource "awsdynamic_role" "federated" {
  name            = "federated"
  credential_type = "federation_token"
  iam_groups      = ["readers"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

resource "awsdynamic_role" "session" {
  name            = "session"
  credential_type = "session_token"
}

resource "awsdynamic_credential" "assumed" {
  role = awsdynamic_role.assumed
}

resource "awsdynamic_credential" "federated" {
  role = awsdynamic_role.federated
}

resource "awsdynamic_credential" "session" {
  role = awsdynamic_role.session
}

ephemeral "awsdynamic_credential" "assumed" {
  role = awsdynamic_role.assumed
}
`, roleARN) + useEphemeral("assumed")
	}
	issued := resource.ComposeAggregateTestCheckFunc(
		resource.TestCheckResourceAttrSet("awsdynamic_credential.assumed", "session_token"),
		resource.TestMatchResourceAttr("awsdynamic_credential.assumed", "assumed_role_arn", regexp.MustCompile(`:assumed-role/awsdynamic-deployer/`)),
		resource.TestCheckResourceAttrSet("awsdynamic_credential.federated", "session_token"),
		resource.TestCheckResourceAttrSet("awsdynamic_credential.session", "session_token"),
	)

	t.Run("whole lifecycle with exactly the documented actions", func(t *testing.T) {
		accessKey, secretKey, roleARN := arrange(t, document)
		enforceAuth(t)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{
				{Config: config(accessKey, secretKey, roleARN), Check: issued},
				{RefreshState: true, Check: issued},
			},
		})
	})

	t.Run("without sts:GetFederationToken the apply names it", func(t *testing.T) {
		accessKey, secretKey, roleARN := arrange(t, document.without(t, "sts:GetFederationToken"))
		enforceAuth(t)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{{
				Config:      config(accessKey, secretKey, roleARN),
				ExpectError: deniedAction("sts:GetFederationToken"),
			}},
		})
	})
}
