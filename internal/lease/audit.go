package lease

import (
	"strings"
	"unicode"
)

// MaxTagValueLen is IAM's limit on a tag value, in characters.
const MaxTagValueLen = 256

// AuditTags are the tags that say who issued a lease's user and from where: TagIssuedBy, the root identity's ARN
// (empty, and left out, when it is not known), and TagIssuedFrom, the CI run, read from the variables the common CI
// systems set (getenv is os.Getenv). Outside CI, or in a CI system not known here, TagIssuedFrom is left out.
// Values are sanitized to IAM's tag value characters and cut to its 256-character limit. Nothing read is secret: a
// repository or project path, a run or job number.
func AuditTags(issuerARN string, getenv func(string) string) map[string]string {
	tags := map[string]string{}
	if v := SanitizeTagValue(issuerARN); v != "" {
		tags[TagIssuedBy] = v
	}
	if v := SanitizeTagValue(CIRun(getenv)); v != "" {
		tags[TagIssuedFrom] = v
	}
	return tags
}

// CIRun names the CI run this process belongs to, as "<system>:<project>/<kind>/<id>", or "" outside a known CI.
func CIRun(getenv func(string) string) string {
	all := func(names ...string) []string {
		var out []string
		for _, n := range names {
			v := getenv(n)
			if v == "" {
				return nil
			}
			out = append(out, v)
		}
		return out
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		if v := all("GITHUB_REPOSITORY", "GITHUB_RUN_ID"); v != nil {
			run := "github-actions:" + v[0] + "/runs/" + v[1]
			if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
				run += "/attempts/" + a
			}
			return run
		}
	case getenv("GITLAB_CI") == "true":
		if v := all("CI_PROJECT_PATH", "CI_JOB_ID"); v != nil {
			return "gitlab-ci:" + v[0] + "/jobs/" + v[1]
		}
	case getenv("CIRCLECI") == "true":
		if v := all("CIRCLE_PROJECT_USERNAME", "CIRCLE_PROJECT_REPONAME", "CIRCLE_BUILD_NUM"); v != nil {
			return "circleci:" + v[0] + "/" + v[1] + "/jobs/" + v[2]
		}
	case getenv("BUILDKITE") == "true":
		if v := all("BUILDKITE_ORGANIZATION_SLUG", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_NUMBER"); v != nil {
			return "buildkite:" + v[0] + "/" + v[1] + "/builds/" + v[2]
		}
	case getenv("BITBUCKET_BUILD_NUMBER") != "":
		if v := all("BITBUCKET_REPO_FULL_NAME", "BITBUCKET_BUILD_NUMBER"); v != nil {
			return "bitbucket-pipelines:" + v[0] + "/builds/" + v[1]
		}
	case strings.EqualFold(getenv("TF_BUILD"), "true"):
		if v := all("SYSTEM_TEAMPROJECT", "BUILD_DEFINITIONNAME", "BUILD_BUILDID"); v != nil {
			return "azure-pipelines:" + v[0] + "/" + v[1] + "/builds/" + v[2]
		}
	case getenv("JENKINS_URL") != "":
		if v := all("JOB_NAME", "BUILD_NUMBER"); v != nil {
			return "jenkins:" + v[0] + "/builds/" + v[1]
		}
	}
	return ""
}

// SanitizeTagValue keeps what IAM accepts in a tag value (letters, digits, white space and _ . : / = + - @), writes
// "_" for anything else, and cuts the result to MaxTagValueLen characters.
func SanitizeTagValue(v string) string {
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == MaxTagValueLen {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("_.:/=+-@", r) {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
		n++
	}
	return strings.TrimSpace(b.String())
}

// sessionTags are the session tags of an STS issue: the role's, and with them the audit tags. Only a role that
// sets session_tags gets the audit tags too: tagging a session needs sts:TagSession, which the target role's trust
// policy (assumed_role) or the root identity's policy (federation_token) must allow; a role that sets session tags
// has it, one that does not may not. A role's own key wins.
func (i *Issuer) sessionTags(role Role) map[string]string {
	if len(role.SessionTags) == 0 {
		return nil
	}
	out := make(map[string]string, len(role.SessionTags)+len(i.auditTags))
	for k, v := range i.auditTags {
		out[k] = v
	}
	for k, v := range role.SessionTags {
		out[k] = v
	}
	return out
}

// withAudit adds the Issuer's audit tags to tags (the lease tags win, as they do over every other).
func (i *Issuer) withAudit(tags map[string]string) map[string]string {
	for k, v := range i.auditTags {
		if _, ok := tags[k]; !ok {
			tags[k] = v
		}
	}
	return tags
}
