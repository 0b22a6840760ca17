package rotateroot

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

// Parallel on purpose: Go wants a TestMain in each package; moto.RunTests is their shared body.
var motoServer *moto.Server

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m, "rotateroot", &motoServer)) }

// The file the tests rotate: another profile before and after, comments, blank lines, CRLF-free LF endings.
const fileTemplate = `# team credentials: managed by hand
[other]
aws_access_key_id = AKIAOTHEROTHEROTHER1
aws_secret_access_key = other/secret/value

; the provider's root identity
[terraform]
region = eu-west-1
aws_access_key_id=KEYID
aws_secret_access_key = SECRET
# keep me

[sso-dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Dev
`

// env is one test's moto user with one key, written into a credentials file as profile "terraform".
type env struct {
	t           *testing.T
	iam         *iam.Client
	user, key   string
	file        string
	original    []byte
	endpointURL string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if motoServer == nil {
		t.Skipf("%s is not set: this test needs a moto server", moto.PythonEnv)
	}
	if err := motoServer.Reset(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	e := &env{t: t, user: "terraform-root", endpointURL: motoServer.URL}
	e.iam = iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")},
		func(o *iam.Options) { o.BaseEndpoint = aws.String(motoServer.URL) })
	ctx := context.Background()
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(e.user)}); err != nil {
		t.Fatal(err)
	}
	k, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(e.user)})
	if err != nil {
		t.Fatal(err)
	}
	e.key = aws.ToString(k.AccessKey.AccessKeyId)
	content := strings.NewReplacer("KEYID", e.key, "SECRET", aws.ToString(k.AccessKey.SecretAccessKey)).Replace(fileTemplate)
	e.file = filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(e.file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	e.original = []byte(content)
	return e
}

// behindProxy puts a fault proxy between the command and moto, closed when the test ends, and returns it.
func (e *env) behindProxy() *faultproxy.Proxy {
	e.t.Helper()
	px, err := faultproxy.Start(motoServer.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(px.Close)
	e.endpointURL = px.URL
	return px
}

func (e *env) run(extra ...string) (code int, stdout, stderr string) {
	args := append([]string{"--profile", "terraform", "--credentials-file", e.file, "--region", "us-east-1",
		"--iam-endpoint", e.endpointURL, "--sts-endpoint", e.endpointURL}, extra...)
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func (e *env) keys() []string {
	e.t.Helper()
	out, err := e.iam.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(e.user)})
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, k := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(k.AccessKeyId))
	}
	sort.Strings(ids)
	return ids
}

func (e *env) fileNow() []byte {
	e.t.Helper()
	b, err := os.ReadFile(e.file)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func TestRun_RotatesTheProfileKeyAndKeepsTheRestOfTheFile(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := e.run()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := readProfile(e.fileNow(), "terraform")
	if p.keyID == e.key || p.keyID == "" || p.secret == "" {
		t.Fatalf("profile after rotation: key %q", p.keyID)
	}
	if got := e.keys(); !slices.Equal(got, []string{p.keyID}) {
		t.Fatalf("the user holds %v, want only the new key %s (the old %s deleted)", got, p.keyID, e.key)
	}
	if !strings.Contains(out, e.key) || !strings.Contains(out, p.keyID) || strings.Contains(out+errOut, p.secret) {
		t.Fatalf("output %q must name both keys and never the secret", out)
	}
	// Every line but the two is as it was, in the same order.
	before, after := lines(e.original), lines(e.fileNow())
	if len(before) != len(after) {
		t.Fatalf("line count %d -> %d", len(before), len(after))
	}
	var changed []string
	for n := range before {
		if before[n] != after[n] {
			changed = append(changed, strings.TrimSpace(after[n]))
		}
	}
	if len(changed) != 2 || changed[0] != "aws_access_key_id="+p.keyID || changed[1] != "aws_secret_access_key = "+p.secret {
		t.Fatalf("changed lines %q", changed)
	}
	info, err := os.Stat(e.file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v: want 0600", info.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(e.file), ".credentials.rotate-*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// The new key works, as the same user.
	id, err := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(p.keyID, p.secret, "")},
		func(o *sts.Options) { o.BaseEndpoint = aws.String(motoServer.URL) }).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasSuffix(aws.ToString(id.Arn), ":user/"+e.user) {
		t.Fatalf("the new key answers as %v, %v", id, err)
	}
}

func TestRun_DryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := e.run("--dry-run")
	if code != 0 || !strings.Contains(out, "would rotate access key "+e.key) {
		t.Fatalf("exit %d, %q %q", code, out, errOut)
	}
	if !bytes.Equal(e.fileNow(), e.original) || !slices.Equal(e.keys(), []string{e.key}) {
		t.Fatal("a dry run changed the file or the keys")
	}
}

func TestRun_RefusesWhatIsNotAStaticIAMUserKey(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		content string
		want    []string
	}{
		{name: "sso profile", args: []string{"--profile", "sso-dev"}, want: []string{"no static access key", "sso_session", "short-lived already"}},
		{name: "missing profile", args: []string{"--profile", "nope"}, want: []string{`profile "nope"`, "does not exist", "--profile"}},
		{name: "environment", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENVENVENVENVENV1"}, want: []string{"AWS_ACCESS_KEY_ID is set", "unset AWS_ACCESS_KEY_ID"}},
		{name: "session token", content: "[terraform]\naws_access_key_id = ASIAX\naws_secret_access_key = s\naws_session_token = t\n",
			want: []string{"temporary credentials", "expire by themselves"}},
		{name: "role profile", content: "[terraform]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = other\n",
			want: []string{"no static access key", "role_arn", "nothing to rotate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			file := e.file
			if tc.content != "" {
				file = filepath.Join(t.TempDir(), "credentials")
				if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			args := append([]string{"--profile", "terraform", "--credentials-file", file, "--iam-endpoint", e.endpointURL, "--sts-endpoint", e.endpointURL}, tc.args...)
			if code := Run(context.Background(), args, &out, &errOut); code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("message %q lacks %q", errOut.String(), w)
				}
			}
		})
	}
	if !bytes.Equal(e.fileNow(), e.original) || !slices.Equal(e.keys(), []string{e.key}) {
		t.Fatal("a refusal changed the file or the keys")
	}
}

func TestRun_RefusesAUserWithTwoKeys(t *testing.T) {
	e := newEnv(t)
	other, err := e.iam.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(e.user)})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := e.run()
	if code != 1 || !strings.Contains(errOut, "IAM's maximum") || !strings.Contains(errOut, aws.ToString(other.AccessKey.AccessKeyId)) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !bytes.Equal(e.fileNow(), e.original) {
		t.Fatal("the file changed")
	}
}

// A failure before the file is written (the new key never authenticates in time) deletes the new key: the file and
// the user's keys are as they were, and the message says the old key is still live.
func TestRun_FailureBeforeTheWriteDeletesTheNewKey(t *testing.T) {
	e := newEnv(t)
	px := e.behindProxy()
	// The identity check is the first GetCallerIdentity; every later one (the new key's) is refused.
	for n := 2; n <= 50; n++ {
		px.Add(faultproxy.Rule{Action: "GetCallerIdentity", Call: n, Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	}
	code, _, errOut := e.run("--propagation-timeout", "300ms")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if px.Count("CreateAccessKey") != 1 || px.Count("DeleteAccessKey") != 1 {
		t.Fatalf("calls %v: want one key created and deleted", px.Counts())
	}
	for _, w := range []string{"checking the new access key", "old key " + e.key + " is still live", "no new key"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("message %q lacks %q", errOut, w)
		}
	}
	if !bytes.Equal(e.fileNow(), e.original) || !slices.Equal(e.keys(), []string{e.key}) {
		t.Fatalf("file or keys changed: keys %v", e.keys())
	}
}

// A failure after the file is written (the old key cannot be deleted) keeps the old key; the file holds the new
// one, and the message names the live key and the one to delete, with the command.
func TestRun_FailureAfterTheWriteKeepsTheOldKeyAndSaysWhichIsLive(t *testing.T) {
	e := newEnv(t)
	px := e.behindProxy()
	px.Add(faultproxy.Rule{Action: "DeleteAccessKey", Kind: faultproxy.Error, Fault: faultproxy.AccessDenied})
	code, _, errOut := e.run()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	p := readProfile(e.fileNow(), "terraform")
	if p.keyID == e.key {
		t.Fatal("the file still holds the old key")
	}
	for _, w := range []string{"new key " + p.keyID + " is live and saved", "old key " + e.key + " could not be deleted",
		"aws iam delete-access-key --user-name " + e.user + " --access-key-id " + e.key, `profile "terraform"`} {
		if !strings.Contains(errOut, w) {
			t.Errorf("message %q lacks %q", errOut, w)
		}
	}
	if strings.Contains(errOut, p.secret) {
		t.Fatal("the message shows the new secret")
	}
	if got, want := e.keys(), sortedIDs(e.key, p.keyID); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want both %v", got, want)
	}
}

// A CreateAccessKey whose answer is lost (moto made the key, the client never heard; the SDK retries and IAM's
// two-key limit refuses the retry) leaves no unknown key.
func TestRun_LostCreateAnswerLeavesNoUnknownKey(t *testing.T) {
	e := newEnv(t)
	px := e.behindProxy()
	px.Add(faultproxy.Rule{Action: "CreateAccessKey", Call: 1, Kind: faultproxy.Cut, Times: 1})
	code, _, errOut := e.run()
	t.Log(errOut)
	if code == 0 {
		// The SDK's retry may also succeed if the cut key was already removed; then the rotation is complete.
		p := readProfile(e.fileNow(), "terraform")
		if got := e.keys(); !slices.Equal(got, []string{p.keyID}) {
			t.Fatalf("keys %v, want only the file's %s", got, p.keyID)
		}
		return
	}
	if !bytes.Equal(e.fileNow(), e.original) || !slices.Equal(e.keys(), []string{e.key}) {
		t.Fatalf("keys %v: want only the old key %s; file changed: %v", e.keys(), e.key, !bytes.Equal(e.fileNow(), e.original))
	}
}

func TestRun_BadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"extra"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage:") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func TestRewriteProfile_KeepsCRLFAndRefusesDuplicates(t *testing.T) {
	in := "[a]\r\naws_access_key_id = OLD\r\naws_secret_access_key=OLDS\r\n[b]\r\naws_access_key_id = B\r\n"
	out, err := rewriteProfile([]byte(in), "a", "NEW", "NEWS")
	if err != nil {
		t.Fatal(err)
	}
	if want := "[a]\r\naws_access_key_id = NEW\r\naws_secret_access_key=NEWS\r\n[b]\r\naws_access_key_id = B\r\n"; string(out) != want {
		t.Fatalf("got %q", out)
	}
	if _, err := rewriteProfile([]byte("[a]\naws_access_key_id = 1\naws_access_key_id = 2\naws_secret_access_key = s\n"), "a", "N", "S"); err == nil {
		t.Fatal("a profile setting the key twice was rewritten")
	}
}
