package policy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

const validDoc = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadLogs",
      "Effect": "Allow",
      "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
      "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:app:*"
    }
  ]
}`

func TestValidate_AcceptsIdentityPolicies(t *testing.T) {
	tests := map[string]string{
		"array of statements":       validDoc,
		"single statement object":   `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`,
		"legacy version":            `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
		"NotAction and NotResource": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:iam::123456789012:user/x"}]}`,
		"Id and condition": `{"Version":"2012-10-17","Id":"doc1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
			"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"Bool":{"aws:SecureTransport":false},
			"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`,
		"several statements with distinct sids": `{"Version":"2012-10-17","Statement":[
			{"Sid":"A1","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
			{"Sid":"B2","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"},
			{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`,
		"surrounding white space": "\n\t " + validDoc + "\n\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := Validate(doc); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidate_RejectsWithActionableMessage(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // every phrase must appear in the error
	}{
		{"empty", "  ", []string{"empty"}},
		{"not json", `{"Version": "2012-10-17",}`, []string{"not valid JSON", "line 1"}},
		{"syntax error position", "{\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}", []string{"not valid JSON", "line 3"}},
		{"truncated", `{"Version": "2012-10-17"`, []string{"not valid JSON"}},
		{"trailing content", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, []string{"after the end of the document"}},
		{"array at top", `[{"Version":"2012-10-17"}]`, []string{"must be a JSON object", "not an array"}},
		{"string at top", `"policy"`, []string{"must be a JSON object", "not a string"}},
		{"missing version", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`missing "Version"`, `"2012-10-17"`}},
		{"bad version", `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`"Version" is "2012-10-18"`}},
		{"numeric version", `{"Version":2012,"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`"Version" is 2012`}},
		{"missing statement", `{"Version":"2012-10-17"}`, []string{`missing "Statement"`}},
		{"empty statement array", `{"Version":"2012-10-17","Statement":[]}`, []string{"empty array", "at least one statement"}},
		{"statement is a string", `{"Version":"2012-10-17","Statement":"allow all"}`, []string{`"Statement" must be an object or an array of objects`}},
		{"statement item not object", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}, 7]}`, []string{"statement 2: must be a JSON object, not a number"}},
		{"missing resource names statement and sid", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Sid":"ReadLogs","Effect":"Allow","Action":"logs:Get*"}]}`,
			[]string{`statement 2 ("ReadLogs"): missing "Resource": an identity policy statement needs "Resource" or "NotResource"`}},
		{"missing action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, []string{`statement 1: missing "Action"`, `"NotAction"`}},
		{"both action and notaction", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}]}`, []string{`both "Action" and "NotAction"`}},
		{"both resource and notresource", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}`, []string{`both "Resource" and "NotResource"`}},
		{"missing effect", `{"Version":"2012-10-17","Statement":[{"Action":"*","Resource":"*"}]}`, []string{`missing "Effect"`, `"Allow" or "Deny"`}},
		{"lower-case effect value", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, []string{`"Effect" is "allow"`, `exactly "Allow" or "Deny"`}},
		{"principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, []string{`"Principal" is not allowed`, "remove"}},
		{"notprincipal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"*","Resource":"*"}]}`, []string{`"NotPrincipal" is not allowed`}},
		{"action is a number", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}`, []string{`"Action" must be a string or an array of strings, not a number`}},
		{"action array holds an object", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*",{}],"Resource":"*"}]}`, []string{`"Action" item 2 must be a string, not an object`}},
		{"empty action array", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, []string{`"Action" is an empty array`}},
		{"action null", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":null,"Resource":"*"}]}`, []string{`not null`}},
		{"action without service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, []string{`"Action" value "GetObject" is not service:action`}},
		{"notaction without service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["s3:*","iam"],"Resource":"*"}]}`, []string{`"NotAction" value "iam"`}},
		{"resource not arn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["my-bucket"]}]}`, []string{`"Resource" value "my-bucket" is not an ARN`}},
		{"lower-case element name", `{"Version":"2012-10-17","Statement":[{"effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`"effect": element names are case-sensitive, write "Effect"`}},
		{"unknown statement element", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Comment":"x"}]}`, []string{`unknown element "Comment" in a statement`}},
		{"unknown top-level element", `{"Version":"2012-10-17","Statements":[],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`unknown element "Statements" in the policy document`}},
		{"sid with dash", `{"Version":"2012-10-17","Statement":[{"Sid":"read-logs","Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`statement 1 ("read-logs"): "Sid" "read-logs" may contain only letters and digits`}},
		{"sid not a string", `{"Version":"2012-10-17","Statement":[{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`statement 1: "Sid" must be a string`}},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[
			{"Sid":"Same","Effect":"Allow","Action":"*","Resource":"*"},
			{"Sid":"Same","Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, []string{`statement 2 ("Same"): "Sid" "Same" is already used by statement 1`}},
		{"condition not object", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}]}`, []string{`"Condition" must be an object`}},
		{"condition operator not object", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}]}`, []string{`operator "StringEquals" must map condition keys`}},
		{"condition value object", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":{"y":1}}}}]}`, []string{`key "aws:x" must be a string, number, boolean`}},
		{"id not string", `{"Version":"2012-10-17","Id":3,"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{`"Id" must be a string`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.doc)
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() error =\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestValidate_ReportsEveryProblemInOrder(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"First","Effect":"Allow","Action":"s3:*"},
		{"Effect":"Maybe","Action":"*","Resource":"*"},
		{"Sid":"Third","Effect":"Allow","Resource":"*","Principal":"*"}]}`
	err := Validate(doc)
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`statement 1 ("First"): missing "Resource"`,
		`statement 2: "Effect" is "Maybe"`,
		`statement 3 ("Third"): "Principal" is not allowed`,
		`statement 3 ("Third"): missing "Action"`,
	}
	// Parallel on purpose: lease's limits tests compare their problem lists the same way, in another package.
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want int
	}{
		{"compact", `{"a":"b"}`, 9},
		{"white space between tokens is not counted", "{\n  \"a\" :\t\"b\"\r\n}\n", 9},
		{"white space inside strings is counted", `{"a": "b c"}`, 11},
		{"characters, not bytes", `{"a":"é✓"}`, 10},
		{"invalid JSON is counted whole", `{"a": `, 6},
		{"empty", ``, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Size(tt.doc); got != tt.want {
				t.Errorf("Size(%q) = %d, want %d", tt.doc, got, tt.want)
			}
		})
	}
}

func TestSize_IndentationDoesNotChangeBudget(t *testing.T) {
	compact, err := Normalize(validDoc)
	if err != nil {
		t.Fatal(err)
	}
	if Size(validDoc) != Size(compact) {
		t.Errorf("Size(indented) = %d, Size(compact) = %d, want equal", Size(validDoc), Size(compact))
	}
	if Size(compact) != len(compact) { // validDoc is ASCII, so runes == bytes
		t.Errorf("Size(compact) = %d, want %d", Size(compact), len(compact))
	}
	if Size(validDoc) >= len(validDoc) {
		t.Errorf("Size(indented) = %d should be below its byte length %d", Size(validDoc), len(validDoc))
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, doc, want string
		wantErr         string
	}{
		{"removes indentation", validDoc,
			`{"Version":"2012-10-17","Statement":[{"Sid":"ReadLogs","Effect":"Allow","Action":["logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"arn:aws:logs:eu-west-1:123456789012:log-group:app:*"}]}`, ""},
		{"keeps key order and string spaces", `{ "b" : "x y", "a" : [ 1 , 2 ] }`, `{"b":"x y","a":[1,2]}`, ""},
		{"idempotent", `{"a":1}`, `{"a":1}`, ""},
		{"invalid", `{"a":}`, "", "line 1"},
		{"invalid on later line", "{\n\"a\": 1,\n}", "", "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Normalize() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Normalize() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEquivalent(t *testing.T) {
	base := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	tests := []struct {
		name    string
		a, b    string
		want    bool
		wantErr bool
	}{
		{"identical", base, base, true, false},
		{"white space", base, validDocSpaced(base), true, false},
		{"statement order", base, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}`, true, false},
		{"action order", base, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, true, false},
		{"single value array vs string", base, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]},{"Effect":"Deny","Action":["iam:*"],"Resource":"*"}]}`, true, false},
		{"different effect", base, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`, false, false},
		{"extra action", base, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::b/*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, false, false},
		{"different version", base, strings.Replace(base, "2012-10-17", "2008-10-17", 1), false, false},
		{"invalid json", base, `{"Version":`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Equivalent(tt.a, tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Equivalent() error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Equivalent() = %v, want %v", got, tt.want)
			}
		})
	}
}

func validDocSpaced(doc string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(doc), "", "    "); err != nil {
		panic(err)
	}
	return out.String()
}

func TestInlineBudget(t *testing.T) {
	if InlineBudget != 2048 {
		t.Fatalf("InlineBudget = %d, want IAM's 2048", InlineBudget)
	}
}
