package awsconfig

import (
	"context"
	"errors"
	"github.com/aws/smithy-go"
	"net"
	"strings"
	"testing"
	"time"
)

func TestNew_StaticKeysNeedBoth(t *testing.T) {
	if _, err := New(context.Background(), Settings{AccessKey: "AKIAEXAMPLE"}); err == nil {
		t.Fatal("an access key without a secret key must be refused")
	}
}

func TestNew_DefaultRegionAndEndpoints(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	c, err := New(context.Background(), Settings{AccessKey: "AKIAEXAMPLE", SecretKey: "secret", IAMEndpoint: "http://127.0.0.1:1", STSEndpoint: "http://127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Config.Region != DefaultRegion {
		t.Errorf("region = %q, want %q", c.Config.Region, DefaultRegion)
	}
	if got := *c.IAM.Options().BaseEndpoint; got != "http://127.0.0.1:1" {
		t.Errorf("IAM endpoint = %q", got)
	}
	if got := *c.STS.Options().BaseEndpoint; got != "http://127.0.0.1:2" {
		t.Errorf("STS endpoint = %q", got)
	}
	if got := c.Config.Retryer().MaxAttempts(); got != ThrottleMaxAttempts {
		t.Errorf("max attempts = %d, want %d (throttled calls)", got, ThrottleMaxAttempts)
	}
}

// TestRetryer_PatientOnThrottlingOnly: throttling is retried up to ThrottleMaxAttempts whatever max_retries says;
// any other retryable error stops after max_retries+1 attempts.
func TestRetryer_PatientOnThrottlingOnly(t *testing.T) {
	r := newRetryer("standard", DefaultMaxRetries+1)
	throttled := &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	failed := &smithy.GenericAPIError{Code: "ServiceFailure", Message: "try again"}
	for attempt := 1; attempt < ThrottleMaxAttempts; attempt++ {
		if !r.IsErrorRetryable(throttled) {
			t.Fatal("throttling is not retryable")
		}
		if _, err := r.RetryDelay(attempt, throttled); err != nil {
			t.Fatalf("throttled attempt %d: %v, want another attempt", attempt, err)
		}
		_, err := r.RetryDelay(attempt, failed)
		if gotStop, wantStop := err != nil, attempt >= DefaultMaxRetries+1; gotStop != wantStop {
			t.Errorf("ServiceFailure at attempt %d: stop = %v (%v), want %v", attempt, gotStop, err, wantStop)
		}
	}
}

func TestValidate_UnreachableEndpointIsNamed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	c, err := New(context.Background(), Settings{AccessKey: "AKIAEXAMPLE", SecretKey: "do-not-print-me", STSEndpoint: addr, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{addr, "endpoint unreachable"} {
		if !contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if contains(msg, "do-not-print-me") {
		t.Errorf("error leaks the secret key: %q", msg)
	}
}

func TestErrorCode_Timeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if got := ErrorCode(ctx.Err()); got != "timed out" {
		t.Errorf("ErrorCode(deadline) = %q", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// A burst of throttling must not drain a client-side retry budget that later calls then lack.
func TestNew_NoRetryBudget(t *testing.T) {
	c, err := New(context.Background(), Settings{AccessKey: "AKIAEXAMPLE", SecretKey: "secret", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Config.Retryer()
	for i := 0; i < 1000; i++ {
		if _, err := r.GetRetryToken(context.Background(), errors.New("throttled")); err != nil {
			t.Fatalf("retry token %d refused: %v", i, err)
		}
	}
}
