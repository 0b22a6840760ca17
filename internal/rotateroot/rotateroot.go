// Package rotateroot is the provider binary's `rotate-root` subcommand, Vault's aws/config/rotate-root for teams
// whose root identity is still a long-lived IAM user key in a shared credentials file: find the user behind the
// profile's key, create a new key, wait until it authenticates, rewrite the profile's two lines atomically, and only
// then delete the old key.
package rotateroot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/cmdaws"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

const usage = "usage: terraform-provider-awsdynamic rotate-root [--profile P] [--credentials-file F] [--dry-run] " +
	"[--region R] [--iam-endpoint URL] [--sts-endpoint URL] [--propagation-timeout 2m]"

// Run executes `rotate-root` with args (without the subcommand name) and returns the exit code: 0 rotated (or, with
// --dry-run, would rotate), 1 refused or failed, 2 bad usage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rotate-root", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "profile of the shared credentials file whose key is rotated (default: AWS_PROFILE, then \"default\")")
	file := fs.String("credentials-file", "", "shared credentials file (default: AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials)")
	dryRun := fs.Bool("dry-run", false, "check and report what would be rotated; change nothing")
	region := fs.String("region", "", "AWS region for STS (default: AWS_REGION, then us-east-1)")
	iamEndpoint := fs.String("iam-endpoint", "", "IAM endpoint URL (default: AWS_ENDPOINT_URL_IAM or AWS's)")
	stsEndpoint := fs.String("sts-endpoint", "", "STS endpoint URL (default: AWS_ENDPOINT_URL_STS or AWS's)")
	timeout := fs.Duration("propagation-timeout", 2*time.Minute, "how long to wait for the new key to authenticate before giving up (and deleting it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if !cmdaws.Parse(fs, args, stderr) {
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "rotate-root: --propagation-timeout must be positive")
		return 2
	}
	o := options{profile: *profile, file: *file, dryRun: *dryRun, timeout: *timeout,
		settings: awsconfig.Settings{Region: *region, IAMEndpoint: *iamEndpoint, STSEndpoint: *stsEndpoint}}
	msg, err := o.run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "rotate-root: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, msg)
	return 0
}

type options struct {
	profile, file string
	dryRun        bool
	timeout       time.Duration
	settings      awsconfig.Settings
}

// refusal is a setup rotate-root does not rotate, with what to do instead.
type refusal struct{ what, instead string }

func (r refusal) Error() string { return r.what + ": " + r.instead }

func (o *options) run(ctx context.Context) (string, error) {
	if o.profile == "" {
		o.profile = os.Getenv("AWS_PROFILE")
	}
	if o.profile == "" {
		o.profile = "default"
	}
	if o.file == "" {
		o.file = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	}
	if o.file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the shared credentials file: %w; pass --credentials-file", err)
		}
		o.file = filepath.Join(home, ".aws", "credentials")
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") != "" {
		return "", refusal{"AWS_ACCESS_KEY_ID is set, so the SDK and Terraform use the key in the environment, not profile " + o.profile,
			"rotate-root rotates a key kept in a shared credentials file; unset AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and " +
				"AWS_SESSION_TOKEN to rotate the profile's key, and rotate a key held in CI variables where it is stored " +
				"(better: replace it with OIDC and the provider's assume_role_with_web_identity)"}
	}
	data, err := os.ReadFile(o.file)
	if err != nil {
		return "", fmt.Errorf("reading the shared credentials file: %w; pass --credentials-file", err)
	}
	p := readProfile(data, o.profile)
	where := fmt.Sprintf("profile %q in %s", o.profile, o.file)
	switch {
	case !p.found:
		return "", refusal{where + " does not exist", "name the profile that holds the key with --profile (or AWS_PROFILE)"}
	case p.token != "":
		return "", refusal{where + " holds temporary credentials (aws_session_token)",
			"they expire by themselves and cannot be rotated; rotate-root is for a long-lived IAM user key"}
	case p.keyID == "" || p.secret == "":
		how := "a role, SSO, credential_process or web identity"
		if len(p.other) > 0 {
			how = strings.Join(p.other, ", ")
		}
		return "", refusal{fmt.Sprintf("%s has %s: %s", where, errNoStaticKey, how),
			"those credentials are short-lived already and there is nothing to rotate; rotate-root rotates the " +
				"aws_access_key_id/aws_secret_access_key of an IAM user"}
	}

	s := o.settings
	s.AccessKey, s.SecretKey = p.keyID, p.secret
	clients, err := awsconfig.New(ctx, s)
	if err != nil {
		return "", err
	}
	id, err := clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("finding who the key %s of %s belongs to (sts:GetCallerIdentity): %w", p.keyID, where, err)
	}
	user, err := iamUserOf(aws.ToString(id.Arn))
	if err != nil {
		return "", err
	}
	keys, err := clients.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return "", fmt.Errorf("listing the access keys of IAM user %q (the key needs iam:ListAccessKeys, iam:CreateAccessKey "+
			"and iam:DeleteAccessKey on its own user): %w", user, err)
	}
	var ids []string
	for _, k := range keys.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	if !slices.Contains(ids, p.keyID) {
		return "", fmt.Errorf("IAM user %q answered for key %s but does not list it among its keys %v; not rotating", user, p.keyID, ids)
	}
	if len(ids) >= lease.MaxAccessKeysPerUser {
		return "", refusal{fmt.Sprintf("IAM user %q already holds %d access keys (%s), IAM's maximum", user, len(ids), strings.Join(ids, ", ")),
			fmt.Sprintf("delete the one that is not %s if nothing uses it, and run again", p.keyID)}
	}
	if o.dryRun {
		return fmt.Sprintf("would rotate access key %s of IAM user %q (%s); nothing changed", p.keyID, user, where), nil
	}

	is := lease.NewIssuer(lease.Options{
		IAM:    clients.IAM,
		STS:    clients.STS,
		NewSTS: func(c aws.CredentialsProvider) lease.STSAPI { return clients.NewSTS(c) },
	})
	creds, err := is.RotateOwnKey(ctx, user, aws.ToString(id.Arn), p.keyID, o.timeout, func(c lease.Credentials) error {
		out, err := rewriteProfile(data, o.profile, c.AccessKeyID, c.SecretAccessKey)
		if err != nil {
			return err
		}
		// The file may have changed since it was read (another rotation, an editor): do not overwrite that.
		now, err := os.ReadFile(o.file)
		if err != nil {
			return err
		}
		if string(now) != string(data) {
			return fmt.Errorf("%s changed while the key was rotated; it was left as it is", o.file)
		}
		return writeAtomically(o.file, out)
	})
	var re *lease.RootKeyRotationError
	if errors.As(err, &re) && re.Committed {
		return "", fmt.Errorf("%w\n%s now holds the new key", err, where)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("rotated access key of IAM user %q (%s): %s replaced by %s, and %s deleted", user, where, p.keyID, creds.AccessKeyID, p.keyID), nil
}

// iamUserOf returns the user name of an IAM user's ARN, and refuses every other identity with what to use instead.
func iamUserOf(identity string) (string, error) {
	a, err := arn.Parse(identity)
	if err != nil {
		return "", fmt.Errorf("sts:GetCallerIdentity answered %q, which is not an ARN", identity)
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return a.Resource[strings.LastIndexByte(a.Resource, '/')+1:], nil
	case a.Service == "iam" && a.Resource == "root":
		return "", refusal{"the key belongs to the account's root user (" + identity + ")",
			"AWS advises the root user have no access keys at all: create an IAM user or role for the provider and delete the root user's key"}
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		return "", refusal{"the credentials are a role session (" + identity + ")", "role sessions expire by themselves; there is no key to rotate"}
	default:
		return "", refusal{"the identity " + identity + " is not an IAM user", "rotate-root rotates an IAM user's access key"}
	}
}
