package provider_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

const (
	adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"
	outlives    = "Access Could Outlive The Credential"
)

// warningsOn returns the warnings with summary on the attribute path attr (steps joined by ".").
func warningsOn(ds []*tfprotov6.Diagnostic, summary, attr string) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range ds {
		if d.Severity != tfprotov6.DiagnosticSeverityWarning || d.Summary != summary || d.Attribute == nil {
			continue
		}
		var steps []string
		for _, s := range d.Attribute.Steps() {
			if n, ok := s.(tftypes.AttributeName); ok {
				steps = append(steps, string(n))
			}
		}
		if strings.Join(steps, ".") == attr {
			out = append(out, d)
		}
	}
	return out
}

// The role resource warns at plan about policies whose grants outlive its credentials, on the attribute that
// grants them, and about session_token's reach; a harmless role gets no warning.
func TestRole_warnsAboutAccessThatOutlivesTheCredential(t *testing.T) {
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	set := func(ss ...string) tftypes.Value {
		var vs []tftypes.Value
		for _, s := range ss {
			vs = append(vs, str(s))
		}
		return tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, vs)
	}
	tests := []struct {
		name            string
		set             map[string]tftypes.Value
		summary, attr   string
		phrases         []string
		wantNoDiagnostc bool
	}{
		{name: "AdministratorAccess", set: map[string]tftypes.Value{"credential_type": str("iam_user"), "policy_arns": set(readOnly, adminPolicy)},
			summary: outlives, attr: "policy_arns", phrases: []string{adminPolicy, "every IAM write action", "expiry guard", "permissions_boundary_arn"}},
		{name: "document with iam:*", set: map[string]tftypes.Value{"credential_type": str("iam_user"),
			"policy_document": str(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)},
			summary: outlives, attr: "policy_document", phrases: []string{"policy_document grants every IAM write action"}},
		{name: "session_token", set: map[string]tftypes.Value{"credential_type": str("session_token")},
			summary: "Session Token Carries The Root Identity's Permissions", attr: "credential_type", phrases: []string{"least-privilege guide"}},
		{name: "read only", set: map[string]tftypes.Value{"credential_type": str("iam_user"), "policy_arns": set(readOnly)}, wantNoDiagnostc: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.set["name"] = str("deploy")
			ds := validateRoleConfig(t, tt.set)
			if tt.wantNoDiagnostc {
				if len(ds) != 0 {
					t.Fatalf("want no diagnostic, got %s", fmtDiags(ds))
				}
				return
			}
			got := warningsOn(ds, tt.summary, tt.attr)
			if len(got) != 1 || len(ds) != 1 {
				t.Fatalf("want exactly one %q warning on %s, got %s", tt.summary, tt.attr, fmtDiags(ds))
			}
			for _, p := range tt.phrases {
				if !strings.Contains(got[0].Detail, p) {
					t.Errorf("the warning does not say %q: %s", p, got[0].Detail)
				}
			}
		})
	}
}

// Both credential resources warn at plan on role.<attribute> when their role grants what outlives them.
func TestCredential_warnsAtPlanOnTheRolesAttribute(t *testing.T) {
	ctx := context.Background()
	srv, schemas := protoServer(t, provider.Options{})
	args := map[string]any{"role": map[string]any{"name": "deploy", "credential_type": "iam_user", "policy_arns": []string{adminPolicy}}}
	harmless := map[string]any{"role": map[string]any{"name": "deploy", "credential_type": "iam_user", "policy_arns": []string{readOnly}}}

	for _, kind := range []struct {
		name     string
		typ      tftypes.Type
		validate func(*tfprotov6.DynamicValue) ([]*tfprotov6.Diagnostic, error)
	}{
		{"managed credential", schemas.ResourceSchemas["awsdynamic_credential"].ValueType(), func(cfg *tfprotov6.DynamicValue) ([]*tfprotov6.Diagnostic, error) {
			resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "awsdynamic_credential", Config: cfg})
			if err != nil {
				return nil, err
			}
			return resp.Diagnostics, nil
		}},
		{"ephemeral credential", schemas.EphemeralResourceSchemas["awsdynamic_credential"].ValueType(), func(cfg *tfprotov6.DynamicValue) ([]*tfprotov6.Diagnostic, error) {
			resp, err := srv.ValidateEphemeralResourceConfig(ctx, &tfprotov6.ValidateEphemeralResourceConfigRequest{TypeName: "awsdynamic_credential", Config: cfg})
			if err != nil {
				return nil, err
			}
			return resp.Diagnostics, nil
		}},
	} {
		for _, c := range []struct {
			args map[string]any
			want int
		}{{args, 1}, {harmless, 0}} {
			ds, err := kind.validate(protoValue(t, kind.typ, c.args))
			if err != nil {
				t.Fatal(err)
			}
			if got := warningsOn(ds, outlives, "role.policy_arns"); len(got) != c.want || len(ds) != c.want {
				t.Errorf("%s: want %d warning(s) on role.policy_arns, got %s", kind.name, c.want, fmtDiags(ds))
			}
		}
	}
}

// Through the CLI: plan shows the warnings plan can give (a known AWS-managed policy), apply adds those only AWS
// can answer (a customer-managed policy read when the credential is issued, managed and ephemeral alike), the
// credentials are issued all the same, and destroy leaves no user.
func TestAccCredential_warnsAboutCustomerManagedPoliciesAtApply(t *testing.T) {
	acctest.Reset(t)
	cli := terraformCLI(t)
	out, err := acctest.IAM().CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName:     aws.String("ci-user-admin"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:CreateAccessKey"],"Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	custom := aws.ToString(out.Policy.Arn)
	w := inProcessWorkdir(t, cli, provider.Options{})
	// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
	w.write("main.tf", requiredProviders+acctest.ProviderBlock("")+`
resource "awsdynamic_role" "admin" {
  name            = "admin"
  credential_type = "iam_user"
  policy_arns     = ["`+adminPolicy+`"]
}

resource "awsdynamic_role" "custom" {
  name            = "custom"
  credential_type = "iam_user"
  policy_arns     = ["`+custom+`", "`+readOnly+`"]
}

resource "awsdynamic_credential" "custom" {
  role = awsdynamic_role.custom
}

ephemeral "awsdynamic_credential" "custom" {
  role = awsdynamic_role.custom
}

check "opened" {
  assert {
    condition     = ephemeral.awsdynamic_credential.custom.access_key_id != ""
    error_message = "The ephemeral credential was not opened."
  }
}
`)
	// -json, because the human output folds warnings with one summary into "(and 5 more similar warnings)".
	type jsonDiag struct {
		Severity, Summary, Detail, Address string
	}
	run := func(args ...string) []jsonDiag {
		t.Helper()
		out, err := w.run(args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, lastLines(out, 60))
		}
		var ds []jsonDiag
		for _, line := range strings.Split(out, "\n") {
			var msg struct {
				Type       string   `json:"type"`
				Diagnostic jsonDiag `json:"diagnostic"`
			}
			if json.Unmarshal([]byte(line), &msg) == nil && msg.Type == "diagnostic" {
				ds = append(ds, msg.Diagnostic)
			}
		}
		return ds
	}
	find := func(ds []jsonDiag, addr string, phrases ...string) bool {
		for _, d := range ds {
			if d.Severity != "warning" || d.Summary != outlives || d.Address != addr {
				continue
			}
			ok := true
			for _, p := range phrases {
				ok = ok && strings.Contains(d.Detail, p)
			}
			if ok {
				return true
			}
		}
		return false
	}
	if out, err := w.run("init", "-input=false"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}

	plan := run("plan", "-input=false", "-json")
	if !find(plan, "awsdynamic_role.admin", adminPolicy, "every IAM write action") {
		t.Errorf("plan: no warning on awsdynamic_role.admin about %s; diagnostics: %+v", adminPolicy, plan)
	}
	for _, addr := range []string{"awsdynamic_role.custom", "awsdynamic_credential.custom"} {
		if find(plan, addr) {
			t.Errorf("plan warned about %s, whose policy plan cannot read", addr)
		}
	}

	apply := run("apply", "-input=false", "-auto-approve", "-json")
	for _, addr := range []string{"awsdynamic_credential.custom", "ephemeral.awsdynamic_credential.custom"} {
		if !find(apply, addr, custom, "IAM write actions (iam:CreateAccessKey, iam:CreateUser)") {
			t.Errorf("apply: no warning on %s about %s; diagnostics: %+v", addr, custom, apply)
		}
	}
	if names, err := usersUnder(context.Background(), "/awsdynamic/"); err != nil || len(names) != 1 {
		t.Errorf("after apply, lease users %v (%v): want the managed credential's user, issued despite the warning", names, err)
	}

	run("destroy", "-input=false", "-auto-approve")
	if names, err := usersUnder(context.Background(), "/"); err != nil || len(names) != 0 {
		t.Errorf("users left after destroy: %v (%v)", names, err)
	}
}
