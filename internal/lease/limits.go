package lease

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IAM and STS quotas (see IAM-LIMITS.md). The errors below describe the value only; callers name the attribute.
const (
	MaxUserNameLen            = 64
	MaxManagedPoliciesDefault = 10 // attached policies per user before the account owner raises the quota
	MaxManagedPoliciesHard    = 20 // the quota cannot be raised past this
	MaxGroupsPerUser          = 10
	MaxTagsPerUser            = 50
	MaxSessionPolicyARNs      = 10
)

const (
	limitsMaxPathLen        = 512
	limitsMaxGroupNameLen   = 128
	limitsMaxTagKeyLen      = 128
	limitsMaxTagValueLen    = 256
	limitsMaxSessionNameLen = 64
	limitsMaxFederatedLen   = 32
	limitsMaxExternalIDLen  = 1224
)

// limitsCharset is a set of characters IAM accepts, with the words an error uses to describe it.
type limitsCharset struct {
	allows   func(rune) bool
	describe string
}

var (
	limitsNameChars = limitsCharset{
		allows:   func(r rune) bool { return limitsIsASCIIAlnum(r) || strings.ContainsRune("+=,.@_-", r) },
		describe: "only ASCII letters, digits and + = , . @ _ -",
	}
	limitsExternalIDChars = limitsCharset{
		allows:   func(r rune) bool { return limitsIsASCIIAlnum(r) || strings.ContainsRune("+=,.@:/_-", r) },
		describe: "only ASCII letters, digits and + = , . @ : / _ -",
	}
	limitsTagChars = limitsCharset{
		allows: func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Z, r) ||
				strings.ContainsRune("_.:/=+-@", r)
		},
		describe: "only letters, digits, spaces and _ . : / = + - @",
	}
	limitsPartitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f",
		"aws-eusc"}
)

// ValidateUserName checks an IAM user name: 1 to 64 characters from [A-Za-z0-9+=,.@_-].
func ValidateUserName(name string) error {
	return limitsCheckName("an IAM user name", name, 1, MaxUserNameLen, limitsNameChars, true)
}

// ValidateGroupName checks an IAM group name: 1 to 128 characters from [A-Za-z0-9+=,.@_-].
func ValidateGroupName(name string) error {
	return limitsCheckName("an IAM group name", name, 1, limitsMaxGroupNameLen, limitsNameChars, true)
}

// ValidateRoleSessionName checks an AssumeRole RoleSessionName: 2 to 64 characters from [A-Za-z0-9+=,.@_-].
func ValidateRoleSessionName(name string) error {
	return limitsCheckName("a role session name", name, 2, limitsMaxSessionNameLen, limitsNameChars, true)
}

// ValidateFederatedName checks a GetFederationToken Name: 2 to 32 characters from [A-Za-z0-9+=,.@_-].
func ValidateFederatedName(name string) error {
	return limitsCheckName("a federated user name", name, 2, limitsMaxFederatedLen, limitsNameChars, true)
}

// ValidateExternalID checks an AssumeRole ExternalId: 2 to 1,224 characters from [A-Za-z0-9+=,.@:/_-]. The value is
// a shared secret of sorts, so errors never repeat it.
func ValidateExternalID(id string) error {
	return limitsCheckName("an external ID", id, 2, limitsMaxExternalIDLen, limitsExternalIDChars, false)
}

// ValidateMFACode checks a one-time MFA token code: exactly 6 digits. Errors never repeat the code.
func ValidateMFACode(code string) error {
	if n := utf8.RuneCountInString(code); n != 6 {
		return fmt.Errorf("an MFA token code is exactly 6 digits, this one has %d characters", n)
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return errors.New("an MFA token code is exactly 6 digits (0-9), this one has other characters")
		}
	}
	return nil
}

// ValidatePath checks an IAM path: "/" alone, or 1 to 512 characters that begin and end with "/" and in between
// hold printable ASCII other than space (0x21-0x7E), as AWS's pattern (\u002F)|(\u002F[\u0021-\u007E]+\u002F) says.
func ValidatePath(path string) error {
	switch n := utf8.RuneCountInString(path); {
	case n == 0:
		return errors.New(`a path must not be empty: use "/" for the root path, or one like "/awsdynamic/"`)
	case n > limitsMaxPathLen:
		return fmt.Errorf("a path is at most %d characters, this one has %d", limitsMaxPathLen, n)
	}
	if path == "/" {
		return nil
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf(`path %q must begin with "/", like %q`, path, "/"+strings.TrimSuffix(path, "/")+"/")
	}
	if !strings.HasSuffix(path, "/") {
		return fmt.Errorf(`path %q must end with "/", like %q`, path, path+"/")
	}
	inner := path[1 : len(path)-1]
	if inner == "" {
		return fmt.Errorf(`path %q is not valid: use "/" for the root path`, path)
	}
	if bad := limitsBadRunes(inner, func(r rune) bool { return r >= 0x21 && r <= 0x7E }); bad != "" {
		return fmt.Errorf("path %q contains %s: a path may contain only printable ASCII characters other than space",
			path, bad)
	}
	return nil
}

// ValidateARN checks the shape arn:partition:service:region:account-id:resource. Region may be empty (IAM, S3);
// account-id may be empty (S3), "aws" (AWS managed policies) or 12 digits; service and resource may not be empty.
func ValidateARN(arn string) error {
	if bad := limitsBadRunes(arn, func(r rune) bool { return !unicode.IsSpace(r) && !unicode.IsControl(r) }); bad != "" {
		return fmt.Errorf("ARN %q contains %s: remove white space and control characters", arn, bad)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return fmt.Errorf("%q is not an ARN: expected arn:partition:service:region:account-id:resource, "+
			"like arn:aws:iam::123456789012:policy/Name", arn)
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	if !limitsContains(limitsPartitions, partition) {
		return fmt.Errorf("ARN %q has unknown partition %q: expected one of %s", arn, partition,
			strings.Join(limitsPartitions, ", "))
	}
	if service == "" {
		return fmt.Errorf("ARN %q has no service: the third field must name one, like iam or s3", arn)
	}
	if !limitsLowerAlnumDash(service) {
		return fmt.Errorf("ARN %q has service %q: a service is lower-case letters, digits and -", arn, service)
	}
	if region != "" && !limitsLowerAlnumDash(region) {
		return fmt.Errorf("ARN %q has region %q: a region is lower-case letters, digits and -, like eu-west-1",
			arn, region)
	}
	if account != "" && account != "aws" && !limitsIsAccountID(account) {
		return fmt.Errorf(`ARN %q has account %q: an account ID is 12 digits (or "aws" for AWS managed policies)`,
			arn, account)
	}
	if resource == "" {
		return fmt.Errorf("ARN %q has no resource after the account field", arn)
	}
	return nil
}

// ValidatePolicyARN checks an IAM managed policy ARN: arn:<partition>:iam::<account-id or aws>:policy/[path/]Name.
func ValidatePolicyARN(arn string) error {
	if err := ValidateARN(arn); err != nil {
		return err
	}
	parts := strings.SplitN(arn, ":", 6)
	service, region, account, resource := parts[2], parts[3], parts[4], parts[5]
	const example = "like arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/Name"
	switch {
	case service != "iam":
		return fmt.Errorf("%q is not an IAM policy ARN: its service is %q, not iam (%s)", arn, service, example)
	case region != "":
		return fmt.Errorf("%q is not an IAM policy ARN: IAM ARNs have no region, remove %q (%s)", arn, region, example)
	case account == "":
		return fmt.Errorf("%q is not an IAM policy ARN: it has no account ID (%s)", arn, example)
	case !strings.HasPrefix(resource, "policy/"):
		return fmt.Errorf("%q is not an IAM policy ARN: its resource %q does not begin with \"policy/\" (%s)",
			arn, resource, example)
	case strings.HasSuffix(resource, "/"):
		return fmt.Errorf("%q is not an IAM policy ARN: it ends without a policy name (%s)", arn, example)
	}
	return nil
}

// ValidateTags checks tags for an IAM user that will also carry reserved tags of the provider's own: together at most
// 50; keys 1 to 128 characters, not starting with "aws:" in any case; values 0 to 256 characters; both from IAM's tag
// character set (Unicode letters, digits and spaces, and _ . : / = + - @). Keys may not start with the provider's
// own "awsdynamic:" either, in any case, and no two keys may differ only in case: IAM and STS compare tag keys
// case-insensitively. Every problem is reported, keys in order.
func ValidateTags(tags map[string]string, reserved int) error {
	if reserved < 0 {
		reserved = 0
	}
	var errs []error
	if total := len(tags) + reserved; total > MaxTagsPerUser {
		if reserved > 0 {
			errs = append(errs, fmt.Errorf("%d tags plus the %d the provider adds to track the lease make %d, "+
				"over IAM's limit of %d tags per user: remove at least %d", len(tags), reserved, total, MaxTagsPerUser,
				total-MaxTagsPerUser))
		} else {
			errs = append(errs, fmt.Errorf("%d tags is over IAM's limit of %d tags per user: remove at least %d",
				len(tags), MaxTagsPerUser, total-MaxTagsPerUser))
		}
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tags[k]
		switch n := utf8.RuneCountInString(k); {
		case n == 0:
			errs = append(errs, errors.New("a tag key must not be empty"))
		case n > limitsMaxTagKeyLen:
			errs = append(errs, fmt.Errorf("tag key %q has %d characters: a tag key is at most %d", k, n,
				limitsMaxTagKeyLen))
		}
		if len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
			errs = append(errs, fmt.Errorf("tag key %q begins with %q, a prefix AWS reserves for its own tags: "+
				"choose another key", k, k[:4]))
		}
		if p := len(ReservedTagPrefix); len(k) >= p && strings.EqualFold(k[:p], ReservedTagPrefix) {
			errs = append(errs, fmt.Errorf("tag key %q begins with %q: the provider reserves the %q prefix, in any "+
				"case, for its own lease tags (%s, %s, %s and future ones): choose another key", k, k[:p],
				ReservedTagPrefix, TagLeaseID, TagRole, TagExpiresAt))
		}
		if first, dup := sameKeyFold(keys, k); dup {
			errs = append(errs, fmt.Errorf("tag keys %q and %q differ only in case, and IAM treats tag keys "+
				"case-insensitively: keep one of them", first, k))
		}
		if bad := limitsBadRunes(k, limitsTagChars.allows); bad != "" {
			errs = append(errs, fmt.Errorf("tag key %q contains %s: tags may contain %s", k, bad,
				limitsTagChars.describe))
		}
		if n := utf8.RuneCountInString(v); n > limitsMaxTagValueLen {
			errs = append(errs, fmt.Errorf("tag %q has a value of %d characters: a tag value is at most %d", k, n,
				limitsMaxTagValueLen))
		}
		if bad := limitsBadRunes(v, limitsTagChars.allows); bad != "" {
			errs = append(errs, fmt.Errorf("tag %q has a value that contains %s: tags may contain %s", k, bad,
				limitsTagChars.describe))
		}
	}
	return errors.Join(errs...)
}

// limitsCheckName checks length (in characters) and character set. what reads like "an IAM user name". echo says
// whether the value may appear in the error.
func limitsCheckName(what, s string, minLen, maxLen int, cs limitsCharset, echo bool) error {
	subject := "this one"
	if echo {
		subject = fmt.Sprintf("%q", s)
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return fmt.Errorf("%s must not be empty: it is %d to %d characters", what, minLen, maxLen)
	case n < minLen:
		return fmt.Errorf("%s is %d to %d characters, %s has %d", what, minLen, maxLen, subject, n)
	case n > maxLen:
		return fmt.Errorf("%s is at most %d characters, %s has %d", what, maxLen, subject, n)
	}
	if bad := limitsBadRunes(s, cs.allows); bad != "" {
		if !echo {
			return fmt.Errorf("%s may contain %s; this one contains %s", what, cs.describe, bad)
		}
		return fmt.Errorf("%s may contain %s; %s contains %s", what, cs.describe, subject, bad)
	}
	return nil
}

// limitsBadRunes lists the distinct characters of s that allows rejects, in order of first appearance, quoted:
// `' '`, or `' ' and '/'`, or `' ', '/' and '!'`. It is empty when every character is allowed.
func limitsBadRunes(s string, allows func(rune) bool) string {
	var bad []string
	seen := map[rune]bool{}
	for _, r := range s {
		if allows(r) || seen[r] {
			continue
		}
		seen[r] = true
		bad = append(bad, fmt.Sprintf("%q", r))
	}
	switch len(bad) {
	case 0:
		return ""
	case 1:
		return bad[0]
	}
	return strings.Join(bad[:len(bad)-1], ", ") + " and " + bad[len(bad)-1]
}

func limitsIsASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func limitsLowerAlnumDash(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return s != ""
}

func limitsIsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func limitsContains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
