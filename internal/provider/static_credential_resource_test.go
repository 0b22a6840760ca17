package provider_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

const staticAddr = "awsdynamic_static_credential.smtp"

// checkUserKeys checks that user holds exactly its own keys plus, when addr is set, the key in addr's state, and
// that its own policy is still there.
func checkUserKeys(user string, own []string, addr string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		want := slices.Clone(own)
		if addr != "" {
			a, err := stateAttrs(s, addr)
			if err != nil {
				return err
			}
			want = append(want, a["access_key_id"])
		}
		sort.Strings(want)
		got, err := keysOfUser(user)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("IAM user %s holds keys %v, want %v", user, got, want)
		}
		if _, err := acctest.IAM().GetUserPolicy(context.Background(), &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("own")}); err != nil {
			return fmt.Errorf("IAM user %s or its own policy is gone: %v", user, err)
		}
		return nil
	}
}

// checkStaticKeyWorks authenticates with the key and secret in state: it must answer as the user.
func checkStaticKeyWorks(addr, user string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		a, err := stateAttrs(s, addr)
		if err != nil {
			return err
		}
		if a["secret_access_key"] == "" || a["env.AWS_SECRET_ACCESS_KEY"] != a["secret_access_key"] || a["env.AWS_ACCESS_KEY_ID"] != a["access_key_id"] {
			return fmt.Errorf("%s: secret or env missing", addr)
		}
		out, err := acctest.STS(credentials.NewStaticCredentialsProvider(a["access_key_id"], a["secret_access_key"], "")).
			GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			return err
		}
		if !strings.HasSuffix(aws.ToString(out.Arn), ":user/"+user) {
			return fmt.Errorf("the key in state answers as %s, not as %s", aws.ToString(out.Arn), user)
		}
		return nil
	}
}

// checkKeyGone checks that a key saved earlier no longer exists on user.
func checkKeyGone(c attrCapture, user string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := keysOfUser(user)
		if err != nil {
			return err
		}
		if slices.Contains(got, c["access_key_id"]) {
			return fmt.Errorf("the previous key %s is still on %s", c["access_key_id"], user)
		}
		return nil
	}
}

func staticConfig(user, period string) string {
	return acctest.ProviderBlock("") + fmt.Sprintf(`
resource "awsdynamic_static_credential" "smtp" {
  username        = %q
  rotation_period = %q
}
`, user, period)
}

func TestAccStaticCredential_lifecycle(t *testing.T) {
	acctest.Reset(t)
	own := existingUser(t, "legacy-smtp", 1)
	otherOwn := existingUser(t, "legacy-smtp-2", 0)
	t0 := time.Now().UTC().Truncate(time.Second)
	fc := clock.NewFake(t0)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	first, second := attrCapture{}, attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkUserKeys("legacy-smtp", own, ""), checkUserKeys("legacy-smtp-2", otherOwn, "")),
		Steps: []resource.TestStep{
			{
				Config: staticConfig("legacy-smtp", "1h"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(staticAddr, "id", "legacy-smtp"),
					resource.TestCheckResourceAttr(staticAddr, "rotated_at", at(0)),
					resource.TestCheckResourceAttr(staticAddr, "next_rotation_at", at(time.Hour)),
					resource.TestMatchResourceAttr(staticAddr, "user_arn", regexp.MustCompile(`:user/legacy-smtp$`)),
					resource.TestCheckResourceAttrSet(staticAddr, "user_id"),
					resource.TestCheckResourceAttrWith(staticAddr, "credential_process", func(v string) error {
						if strings.Contains(v, "Expiration") || !strings.Contains(v, `"Version":1`) {
							return fmt.Errorf("credential_process %s", "has an Expiration or no Version")
						}
						return nil
					}),
					checkUserKeys("legacy-smtp", own, staticAddr),
					checkStaticKeyWorks(staticAddr, "legacy-smtp"),
					first.save(staticAddr, "access_key_id"),
				),
			},
			{
				// Before next_rotation_at: nothing to do.
				PreConfig: func() { fc.Set(t0.Add(59 * time.Minute)) },
				Config:    staticConfig("legacy-smtp", "1h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionNoop),
				}},
				Check: first.same(staticAddr, "access_key_id"),
			},
			{
				// Past it: an in-place update with an unknown key; the previous key is gone, the user's own kept.
				PreConfig: func() { fc.Set(t0.Add(61 * time.Minute)) },
				Config:    staticConfig("legacy-smtp", "1h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(staticAddr, tfjsonpath.New("access_key_id")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					first.changed(staticAddr, "access_key_id"),
					checkKeyGone(first, "legacy-smtp"),
					checkUserKeys("legacy-smtp", own, staticAddr),
					checkStaticKeyWorks(staticAddr, "legacy-smtp"),
					resource.TestCheckResourceAttr(staticAddr, "rotated_at", at(61*time.Minute)),
					resource.TestCheckResourceAttr(staticAddr, "next_rotation_at", at(2*time.Hour+time.Minute)),
					second.save(staticAddr, "access_key_id"),
				),
			},
			{
				// A longer period moves next_rotation_at in place; the key stays.
				Config: staticConfig("legacy-smtp", "3h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(staticAddr, tfjsonpath.New("access_key_id"), knownvalue.StringFunc(func(v string) error {
						if v != second["access_key_id"] {
							return fmt.Errorf("planned key %s, want the current %s", v, second["access_key_id"])
						}
						return nil
					})),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					second.same(staticAddr, "access_key_id"),
					resource.TestCheckResourceAttr(staticAddr, "next_rotation_at", at(4*time.Hour+time.Minute)),
				),
			},
			{
				// Another user: a replacement; the first user keeps only its own keys.
				Config: staticConfig("legacy-smtp-2", "3h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionReplace),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkUserKeys("legacy-smtp", own, ""),
					checkUserKeys("legacy-smtp-2", otherOwn, staticAddr),
				),
			},
		},
	})
}

func TestAccStaticCredential_twoKeysDeletesTheOlder(t *testing.T) {
	acctest.Reset(t)
	own := existingUser(t, "full-user", 2)
	fc := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy:             checkUserKeys("full-user", own[1:], ""),
		Steps: []resource.TestStep{{
			Config: staticConfig("full-user", "24h"),
			// The older key went to make room (Vault's rule, with a warning); the newer one stays.
			Check: resource.ComposeAggregateTestCheckFunc(
				checkUserKeys("full-user", own[1:], staticAddr),
				checkStaticKeyWorks(staticAddr, "full-user"),
			),
		}},
	})
}

func TestAccStaticCredential_missingUser(t *testing.T) {
	acctest.Reset(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		Steps: []resource.TestStep{{
			Config:      staticConfig("nobody", "24h"),
			ExpectError: regexp.MustCompile(`(?s)IAM User Not Found.*"nobody" does not exist.*create the user first`),
		}, {
			Config:      staticConfig("nobody", "30s"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Rotation Period Too Short.*at least 1m`),
		}},
	})
}

func TestAccStaticCredential_recreatedUserIsRefused(t *testing.T) {
	acctest.Reset(t)
	existingUser(t, "svc", 0)
	var newOwn []string
	fc := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		// Destroy deleted nothing on the new user.
		CheckDestroy: func(s *terraform.State) error { return checkUserKeys("svc", newOwn, "")(s) },
		Steps: []resource.TestStep{
			{Config: staticConfig("svc", "1h")},
			{
				PreConfig: func() {
					ctx := context.Background()
					c := acctest.IAM()
					keys, _ := keysOfUser("svc")
					for _, id := range keys {
						if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("svc"), AccessKeyId: aws.String(id)}); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("svc"), PolicyName: aws.String("own")}); err != nil {
						t.Fatal(err)
					}
					if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("svc")}); err != nil {
						t.Fatal(err)
					}
					newOwn = existingUser(t, "svc", 1)
					fc.Advance(2 * time.Hour) // rotation is due, and must still not happen
					startRecording(t)
				},
				Config:      staticConfig("svc", "1h"),
				ExpectError: regexp.MustCompile(`(?s)IAM User Re-created.*does not touch a user it was not bound to`),
				Check:       func(*terraform.State) error { return nil },
			},
			{
				// Nothing was written to the new user while the plan was refused, and plans keep refusing.
				PreConfig: func() {
					reqs, err := recorded()
					if err != nil {
						t.Fatal(err)
					}
					if w := iamWrites(reqs); len(w) > 0 {
						t.Fatalf("writes while refusing: %v", w)
					}
					if err := checkUserKeys("svc", newOwn, "")(nil); err != nil {
						t.Fatal(err)
					}
				},
				Config:      staticConfig("svc", "1h"),
				ExpectError: regexp.MustCompile(`IAM User Re-created`),
			},
		},
	})
}

func TestAccStaticCredential_importTakesOverNoKey(t *testing.T) {
	acctest.Reset(t)
	own := existingUser(t, "imported", 1)
	t0 := time.Now().UTC().Truncate(time.Second)
	fc := clock.NewFake(t0)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy:             checkUserKeys("imported", own, ""),
		Steps: []resource.TestStep{
			{
				// Only to give the import step its configuration (an import step's own Config gets no provider
				// requirements); planning creates nothing.
				Config:             staticConfig("imported", "24h"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				ResourceName:       staticAddr,
				ImportState:        true,
				ImportStateId:      "imported",
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 || states[0].Attributes["access_key_id"] != "" || states[0].Attributes["user_id"] == "" {
						return fmt.Errorf("imported state %v: want the user bound and no key", states)
					}
					return nil
				},
			},
			{
				// The user's own key was not taken over; the apply creates the provider's own.
				Config: staticConfig("imported", "24h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkUserKeys("imported", own, staticAddr),
					checkStaticKeyWorks(staticAddr, "imported"),
					resource.TestCheckResourceAttr(staticAddr, "rotated_at", t0.Format(time.RFC3339)),
				),
			},
		},
	})
}

// TestAccStaticCredential_assumeRole: moto's AssumeRole works for any role (it does not check trust policies), so
// this asserts the request: AssumeRole carried the role ARN, external ID and session name.
func TestAccStaticCredential_assumeRole(t *testing.T) {
	acctest.Reset(t)
	own := existingUser(t, "cross", 1)
	const roleARN = "arn:aws:iam::123456789012:role/key-rotator"
	config := acctest.ProviderBlock("") + `
resource "awsdynamic_static_credential" "smtp" {
  username                 = "cross"
  rotation_period          = "24h"
  assume_role_arn          = "` + roleARN + `"
  assume_role_session_name = "rotator"
  external_id              = "ext-4242"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{}),
		CheckDestroy:             checkUserKeys("cross", own, ""),
		Steps: []resource.TestStep{{
			PreConfig: func() { startRecording(t) },
			Config:    config,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkUserKeys("cross", own, staticAddr),
				func(*terraform.State) error {
					reqs, err := recorded()
					if err != nil {
						return err
					}
					var assumed int
					for _, r := range reqs {
						if r.Action == "AssumeRole" {
							assumed++
							if r.Form.Get("RoleArn") != roleARN || r.Form.Get("ExternalId") != "ext-4242" || r.Form.Get("RoleSessionName") != "rotator" {
								return fmt.Errorf("AssumeRole request %v", r.Form)
							}
						}
					}
					if assumed == 0 {
						return fmt.Errorf("no AssumeRole call among %v", iamWrites(reqs))
					}
					return nil
				},
			),
		}},
	})
}

// A rotation whose new key never authenticates keeps the working key in state and deletes the new one; a rotation
// whose previous key cannot be deleted records it, and destroy deletes it. Through the fault proxy, for a user with
// no key of its own (so that the provider's two keys can coexist).
func TestAccStaticCredential_failedRotationsLeaveNoUnknownKey(t *testing.T) {
	acctest.Reset(t)
	existingUser(t, "rotating", 0)
	proxy := startFaultProxy(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	fc := clock.NewFake(t0)
	// No credential validation: every GetCallerIdentity the proxy sees is a propagation check of a new key.
	config := proxiedProvider(proxy.URL, "  skip_credentials_validation = true") + `
resource "awsdynamic_static_credential" "smtp" {
  username            = "rotating"
  rotation_period     = "1h"
  propagation_timeout = "2s"
}
`
	first, second := attrCapture{}, attrCapture{}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.Factories(provider.Options{Clock: fc}),
		CheckDestroy:             checkUserKeys("rotating", nil, ""),
		Steps: []resource.TestStep{
			{Config: config, Check: first.save(staticAddr, "access_key_id")},
			{
				PreConfig: func() {
					fc.Set(t0.Add(2 * time.Hour))
					proxy.Reset()
					proxy.Add(faultproxy.Rule{Action: "GetCallerIdentity", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
				},
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)Static Credential Not Rotated.*` + words("the new key was deleted and the previous key still works")),
			},
			{
				PreConfig: func() {
					if got, err := keysOfUser("rotating"); err != nil || !slices.Equal(got, []string{first["access_key_id"]}) {
						t.Fatalf("after the failed rotation the user holds %v (%v), want only %s", got, err, first["access_key_id"])
					}
					proxy.Reset()
					proxy.Add(faultproxy.Rule{Action: "DeleteAccessKey", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied, Times: 1})
				},
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					first.changed(staticAddr, "access_key_id"),
					checkStaticKeyWorks(staticAddr, "rotating"),
					second.save(staticAddr, "access_key_id"),
					func(*terraform.State) error {
						got, err := keysOfUser("rotating")
						if err != nil {
							return err
						}
						if want := sortedIDs(first["access_key_id"], second["access_key_id"]); !slices.Equal(got, want) {
							return fmt.Errorf("keys %v, want the recorded previous key and the new one %v", got, want)
						}
						return nil
					},
				),
			},
			{
				PreConfig: proxy.Reset,
				Config:    config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(staticAddr, plancheck.ResourceActionNoop),
				}},
			},
		},
	})
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}
