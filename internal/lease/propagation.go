package lease

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// PropagationPolicy says how long to wait for a new access key to work. IAM is eventually consistent: a new key
// can fail for seconds, and work on one request and fail on the next. Zero fields take the defaults named.
type PropagationPolicy struct {
	Successes      int           // 3: consecutive good answers that count as propagated
	InitialBackoff time.Duration // 100ms: the pause after a good answer, and the first after a bad one
	MaxBackoff     time.Duration // 2s: the pause after a bad answer grows by half each time, up to this
	Timeout        time.Duration // 2m
}

func (p PropagationPolicy) withDefaults() PropagationPolicy {
	if p.Successes <= 0 {
		p.Successes = 3
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 2 * time.Second
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	if p.Timeout <= 0 {
		p.Timeout = 2 * time.Minute
	}
	return p
}

// waitForPropagation calls sts:GetCallerIdentity with the new key until it answers, as the lease's user, Successes
// times in a row. No IAM permission of the new user is needed for that call, so a role without iam:GetUser works.
// It is the one retry loop of the engine: the SDK retries failed calls, but a key that is not valid yet is an
// answer, not a failure, to the SDK.
func (i *Issuer) waitForPropagation(ctx context.Context, l *Lease, c Credentials, timeout time.Duration) error {
	p := i.propagation
	if timeout > 0 {
		p.Timeout = timeout
	}
	if i.newSTS == nil {
		return errors.New("the propagation check needs an STS client for the new key: the provider did not configure Options.NewSTS")
	}
	client := i.newSTS(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken))

	wctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	var (
		attempts, streak int
		last             error
		backoff          = p.InitialBackoff
	)
	for {
		attempts++
		out, err := client.GetCallerIdentity(wctx, &sts.GetCallerIdentityInput{})
		switch {
		case err != nil && wctx.Err() != nil:
			// The deadline cut this call short; the answer before it says more.
		case err != nil:
			streak, last = 0, awsErrorAs("the new access key", err)
		case !sameIAMUser(aws.ToString(out.Arn), l.UserARN):
			streak = 0
			last = fmt.Errorf("sts:GetCallerIdentity with the new key answered as %s, not as %s", aws.ToString(out.Arn), l.UserARN)
		default:
			streak++
			if streak >= p.Successes {
				return nil
			}
		}

		pause := p.InitialBackoff
		if streak == 0 {
			pause = backoff
			backoff = min(backoff*3/2, p.MaxBackoff)
		}
		// Jitter: concurrent issues against one account should not poll in step.
		pause = pause/2 + rand.N(pause/2+1) //nolint:gosec // jitter needs no cryptographic randomness
		t := time.NewTimer(pause)
		select {
		case <-wctx.Done():
			t.Stop()
			return propagationError(ctx, l, p, attempts, streak, last)
		case <-t.C:
		}
	}
}

func propagationError(parent context.Context, l *Lease, p PropagationPolicy, attempts, streak int, last error) error {
	what := fmt.Sprintf("the access key of IAM user %q did not authenticate %d times in a row within %s (%d attempts",
		l.UserName, p.Successes, p.Timeout, attempts)
	if streak > 0 {
		what += fmt.Sprintf(", the last %d succeeded", streak)
	}
	what += ")"
	if err := parent.Err(); err != nil {
		what = fmt.Sprintf("stopped waiting for the access key of IAM user %q to authenticate after %d attempts: %v",
			l.UserName, attempts, err)
	}
	if last == nil {
		return errors.New(what + "; no call was answered")
	}
	return fmt.Errorf("%s; last error: %w", what, last)
}

// sameIAMUser compares the ARN GetCallerIdentity returned with the user's. Partition, account and name must match;
// the path is not compared, as the identity's ARN is not the place IAM promises to repeat it.
func sameIAMUser(got, want string) bool {
	if got == want {
		return true
	}
	g, w := strings.SplitN(got, ":", 6), strings.SplitN(want, ":", 6)
	if len(g) != 6 || len(w) != 6 {
		return false
	}
	if g[0] != "arn" || g[1] != w[1] || g[2] != "iam" || w[2] != "iam" || g[4] != w[4] {
		return false
	}
	if !strings.HasPrefix(g[5], "user/") || !strings.HasPrefix(w[5], "user/") {
		return false
	}
	return path.Base(g[5]) == path.Base(w[5])
}
