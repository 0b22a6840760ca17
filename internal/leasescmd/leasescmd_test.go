package leasescmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/cmdtest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "leasescmd", &motoServer)) }

func TestRun_ListsLeasesAsTableAndJSON(t *testing.T) {
	_, c := cmdtest.Env(t, motoServer)
	ctx := context.Background()
	is := cmdtest.Issuer(c, time.Now())
	issue := func(role string) (*lease.Lease, lease.Credentials) { return cmdtest.Issue(t, is, role, time.Hour) }
	deploy, secret := issue("deploy")
	other, _ := issue("other")
	flags := []string{"--iam-endpoint", motoServer.URL, "--sts-endpoint", motoServer.URL}

	var out, errOut bytes.Buffer
	if code := run(ctx, flags, &out, &errOut, clock.Real{}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	table := out.String()
	for _, want := range []string{"USER", "LAST USED", deploy.UserName, deploy.ID, other.UserName, "live", deploy.AccessKeyID, "never",
		deploy.ExpiresAt.UTC().Format(time.RFC3339)} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, secret.SecretAccessKey) {
		t.Fatal("the table holds a secret access key")
	}

	out.Reset()
	if code := run(ctx, append(flags, "--json", "--role", "deploy"), &out, &errOut, clock.Real{}); code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut.String())
	}
	var got Listing
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, out.String())
	}
	if got.Path != lease.DefaultUserPath || len(got.Leases) != 1 || got.Leases[0].LeaseID != deploy.ID || got.Leases[0].State != lease.StateLive ||
		got.Leases[0].ExpiresAt == nil || !got.Leases[0].ExpiresAt.Equal(deploy.ExpiresAt) {
		t.Errorf("--json --role deploy: %s", out.String())
	}
	for _, field := range []string{`"user_name"`, `"lease_id"`, `"state"`, `"expires_at"`, `"access_keys"`, `"last_used_at": null`} {
		if !strings.Contains(out.String(), field) {
			t.Errorf("--json lacks %s:\n%s", field, out.String())
		}
	}

	if code := run(ctx, append(flags, "--path", "/"), &out, &errOut, clock.Real{}); code != 2 {
		t.Errorf(`--path "/": exit %d, want 2`, code)
	}
}
