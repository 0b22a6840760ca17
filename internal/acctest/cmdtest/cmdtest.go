// Package cmdtest is the set-up shared by the tests of the binary's lease subcommands (`leases`, `revoke`,
// `sweep`): a moto server reached as an operator's shell reaches AWS, with root keys in the environment and no
// shared files, and leases issued on it to list, revoke or sweep.
package cmdtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Root keys the environment carries (moto accepts any key while its authorization is off), and the region.
const (
	AccessKey = "AKIAIOSFODNN7EXAMPLE"
	SecretKey = "secret"
	Region    = "us-east-1"
)

// Env skips t when moto is not running; otherwise it sets the root keys and the region in t's environment, points
// the shared config and credentials files at nothing, turns instance metadata off, empties moto, and returns the
// aws.Config of the root with the clients on it. Endpoints are left to the caller: each test reaches moto the way
// its subcommand is told to (flags or AWS_ENDPOINT_URL_*).
func Env(t *testing.T, s *moto.Server) (aws.Config, *iam.Client) {
	t.Helper()
	if s == nil {
		t.Skipf("%s is not set: this test needs a moto server", moto.PythonEnv)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")}
	return cfg, iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// NewSTS is lease.Options.NewSTS on cfg against moto.
func NewSTS(cfg aws.Config, s *moto.Server) func(aws.CredentialsProvider) lease.STSAPI {
	return func(p aws.CredentialsProvider) lease.STSAPI {
		return sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = p; o.BaseEndpoint = aws.String(s.URL) })
	}
}

// ListBucketRole is an IAM-user role allowed s3:ListBucket only.
func ListBucketRole(name string) lease.Role {
	return lease.Role{Name: name, CredentialType: lease.IAMUser,
		PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`}
}

// Issue issues a lease of ListBucketRole(role) for ttl through is, and fails t if it cannot.
func Issue(t *testing.T, is *lease.Issuer, role string, ttl time.Duration) (*lease.Lease, lease.Credentials) {
	t.Helper()
	l, creds, err := is.Issue(context.Background(), ListBucketRole(role), lease.Request{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return l, creds
}

// Issuer is an Issuer on c whose clock stands at now.
func Issuer(c *iam.Client, now time.Time) *lease.Issuer {
	return lease.NewIssuer(lease.Options{IAM: c, Clock: clock.NewFake(now)})
}
