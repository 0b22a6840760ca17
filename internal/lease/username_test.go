package lease

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// vaultDefaultUsernameTemplate is Vault's AWS secrets engine default, copied verbatim: it must work unchanged.
const vaultDefaultUsernameTemplate = `{{ if (eq .Type "STS") }}{{ printf "vault-%s-%s"  (unix_time) (random 20) | truncate 32 }}{{ else }}{{ printf "vault-%s-%s-%s" (printf "%s-%s" (.DisplayName) (.PolicyName) | truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}`

var usernameTestTime = time.Date(2023, 11, 15, 1, 13, 20, 123456789, time.FixedZone("CET", 3600)) // 1700007200.123 UTC 00:13:20

// countingReader yields 0, 1, 2, ... 255, 0, 1, ...
type countingReader struct{ next byte }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

// fixedNamer parses tmpl with a fixed clock and a predictable source of "random" bytes.
func fixedNamer(t *testing.T, tmpl string, random func() *bytes.Reader) *Namer {
	t.Helper()
	n, err := NewNamer(tmpl)
	if err != nil {
		t.Fatalf("NewNamer(%q) error = %v", tmpl, err)
	}
	n.now = func() time.Time { return usernameTestTime }
	if random != nil {
		n.random = random()
	} else {
		n.random = &countingReader{}
	}
	return n
}

func TestNamer_TemplateFunctionsMatchVault(t *testing.T) {
	data := NameData{RoleName: "deploy", DisplayName: "ci", Type: "IAM"}
	tests := []struct {
		name    string
		tmpl    string
		random  []byte // nil: 0, 1, 2, ...
		want    string
		wantErr string
	}{
		{name: "truncate cuts", tmpl: `{{ "abcdef" | truncate 3 }}`, want: "abc"},
		{name: "truncate keeps short", tmpl: `{{ "ab" | truncate 3 }}`, want: "ab"},
		{name: "truncate exact", tmpl: `{{ "abc" | truncate 3 }}`, want: "abc"},
		{name: "truncate never splits a character", tmpl: `{{ "héllo" | truncate 2 }}`, want: "h"},
		{name: "truncate zero", tmpl: `{{ "abc" | truncate 0 }}`, wantErr: "max length must be > 0"},
		{name: "truncate_sha256 hashes the part cut off", tmpl: `{{ "abcdefghijklmnopqrstuvwxyz" | truncate_sha256 16 }}`,
			want: "abcdefgh44991c89"},
		{name: "truncate_sha256 keeps short", tmpl: `{{ "abcdefghijklmnop" | truncate_sha256 16 }}`, want: "abcdefghijklmnop"},
		{name: "truncate_sha256 needs more than 8", tmpl: `{{ "abcdefghijk" | truncate_sha256 8 }}`, wantErr: "max length must be > 8"},
		{name: "uppercase", tmpl: `{{ .RoleName | uppercase }}`, want: "DEPLOY"},
		{name: "lowercase", tmpl: `{{ "MiXeD" | lowercase }}`, want: "mixed"},
		{name: "replace takes find, replacement, then the value", tmpl: `{{ "a-b-c" | replace "-" "_" }}`, want: "a_b_c"},
		{name: "sha256 is hex", tmpl: `{{ "hello" | sha256 }}`, want: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{name: "base64 is standard encoding", tmpl: `{{ "hello" | base64 }}`, want: "aGVsbG8="},
		{name: "unix_time is seconds", tmpl: `{{ unix_time }}`, want: "1700007200"},
		{name: "unix_time_millis", tmpl: `{{ unix_time_millis }}`, want: "1700007200123"},
		{name: "timestamp is UTC", tmpl: `{{ timestamp "2006-01-02T15:04:05Z07:00" }}`, want: "2023-11-15T00:13:20Z"},
		{name: "uuid is version 4", tmpl: `{{ uuid }}`, random: make([]byte, 16), want: "00000000-0000-4000-8000-000000000000"},
		{name: "uuid with short randomness", tmpl: `{{ uuid }}`, random: make([]byte, 3), wantErr: "uuid: reading random bytes"},
		{name: "random maps bytes onto letters and digits", tmpl: `{{ random 5 }}`, want: "ABCDE"},
		{name: "random redraws biased bytes", tmpl: `{{ random 3 }}`, random: []byte{255, 248, 0, 61, 62, 0, 0, 0, 0, 0, 0}, want: "A9A"},
		{name: "random zero", tmpl: `[{{ random 0 }}]`, want: "[]"},
		{name: "random negative", tmpl: `{{ random -1 }}`, wantErr: "length must be >= 0"},
		{name: "random huge", tmpl: `{{ random 100000 }}`, wantErr: "at most 1024"},
		{name: "iam_safe", tmpl: `{{ "a b/c!d_é" | iam_safe }}`, want: "a-b-c-d_-"},
		{name: "pipeline as Vault writes it", tmpl: `{{ printf "vault-%s" (unix_time) | truncate 9 }}`, want: "vault-170"},
		{name: "PolicyName is the role name", tmpl: `{{ .PolicyName }}/{{ .RoleName }}/{{ .DisplayName }}/{{ .Type }}`, want: "deploy/deploy/ci/IAM"},
		{name: "wrong argument type", tmpl: `{{ .RoleName | truncate "3" }}`, wantErr: "rendering username template"},
		{name: "unknown field", tmpl: `{{ .Nope }}`, wantErr: "can't evaluate field Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src func() *bytes.Reader
			if tt.random != nil {
				src = func() *bytes.Reader { return bytes.NewReader(tt.random) }
			}
			n := fixedNamer(t, tt.tmpl, src)
			got, err := n.Render(data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render() = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Render() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Render() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewNamer_ParseErrorSaysSo(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{`{{ .RoleName | nosuchfunc }}`, `function "nosuchfunc" not defined`},
		{`{{ .RoleName `, "unclosed action"},
		{`{{ if .RoleName }}x`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			n, err := NewNamer(tt.tmpl)
			if err == nil {
				t.Fatalf("NewNamer() = %v, want an error", n)
			}
			for _, w := range []string{"username template parse error", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewNamer() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestNamer_VaultDefaultTemplateWorksUnchanged(t *testing.T) {
	n := fixedNamer(t, vaultDefaultUsernameTemplate, nil)

	iam, err := n.Render(NameData{RoleName: "deploy", DisplayName: "token-ci", Type: "IAM"})
	if err != nil {
		t.Fatal(err)
	}
	// Vault puts the display name first, then the policy (role) name.
	if want := "vault-token-ci-deploy-1700007200-ABCDEFGHIJKLMNOPQRST"; iam != want {
		t.Errorf("IAM: Render() = %q, want %q", iam, want)
	}

	n.random = &countingReader{}
	sts, err := n.Render(NameData{RoleName: "deploy", DisplayName: "token-ci", Type: "STS"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "vault-1700007200-ABCDEFGHIJKLMNO"; sts != want {
		t.Errorf("STS: Render() = %q, want %q", sts, want)
	}
	if err := n.Check(); err != nil {
		t.Errorf("Check() = %v, want nil", err)
	}
}

func TestDefaultUsernameTemplate_AlwaysAValidName(t *testing.T) {
	long := strings.Repeat("r", 64)
	iamShape := regexp.MustCompile(`^awsdyn-([A-Za-z0-9+=,.@_-]{0,32})-1700007200-([A-Za-z0-9]{12})$`)
	stsShape := regexp.MustCompile(`^awsdyn-([A-Za-z0-9+=,.@_-]{0,12})-([A-Za-z0-9]{12})$`)
	tests := []struct {
		name     string
		data     NameData
		wantName string // the middle part, after "awsdyn-"
	}{
		{"role only", NameData{RoleName: "deploy", Type: "IAM"}, "deploy"},
		{"role and display name", NameData{RoleName: "deploy", DisplayName: "ci", Type: "IAM"}, "deploy-ci"},
		{"64-character role name", NameData{RoleName: long, Type: "IAM"}, strings.Repeat("r", 32)},
		{"64-character role and display name", NameData{RoleName: long, DisplayName: long, Type: "IAM"}, strings.Repeat("r", 32)},
		{"characters IAM rejects", NameData{RoleName: "my role/ü", DisplayName: "a:b", Type: "IAM"}, "my-role---a-b"},
		{"empty type is treated as IAM", NameData{RoleName: "deploy"}, "deploy"},
		{"STS", NameData{RoleName: "deploy", DisplayName: "ci", Type: "STS"}, "deploy"},
		{"STS long role", NameData{RoleName: long, Type: "STS"}, strings.Repeat("r", 12)},
		{"STS unsafe role", NameData{RoleName: "a b*c", Type: "STS"}, "a-b-c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := fixedNamer(t, "", nil)
			got, err := n.Render(tt.data)
			if err != nil {
				t.Fatalf("Render() error = %v", err)
			}
			shape, validate := iamShape, ValidateUserName
			if tt.data.Type == "STS" {
				shape, validate = stsShape, ValidateFederatedName
			}
			if err := validate(got); err != nil {
				t.Errorf("Render() = %q is not a valid name: %v", got, err)
			}
			m := shape.FindStringSubmatch(got)
			if m == nil {
				t.Fatalf("Render() = %q, want it to match %s", got, shape)
			}
			if m[1] != tt.wantName {
				t.Errorf("name part = %q, want %q (whole name %q)", m[1], tt.wantName, got)
			}
			if m[2] != "ABCDEFGHIJKL" {
				t.Errorf("random part = %q, want all 12 random characters kept", m[2])
			}
		})
	}
}

func TestNamer_RenderIsRandomAndConcurrent(t *testing.T) {
	n, err := NewNamer("")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 32
	names := make([]string, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			names[i], _ = n.Render(NameData{RoleName: "deploy", Type: "IAM"})
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, name := range names {
		if err := ValidateUserName(name); err != nil {
			t.Fatalf("Render() = %q: %v", name, err)
		}
		if seen[name] {
			t.Fatalf("Render() returned %q twice: the random part is not random", name)
		}
		seen[name] = true
	}
}

func TestNamer_RenderTrimsSurroundingWhiteSpace(t *testing.T) {
	n := fixedNamer(t, "\n  {{ .RoleName }}-x\n", nil) // as a Terraform heredoc would give it
	got, err := n.Render(NameData{RoleName: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if got != "deploy-x" {
		t.Errorf("Render() = %q, want %q", got, "deploy-x")
	}
}

func TestNamer_Check(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		want []string // empty: Check must pass
	}{
		{name: "default", tmpl: ""},
		{name: "vault default", tmpl: vaultDefaultUsernameTemplate},
		{name: "simple", tmpl: `{{ .RoleName }}-{{ unix_time }}`},
		{name: "sha-truncated", tmpl: `{{ printf "%s-%s-%s" .RoleName .DisplayName (random 60) | truncate_sha256 64 }}`},
		{name: "too long", tmpl: `{{ .RoleName }}-{{ .DisplayName }}-{{ random 60 }}`,
			want: []string{`renders "sample-role-name-sample-display-`, "sample role", "at most 64", "| truncate 64"}},
		{name: "space", tmpl: `{{ .RoleName }} {{ .DisplayName }}`,
			want: []string{`renders "sample-role-name sample-display"`, "' '", `| replace " " "-"`}},
		{name: "slash and colon", tmpl: `{{ .RoleName }}/{{ .Type }}:x`, want: []string{"'/' and ':'"}},
		{name: "empty", tmpl: `{{ if eq .Type "STS" }}x{{ end }}`, want: []string{`renders ""`, "must not be empty", "make the template produce a name"}},
		{name: "unknown field", tmpl: `{{ .UserName }}`, want: []string{"cannot be rendered", "sample-role-name", "UserName"}},
		{name: "unknown field in STS branch", tmpl: `{{ if eq .Type "STS" }}{{ .Nope }}{{ else }}ok{{ end }}`,
			want: []string{`type "STS"`, "Nope"}},
		{name: "function error", tmpl: `{{ .RoleName | truncate 0 }}`, want: []string{"cannot be rendered", "max length must be > 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := NewNamer(tt.tmpl)
			if err != nil {
				t.Fatalf("NewNamer() error = %v", err)
			}
			assertErrContains(t, "Check()", n.Check(), tt.want)
		})
	}
}
