package lease

import (
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

func TestAuditTags_NameTheIssuerAndTheCIRun(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:user/ci/deployer"
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"github actions": {map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/infra", "GITHUB_RUN_ID": "987654321", "GITHUB_RUN_ATTEMPT": "2",
			"GITHUB_TOKEN": "ghs_secret"}, "github-actions:acme/infra/runs/987654321/attempts/2"},
		"gitlab":      {map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "group/sub/infra", "CI_JOB_ID": "4242", "CI_JOB_TOKEN": "glcbt-secret"}, "gitlab-ci:group/sub/infra/jobs/4242"},
		"circleci":    {map[string]string{"CIRCLECI": "true", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "infra", "CIRCLE_BUILD_NUM": "17"}, "circleci:acme/infra/jobs/17"},
		"buildkite":   {map[string]string{"BUILDKITE": "true", "BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "infra", "BUILDKITE_BUILD_NUMBER": "5"}, "buildkite:acme/infra/builds/5"},
		"bitbucket":   {map[string]string{"BITBUCKET_BUILD_NUMBER": "9", "BITBUCKET_REPO_FULL_NAME": "acme/infra"}, "bitbucket-pipelines:acme/infra/builds/9"},
		"azure":       {map[string]string{"TF_BUILD": "True", "SYSTEM_TEAMPROJECT": "Acme", "BUILD_DEFINITIONNAME": "infra", "BUILD_BUILDID": "77"}, "azure-pipelines:Acme/infra/builds/77"},
		"jenkins":     {map[string]string{"JENKINS_URL": "https://ci.example/", "JOB_NAME": "infra/main", "BUILD_NUMBER": "3"}, "jenkins:infra/main/builds/3"},
		"not ci":      {map[string]string{"HOME": "/root"}, ""},
		"partial ci":  {map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/infra"}, ""},
		"odd charset": {map[string]string{"JENKINS_URL": "x", "JOB_NAME": "infra » main#1", "BUILD_NUMBER": "3"}, "jenkins:infra _ main_1/builds/3"},
	} {
		t.Run(name, func(t *testing.T) {
			got := AuditTags(arn, env(tc.env))
			want := map[string]string{TagIssuedBy: arn}
			if tc.want != "" {
				want[TagIssuedFrom] = tc.want
			}
			if !maps.Equal(got, want) {
				t.Errorf("AuditTags = %v, want %v", got, want)
			}
			for _, v := range got {
				if strings.Contains(v, "secret") {
					t.Errorf("an audit tag holds a CI token: %q", v)
				}
			}
		})
	}
	if got := AuditTags("", env(nil)); len(got) != 0 {
		t.Errorf("AuditTags without an ARN outside CI = %v, want none", got)
	}
	long := SanitizeTagValue(strings.Repeat("é", 300))
	if n := len([]rune(long)); n != MaxTagValueLen {
		t.Errorf("a 300-character value is cut to %d characters, want %d", n, MaxTagValueLen)
	}
}

// The audit tags reach the user at CreateUser, beside the lease tags, and survive an update of the role's tags.
func TestIssue_PutsTheAuditTagsOnTheUser(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	audit := AuditTags("arn:aws:iam::123456789012:user/deployer", env(map[string]string{"GITLAB_CI": "true", "CI_PROJECT_PATH": "g/p", "CI_JOB_ID": "1"}))
	is := e.issuer(func(o *Options) { o.AuditTags = audit })
	role := Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: inventoryDoc, IAMTags: map[string]string{"team": "a"}}
	l, _, err := is.Issue(ctx, role, Request{TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tags := func() map[string]string {
		out, err := e.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(l.UserName)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, t := range out.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return m
	}
	got := tags()
	if got[TagIssuedBy] != "arn:aws:iam::123456789012:user/deployer" || got[TagIssuedFrom] != "gitlab-ci:g/p/jobs/1" || got[TagLeaseID] != l.ID {
		t.Errorf("user tags %v lack the audit tags", got)
	}
	to := role
	to.IAMTags = map[string]string{"team": "b"}
	if err := is.Update(ctx, l, role, to); err != nil {
		t.Fatal(err)
	}
	if got := tags(); got[TagIssuedBy] == "" || got[TagIssuedFrom] == "" || got["team"] != "b" {
		t.Errorf("after an update of iam_tags the user's tags are %v", got)
	}
	all, err := is.Inventory(ctx, InventoryOptions{PathPrefix: DefaultUserPath})
	if err != nil || len(all) != 1 || all[0].IssuedBy != "arn:aws:iam::123456789012:user/deployer" || all[0].IssuedFrom != "gitlab-ci:g/p/jobs/1" {
		t.Errorf("the inventory shows %+v (%v), want the audit tags", all, err)
	}
}

// STS kinds: the audit tags join the session tags of a role that sets some (it may tag sessions), and only then;
// source_identity is sent with AssumeRole. moto accepts session tags and source identities unchecked
// (internal/acctest/moto/README.md): the requests are asserted.
func TestIssueSTS_AuditSessionTagsAndSourceIdentity(t *testing.T) {
	e := newMotoEnv(t)
	ctx := e.ctx()
	audit := AuditTags("arn:aws:iam::123456789012:user/deployer", env(nil))
	is := e.issuer(func(o *Options) { o.AuditTags = audit })
	roleARN := "arn:aws:iam::123456789012:role/target"
	sent := func(role Role) map[string]string {
		t.Helper()
		e.record()
		if _, _, err := is.Issue(ctx, role, Request{}); err != nil {
			t.Fatal(err)
		}
		form := map[string]string{}
		for _, r := range e.recording() {
			if r.Action == "AssumeRole" || r.Action == "GetFederationToken" {
				for k := range r.Form {
					form[k] = r.Form.Get(k)
				}
			}
		}
		return form
	}
	tagsOf := func(form map[string]string) map[string]string {
		out := map[string]string{}
		for n := 1; form["Tags.member."+strconv.Itoa(n)+".Key"] != ""; n++ {
			out[form["Tags.member."+strconv.Itoa(n)+".Key"]] = form["Tags.member."+strconv.Itoa(n)+".Value"]
		}
		return out
	}

	form := sent(Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{roleARN}, SessionTags: map[string]string{"team": "x"}, SourceIdentity: "alice@example.com"})
	if got := tagsOf(form); got["team"] != "x" || got[TagIssuedBy] != "arn:aws:iam::123456789012:user/deployer" {
		t.Errorf("AssumeRole session tags %v, want team and %s", got, TagIssuedBy)
	}
	if form["SourceIdentity"] != "alice@example.com" {
		t.Errorf("AssumeRole SourceIdentity = %q", form["SourceIdentity"])
	}
	form = sent(Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{roleARN}})
	if got := tagsOf(form); len(got) != 0 || form["SourceIdentity"] != "" {
		t.Errorf("a role without session_tags sent tags %v and source identity %q: it may not be allowed sts:TagSession", got, form["SourceIdentity"])
	}
	form = sent(Role{Name: "f", CredentialType: FederationToken, PolicyDocument: inventoryDoc, SessionTags: map[string]string{"team": "y"}})
	if got := tagsOf(form); got[TagIssuedBy] == "" || got["team"] != "y" {
		t.Errorf("GetFederationToken session tags %v", got)
	}

	bad := Role{Name: "a", CredentialType: AssumedRole, RoleARNs: []string{roleARN}, SourceIdentity: "a"}
	var found bool
	for _, p := range bad.Validate(ValidateOptions{ReservedTags: LeaseTagCount}) {
		found = found || (p.Attribute == "source_identity" && p.Summary == "Invalid Source Identity")
	}
	if !found {
		t.Error("a one-character source_identity was accepted")
	}
}
