// Package sweepcmd is the provider binary's `sweep` subcommand: revoke the IAM users of expired or half-created
// leases, for a scheduled CI job. AWS settings come from the usual environment variables, shared files and
// profiles; flags override the region, profile and endpoints.
package sweepcmd

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Run executes `sweep` with args (without the subcommand name) and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, clock.Real{})
}

// run is Run with the local clock injected: tests skew it to prove that the sweep goes by AWS's time.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, local clock.Clock) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("path", lease.DefaultUserPath, "IAM path prefix of the users to examine")
	grace := fs.Duration("grace", lease.DefaultSweepGrace, "how long past expiry (or past creation, for half-created users) a user is left alone")
	dryRun := fs.Bool("dry-run", false, "report what would be revoked, revoke nothing")
	region := fs.String("region", "", "AWS region (default: AWS_REGION, the profile, then us-east-1)")
	profile := fs.String("profile", "", "shared config profile (default: AWS_PROFILE)")
	iamEndpoint := fs.String("iam-endpoint", "", "IAM endpoint URL (default: AWS_ENDPOINT_URL_IAM or AWS's)")
	stsEndpoint := fs.String("sts-endpoint", "", "STS endpoint URL (default: AWS_ENDPOINT_URL_STS or AWS's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: terraform-provider-awsdynamic sweep [--path /awsdynamic/] [--grace 10m] [--dry-run] [--region R] [--profile P] [--iam-endpoint URL] [--sts-endpoint URL]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sweep: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if err := (lease.SweepOptions{PathPrefix: *path, Grace: *grace}).Validate(); err != nil {
		fmt.Fprintf(stderr, "sweep: --path %q --grace %s: %v\n", *path, *grace, err)
		return 2
	}
	clients, err := awsconfig.New(ctx, awsconfig.Settings{Region: *region, Profile: *profile, IAMEndpoint: *iamEndpoint, STSEndpoint: *stsEndpoint, Clock: local})
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return 1
	}
	// A sweeper whose clock runs ahead would revoke live leases: "expired" means by AWS's clock, which enforces
	// the guards. Listing the users corrects the clock again before the sweep compares any date.
	if off, known := clients.SyncClock(ctx); !known {
		fmt.Fprintln(stderr, "sweep: warning: STS did not answer, so AWS's time is read from the IAM listing instead")
	} else if off.Abs() > awsconfig.ClockOffsetWarning {
		fmt.Fprintf(stderr, "sweep: warning: this machine's clock is %s AWS's; the sweep goes by AWS's time, but synchronize the clock (NTP)\n", awsconfig.DescribeOffset(off))
	}
	is := lease.NewIssuer(lease.Options{
		IAM:    clients.IAM,
		STS:    clients.STS,
		NewSTS: func(c aws.CredentialsProvider) lease.STSAPI { return clients.NewSTS(c) },
		Clock:  clients.Clock,
	})
	rep, err := is.Sweep(ctx, lease.SweepOptions{PathPrefix: *path, Grace: *grace, DryRun: *dryRun})
	rep.Print(stdout, *path, *dryRun)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return 1
	}
	return 0
}
