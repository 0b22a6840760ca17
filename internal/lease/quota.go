package lease

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// QuotaWarnShare is the share of UsersQuota past which a plan warns: 80%, so that there is room to act (raise
// the quota, shorten TTLs, sweep) before issuing starts to fail.
const QuotaWarnShare = 0.8

// UserQuota knows how close the account is to IAM's quota of users. It asks iam:GetAccountSummary once per
// process — the quota and the count cost one call, not one per credential — and counts from there what this
// process itself planned, created and deleted, so that the hundredth credential of an apply is judged with the
// ninety-nine before it. Users created by other processes since the summary are not seen: the refusal is a
// best effort before the apply, and IAM's own LimitExceeded stays the last word.
type UserQuota struct {
	iam IAMAPI

	once         sync.Once
	users, quota int
	err          error

	net     atomic.Int64 // users this process created minus users it deleted, since the summary
	planned atomic.Int64 // user creations planned by this process
}

// NewUserQuota returns a UserQuota that reads the account summary through api on first use.
func NewUserQuota(api IAMAPI) *UserQuota { return &UserQuota{iam: api} }

// QuotaState is the account as the summary said, with what this process has done since.
type QuotaState struct {
	Users   int // users in the account at the summary, plus this process's net creations since
	Planned int // creations planned by this process, including the one asking
	Quota   int // UsersQuota
}

// Warn says whether the planned creations take the account past QuotaWarnShare of its quota.
func (s QuotaState) Warn() bool {
	return s.Quota > 0 && float64(s.Users+s.Planned) > QuotaWarnShare*float64(s.Quota)
}

// Exceeded says whether the planned creations take the account past its quota.
func (s QuotaState) Exceeded() bool { return s.Quota > 0 && s.Users+s.Planned > s.Quota }

func (q *UserQuota) load(ctx context.Context) error {
	q.once.Do(func() {
		out, err := q.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			q.err = fmt.Errorf("reading the account's IAM user quota (iam:GetAccountSummary): %w", awsError(err))
			return
		}
		q.users, q.quota = int(out.SummaryMap["Users"]), int(out.SummaryMap["UsersQuota"])
	})
	return q.err
}

// Plan counts one more planned user and returns the account's state with it. A summary that could not be read is
// an error the caller may report as a warning: it is no reason to stop a plan.
func (q *UserQuota) Plan(ctx context.Context) (QuotaState, error) {
	if err := q.load(ctx); err != nil {
		return QuotaState{}, err
	}
	return QuotaState{Users: q.users + int(q.net.Load()), Planned: int(q.planned.Add(1)), Quota: q.quota}, nil
}

// QuotaError is an issue refused because the account has no IAM user left under its quota.
type QuotaError struct{ Users, Quota int }

func (e *QuotaError) Error() string {
	return fmt.Sprintf("the account has %d IAM users and its UsersQuota is %d (iam:GetAccountSummary): one more would exceed it, "+
		"and IAM would refuse it with LimitExceeded. Revoke or sweep expired credentials, shorten their TTLs, or ask AWS "+
		"to raise the quota (Service Quotas: IAM users per account)", e.Users, e.Quota)
}

// reserve counts a user about to be created, or refuses when the quota is reached. If the summary cannot be read,
// it lets the issue go on: IAM itself still enforces the quota.
func (q *UserQuota) reserve(ctx context.Context) error {
	if q == nil || q.load(ctx) != nil || q.quota <= 0 {
		return nil
	}
	for {
		n := q.net.Load()
		if q.users+int(n)+1 > q.quota {
			return &QuotaError{Users: q.users + int(n), Quota: q.quota}
		}
		if q.net.CompareAndSwap(n, n+1) {
			return nil
		}
	}
}

// release counts a user this process deleted (or reserved and never created).
func (q *UserQuota) release() {
	if q != nil {
		q.net.Add(-1)
	}
}
