// Package leasescmd is the provider binary's `leases` subcommand: list every lease under an IAM path, as AWS has it
// (the state its guard enforces, its keys' last use, who issued it), as a table or as JSON. It changes nothing.
// Vault's counterpart is `vault list sys/leases/lookup/aws/creds/<role>`.
package leasescmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/cmdaws"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Run executes `leases` with args (without the subcommand name) and returns the exit code: 0 listed, 1 AWS could
// not be read (what could be read is still printed), 2 bad usage.
// Parallel on purpose: each subcommand's Run is main.go's entry, binding the real clock that tests replace.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, clock.Real{})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, local clock.Clock) int {
	fs := cmdaws.NewFlagSet("leases", "[--path /awsdynamic/] [--role NAME] [--json]", stderr)
	path := fs.String("path", lease.DefaultUserPath, "IAM path prefix of the users to list")
	role := fs.String("role", "", "list only the leases of this role")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	aws := cmdaws.Register(fs)
	if !cmdaws.Parse(fs, args, stderr) {
		return 2
	}
	if err := lease.ValidateLeasePath(*path); err != nil {
		fmt.Fprintf(stderr, "leases: --path %q: %v\n", *path, err)
		return 2
	}
	is, err := aws.Issuer(ctx, "leases", stderr, local)
	if err != nil {
		fmt.Fprintf(stderr, "leases: %v\n", err)
		return 1
	}
	leases, err := is.Inventory(ctx, lease.InventoryOptions{PathPrefix: *path, Role: *role})
	if *asJSON {
		PrintJSON(stdout, *path, leases)
	} else {
		PrintTable(stdout, leases)
	}
	if err != nil {
		fmt.Fprintf(stderr, "leases: %v\n", err)
		return 1
	}
	return 0
}

// Listing is the JSON document `leases --json` prints. Its fields are stable: new ones may be added, none renamed.
type Listing struct {
	Path   string            `json:"path"`
	Leases []lease.LeaseInfo `json:"leases"`
}

// PrintJSON writes the listing as indented JSON.
func PrintJSON(w io.Writer, path string, leases []lease.LeaseInfo) {
	if leases == nil {
		leases = []lease.LeaseInfo{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(Listing{Path: path, Leases: leases})
}

// PrintTable writes one line per lease for people.
func PrintTable(w io.Writer, leases []lease.LeaseInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tLEASE\tSTATE\tEXPIRES\tKEY\tLAST USED\tISSUED BY\tISSUED FROM")
	for _, l := range leases {
		expires := "-"
		if l.ExpiresAt != nil {
			expires = l.ExpiresAt.UTC().Format(time.RFC3339)
		}
		key, used := "-", "-"
		if len(l.AccessKeys) > 0 {
			var ids, uses []string
			for _, k := range l.AccessKeys {
				ids = append(ids, k.AccessKeyID)
				u := "never"
				if k.LastUsedAt != nil {
					u = strings.Join(nonEmpty(k.LastUsedAt.UTC().Format(time.RFC3339), k.LastUsedService, k.LastUsedRegion), " ")
				}
				uses = append(uses, u)
			}
			key, used = strings.Join(ids, ","), strings.Join(uses, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.UserName, dash(l.Role), l.LeaseID, l.State, expires, key, used, dash(l.IssuedBy), dash(l.IssuedFrom))
	}
	_ = tw.Flush()
	for _, l := range leases {
		if l.State == lease.StateTampered {
			fmt.Fprintf(w, "tampered: %s (lease %s): %s\n", l.UserName, l.LeaseID, l.Reason)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
