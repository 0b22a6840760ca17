// Package revokecmd is the provider binary's `revoke` subcommand, for incident response: revoke every lease of a
// role (or one lease) under an IAM path now, through the same Issuer.Revoke the resources use. Vault's counterpart is
// `vault lease revoke -prefix aws/creds/<role>`.
package revokecmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/cmdaws"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Exit codes, for scripts.
const (
	ExitOK    = 0 // every lease found was revoked (or, with --dry-run, would be); none found is OK for --role
	ExitFail  = 1 // a lease could not be revoked (each is printed with why), AWS could not be read, or --lease-id found nothing
	ExitUsage = 2
)

// Run executes `revoke` with args (without the subcommand name) and returns the exit code.
// Parallel on purpose: each subcommand's Run is main.go's entry, binding the real clock that tests replace.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, clock.Real{})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, local clock.Clock) int {
	fs := cmdaws.NewFlagSet("revoke", "(--role NAME | --lease-id ID) [--path /awsdynamic/] [--dry-run]", stderr)
	path := fs.String("path", lease.DefaultUserPath, "IAM path prefix of the users to revoke")
	role := fs.String("role", "", "revoke every lease of this role")
	leaseID := fs.String("lease-id", "", "revoke this one lease")
	dryRun := fs.Bool("dry-run", false, "print what would be revoked, revoke nothing")
	aws := cmdaws.Register(fs)
	if !cmdaws.Parse(fs, args, stderr) {
		return ExitUsage
	}
	if (*role == "") == (*leaseID == "") {
		fmt.Fprintln(stderr, "revoke: give exactly one of --role NAME (every lease of the role) or --lease-id ID (one lease)")
		fs.Usage()
		return ExitUsage
	}
	if err := lease.ValidateLeasePath(*path); err != nil {
		fmt.Fprintf(stderr, "revoke: --path %q: %v\n", *path, err)
		return ExitUsage
	}
	is, err := aws.Issuer(ctx, "revoke", stderr, local)
	if err != nil {
		fmt.Fprintf(stderr, "revoke: %v\n", err)
		return ExitFail
	}
	found, err := is.Inventory(ctx, lease.InventoryOptions{PathPrefix: *path, Role: *role, LeaseID: *leaseID})
	if err != nil {
		// A user that could not be read might be one of the role's: say so, revoke what was found, and fail.
		fmt.Fprintf(stderr, "revoke: listing the leases under %s: %v\n", *path, err)
	}
	if *leaseID != "" && len(found) == 0 && err == nil {
		fmt.Fprintf(stderr, "revoke: no IAM user under %s carries lease %s (STS leases cannot be revoked before they expire)\n", *path, *leaseID)
		return ExitFail
	}
	rep := Revoke(ctx, is, found, *dryRun)
	Print(stdout, rep, *path, *dryRun)
	if err != nil || len(rep.Failed) > 0 {
		return ExitFail
	}
	return ExitOK
}

// Result is one lease revoked, or not.
type Result struct {
	lease.LeaseInfo
	Err error
}

// Report is what a revoke did.
type Report struct {
	Revoked, Failed []Result
}

// Revoke revokes each listed lease's user with Issuer.Revoke. The lease's identity is proven by its lease-ID tag,
// read again by Revoke right before it deletes anything: a user re-created under the name since the listing is not
// touched (it is reported as failed, with why). Every state is revoked, tampered ones too: in an incident a lease
// whose guard someone removed is the one that must go first.
func Revoke(ctx context.Context, is *lease.Issuer, leases []lease.LeaseInfo, dryRun bool) Report {
	var rep Report
	for _, l := range leases {
		if dryRun {
			rep.Revoked = append(rep.Revoked, Result{LeaseInfo: l})
			continue
		}
		err := is.Revoke(ctx, &lease.Lease{ID: l.LeaseID, Kind: lease.IAMUser, Role: l.Role, UserName: l.UserName, UserARN: l.UserARN})
		if errors.Is(err, lease.ErrNotLeaseUser) {
			err = fmt.Errorf("not revoked: the user of that name is no longer the lease's (%w)", err)
		}
		if err != nil {
			rep.Failed = append(rep.Failed, Result{LeaseInfo: l, Err: err})
			continue
		}
		rep.Revoked = append(rep.Revoked, Result{LeaseInfo: l})
	}
	return rep
}

// Print writes one line per lease, then a summary line, for people and for scripts (grep "^revoked", "^FAILED").
func Print(w io.Writer, rep Report, path string, dryRun bool) {
	verb := "revoked"
	if dryRun {
		verb = "would revoke"
	}
	for _, r := range rep.Revoked {
		fmt.Fprintf(w, "%s %s (lease %s, role %s, was %s)\n", verb, r.UserName, r.LeaseID, r.Role, r.State)
	}
	for _, r := range rep.Failed {
		fmt.Fprintf(w, "FAILED %s (lease %s, role %s, was %s): %v\n", r.UserName, r.LeaseID, r.Role, r.State, r.Err)
	}
	fmt.Fprintf(w, "%s %d, failed %d, under %s\n", verb, len(rep.Revoked), len(rep.Failed), path)
}
