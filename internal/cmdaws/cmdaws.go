// Package cmdaws is what the binary's lease subcommands (`sweep`, `leases`, `revoke`) share: the AWS flags (region, profile,
// endpoints) and an Issuer on the root identity that goes by AWS's clock. AWS settings otherwise come from the usual
// environment variables, shared files and profiles.
package cmdaws

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

// Flags are the AWS settings a subcommand takes.
type Flags struct {
	Region, Profile, IAMEndpoint, STSEndpoint *string
}

// Register adds --region, --profile, --iam-endpoint and --sts-endpoint to fs.
func Register(fs *flag.FlagSet) *Flags {
	return &Flags{
		Region:      fs.String("region", "", "AWS region (default: AWS_REGION, the profile, then us-east-1)"),
		Profile:     fs.String("profile", "", "shared config profile (default: AWS_PROFILE)"),
		IAMEndpoint: fs.String("iam-endpoint", "", "IAM endpoint URL (default: AWS_ENDPOINT_URL_IAM or AWS's)"),
		STSEndpoint: fs.String("sts-endpoint", "", "STS endpoint URL (default: AWS_ENDPOINT_URL_STS or AWS's)"),
	}
}

// NewFlagSet is the flag set of subcommand name, which reports errors on stderr and whose usage message is
// "usage: terraform-provider-awsdynamic NAME ARGS [the AWS flags]" followed by every flag's default.
func NewFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: terraform-provider-awsdynamic "+name+" "+args+" "+Usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args into fs, whose name is the subcommand's, and refuses a positional argument, which no subcommand
// of the binary takes (rotate-root uses it too). false is bad usage (exit 2), already said on stderr.
func Parse(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return false
	}
	return true
}

// Usage is the flags' line for a usage message.
const Usage = "[--region R] [--profile P] [--iam-endpoint URL] [--sts-endpoint URL]"

// Issuer builds the root identity's clients and an Issuer on them whose "now" is AWS's time: a lease is live or
// expired by the clock that enforces its guard, not this machine's. local is this machine's clock (tests skew it);
// warnings go to stderr prefixed by cmd.
func (f *Flags) Issuer(ctx context.Context, cmd string, stderr io.Writer, local clock.Clock) (*lease.Issuer, error) {
	clients, err := awsconfig.New(ctx, awsconfig.Settings{Region: *f.Region, Profile: *f.Profile, IAMEndpoint: *f.IAMEndpoint, STSEndpoint: *f.STSEndpoint, Clock: local})
	if err != nil {
		return nil, err
	}
	if off, known := clients.SyncClock(ctx); !known {
		fmt.Fprintf(stderr, "%s: warning: STS did not answer, so AWS's time is read from the IAM listing instead\n", cmd)
	} else if off.Abs() > awsconfig.ClockOffsetWarning {
		fmt.Fprintf(stderr, "%s: warning: this machine's clock is %s AWS's; %s goes by AWS's time, but synchronize the clock (NTP)\n", cmd, awsconfig.DescribeOffset(off), cmd)
	}
	return lease.NewIssuer(lease.Options{
		IAM:    clients.IAM,
		STS:    clients.STS,
		NewSTS: func(c aws.CredentialsProvider) lease.STSAPI { return clients.NewSTS(c) },
		Clock:  clients.Clock,
	}), nil
}
