// Package acctest is the test harness: one moto server per test package, the Terraform-compatible CLI,
// provider factories wired to moto, and SDK clients to check AWS state with.
package acctest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/provider"
)

// Test credentials of moto's root: moto accepts any key unless authorization is on.
const (
	RootAccessKey = "AKIAIOSFODNN7EXAMPLE"
	RootSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	Region        = "us-east-1"
)

// Moto is the package's moto server, set by Main.
var Moto *moto.Server

// Main runs a test package against one moto server: started before the tests, stopped after them always, its log
// printed when a test failed. Without TF_ACC and without AWSDYNAMIC_MOTO_PYTHON, tests that need moto skip.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := prepareEnv(); err != nil {
		fmt.Fprintln(os.Stderr, "acctest:", err)
		return 1
	}
	if os.Getenv(moto.PythonEnv) == "" {
		if os.Getenv("TF_ACC") != "" {
			fmt.Fprintf(os.Stderr, "acctest: TF_ACC is set but %s is not: run `make testacc`, which installs moto\n", moto.PythonEnv)
			return 1
		}
		return m.Run()
	}
	return moto.RunTests(m, "acctest", &Moto)
}

// prepareEnv makes the environment hermetic: no instance metadata lookups, no profile, endpoint or CA bundle from
// the developer's environment (the SDK refuses a custom CA bundle together with a test transport), and a CLI
// config file that exists (this machine points TF_CLI_CONFIG_FILE at a missing file; OpenTofu then prints a
// warning before its version).
func prepareEnv() error {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	if f := os.Getenv("TF_CLI_CONFIG_FILE"); f != "" {
		if _, err := os.Stat(f); err == nil {
			return nil
		}
	}
	dir, err := os.MkdirTemp("", "awsdynamic-cli-")
	if err != nil {
		return err
	}
	f := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		return err
	}
	return os.Setenv("TF_CLI_CONFIG_FILE", f)
}

// PreCheck skips a test that needs moto when the package runs without it, and fails when TF_ACC asks for it.
func PreCheck(t testing.TB) {
	t.Helper()
	if Moto == nil {
		t.Skipf("moto is not running: set %s (make test does)", moto.PythonEnv)
	}
}

// Reset empties moto between tests that need a clean account.
func Reset(t testing.TB) {
	t.Helper()
	PreCheck(t)
	if err := Moto.Reset(); err != nil {
		t.Fatal(err)
	}
}

// AWSConfig is a root aws.Config pointed at moto, for assertions.
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(RootAccessKey, RootSecretKey, ""),
	}
}

// IAM is an IAM client on moto with the root test keys.
func IAM() *iam.Client {
	return iam.NewFromConfig(AWSConfig(), func(o *iam.Options) { o.BaseEndpoint = aws.String(Moto.URL) })
}

// STS is an STS client on moto signing with creds.
func STS(creds aws.CredentialsProvider) *sts.Client {
	cfg := AWSConfig()
	cfg.Credentials = creds
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(Moto.URL) })
}

// ProviderBlock is the provider configuration that points at moto with static root keys; extra is inserted into
// the block verbatim.
func ProviderBlock(extra string) string {
	return ProviderBlockAt(Moto.URL, RootAccessKey, RootSecretKey, extra)
}

// ProviderBlockAt is ProviderBlock with both endpoints at url (a fault proxy in front of moto, say) and the given
// root keys.
func ProviderBlockAt(url, accessKey, secretKey, extra string) string {
	return fmt.Sprintf(`
provider "awsdynamic" {
  access_key = %q
  secret_key = %q
  region     = %q
  endpoints {
    iam = %q
    sts = %q
  }
%s
}
`, accessKey, secretKey, Region, url, url, extra)
}

// Factories serves the provider in-process with the given options (a fake clock, a proxy transport). With a
// clock, AWS's time is that clock's (see AWSTimeFollowsClock), so a test moves time for the provider and for AWS
// alike.
func Factories(o provider.Options) map[string]func() (tfprotov6.ProviderServer, error) {
	return FactoriesWithMotoTime(AWSTimeFollowsClock(o))
}

// FactoriesWithMotoTime serves the provider with o exactly: moto's responses keep their own Date, so a clock in o
// that disagrees with this machine's is a runner whose clock is off.
func FactoriesWithMotoTime(o provider.Options) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"awsdynamic": providerserver.NewProtocol6WithError(provider.NewWithOptions("test", o)()),
	}
}

// AWSTimeFollowsClock makes moto answer with o.Clock's time. The provider takes "now" from the Date of AWS's
// responses, not from its local clock; a test that moves only the local clock would see the move canceled by
// that correction. Stamping every response with the test clock's time moves AWS's clock with it: the measured
// offset stays zero and the provider's "now" is exactly the test clock. Without a clock, o is returned unchanged.
func AWSTimeFollowsClock(o provider.Options) provider.Options {
	if o.Clock == nil {
		return o
	}
	next := o.HTTPClient
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	o.HTTPClient = clockDated{next: next, clock: o.Clock}
	return o
}

type clockDated struct {
	next  aws.HTTPClient
	clock clock.Clock
}

func (c clockDated) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if resp != nil {
		resp.Header.Set("Date", c.clock.Now().UTC().Format(http.TimeFormat))
	}
	return resp, err
}

var versionRe = regexp.MustCompile(`v(\d+)\.(\d+)\.(\d+)`)

// CLIVersion returns the major/minor version of the CLI terraform-plugin-testing will run.
func CLIVersion(path string) (major, minor int, err error) {
	out, err := exec.Command(path, "version").CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("%s version: %w: %s", path, err, out)
	}
	m := versionRe.FindStringSubmatch(string(out))
	if m == nil {
		return 0, 0, fmt.Errorf("%s version printed no version: %s", path, out)
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, nil
}
