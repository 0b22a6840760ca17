package rotateroot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The shared credentials file is edited line by line rather than through an INI library: the rewrite must keep
// every other byte (other profiles, comments, blank lines, order), and INI libraries re-serialize the whole file.
// The SDK's own INI parser is internal to it.

const (
	keyIDName   = "aws_access_key_id"
	secretName  = "aws_secret_access_key"
	tokenName   = "aws_session_token"
	lineComment = "#;"
)

// profileKeys is what one profile of a credentials file holds.
type profileKeys struct {
	found                bool // the section exists
	keyID, secret, token string
	other                []string // other settings of the section (role_arn, sso_session, credential_process, ...)
}

// section returns the name of a "[name]" line, or false.
func section(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	name := strings.TrimSpace(t[1 : len(t)-1])
	// The credentials file names sections without the config file's "profile " prefix; accept it anyway.
	if rest, ok := strings.CutPrefix(name, "profile "); ok {
		name = strings.TrimSpace(rest)
	}
	return name, true
}

// setting splits a "key = value" line; false for comments, blank and section lines.
func setting(line string) (key, value string, ok bool) {
	t := strings.TrimSpace(line)
	if t == "" || strings.ContainsRune(lineComment, rune(t[0])) || t[0] == '[' {
		return "", "", false
	}
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v), true
}

// lines splits data keeping each line's ending, so that joining them gives data back byte for byte.
func lines(data []byte) []string {
	var out []string
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			out = append(out, string(data))
			break
		}
		out = append(out, string(data[:n+1]))
		data = data[n+1:]
	}
	return out
}

func readProfile(data []byte, profile string) profileKeys {
	var p profileKeys
	in := false
	for _, l := range lines(data) {
		if name, ok := section(l); ok {
			in = name == profile
			p.found = p.found || in
			continue
		}
		if !in {
			continue
		}
		k, v, ok := setting(l)
		if !ok {
			continue
		}
		switch k {
		case keyIDName:
			p.keyID = v
		case secretName:
			p.secret = v
		case tokenName:
			p.token = v
		default:
			p.other = append(p.other, k)
		}
	}
	return p
}

// rewriteProfile replaces the values of aws_access_key_id and aws_secret_access_key in profile's section, keeping
// the rest of each line up to the "=" and every other line as it was.
func rewriteProfile(data []byte, profile, keyID, secret string) ([]byte, error) {
	var out strings.Builder
	in := false
	replaced := map[string]int{}
	for _, l := range lines(data) {
		if name, ok := section(l); ok {
			in = name == profile
		}
		k, _, ok := setting(l)
		if !in || !ok || (k != keyIDName && k != secretName) {
			out.WriteString(l)
			continue
		}
		value := keyID
		if k == secretName {
			value = secret
		}
		eq := strings.IndexByte(l, '=')
		prefix := l[:eq+1]
		if strings.HasPrefix(l[eq+1:], " ") {
			prefix += " "
		}
		ending := ""
		if strings.HasSuffix(l, "\r\n") {
			ending = "\r\n"
		} else if strings.HasSuffix(l, "\n") {
			ending = "\n"
		}
		out.WriteString(prefix + value + ending)
		replaced[k]++
	}
	if replaced[keyIDName] != 1 || replaced[secretName] != 1 {
		return nil, fmt.Errorf("profile %q must set %s and %s once each (found %d and %d)", profile, keyIDName, secretName,
			replaced[keyIDName], replaced[secretName])
	}
	return []byte(out.String()), nil
}

// writeAtomically replaces path's content through a temporary file in the same directory and a rename, so that a
// reader (or a crash) sees the old file or the new one, never half of one. The mode is the old file's, at most 0600:
// the file holds secrets.
func writeAtomically(path string, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(real)
	if err != nil {
		return err
	}
	mode := info.Mode().Perm() & 0o600
	if mode == 0 {
		mode = 0o600
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".rotate-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	cleanup := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(name)
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return cleanup(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		return cleanup(err)
	}
	if err := os.Rename(name, real); err != nil {
		return cleanup(err)
	}
	// The rename is durable once the directory is; not every platform lets a directory be synced.
	if d, err := os.Open(filepath.Dir(real)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

var errNoStaticKey = errors.New("no static access key")
