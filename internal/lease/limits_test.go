package lease

import (
	"fmt"
	"strings"
	"testing"
)

type limitsCase struct {
	in   string
	want []string // phrases the error must contain; empty: the value is valid
}

func runLimitsCases(t *testing.T, validate func(string) error, cases []limitsCase) {
	t.Helper()
	for _, tt := range cases {
		name := tt.in
		if len(name) > 40 {
			name = fmt.Sprintf("%s...(%d)", name[:20], len(tt.in))
		}
		t.Run(name, func(t *testing.T) {
			assertErrContains(t, "error", validate(tt.in), tt.want)
		})
	}
}

// assertErrContains fails t unless err contains every phrase of want or, with want empty, err is nil; call names
// what returned err, for the messages.
func assertErrContains(t *testing.T, call string, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("%s = %v, want nil", call, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s = nil, want an error containing %q", call, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s = %q, want it to contain %q", call, err, w)
		}
	}
}

func TestValidateUserName(t *testing.T) {
	runLimitsCases(t, ValidateUserName, []limitsCase{
		{in: "a"},
		{in: "awsdyn-deploy-1700000000-AbC123"},
		{in: "user+tag=x,y.z@example_com-1"},
		{in: strings.Repeat("u", 64)},
		{in: "", want: []string{"must not be empty", "1 to 64"}},
		{in: strings.Repeat("u", 65), want: []string{"at most 64", "has 65"}},
		{in: "my user", want: []string{`"my user" contains ' '`, "ASCII letters, digits and + = , . @ _ -"}},
		{in: "a/b:c/d", want: []string{"'/' and ':'"}},
		{in: "a/b:c!", want: []string{"'/', ':' and '!'"}},
		{in: "josé", want: []string{"'é'"}},
	})
}

func TestValidateGroupName(t *testing.T) {
	runLimitsCases(t, ValidateGroupName, []limitsCase{
		{in: "Developers"},
		{in: strings.Repeat("g", 128)},
		{in: "", want: []string{"IAM group name must not be empty"}},
		{in: strings.Repeat("g", 129), want: []string{"at most 128", "has 129"}},
		{in: "dev ops", want: []string{"' '"}},
	})
}

func TestValidateRoleSessionName(t *testing.T) {
	runLimitsCases(t, ValidateRoleSessionName, []limitsCase{
		{in: "ab"},
		{in: strings.Repeat("s", 64)},
		{in: "a", want: []string{"2 to 64", "has 1"}},
		{in: strings.Repeat("s", 65), want: []string{"at most 64"}},
		{in: "terraform:run", want: []string{"':'"}},
	})
}

func TestValidateFederatedName(t *testing.T) {
	runLimitsCases(t, ValidateFederatedName, []limitsCase{
		{in: "fed"},
		{in: strings.Repeat("f", 32)},
		{in: "f", want: []string{"2 to 32"}},
		{in: strings.Repeat("f", 33), want: []string{"federated user name is at most 32", "has 33"}},
		{in: "a b", want: []string{"' '"}},
	})
}

func TestValidateExternalID(t *testing.T) {
	runLimitsCases(t, ValidateExternalID, []limitsCase{
		{in: "ab"},
		{in: "urn:partner/123_x@y.z+=,-"},
		{in: strings.Repeat("e", 1224)},
		{in: "", want: []string{"must not be empty"}},
		{in: "e", want: []string{"2 to 1224", "this one has 1"}},
		{in: strings.Repeat("e", 1225), want: []string{"at most 1224"}},
		{in: "secret value!", want: []string{"this one contains ' ' and '!'"}},
	})
	// The external ID is a shared secret: errors must not repeat it.
	if err := ValidateExternalID("secret value!"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("ValidateExternalID error = %v, want an error that does not repeat the value", err)
	}
}

func TestValidateMFACode(t *testing.T) {
	runLimitsCases(t, ValidateMFACode, []limitsCase{
		{in: "123456"},
		{in: "000000"},
		{in: "12345", want: []string{"exactly 6 digits", "has 5"}},
		{in: "1234567", want: []string{"has 7"}},
		{in: "12345a", want: []string{"other characters"}},
		{in: "١٢٣٤٥٦", want: []string{"other characters"}}, // Arabic-Indic digits are not 0-9
		{in: "", want: []string{"has 0"}},
	})
	if err := ValidateMFACode("98765x"); err == nil || strings.Contains(err.Error(), "98765") {
		t.Errorf("ValidateMFACode error = %v, want an error that does not repeat the code", err)
	}
}

func TestValidatePath(t *testing.T) {
	runLimitsCases(t, ValidatePath, []limitsCase{
		{in: "/"},
		{in: "/awsdynamic/"},
		{in: "/a/b/c/"},
		{in: "/~!#$%/"},
		{in: "///"}, // AWS's pattern allows "/" inside the delimiters
		{in: "/" + strings.Repeat("p", 510) + "/"},
		{in: "", want: []string{"must not be empty", `use "/"`}},
		{in: "/" + strings.Repeat("p", 511) + "/", want: []string{"at most 512", "has 513"}},
		{in: "awsdynamic/", want: []string{`must begin with "/"`, `"/awsdynamic/"`}},
		{in: "/awsdynamic", want: []string{`must end with "/"`, `"/awsdynamic/"`}},
		{in: "//", want: []string{`use "/" for the root path`}},
		{in: "/my path/", want: []string{"' '", "printable ASCII"}},
		{in: "/é/", want: []string{"'é'"}},
		{in: "/a\tb/", want: []string{`'\t'`}},
	})
}

func TestValidateARN(t *testing.T) {
	runLimitsCases(t, ValidateARN, []limitsCase{
		{in: "arn:aws:iam::123456789012:role/deploy"},
		{in: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{in: "arn:aws:s3:::my-bucket/key:with:colons"},
		{in: "arn:aws-cn:iam::123456789012:user/x"},
		{in: "arn:aws-us-gov:iam::123456789012:user/x"},
		{in: "arn:aws-iso-b:ec2:us-isob-east-1:123456789012:instance/i-1"},
		{in: "arn:aws:logs:eu-west-1:123456789012:log-group:app:*"},
		{in: "", want: []string{"is not an ARN", "arn:partition:service:region:account-id:resource"}},
		{in: "arn:aws:iam::123456789012", want: []string{"is not an ARN"}},
		{in: "urn:aws:iam::123456789012:role/x", want: []string{"is not an ARN"}},
		{in: "arn:amazon:iam::123456789012:role/x", want: []string{`unknown partition "amazon"`, "aws-us-gov"}},
		{in: "arn:aws:::123456789012:role/x", want: []string{"has no service"}},
		{in: "arn:aws:IAM::123456789012:role/x", want: []string{`service "IAM"`}},
		{in: "arn:aws:ec2:EU_WEST:123456789012:instance/x", want: []string{`region "EU_WEST"`}},
		{in: "arn:aws:iam::12345:role/x", want: []string{`account "12345"`, "12 digits"}},
		{in: "arn:aws:iam::123456789012:", want: []string{"has no resource"}},
		{in: " arn:aws:iam::123456789012:role/x", want: []string{"' '", "white space"}},
		{in: "arn:aws:iam::123456789012:role/x\n", want: []string{`'\n'`}},
	})
}

func TestValidatePolicyARN(t *testing.T) {
	runLimitsCases(t, ValidatePolicyARN, []limitsCase{
		{in: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
		{in: "arn:aws:iam::123456789012:policy/team/Deploy"},
		{in: "arn:aws-cn:iam::aws:policy/service-role/AWSLambdaRole"},
		{in: "ReadOnlyAccess", want: []string{"is not an ARN"}},
		{in: "arn:aws:s3:::bucket/policy/x", want: []string{`service is "s3", not iam`}},
		{in: "arn:aws:iam::123456789012:role/deploy", want: []string{`resource "role/deploy" does not begin with "policy/"`}},
		{in: "arn:aws:iam:us-east-1:123456789012:policy/x", want: []string{`IAM ARNs have no region, remove "us-east-1"`}},
		{in: "arn:aws:iam:::policy/x", want: []string{"no account ID"}},
		{in: "arn:aws:iam::aws:policy/", want: []string{"without a policy name"}},
		{in: "arn:aws:iam::aws:policy/path/", want: []string{"without a policy name"}},
	})
}

func TestValidateTags(t *testing.T) {
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%02d", i)] = "v"
		}
		return m
	}
	tests := []struct {
		name     string
		tags     map[string]string
		reserved int
		want     []string
	}{
		{name: "nil", tags: nil},
		{name: "ordinary", tags: map[string]string{"team": "platform", "cost-center": "42", "Owner Name": "Zoë Ångström"}},
		{name: "all allowed punctuation", tags: map[string]string{"a_b.c:d/e=f+g-h@i": "_.:/=+-@ "}},
		{name: "empty value", tags: map[string]string{"flag": ""}},
		{name: "non-latin letters and digits", tags: map[string]string{"チーム": "値١٢"}},
		{name: "longest key and value", tags: map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256)}},
		{name: "50 with none reserved", tags: many(50)},
		{name: "45 plus 5 reserved", tags: many(45), reserved: 5},
		{name: "negative reserved is none", tags: many(50), reserved: -3},
		{name: "51", tags: many(51), want: []string{"51 tags is over IAM's limit of 50", "remove at least 1"}},
		{name: "46 plus 5 reserved", tags: many(46), reserved: 5,
			want: []string{"46 tags plus the 5 the provider adds", "make 51", "remove at least 1"}},
		{name: "empty key", tags: map[string]string{"": "x"}, want: []string{"tag key must not be empty"}},
		{name: "key too long", tags: map[string]string{strings.Repeat("k", 129): "x"}, want: []string{"129 characters", "at most 128"}},
		{name: "key length counts characters", tags: map[string]string{strings.Repeat("é", 128): "x"}},
		{name: "value too long", tags: map[string]string{"k": strings.Repeat("v", 257)}, want: []string{`tag "k" has a value of 257 characters`, "at most 256"}},
		{name: "aws prefix", tags: map[string]string{"aws:createdBy": "me"}, want: []string{`tag key "aws:createdBy" begins with "aws:"`, "choose another key"}},
		{name: "aws prefix any case", tags: map[string]string{"AWS:x": "me"}, want: []string{`begins with "AWS:"`}},
		{name: "awsome is fine", tags: map[string]string{"awsome": "x", "aws": "y"}},
		{name: "lease tag key", tags: map[string]string{"awsdynamic:lease-id": "x"}, want: []string{`tag key "awsdynamic:lease-id" begins with "awsdynamic:"`, "reserves", "in any case"}},
		{name: "lease tag key in another case", tags: map[string]string{"AWSDynamic:Role": "x"}, want: []string{`begins with "AWSDynamic:"`}},
		{name: "any key under the reserved prefix", tags: map[string]string{"AWSDYNAMIC:audit": "x"}, want: []string{"future ones"}},
		{name: "awsdynamic without the colon is fine", tags: map[string]string{"awsdynamic": "x", "awsdynamic-team": "y"}},
		{name: "keys differing only in case", tags: map[string]string{"Team": "a", "team": "b", "other": "c"}, want: []string{`tag keys "Team" and "team" differ only in case`, "keep one of them"}},
		{name: "three keys differing only in case", tags: map[string]string{"TEAM": "a", "Team": "b", "team": "c"}, want: []string{`"TEAM" and "Team"`, `"TEAM" and "team"`}},
		{name: "bad key characters", tags: map[string]string{"team#1": "x"}, want: []string{`tag key "team#1" contains '#'`, "_ . : / = + - @"}},
		{name: "bad value characters", tags: map[string]string{"k": "a,b;c"}, want: []string{`tag "k" has a value that contains ',' and ';'`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrContains(t, "ValidateTags()", ValidateTags(tt.tags, tt.reserved), tt.want)
		})
	}
}

func TestValidateTags_ReportsEveryProblemSortedByKey(t *testing.T) {
	tags := map[string]string{
		"zeta#":   "ok",
		"aws:a":   "ok",
		"middle":  "bad;value",
		"fine":    "ok",
		"alpha!":  "ok",
		"omega\t": "ok",
	}
	for range 20 { // map order is random: the report must not be
		err := ValidateTags(tags, 0)
		if err == nil {
			t.Fatal("ValidateTags() = nil, want errors")
		}
		lines := strings.Split(err.Error(), "\n")
		want := []string{`tag key "alpha!"`, `tag key "aws:a"`, `tag "middle" has a value`, `tag key "omega\t"`, `tag key "zeta#"`}
		// Parallel on purpose: policy's tests compare their problem lists the same way, in another package.
		if len(lines) != len(want) {
			t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Fatalf("problem %d = %q, want prefix %q", i+1, lines[i], w)
			}
		}
	}
}

func TestLimitConstants(t *testing.T) {
	got := map[string]int{
		"MaxUserNameLen":            MaxUserNameLen,
		"MaxManagedPoliciesDefault": MaxManagedPoliciesDefault,
		"MaxManagedPoliciesHard":    MaxManagedPoliciesHard,
		"MaxGroupsPerUser":          MaxGroupsPerUser,
		"MaxTagsPerUser":            MaxTagsPerUser,
		"MaxSessionPolicyARNs":      MaxSessionPolicyARNs,
	}
	want := map[string]int{
		"MaxUserNameLen": 64, "MaxManagedPoliciesDefault": 10, "MaxManagedPoliciesHard": 20,
		"MaxGroupsPerUser": 10, "MaxTagsPerUser": 50, "MaxSessionPolicyARNs": 10,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %d, want %d (IAM-LIMITS.md)", k, got[k], w)
		}
	}
}
