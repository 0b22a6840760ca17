package sweepcmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "sweepcmd", &motoServer)) }

func TestRun_SweepsExpiredLeaseUsersFromEnvironmentSettings(t *testing.T) {
	if motoServer == nil {
		t.Skip("moto not running")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_IAM", motoServer.URL) // the environment variable, not a flag: what a CI job sets
	if err := motoServer.Reset(); err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")},
		func(o *iam.Options) { o.BaseEndpoint = aws.String(motoServer.URL) })
	ctx := context.Background()
	mk := func(name, expires string) {
		t.Helper()
		tags := []types.Tag{{Key: aws.String(lease.TagExpiresAt), Value: aws.String(expires)}}
		if !strings.HasPrefix(name, "other") {
			tags = append(tags, types.Tag{Key: aws.String(lease.TagLeaseID), Value: aws.String("lease-" + name)})
		}
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String("/awsdynamic/"), Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	mk("awsdyn-expired", past)
	mk("awsdyn-valid", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	mk("other-expired-looking", past)

	var out, errOut bytes.Buffer
	if code := Run(ctx, []string{"--path", "/awsdynamic/", "--grace", "10m", "--dry-run"}, &out, &errOut); code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "would revoke awsdyn-expired") || strings.Contains(out.String(), "other-expired-looking") {
		t.Fatalf("dry-run report:\n%s", out.String())
	}
	out.Reset()
	if code := Run(ctx, []string{"--path", "/awsdynamic/", "--grace", "10m"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "revoked awsdyn-expired (lease lease-awsdyn-expired)") {
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
	if len(left) != 2 || strings.Contains(strings.Join(left, ","), "awsdyn-expired") {
		t.Fatalf("users left: %v, want awsdyn-valid and other-expired-looking", left)
	}
}

func TestRun_BadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"--path", "no-slash"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "--path") {
		t.Fatalf("error does not name the flag: %s", errOut.String())
	}
}
