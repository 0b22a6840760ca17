// Command terraform-provider-awsdynamic serves the awsdynamic provider to Terraform and OpenTofu.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
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
