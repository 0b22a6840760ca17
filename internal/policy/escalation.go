package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Risks is what a policy grants that can outlast a credential issued with it. The expiry guard on an issued IAM
// user denies everything after the expiry, but it cannot reach role sessions the holder assumed before then, nor
// IAM users, keys, roles or policies the holder created with IAM write rights.
type Risks struct {
	// IAMWrite lists the IAM write actions the policy allows (every IAM action but Get*, List*, Generate* and
	// Simulate*, plus iam:PassRole), as "iam:Name", sorted. Writes scoped only to the caller's own user
	// (${aws:username}) are left out: the expiry guard denies the holder every write to its own user.
	IAMWrite []string
	// AssumeRole says sts:AssumeRole is allowed on every role (Resource "*" or a wildcard that covers any role name).
	AssumeRole bool
}

// Any reports whether the policy grants anything that outlasts an issued credential.
func (r Risks) Any() bool { return len(r.IAMWrite) > 0 || r.AssumeRole }

// Union is what two policies together grant.
func (r Risks) Union(o Risks) Risks {
	seen := map[string]bool{}
	var all []string
	for _, a := range append(append([]string{}, r.IAMWrite...), o.IAMWrite...) {
		if !seen[a] {
			seen[a] = true
			all = append(all, a)
		}
	}
	sort.Strings(all)
	return Risks{IAMWrite: all, AssumeRole: r.AssumeRole || o.AssumeRole}
}

// AllIAMWrite reports whether every IAM write action is allowed (iam:*, * and the like).
func (r Risks) AllIAMWrite() bool { return len(r.IAMWrite) == len(iamWriteActions) }

// Describe says in one sentence what the policy grants, for a diagnostic: "every IAM write action and
// sts:AssumeRole on any role", or "IAM write actions (iam:CreateUser, iam:PassRole) and ...".
func (r Risks) Describe() string {
	var parts []string
	switch n := len(r.IAMWrite); {
	case n == 0:
	case r.AllIAMWrite():
		parts = append(parts, "every IAM write action (iam:*)")
	case n <= 5:
		parts = append(parts, fmt.Sprintf("IAM write actions (%s)", strings.Join(r.IAMWrite, ", ")))
	default:
		parts = append(parts, fmt.Sprintf("%d IAM write actions (%s and %d more)", n, strings.Join(r.IAMWrite[:4], ", "), n-4))
	}
	if r.AssumeRole {
		parts = append(parts, "sts:AssumeRole on any role")
	}
	return strings.Join(parts, " and ")
}

// iamWriteActions are IAM's actions that change something: the IAM API's operations other than Get*, List*,
// Generate* and Simulate*, and iam:PassRole, which has no operation of its own but lets the holder hand a role to
// a service (an instance, a function) that keeps it. iam:CreateServiceLinkedRole and iam:DeleteServiceLinkedRole
// are left out: a service-linked role trusts only its service and its trust policy cannot be changed, so the
// holder cannot keep anything through one (and hundreds of AWS-managed service policies grant them). Matching wildcards against this list, rather than against the
// shape of a pattern, keeps "iam:G*" (only Get* and Generate* exist) from counting as a write.
var iamWriteActions = []string{
	"AcceptDelegationRequest", "AcquireRole", "AddClientIDToOpenIDConnectProvider", "AddRoleToInstanceProfile",
	"AddUserToGroup", "AssociateDelegationRequest", "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy",
	"ChangePassword", "CreateAccessKey", "CreateAccountAlias", "CreateDelegationRequest", "CreateGroup",
	"CreateInstanceProfile", "CreateLoginProfile", "CreateOpenIDConnectProvider", "CreatePolicy",
	"CreatePolicyVersion", "CreateRole", "CreateSAMLProvider", "CreateServiceSpecificCredential", "CreateUser", "CreateVirtualMFADevice", "DeactivateMFADevice",
	"DeleteAccessKey", "DeleteAccountAlias", "DeleteAccountPasswordPolicy", "DeleteGroup", "DeleteGroupPolicy",
	"DeleteInstanceProfile", "DeleteLoginProfile", "DeleteOpenIDConnectProvider", "DeletePolicy",
	"DeletePolicyVersion", "DeleteRole", "DeleteRolePermissionsBoundary", "DeleteRolePolicy",
	"DeleteSAMLProvider", "DeleteSSHPublicKey", "DeleteServerCertificate", "DeleteServiceSpecificCredential", "DeleteSigningCertificate", "DeleteUser", "DeleteUserPermissionsBoundary",
	"DeleteUserPolicy", "DeleteVirtualMFADevice", "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy",
	"DisableOrganizationsRootCredentialsManagement", "DisableOrganizationsRootSessions",
	"DisableOutboundWebIdentityFederation", "EnableMFADevice", "EnableOrganizationsRootCredentialsManagement",
	"EnableOrganizationsRootSessions", "EnableOutboundWebIdentityFederation", "PassRole", "PutAccountProperties",
	"PutGroupPolicy", "PutRolePermissionsBoundary", "PutRolePolicy", "PutUserPermissionsBoundary",
	"PutUserPolicy", "RejectDelegationRequest", "RemoveClientIDFromOpenIDConnectProvider",
	"RemoveRoleFromInstanceProfile", "RemoveUserFromGroup", "ResetServiceSpecificCredential", "ResyncMFADevice",
	"SendDelegationToken", "SetDefaultPolicyVersion", "SetSecurityTokenServicePreferences", "TagInstanceProfile",
	"TagMFADevice", "TagOpenIDConnectProvider", "TagPolicy", "TagRole", "TagSAMLProvider",
	"TagServerCertificate", "TagUser", "UntagInstanceProfile", "UntagMFADevice", "UntagOpenIDConnectProvider",
	"UntagPolicy", "UntagRole", "UntagSAMLProvider", "UntagServerCertificate", "UntagUser", "UpdateAccessKey",
	"UpdateAccountPasswordPolicy", "UpdateAssumeRolePolicy", "UpdateDelegationRequest", "UpdateGroup",
	"UpdateLoginProfile", "UpdateOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint", "UpdateRole",
	"UpdateRoleDescription", "UpdateSAMLProvider", "UpdateSSHPublicKey", "UpdateServerCertificate",
	"UpdateServiceSpecificCredential", "UpdateSigningCertificate", "UpdateUser", "UploadSSHPublicKey",
	"UploadServerCertificate", "UploadSigningCertificate",
}

// Probe ARNs stand for "any resource of this kind": a name nobody would allow or deny by name, so that only a
// wildcard matches it.
const (
	probeName    = "awsdynamic-probe-7f3c/Zq9xW"
	probeAccount = "123456789012"
)

// statement is the part of a policy statement the analysis reads.
type statement struct {
	allow       bool
	conditional bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
}

// Analyze reports what doc, an identity policy, allows that outlasts an issued credential: IAM writes and
// sts:AssumeRole on any role. Wildcards in actions (case-insensitive, as IAM matches them) and resources, NotAction
// and NotResource are honored. An unconditional Deny on Resource "*" takes its actions away; any other Deny, and
// any Condition on an Allow, is assumed not to (the holder may meet the condition, or use another resource), so the
// result errs towards reporting a grant. An error means doc is not a policy document that can be read.
func Analyze(doc string) (Risks, error) {
	stmts, err := statements(doc)
	if err != nil {
		return Risks{}, err
	}
	var r Risks
	for _, a := range iamWriteActions {
		action := "iam:" + a
		if allowed(stmts, action, anyIAMObject) {
			r.IAMWrite = append(r.IAMWrite, action)
		}
	}
	r.AssumeRole = allowed(stmts, "sts:AssumeRole", anyRole)
	return r, nil
}

// target is the resource side of a question: which Resource patterns reach it, and which NotResource patterns
// keep it out of reach.
type target struct {
	covers   func(pattern string) bool
	excludes func(pattern string) bool
}

// anyIAMObject is an IAM write's target: any IAM user, role or policy but the caller's own user.
var anyIAMObject = target{
	covers: func(p string) bool {
		if p == "*" {
			return true
		}
		parts := strings.SplitN(p, ":", 6)
		if len(parts) < 6 {
			// "arn:*", "arn:aws:iam::*" and the like: a wildcard that may run over the separators.
			return glob(p, probeARN("aws", probeAccount, "user"), false)
		}
		if !glob(parts[2], "iam", false) {
			return false
		}
		// Only the caller's own user: the expiry guard denies the holder every write to it.
		// Its name is the last path segment; a wildcard in the path before it still names only that user.
		res := parts[5]
		self := strings.HasPrefix(res, "user/") && res[strings.LastIndex(res, "/")+1:] == "${aws:username}"
		return !self
	},
	excludes: func(p string) bool {
		for _, kind := range []string{"user", "role", "policy"} {
			if !glob(p, probeARN("aws", probeAccount, kind), false) {
				return false
			}
		}
		return true
	},
}

// anyRole is sts:AssumeRole's target: every role name. A Resource covers it when it matches every role, with the
// partition and account the pattern names itself, so that "arn:aws:iam::111122223333:role/*" counts: it covers
// every role of that account. A NotResource keeps it out of reach only when it matches every role of any account.
var anyRole = target{
	covers: func(p string) bool {
		partition, account := "aws", probeAccount
		if parts := strings.SplitN(p, ":", 6); len(parts) == 6 {
			if parts[1] != "" && !strings.ContainsAny(parts[1], "*?") {
				partition = parts[1]
			}
			if parts[4] != "" && !strings.ContainsAny(parts[4], "*?") {
				account = parts[4]
			}
		}
		return glob(p, probeARN(partition, account, "role"), false)
	},
	excludes: func(p string) bool { return glob(p, probeARN("aws", probeAccount, "role"), false) },
}

func probeARN(partition, account, kind string) string {
	return "arn:" + partition + ":iam::" + account + ":" + kind + "/" + probeName
}

// allowed says whether some Allow statement grants action on t, and no unconditional Deny on every resource takes
// it away.
func allowed(stmts []statement, action string, t target) bool {
	granted := false
	for _, s := range stmts {
		if !s.matchesAction(action) {
			continue
		}
		if !s.allow {
			if !s.conditional && !s.notResource && contains(s.resources, "*") {
				return false
			}
			continue
		}
		reached := s.notResource // everything but the listed resources
		for _, p := range s.resources {
			if s.notResource && t.excludes(p) {
				reached = false
			}
			if !s.notResource && t.covers(p) {
				reached = true
			}
		}
		granted = granted || reached
	}
	return granted
}

func (s statement) matchesAction(action string) bool {
	for _, p := range s.actions {
		if glob(p, action, true) {
			return !s.notAction
		}
	}
	return s.notAction
}

// glob matches s against an IAM pattern where * is any run of characters and ? is one character.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, n := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(n) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// statements reads doc's statements. It is lenient where Validate is strict: it needs only Effect, the actions and
// the resources.
func statements(doc string) ([]statement, error) {
	root, err := parse(doc)
	if err != nil {
		return nil, err
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("a policy document must be a JSON object")
	}
	var list []any
	switch s := obj["Statement"].(type) {
	case map[string]any:
		list = []any{s}
	case []any:
		list = s
	default:
		return nil, errors.New(`the policy document has no "Statement" object or array`)
	}
	out := make([]statement, 0, len(list))
	for i, raw := range list {
		st, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is not a JSON object", i+1)
		}
		s := statement{allow: st["Effect"] == "Allow"}
		if !s.allow && st["Effect"] != "Deny" {
			return nil, fmt.Errorf(`statement %d: "Effect" must be "Allow" or "Deny"`, i+1)
		}
		_, s.conditional = st["Condition"]
		if s.actions, s.notAction, err = pair(st, "Action", "NotAction"); err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		if s.resources, s.notResource, err = pair(st, "Resource", "NotResource"); err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func pair(st map[string]any, name, notName string) ([]string, bool, error) {
	v, has := st[name]
	not := false
	if !has {
		if v, has = st[notName]; !has {
			return nil, false, fmt.Errorf("missing %q or %q", name, notName)
		}
		not = true
	}
	switch x := v.(type) {
	case string:
		return []string{x}, not, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false, fmt.Errorf("%q holds %s, not a string", name, article(e))
			}
			out = append(out, s)
		}
		return out, not, nil
	}
	return nil, false, fmt.Errorf("%q must be a string or an array of strings", name)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
