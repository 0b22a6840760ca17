// Package sweepcmd is the provider binary's `sweep` subcommand: revoke the IAM users of expired or half-created
// leases, for a scheduled CI job. AWS settings come from the usual environment variables, shared files and
// profiles; flags override the region, profile and endpoints.
package sweepcmd

import (
	"context"
	"fmt"
	"io"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/cmdaws"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Run executes `sweep` with args (without the subcommand name) and returns the exit code.
// Parallel on purpose: each subcommand's Run is main.go's entry, binding the real clock that tests replace.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, clock.Real{})
}

// run is Run with the local clock injected: tests skew it to prove that the sweep goes by AWS's time.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, local clock.Clock) int {
	fs := cmdaws.NewFlagSet("sweep", "[--path /awsdynamic/] [--grace 10m] [--dry-run]", stderr)
	path := fs.String("path", lease.DefaultUserPath, "IAM path prefix of the users to examine")
	grace := fs.Duration("grace", lease.DefaultSweepGrace, "how long past expiry (or past creation, for half-created users) a user is left alone")
	dryRun := fs.Bool("dry-run", false, "report what would be revoked, revoke nothing")
	awsFlags := cmdaws.Register(fs)
	if !cmdaws.Parse(fs, args, stderr) {
		return 2
	}
	if err := (lease.SweepOptions{PathPrefix: *path, Grace: *grace}).Validate(); err != nil {
		fmt.Fprintf(stderr, "sweep: --path %q --grace %s: %v\n", *path, *grace, err)
		return 2
	}
	// A sweeper whose clock runs ahead would revoke live leases: "expired" means by AWS's clock, which enforces
	// the guards.
	is, err := awsFlags.Issuer(ctx, "sweep", stderr, local)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return 1
	}
	rep, err := is.Sweep(ctx, lease.SweepOptions{PathPrefix: *path, Grace: *grace, DryRun: *dryRun})
	rep.Print(stdout, *path, *dryRun)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return 1
	}
	return 0
}
