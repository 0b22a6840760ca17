package awsconfig

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
)

// resetSharedRateLimiter forgets what earlier tests taught the process-wide limiter, and again when t ends.
func resetSharedRateLimiter(t *testing.T) {
	t.Helper()
	reset := func() { sharedMu.Lock(); sharedAdaptive = nil; sharedMu.Unlock() }
	reset()
	t.Cleanup(reset)
}

// stsBehindFaults skips t without moto; otherwise it forgets the shared rate limiter's past, points the shared files
// at nothing and returns Clients whose STS endpoint is moto behind a fault proxy carrying rule (closed when t ends).
func stsBehindFaults(t *testing.T, rule faultproxy.Rule) (*Clients, *faultproxy.Proxy) {
	t.Helper()
	if motoServer == nil {
		t.Skip("needs a moto server")
	}
	resetSharedRateLimiter(t)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	p, err := faultproxy.Start(motoServer.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.Add(rule)
	c, err := New(context.Background(), Settings{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "secret", Region: "us-east-1", STSEndpoint: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// IAM throttles per account: a throttle seen by one client must slow every client of the process — the other
// provider configuration's, STS's, the propagation check's — or together they keep the account saturated.
func TestNew_EveryClientSharesOneAdaptiveRateLimiter(t *testing.T) {
	resetSharedRateLimiter(t)
	ctx := context.Background()
	newClients := func() *Clients {
		c, err := New(ctx, Settings{AccessKey: "AKIAEXAMPLE", SecretKey: "secret", Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newClients(), newClients()
	retryers := map[string]aws.Retryer{
		"IAM":                 a.IAM.Options().Retryer,
		"STS":                 a.STS.Options().Retryer,
		"propagation STS":     a.NewSTS(credentials.NewStaticCredentialsProvider("AKIANEW", "new", "")).Options().Retryer,
		"second provider IAM": b.IAM.Options().Retryer,
	}
	for name, r := range retryers {
		if _, ok := r.(aws.RetryerV2); !ok {
			t.Fatalf("%s client's retryer %T is not a RetryerV2: the adaptive mode's rate limiting never runs", name, r)
		}
	}
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	for i := 0; i < 5; i++ {
		release, err := a.IAM.Options().Retryer.(aws.RetryerV2).GetAttemptToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_ = release(throttled)
	}
	for name, r := range retryers {
		wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := r.(aws.RetryerV2).GetAttemptToken(wctx)
		cancel()
		if err == nil {
			t.Errorf("%s client sent at once after IAM was throttled: its rate limiter is not the shared one", name)
		}
	}
}

// Configure must not fail an apply because the account is busy: sts:GetCallerIdentity throttled four times in a
// row (the old bound was three attempts) still confirms the identity.
func TestValidate_SurvivesThrottling(t *testing.T) {
	c, p := stsBehindFaults(t, faultproxy.Rule{Action: "GetCallerIdentity", Kind: faultproxy.Error, Fault: faultproxy.Throttling, Times: 4})
	id, err := c.Validate(context.Background())
	if err != nil {
		t.Fatalf("Validate gave up under throttling after %d calls: %v", p.Count("GetCallerIdentity"), err)
	}
	if id.AccountID == "" || p.Count("GetCallerIdentity") != 5 {
		t.Errorf("identity %+v after %d calls, want moto's account after 5", id, p.Count("GetCallerIdentity"))
	}
}

// A wrong endpoint still fails fast: only throttling gets the patient retries.
func TestValidate_OtherErrorsStillStopAfterThreeAttempts(t *testing.T) {
	c, p := stsBehindFaults(t, faultproxy.Rule{Action: "GetCallerIdentity", Kind: faultproxy.Error, Fault: faultproxy.ServiceUnavailable})
	if _, err := c.Validate(context.Background()); err == nil {
		t.Fatal("Validate succeeded against an endpoint that always fails")
	}
	if got := p.Count("GetCallerIdentity"); got != ValidateMaxAttempts {
		t.Errorf("%d attempts on ServiceUnavailable, want %d", got, ValidateMaxAttempts)
	}
}
