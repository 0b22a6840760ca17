package provider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

const loadCount = 50

// Fifty credentials in one apply with -parallelism=20: every one is issued, each to an IAM user of its own, and
// destroy removes all of them. terraform-plugin-testing cannot pass the flag (terraform-exec always adds
// -parallelism=10, which wins over TF_CLI_ARGS_apply), so the test drives the CLI itself, with the provider served
// from this process. The proxy shows the flag took effect: more than 10 CreateUser calls are in flight at once. It
// adds 50ms to every call, an AWS-like round trip, so that calls that run together overlap visibly. Wall time is
// logged, never asserted.
func TestAccCredential_fiftyInOneApplyWithParallelism20(t *testing.T) {
	acctest.Reset(t)
	cli := terraformCLI(t)
	proxy := startFaultProxy(t)
	proxy.SetLatency(50 * time.Millisecond)
	w := inProcessWorkdir(t, cli, provider.Options{})
	w.write("main.tf", requiredProviders+proxiedProvider(proxy.URL, "")+fmt.Sprintf(`
resource "awsdynamic_role" "load" {
  name            = "load"
  credential_type = "iam_user"
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

resource "awsdynamic_credential" "load" {
  count        = %d
  role         = awsdynamic_role.load
  display_name = "n${count.index}"
}
`, loadCount))
	run := func(args ...string) time.Duration {
		t.Helper()
		start := time.Now()
		if out, err := w.run(args...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, lastLines(out, 40))
		}
		return time.Since(start)
	}
	run("init", "-input=false")
	proxy.Reset()
	proxy.SetLatency(50 * time.Millisecond)
	applied := run("apply", "-input=false", "-auto-approve", "-parallelism=20")
	applyCalls := proxy.Calls()

	// State: fifty issued credentials, fifty distinct users.
	var state struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes map[string]any `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(readFileString(t, filepath.Join(w.dir, "terraform.tfstate"))), &state); err != nil {
		t.Fatal(err)
	}
	var inState []string
	for _, r := range state.Resources {
		if r.Type != "awsdynamic_credential" {
			continue
		}
		for _, in := range r.Instances {
			if id, _ := in.Attributes["access_key_id"].(string); id == "" {
				t.Errorf("a credential in state has no access key: %v", in.Attributes["iam_user_name"])
			}
			name, _ := in.Attributes["iam_user_name"].(string)
			inState = append(inState, name)
		}
	}
	sort.Strings(inState)
	if n := len(slices.Compact(slices.Clone(inState))); len(inState) != loadCount || n != loadCount {
		t.Fatalf("%d credentials in state with %d distinct IAM user names, want %d", len(inState), n, loadCount)
	}
	// AWS: the same users, each with one key.
	inAWS, err := usersUnder(context.Background(), leasePath)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inAWS, inState) {
		t.Fatalf("IAM users in AWS %v differ from those in state %v", inAWS, inState)
	}
	for _, u := range inAWS {
		keys, err := acctest.IAM().ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(u)})
		if err != nil {
			t.Fatal(err)
		}
		if len(keys.AccessKeyMetadata) != 1 {
			t.Errorf("IAM user %s has %d access keys, want 1", u, len(keys.AccessKeyMetadata))
		}
	}
	inFlight := maxInFlight(applyCalls, "CreateUser")
	if inFlight <= 10 {
		t.Errorf("at most %d CreateUser calls were in flight at once: -parallelism=20 did not take effect", inFlight)
	}

	destroyed := run("destroy", "-input=false", "-auto-approve", "-parallelism=20")
	if err := noLeaseUsers(); err != nil {
		t.Error(err)
	}
	if created, deleted := countOf(applyCalls, "CreateUser"), proxy.Count("DeleteUser"); created != loadCount || deleted != loadCount {
		t.Errorf("CreateUser %d and DeleteUser %d calls, want %d each", created, deleted, loadCount)
	}
	t.Logf("%d credentials at -parallelism=20, 50ms per AWS call: apply %s (issue window %s, %d calls, up to %d CreateUser in flight), destroy %s",
		loadCount, applied.Round(time.Millisecond), issueWindow(applyCalls).Round(time.Millisecond), len(applyCalls), inFlight, destroyed.Round(time.Millisecond))
}

func countOf(calls []faultproxy.Call, action string) int {
	n := 0
	for _, c := range calls {
		if c.Action == action {
			n++
		}
	}
	return n
}

// maxInFlight is the largest number of calls of action that overlapped in time.
func maxInFlight(calls []faultproxy.Call, action string) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, c := range calls {
		if c.Action == action {
			edges = append(edges, edge{c.Start, 1}, edge{c.End, -1})
		}
	}
	// Ends before starts at the same instant: touching calls did not overlap.
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	n, best := 0, 0
	for _, e := range edges {
		n += e.delta
		best = max(best, n)
	}
	return best
}

// issueWindow is the time from the first CreateUser to the end of the last CreateAccessKey.
func issueWindow(calls []faultproxy.Call) time.Duration {
	var first, last time.Time
	for _, c := range calls {
		if c.Action == "CreateUser" && (first.IsZero() || c.Start.Before(first)) {
			first = c.Start
		}
		if c.Action == "CreateAccessKey" && c.End.After(last) {
			last = c.End
		}
	}
	return last.Sub(first)
}
