// Package rootpolicy renders the least-privilege IAM policy of the provider's root identity, in AWS's
// delegated-administration pattern: it may create and change users only under the provider's paths, only with the
// required permissions boundary, attach only the allowed managed policies and join only the allowed groups, and it
// may never remove the boundary or edit the boundary policy.
//
// The actions come from the engine's own interfaces (lease.IAMAPI and lease.STSAPI), read by reflection: a call the
// engine starts to make is in the rendered policy without anyone editing it here. Where the call goes (which
// statement, which resource) is the one thing decided here, in classes; a call nobody classified lands in the
// user-scoped statement, the narrowest place, and the package's tests fail until someone decides.
package rootpolicy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/lease"
)

// Settings are what the policy is rendered from.
type Settings struct {
	// UserPaths are the IAM paths of the users the provider creates: the provider's user_path and any role's.
	UserPaths []string
	// BoundaryARN is the provider's required_permissions_boundary_arn; empty for none.
	BoundaryARN string
	// AllowedPolicyARNs are the managed policies roles may attach to their users (policy_arns).
	AllowedPolicyARNs []string
	// AllowedGroups are the IAM groups roles may put their users in, or merge into federation tokens (iam_groups).
	AllowedGroups []string
	// RoleARNs are the IAM roles assumed_role credentials may assume (role_arns).
	RoleARNs []string
	// CredentialTypes are the kinds of credential the provider issues; empty means iam_user.
	CredentialTypes []lease.CredentialType
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Condition maps an operator to keys and their values.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// JSON is the document as IAM takes it, indented for people to read.
func (d Document) JSON() string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

// class says where an engine call goes in the policy.
type class int

const (
	// unclassified: a call nobody placed yet. It goes with classUser; the tests fail on it.
	unclassified class = iota
	// classUser: a call on a lease user that IAM cannot condition on the user's boundary.
	classUser
	// classUserBounded: a write on a lease user that IAM conditions on iam:PermissionsBoundary (the boundary the
	// call sets, or the one the user carries).
	classUserBounded
	// classAttach: AttachUserPolicy, conditioned on iam:PolicyARN (and the boundary).
	classAttach
	// classRemoveBoundary: denied outright when a boundary is required; a user-scoped call otherwise.
	classRemoveBoundary
	// classMFA: the MFA devices someone may have added to a lease user.
	classMFA
	// classGroupMembership: joining and leaving the allowed groups.
	classGroupMembership
	// classGroupRead: reading the allowed groups' policies into a federation token's session policy.
	classGroupRead
	// classRead: reads that grant nothing (role checks, the sweep's listing), on any resource.
	classRead
	// classNoPermission: calls AWS answers without any permission (sts:GetCallerIdentity).
	classNoPermission
	// classAssumeRole, classFederation, classSessionToken: the STS calls of each credential type.
	classAssumeRole
	classFederation
	classSessionToken
)

// classes places every call of lease.IAMAPI ("iam:" + method) and lease.STSAPI ("sts:" + method).
var classes = map[string]class{
	"iam:CreateUser":                      classUserBounded,
	"iam:PutUserPermissionsBoundary":      classUserBounded,
	"iam:PutUserPolicy":                   classUserBounded,
	"iam:DeleteUserPolicy":                classUserBounded,
	"iam:DetachUserPolicy":                classUserBounded,
	"iam:AttachUserPolicy":                classAttach,
	"iam:DeleteUserPermissionsBoundary":   classRemoveBoundary,
	"iam:GetUser":                         classUser,
	"iam:DeleteUser":                      classUser,
	"iam:TagUser":                         classUser,
	"iam:UntagUser":                       classUser,
	"iam:ListUserTags":                    classUser,
	"iam:GetUserPolicy":                   classUser,
	"iam:ListUserPolicies":                classUser,
	"iam:ListAttachedUserPolicies":        classUser,
	"iam:ListGroupsForUser":               classUser,
	"iam:CreateAccessKey":                 classUser,
	"iam:DeleteAccessKey":                 classUser,
	"iam:ListAccessKeys":                  classUser,
	"iam:GetAccessKeyLastUsed":            classUser,
	"iam:GetLoginProfile":                 classUser,
	"iam:DeleteLoginProfile":              classUser,
	"iam:ListMFADevices":                  classUser,
	"iam:DeactivateMFADevice":             classUser,
	"iam:ListSSHPublicKeys":               classUser,
	"iam:DeleteSSHPublicKey":              classUser,
	"iam:ListSigningCertificates":         classUser,
	"iam:DeleteSigningCertificate":        classUser,
	"iam:ListServiceSpecificCredentials":  classUser,
	"iam:DeleteServiceSpecificCredential": classUser,
	"iam:DeleteVirtualMFADevice":          classMFA,
	"iam:AddUserToGroup":                  classGroupMembership,
	"iam:RemoveUserFromGroup":             classGroupMembership,
	"iam:ListGroupPolicies":               classGroupRead,
	"iam:GetGroupPolicy":                  classGroupRead,
	"iam:ListAttachedGroupPolicies":       classGroupRead,
	"iam:GetPolicy":                       classRead,
	"iam:GetPolicyVersion":                classRead,
	"iam:GetGroup":                        classRead,
	"iam:ListUsers":                       classRead,
	"iam:GetAccountSummary":               classRead,
	"sts:GetCallerIdentity":               classNoPermission,
	"sts:AssumeRole":                      classAssumeRole,
	"sts:GetFederationToken":              classFederation,
	"sts:GetSessionToken":                 classSessionToken,
}

// EngineActions lists every call the engine can make, as IAM actions, sorted: the methods of lease.IAMAPI and
// lease.STSAPI.
func EngineActions() []string {
	var out []string
	for _, it := range []struct {
		v      any
		prefix string
	}{{(*lease.IAMAPI)(nil), "iam:"}, {(*lease.STSAPI)(nil), "sts:"}} {
		typ := reflect.TypeOf(it.v).Elem()
		for i := 0; i < typ.NumMethod(); i++ {
			out = append(out, it.prefix+typ.Method(i).Name)
		}
	}
	sort.Strings(out)
	return out
}

// Unclassified lists the engine calls this package has not placed: they are rendered user-scoped.
func Unclassified() []string {
	var out []string
	for _, a := range EngineActions() {
		if classes[a] == unclassified {
			out = append(out, a)
		}
	}
	return out
}

// Render builds the policy. It fails on settings that would render a policy that cannot work or means nothing.
func Render(s Settings) (Document, error) {
	if err := s.validate(); err != nil {
		return Document{}, err
	}
	types := s.CredentialTypes
	if len(types) == 0 {
		types = []lease.CredentialType{lease.IAMUser}
	}
	has := func(t lease.CredentialType) bool { return slices.Contains(types, t) }

	byClass := map[class][]string{}
	for _, a := range EngineActions() {
		c := classes[a]
		if c == unclassified {
			c = classUser
		}
		byClass[c] = append(byClass[c], a)
	}
	boundary := s.BoundaryARN
	users := userARNs(s.UserPaths)
	groups := groupARNs(s.AllowedGroups)
	withBoundary := func(st Statement) Statement {
		if boundary != "" {
			if st.Condition == nil {
				st.Condition = map[string]map[string][]string{}
			}
			st.Condition["StringEquals"] = map[string][]string{"iam:PermissionsBoundary": {boundary}}
		}
		return st
	}

	d := Document{Version: "2012-10-17"}
	add := func(st Statement) {
		if len(st.Action) > 0 && len(st.Resource) > 0 {
			sort.Strings(st.Action)
			d.Statement = append(d.Statement, st)
		}
	}
	if has(lease.IAMUser) {
		user := slices.Clone(byClass[classUser])
		if boundary == "" {
			// Nothing to condition on: the writes go with the rest, scoped by path only.
			user = append(user, byClass[classUserBounded]...)
			user = append(user, byClass[classRemoveBoundary]...)
		}
		add(Statement{Sid: "ManageLeaseUsersUnderTheProvidersPaths", Effect: "Allow", Action: user, Resource: users})
		if boundary != "" {
			add(withBoundary(Statement{Sid: "ChangeLeaseUsersOnlyWithTheRequiredBoundary", Effect: "Allow",
				Action: slices.Clone(byClass[classUserBounded]), Resource: users}))
		}
		if len(s.AllowedPolicyARNs) > 0 {
			add(withBoundary(Statement{Sid: "AttachOnlyTheAllowedPolicies", Effect: "Allow", Action: slices.Clone(byClass[classAttach]),
				Resource: users, Condition: map[string]map[string][]string{"ArnEquals": {"iam:PolicyARN": sorted(s.AllowedPolicyARNs)}}}))
		}
		add(Statement{Sid: "JoinAndLeaveOnlyTheAllowedGroups", Effect: "Allow", Action: slices.Clone(byClass[classGroupMembership]), Resource: groups})
		add(Statement{Sid: "RemoveVirtualMFADevicesAddedToLeaseUsers", Effect: "Allow", Action: slices.Clone(byClass[classMFA]),
			Resource: []string{"arn:aws:iam::*:mfa/*"}})
	}
	reads := slices.DeleteFunc(slices.Clone(byClass[classRead]), func(a string) bool {
		return (a == "iam:ListUsers" || a == "iam:GetAccountSummary") && !has(lease.IAMUser)
	})
	add(Statement{Sid: "CheckRolesAndSweep", Effect: "Allow", Action: reads, Resource: []string{"*"}})
	if has(lease.FederationToken) {
		add(Statement{Sid: "MergeTheAllowedGroupsPoliciesIntoFederationTokens", Effect: "Allow", Action: slices.Clone(byClass[classGroupRead]), Resource: groups})
		add(Statement{Sid: "FederationTokens", Effect: "Allow", Action: append(slices.Clone(byClass[classFederation]), "sts:TagSession"),
			Resource: []string{"arn:aws:sts::*:federated-user/*"}})
	}
	if has(lease.AssumedRole) {
		add(Statement{Sid: "AssumeTheRoleArns", Effect: "Allow", Action: append(slices.Clone(byClass[classAssumeRole]), "sts:TagSession"),
			Resource: sorted(s.RoleARNs)})
	}
	if has(lease.SessionToken) {
		add(Statement{Sid: "SessionTokens", Effect: "Allow", Action: slices.Clone(byClass[classSessionToken]), Resource: []string{"*"}})
	}
	if boundary != "" {
		add(Statement{Sid: "DenyRemovingTheBoundary", Effect: "Deny", Action: slices.Clone(byClass[classRemoveBoundary]), Resource: []string{"*"}})
		add(Statement{Sid: "DenyUsersWithAnotherBoundaryOrNone", Effect: "Deny", Action: []string{"iam:CreateUser", "iam:PutUserPermissionsBoundary"},
			Resource: []string{"*"}, Condition: map[string]map[string][]string{"StringNotEquals": {"iam:PermissionsBoundary": {boundary}}}})
		add(Statement{Sid: "DenyChangingTheBoundaryPolicy", Effect: "Deny", Action: slices.Clone(BoundaryPolicyEdits), Resource: []string{boundary}})
	}
	return d, nil
}

// BoundaryPolicyEdits are the actions that would change what the boundary policy allows.
var BoundaryPolicyEdits = []string{"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"}

func (s Settings) validate() error {
	if len(s.UserPaths) == 0 && (len(s.CredentialTypes) == 0 || slices.Contains(s.CredentialTypes, lease.IAMUser)) {
		return fmt.Errorf("no user path: iam_user credentials need the path their users are created under")
	}
	for _, p := range s.UserPaths {
		if err := lease.ValidatePath(p); err != nil {
			return fmt.Errorf("user path %q: %w", p, err)
		}
	}
	if s.BoundaryARN != "" {
		if err := lease.ValidatePolicyARN(s.BoundaryARN); err != nil {
			return fmt.Errorf("permissions boundary: %w", err)
		}
	}
	for _, a := range s.AllowedPolicyARNs {
		if err := lease.ValidatePolicyARN(a); err != nil {
			return fmt.Errorf("allowed policy: %w", err)
		}
	}
	for _, g := range s.AllowedGroups {
		if g == "" || strings.ContainsAny(g, "/*?") {
			return fmt.Errorf("group %q: a group name has no path, slash or wildcard", g)
		}
	}
	for _, a := range s.RoleARNs {
		if err := lease.ValidateARN(a); err != nil {
			return fmt.Errorf("role ARN: %w", err)
		}
	}
	for _, t := range s.CredentialTypes {
		if !slices.Contains(lease.CredentialTypes, t) {
			return fmt.Errorf("credential type %q: want one of %v", t, lease.CredentialTypes)
		}
	}
	assumed := slices.Contains(s.CredentialTypes, lease.AssumedRole)
	switch {
	case assumed && len(s.RoleARNs) == 0:
		return fmt.Errorf("assumed_role credentials need the role ARNs they may assume")
	case !assumed && len(s.RoleARNs) > 0:
		return fmt.Errorf("role ARNs are only for assumed_role credentials, which are not among the credential types")
	}
	return nil
}

// userARNs are the lease users' ARNs, path by path. IAM's "*" spans slashes, so a path covers its sub-paths.
func userARNs(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, "arn:aws:iam::*:user"+p+"*")
	}
	return sorted(out)
}

// groupARNs match each group whatever its path: a group's name is unique in the account, its path is not in it.
func groupARNs(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "arn:aws:iam::*:group/"+n, "arn:aws:iam::*:group/*/"+n)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}
