package lease

import (
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestMergeTags(t *testing.T) {
	tests := []struct {
		name       string
		base, over map[string]string
		want       map[string]string
	}{
		{"nil", nil, nil, map[string]string{}},
		{"disjoint", map[string]string{"a": "1"}, map[string]string{"b": "2"}, map[string]string{"a": "1", "b": "2"}},
		{"same key", map[string]string{"team": "ops"}, map[string]string{"team": "dev"}, map[string]string{"team": "dev"}},
		{"other case: over wins, key and all", map[string]string{"team": "ops", "env": "prod"}, map[string]string{"Team": "dev"},
			map[string]string{"Team": "dev", "env": "prod"}},
		{"base itself is kept as given", map[string]string{"A": "1"}, nil, map[string]string{"A": "1"}},
	}
	for _, tt := range tests {
		if got := mergeTags(tt.base, tt.over); !maps.Equal(got, tt.want) {
			t.Errorf("%s: mergeTags() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A role's iam_tags key replaces a provider default_tags key that differs from it only in case: IAM compares tag
// keys case-insensitively and would refuse a user carrying both.
func TestIssue_RoleTagReplacesDefaultTagOfAnotherCase(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer(func(o *Options) { o.DefaultTags = map[string]string{"team": "ops", "env": "prod"} })
	role := Role{Name: "deploy", CredentialType: IAMUser, PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
		IAMTags: map[string]string{"Team": "dev"}}
	l, _, err := i.Issue(e.ctx(), role, Request{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = i.Revoke(e.ctx(), l) })
	out, err := e.iam.ListUserTags(e.ctx(), &iam.ListUserTagsInput{UserName: aws.String(l.UserName)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range out.Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if _, both := got["team"]; both || got["Team"] != "dev" || got["env"] != "prod" {
		t.Errorf("user tags %v: want the role's Team=dev instead of the default team=ops, and env=prod kept", got)
	}
}
