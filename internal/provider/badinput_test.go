package provider_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// okRole makes the provider block take part in a plan whose error is the provider's.
const okRole = `
resource "awsdynamic_role" "ok" {
  name            = "ok"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}
`

// role returns an awsdynamic_role with the given arguments, and a credential issued from it.
func badRole(args string) string {
	return fmt.Sprintf(`
resource "awsdynamic_role" "bad" {
  name = "bad"
%s
}
`, args)
}

// credential returns a valid iam_user role and a credential from it with the given arguments.
func badCredential(kind, args string) string {
	return fmt.Sprintf(`
resource "awsdynamic_role" "ok" {
  name            = "ok"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

%s "awsdynamic_credential" "bad" {
  role = awsdynamic_role.ok
%s
}
`, kind, args)
}

func repeatTags(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    tag%02d = \"v\"\n", i)
	}
	return "{\n" + b.String() + "  }"
}

// Every invalid input fails at plan time with a diagnostic that names the attribute and says what to change, and
// before any IAM call: the proxy in front of moto counts every call, and only Configure's sts:GetCallerIdentity
// may have been made.
func TestAccBadInput_failsAtPlanNamingTheAttributeWithoutAWSCalls(t *testing.T) {
	acctest.PreCheck(t)
	proxy := startFaultProxy(t)
	oversized := fmt.Sprintf(`jsonencode({ Version = "2012-10-17", Statement = [for i in range(40) : { Sid = "Statement${i}", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::bucket-%s/${i}/*" }] })`, strings.Repeat("x", 20))
	cases := []struct {
		name     string
		provider string // provider arguments
		endpoint string // the provider's IAM endpoint instead of the proxy's
		config   string // resources
		attr     string // regex: the attribute the diagnostic names, in its detail or as the source line it points at
		fix      string // a phrase of what to do
	}{
		// Provider.
		{name: "provider default_ttl not a duration", provider: `default_ttl = "1 hour"`, config: okRole, attr: `default_ttl`, fix: `a Go duration string such as "15m"`},
		{name: "provider max_retries of the wrong type", provider: `max_retries = "many"`, config: okRole, attr: `max_retries`, fix: `a number is required`},
		{name: "provider default_tags of the wrong type", provider: `default_tags = "team=platform"`, config: okRole, attr: `default_tags`, fix: `map of string required`},
		{name: "provider user_path without leading slash", provider: `user_path = "awsdynamic"`, config: okRole, attr: `user_path`, fix: `must begin with "/"`},
		{name: "provider username_template that does not parse", provider: `username_template = "{{ .RoleName "`, config: okRole, attr: `username_template`, fix: `a Go text/template that renders a valid IAM user name`},
		{name: "provider default_ttl above max_ttl", provider: "default_ttl = \"48h\"\n  max_ttl = \"24h\"", config: okRole, attr: `default_ttl`, fix: `Lower default_ttl or raise max_ttl`},
		{name: "provider endpoint without scheme", endpoint: "moto:5000", config: okRole, attr: `endpoints\.iam`, fix: `an absolute http:// or https:// URL`},
		{name: "provider default_tags with an AWS-reserved key", provider: `default_tags = { "aws:owner" = "platform" }`, config: okRole, attr: `default_tags`, fix: `a prefix AWS reserves`},
		{name: "provider assume_role ARN with a short account", provider: "assume_role {\n    role_arn = \"arn:aws:iam::1234:role/deploy\"\n  }", config: okRole, attr: `assume_role\.role_arn`, fix: `an account ID is 12 digits`},

		// Role.
		{name: "role credential_type misspelled", config: badRole(`credential_type = "iam-user"`), attr: `credential_type`, fix: `credential_type must be one of`},
		{name: "role name with a space", config: strings.Replace(badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]`), `name = "bad"`, `name = "bad role"`, 1), attr: `\d+:\s+name\s+= "bad role"`, fix: `letters, digits and +=,.@_-`},
		{name: "role policy ARN without policy/", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:ReadOnlyAccess"]`), attr: `policy_arns`, fix: `does not begin with "policy/"`},
		{name: "role policy_arns of the wrong type", config: badRole(`credential_type = "iam_user"
  policy_arns = "arn:aws:iam::aws:policy/ReadOnlyAccess"`), attr: `policy_arns`, fix: `set of string required`},
		{name: "role policy_document not JSON", config: badRole(`credential_type = "iam_user"
  policy_document = "{not json"`), attr: `policy_document`, fix: `not valid JSON`},
		{name: "role policy_document statement without Resource", config: badRole(`credential_type = "iam_user"
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject" }] })`), attr: `policy_document`, fix: `Resource`},
		{name: "role policy_document over the inline budget", config: badRole(`credential_type = "iam_user"
  policy_document = ` + oversized), attr: `policy_document`, fix: `Move statements into managed policies`},
		{name: "role with eleven groups", config: badRole(`credential_type = "iam_user"
  iam_groups = ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9", "g10", "g11"]`), attr: `iam_groups`, fix: `at most 10`},
		{name: "role iam_tags over the per-user budget", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  iam_tags = ` + repeatTags(48)), attr: `iam_tags`, fix: `lease tags count toward IAM's 50 per user`},
		{name: "role permissions boundary not an IAM policy", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  permissions_boundary_arn = "arn:aws:s3:::bucket"`), attr: `permissions_boundary_arn`, fix: `not a managed policy ARN`},
		{name: "role user_path without trailing slash", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  user_path = "/awsdynamic"`), attr: `user_path`, fix: `must end with "/"`},
		{name: "role negative default_ttl", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  default_ttl = "-1h"`), attr: `default_ttl`, fix: `a positive Go duration string`},
		{name: "role default_ttl above the provider's max_ttl", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  default_ttl = "48h"`), attr: `default_ttl`, fix: `Lower default_ttl or raise max_ttl`},
		{name: "role STS-only role_arns on iam_user", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  role_arns = ["arn:aws:iam::123456789012:role/deploy"]`), attr: `role_arns`, fix: `Remove it, or change credential_type`},
		{name: "role STS-only session_tags on iam_user", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  session_tags = { team = "platform" }`), attr: `session_tags`, fix: `Remove it, or change credential_type`},
		{name: "role STS-only mfa_serial_number on iam_user", config: badRole(`credential_type = "iam_user"
  policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  mfa_serial_number = "arn:aws:iam::123456789012:mfa/ci"`), attr: `mfa_serial_number`, fix: `Remove it, or change credential_type`},
		{name: "role iam_user granting nothing", config: badRole(`credential_type = "iam_user"`), attr: `policy_arns`, fix: `a user without any policy can do nothing`},
		{name: "role assumed_role without role_arns", config: badRole(`credential_type = "assumed_role"`), attr: `role_arns`, fix: `the IAM role(s) to assume`},
		{name: "role assumed_role ARN of a user", config: badRole(`credential_type = "assumed_role"
  role_arns = ["arn:aws:iam::123456789012:user/deploy"]`), attr: `role_arns`, fix: `is not an IAM role ARN`},
		{name: "role assumed_role default_sts_ttl above 12h", config: badRole(`credential_type = "assumed_role"
  role_arns = ["arn:aws:iam::123456789012:role/deploy"]
  default_sts_ttl = "13h"`), attr: `default_sts_ttl`, fix: `AWS accepts`},

		// Credential.
		{name: "credential ttl not a duration", config: badCredential("resource", `ttl = "2 hours"`), attr: `\d+:\s+ttl\s+= "2 hours"`, fix: `a Go duration string such as "15m"`},
		{name: "credential renew_before not shorter than ttl", config: badCredential("resource", "ttl = \"2h\"\n  renew_before = \"3h\""), attr: `renew_before`, fix: `must be shorter than ttl`},
		{name: "credential wait_for_propagation of the wrong type", config: badCredential("resource", `wait_for_propagation = "sometimes"`), attr: `wait_for_propagation`, fix: `a bool is required`},
		{name: "credential unknown argument", config: badCredential("resource", `ttl_hours = 2`), attr: `ttl_hours`, fix: `is not expected here`},
		{name: "credential role object without credential_type", config: `
resource "awsdynamic_credential" "bad" {
  role = { name = "inline", policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }
}
`, attr: `credential_type`, fix: `is required`},
		{name: "credential role object with an STS-only field on iam_user", config: `
resource "awsdynamic_credential" "bad" {
  role = {
    name            = "inline"
    credential_type = "iam_user"
    policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    external_id     = "ext-123"
  }
}
`, attr: `external_id`, fix: `Remove it, or change credential_type`},
		{name: "credential mfa_code not six digits", config: `
resource "awsdynamic_credential" "bad" {
  role = {
    name              = "inline"
    credential_type   = "session_token"
    mfa_serial_number = "arn:aws:iam::123456789012:mfa/ci"
  }
  mfa_code = "12ab"
}
`, attr: `mfa_code`, fix: `6 digits`},
		{name: "credential role_arn on an iam_user role", config: badCredential("resource", `role_arn = "arn:aws:iam::123456789012:role/deploy"`), attr: `role_arn`, fix: `has no meaning for credential_type "iam_user"`},
		{name: "ephemeral credential ttl not a duration", config: badCredential("ephemeral", `ttl = "forever"`), attr: `\d+:\s+ttl\s+= "forever"`, fix: `a Go duration string such as "15m"`},
		{name: "ephemeral credential propagation_timeout of zero", config: badCredential("ephemeral", `propagation_timeout = "0s"`), attr: `propagation_timeout`, fix: `a positive Go duration string`},
	}
	// The control: a valid configuration plans through the proxy, so a count of zero below means "no call", not
	// "calls went elsewhere".
	t.Run("control: valid input reaches AWS through the proxy", func(t *testing.T) {
		proxy.Reset()
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
			Steps: []resource.TestStep{{
				Config:             proxiedProvider(proxy.URL, "") + badCredential("resource", `ttl = "2h"`),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			}},
		})
		if proxy.Count("GetCallerIdentity") == 0 {
			t.Fatalf("a valid plan made no call through the proxy (%v): the counts below would prove nothing", proxy.Counts())
		}
	})
	if len(cases) < 25 {
		t.Fatalf("only %d cases: the issue asks for at least 25", len(cases))
	}
	configured := 0 // rows whose error came after Configure validated the root identity
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Reset()
			// Both orders: the attribute may come before or after the advice, depending on who words the error.
			providerBlock := proxiedProvider(proxy.URL, "  "+tc.provider)
			if tc.endpoint != "" {
				providerBlock = strings.Replace(providerBlock, fmt.Sprintf("iam = %q", proxy.URL), fmt.Sprintf("iam = %q", tc.endpoint), 1)
			}
			want := fmt.Sprintf(`(?s)(%s.*%s|%s.*%s)`, tc.attr, words(tc.fix), words(tc.fix), tc.attr)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				Steps: []resource.TestStep{{
					Config:      providerBlock + tc.config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(want),
				}},
			})
			var iamCalls []string
			for action, n := range proxy.Counts() {
				if action != "GetCallerIdentity" {
					iamCalls = append(iamCalls, fmt.Sprintf("%s×%d", action, n))
				}
			}
			sort.Strings(iamCalls)
			if len(iamCalls) > 0 {
				t.Errorf("invalid input reached AWS: %v", iamCalls)
			}
			if proxy.Count("GetCallerIdentity") > 0 {
				configured++
			}
		})
	}
	t.Logf("%d invalid inputs, each rejected at plan time with no IAM call (%d after Configure's sts:GetCallerIdentity, the rest before any call)", len(cases), configured)
}
