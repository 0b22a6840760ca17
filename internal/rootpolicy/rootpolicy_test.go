package rootpolicy

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

const (
	boundary = "arn:aws:iam::123456789012:policy/awsdynamic-boundary"
	readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	s3Read   = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	deployer = "arn:aws:iam::123456789012:role/awsdynamic-deployer"
)

func everything() Settings {
	return Settings{
		UserPaths:         []string{"/awsdynamic/", "/ci/"},
		BoundaryARN:       boundary,
		AllowedPolicyARNs: []string{s3Read, readOnly},
		AllowedGroups:     []string{"deployers"},
		RoleARNs:          []string{deployer},
		CredentialTypes:   lease.CredentialTypes,
	}
}

// render renders s and reads the JSON back, as IAM would: the test sees what users paste, not the Go value.
func render(t *testing.T, s Settings) Document {
	t.Helper()
	d, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal([]byte(d.JSON()), &back); err != nil {
		t.Fatalf("the rendered JSON does not parse: %v\n%s", err, d.JSON())
	}
	return back
}

func statement(t *testing.T, d Document, sid string) Statement {
	t.Helper()
	for _, s := range d.Statement {
		if s.Sid == sid {
			return s
		}
	}
	t.Fatalf("no statement %s in\n%s", sid, d.JSON())
	return Statement{}
}

func hasStatement(d Document, sid string) bool {
	return slices.ContainsFunc(d.Statement, func(s Statement) bool { return s.Sid == sid })
}

// Every call the engine's interfaces declare is placed deliberately. A call added to lease.IAMAPI or lease.STSAPI
// is rendered user-scoped until then, and this test says where to place it.
func TestRootPolicy_classifiesEveryEngineCall(t *testing.T) {
	if u := Unclassified(); len(u) > 0 {
		t.Errorf("the engine calls %v, which internal/rootpolicy does not place: add each to classes (user-scoped, "+
			"conditioned on the boundary, a read on any resource, ...)", u)
	}
	for a := range classes {
		if !slices.Contains(EngineActions(), a) {
			t.Errorf("classes places %s, which the engine no longer calls: remove it", a)
		}
	}
}

// With every credential type, every allowed object and a boundary, each engine call is granted by an Allow, except
// the boundary's removal, which is denied; sts:GetCallerIdentity needs no permission.
func TestRootPolicy_coversEveryEngineCall(t *testing.T) {
	d := render(t, everything())
	allowed, denied := map[string]bool{}, map[string]bool{}
	for _, s := range d.Statement {
		for _, a := range s.Action {
			if s.Effect == "Allow" {
				allowed[a] = true
			} else {
				denied[a] = true
			}
		}
	}
	for _, a := range EngineActions() {
		switch {
		case a == "sts:GetCallerIdentity":
			if allowed[a] {
				t.Errorf("%s is granted, but it needs no permission", a)
			}
		case a == "iam:DeleteUserPermissionsBoundary":
			if !denied[a] || allowed[a] {
				t.Errorf("%s must be denied, never allowed, when a boundary is required", a)
			}
		case !allowed[a]:
			t.Errorf("the engine calls %s, which the rendered policy does not allow", a)
		}
	}
	for a := range allowed {
		if !slices.Contains(EngineActions(), a) && a != "sts:TagSession" {
			t.Errorf("the policy allows %s, which the engine never calls", a)
		}
	}
	// Without a boundary there is nothing to protect: the removal is allowed (a role may drop its own boundary).
	d = render(t, Settings{UserPaths: []string{"/awsdynamic/"}})
	if s := statement(t, d, "ManageLeaseUsersUnderTheProvidersPaths"); !slices.Contains(s.Action, "iam:DeleteUserPermissionsBoundary") || len(s.Condition) > 0 {
		t.Errorf("without a boundary, the user statement should hold every user call, unconditioned: %+v", s)
	}
}

// The delegated-administration pattern: the writes IAM can condition on the boundary carry it; attaching is limited
// to the allowed policies; groups are named; the boundary cannot be removed, replaced or edited.
func TestRootPolicy_conditionsAndResources(t *testing.T) {
	d := render(t, everything())
	users := []string{"arn:aws:iam::*:user/awsdynamic/*", "arn:aws:iam::*:user/ci/*"}
	onBoundary := map[string][]string{"iam:PermissionsBoundary": {boundary}}

	user := statement(t, d, "ManageLeaseUsersUnderTheProvidersPaths")
	if !reflect.DeepEqual(user.Resource, users) || len(user.Condition) > 0 {
		t.Errorf("user statement: resource %v condition %v, want %v and none", user.Resource, user.Condition, users)
	}
	for _, a := range []string{"iam:CreateUser", "iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary"} {
		if slices.Contains(user.Action, a) {
			t.Errorf("%s is in the unconditioned user statement: it must carry the boundary condition", a)
		}
	}

	bounded := statement(t, d, "ChangeLeaseUsersOnlyWithTheRequiredBoundary")
	want := []string{"iam:CreateUser", "iam:DeleteUserPolicy", "iam:DetachUserPolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy"}
	if bounded.Effect != "Allow" || !reflect.DeepEqual(bounded.Action, want) || !reflect.DeepEqual(bounded.Resource, users) ||
		!reflect.DeepEqual(bounded.Condition, map[string]map[string][]string{"StringEquals": onBoundary}) {
		t.Errorf("bounded statement %+v, want Allow %v on %v if StringEquals %v", bounded, want, users, onBoundary)
	}

	attach := statement(t, d, "AttachOnlyTheAllowedPolicies")
	if !reflect.DeepEqual(attach.Action, []string{"iam:AttachUserPolicy"}) || !reflect.DeepEqual(attach.Resource, users) ||
		!reflect.DeepEqual(attach.Condition, map[string]map[string][]string{
			"ArnEquals":    {"iam:PolicyARN": {s3Read, readOnly}},
			"StringEquals": onBoundary,
		}) {
		t.Errorf("attach statement %+v", attach)
	}

	groups := statement(t, d, "JoinAndLeaveOnlyTheAllowedGroups")
	if !reflect.DeepEqual(groups.Resource, []string{"arn:aws:iam::*:group/*/deployers", "arn:aws:iam::*:group/deployers"}) ||
		!reflect.DeepEqual(groups.Action, []string{"iam:AddUserToGroup", "iam:RemoveUserFromGroup"}) {
		t.Errorf("group statement %+v", groups)
	}
	if s := statement(t, d, "MergeTheAllowedGroupsPoliciesIntoFederationTokens"); !reflect.DeepEqual(s.Resource, groups.Resource) {
		t.Errorf("federation group reads on %v, want the allowed groups %v", s.Resource, groups.Resource)
	}
	if s := statement(t, d, "AssumeTheRoleArns"); !reflect.DeepEqual(s.Resource, []string{deployer}) {
		t.Errorf("AssumeRole on %v, want %v", s.Resource, deployer)
	}

	remove := statement(t, d, "DenyRemovingTheBoundary")
	if remove.Effect != "Deny" || !reflect.DeepEqual(remove.Action, []string{"iam:DeleteUserPermissionsBoundary"}) || !reflect.DeepEqual(remove.Resource, []string{"*"}) || len(remove.Condition) > 0 {
		t.Errorf("removal deny %+v", remove)
	}
	other := statement(t, d, "DenyUsersWithAnotherBoundaryOrNone")
	if other.Effect != "Deny" || !reflect.DeepEqual(other.Action, []string{"iam:CreateUser", "iam:PutUserPermissionsBoundary"}) ||
		!reflect.DeepEqual(other.Condition, map[string]map[string][]string{"StringNotEquals": onBoundary}) {
		t.Errorf("other-boundary deny %+v", other)
	}
	edit := statement(t, d, "DenyChangingTheBoundaryPolicy")
	if edit.Effect != "Deny" || !reflect.DeepEqual(edit.Resource, []string{boundary}) ||
		!reflect.DeepEqual(edit.Action, []string{"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"}) {
		t.Errorf("boundary-edit deny %+v", edit)
	}
}

// What is not asked for is not granted: no allowed policies means no AttachUserPolicy, no groups no membership, no
// STS types no STS, no boundary no boundary statements.
func TestRootPolicy_grantsOnlyWhatIsAskedFor(t *testing.T) {
	d := render(t, Settings{UserPaths: []string{"/awsdynamic/"}})
	for _, sid := range []string{"AttachOnlyTheAllowedPolicies", "JoinAndLeaveOnlyTheAllowedGroups", "ChangeLeaseUsersOnlyWithTheRequiredBoundary",
		"DenyRemovingTheBoundary", "FederationTokens", "AssumeTheRoleArns", "SessionTokens", "MergeTheAllowedGroupsPoliciesIntoFederationTokens"} {
		if hasStatement(d, sid) {
			t.Errorf("statement %s rendered though nothing asked for it:\n%s", sid, d.JSON())
		}
	}
	if strings.Contains(d.JSON(), "iam:AttachUserPolicy") || strings.Contains(d.JSON(), "sts:") {
		t.Errorf("AttachUserPolicy or an STS action granted without allowed policies or STS types:\n%s", d.JSON())
	}
	// STS only: no user statements at all.
	d = render(t, Settings{CredentialTypes: []lease.CredentialType{lease.SessionToken}})
	if strings.Contains(d.JSON(), ":user/") || strings.Contains(d.JSON(), "iam:CreateUser") || strings.Contains(d.JSON(), "iam:ListUsers") {
		t.Errorf("a session_token-only policy grants user management:\n%s", d.JSON())
	}
}

// Settings that cannot make a working policy are refused with the reason.
func TestRootPolicy_refusesSettingsThatCannotWork(t *testing.T) {
	for name, tc := range map[string]struct {
		s    Settings
		want string
	}{
		"no path":                  {Settings{}, "no user path"},
		"bad path":                 {Settings{UserPaths: []string{"ci"}}, `user path "ci"`},
		"bad boundary":             {Settings{UserPaths: []string{"/a/"}, BoundaryARN: "arn:aws:s3:::b"}, "permissions boundary"},
		"bad allowed policy":       {Settings{UserPaths: []string{"/a/"}, AllowedPolicyARNs: []string{"ReadOnlyAccess"}}, "allowed policy"},
		"group with a path":        {Settings{UserPaths: []string{"/a/"}, AllowedGroups: []string{"/team/deployers"}}, "no path, slash or wildcard"},
		"assumed_role without ARN": {Settings{UserPaths: []string{"/a/"}, CredentialTypes: []lease.CredentialType{lease.AssumedRole}}, "need the role ARNs"},
		"role ARNs without type":   {Settings{UserPaths: []string{"/a/"}, RoleARNs: []string{deployer}}, "only for assumed_role"},
		"unknown type":             {Settings{UserPaths: []string{"/a/"}, CredentialTypes: []lease.CredentialType{"root"}}, `credential type "root"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Render(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
