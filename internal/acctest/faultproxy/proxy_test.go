package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

// The proxy is tested in front of real moto, as it is used.
func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "faultproxy", &motoServer)) }

// upstream returns moto's URL and a function counting the IAM requests that reached it.
func upstream(t *testing.T) (string, func() int) {
	t.Helper()
	if motoServer == nil {
		t.Skip("moto not running")
	}
	if err := motoServer.StartRecording(); err != nil {
		t.Fatal(err)
	}
	return motoServer.URL, func() int {
		reqs, err := motoServer.Recording()
		if err != nil {
			t.Fatal(err)
		}
		return len(moto.Actions(reqs))
	}
}

// startProxy starts a proxy in front of moto, closed when t ends, and returns it with upstream's count of the IAM
// requests that reached moto.
func startProxy(t *testing.T) (*Proxy, func() int) {
	t.Helper()
	up, reached := upstream(t)
	p, err := Start(up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, reached
}

// holdListUsers sends one ListUsers through p, whose rules must hold it, and returns once p holds it; the channel
// gets the call's outcome after Release. what names the call in the failure message.
func holdListUsers(t *testing.T, p *Proxy, what string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := client(p.URL).ListUsers(context.Background(), &iam.ListUsersInput{})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for p.Holding("ListUsers") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s was never held", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done
}

func client(url string) *iam.Client {
	return iam.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", ""),
	}, func(o *iam.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 1
	})
}

func TestProxy_InjectsAWSErrorOnChosenCall(t *testing.T) {
	p, reached := startProxy(t)
	p.Add(Rule{Action: "ListUsers", Call: 2, Kind: Error, Fault: AccessDenied})
	c := client(p.URL)
	ctx := context.Background()
	if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("call 2: want AccessDenied, got %v", err)
	}
	if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("call 3: %v", err)
	}
	if got := p.Count("ListUsers"); got != 3 {
		t.Errorf("count = %d, want 3", got)
	}
	if got := reached(); got != 2 {
		t.Errorf("upstream saw %d calls, want 2 (the faulted call must not be forwarded)", got)
	}
}

func TestProxy_CutForwardsButClientSeesNoAnswer(t *testing.T) {
	p, reached := startProxy(t)
	p.Add(Rule{Action: "ListUsers", Kind: Cut, Times: 1})
	_, err := client(p.URL).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err == nil {
		t.Fatal("a cut connection must fail the call")
	}
	if reached() != 1 {
		t.Errorf("upstream saw %d calls, want 1: a cut happens after the work is done", reached())
	}
}

func TestProxy_HoldUntilRelease(t *testing.T) {
	p, _ := startProxy(t)
	p.Add(Rule{Action: "ListUsers", Kind: Hold})
	done := holdListUsers(t, p, "call")
	select {
	case err := <-done:
		t.Fatalf("held call returned early: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrips_CountsSequentialNotConcurrent(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s, e int) Call {
		return Call{Start: t0.Add(time.Duration(s) * time.Millisecond), End: t0.Add(time.Duration(e) * time.Millisecond)}
	}
	calls := []Call{at(0, 20), at(21, 40), at(21, 41), at(22, 42), at(43, 60)}
	if got := RoundTrips(calls); got != 3 {
		t.Fatalf("RoundTrips = %d, want 3", got)
	}
	if got := RoundTrips(nil); got != 0 {
		t.Fatalf("RoundTrips(nil) = %d", got)
	}
}

func TestProxy_ProbabilityThrottlesAShare(t *testing.T) {
	p, _ := startProxy(t)
	p.Add(Rule{Probability: 0.3, Kind: Error, Fault: Throttling})
	c := client(p.URL)
	failed := 0
	for i := 0; i < 100; i++ {
		if _, err := c.ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
			if !strings.Contains(err.Error(), "Throttling") {
				t.Fatalf("unexpected error: %v", err)
			}
			failed++
		}
	}
	if failed < 15 || failed > 45 {
		t.Fatalf("%d of 100 calls throttled, want about 30", failed)
	}
}

func TestProxy_HoldsAgainAfterReleaseAndReset(t *testing.T) {
	p, _ := startProxy(t)
	for round := 0; round < 2; round++ {
		p.Reset()
		p.Add(Rule{Action: "ListUsers", Kind: Hold})
		done := holdListUsers(t, p, fmt.Sprintf("round %d: call", round))
		p.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
