package lease

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
)

func TestQuotaState_WarnsPast80PercentAndRefusesPastTheQuota(t *testing.T) {
	for _, c := range []struct {
		users, planned, quota int
		warn, exceeded        bool
	}{
		{users: 0, planned: 1, quota: 5000},
		{users: 3999, planned: 1, quota: 5000},
		{users: 3999, planned: 2, quota: 5000, warn: true},
		{users: 4999, planned: 1, quota: 5000, warn: true},
		{users: 4950, planned: 51, quota: 5000, warn: true, exceeded: true},
		{users: 10, planned: 1, quota: 0}, // no quota reported: nothing to judge by
	} {
		s := QuotaState{Users: c.users, Planned: c.planned, Quota: c.quota}
		if s.Warn() != c.warn || s.Exceeded() != c.exceeded {
			t.Errorf("%+v: warn %v exceeded %v, want %v %v", s, s.Warn(), s.Exceeded(), c.warn, c.exceeded)
		}
	}
}

// An issue that would pass UsersQuota is refused before CreateUser, with the numbers, instead of failing with
// IAM's LimitExceeded halfway through an apply; the summary is read once for every issue of the process, and a
// revoke gives the user back. moto always reports AWS's default quota (5,000) and does not enforce it, so the
// proxy rewrites its answer to a quota two users above the account's count, as an account near its quota would
// answer; the user count is moto's own.
func TestIssue_RefusesPastTheUserQuota(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultCase(t, f.faultRole())
	summary, err := f.iam.GetAccountSummary(f.ctx(), &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	before := int(summary.SummaryMap["Users"])
	if summary.SummaryMap["UsersQuota"] != 5000 {
		t.Fatalf("moto reports UsersQuota %d; this test assumes it reports AWS's default and is rewritten", summary.SummaryMap["UsersQuota"])
	}
	f.px.Rewrite("GetAccountSummary", faultproxy.UsersQuota(before+2))
	client := iam.NewFromConfig(f.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(f.px.URL) })
	is := f.issuer(func(o *Options) { o.IAM = client; o.UserQuota = NewUserQuota(client) })

	first, _, err := is.Issue(f.ctx(), role, Request{DisplayName: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := is.Issue(f.ctx(), role, Request{DisplayName: "2"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = is.Issue(f.ctx(), role, Request{DisplayName: "3"})
	var qe *QuotaError
	if !errors.As(err, &qe) {
		t.Fatalf("third issue past a quota of %d: got %v, want a *QuotaError", before+2, err)
	}
	mustContain(t, err.Error(), strconv.Itoa(before+2)+" IAM users", "UsersQuota is "+strconv.Itoa(before+2), "raise the quota")
	if n := actionCounts(f.recorded(t))["CreateUser"]; n != 2 {
		t.Errorf("CreateUser reached moto %d times, want 2: the refused issue must not try", n)
	}
	if users := f.usersUnder(role.UserPath); len(users) != 2 {
		t.Errorf("users under the path: %v, want the two issued", users)
	}

	if err := is.Revoke(f.ctx(), first); err != nil {
		t.Fatal(err)
	}
	if _, _, err := is.Issue(f.ctx(), role, Request{DisplayName: "4"}); err != nil {
		t.Fatalf("after a revoke gave a user back, issue still refused: %v", err)
	}
	if n := f.px.Count("GetAccountSummary"); n != 1 {
		t.Errorf("iam:GetAccountSummary called %d times, want once for the process", n)
	}
}

// Without iam:GetAccountSummary (a root policy written before it was needed) issuing goes on: IAM still enforces
// its quota, and the plan says the quota was not checked.
func TestIssue_UnreadableQuotaDoesNotBlockIssuing(t *testing.T) {
	f := newFaultEnv(t)
	role := f.faultCase(t, f.faultRole(), faultproxy.Rule{Action: "GetAccountSummary", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	client := iam.NewFromConfig(f.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(f.px.URL) })
	q := NewUserQuota(client)
	is := f.issuer(func(o *Options) { o.IAM = client; o.UserQuota = q })
	if _, _, err := is.Issue(f.ctx(), role, Request{}); err != nil {
		t.Fatalf("issue failed because the quota could not be read: %v", err)
	}
	if _, err := q.Plan(f.ctx()); err == nil || !strings.Contains(err.Error(), "iam:GetAccountSummary") {
		t.Errorf("Plan: %v, want the unread summary named", err)
	}
}
