package lease

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// Update applies a role change to a live IAM-user lease in place, keeping its user and access key: managed policies,
// the policy document, groups, iam_tags, the permissions boundary and the allowed networks (in the guard). The changes are made at once and each is
// recorded in l only if it succeeded, so that l still lists everything revoke must remove; every failure is
// reported. A change of credential type or user path cannot be made in place and is refused before any call.
// STS leases hold nothing to update: the role change applies to the next credential.
func (i *Issuer) Update(ctx context.Context, l *Lease, from, to Role) error {
	if l.Kind != IAMUser {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("updating lease %s to role %q: "+format, append([]any{l.ID, to.Name}, args...)...)
	}
	if to.CredentialType != l.Kind {
		return fail("the credential type changes from %s to %s, which needs a new credential", l.Kind, to.CredentialType)
	}
	if p := i.pathFor(to); p != l.UserPath {
		return fail("the user path changes from %s to %s, which needs a new credential", l.UserPath, p)
	}
	var document string
	if to.PolicyDocument != "" {
		var err error
		if document, err = policy.Normalize(to.PolicyDocument); err != nil {
			return fail("policy_document: %w", err)
		}
	}

	var (
		mu       sync.Mutex
		user     = aws.String(l.UserName)
		attached = map[string]bool{}
		detached = map[string]bool{}
		joined   = map[string]bool{}
		left     = map[string]bool{}
		docState = 0 // +1 put, -1 deleted
		fns      []func() error
	)
	step := func(call func() error, what string, record func()) {
		fns = append(fns, func() error {
			if err := call(); err != nil {
				return fmt.Errorf("%s: %w", what, awsError(err))
			}
			mu.Lock()
			record()
			mu.Unlock()
			return nil
		})
	}
	wantARNs, wantGroups := unique(to.PolicyARNs), unique(to.IAMGroups)

	for _, arn := range wantARNs {
		if !slices.Contains(l.PolicyARNs, arn) {
			step(func() error {
				_, err := i.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(arn)})
				return err
			}, fmt.Sprintf("attaching policy %s to IAM user %q", arn, l.UserName), func() { attached[arn] = true })
		}
	}
	for _, arn := range l.PolicyARNs {
		if !slices.Contains(wantARNs, arn) {
			step(func() error {
				_, err := i.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: aws.String(arn)})
				return ignoreNoSuchEntity(err)
			}, fmt.Sprintf("detaching policy %s from IAM user %q", arn, l.UserName), func() { detached[arn] = true })
		}
	}

	hasDoc := slices.Contains(l.InlinePolicies, DocumentPolicyName)
	switch {
	case document == "" && hasDoc:
		step(func() error {
			_, err := i.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(DocumentPolicyName)})
			return ignoreNoSuchEntity(err)
		}, fmt.Sprintf("deleting the role's policy document from IAM user %q", l.UserName), func() { docState = -1 })
	case document != "" && (!hasDoc || !sameDocument(from.PolicyDocument, to.PolicyDocument)):
		step(func() error {
			_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
				UserName: user, PolicyName: aws.String(DocumentPolicyName), PolicyDocument: aws.String(document)})
			return err
		}, fmt.Sprintf("putting the role's policy document on IAM user %q as %s", l.UserName, DocumentPolicyName),
			func() { docState = +1 })
	}

	for _, group := range wantGroups {
		if !slices.Contains(l.Groups, group) {
			step(func() error {
				_, err := i.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String(group)})
				return err
			}, fmt.Sprintf("adding IAM user %q to group %q", l.UserName, group), func() { joined[group] = true })
		}
	}
	for _, group := range l.Groups {
		if !slices.Contains(wantGroups, group) {
			step(func() error {
				_, err := i.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: user, GroupName: aws.String(group)})
				return ignoreNoSuchEntity(err)
			}, fmt.Sprintf("removing IAM user %q from group %q", l.UserName, group), func() { left[group] = true })
		}
	}

	set, unset, nextTags := i.tagChanges(l, to)
	tagged, untagged := len(set) == 0, len(unset) == 0
	if !tagged {
		step(func() error {
			_, err := i.iam.TagUser(ctx, &iam.TagUserInput{UserName: user, Tags: iamTags(set)})
			return err
		}, fmt.Sprintf("tagging IAM user %q", l.UserName), func() { tagged = true })
	}
	if !untagged {
		step(func() error {
			_, err := i.iam.UntagUser(ctx, &iam.UntagUserInput{UserName: user, TagKeys: unset})
			return err
		}, fmt.Sprintf("removing tags %v from IAM user %q", unset, l.UserName), func() { untagged = true })
	}

	if b := to.PermissionsBoundaryARN; b != from.PermissionsBoundaryARN {
		if b != "" {
			step(func() error {
				_, err := i.iam.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{
					UserName: user, PermissionsBoundary: aws.String(b)})
				return err
			}, fmt.Sprintf("setting the permissions boundary of IAM user %q to %s", l.UserName, b), func() {})
		} else {
			step(func() error {
				_, err := i.iam.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: user})
				return ignoreNoSuchEntity(err)
			}, fmt.Sprintf("removing the permissions boundary of IAM user %q", l.UserName), func() {})
		}
	}

	// The allowed networks live in the guard: it is written again with the same expiry and the new networks.
	network := to.Network.normalized()
	if !network.Equal(l.Network) {
		if l.UserARN == "" {
			return fail("the lease records no ARN for IAM user %q, which its guard needs", l.UserName)
		}
		step(func() error {
			_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: user, PolicyName: aws.String(GuardPolicyName),
				PolicyDocument: aws.String(GuardDocumentFor(l.ExpiresAt, l.UserARN, network))})
			return err
		}, fmt.Sprintf("writing the expiry guard of IAM user %q for the allowed networks %s", l.UserName, network), func() { l.Network = network })
	}

	err := concurrently(fns...)

	l.PolicyARNs = merge(l.PolicyARNs, detached, wantARNs, attached)
	l.Groups = merge(l.Groups, left, wantGroups, joined)
	switch docState {
	case +1:
		if !hasDoc {
			l.InlinePolicies = append(l.InlinePolicies, DocumentPolicyName)
		}
	case -1:
		l.InlinePolicies = slices.DeleteFunc(l.InlinePolicies, func(s string) bool { return s == DocumentPolicyName })
	}
	if tagged {
		l.Role = to.Name
	}
	if tagged && untagged {
		l.Tags = nextTags
	}
	if err != nil {
		return fail("%w", err)
	}
	return nil
}

// tagChanges compares the tags the user carries (l.Tags, as last written) with those it should carry under to: the
// keys to set (new or changed) and the keys to remove, and the tags it carries once both are done. IAM's tag keys
// are case-insensitive: a key that only changes case is set, not removed. A lease recorded before tags were (nil
// l.Tags) gets every tag set and none removed.
func (i *Issuer) tagChanges(l *Lease, to Role) (set map[string]string, unset []string, next map[string]string) {
	next = i.roleTags(to)
	set = map[string]string{}
	for k, v := range next {
		if old, ok := l.Tags[k]; !ok || old != v {
			set[k] = v
		}
	}
	if to.Name != l.Role {
		set[TagRole] = to.Name
	}
	for k := range l.Tags {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(next)), func(n string) bool { return strings.EqualFold(n, k) }) {
			unset = append(unset, k)
		}
	}
	sort.Strings(unset)
	return set, unset, next
}

// UserTags are the tags an IAM user issued from role carries besides the lease's own: the provider's default_tags
// under the role's iam_tags.
func (i *Issuer) UserTags(role Role) map[string]string { return i.roleTags(role) }

// TagsOutOfDate says whether the user of a live lease carries other tags than role (with the provider's current
// default_tags) gives it: a change of default_tags reaches live users by an Update.
func (i *Issuer) TagsOutOfDate(l *Lease, role Role) bool {
	if l.Kind != IAMUser {
		return false
	}
	set, unset, _ := i.tagChanges(l, role)
	delete(set, TagRole)
	return len(set) > 0 || len(unset) > 0
}

// sameDocument says whether two documents mean the same policy; when either cannot be compared, they differ, and
// the new one is written.
func sameDocument(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	eq, err := policy.Equivalent(a, b)
	return err == nil && eq
}

// merge is had without removed, then the elements of want that were added, in want's order.
func merge(had []string, removed map[string]bool, want []string, added map[string]bool) []string {
	var out []string
	for _, s := range had {
		if !removed[s] {
			out = append(out, s)
		}
	}
	for _, s := range want {
		if added[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
