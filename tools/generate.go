// Package tools only hosts the go:generate hook for the documentation.
//
// The work is done by scripts/generate-docs.sh (also run by `make generate`),
// which formats examples/ and runs tfplugindocs from the tools directory that
// scripts/tools.sh installs, so no tool dependency enters go.mod.
package tools

//go:generate bash ../scripts/generate-docs.sh
