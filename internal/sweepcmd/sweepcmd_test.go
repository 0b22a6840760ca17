package sweepcmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/cmdtest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "sweepcmd", &motoServer)) }

func TestRun_SweepsExpiredLeaseUsersFromEnvironmentSettings(t *testing.T) {
	_, c := cmdtest.Env(t, motoServer)
	t.Setenv("AWS_ENDPOINT_URL_IAM", motoServer.URL) // the environment variable, not a flag: what a CI job sets
	ctx := context.Background()
	// A lease issued two hours ago for 15 minutes: its guard, which the sweep reads, denies everything since.
	expired, _ := cmdtest.Issue(t, cmdtest.Issuer(c, time.Now().Add(-2*time.Hour)), "expired", 15*time.Minute)
	// Users whose tags alone say expired: someone's user (no lease tag) and one with a forged lease tag and a key
	// (no guard: not an issue of this provider's). Neither may go.
	mk := func(name string, leaseTag bool) {
		t.Helper()
		tags := []types.Tag{{Key: aws.String(lease.TagExpiresAt), Value: aws.String("2000-01-01T00:00:00Z")}}
		if leaseTag {
			tags = append(tags, types.Tag{Key: aws.String(lease.TagLeaseID), Value: aws.String("lease-" + name)})
		}
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String("/awsdynamic/"), Tags: tags}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	mk("other-expired-looking", false)
	mk("forged-lease", true)

	var out, errOut bytes.Buffer
	if code := Run(ctx, []string{"--path", "/awsdynamic/", "--grace", "10m", "--dry-run"}, &out, &errOut); code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "would revoke "+expired.UserName) || strings.Contains(out.String(), "other-expired-looking") ||
		!strings.Contains(out.String(), "left alone forged-lease") {
		t.Fatalf("dry-run report:\n%s", out.String())
	}
	out.Reset()
	if code := Run(ctx, []string{"--path", "/awsdynamic/", "--grace", "10m"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "revoked "+expired.UserName+" (lease "+expired.ID+")") {
		t.Fatalf("report does not name the revoked user:\n%s", out.String())
	}
	users, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range users.Users {
		left = append(left, aws.ToString(u.UserName))
	}
	if len(left) != 2 || strings.Contains(strings.Join(left, ","), expired.UserName) {
		t.Fatalf("users left: %v, want other-expired-looking and forged-lease", left)
	}
}

func TestRun_BadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--path", "no-slash"}, "--path"},
		{[]string{"--path", "/"}, "whole account"},
		{[]string{"--grace", "0s"}, "grace must be positive"},
		{[]string{"--grace", "-5m"}, "grace must be positive"},
	} {
		var out, errOut bytes.Buffer
		if code := Run(context.Background(), tc.args, &out, &errOut); code != 2 {
			t.Fatalf("%v: exit %d, want 2", tc.args, code)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Fatalf("%v: error does not say %q: %s", tc.args, tc.want, errOut.String())
		}
	}
}
