package lease

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

const (
	adminARN     = "arn:aws:iam::aws:policy/AdministratorAccess"
	powerUserARN = "arn:aws:iam::aws:policy/PowerUserAccess"
	iamFullARN   = "arn:aws:iam::aws:policy/IAMFullAccess"
	readOnlyARN  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	iamWriteDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}`
	assumeDoc    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	harmlessDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
)

// Each row is a role and the trust warnings Validate must give it: on which attribute, and phrases of the detail
// (what is granted, what outlives the credential, the fix). A row with no want expects no trust warning at all.
func TestRoleValidate_TrustWarnings(t *testing.T) {
	roleARNs := []string{"arn:aws:iam::123456789012:role/deploy"}
	type want struct {
		attr    string
		phrases []string
	}
	tests := []struct {
		name    string
		role    Role
		unknown []string
		want    []want
	}{
		{name: "read-only managed policy", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{readOnlyARN}}},
		{name: "harmless document", role: Role{Name: "r", CredentialType: IAMUser, PolicyDocument: harmlessDoc}},
		{name: "customer-managed ARN waits for issue", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{"arn:aws:iam::123456789012:policy/admin"}}},
		{name: "AdministratorAccess on iam_user", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{readOnlyARN, adminARN}},
			want: []want{{"policy_arns", []string{adminARN + " grants every IAM write action (iam:*) and sts:AssumeRole on any role",
				"expiry guard", "up to 12 hours", "IAM users, access keys, roles or policies", "permissions_boundary_arn", `prefer credential_type "assumed_role"`}}}},
		{name: "PowerUserAccess: assume role only", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{powerUserARN}},
			want: []want{{"policy_arns", []string{powerUserARN + " grants sts:AssumeRole on any role."}}}},
		{name: "two risky ARNs in one warning", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{powerUserARN, iamFullARN}},
			want: []want{{"policy_arns", []string{powerUserARN + " grants sts:AssumeRole", iamFullARN + " grants every IAM write action"}}}},
		{name: "managed ARN in another partition", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{"arn:aws-cn:iam::aws:policy/AdministratorAccess"}},
			want: []want{{"policy_arns", []string{"every IAM write action"}}}},
		{name: "document with an IAM write", role: Role{Name: "r", CredentialType: IAMUser, PolicyDocument: iamWriteDoc},
			want: []want{{"policy_document", []string{"policy_document grants IAM write actions (iam:CreateAccessKey)", "stay until someone deletes them"}}}},
		{name: "document and ARN each warn", role: Role{Name: "r", CredentialType: IAMUser, PolicyDocument: assumeDoc, PolicyARNs: []string{adminARN}},
			want: []want{{"policy_arns", []string{"AdministratorAccess"}}, {"policy_document", []string{"policy_document grants sts:AssumeRole on any role"}}}},
		{name: "assumed_role session policy", role: Role{Name: "r", CredentialType: AssumedRole, RoleARNs: roleARNs, PolicyARNs: []string{adminARN}},
			want: []want{{"policy_arns", []string{"session ends on its own", "up to an hour after it", "permissions boundary"}}}},
		{name: "federation_token: IAM writes through the console", role: Role{Name: "r", CredentialType: FederationToken, PolicyDocument: iamWriteDoc},
			want: []want{{"policy_document", []string{"console session", "remove IAM writes"}}}},
		{name: "federation_token cannot assume roles", role: Role{Name: "r", CredentialType: FederationToken, PolicyDocument: assumeDoc}},
		{name: "unknown policy_arns are not guessed", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{adminARN}}, unknown: []string{"policy_arns"}},
		{name: "unknown document is not guessed", role: Role{Name: "r", CredentialType: IAMUser, PolicyDocument: iamWriteDoc}, unknown: []string{"policy_document"}},
		{name: "unknown kind is not guessed", role: Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{adminARN}}, unknown: []string{"credential_type"}},
		{name: "session_token", role: Role{Name: "r", CredentialType: SessionToken},
			want: []want{{"credential_type", []string{"every permission of the provider's own root identity", "gate on MFA", "least-privilege guide"}}}},
		{name: "session_token with MFA", role: Role{Name: "r", CredentialType: SessionToken, MFASerialNumber: "arn:aws:iam::123456789012:mfa/ci"},
			want: []want{{"credential_type", []string{"root identity"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unknown := map[string]bool{}
			for _, u := range tt.unknown {
				unknown[u] = true
			}
			var got []Problem
			for _, p := range tt.role.Validate(ValidateOptions{ReservedTags: LeaseTagCount, Unknown: unknown}) {
				if p.Summary == SummaryOutlivesExpiry || p.Summary == SummarySessionTokenAll {
					got = append(got, p)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d trust warnings, want %d: %+v", len(got), len(tt.want), got)
			}
			for n, w := range tt.want {
				p := got[n]
				if p.Attribute != w.attr || !p.Warning {
					t.Errorf("warning %d is on %q (warning=%v), want a warning on %q", n, p.Attribute, p.Warning, w.attr)
				}
				mustContain(t, p.Detail, w.phrases...)
			}
		})
	}
}

// The plan-time table of AWS-managed policies agrees with the policies themselves: moto ships AWS's own policy
// texts, and each is read and analyzed as a customer-managed policy would be at issue.
func TestManagedRisks_TableMatchesThePolicies(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	names := policy.AWSManagedNames()
	sort.Strings(names)
	for _, name := range names {
		arn := "arn:aws:iam::aws:policy/" + name
		table, known := policy.AWSManagedRisks(arn)
		if !known {
			t.Fatalf("%s is listed but not known", arn)
		}
		real, err := i.readPolicyRisks(e.ctx(), arn)
		if err != nil {
			t.Errorf("%s: %v", arn, err)
			continue
		}
		if !slices.Equal(real.IAMWrite, table.IAMWrite) || real.AssumeRole != table.AssumeRole {
			t.Errorf("%s: the table says %q, the policy grants %q", arn, table.Describe(), real.Describe())
		}
	}
}

// At issue, policies the table does not know are read from IAM (two calls each, all at once) and analyzed; a
// policy that grants IAM writes yields a warning on policy_arns, a harmless one nothing, a known one no call.
func TestPolicyRisks_ReadsCustomerManagedPolicies(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	ctx := e.ctx()
	create := func(name, doc string) string {
		out, err := e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy.Arn)
	}
	risky := create("ci-iam", iamWriteDoc)
	harmless := create("ci-read", harmlessDoc)
	// A second version as the default: the analysis must read the default version, not v1.
	escalated := create("ci-escalated", harmlessDoc)
	if _, err := e.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(escalated),
		PolicyDocument: aws.String(assumeDoc), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}

	e.record()
	ps := i.PolicyRisks(ctx, Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{harmless, risky, readOnlyARN, escalated, risky}})
	reqs := e.recording()
	if len(ps) != 1 || ps[0].Attribute != "policy_arns" || !ps[0].Warning || ps[0].Summary != SummaryOutlivesExpiry {
		t.Fatalf("problems %+v, want one warning on policy_arns", ps)
	}
	mustContain(t, ps[0].Detail, risky+" grants IAM write actions (iam:CreateAccessKey)", escalated+" grants sts:AssumeRole on any role", "expiry guard")
	if strings.Contains(ps[0].Detail, harmless) {
		t.Errorf("the harmless policy is named: %s", ps[0].Detail)
	}
	c := actionCounts(reqs)
	if c["GetPolicy"] != 3 || c["GetPolicyVersion"] != 3 || len(reqs) != 6 {
		t.Errorf("calls %v: want GetPolicy and GetPolicyVersion once per distinct policy the table does not know (3 each)", c)
	}

	e.record()
	if ps := i.PolicyRisks(ctx, Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{harmless}}); len(ps) != 0 {
		t.Errorf("a harmless policy: %+v", ps)
	}
	if ps := i.PolicyRisks(ctx, Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{adminARN, readOnlyARN}}); len(ps) != 0 {
		t.Errorf("policies the table knows were warned about again at issue: %+v", ps)
	}
	if ps := i.PolicyRisks(ctx, Role{Name: "r", CredentialType: FederationToken, PolicyARNs: []string{escalated}}); len(ps) != 0 {
		t.Errorf("sts:AssumeRole on a federation_token role, which cannot call STS: %+v", ps)
	}
	if n := len(moto.Actions(e.recording())); n != 4 {
		t.Errorf("%d calls, want 4: only the two unknown policies are read", n)
	}
}

// A policy that cannot be read is a warning naming it and the permissions to grant, never an error: checking must
// not stand in the way of issuing.
func TestPolicyRisks_UnreadablePolicyIsAWarning(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	missing := "arn:aws:iam::123456789012:policy/not-there"
	ps := i.PolicyRisks(e.ctx(), Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{missing}})
	if len(ps) != 1 || ps[0].Attribute != "policy_arns" || !ps[0].Warning || ps[0].Summary != SummaryPolicyUnread {
		t.Fatalf("problems %+v, want one warning on policy_arns", ps)
	}
	mustContain(t, ps[0].Detail, missing, "NoSuchEntity", "iam:GetPolicy and iam:GetPolicyVersion", "issued regardless")

	ctx, cancel := context.WithCancel(e.ctx())
	cancel()
	ps = i.PolicyRisks(ctx, Role{Name: "r", CredentialType: IAMUser, PolicyARNs: []string{missing}})
	if len(ps) != 1 || !ps[0].Warning || !strings.Contains(ps[0].Detail, "canceled") {
		t.Fatalf("a canceled read: %+v, want a warning saying so", ps)
	}
}
