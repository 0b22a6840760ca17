package lease

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// DefaultUsernameTemplate names what a lease creates when the role sets no username_template.
//
// For IAM users: "awsdyn-" + role name (+ "-" + display name when set) made IAM-safe and cut to 32 characters +
// "-" + unix time (10 digits) + "-" + 12 random characters: at most 7+32+1+10+1+12 = 63, so the random part is never
// cut, and the final truncate only guards against a clock past the year 2286.
// For STS ("Type" is "STS"; GetFederationToken allows 32 characters): "awsdyn-" + role name cut to 12 + "-" + 12
// random characters, at most 32.
//
// iam_safe is not one of Vault's functions (see usernameFuncs): a role or display name may hold characters an IAM
// name may not, and none of Vault's functions can replace every such character.
const DefaultUsernameTemplate = `{{ if eq .Type "STS" -}}` +
	`{{ printf "awsdyn-%s-%s" (.RoleName | iam_safe | truncate 12) (random 12) | truncate 32 }}` +
	`{{- else -}}` +
	`{{ $name := .RoleName }}{{ if .DisplayName }}{{ $name = printf "%s-%s" .RoleName .DisplayName }}{{ end -}}` +
	`{{ printf "awsdyn-%s-%s-%s" ($name | iam_safe | truncate 32) (unix_time) (random 12) | truncate 64 }}` +
	`{{- end }}`

// NameData is what a username template can refer to.
type NameData struct {
	RoleName    string
	DisplayName string
	Type        string // "IAM" for an IAM user, "STS" for an STS session, as Vault's AWS engine sets it
}

// usernameTemplateData is what templates see: NameData plus PolicyName, Vault's name for the role, so that a
// template copied from Vault's AWS engine works unchanged.
type usernameTemplateData struct {
	RoleName    string
	DisplayName string
	PolicyName  string
	Type        string
}

// Namer renders a username template. It is safe for concurrent use.
type Namer struct {
	tmpl *template.Template
	// now and random are the clock and the source of randomness the template functions use; tests replace them.
	now    func() time.Time
	random io.Reader
}

// usernameMaxRandom bounds random n, so that a typo such as random 1000000000 fails instead of exhausting memory.
const usernameMaxRandom = 1024

// NewNamer parses tmpl, or DefaultUsernameTemplate when tmpl is empty.
func NewNamer(tmpl string) (*Namer, error) {
	if tmpl == "" {
		tmpl = DefaultUsernameTemplate
	}
	n := &Namer{now: time.Now, random: rand.Reader}
	t, err := template.New("username_template").Funcs(n.usernameFuncs()).Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("username template parse error: %w", err)
	}
	n.tmpl = t
	return n, nil
}

// Render executes the template for d. White space around the result is dropped, because a template written as a
// Terraform heredoc ends with a newline; anything else is returned as rendered, for the caller to validate against
// the limit of the name it is used for (ValidateUserName, ValidateFederatedName, ValidateRoleSessionName).
func (n *Namer) Render(d NameData) (string, error) {
	var b strings.Builder
	err := n.tmpl.Execute(&b, usernameTemplateData{
		RoleName:    d.RoleName,
		DisplayName: d.DisplayName,
		PolicyName:  d.RoleName,
		Type:        d.Type,
	})
	if err != nil {
		return "", fmt.Errorf("rendering username template: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Check renders the template with sample data and reports whether the result would be accepted as an IAM user name,
// so that a bad template fails at plan time rather than when a credential is issued. The STS branch, if the template
// has one, is rendered too, to catch mistakes such as a misspelled field that only show when a template runs.
func (n *Namer) Check() error {
	sample := NameData{RoleName: "sample-role-name", DisplayName: "sample-display", Type: "IAM"}
	about := fmt.Sprintf("for the sample role %q with display name %q and type %q",
		sample.RoleName, sample.DisplayName, sample.Type)

	name, err := n.Render(sample)
	if err != nil {
		return fmt.Errorf("username template cannot be rendered %s: %w", about, err)
	}
	sts := sample
	sts.Type = "STS"
	if _, err := n.Render(sts); err != nil {
		return fmt.Errorf("username template cannot be rendered for type \"STS\": %w", err)
	}

	if err := ValidateUserName(name); err != nil {
		var fix string
		switch l := utf8.RuneCountInString(name); {
		case l == 0:
			fix = "make the template produce a name, e.g. " + `{{ printf "awsdyn-%s" .RoleName | truncate 64 }}`
		case l > MaxUserNameLen:
			fix = fmt.Sprintf("end the template with | truncate %d, or use | truncate_sha256 %d to keep names "+
				"that differ only at the end distinct", MaxUserNameLen, MaxUserNameLen)
		default:
			fix = `remove or replace those characters, e.g. with | replace " " "-"`
		}
		return fmt.Errorf("username template renders %q %s, which IAM rejects: %w; %s", name, about, err, fix)
	}
	return nil
}

// usernameFuncs mirrors the functions of Vault's sdk/helper/template, with the same names and argument order: the
// value a function transforms is its last argument, so that it can be piped: {{ .RoleName | truncate 32 }}.
// Differences from Vault: timestamp formats UTC (Vault uses the server's local zone), truncate and truncate_sha256
// never cut inside a UTF-8 character, random refuses more than usernameMaxRandom characters, and iam_safe is ours.
func (n *Namer) usernameFuncs() template.FuncMap {
	return template.FuncMap{
		"random":           n.usernameRandom,
		"truncate":         usernameTruncate,
		"truncate_sha256":  usernameTruncateSHA256,
		"uppercase":        strings.ToUpper,
		"lowercase":        strings.ToLower,
		"replace":          usernameReplace,
		"sha256":           usernameSHA256,
		"base64":           usernameBase64,
		"unix_time":        func() string { return strconv.FormatInt(n.now().Unix(), 10) },
		"unix_time_millis": func() string { return strconv.FormatInt(n.now().UnixMilli(), 10) },
		"timestamp":        func(layout string) string { return n.now().UTC().Format(layout) },
		"uuid":             n.usernameUUID,
		"iam_safe":         usernameIAMSafe,
	}
}

// usernameTruncate keeps at most maxLen bytes of s, as Vault does, backing off to a character boundary.
func usernameTruncate(maxLen int, s string) (string, error) {
	if maxLen <= 0 {
		return "", fmt.Errorf("truncate: max length must be > 0 but was %d", maxLen)
	}
	if len(s) <= maxLen {
		return s, nil
	}
	return s[:usernameRuneBoundary(s, maxLen)], nil
}

// usernameTruncateSHA256 matches Vault: a string longer than maxLen keeps its first maxLen-8 bytes and ends with the
// first 8 hex digits of the SHA-256 of the part cut off, so names that differ only past the cut stay distinct.
func usernameTruncateSHA256(maxLen int, s string) (string, error) {
	const hashLen = 8
	if maxLen <= hashLen {
		return "", fmt.Errorf("truncate_sha256: max length must be > %d but was %d", hashLen, maxLen)
	}
	if len(s) <= maxLen {
		return s, nil
	}
	cut := usernameRuneBoundary(s, maxLen-hashLen)
	return s[:cut] + usernameSHA256(s[cut:])[:hashLen], nil
}

// usernameRuneBoundary returns the largest i <= max at which s can be cut without splitting a UTF-8 character.
func usernameRuneBoundary(s string, max int) int {
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func usernameReplace(find, replacement, s string) string {
	return strings.ReplaceAll(s, find, replacement)
}

func usernameSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func usernameBase64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// usernameIAMSafe replaces every character an IAM name may not contain with "-".
func usernameIAMSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if limitsNameChars.allows(r) {
			return r
		}
		return '-'
	}, s)
}

const usernameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// usernameRandom returns length characters from usernameAlphabet, as Vault's base62.Random. Bytes at or above
// 248 (= 4*62) are drawn again so that every character is equally likely.
func (n *Namer) usernameRandom(length int) (string, error) {
	switch {
	case length < 0:
		return "", fmt.Errorf("random: length must be >= 0 but was %d", length)
	case length > usernameMaxRandom:
		return "", fmt.Errorf("random: length must be at most %d but was %d", usernameMaxRandom, length)
	}
	out := make([]byte, 0, length)
	buf := make([]byte, length+length/4+8)
	for len(out) < length {
		if _, err := io.ReadFull(n.random, buf); err != nil {
			return "", fmt.Errorf("random: reading random bytes: %w", err)
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, usernameAlphabet[int(b)%len(usernameAlphabet)])
			if len(out) == length {
				break
			}
		}
	}
	return string(out), nil
}

// usernameUUID returns a random (version 4) UUID.
func (n *Namer) usernameUUID() (string, error) {
	var u [16]byte
	if _, err := io.ReadFull(n.random, u[:]); err != nil {
		return "", fmt.Errorf("uuid: reading random bytes: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
