package lease

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The guard is written as fixed text around the date rather than marshaled, so that its size is a constant the
// role's validation can budget for (IAM counts all of a user's inline policies together).
const (
	guardSid    = "AwsdynamicLeaseExpiry"
	guardPrefix = `{"Version":"2012-10-17","Statement":[{"Sid":"` + guardSid +
		`","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"`
	guardSuffix = `"}}}]}`
	guardLayout = "2006-01-02T15:04:05Z" // RFC 3339 in UTC, whole seconds: always 20 characters for years 1000-9999

	// GuardMaxSize is the guard policy's size as IAM counts it, whatever its date.
	GuardMaxSize = len(guardPrefix) + len(guardLayout) + len(guardSuffix)
)

// GuardDocument is the lease guard: deny every action on every resource once aws:CurrentTime is past expiresAt.
// AWS enforces it even if nothing ever revokes the lease.
func GuardDocument(expiresAt time.Time) string {
	return guardPrefix + expiresAt.UTC().Format(guardLayout) + guardSuffix
}

// GuardExpiry reads back the date a guard document enforces. It accepts any JSON layout of the same policy (AWS
// returns documents URL-encoded and may reformat them; decode first), and refuses documents that would not deny
// everything after that date.
func GuardExpiry(doc string) (time.Time, error) {
	var g struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &g); err != nil {
		return time.Time{}, fmt.Errorf("reading the lease guard policy: %w", err)
	}
	if len(g.Statement) != 1 {
		return time.Time{}, fmt.Errorf("reading the lease guard policy: it has %d statements, want 1", len(g.Statement))
	}
	st := g.Statement[0]
	if st.Effect != "Deny" || !isStar(st.Action) || !isStar(st.Resource) {
		return time.Time{}, errors.New(`reading the lease guard policy: its statement is not "Deny" of action "*" on resource "*"`)
	}
	if len(st.Condition) != 1 || len(st.Condition["DateGreaterThan"]) != 1 {
		return time.Time{}, errors.New("reading the lease guard policy: its only condition must be DateGreaterThan aws:CurrentTime")
	}
	raw, ok := st.Condition["DateGreaterThan"]["aws:CurrentTime"].(string)
	if !ok {
		return time.Time{}, errors.New("reading the lease guard policy: DateGreaterThan has no aws:CurrentTime string")
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the lease guard policy: its date: %w", err)
	}
	return t.UTC(), nil
}

func isStar(v any) bool {
	switch v := v.(type) {
	case string:
		return v == "*"
	case []any:
		return len(v) == 1 && v[0] == "*"
	}
	return false
}
