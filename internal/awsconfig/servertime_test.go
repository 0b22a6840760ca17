package awsconfig

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "awsconfig", &motoServer)) }

func motoClients(t *testing.T, local clock.Clock) *Clients {
	t.Helper()
	if motoServer == nil {
		t.Skipf("%s is not set: this test needs a moto server", moto.PythonEnv)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	c, err := New(context.Background(), Settings{
		AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "secret", Region: "us-east-1",
		IAMEndpoint: motoServer.URL, STSEndpoint: motoServer.URL, Clock: local,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withinAWSTime fails unless got is moto's (this machine's) time as it was between before and after, give or take
// Date's truncated second: moto stamps its responses with the real clock, whatever the local clock under test
// says. The local clocks in these tests stand still, so got does not move after the call either.
func withinAWSTime(t *testing.T, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Add(-2*time.Second)) || got.After(after.Add(time.Second)) {
		t.Fatalf("clock says %v, AWS (moto) said between %v and %v", got, before, after)
	}
}

func TestClock_FollowsAWSWhenLocalClockIsSkewed(t *testing.T) {
	for _, skew := range []time.Duration{-time.Hour, time.Hour, 3 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			local := clock.NewFake(time.Now().Add(skew))
			c := motoClients(t, local)
			if _, known := c.Clock.Offset(); known {
				t.Fatal("offset known before any call")
			}
			before := time.Now()
			if _, err := c.Validate(context.Background()); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			if _, known := c.Clock.Offset(); !known {
				t.Fatal("no offset measured from GetCallerIdentity")
			}
			withinAWSTime(t, c.Clock.Now(), before, after)
			// The local clock moving moves AWS's time with it: the offset is what is kept, not a reading.
			local.Advance(time.Minute)
			withinAWSTime(t, c.Clock.Now().Add(-time.Minute), before, after)
		})
	}
}

func TestClock_MeasuredFromIAMResponsesToo(t *testing.T) {
	c := motoClients(t, clock.NewFake(time.Now().Add(-time.Hour)))
	before := time.Now()
	if _, err := c.IAM.ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	withinAWSTime(t, c.Clock.Now(), before, time.Now())
}

// An answer that is an error still carries AWS's Date: SyncClock must measure from it, because with
// skip_credentials_validation the root identity may well be refused by STS.
func TestSyncClock_MeasuresFromAnErrorAnswer(t *testing.T) {
	c := motoClients(t, clock.NewFake(time.Now().Add(time.Hour)))
	if err := motoServer.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = motoServer.DisableAuth() })
	if _, err := c.Validate(context.Background()); err == nil {
		t.Fatal("moto with authorization on accepted an unknown key: the test proves nothing")
	}
	c = motoClients(t, clock.NewFake(time.Now().Add(time.Hour)))
	before := time.Now()
	off, known := c.SyncClock(context.Background())
	after := time.Now()
	if !known {
		t.Fatal("no offset measured from the refused call")
	}
	withinAWSTime(t, c.Clock.Now(), before, after)
	if off > -time.Hour+time.Minute {
		t.Fatalf("offset = %v, want about -1h", off)
	}
}

func TestSyncClock_UnreachableSTSLeavesTheLocalClock(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	local := clock.NewFake(time.Now().Add(time.Hour))
	c, err := New(context.Background(), Settings{AccessKey: "AKIAEXAMPLE", SecretKey: "secret", STSEndpoint: addr, Region: "us-east-1", Clock: local})
	if err != nil {
		t.Fatal(err)
	}
	if _, known := c.SyncClock(context.Background()); known {
		t.Fatal("offset known without any answer")
	}
	if !c.Clock.Now().Equal(local.Now()) {
		t.Fatalf("clock = %v, want the local %v", c.Clock.Now(), local.Now())
	}
}
