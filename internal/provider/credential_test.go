package provider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// ---------------------------------------------------------------------------------------------------------------
// awsdynamic_credential: what one issue leaves in AWS.
// ---------------------------------------------------------------------------------------------------------------

const doc1 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`

// Each shape of role leaves exactly what it describes on the user, and nothing else; destroy leaves nothing.
func TestAccCredential_roleShapes(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "deployers", "auditors")
	cases := []struct {
		name string
		role string
		want wantUser
	}{
		{"policy_arns only", `policy_arns = ["` + readOnly + `", "` + s3ReadOnly + `"]`,
			wantUser{PolicyARNs: []string{readOnly, s3ReadOnly}}},
		{"document only", `policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })`,
			wantUser{Document: doc1}},
		{"groups only", `iam_groups = ["deployers"]`,
			wantUser{Groups: []string{"deployers"}}},
		{"everything", `
  policy_arns     = ["` + readOnly + `"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["deployers", "auditors"]
  iam_tags        = { team = "platform", owner = "role-wins" }`,
			wantUser{PolicyARNs: []string{readOnly}, Document: doc1, Groups: []string{"auditors", "deployers"},
				Tags: map[string]string{"team": "platform", "owner": "role-wins", "managed-by": "terraform"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.want
			w.Role = "deploy"
			w.NameRegexp = `^awsdyn-deploy-\d{10}-[A-Za-z0-9]{12}$`
			if w.Tags == nil {
				w.Tags = map[string]string{"managed-by": "terraform", "owner": "platform-team"}
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				CheckDestroy:             checkNoUsersUnder("/"),
				Steps: []resource.TestStep{{
					Config: deployConfig(`  default_tags = { managed-by = "terraform", owner = "platform-team" }`, "  "+tc.role, ""),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkIssuedUser(credAddr, w),
						checkKeyWorks(credAddr),
						resource.TestCheckResourceAttr(credAddr, "renewable", "true"),
						resource.TestMatchResourceAttr(credAddr, "id", regexp.MustCompile(`^lease-[0-9a-f]{24}$`)),
					),
				}},
			})
		})
	}
}

// A Vault-style username template, a user path on the provider and another on the role, and a permissions boundary.
func TestAccCredential_namingPathsAndBoundary(t *testing.T) {
	acctest.Reset(t)
	startRecording(t)
	// Vault's own default template for IAM users, copied unchanged: .PolicyName and .Type work as in Vault.
	const vaultTemplate = `{{ if (eq .Type "STS") }}{{ printf "vault-%s-%s" (unix_time) (random 20) | truncate 32 }}{{ else }}{{ printf "vault-%s-%s-%s" (printf "%s-%s" (.DisplayName) (.PolicyName) | truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkNoUsersUnder("/ci/"), checkNoUsersUnder("/team-a/"), checkNoUsersUnder("/")),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(fmt.Sprintf(`
  username_template = %q
  user_path         = "/ci/"`, vaultTemplate)) + `
resource "awsdynamic_role" "deploy" {
  name        = "deploy"
  credential_type = "iam_user"
  policy_arns = ["` + readOnly + `"]
}

resource "awsdynamic_role" "bounded" {
  name                     = "bounded"
  credential_type          = "iam_user"
  policy_arns              = ["` + readOnly + `"]
  permissions_boundary_arn = "` + powerUser + `"
  user_path                = "/team-a/"
}

resource "awsdynamic_credential" "ci" {
  role         = awsdynamic_role.deploy
  display_name = "pipeline"
}

resource "awsdynamic_credential" "bounded" {
  role = awsdynamic_role.bounded
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkIssuedUser(credAddr, wantUser{Role: "deploy", Path: "/ci/", PolicyARNs: []string{readOnly},
					NameRegexp: `^vault-pipeline-deploy-\d{10}-[A-Za-z0-9]{20}$`}),
				checkIssuedUser("awsdynamic_credential.bounded", wantUser{Role: "bounded", Path: "/team-a/", PolicyARNs: []string{readOnly},
					NameRegexp: `^vault--bounded-\d{10}-[A-Za-z0-9]{20}$`}), // no display name: "vault-" + "" + "-bounded", as Vault renders it
				checkKeyWorks(credAddr),
				checkKeyWorks("awsdynamic_credential.bounded"),
				// moto drops PermissionsBoundary on CreateUser (see internal/acctest/moto/README.md), so GetUser cannot show it: what the
				// provider asked for is in the CreateUser request moto recorded.
				func(s *terraform.State) error {
					reqs, err := recorded()
					if err != nil {
						return err
					}
					boundary := map[string]string{}
					for _, r := range reqs {
						if r.Action == "CreateUser" {
							boundary[r.Form.Get("UserName")] = r.Form.Get("PermissionsBoundary")
						}
					}
					for addr, want := range map[string]string{"awsdynamic_credential.bounded": powerUser, credAddr: ""} {
						a, err := stateAttrs(s, addr)
						if err != nil {
							return err
						}
						got, ok := boundary[a["iam_user_name"]]
						if !ok {
							return fmt.Errorf("moto recorded no CreateUser for %s", a["iam_user_name"])
						}
						if got != want {
							return fmt.Errorf("CreateUser of %s (%s) sent PermissionsBoundary %q, want %q", a["iam_user_name"], addr, got, want)
						}
					}
					return nil
				},
			),
		}},
	})
}

// ---------------------------------------------------------------------------------------------------------------
// Renewal on refresh, with a clock the test moves.
// ---------------------------------------------------------------------------------------------------------------

func TestAccCredential_renewal(t *testing.T) {
	acctest.Reset(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	fc := clock.NewFake(t0)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	config := deployConfig("", readOnlyPolicy+`
  max_ttl         = "2h"`, `  ttl  = "1h"`)
	first, second := attrCapture{}, attrCapture{}
	want := wantUser{Role: "deploy", PolicyARNs: []string{readOnly}}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{
				// Issued at t0 for 1h, renewable until t0+2h; renew_before defaults to a third of the TTL, 20m.
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(credAddr, "issued_at", at(0)),
					resource.TestCheckResourceAttr(credAddr, "expires_at", at(time.Hour)),
					resource.TestCheckResourceAttr(credAddr, "max_expires_at", at(2*time.Hour)),
					checkIssuedUser(credAddr, want),
					first.save(credAddr, "id", "access_key_id", "iam_user_name", "expires_at"),
				),
			},
			{
				// t0+10m: outside the window (it opens at t0+40m): a refresh changes nothing.
				PreConfig:    func() { fc.Set(t0.Add(10 * time.Minute)) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(credAddr, "expires_at", at(time.Hour)),
					checkIssuedUser(credAddr, want), // the guard and the expiry tag still say t0+1h
				),
			},
			{
				// t0+45m: inside the window: the refresh renews to now+ttl = t0+1h45m, in state, guard and tag.
				PreConfig:    func() { fc.Set(t0.Add(45 * time.Minute)) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(credAddr, "expires_at", at(time.Hour+45*time.Minute)),
					resource.TestCheckResourceAttr(credAddr, "renewable", "true"),
					checkIssuedUser(credAddr, want),
					first.same(credAddr, "id", "access_key_id", "iam_user_name"),
				),
			},
			{
				// t0+1h40m: inside the window again, but a renewal could only reach the maximum, t0+2h, which is
				// inside the window already: the plan replaces the credential, and the old user is revoked.
				PreConfig: func() { fc.Set(t0.Add(time.Hour + 40*time.Minute)) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionReplace),
					plancheck.ExpectResourceAction("awsdynamic_role.deploy", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					first.changed(credAddr, "id", "access_key_id", "iam_user_name"),
					first.checkUserGone(),
					resource.TestCheckResourceAttr(credAddr, "issued_at", at(time.Hour+40*time.Minute)),
					resource.TestCheckResourceAttr(credAddr, "expires_at", at(2*time.Hour+40*time.Minute)),
					checkIssuedUser(credAddr, want),
					checkKeyWorks(credAddr),
					second.save(credAddr, "id", "access_key_id", "iam_user_name"),
				),
			},
			{
				// Past the new lease's expiry, as if nobody ran Terraform for a while: replaced, the old user gone.
				PreConfig: func() { fc.Set(t0.Add(3 * time.Hour)) },
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					second.changed(credAddr, "id", "access_key_id", "iam_user_name"),
					second.checkUserGone(),
					resource.TestCheckResourceAttr(credAddr, "expires_at", at(4*time.Hour)),
					checkIssuedUser(credAddr, want),
				),
			},
		},
	})
}

// ---------------------------------------------------------------------------------------------------------------
// A role change reaches a live credential in place; a ttl change renews; a user_path change replaces.
// ---------------------------------------------------------------------------------------------------------------

func TestAccCredential_roleChangeUpdatesInPlace(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "deployers", "auditors")
	t0 := time.Now().UTC().Truncate(time.Second)
	fc := clock.NewFake(t0)
	config := func(role, ttl string) string {
		return deployConfig("", role, `  ttl  = "`+ttl+`"`)
	}
	before := `
  policy_arns     = ["` + readOnly + `"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
  iam_groups      = ["deployers"]
  iam_tags        = { team = "platform", stale = "yes" }`
	after := `
  policy_arns     = ["` + s3ReadOnly + `", "` + iamRead + `"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["sqs:SendMessage"], Resource = "*" }] })
  iam_groups      = ["auditors"]
  iam_tags        = { team = "security", env = "ci" }`
	const doc2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	moved := after + `
  user_path       = "/moved/"`

	orig := attrCapture{}
	update := []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)}
	// noNewKey: the in-place steps must not issue or revoke anything.
	noNewKey := func(*terraform.State) error {
		reqs, err := recorded()
		if err != nil {
			return err
		}
		for _, a := range iamWrites(reqs) {
			switch a {
			case "CreateUser", "CreateAccessKey", "DeleteAccessKey", "DeleteUser":
				return fmt.Errorf("an in-place update called %s; all writes: %v", a, iamWrites(reqs))
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkNoUsersUnder("/")),
		Steps: []resource.TestStep{
			{
				Config: config(before, "1h"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{readOnly}, Document: doc1,
						Groups: []string{"deployers"}, Tags: map[string]string{"team": "platform", "stale": "yes"}}),
					orig.save(credAddr, "id", "access_key_id", "secret_access_key", "iam_user_name", "expires_at"),
				),
			},
			{
				// Policies, document, groups and tags all change: the same user and key get the new ones.
				PreConfig:        func() { startRecording(t) },
				Config:           config(after, "1h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.same(credAddr, "id", "access_key_id", "secret_access_key", "iam_user_name", "expires_at"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{s3ReadOnly, iamRead}, Document: doc2,
						Groups: []string{"auditors"}, Tags: map[string]string{"team": "security", "env": "ci"}}),
					checkKeyWorks(credAddr),
					noNewKey,
				),
			},
			{
				// A new ttl renews the lease with it, from now: expires_at and the guard move, the key stays.
				PreConfig: func() {
					fc.Set(t0.Add(5 * time.Minute))
					startRecording(t)
				},
				Config:           config(after, "90m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: update},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.same(credAddr, "id", "access_key_id", "iam_user_name"),
					resource.TestCheckResourceAttr(credAddr, "expires_at", t0.Add(95*time.Minute).Format(time.RFC3339)),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{s3ReadOnly, iamRead}, Document: doc2,
						Groups: []string{"auditors"}, Tags: map[string]string{"team": "security", "env": "ci"}}),
					noNewKey,
				),
			},
			{
				// The path is fixed at CreateUser: a new one needs a new user, and the old one is revoked.
				Config: config(moved, "90m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					orig.changed(credAddr, "id", "access_key_id", "iam_user_name"),
					orig.checkUserGone(),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", Path: "/moved/", PolicyARNs: []string{s3ReadOnly, iamRead}, Document: doc2,
						Groups: []string{"auditors"}, Tags: map[string]string{"team": "security", "env": "ci"}}),
					checkKeyWorks(credAddr),
				),
			},
		},
	})
}

// ---------------------------------------------------------------------------------------------------------------
// Failure behavior seen through Terraform.
// ---------------------------------------------------------------------------------------------------------------

// A policy or group that existed when the role was applied and is gone when the credential is issued: the failed
// step is named, everything the attempt created is removed, and the credential is not in state.
func TestAccCredential_issueFailureRollsBack(t *testing.T) {
	cases := []struct {
		name     string
		arrange  func(t *testing.T) (role string, remove func() error)
		wantStep string
	}{
		{
			name: "policy deleted",
			arrange: func(t *testing.T) (string, func() error) {
				arn := mustCreatePolicy(t, "doomed")
				return `policy_arns = ["` + readOnly + `", "` + arn + `"]`, func() error {
					_, err := acctest.IAM().DeletePolicy(context.Background(), &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
					return err
				}
			},
			wantStep: `attaching policy arn:aws:iam::123456789012:policy/doomed to IAM user`,
		},
		{
			name: "group deleted",
			arrange: func(t *testing.T) (string, func() error) {
				mustCreateGroup(t, "doomed")
				return `
  policy_arns = ["` + readOnly + `"]
  iam_groups  = ["doomed"]`, func() error {
						_, err := acctest.IAM().DeleteGroup(context.Background(), &iam.DeleteGroupInput{GroupName: aws.String("doomed")})
						return err
					}
			},
			wantStep: `to group "doomed"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acctest.Reset(t)
			role, remove := tc.arrange(t)
			roleOnly := acctest.ProviderBlock("") + deployRole("  "+role)
			withCredential := deployConfig("", "  "+role, "")
			// rolledBack checks that the user was created, then removed with what it had.
			rolledBack := func() {
				reqs, err := recorded()
				if err != nil {
					t.Fatal(err)
				}
				var user string
				for _, r := range reqs {
					if r.Action == "CreateUser" {
						user = r.Form.Get("UserName")
					}
				}
				if user == "" {
					t.Fatal("moto recorded no CreateUser: the failure happened before issue, which proves nothing about rollback")
				}
				calls := callsFor(reqs, user)
				if slices.Contains(calls, "CreateAccessKey") {
					t.Errorf("a key was created for %s although a step before it failed: %v", user, calls)
				}
				if !slices.Contains(calls, "DeleteUserPolicy") || calls[len(calls)-1] != "DeleteUser" {
					t.Errorf("rollback of %s did not delete the guard and then the user: %v", user, calls)
				}
				names, err := usersUnder(context.Background(), "/")
				if err != nil {
					t.Fatal(err)
				}
				if len(names) > 0 {
					t.Errorf("IAM users left after the failed issue: %v", names)
				}
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
				CheckDestroy:             checkNoUsersUnder("/"),
				Steps: []resource.TestStep{
					{Config: roleOnly},
					{
						PreConfig: func() {
							if err := remove(); err != nil {
								t.Fatal(err)
							}
							startRecording(t)
						},
						Config: withCredential,
						ExpectError: regexp.MustCompile(`(?s)Credential Not Issued.*` + words(tc.wantStep) + `.*` +
							words("rollback complete: nothing from this attempt remains")),
					},
					// AWS holds nothing from the attempt, and state holds no credential: the next plan creates one.
					plannedAfterFailure(rolledBack, withCredential, credAddr, plancheck.ResourceActionCreate),
				},
			})
		})
	}
}

// What someone attached to a lease's user by hand does not stop destroy: revoke removes each object itself (moto's
// DeleteUser would succeed with them left, so the recorder, not the user's absence, is the proof).
func TestAccCredential_destroyAfterOutOfBandAdditions(t *testing.T) {
	acctest.Reset(t)
	mustCreateGroup(t, "extra-group")
	ctx := context.Background()
	added := map[string]string{} // what was added: kind -> id
	addExtras := func(s *terraform.State) error {
		a, err := stateAttrs(s, credAddr)
		if err != nil {
			return err
		}
		user := aws.String(a["iam_user_name"])
		c := acctest.IAM()
		if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: user, Password: aws.String("Sup3r-Secret-Passw0rd!")}); err != nil {
			return fmt.Errorf("CreateLoginProfile: %w", err)
		}
		key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
		if err != nil {
			return fmt.Errorf("CreateAccessKey: %w", err)
		}
		added["key"] = aws.ToString(key.AccessKey.AccessKeyId)
		ssh, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: user, SSHPublicKeyBody: aws.String(testSSHKey)})
		if err != nil {
			return fmt.Errorf("UploadSSHPublicKey: %w", err)
		}
		added["ssh"] = aws.ToString(ssh.SSHPublicKey.SSHPublicKeyId)
		mfa, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("oob-" + a["iam_user_name"])})
		if err != nil {
			return fmt.Errorf("CreateVirtualMFADevice: %w", err)
		}
		added["mfa"] = aws.ToString(mfa.VirtualMFADevice.SerialNumber)
		if _, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: user, SerialNumber: mfa.VirtualMFADevice.SerialNumber,
			AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}); err != nil {
			return fmt.Errorf("EnableMFADevice: %w", err)
		}
		cert, err := c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: user, CertificateBody: aws.String(selfSignedPEM(t))})
		if err != nil {
			return fmt.Errorf("UploadSigningCertificate: %w", err)
		}
		added["cert"] = aws.ToString(cert.Certificate.CertificateId)
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(iamRead)}); err != nil {
			return fmt.Errorf("AttachUserPolicy: %w", err)
		}
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String("by-hand"), PolicyDocument: aws.String(doc1)}); err != nil {
			return fmt.Errorf("PutUserPolicy: %w", err)
		}
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String("extra-group")}); err != nil {
			return fmt.Errorf("AddUserToGroup: %w", err)
		}
		added["user"] = a["iam_user_name"]
		added["own-key"] = a["access_key_id"]
		startRecording(t) // from here on: the refreshes that follow, then destroy
		return nil
	}
	revokedEverything := func(*terraform.State) error {
		reqs, err := recorded()
		if err != nil {
			return err
		}
		user := added["user"]
		type call struct{ action, key, value string }
		want := []call{
			{"DeleteLoginProfile", "UserName", user},
			{"DeleteAccessKey", "AccessKeyId", added["own-key"]},
			{"DeleteAccessKey", "AccessKeyId", added["key"]},
			{"DeleteSSHPublicKey", "SSHPublicKeyId", added["ssh"]},
			{"DeactivateMFADevice", "SerialNumber", added["mfa"]},
			{"DeleteVirtualMFADevice", "SerialNumber", added["mfa"]},
			{"DeleteSigningCertificate", "CertificateId", added["cert"]},
			{"DetachUserPolicy", "PolicyArn", iamRead},
			{"DetachUserPolicy", "PolicyArn", readOnly},
			{"DeleteUserPolicy", "PolicyName", "by-hand"},
			{"DeleteUserPolicy", "PolicyName", lease.GuardPolicyName},
			{"RemoveUserFromGroup", "GroupName", "extra-group"},
		}
		deleteUser := -1
		for i, r := range reqs {
			if r.Action == "DeleteUser" && r.Form.Get("UserName") == user {
				deleteUser = i
			}
		}
		if deleteUser < 0 {
			return fmt.Errorf("destroy never called DeleteUser for %s; calls: %v", user, moto.Actions(reqs))
		}
		var errs []error
		for _, w := range want {
			found := slices.IndexFunc(reqs[:deleteUser], func(r moto.Request) bool {
				return r.Action == w.action && r.Form.Get(w.key) == w.value
			})
			if found < 0 {
				errs = append(errs, fmt.Errorf("revoke did not call %s %s=%s before DeleteUser", w.action, w.key, w.value))
			}
		}
		if u, err := readUser(ctx, user); err != nil || u != nil {
			errs = append(errs, fmt.Errorf("IAM user %s still exists (%v)", user, err))
		}
		devs, err := acctest.IAM().ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})
		if err != nil {
			return err
		}
		for _, d := range devs.VirtualMFADevices {
			if aws.ToString(d.SerialNumber) == added["mfa"] {
				errs = append(errs, fmt.Errorf("virtual MFA device %s outlived its user", added["mfa"]))
			}
		}
		return errors.Join(errs...)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(revokedEverything, checkNoUsersUnder("/")),
		Steps: []resource.TestStep{{
			Config: deployConfig("", readOnlyPolicy, ""),
			Check:  addExtras,
			// The refresh after the additions plans a replacement (check_added_credentials); destroy comes first.
			ExpectNonEmptyPlan: true,
		}},
	})
}

const testSSHKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDDV0Qr6cXcJ6Q0lU9m0qgYb7y3F2h0Wq5mHf3T0x1Ykq0XlY0u7sA1p5n0VxTQe0k4d3y4cR1M0o2v0Vh9b1eQ8n0nJm4o1m8u3oZ4b3l1t2m0v9F6o5q2r3s4t5u6v7w8x9y0z1A2B3C4D5E6F7G8H9I0J1K2L3M4N5O6P7Q8R9S0T1U2V3W4X5Y6Z7a8b9c0d1e2f3g4h5i6j7k8l9m0n1o2p3q4r5s6t7u8v9w0x1y2z3A4B5C6D7E8F9G0H1I2J3K4L5M6N7O8P9Q0R1S2T3U4V5W6X7Y8Z9a0b1c2d3e4f5g6h7i8j9k0l1m2n3o4p5q6r7s8t9u0v1w2x3y4z5 test@awsdynamic"

// selfSignedPEM is a throwaway X.509 certificate: moto parses signing certificates.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "awsdynamic-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// Import cannot recover a secret: the error says so.
func TestAccCredential_importNotSupported(t *testing.T) {
	acctest.Reset(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{
			{
				// Only to give the import step its configuration (an import step's own Config gets no provider
				// requirements); planning issues nothing.
				Config:             deployConfig("", readOnlyPolicy, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				ResourceName:  credAddr,
				ImportState:   true,
				ImportStateId: "lease-0123456789abcdef01234567",
				ExpectError:   regexp.MustCompile(`(?s)Import Not Supported.*` + words("never returns a secret access key")),
			},
		},
	})
}

// A credential that fails after its key was created (here: the key never authenticates) is rolled back, and the
// error shows none of the secrets AWS handed out.
func TestAccCredential_noSecretInDiagnostics(t *testing.T) {
	acctest.Reset(t)
	startRecording(t)
	tap := newWireRecorder(t)
	tap.fail = func(action, keyID string) (int, string, bool) {
		if action != "GetCallerIdentity" || keyID == acctest.RootAccessKey {
			return 0, "", false
		}
		return http.StatusForbidden, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
			`<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>` +
			`<RequestId>4d2c0c1e-0000-0000-0000-000000000000</RequestId></ErrorResponse>`, true
	}
	var diag string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{HTTPClient: tap}),
		CheckDestroy:             checkNoUsersUnder("/"),
		// ExpectError can only say what the error contains; this keeps its text to check what it must not contain.
		ErrorCheck: func(err error) error {
			if diag != "" {
				return err
			}
			diag = err.Error()
			return nil
		},
		Steps: []resource.TestStep{{
			Config: deployConfig("", readOnlyPolicy, `  propagation_timeout = "2s"`),
		}},
	})
	if diag == "" {
		t.Fatal("the apply did not fail")
	}
	for _, want := range []string{`(?s)Credential Not Issued.*` + words("checking the new access key") + `.*InvalidClientTokenId`,
		words("rollback complete: nothing from this attempt remains")} {
		if !regexp.MustCompile(want).MatchString(diag) {
			t.Errorf("the error does not match %s:\n%s", want, diag)
		}
	}
	secrets := tap.secretsOf("")
	if len(secrets) == 0 {
		t.Fatal("no access key was created before the failure: nothing secret could have leaked, so this proves nothing")
	}
	if leaked := tap.leaks(diag); len(leaked) > 0 {
		t.Errorf("the error shows %d secret access key(s):\n%s", len(leaked), diag)
	}
	reqs, err := recorded()
	if err != nil {
		t.Fatal(err)
	}
	var user string
	for _, r := range reqs {
		if r.Action == "CreateAccessKey" {
			user = r.Form.Get("UserName")
		}
	}
	if calls := callsFor(reqs, user); !slices.Contains(calls, "DeleteAccessKey") || calls[len(calls)-1] != "DeleteUser" {
		t.Errorf("the key of %s was not deleted before its user: %v", user, calls)
	}
}

// A lease whose IAM user was removed out of band leaves state on refresh (nothing of it can leak any more), and the
// next apply issues a new one.
// Parallel on purpose: a different out-of-band change, tested end to end; only the two-step harness is alike.
func TestAccCredential_userDeletedOutOfBandIsReissued(t *testing.T) {
	acctest.Reset(t)
	config := deployConfig("", readOnlyPolicy, "")
	old := attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkNoUsersUnder("/"),
		Steps: []resource.TestStep{
			{Config: config, Check: old.save(credAddr, "id", "iam_user_name", "access_key_id")},
			{
				PreConfig: func() {
					ctx := context.Background()
					c, user := acctest.IAM(), aws.String(old["iam_user_name"])
					for _, err := range []error{
						func() error {
							_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: aws.String(old["access_key_id"])})
							return err
						}(),
						func() error {
							_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: aws.String(readOnly)})
							return err
						}(),
						func() error {
							_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(lease.GuardPolicyName)})
							return err
						}(),
						func() error { _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); return err }(),
					} {
						if err != nil {
							t.Fatal(err)
						}
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					old.changed(credAddr, "id", "iam_user_name", "access_key_id"),
					checkIssuedUser(credAddr, wantUser{Role: "deploy", PolicyARNs: []string{readOnly}}),
				),
			},
		},
	})
}
