package lease

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func validIAMRole() Role {
	return Role{
		Name:           "deploy",
		CredentialType: IAMUser,
		PolicyARNs:     []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`,
		IAMGroups:      []string{"deployers"},
		IAMTags:        map[string]string{"team": "platform"},
	}
}

func arns(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("arn:aws:iam::123456789012:policy/p%d", i)
	}
	return out
}

func bigDocument(statements int) string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := 0; i < statements; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-%04d/*"}`, i)
	}
	b.WriteString("]}")
	return b.String()
}

func TestRoleValidate(t *testing.T) {
	opts := ValidateOptions{ReservedTags: LeaseTagCount, ProviderMaxTTL: 24 * time.Hour}
	cases := []struct {
		name    string
		mutate  func(*Role)
		attr    string // "" means: no problem at all
		phrase  string
		warning bool
	}{
		{"valid", func(*Role) {}, "", "", false},
		{"bad name", func(r *Role) { r.Name = "deploy role" }, "name", "letters, digits", false},
		{"unknown kind", func(r *Role) { r.CredentialType = "root" }, "credential_type", `"iam_user"`, false},
		{"grants nothing", func(r *Role) { r.PolicyARNs, r.PolicyDocument, r.IAMGroups = nil, "", nil }, "policy_arns", "at least one of policy_arns, policy_document or iam_groups", false},
		{"groups alone are enough", func(r *Role) { r.PolicyARNs, r.PolicyDocument = nil, "" }, "", "", false},
		{"malformed arn", func(r *Role) { r.PolicyARNs = []string{"ReadOnlyAccess"} }, "policy_arns", "not a managed policy ARN", false},
		{"role arn as policy", func(r *Role) { r.PolicyARNs = []string{"arn:aws:iam::123456789012:role/x"} }, "policy_arns", "not a managed policy ARN", false},
		{"11 policies warn", func(r *Role) { r.PolicyARNs = arns(11) }, "policy_arns", "default quota is 10", true},
		{"21 policies error", func(r *Role) { r.PolicyARNs = arns(21) }, "policy_arns", "at most 20", false},
		{"11 groups", func(r *Role) {
			r.IAMGroups = nil
			for i := 0; i < 11; i++ {
				r.IAMGroups = append(r.IAMGroups, fmt.Sprintf("g%d", i))
			}
		}, "iam_groups", "at most 10", false},
		{"bad group", func(r *Role) { r.IAMGroups = []string{"dev ops"} }, "iam_groups", `"dev ops"`, false},
		{"json does not parse", func(r *Role) { r.PolicyDocument = `{"Version":` }, "policy_document", "not a valid IAM policy", false},
		{"not a policy", func(r *Role) {
			r.PolicyDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`
		}, "policy_document", "Resource", false},
		{"document over budget with guard", func(r *Role) { r.PolicyDocument = bigDocument(25) }, "policy_document", "expiry guard takes", false},
		{"tags over 50 with reserved", func(r *Role) {
			r.IAMTags = map[string]string{}
			for i := 0; i < 48; i++ {
				r.IAMTags[fmt.Sprintf("k%02d", i)] = "v"
			}
		}, "iam_tags", "lease tags count", false},
		{"aws: tag", func(r *Role) { r.IAMTags = map[string]string{"aws:x": "y"} }, "iam_tags", "aws:", false},
		{"boundary arn", func(r *Role) { r.PermissionsBoundaryARN = "arn:aws:s3:::bucket" }, "permissions_boundary_arn", "managed policy ARN", false},
		{"user path", func(r *Role) { r.UserPath = "/no-trailing" }, "user_path", "IAM path", false},
		{"default above role max", func(r *Role) { r.DefaultTTL, r.MaxTTL = 3*time.Hour, 2*time.Hour }, "default_ttl", "longer than the maximum (2h0m0s)", false},
		{"default above provider max", func(r *Role) { r.DefaultTTL = 25 * time.Hour }, "default_ttl", "longer than the maximum (24h0m0s)", false},
		{"role_arns on iam_user", func(r *Role) { r.RoleARNs = []string{"arn:aws:iam::123456789012:role/x"} }, "role_arns", `has no meaning for credential_type "iam_user"`, false},
		{"boundary on assumed_role", func(r *Role) {
			*r = Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{"arn:aws:iam::123456789012:role/x"}, PermissionsBoundaryARN: "arn:aws:iam::aws:policy/X"}
		}, "permissions_boundary_arn", "has no meaning", false},
		{"policy on session_token", func(r *Role) {
			*r = Role{Name: "s", CredentialType: SessionToken, PolicyDocument: validIAMRole().PolicyDocument}
		}, "policy_document", "has no meaning", false},
		{"federation without policy", func(r *Role) { *r = Role{Name: "f", CredentialType: FederationToken} }, "policy_arns", "needs policy_arns", false},
		{"assumed_role without arns", func(r *Role) { *r = Role{Name: "a", CredentialType: AssumedRole} }, "role_arns", "needs role_arns", false},
		{"sts default above max", func(r *Role) {
			*r = Role{Name: "s", CredentialType: SessionToken, DefaultSTSTTL: 2 * time.Hour, MaxSTSTTL: time.Hour}
		}, "default_sts_ttl", "longer than max_sts_ttl", false},
		{"assume role over 12h", func(r *Role) {
			*r = Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{"arn:aws:iam::123456789012:role/x"}, MaxSTSTTL: 13 * time.Hour}
		}, "max_sts_ttl", "15m0s to 12h0m0s", false},
		{"federation under 15m", func(r *Role) {
			*r = Role{Name: "f", CredentialType: FederationToken, PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, DefaultSTSTTL: 5 * time.Minute}
		}, "default_sts_ttl", "15m0s to 36h0m0s", false},
		{"11 session policies", func(r *Role) { *r = Role{Name: "f", CredentialType: FederationToken, PolicyARNs: arns(11)} }, "policy_arns", "at most 10 session policy", false},
		{"bad external id", func(r *Role) {
			*r = Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{"arn:aws:iam::123456789012:role/x"}, ExternalID: "x"}
		}, "external_id", "external_id", false},
		{"bad role arn", func(r *Role) {
			*r = Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{"arn:aws:iam::123456789012:user/x"}}
		}, "role_arns", "not an IAM role ARN", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := validIAMRole()
			tc.mutate(&r)
			ps := r.Validate(opts)
			assertProblem(t, ps, tc.attr, tc.phrase, tc.warning)
		})
	}
}

func TestRoleValidate_UnknownValuesSkipCrossChecks(t *testing.T) {
	r := Role{Name: "deploy", CredentialType: IAMUser}
	ps := r.Validate(ValidateOptions{Unknown: map[string]bool{"policy_arns": true}})
	if len(ps) != 0 {
		t.Fatalf("a role whose policies are not known yet must not be reported as granting nothing: %+v", ps)
	}
}

// A credential's own STS arguments, checked against its role: each row names the credential attribute the problem
// is on and a phrase of the fix.
func TestRoleValidateRequest(t *testing.T) {
	const a1, a2 = "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"
	assumed := Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{a1, a2}, MaxSTSTTL: 2 * time.Hour}
	single := Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{a1}}
	fed := Role{Name: "f", CredentialType: FederationToken, PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}
	mfa := Role{Name: "s", CredentialType: SessionToken, MFASerialNumber: "arn:aws:iam::123456789012:mfa/ci"}
	plain := Role{Name: "s", CredentialType: SessionToken}
	cases := []struct {
		name    string
		role    Role
		req     Request
		unknown []string
		attr    string // "" means: no problem at all
		phrase  string
		warning bool
	}{
		{"assumed ok", assumed, Request{RoleARN: a2, RoleSessionName: "ci-run", TTL: time.Hour}, nil, "", "", false},
		{"single arn needs no role_arn", single, Request{}, nil, "", "", false},
		{"role_arn not allowed", assumed, Request{RoleARN: "arn:aws:iam::123456789012:role/c"}, nil, "role_arn", `is not one of the role's role_arns: "` + a1 + `", "` + a2 + `"`, false},
		{"role_arn missing", assumed, Request{}, nil, "role_arn", "set role_arn to one of", false},
		{"role_arn unknown", assumed, Request{}, []string{"role_arn"}, "", "", false},
		{"role_arns unknown", assumed, Request{RoleARN: "arn:aws:iam::123456789012:role/c"}, []string{"role_arns"}, "", "", false},
		{"session name 65", assumed, Request{RoleARN: a1, RoleSessionName: strings.Repeat("x", 65)}, nil, "role_session_name", "at most 64 characters", false},
		{"session name 1", assumed, Request{RoleARN: a1, RoleSessionName: "x"}, nil, "role_session_name", "2 to 64 characters", false},
		{"session name charset", assumed, Request{RoleARN: a1, RoleSessionName: "ci run"}, nil, "role_session_name", "' '", false},
		{"federated name 33", fed, Request{RoleSessionName: strings.Repeat("x", 33)}, nil, "role_session_name", "at most 32 characters", false},
		{"federated name 32", fed, Request{RoleSessionName: strings.Repeat("x", 32)}, nil, "", "", false},
		{"session name on session_token", plain, Request{RoleSessionName: "ci"}, nil, "role_session_name", `has no meaning for credential_type "session_token"`, false},
		{"role_arn on federation", fed, Request{RoleARN: a1}, nil, "role_arn", `applies to "assumed_role"`, false},
		{"mfa_code on assumed_role", single, Request{MFACode: "123456"}, nil, "mfa_code", `applies to "session_token"`, false},
		{"mfa ok", mfa, Request{MFACode: "012345"}, nil, "", "", false},
		{"mfa missing", mfa, Request{}, nil, "mfa_code", "set mfa_code to its current 6 digits", false},
		{"mfa missing but unknown", mfa, Request{}, []string{"mfa_code"}, "", "", false},
		{"mfa 5 digits", mfa, Request{MFACode: "12345"}, nil, "mfa_code", "exactly 6 digits", false},
		{"mfa letters", mfa, Request{MFACode: "12345a"}, nil, "mfa_code", "exactly 6 digits", false},
		{"mfa without device", plain, Request{MFACode: "123456"}, nil, "mfa_code", "no mfa_serial_number", false},
		{"ttl below 15m", single, Request{TTL: 14 * time.Minute}, nil, "ttl", "AWS accepts 15m0s to 12h0m0s", false},
		{"ttl above 12h", single, Request{TTL: 13 * time.Hour}, nil, "ttl", "AWS accepts 15m0s to 12h0m0s", false},
		{"ttl above 12h capped", assumed, Request{RoleARN: a1, TTL: 13 * time.Hour}, nil, "ttl", "issued for 2h0m0s", true},
		{"ttl above max_sts_ttl", assumed, Request{RoleARN: a1, TTL: 3 * time.Hour}, nil, "ttl", "longer than the role's max_sts_ttl", true},
		{"ttl 36h federation", fed, Request{TTL: 36 * time.Hour}, nil, "", "", false},
		{"ttl 37h session", plain, Request{TTL: 37 * time.Hour}, nil, "ttl", "15m0s to 36h0m0s", false},
		{"ttl unknown", plain, Request{TTL: time.Minute}, []string{"ttl"}, "", "", false},
		{"iam_user ttl is not an STS ttl", validIAMRole(), Request{TTL: 48 * time.Hour}, nil, "", "", false},
		{"role_arn on iam_user", validIAMRole(), Request{RoleARN: a1}, nil, "role_arn", `has no meaning for credential_type "iam_user"`, false},
		{"kind unknown", Role{Name: "x"}, Request{RoleARN: a1}, []string{"credential_type"}, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			unknown := map[string]bool{}
			for _, u := range tc.unknown {
				unknown[u] = true
			}
			ps := tc.role.ValidateRequest(tc.req, unknown)
			assertProblem(t, ps, tc.attr, tc.phrase, tc.warning)
		})
	}
}

// assertProblem fails t unless ps holds a problem on attr whose detail contains phrase, a warning or not as warning
// says; attr "" means ps must be empty.
func assertProblem(t *testing.T, ps []Problem, attr, phrase string, warning bool) {
	t.Helper()
	if attr == "" {
		if len(ps) != 0 {
			t.Fatalf("want no problem, got %+v", ps)
		}
		return
	}
	for _, p := range ps {
		if p.Attribute == attr && strings.Contains(p.Detail, phrase) && p.Warning == warning {
			return
		}
	}
	t.Fatalf("want a problem on %s containing %q (warning=%v), got %+v", attr, phrase, warning, ps)
}
