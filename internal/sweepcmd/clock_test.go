package sweepcmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/cmdtest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// The sweep goes by AWS's clock: a sweeper whose clock runs two hours ahead leaves a lease that AWS still honors
// alone, and one whose clock runs two hours behind still revokes a lease whose guard AWS already enforces.
func TestRun_GoesByAWSTimeNotTheLocalClock(t *testing.T) {
	cfg, c := cmdtest.Env(t, motoServer)
	ctx := context.Background()
	newSTS := cmdtest.NewSTS(cfg, motoServer)
	// Leases issued with moto's own (this machine's) time: AWS's time in this test.
	issue := func(at time.Time, ttl time.Duration) *lease.Lease {
		t.Helper()
		is := lease.NewIssuer(lease.Options{IAM: c, STS: newSTS(nil), NewSTS: newSTS, Clock: clock.NewFake(at)})
		l, _ := cmdtest.Issue(t, is, "sweep", ttl)
		return l
	}
	live := issue(time.Now(), time.Hour)                   // AWS honors it for another hour
	dead := issue(time.Now().Add(-3*time.Hour), time.Hour) // AWS's guard has denied it for two hours
	exists := func(name string) bool {
		_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		return err == nil
	}
	args := []string{"--path", "/awsdynamic/", "--grace", "10m", "--iam-endpoint", motoServer.URL, "--sts-endpoint", motoServer.URL}

	var out, errOut bytes.Buffer
	if code := run(ctx, args, &out, &errOut, clock.Offset(2*time.Hour)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !exists(live.UserName) {
		t.Fatalf("a sweeper two hours ahead revoked the live lease %s:\n%s", live.UserName, out.String())
	}
	if !strings.Contains(errOut.String(), "2h0m0s ahead of AWS's") {
		t.Errorf("no warning about the clock on stderr:\n%s", errOut.String())
	}

	out.Reset()
	errOut.Reset()
	if code := run(ctx, args, &out, &errOut, clock.Offset(-2*time.Hour)); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if exists(dead.UserName) {
		t.Fatalf("a sweeper two hours behind left the dead lease %s:\n%s", dead.UserName, out.String())
	}
	if !exists(live.UserName) {
		t.Fatalf("the live lease %s was revoked:\n%s", live.UserName, out.String())
	}
}
