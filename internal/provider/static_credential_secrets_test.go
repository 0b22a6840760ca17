package provider_test

import (
	"strings"
	"testing"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// Secret hygiene of awsdynamic_static_credential, as TestAccCredential_secretsStayOutOfLogsOutputAndEphemeralState
// checks the dynamic one: create, a rotation planned and applied, show and destroy with TF_LOG=trace, the provider
// served in this process so that a recording transport sees every secret AWS sent. No secret may appear in the
// CLI's log, the provider's log or anything the CLI printed.
func TestAccStaticCredential_secretsStayOutOfLogsAndOutput(t *testing.T) {
	acctest.Reset(t)
	cli := terraformCLI(t)
	own := existingUser(t, "static-secrets", 1)
	fake := clock.NewFake(time.Now())
	w, wire, cliLog, providerLog := tracedWorkdir(t, cli, t.TempDir(), fake)
	w.write("main.tf", requiredProviders+acctest.ProviderBlock("")+`
resource "awsdynamic_static_credential" "smtp" {
  username        = "static-secrets"
  rotation_period = "1h"
}
`)
	var printed []string
	run := func(args ...string) {
		t.Helper()
		stdout, stderr, err := w.runSplit(args...)
		printed = append(printed, stdout, stderr)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s\n%s", cli, strings.Join(args, " "), err, stdout, stderr)
		}
	}
	run("init", "-input=false")
	run("plan", "-input=false", "-out=tfplan")
	run("apply", "-input=false", "tfplan")
	fake.Advance(2 * time.Hour)
	run("plan", "-input=false", "-out=tfplan")
	run("show", "tfplan")
	run("apply", "-input=false", "tfplan")
	run("show")
	run("destroy", "-input=false", "-auto-approve")

	secrets := wire.secretsOf("static-secrets")
	if len(secrets) != 2 {
		t.Fatalf("want 2 secrets on the wire (create and rotation), got %d; calls %v", len(secrets), wire.actions())
	}
	if got, err := keysOfUser("static-secrets"); err != nil || strings.Join(got, ",") != strings.Join(own, ",") {
		t.Fatalf("after destroy the user holds %v (%v), want its own %v", got, err, own)
	}
	cliText, providerText := readFileString(t, cliLog), readFileString(t, providerLog)
	if !strings.Contains(providerText, "ApplyResourceChange") || !strings.Contains(cliText, "[TRACE]") {
		t.Fatal("TF_LOG=trace did not reach the logs: finding nothing in them would prove nothing")
	}
	if id := wire.keyIDOf("static-secrets"); !strings.Contains(strings.Join(printed, "\n"), id) {
		t.Errorf("the access key ID %s is not in the CLI's output: the output searched is not the real output", id)
	}
	places := map[string]string{"CLI log": cliText, "provider log": providerText, "CLI output": strings.Join(printed, "\n")}
	for n, secret := range append(secrets, acctest.RootSecretKey) {
		for where, text := range places {
			if containsSecret(text, secret) {
				t.Errorf("secret #%d appears in the %s", n+1, where)
			}
		}
	}
	t.Logf("checked %d secrets in %d places", len(secrets)+1, len(places))
}
