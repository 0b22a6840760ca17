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
	doc := GuardDocument(at)

	want := `{"Version":"2012-10-17","Statement":[{"Sid":"AwsdynamicLeaseExpiry","Effect":"Deny","Action":"*",` +
		`"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2031-02-03T03:05:06Z"}}}]}`
	if doc != want {
		t.Fatalf("GuardDocument =\n%s\nwant\n%s", doc, want)
	}
	if !json.Valid([]byte(doc)) {
		t.Fatal("guard is not valid JSON")
	}
	if err := policy.Validate(doc); err != nil {
		t.Fatalf("guard does not pass the policy checks: %v", err)
	}
	got, err := GuardExpiry(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(at) {
		t.Errorf("GuardExpiry = %s, want %s", got, at.UTC())
	}
}

func TestGuardDocument_DropsSubseconds(t *testing.T) {
	at := time.Date(2030, 1, 1, 0, 0, 0, 999_000_000, time.UTC)
	got, err := GuardExpiry(GuardDocument(at))
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Second); !got.Equal(want) {
		t.Errorf("GuardExpiry = %s, want %s", got, want)
	}
}

func TestGuardMaxSize_IsTheLargestGuard(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now(),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		if got := policy.Size(GuardDocument(at)); got != GuardMaxSize {
			t.Errorf("policy.Size(guard for %s) = %d, GuardMaxSize = %d", at, got, GuardMaxSize)
		}
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
	guard := GuardDocument(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not json", "{", "reading the lease guard policy"},
		{"allow", strings.Replace(guard, `"Deny"`, `"Allow"`, 1), `not "Deny"`},
		{"narrow action", strings.Replace(guard, `"Action":"*"`, `"Action":"s3:*"`, 1), `not "Deny"`},
		{"other condition", strings.Replace(guard, "DateGreaterThan", "DateLessThan", 1), "DateGreaterThan"},
		{"bad date", strings.Replace(guard, "2030-01-01T00:00:00Z", "tomorrow", 1), "its date"},
		{"two statements", `{"Version":"2012-10-17","Statement":[{},{}]}`, "2 statements"},
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
