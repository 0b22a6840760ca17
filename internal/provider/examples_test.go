package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// examplesDir is examples/ at the repository root, seen from this package's directory (where go test runs).
const examplesDir = "../../examples"

// TestExamples checks every directory under examples/ with the CLI at TF_ACC_TERRAFORM_PATH (terraform or tofu):
// each is `fmt -check` clean, and each that needs only this provider passes `validate` against a provider binary
// built from this tree. The docs render these files, so a renamed attribute breaks this test, not the docs.
//
// Examples that also use another provider (hashicorp/aws; hashicorp/vault in the Vault migration guide) only get
// `fmt -check`: validating them needs that provider's schema, and the tests have no registry to download it from.
func TestExamples(t *testing.T) {
	cli := terraformCLI(t)
	dirs := exampleDirs(t)
	if len(dirs) == 0 {
		t.Fatalf("no .tf files under %s", examplesDir)
	}
	rc := devOverridesConfig(t)

	// The harness itself: a misspelled argument must fail validate, or a passing run below would prove nothing.
	for name, src := range map[string]string{
		"resource": `
resource "awsdynamic_role" "typo" {
  name            = "typo"
  credential_type = "iam_user"
  policy_arnz     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}
`,
		// A configuration with only a provider block is not validated by the CLI unless something uses the provider.
		"provider_block": `
provider "awsdynamic" {
  policy_arnz = "1h"
}
`,
	} {
		t.Run("harness_rejects_a_typo_in_a_"+name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "main.tf"), src)
			out, err := validateExample(t, cli, rc, dir)
			if err == nil {
				t.Fatalf("validate accepted a misspelled argument (policy_arnz):\n%s", out)
			}
			if !strings.Contains(out, "policy_arnz") {
				t.Fatalf("validate failed, but not on the misspelled argument policy_arnz:\n%s", out)
			}
		})
	}

	for _, dir := range dirs {
		rel, _ := filepath.Rel(examplesDir, dir)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			t.Parallel()
			if out, err := runCLI(t, cli, "", dir, "fmt", "-check", "-diff"); err != nil {
				t.Errorf("%s is not formatted (run `make fmt`): %v\n%s", rel, err, out)
			}
			if others := otherProviders(readTF(t, dir)); len(others) > 0 {
				t.Logf("%s uses %s: fmt -check only (validating it needs them from a registry)", rel, strings.Join(others, ", "))
				return
			}
			if out, err := validateExample(t, cli, rc, dir); err != nil {
				t.Errorf("%s does not validate: %v\n%s", rel, err, out)
			}
		})
	}
}

// validateExample runs `validate` on a copy of dir (which keeps any CLI state out of examples/), with two
// additions: required_providers when the example leaves it out, as docs snippets do (the CLI would otherwise look
// for hashicorp/awsdynamic), and a data source, without which the CLI skips validating the provider block.
func validateExample(t *testing.T, cli, rc, dir string) (string, error) {
	t.Helper()
	work := t.TempDir()
	copyTF(t, dir, work)
	extra := `
data "awsdynamic_caller_identity" "examples_test" {}
`
	if !strings.Contains(readTF(t, dir), `"awsdynamic/awsdynamic"`) {
		extra += requiredProviders
	}
	writeFile(t, filepath.Join(work, "zz_examples_test.tf"), extra)
	return runCLI(t, cli, rc, work, "validate")
}

// providerSource matches a `source = "..."` whose value has the shape of a provider address ([host/]namespace/type),
// which a module's local path or a resource's file path does not.
var providerSource = regexp.MustCompile(`\bsource\s*=\s*"((?:[a-z0-9.-]+/)?[a-z0-9-]+/[a-z0-9-]+)"`)

// providerBlock matches a provider block, whose provider a configuration needs even without required_providers.
var providerBlock = regexp.MustCompile(`(?m)^\s*provider\s+"([a-z0-9-]+)"`)

// otherProviders lists the providers besides this one that src requires.
func otherProviders(src string) []string {
	var out []string
	add := func(p string) {
		if p != "awsdynamic/awsdynamic" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, m := range providerSource.FindAllStringSubmatch(src, -1) {
		add(m[1])
	}
	if len(out) == 0 {
		// Undeclared, a provider "<name>" block means hashicorp/<name> to the CLI (this one's is added as ours).
		for _, m := range providerBlock.FindAllStringSubmatch(src, -1) {
			if m[1] != "awsdynamic" {
				add("hashicorp/" + m[1])
			}
		}
	}
	return out
}

// exampleDirs lists the directories under examples/ holding .tf files, sorted.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".tf") {
			seen[filepath.Dir(p)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", examplesDir, err)
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}

// runCLI runs the CLI in dir with the CLI config rc (the environment's, or an empty one, when rc is "").
func runCLI(t *testing.T, cli, rc, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, append(args, "-no-color")...)
	cmd.Dir = dir
	env := []string{"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	for _, kv := range os.Environ() {
		// TF_CLI_ARGS* would change what the commands do; TF_LOG would bury the output.
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TF_CLI_ARGS") || k == "TF_LOG" || k == "TF_CLI_CONFIG_FILE" {
			continue
		}
		env = append(env, kv)
	}
	if rc == "" {
		rc = os.Getenv("TF_CLI_CONFIG_FILE") // acctest.Main points it at a file that exists
	}
	cmd.Env = append(env, "TF_CLI_CONFIG_FILE="+rc)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func readTF(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
		b.WriteByte('\n')
	}
	return b.String()
}

func copyTF(t *testing.T, from, to string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(from, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(to, filepath.Base(f)), string(src))
	}
}

// The guard policy the "How expiry is enforced" guide shows is the engine's own document, byte for byte once
// compacted: a change to the guard has to change the guide too.
func TestExamples_guardPolicyIsTheEngines(t *testing.T) {
	file := filepath.Join(examplesDir, "guides", "expiry-enforcement", "guard-policy.json")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lease.ReadGuard(string(raw))
	if err != nil || g.UserARN == "" {
		t.Fatalf("%s is not the guard policy the engine writes (%+v): %v", file, g, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	if got, want := compact.String(), lease.GuardDocument(g.ExpiresAt, g.UserARN); got != want {
		t.Errorf("%s is not the engine's guard policy (lease.GuardDocument):\n got: %s\nwant: %s", file, got, want)
	}
}
