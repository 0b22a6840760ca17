package lease

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// Issue creates what role describes and returns its lease and the credentials. If any step fails, what was created
// is removed before Issue returns, and the *IssueError says whether that removal was complete. Errors found before
// the first AWS call (a username template that renders an invalid name, a document that is not JSON) are plain
// errors: nothing was created.
func (i *Issuer) Issue(ctx context.Context, role Role, req Request) (*Lease, Credentials, error) {
	switch role.CredentialType {
	case IAMUser:
		return i.issueIAMUser(ctx, role, req)
	case AssumedRole, FederationToken, SessionToken:
		return i.issueSTS(ctx, role, req)
	default:
		return nil, Credentials{}, fmt.Errorf("issuing credential for role %q: unknown credential type %q: expected one of %s",
			role.Name, role.CredentialType, credentialTypeList())
	}
}

func credentialTypeList() string {
	names := make([]string, len(CredentialTypes))
	for n, t := range CredentialTypes {
		names[n] = string(t)
	}
	return strings.Join(names, ", ")
}

func (i *Issuer) issueIAMUser(ctx context.Context, role Role, req Request) (*Lease, Credentials, error) {
	fail := func(format string, args ...any) (*Lease, Credentials, error) {
		return nil, Credentials{}, fmt.Errorf("issuing credential for role %q: "+format, append([]any{role.Name}, args...)...)
	}
	name, err := i.names.Render(NameData{RoleName: role.Name, DisplayName: req.DisplayName, Type: "IAM"})
	if err != nil {
		return fail("%w", err)
	}
	if err := ValidateUserName(name); err != nil {
		return fail("the username template rendered %q, which IAM rejects: %w", name, err)
	}
	var document string
	if role.PolicyDocument != "" {
		if document, err = policy.Normalize(role.PolicyDocument); err != nil {
			return fail("policy_document: %w", err)
		}
	}
	path := i.pathFor(role)
	if guard, size := GuardSize(i.partition, path, name, role.Network), policy.Size(document); guard+size > policy.InlineBudget {
		return fail("policy_document is %d characters and the expiry guard of IAM user %q takes %d: together over IAM's %d-character inline policy budget per user. Move statements into managed policies (policy_arns), or shorten the user's name or path",
			size, name, guard, policy.InlineBudget)
	}

	// Whole seconds, so that the lease, the expiry tag and the guard all say the same instant.
	now := i.clock.Now().UTC().Truncate(time.Second)
	ttl, max := TTLs(role, req, i.defaultTTL, i.maxTTL)
	l := &Lease{
		ID:           newLeaseID(),
		Kind:         IAMUser,
		Role:         role.Name,
		UserName:     name,
		UserPath:     path,
		TTL:          ttl,
		IssuedAt:     now,
		ExpiresAt:    now.Add(ttl),
		MaxExpiresAt: now.Add(max),
		Network:      role.Network.normalized(),
	}

	l.Tags = i.roleTags(role)
	in := &iam.CreateUserInput{
		UserName: aws.String(name),
		Path:     aws.String(l.UserPath),
		Tags:     iamTags(i.withAudit(leaseTags(l))),
	}
	if role.PermissionsBoundaryARN != "" {
		in.PermissionsBoundary = aws.String(role.PermissionsBoundaryARN)
	}
	if err := i.quota.reserve(ctx); err != nil {
		return fail("%w", err)
	}
	created, err := i.iam.CreateUser(ctx, in)
	if err != nil {
		i.quota.release() // if the user was made after all, the rollback's DeleteUser counts it again: an undercount by one
		// Even a refusal is no proof that nothing was created (the SDK may have retried an attempt whose answer
		// was lost), and the name alone is no proof that a user is ours: rolling back asks for the lease-ID tag.
		return nil, Credentials{}, i.rollback(ctx, role, l, fmt.Sprintf("creating IAM user %q", name), awsError(err), true)
	}
	l.UserARN = aws.ToString(created.User.Arn)
	l.UserID = aws.ToString(created.User.UserId)

	if err := i.attachAll(ctx, role, l, document); err != nil {
		return nil, Credentials{}, i.rollback(ctx, role, l, err.step, err.err, false)
	}

	// Last: a key exists only on a user whose guard and policies are all in place.
	key, err := i.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return nil, Credentials{}, i.rollback(ctx, role, l, fmt.Sprintf("creating an access key for IAM user %q", name),
			awsError(err), false)
	}
	l.AccessKeyID = aws.ToString(key.AccessKey.AccessKeyId)
	if err := i.removeLostKeys(ctx, l, key.ResultMetadata); err != nil {
		return nil, Credentials{}, i.rollback(ctx, role, l, fmt.Sprintf("removing access keys of IAM user %q whose creation was not answered", name),
			err, false)
	}
	creds := Credentials{
		AccessKeyID:     l.AccessKeyID,
		SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey),
		Expiration:      l.ExpiresAt,
	}

	if req.WaitForPropagation {
		if err := i.waitForPropagation(ctx, l, creds, req.PropagationTimeout); err != nil {
			return nil, Credentials{}, i.rollback(ctx, role, l, "checking the new access key", err, false)
		}
	}
	return l, creds, nil
}

// removeLostKeys deletes the keys that earlier attempts of a CreateAccessKey the SDK retried may have made: their
// answers were lost, so nobody holds their secrets and no lease names them, yet they are keys of the user. The SDK
// retries a call whose connection broke, so one CreateAccessKey can make two keys.
func (i *Issuer) removeLostKeys(ctx context.Context, l *Lease, md middleware.Metadata) error {
	attempts, ok := retry.GetAttemptResults(md)
	if !ok || !slices.ContainsFunc(attempts.Results, func(r retry.AttemptResult) bool {
		return r.Err != nil && createMayHaveHappened(r.Err)
	}) {
		return nil
	}
	user := aws.String(l.UserName)
	out, err := i.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return fmt.Errorf("listing them: %w", awsError(err))
	}
	var deletes []func() error
	for _, k := range out.AccessKeyMetadata {
		if id := aws.ToString(k.AccessKeyId); id != l.AccessKeyID {
			deletes = append(deletes, func() error {
				_, err := i.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: aws.String(id)})
				if err = ignoreNoSuchEntity(err); err != nil {
					return fmt.Errorf("deleting access key %s: %w", id, awsError(err))
				}
				return nil
			})
		}
	}
	return concurrently(deletes...)
}

// stepError is a failed step of Issue: what was being done, and AWS's answer.
type stepError struct {
	step string
	err  error
}

// attachAll puts the guard, the managed policies, the document and the group memberships on the new user at once,
// and records in l exactly those that succeeded. Every call is waited for, even after one failed: canceling the
// others would not stop AWS from carrying out a request already sent, and one that lands after the rollback listed
// the user would be left behind (IAM refuses DeleteUser then; a user's group membership would outlive it in some
// emulators). Waiting costs a failed issue at most one round trip.
func (i *Issuer) attachAll(ctx context.Context, role Role, l *Lease, document string) *stepError {
	user := aws.String(l.UserName)
	var (
		mu       sync.Mutex
		inline   = map[string]bool{}
		attached = map[string]bool{}
		joined   = map[string]bool{}
		first    *stepError
	)
	var g errgroup.Group
	run := func(step string, call func() error, record func()) {
		g.Go(func() error {
			if err := call(); err != nil {
				mu.Lock()
				if first == nil {
					first = &stepError{step: step, err: awsError(err)}
				}
				mu.Unlock()
				return err
			}
			mu.Lock()
			record()
			mu.Unlock()
			return nil
		})
	}

	guard := l.guardDocument(l.ExpiresAt)
	run(fmt.Sprintf("putting the expiry guard policy on IAM user %q", l.UserName), func() error {
		_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: user, PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(guard)})
		return err
	}, func() { inline[GuardPolicyName] = true })

	for _, arn := range unique(role.PolicyARNs) {
		run(fmt.Sprintf("attaching policy %s to IAM user %q", arn, l.UserName), func() error {
			_, err := i.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(arn)})
			return err
		}, func() { attached[arn] = true })
	}

	if document != "" {
		run(fmt.Sprintf("putting the role's policy document on IAM user %q as %s", l.UserName, DocumentPolicyName), func() error {
			_, err := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
				UserName: user, PolicyName: aws.String(DocumentPolicyName), PolicyDocument: aws.String(document)})
			return err
		}, func() { inline[DocumentPolicyName] = true })
	}

	for _, group := range unique(role.IAMGroups) {
		run(fmt.Sprintf("adding IAM user %q to group %q", l.UserName, group), func() error {
			_, err := i.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: user, GroupName: aws.String(group)})
			return err
		}, func() { joined[group] = true })
	}

	_ = g.Wait()
	l.InlinePolicies = keep([]string{GuardPolicyName, DocumentPolicyName}, inline)
	l.PolicyARNs = keep(unique(role.PolicyARNs), attached)
	l.Groups = keep(unique(role.IAMGroups), joined)
	return first
}

// pathFor is the path a role's users live under.
func (i *Issuer) pathFor(role Role) string {
	if role.UserPath != "" {
		return role.UserPath
	}
	return i.userPath
}

// roleTags are the tags a lease's user carries besides the lease's own: the provider's defaults under the role's
// iam_tags (see mergeTags).
func (i *Issuer) roleTags(role Role) map[string]string { return mergeTags(i.defaultTags, role.IAMTags) }

// leaseTags are all the tags of a lease's user: l.Tags and the lease's own, which win (validation refuses keys
// that collide with them in any case).
func leaseTags(l *Lease) map[string]string {
	tags := make(map[string]string, len(l.Tags)+LeaseTagCount)
	for k, v := range l.Tags {
		tags[k] = v
	}
	tags[TagLeaseID] = l.ID
	tags[TagRole] = l.Role
	tags[TagExpiresAt] = formatExpiry(l.ExpiresAt)
	return tags
}

// formatExpiry is how the expiry tag writes a date: RFC 3339 in UTC.
func formatExpiry(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// iamTags sorts by key, so that requests are reproducible.
func iamTags(m map[string]string) []types.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// unique drops repeats and keeps the first occurrence's order.
func unique(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// keep returns the elements of list that are in set, in list's order; nil when none are.
func keep(list []string, set map[string]bool) []string {
	var out []string
	for _, s := range list {
		if set[s] {
			out = append(out, s)
		}
	}
	return out
}
