package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// The rate limit is the account's: every client shares it, writes and reads have buckets of their own, and a call
// past it is answered Throttling without reaching moto.
func TestProxy_AccountWideRateLimitThrottlesWritesAndReadsSeparately(t *testing.T) {
	p, reached := startProxy(t)
	p.SetRateLimit(RateLimit{WritesPerSecond: 0.001, ReadsPerSecond: 0.001, Burst: 3})
	ctx := context.Background()
	a, b := client(p.URL), client(p.URL) // two clients, one account
	writes, reads := 0, 0
	for n := range 5 {
		for _, c := range []*iam.Client{a, b} {
			if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("rl-%d-%p", n, c))}); err == nil {
				writes++
			} else if code := errorCode(err); code != "Throttling" {
				t.Fatalf("CreateGroup: %v, want success or Throttling", err)
			}
			if _, err := c.ListGroups(ctx, &iam.ListGroupsInput{}); err == nil {
				reads++
			}
		}
	}
	if writes != 3 || reads != 3 {
		t.Errorf("%d writes and %d reads got through a burst of 3 each, want 3 and 3", writes, reads)
	}
	s := p.Stats()
	if s.Throttled != 14 || s.Calls != 20 || reached() != 6 {
		t.Errorf("stats %+v, %d reached moto; want 14 of 20 throttled and 6 reaching moto", s, reached())
	}
	if s.Invocations != 20 || s.MaxAttempts != 1 {
		t.Errorf("stats %+v: want 20 invocations of 1 attempt (the clients do not retry)", s)
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
