package provider_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Secret hygiene: a managed and an ephemeral credential go through create, renewal, refresh and destroy with
// TF_LOG=trace, the CLI driven directly so that its stdout and stderr can be read. The provider runs in this
// process (served for the CLI to reattach to), so that a fake clock can move the leases into their renewal window
// and a recording transport can see every secret AWS sent. None of them may appear in the CLI's log, the provider's
// log, anything the CLI printed (plan, apply, show, destroy), and the ephemeral ones not in the state file either.
func TestAccCredential_secretsStayOutOfLogsOutputAndEphemeralState(t *testing.T) {
	acctest.Reset(t)
	cli := terraformCLI(t)
	logs := t.TempDir()
	if keep := os.Getenv("AWSDYNAMIC_KEEP_TEST_LOGS"); keep != "" {
		logs = keep // for reading the logs after a failure
	}

	// The clock stands still during each run, so the ephemeral credential's RenewAt (expiry minus its 5m window)
	// stays ten minutes ahead of Terraform's wall clock and Terraform never renews it: a renewal racing the close
	// at the end of a run is TestAccCredential_ephemeralRenewRacingClose's subject, not this test's. Advancing the
	// clock 45m before the refresh puts the managed credential (1h TTL, 20m window) inside its renewal window.
	fake := clock.NewFake(time.Now())
	w, wire, cliLog, providerLog := tracedWorkdir(t, cli, logs, fake)
	// Parallel on purpose: this test's own configuration; only the HCL shape of a role with a credential is alike.
	w.write("main.tf", requiredProviders+acctest.ProviderBlock("")+`
resource "awsdynamic_role" "deploy" {
  name            = "deploy"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

resource "awsdynamic_credential" "managed" {
  role         = awsdynamic_role.deploy
  ttl          = "1h"
  display_name = "managed"
}

ephemeral "awsdynamic_credential" "run" {
  role         = awsdynamic_role.deploy
  ttl          = "15m"
  renew_before = "5m"
  display_name = "ephemeral"
}
`+useEphemeral("run"))

	var printed []string // everything the CLI wrote to stdout and stderr
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := w.runSplit(args...)
		printed = append(printed, fmt.Sprintf("%s stdout", args[0]), stdout, fmt.Sprintf("%s stderr", args[0]), stderr)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\n%s", cli, strings.Join(args, " "), err, stdout, stderr)
		}
		return stdout
	}
	run("init", "-input=false")
	run("plan", "-input=false", "-out=tfplan")
	run("show", "tfplan")
	run("apply", "-input=false", "tfplan")
	stateAfterApply := readFileString(t, filepath.Join(w.dir, "terraform.tfstate"))

	renewsBefore := wire.count("TagUser", "managed")
	fake.Advance(45 * time.Minute)
	run("apply", "-input=false", "-refresh-only", "-auto-approve")
	// Issue puts two inline policies (guard and document); the renewal tags the user and rewrites the guard.
	if renewsBefore != 0 || wire.count("TagUser", "managed") != 1 || wire.count("PutUserPolicy", "managed") != 3 {
		t.Errorf("the refresh inside the renewal window did not renew the managed lease once: TagUser %d before, %d after", renewsBefore, wire.count("TagUser", "managed"))
	}
	run("show")
	stateAfterRefresh := readFileString(t, filepath.Join(w.dir, "terraform.tfstate"))
	run("destroy", "-input=false", "-auto-approve")

	// What the run did, from the wire: without it, "no secret found" could mean "no secret issued".
	managed, ephemeral := wire.secretsOf("managed"), wire.secretsOf("ephemeral")
	t.Logf("secrets seen on the wire: %d of the managed credential, %d of ephemeral credentials; calls: %v",
		len(managed), len(ephemeral), wire.actions())
	// An ephemeral credential in each of apply, the refresh-only apply and destroy at least (Terraform also opens it
	// in plan, and in both halves of an apply without a saved plan; OpenTofu skips the plan while the role is unknown).
	if len(managed) != 1 || len(ephemeral) < 3 {
		t.Fatalf("want 1 managed secret and at least 3 ephemeral ones; got %d and %d", len(managed), len(ephemeral))
	}
	if created, deleted := wire.count("CreateUser", ""), wire.count("DeleteUser", ""); created != deleted {
		t.Errorf("%d users created, %d deleted", created, deleted)
	}
	if err := noLeaseUsers(); err != nil {
		t.Error(err)
	}
	// The logs must be the real thing, or finding nothing in them proves nothing.
	cliText, providerText := readFileString(t, cliLog), readFileString(t, providerLog)
	for _, want := range []struct{ file, text, marker string }{
		{"CLI log", cliText, "[TRACE]"},
		{"CLI log", cliText, "ephemeral.awsdynamic_credential.run"},
		{"provider log", providerText, "awsdynamic root identity validated"},
		{"provider log", providerText, "ApplyResourceChange"},
		{"provider log", providerText, "CloseEphemeralResource"},
	} {
		if !strings.Contains(want.text, want.marker) {
			t.Errorf("the %s has no %q: TF_LOG=trace did not reach it", want.file, want.marker)
		}
	}
	if !strings.Contains(stateAfterApply, managed[0]) {
		t.Error("the managed credential's secret is not in the state file: the recorder saw other secrets than the provider returned")
	}
	// The search itself: the managed credential's access key ID is not secret, and `show` prints it.
	if id := wire.keyIDOf("managed"); id == "" || !strings.Contains(strings.Join(printed, "\n"), id) {
		t.Errorf("the managed credential's access key ID %q is not in the CLI's output: the output searched is not the real output", id)
	}

	places := map[string]string{"CLI log": cliText, "provider log": providerText}
	for i := 0; i < len(printed); i += 2 {
		places["CLI "+printed[i]] += printed[i+1]
	}
	secrets := map[string]string{"root identity's secret_key": acctest.RootSecretKey}
	for n, s := range managed {
		secrets[fmt.Sprintf("managed credential's secret access key #%d", n+1)] = s
	}
	for n, s := range ephemeral {
		secrets[fmt.Sprintf("ephemeral credential's secret access key #%d", n+1)] = s
	}
	for n, s := range wire.tokens() {
		secrets[fmt.Sprintf("session token #%d", n+1)] = s
	}
	found := 0
	leaked := func(what, secret, where, text string) {
		if containsSecret(text, secret) {
			found++
			t.Errorf("the %s appears in the %s", what, where)
		}
	}
	for what, secret := range secrets {
		for where, text := range places {
			leaked(what, secret, where, text)
		}
	}
	// The state holds the managed credential's secret by design (its attributes are sensitive); never an ephemeral one.
	for n, secret := range ephemeral {
		leaked(fmt.Sprintf("ephemeral credential's secret access key #%d", n+1), secret, "state file", stateAfterApply+stateAfterRefresh)
	}
	for where, text := range places {
		// SDK wire logging (ClientLogMode) would print response bodies; the provider never turns it on.
		if strings.Contains(text, "CreateAccessKeyResponse") || strings.Contains(text, "<SecretAccessKey>") {
			t.Errorf("the %s holds an AWS response body", where)
		}
	}
	t.Logf("secrets checked: %d; places: %d and the state file (CLI log %d bytes, provider log %d bytes); secrets found: %d",
		len(secrets), len(places), len(cliText), len(providerText), found)
}
