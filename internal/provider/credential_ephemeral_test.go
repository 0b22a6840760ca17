package provider_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

var ephemeralRole = deployRole(readOnlyPolicy + "\n" + `  iam_tags        = { team = "platform" }`)

// leaseLifecycles groups the recorded IAM calls by the lease user they were made for, in order.
func leaseLifecycles(reqs []moto.Request) map[string][]string {
	out := map[string][]string{}
	for _, r := range reqs {
		if u := r.Form.Get("UserName"); u != "" && r.Action != "" {
			out[u] = append(out[u], r.Action)
		}
	}
	return out
}

// checkEveryLeaseRevoked checks, from moto's recorder, that every IAM user the run created got its key, then itself,
// deleted.
func checkEveryLeaseRevoked(*terraform.State) error {
	reqs, err := recorded()
	if err != nil {
		return err
	}
	var errs []error
	created := 0
	for user, all := range leaseLifecycles(reqs) {
		// The writes only: the tests' own reads (GetUser after the run) may come later.
		calls := slices.DeleteFunc(all, func(a string) bool { return !writeActions.MatchString(a) })
		if !slices.Contains(calls, "CreateUser") {
			continue
		}
		created++
		ck, dk, du := slices.Index(calls, "CreateAccessKey"), slices.Index(calls, "DeleteAccessKey"), slices.Index(calls, "DeleteUser")
		if ck < 0 || dk < ck || du < dk || du != len(calls)-1 {
			errs = append(errs, fmt.Errorf("IAM user %s was not issued and then revoked (key deleted, then the user): %v", user, calls))
		}
	}
	if created == 0 {
		errs = append(errs, errors.New("moto recorded no CreateUser: the ephemeral credential was never opened"))
	}
	return errors.Join(errs...)
}

// The ephemeral credential reaches consumers during the run — the echo provider, and a second awsdynamic provider
// configured with it as its root identity — and its user is revoked when the run ends.
func TestAccCredentialEphemeral_reachesConsumerAndIsRevoked(t *testing.T) {
	acctest.Reset(t)
	startRecording(t)
	config := acctest.ProviderBlock("") + ephemeralRole + fmt.Sprintf(`
ephemeral "awsdynamic_credential" "run" {
  role         = awsdynamic_role.deploy
  ttl          = "15m"
  display_name = "run"
}

provider "echo" {
  data = ephemeral.awsdynamic_credential.run
}

resource "echo" "test" {}

# A consumer that uses the credential while the run lasts: a provider whose root identity it is.
provider "awsdynamic" {
  alias      = "leased"
  access_key = ephemeral.awsdynamic_credential.run.access_key_id
  secret_key = ephemeral.awsdynamic_credential.run.secret_access_key
  region     = %q
  endpoints {
    iam = %q
    sts = %q
  }
}

# Read during apply (it depends on a resource being created), so in the same run as echo.test's data.
data "awsdynamic_caller_identity" "leased" {
  provider   = awsdynamic.leased
  depends_on = [echo.test]
}
`, acctest.Region, acctest.Moto.URL, acctest.Moto.URL)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: withEcho(acctest.Factories(provider.Options{})),
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkNoUsersUnder("/"), checkEveryLeaseRevoked),
		Steps: []resource.TestStep{{
			// The role first: OpenTofu does not open an ephemeral resource during plan while a resource it refers
			// to is still to be created, and the second provider cannot be configured from unknown keys.
			Config: acctest.ProviderBlock("") + ephemeralRole,
		}, {
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestMatchResourceAttr("echo.test", "data.iam_user_name", regexp.MustCompile(`^awsdyn-deploy-run-\d{10}-[A-Za-z0-9]{12}$`)),
				resource.TestMatchResourceAttr("echo.test", "data.iam_user_arn", regexp.MustCompile(`^arn:aws:iam::123456789012:user/awsdynamic/awsdyn-deploy-run-`)),
				resource.TestMatchResourceAttr("echo.test", "data.access_key_id", regexp.MustCompile(`^[A-Z0-9]{20}$`)),
				resource.TestMatchResourceAttr("echo.test", "data.secret_access_key", regexp.MustCompile(`^.{40}$`)),
				resource.TestMatchResourceAttr("echo.test", "data.expires_at", regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)),
				// The key worked while the run lasted: sts:GetCallerIdentity with it answered as the user the echo
				// provider was given (moto answers unknown keys with a default identity, never this ARN).
				resource.TestCheckResourceAttrPair("echo.test", "data.iam_user_arn", "data.awsdynamic_caller_identity.leased", "arn"),
				func(s *terraform.State) error {
					a, err := stateAttrs(s, "echo.test")
					if err != nil {
						return err
					}
					user := a["data.iam_user_name"]
					reqs, err := recorded()
					if err != nil {
						return err
					}
					var errs []error
					// ttl = "15m", counted from the apply a moment ago.
					if exp, err := time.Parse(time.RFC3339, a["data.expires_at"]); err != nil || time.Until(exp) > 15*time.Minute || time.Until(exp) < 13*time.Minute {
						errs = append(errs, fmt.Errorf("expires_at %s is not 15 minutes after the apply (%v)", a["data.expires_at"], err))
					}
					calls := leaseLifecycles(reqs)[user]
					// Issued like any lease (user, guard, policy, key), revoked at the end of the apply.
					for _, want := range []string{"CreateUser", "PutUserPolicy", "AttachUserPolicy", "CreateAccessKey", "DeleteAccessKey", "DetachUserPolicy", "DeleteUserPolicy", "DeleteUser"} {
						if !slices.Contains(calls, want) {
							errs = append(errs, fmt.Errorf("no %s for %s: %v", want, user, calls))
						}
					}
					if len(calls) > 0 && calls[len(calls)-1] != "DeleteUser" {
						errs = append(errs, fmt.Errorf("the last call for %s is not DeleteUser: %v", user, calls))
					}
					for _, r := range reqs {
						if r.Action == "CreateUser" && r.Form.Get("UserName") == user {
							if tags := tagsOf(r); tags[lease.TagRole] != "deploy" || tags["team"] != "platform" || tags[lease.TagLeaseID] == "" {
								errs = append(errs, fmt.Errorf("CreateUser of %s sent tags %v", user, tags))
							}
						}
					}
					if u, err := readUser(context.Background(), user); err != nil || u != nil {
						errs = append(errs, fmt.Errorf("IAM user %s outlived the run that opened it (%v)", user, err))
					}
					return errors.Join(errs...)
				},
			),
		}},
	})
}

// tagsOf decodes the Tags.member.N.Key/Value of a recorded CreateUser.
func tagsOf(r moto.Request) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		k := r.Form.Get(fmt.Sprintf("Tags.member.%d.Key", i))
		if k == "" {
			return out
		}
		out[k] = r.Form.Get(fmt.Sprintf("Tags.member.%d.Value", i))
	}
}

// The ephemeral credential is never written down: neither the state nor the saved plans hold its secret, its key ID
// or its user's name, although the run issued (and revoked) it.
func TestAccCredentialEphemeral_neverInStateOrPlan(t *testing.T) {
	acctest.Reset(t)
	startRecording(t)
	tap := newWireRecorder(t)
	workdir := t.TempDir()
	// A consumer that keeps nothing of the credential: a second provider whose root identity it is, checking a role
	// (the role's state holds only the role). Without a consumer OpenTofu does not open an ephemeral resource at all.
	// The role is an object literal, so that the credential is known, and opened, at plan time too.
	config := acctest.ProviderBlock("") + fmt.Sprintf(`
ephemeral "awsdynamic_credential" "run" {
  role = {
    name            = "deploy"
    credential_type = "iam_user"
    policy_arns     = ["%[1]s"]
  }
}

provider "awsdynamic" {
  alias      = "leased"
  access_key = ephemeral.awsdynamic_credential.run.access_key_id
  secret_key = ephemeral.awsdynamic_credential.run.secret_access_key
  region     = %[2]q
  endpoints {
    iam = %[3]q
    sts = %[3]q
  }
}

resource "awsdynamic_role" "checked" {
  provider        = awsdynamic.leased
  name            = "checked"
  credential_type = "iam_user"
  policy_arns     = ["%[1]s"]
}
`, readOnly, acctest.Region, acctest.Moto.URL)
	// scan reads every file Terraform wrote in the working directory (state, its backups, saved plans, which are
	// zip archives) and reports any issued secret, access key ID or user name found in them.
	scan := func(*terraform.State) error {
		reqs, err := recorded()
		if err != nil {
			return err
		}
		var needles []string
		for user := range leaseLifecycles(reqs) {
			needles = append(needles, user)
		}
		needles = append(needles, tap.secretsOf("")...)
		needles = append(needles, tap.keyIDs()...)
		if len(tap.secretsOf("")) == 0 || len(needles) < 3 {
			return errors.New("the run issued no credential: there was nothing to leak, so this proves nothing")
		}
		var files []string
		var errs []error
		err = filepath.WalkDir(workdir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			contents, err := readAllEntries(p)
			if err != nil {
				return err
			}
			files = append(files, filepath.Base(p))
			for _, c := range contents {
				for _, n := range needles {
					if bytes.Contains(c, []byte(n)) {
						errs = append(errs, fmt.Errorf("%s holds %q, a value of the ephemeral credential", p, redact(n)))
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !slices.Contains(files, "terraform.tfstate") || !slices.Contains(files, "tfplan") {
			errs = append(errs, fmt.Errorf("found no terraform.tfstate and tfplan to scan in %s: %v", workdir, files))
		}
		return errors.Join(errs...)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{HTTPClient: tap}),
		WorkingDir:               workdir,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkNoUsersUnder("/"), checkEveryLeaseRevoked),
		Steps: []resource.TestStep{{
			Config: config,
			Check:  scan,
		}},
	})
}

// readAllEntries returns a file's bytes, or the bytes of each entry when it is a zip archive (a saved plan).
func readAllEntries(p string) ([][]byte, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	out := [][]byte{b}
	if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			c, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// redact shows a needle without printing a whole secret into the test log.
func redact(s string) string {
	if len(s) == 40 && !strings.HasPrefix(s, "awsdyn") {
		return s[:4] + "…(secret)"
	}
	return s
}
