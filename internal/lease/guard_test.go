package lease

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

func TestGuardDocument_DeniesEverythingAfterExpiry(t *testing.T) {
	at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.FixedZone("CET", 3600))
	doc := GuardDocument(at, testUserARN)

	want := `{"Version":"2012-10-17","Statement":[{"Sid":"AwsdynamicLeaseExpiry","Effect":"Deny","Action":"*",` +
		`"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2031-02-03T03:05:06Z"}}},` +
		`{"Sid":"AwsdynamicLeaseSelf","Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"` + testUserARN + `"},` +
		`{"Sid":"AwsdynamicLeaseGroups","Effect":"Deny","Action":["iam:AddUserToGroup","iam:RemoveUserFromGroup"],"Resource":"*"}]}`
	if doc != want {
		t.Fatalf("GuardDocument =\n%s\nwant\n%s", doc, want)
	}
	if !json.Valid([]byte(doc)) {
		t.Fatal("guard is not valid JSON")
	}
	if err := policy.Validate(doc); err != nil {
		t.Fatalf("guard does not pass the policy checks: %v", err)
	}
	got, err := ReadGuard(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ExpiresAt.Equal(at) || got.UserARN != testUserARN {
		t.Errorf("ReadGuard = %+v, want %s and %s", got, at.UTC(), testUserARN)
	}
}

func TestGuardDocument_DropsSubseconds(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 999_000_000, time.UTC)
	got, err := GuardExpiry(GuardDocument(at, testUserARN))
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Second); !got.Equal(want) {
		t.Errorf("GuardExpiry = %s, want %s", got, want)
	}
}

// TestGuardSize_IsTheGuardsSize: validation budgets the guard with GuardSize, so it must be the size IAM counts for
// every date, name and path, and grow with the ARN.
func TestGuardSize_IsTheGuardsSize(t *testing.T) {
	for _, tc := range []struct{ partition, path, name string }{
		{"aws", "/", "u"},
		{"aws", "/awsdynamic/", "vault-deploy-1700000000-abcdefghijklmnopqrst"},
		{"aws-us-gov", "/a/much/longer/path/than/usual/", strings.Repeat("n", MaxUserNameLen)},
	} {
		arn := UserARN(tc.partition, "123456789012", tc.path, tc.name)
		for _, at := range []time.Time{
			time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Now(),
			time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		} {
			if got, want := policy.Size(GuardDocument(at, arn)), GuardSize(tc.partition, tc.path, tc.name, NetworkBinding{}); got != want {
				t.Errorf("policy.Size(guard of %s at %s) = %d, GuardSize = %d", arn, at, got, want)
			}
		}
	}
	if a, b := GuardSize("aws", "/", "u", NetworkBinding{}), GuardSize("aws", "/p/", "u", NetworkBinding{}); b != a+2 {
		t.Errorf("GuardSize does not grow with the path: %d then %d", a, b)
	}
}

// TestGuardExpiry_ReadsTheGuardOf010: a lease issued by 0.1.0 has a one-statement guard; the sweep and a failed
// renewal's read-back must still understand it (a renewal then writes the new one).
func TestGuardExpiry_ReadsTheGuardOf010(t *testing.T) {
	old := `{"Version":"2012-10-17","Statement":[{"Sid":"AwsdynamicLeaseExpiry","Effect":"Deny","Action":"*",` +
		`"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-05-06T07:08:09Z"}}}]}`
	g, err := ReadGuard(old)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC); !g.ExpiresAt.Equal(want) || g.UserARN != "" {
		t.Errorf("ReadGuard = %+v, want %s and no user", g, want)
	}
}

func TestGuardExpiry_ReadsReformattedGuards(t *testing.T) {
	doc := `{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Sid": "AwsdynamicLeaseExpiry", "Effect": "Deny", "Action": ["*"], "Resource": "*",
	    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-05-06T07:08:09Z"}}
	  }]
	}`
	got, err := GuardExpiry(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC); !got.Equal(want) {
		t.Errorf("GuardExpiry = %s, want %s", got, want)
	}
}

func TestGuardExpiry_RejectsWhatIsNotAGuard(t *testing.T) {
	guard := GuardDocument(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), testUserARN)
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not json", "{", "reading the lease guard policy"},
		{"allow", strings.Replace(guard, `"Deny"`, `"Allow"`, 1), `not "Deny"`},
		{"self statement allows", strings.Replace(guard, `"Effect":"Deny","NotAction"`, `"Effect":"Allow","NotAction"`, 1), "second statement"},
		{"self statement lets writes through", strings.Replace(guard, `"iam:List*"]`, `"iam:List*","iam:Put*"]`, 1), "second statement"},
		{"groups statement narrowed", strings.Replace(guard, `"iam:RemoveUserFromGroup"],"Resource":"*"`, `"iam:RemoveUserFromGroup"],"Resource":"arn:aws:iam::1:group/x"`, 1), "third statement"},
		{"narrow action", strings.Replace(guard, `"Action":"*"`, `"Action":"s3:*"`, 1), `not "Deny"`},
		{"other condition", strings.Replace(guard, "DateGreaterThan", "DateLessThan", 1), "DateGreaterThan"},
		{"bad date", strings.Replace(guard, "2030-01-01T00:00:00Z", "tomorrow", 1), "its date"},
		{"two statements", `{"Version":"2012-10-17","Statement":[{},{}]}`, "2 statements"},
		{"self statement dropped", strings.Replace(guard, guard[strings.Index(guard, `,{"Sid":"AwsdynamicLeaseSelf"`):strings.Index(guard, `,{"Sid":"AwsdynamicLeaseGroups"`)], "", 1), "2 statements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := GuardExpiry(tc.doc)
			if err == nil {
				t.Fatal("GuardExpiry accepted it")
			}
			mustContain(t, err.Error(), tc.want)
		})
	}
}
