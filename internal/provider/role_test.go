package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

const roleAddr = "awsdynamic_role.deploy"

// Apply checks that what the role names exists, and lists exactly what does not: on create, and on update (where
// the role in state stays as it was).
func TestAccRole_missingObjectsListedExactly(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "present")
	custom := mustCreatePolicy(t, "present")
	role := func(body string) string {
		return acctest.ProviderBlock("") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
` + body + `
}
`
	}
	missingEverything := role(`
  policy_arns              = ["` + readOnly + `", "arn:aws:iam::123456789012:policy/missing-b", "` + custom + `", "arn:aws:iam::123456789012:policy/missing-a"]
  permissions_boundary_arn = "arn:aws:iam::123456789012:policy/no-boundary"
  iam_groups               = ["present", "absent"]`)
	valid := role(`
  policy_arns = ["` + readOnly + `", "` + custom + `"]
  iam_groups  = ["present"]`)
	addMissing := role(`
  policy_arns              = ["` + readOnly + `", "` + custom + `", "arn:aws:iam::aws:policy/NoSuchPolicy"]
  permissions_boundary_arn = "` + powerUser + `"
  iam_groups               = ["present", "absent-too"]`)
	// The listing, line by line, with nothing between the lines: the objects that exist are not listed.
	listing := func(lines ...string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)Role Refers To Missing IAM Objects.*` +
			words(`Role "deploy" refers to IAM objects that do not exist in account 123456789012:`) + `\s+` +
			strings.Join(lines, `\s+`) + `\s+` + words("Create them first"))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{
			{
				Config: missingEverything,
				ExpectError: listing(
					`policy_arns: arn:aws:iam::123456789012:policy/missing-a`,
					`policy_arns: arn:aws:iam::123456789012:policy/missing-b`,
					`permissions_boundary_arn: arn:aws:iam::123456789012:policy/no-boundary`,
					`iam_groups: absent`),
			},
			// The failed create left no role in state.
			plannedAfterFailure(nil, missingEverything, roleAddr, plancheck.ResourceActionCreate),
			{Config: valid},
			{
				Config:      addMissing,
				ExpectError: listing(`policy_arns: arn:aws:iam::aws:policy/NoSuchPolicy`, `iam_groups: absent-too`),
			},
			// The failed update left the role in state as it was.
			plannedAfterFailure(nil, addMissing, roleAddr, plancheck.ResourceActionUpdate),
		},
	})
}

// A role is a recipe in state: refresh checks nothing in AWS and changes nothing, even when what it names is gone
// (the next credential's issue fails and says so; see TestAccCredential_issueFailureRollsBack).
func TestAccRole_readKeepsState(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "ephemeral-group")
	custom := mustCreatePolicy(t, "short-lived")
	saved := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{
			{
				Config: acctest.ProviderBlock("") + `
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  description     = "CI deploys"
  policy_arns     = ["` + custom + `"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["ephemeral-group"]
  iam_tags        = { team = "platform" }
  default_ttl     = "30m"
  max_ttl         = "4h"
}
`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(roleAddr, "id", "deploy"),
					saved.save(roleAddr, "policy_arns.0", "policy_document", "iam_groups.0", "iam_tags.team", "default_ttl", "max_ttl", "description"),
				),
			},
			{
				PreConfig: func() {
					ctx := context.Background()
					if _, err := acctest.IAM().DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(custom)}); err != nil {
						t.Fatal(err)
					}
					if _, err := acctest.IAM().DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ephemeral-group")}); err != nil {
						t.Fatal(err)
					}
					startRecording(t)
				},
				// The refresh, then a plan that must be empty.
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					saved.same(roleAddr, "policy_arns.0", "policy_document", "iam_groups.0", "iam_tags.team", "default_ttl", "max_ttl", "description"),
					func(*terraform.State) error {
						reqs, err := recorded()
						if err != nil {
							return err
						}
						for _, r := range reqs {
							if r.Action == "GetPolicy" || r.Action == "GetGroup" {
								return fmt.Errorf("refreshing the role called %s", r.Action)
							}
						}
						return nil
					},
				),
			},
		},
	})
}

// Reformatting policy_document (white space, key order, a one-element Action list written as a string) is no
// change, for the role and for credentials that take it, whole or as an object literal; a real change is one.
func TestAccRole_policyDocumentReformatIsNoDiff(t *testing.T) {
	acctest.Reset(t)
	config := func(doc string) string {
		return acctest.ProviderBlock("") + `
locals {
  doc = ` + doc + `
}

resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_document = local.doc
}

resource "awsdynamic_credential" "ci" {
  role = awsdynamic_role.deploy
}

resource "awsdynamic_credential" "inline" {
  role = {
    name            = "inline"
    credential_type = "iam_user"
    policy_document = local.doc
  }
}
`
	}
	original := `jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:ListBucket"], Resource = "*" }] })`
	reformatted := `<<-EOT
    {
      "Statement": [
        {
          "Resource": "*",
          "Action":   "s3:ListBucket",
          "Effect":   "Allow"
        }
      ],
      "Version": "2012-10-17"
    }
  EOT`
	changed := `jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["s3:ListBucket", "s3:GetObject"], Resource = "*" }] })`
	const changedDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":"*"}]}`
	keys := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{
				Config: config(original),
				Check:  keys.save(credAddr, "access_key_id"),
			},
			{
				Config: config(reformatted),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				Config: config(changed),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(roleAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("awsdynamic_credential.inline", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					keys.same(credAddr, "access_key_id"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", Document: changedDoc}),
					checkIssuedUser("awsdynamic_credential.inline", wantUser{Role: "inline", Document: changedDoc}),
				),
			},
		},
	})
}

// ---------------------------------------------------------------------------------------------------------------
// Plan-time validation: every bad input of the role and the credential arguments.
// ---------------------------------------------------------------------------------------------------------------

// badInput is a resource with one mistake, and the diagnostic it must get.
type badInput struct {
	name    string
	addr    string // the resource the diagnostic is about
	block   string // its HCL
	summary string // the diagnostic's summary
	detail  string // a phrase of its detail (the attribute it names and what to do), as words()
}

func roleBlock(name, body string) string {
	return fmt.Sprintf(`
resource "awsdynamic_role" %q {
  name            = %q
  credential_type = "iam_user"
%s
}
`, name, name, body)
}

func inlineCredentialBlock(kind, name, role, extra string) string {
	return fmt.Sprintf(`
%s "awsdynamic_credential" %q {
  role = {
    name            = %q
    credential_type = "iam_user"
%s
  }
%s
}
`, kind, name, name, role, extra)
}

func arnList(n int, format string) string {
	var arns []string
	for i := 1; i <= n; i++ {
		arns = append(arns, fmt.Sprintf(`"`+format+`"`, i))
	}
	return "[" + strings.Join(arns, ", ") + "]"
}

func tagMap(n int) string {
	var tags []string
	for i := 1; i <= n; i++ {
		tags = append(tags, fmt.Sprintf("t%02d = \"v\"", i))
	}
	return "{ " + strings.Join(tags, ", ") + " }"
}

// oversizeDocument fits IAM's 2,048 characters alone, but not beside even the smallest expiry guard.
func oversizeDocument() string {
	var actions []string
	for i := 0; len(strings.Join(actions, `","`)) < 2048-lease.GuardSize("aws", "/", "x", lease.NetworkBinding{}); i++ {
		actions = append(actions, fmt.Sprintf("s3:GetObjectVersion%03d", i))
	}
	return `jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["` + strings.Join(actions, `", "`) + `"], Resource = "*" }] })`
}

const okPolicy = `  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]`

// Checked by Terraform's validate walk, before the provider is configured.
var staticBadInputs = []badInput{
	{"no policy at all", "awsdynamic_role.nothing", roleBlock("nothing", ``),
		"Role Grants Nothing", "needs at least one of policy_arns, policy_document or iam_groups"},
	{"document not JSON", "awsdynamic_role.notjson", roleBlock("notjson", `  policy_document = "{ not json"`),
		"Invalid Policy Document", "policy_document is not a valid IAM policy"},
	{"JSON that is no policy", "awsdynamic_role.notpolicy", roleBlock("notpolicy", `  policy_document = jsonencode({ hello = "world" })`),
		"Invalid Policy Document", "policy_document is not a valid IAM policy"},
	{"statement without Effect", "awsdynamic_role.noeffect", roleBlock("noeffect", `  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Action = "s3:*", Resource = "*" }] })`),
		"Invalid Policy Document", "Effect"},
	{"document too large beside the guard", "awsdynamic_role.oversize", roleBlock("oversize", `  policy_document = `+oversizeDocument()),
		"Policy Document Too Large", "at most"},
	{"malformed policy ARN", "awsdynamic_role.badarn", roleBlock("badarn", `  policy_arns = ["ReadOnlyAccess"]`),
		"Invalid Policy ARN", `policy_arns[0] "ReadOnlyAccess" is not a managed policy ARN`},
	{"21 managed policies", "awsdynamic_role.toomany", roleBlock("toomany", `  policy_arns = `+arnList(21, "arn:aws:iam::123456789012:policy/p%02d")),
		"Too Many Managed Policies", "policy_arns has 21 policies; IAM attaches at most 20"},
	{"11 groups", "awsdynamic_role.groups", roleBlock("groups", `  iam_groups = `+arnList(11, "group-%02d")),
		"Too Many Groups", "iam_groups has 11 groups; an IAM user can belong to at most 10"},
	{"46 iam_tags beside the 5 reserved tags", "awsdynamic_role.tags", roleBlock("tags", okPolicy+"\n  iam_tags = "+tagMap(46)),
		"Invalid IAM Tags", "over IAM's limit of 50 tags per user"},
	{"malformed boundary ARN", "awsdynamic_role.boundary", roleBlock("boundary", okPolicy+"\n  permissions_boundary_arn = \"PowerUserAccess\""),
		"Invalid Permissions Boundary ARN", "permissions_boundary_arn"},
	{"user_path without slashes", "awsdynamic_role.path", roleBlock("path", okPolicy+"\n  user_path = \"ci\""),
		"Invalid IAM Path", "user_path must be an IAM path"},
	{"default_ttl above max_ttl", "awsdynamic_role.ttls", roleBlock("ttls", okPolicy+"\n  default_ttl = \"3h\"\n  max_ttl = \"2h\""),
		"Default TTL Exceeds Maximum", "Lower default_ttl or raise max_ttl"},
	{"default_ttl above the default max_ttl", "awsdynamic_role.ttlmax", roleBlock("ttlmax", okPolicy+"\n  default_ttl = \"25h\""),
		"Default TTL Exceeds Maximum", "Lower default_ttl or raise max_ttl"},
	{"role duration not a duration", "awsdynamic_role.duration", roleBlock("duration", okPolicy+"\n  default_ttl = \"1 hour\""),
		"Invalid Duration", "default_ttl must be a Go duration string"},
	{"unknown credential_type", "awsdynamic_role.kind", strings.Replace(roleBlock("kind", okPolicy), `"iam_user"`, `"iam_users"`, 1),
		"Invalid Credential Type", "credential_type must be one of"},
	{"STS argument on an iam_user role", "awsdynamic_role.sts", roleBlock("sts", okPolicy+"\n  external_id = \"abc123\""),
		"Attribute Does Not Apply", `external_id has no meaning for credential_type "iam_user"`},
	// The credential's arguments, and its role given as an object literal, in both credential resources.
	{"credential ttl not a duration", "awsdynamic_credential.ttl", inlineCredentialBlock("resource", "ttl", okPolicy, `  ttl = "2 hours"`),
		"Invalid Duration", "ttl must be a Go duration string"},
	{"renew_before not a duration", "awsdynamic_credential.renew", inlineCredentialBlock("resource", "renew", okPolicy, `  renew_before = "soon"`),
		"Invalid Duration", "renew_before must be a Go duration string"},
	{"propagation_timeout not a duration", "awsdynamic_credential.prop", inlineCredentialBlock("resource", "prop", okPolicy, `  propagation_timeout = "-"`),
		"Invalid Duration", "propagation_timeout must be a Go duration string"},
	{"renew_before as long as ttl", "awsdynamic_credential.window", inlineCredentialBlock("resource", "window", okPolicy, "  ttl = \"1h\"\n  renew_before = \"1h\""),
		"Renewal Window Too Long", "renew_before (1h) must be shorter than ttl (1h)"},
	{"inline role without policies", "awsdynamic_credential.inlinenothing", inlineCredentialBlock("resource", "inlinenothing", ``, ``),
		"Role Grants Nothing", "needs at least one of policy_arns"},
	{"inline role with a bad ARN", "awsdynamic_credential.inlinearn", inlineCredentialBlock("resource", "inlinearn", `  policy_arns = ["arn:aws:s3:::bucket"]`, ``),
		"Invalid Policy ARN", `policy_arns[0] "arn:aws:s3:::bucket"`},
	{"ephemeral: renew_before longer than ttl", "ephemeral.awsdynamic_credential.window", inlineCredentialBlock("ephemeral", "window", okPolicy, "  ttl = \"15m\"\n  renew_before = \"20m\""),
		"Renewal Window Too Long", "renew_before (20m) must be shorter than ttl (15m)"},
	{"ephemeral: inline role with a bad path", "ephemeral.awsdynamic_credential.path", inlineCredentialBlock("ephemeral", "path", okPolicy+"\n    user_path = \"/no-trailing\"", ``),
		"Invalid IAM Path", "user_path must be an IAM path"},
}

// Checked once the provider is configured: they depend on its default_tags and max_ttl.
var providerBadInputs = []badInput{
	{"44 iam_tags beside 2 default_tags and the 5 tags the provider reserves (3 lease, 2 audit)", "awsdynamic_role.tags", roleBlock("tags", okPolicy+"\n  iam_tags = "+tagMap(44)),
		"Invalid IAM Tags", "44 tags plus the 7"},
	{"the same on a credential's inline role", "awsdynamic_credential.tags", inlineCredentialBlock("resource", "tags", okPolicy+"\n    iam_tags = "+tagMap(44), ``),
		"Invalid IAM Tags", "44 tags plus the 7"},
	{"default_ttl above the provider's max_ttl", "awsdynamic_role.ttls", roleBlock("ttls", okPolicy+"\n  default_ttl = \"3h\""),
		"Default TTL Exceeds Maximum", "Lower default_ttl or raise max_ttl"},
}

// diagnostic is one error or warning the CLI printed.
type diagnostic struct {
	severity, summary, addr, text string
}

var diagHead = regexp.MustCompile(`(?m)^(Error|Warning): (.+)$`)
var diagWith = regexp.MustCompile(`with ([^,\s]+),`)

// parseDiagnostics splits CLI output into its diagnostics.
func parseDiagnostics(out string) []diagnostic {
	var ds []diagnostic
	idx := diagHead.FindAllStringSubmatchIndex(out, -1)
	for i, m := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		text := out[m[0]:end]
		d := diagnostic{severity: out[m[2]:m[3]], summary: strings.TrimSpace(out[m[4]:m[5]]), text: text}
		if w := diagWith.FindStringSubmatch(text); w != nil {
			d.addr = w[1]
		}
		ds = append(ds, d)
	}
	return ds
}

// checkBadInputs plans one configuration holding every row's resource and checks that each row got its own
// diagnostic, that no diagnostic is unaccounted for, and that nothing was written to AWS.
func checkBadInputs(t *testing.T, providerExtra string, rows []badInput) {
	t.Helper()
	acctest.Reset(t)
	startRecording(t)
	var cfg strings.Builder
	cfg.WriteString(acctest.ProviderBlock(providerExtra))
	for _, r := range rows {
		cfg.WriteString(r.block)
	}
	var out string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		// ExpectError takes one pattern for the whole output; every row needs its own check.
		ErrorCheck: func(err error) error {
			if out != "" {
				return err
			}
			out = err.Error()
			return nil
		},
		Steps: []resource.TestStep{{Config: cfg.String(), PlanOnly: true}},
	})
	if out == "" {
		t.Fatal("the plan succeeded")
	}
	ds := parseDiagnostics(out)
	matched := make([]bool, len(ds))
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			detail := regexp.MustCompile(words(r.detail))
			for i, d := range ds {
				if d.addr == r.addr && d.summary == r.summary && d.severity == "Error" && detail.MatchString(d.text) {
					matched[i] = true
					return
				}
			}
			var mine []string
			for _, d := range ds {
				if d.addr == r.addr {
					mine = append(mine, d.text)
				}
			}
			t.Errorf("%s got no %q error saying %q; its diagnostics:\n%s", r.addr, r.summary, r.detail, strings.Join(mine, "\n"))
		})
	}
	for i, d := range ds {
		if !matched[i] {
			t.Errorf("a diagnostic no row expects:\n%s", d.text)
		}
	}
	reqs, err := recorded()
	if err != nil {
		t.Fatal(err)
	}
	if w := iamWrites(reqs); len(w) > 0 {
		t.Errorf("planning bad inputs wrote to IAM: %v", w)
	}
	if names, err := usersUnder(context.Background(), "/"); err != nil || len(names) > 0 {
		t.Errorf("IAM users after planning bad inputs: %v (%v)", names, err)
	}
}

// Every bad input yields its diagnostic at plan time, naming what to fix, and nothing is created.
func TestAccRole_badInputsFailAtPlan(t *testing.T) {
	t.Run("static", func(t *testing.T) { checkBadInputs(t, "", staticBadInputs) })
	t.Run("with provider defaults", func(t *testing.T) {
		checkBadInputs(t, `
  default_tags = { managed-by = "terraform", owner = "platform" }
  max_ttl      = "2h"`, providerBadInputs)
	})
}

// More than 10 managed policies is IAM's default quota, not its limit: a warning, and the plan goes on.
func TestAccRole_elevenPoliciesWarnOnly(t *testing.T) {
	acctest.PreCheck(t)
	eleven := arnList(11, "arn:aws:iam::123456789012:policy/p%02d")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			Config:             acctest.ProviderBlock("") + roleBlock("deploy", "  policy_arns = "+eleven),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
	// The CLI does not show a passing plan's warnings to the test harness: ask the provider itself, as Terraform does.
	ds := validateRoleConfig(t, map[string]tftypes.Value{
		"name":            tftypes.NewValue(tftypes.String, "deploy"),
		"credential_type": tftypes.NewValue(tftypes.String, "iam_user"),
		"policy_arns":     stringSet(11),
	})
	if len(ds) != 1 || ds[0].Severity != tfprotov6.DiagnosticSeverityWarning || ds[0].Summary != "Managed Policies Above Default Quota" {
		t.Errorf("11 policies: want exactly the warning Managed Policies Above Default Quota, got %s", fmtDiags(ds))
	}
	ds = validateRoleConfig(t, map[string]tftypes.Value{
		"name":            tftypes.NewValue(tftypes.String, "deploy"),
		"credential_type": tftypes.NewValue(tftypes.String, "iam_user"),
		"policy_arns":     stringSet(10),
	})
	if len(ds) != 0 {
		t.Errorf("10 policies: want no diagnostic, got %s", fmtDiags(ds))
	}
}

func stringSet(n int) tftypes.Value {
	var vs []tftypes.Value
	for i := 1; i <= n; i++ {
		vs = append(vs, tftypes.NewValue(tftypes.String, fmt.Sprintf("arn:aws:iam::123456789012:policy/p%02d", i)))
	}
	return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vs)
}
