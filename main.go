// Command terraform-provider-awsdynamic serves the awsdynamic provider to Terraform and OpenTofu. Its `sweep`
// subcommand revokes the IAM users of expired or half-created leases (see internal/sweepcmd); `rotate-root` rotates
// the root identity's IAM user key in a shared credentials file (see internal/rotateroot); `leases` lists the leases
// under a path (see internal/leasescmd) and `revoke` revokes every lease of a role, or one lease, now (see
// internal/revokecmd).
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/leasescmd"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/revokecmd"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/rotateroot"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/sweepcmd"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sweep" {
		os.Exit(sweepcmd.Run(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "leases" {
		os.Exit(leasescmd.Run(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "revoke" {
		os.Exit(revokecmd.Run(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "rotate-root" {
		os.Exit(rotateroot.Run(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/awsdynamic/awsdynamic",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
