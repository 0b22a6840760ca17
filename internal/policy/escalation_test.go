package policy

import (
	"fmt"
	"strings"
	"testing"
)

// doc builds a policy from statements written as JSON objects.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func allow(action, resource string) string {
	return fmt.Sprintf(`{"Effect":"Allow","Action":%s,"Resource":%s}`, action, resource)
}

// Each row is a policy and what it must be reported to grant: whether IAM writes are among it (and, when the row
// names them, exactly which), and whether sts:AssumeRole on any role is.
func TestAnalyze(t *testing.T) {
	all := len(iamWriteActions)
	tests := []struct {
		name       string
		doc        string
		iamWrites  int      // how many IAM write actions; -1: every one
		exactly    []string // when set, exactly these
		assumeRole bool
	}{
		// Harmless.
		{name: "s3 read", doc: doc(allow(`"s3:GetObject"`, `"*"`))},
		{name: "iam reads by prefix", doc: doc(allow(`["iam:Get*","iam:List*","iam:Generate*","iam:Simulate*"]`, `"*"`))},
		{name: "iam:G* is only Get and Generate", doc: doc(allow(`"iam:G*"`, `"*"`))},
		{name: "sts:GetCallerIdentity", doc: doc(allow(`"sts:GetCallerIdentity"`, `"*"`))},
		{name: "sts:Get* is not AssumeRole", doc: doc(allow(`"sts:Get*"`, `"*"`))},
		{name: "assume one named role", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws:iam::123456789012:role/deploy"`))},
		{name: "assume roles by name prefix", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws:iam::*:role/ci-*"`))},
		{name: "change own password only", doc: doc(allow(`"iam:ChangePassword"`, `["arn:aws:iam::*:user/${aws:username}","arn:aws:iam::*:user/*/${aws:username}"]`))},
		{name: "own access keys only", doc: doc(allow(`["iam:CreateAccessKey","iam:DeleteAccessKey"]`, `"arn:aws:iam::123456789012:user/${aws:username}"`))},
		{name: "iam write on an s3 ARN reaches nothing", doc: doc(allow(`"iam:CreateUser"`, `"arn:aws:s3:::bucket"`))},
		{name: "everything but iam and sts", doc: doc(`{"Effect":"Allow","NotAction":["iam:*","sts:*"],"Resource":"*"}`)},
		{name: "deny statements grant nothing", doc: doc(`{"Effect":"Deny","Action":"*","Resource":"*"}`)},
		{name: "admin taken back by an unconditional deny", doc: doc(allow(`"*"`, `"*"`), `{"Effect":"Deny","Action":["iam:*","sts:AssumeRole"],"Resource":"*"}`)},
		{name: "NotResource excluding every role", doc: doc(`{"Effect":"Allow","Action":"sts:AssumeRole","NotResource":"arn:aws:iam::*:role/*"}`)},
		{name: "NotResource star", doc: doc(`{"Effect":"Allow","Action":"iam:*","NotResource":"*"}`)},
		{name: "service-linked roles only", doc: doc(allow(`["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole"]`, `"*"`))},
		{name: "single statement object", doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`},

		// IAM writes.
		{name: "one literal write", doc: doc(allow(`"iam:CreateUser"`, `"*"`)), exactly: []string{"iam:CreateUser"}},
		{name: "action names are case-insensitive", doc: doc(allow(`"IAM:createuser"`, `"*"`)), exactly: []string{"iam:CreateUser"}},
		{name: "iam:*", doc: doc(allow(`"iam:*"`, `"*"`)), iamWrites: -1},
		{name: "star", doc: doc(allow(`"*"`, `"*"`)), iamWrites: -1, assumeRole: true},
		{name: "star colon star", doc: doc(allow(`"*:*"`, `"*"`)), iamWrites: -1, assumeRole: true},
		{name: "iam:Create*", doc: doc(allow(`"iam:Create*"`, `"*"`)), iamWrites: 14},
		{name: "iam:Put*", doc: doc(allow(`"iam:Put*"`, `"*"`)), iamWrites: 6},
		{name: "iam:Attach*", doc: doc(allow(`"iam:Attach*"`, `"*"`)), exactly: []string{"iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy"}},
		{name: "question mark", doc: doc(allow(`"iam:?assRole"`, `"*"`)), exactly: []string{"iam:PassRole"}},
		{name: "PassRole counts", doc: doc(allow(`"iam:PassRole"`, `"arn:aws:iam::123456789012:role/app"`)), exactly: []string{"iam:PassRole"}},
		{name: "writes scoped to some users", doc: doc(allow(`"iam:CreateAccessKey"`, `"arn:aws:iam::123456789012:user/ci-*"`)), exactly: []string{"iam:CreateAccessKey"}},
		{name: "a name ending in the variable is not only self", doc: doc(allow(`"iam:CreateAccessKey"`, `"arn:aws:iam::*:user/*${aws:username}"`)), exactly: []string{"iam:CreateAccessKey"}},
		{name: "resource wildcard over the separators", doc: doc(allow(`"iam:CreateRole"`, `"arn:*"`)), exactly: []string{"iam:CreateRole"}},
		{name: "iam write among reads", doc: doc(allow(`["iam:Get*","iam:List*","iam:TagUser"]`, `"*"`)), exactly: []string{"iam:TagUser"}},
		{name: "NotAction leaving iam", doc: doc(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`), iamWrites: -1, assumeRole: true},
		{name: "NotAction of iam reads leaves iam writes", doc: doc(`{"Effect":"Allow","NotAction":["iam:Get*","iam:List*","sts:*"],"Resource":"*"}`), iamWrites: -1},
		{name: "NotAction of every write but one", doc: doc(`{"Effect":"Allow","NotAction":["iam:C*","iam:D*","iam:E*","iam:A*","iam:R*","iam:S*","iam:T*","iam:U*","iam:PutG*","iam:PutR*","iam:PutU*","iam:Pass*","sts:*"],"Resource":"*"}`), exactly: []string{"iam:PutAccountProperties"}},
		{name: "conditions do not take a grant away", doc: doc(`{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`), exactly: []string{"iam:CreateUser"}},
		{name: "a conditional deny does not take it away", doc: doc(allow(`"iam:CreateUser"`, `"*"`), `{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), exactly: []string{"iam:CreateUser"}},
		{name: "a deny on some resources does not take it away", doc: doc(allow(`"iam:CreateUser"`, `"*"`), `{"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::*:user/admin"}`), exactly: []string{"iam:CreateUser"}},
		{name: "deny takes away only what it names", doc: doc(allow(`"iam:*"`, `"*"`), `{"Effect":"Deny","NotAction":"iam:PassRole","Resource":"*"}`), exactly: []string{"iam:PassRole"}},
		{name: "NotResource on some users", doc: doc(`{"Effect":"Allow","Action":"iam:CreateUser","NotResource":"arn:aws:iam::*:user/admin*"}`), exactly: []string{"iam:CreateUser"}},
		{name: "NotResource on all IAM", doc: doc(`{"Effect":"Allow","Action":"iam:CreateUser","NotResource":"arn:aws:iam::*:*"}`)},

		// sts:AssumeRole.
		{name: "AssumeRole on star", doc: doc(allow(`"sts:AssumeRole"`, `"*"`)), assumeRole: true},
		{name: "sts:*", doc: doc(allow(`"sts:*"`, `"*"`)), assumeRole: true},
		{name: "sts:Assume*", doc: doc(allow(`"sts:Assume*"`, `"*"`)), assumeRole: true},
		{name: "sts:assumerole in lower case", doc: doc(allow(`"sts:assumerole"`, `"*"`)), assumeRole: true},
		{name: "every role of every account", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws:iam::*:role/*"`)), assumeRole: true},
		{name: "every role of one account", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws:iam::111122223333:role/*"`)), assumeRole: true},
		{name: "every role in another partition", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws-cn:iam::111122223333:role/*"`)), assumeRole: true},
		{name: "every IAM object", doc: doc(allow(`"sts:AssumeRole"`, `"arn:aws:iam::*:*"`)), assumeRole: true},
		{name: "NotResource excluding one role", doc: doc(`{"Effect":"Allow","Action":"sts:AssumeRole","NotResource":"arn:aws:iam::*:role/admin"}`), assumeRole: true},
		{name: "NotResource excluding one account's roles", doc: doc(`{"Effect":"Allow","Action":"sts:AssumeRole","NotResource":"arn:aws:iam::111122223333:role/*"}`), assumeRole: true},
		{name: "AssumeRole only among other sts", doc: doc(allow(`["sts:AssumeRole","sts:GetCallerIdentity"]`, `"*"`)), assumeRole: true},
		{name: "deny of AssumeRole leaves iam", doc: doc(allow(`"*"`, `"*"`), `{"Effect":"Deny","Action":"sts:*","Resource":"*"}`), iamWrites: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(tt.doc); err != nil {
				t.Fatalf("the row's policy is not valid, so it proves nothing: %v", err)
			}
			r, err := Analyze(tt.doc)
			if err != nil {
				t.Fatalf("Analyze() error = %v", err)
			}
			want := tt.iamWrites
			if want == -1 {
				want = all
			}
			if tt.exactly != nil {
				if strings.Join(r.IAMWrite, ",") != strings.Join(tt.exactly, ",") {
					t.Errorf("IAMWrite = %v, want %v", r.IAMWrite, tt.exactly)
				}
			} else if len(r.IAMWrite) != want {
				t.Errorf("IAMWrite has %d actions %v, want %d", len(r.IAMWrite), r.IAMWrite, want)
			}
			if r.AssumeRole != tt.assumeRole {
				t.Errorf("AssumeRole = %v, want %v", r.AssumeRole, tt.assumeRole)
			}
			if r.Any() != (len(r.IAMWrite) > 0 || r.AssumeRole) {
				t.Errorf("Any() = %v for %+v", r.Any(), r)
			}
		})
	}
}

func TestAnalyze_UnreadableDocuments(t *testing.T) {
	for _, d := range []string{``, `[]`, `{"Version":"2012-10-17"}`, `{"Statement":["x"]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}`} {
		if _, err := Analyze(d); err == nil {
			t.Errorf("Analyze(%q) = nil error, want one", d)
		}
	}
}

func TestRisksDescribe(t *testing.T) {
	tests := []struct {
		r    Risks
		want string
	}{
		{Risks{}, ""},
		{Risks{AssumeRole: true}, "sts:AssumeRole on any role"},
		{Risks{IAMWrite: []string{"iam:CreateUser", "iam:PassRole"}}, "IAM write actions (iam:CreateUser, iam:PassRole)"},
		{Risks{IAMWrite: []string{"iam:A", "iam:B", "iam:C", "iam:D", "iam:E", "iam:F"}, AssumeRole: true},
			"6 IAM write actions (iam:A, iam:B, iam:C, iam:D and 2 more) and sts:AssumeRole on any role"},
	}
	for _, tt := range tests {
		if got := tt.r.Describe(); got != tt.want {
			t.Errorf("Describe() = %q, want %q", got, tt.want)
		}
	}
	everything, err := Analyze(doc(allow(`"*"`, `"*"`)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := everything.Describe(), "every IAM write action (iam:*) and sts:AssumeRole on any role"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	u := Risks{IAMWrite: []string{"iam:PassRole"}}.Union(Risks{IAMWrite: []string{"iam:CreateUser", "iam:PassRole"}, AssumeRole: true})
	if strings.Join(u.IAMWrite, ",") != "iam:CreateUser,iam:PassRole" || !u.AssumeRole {
		t.Errorf("Union() = %+v", u)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		fold bool
		want bool
	}{
		{"*", "", false, true},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"*b*", "abc", false, true},
		{"A*", "abc", false, false},
		{"A*", "abc", true, true},
		{"a**", "a", false, true},
		{"", "a", false, false},
	}
	for _, tt := range tests {
		if got := glob(tt.p, tt.s, tt.fold); got != tt.want {
			t.Errorf("glob(%q, %q, %v) = %v, want %v", tt.p, tt.s, tt.fold, got, tt.want)
		}
	}
}

func TestAWSManagedRisks(t *testing.T) {
	tests := []struct {
		arn               string
		known, assumeRole bool
		writes            int
	}{
		{arn: "arn:aws:iam::aws:policy/AdministratorAccess", known: true, assumeRole: true, writes: len(iamWriteActions)},
		{arn: "arn:aws-us-gov:iam::aws:policy/IAMFullAccess", known: true, writes: len(iamWriteActions)},
		{arn: "arn:aws:iam::aws:policy/PowerUserAccess", known: true, assumeRole: true},
		{arn: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", known: true},
		{arn: "arn:aws:iam::aws:policy/ViewOnlyAccess"}, // it lives under job-function/
		{arn: "arn:aws:iam::aws:policy/ReadOnlyAccess", known: true},
		{arn: "arn:aws:iam::123456789012:policy/AdministratorAccess"}, // customer managed, whatever its name
		{arn: "arn:aws:iam::aws:policy/SomethingNew"},
		{arn: "not an arn"},
	}
	for _, tt := range tests {
		r, known := AWSManagedRisks(tt.arn)
		if known != tt.known || r.AssumeRole != tt.assumeRole || len(r.IAMWrite) != tt.writes {
			t.Errorf("AWSManagedRisks(%q) = %+v, %v; want known=%v assumeRole=%v and %d writes", tt.arn, r, known, tt.known, tt.assumeRole, tt.writes)
		}
	}
}
