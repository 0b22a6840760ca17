package lease

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/policy"
)

// Summaries of the trust warnings, for callers and tests that look for them.
const (
	SummaryOutlivesExpiry  = "Access Could Outlive The Credential"
	SummaryPolicyUnread    = "Policy Not Checked For Lasting Access"
	SummarySessionTokenAll = "Session Token Carries The Root Identity's Permissions"
)

// trustWarnings are the warnings about what a credential from r could do that no expiry stops: a role's policies
// that grant IAM writes or sts:AssumeRole on any role (the AWS-managed policies the policy package knows, and
// policy_document; any other ARN is read at issue, see PolicyRisks), and session_token, whose credentials carry
// the root identity's own permissions.
func (r Role) trustWarnings(o ValidateOptions) []Problem {
	known := func(a string) bool { return !o.Unknown[a] }
	if !known("credential_type") || !r.CredentialType.valid() {
		return nil
	}
	var ps []Problem
	if r.CredentialType == SessionToken {
		ps = append(ps, Problem{Attribute: "credential_type", Warning: true, Summary: SummarySessionTokenAll,
			Detail: "credential_type \"session_token\" issues sts:GetSessionToken credentials, which carry every permission " +
				"of the provider's own root identity (the IAM user whose key the provider signs with), less only what its " +
				"policies gate on MFA: a session_token role cannot narrow them. Give the root identity no more than these " +
				"credentials should be able to do (the provider's least-privilege guide shows the minimum), or issue " +
				"credential_type \"assumed_role\" or \"federation_token\", whose policies narrow what the credential can do."})
	}
	if !r.CredentialType.in(belongs["policy_arns"]) {
		return ps
	}
	if known("policy_document") && r.PolicyDocument != "" && policy.Validate(r.PolicyDocument) == nil {
		if risks, err := policy.Analyze(r.PolicyDocument); err == nil && r.CredentialType.exposedTo(risks).Any() {
			ps = append(ps, r.outlivesProblem("policy_document", "policy_document grants "+r.CredentialType.exposedTo(risks).Describe()))
		}
	}
	if known("policy_arns") {
		var found []string
		for _, arn := range unique(r.PolicyARNs) {
			if risks, ok := policy.AWSManagedRisks(arn); ok && r.CredentialType.exposedTo(risks).Any() {
				found = append(found, fmt.Sprintf("%s grants %s", arn, r.CredentialType.exposedTo(risks).Describe()))
			}
		}
		if len(found) > 0 {
			ps = append(ps, r.outlivesProblem("policy_arns", "In policy_arns, "+strings.Join(found, "; ")))
		}
	}
	return ps
}

// exposedTo is the part of risks a credential of kind k can use. Federation tokens can call neither IAM nor STS
// (but sts:GetCallerIdentity) through the API; a console session signed in with one can still make IAM writes.
func (k CredentialType) exposedTo(r policy.Risks) policy.Risks {
	if k == FederationToken {
		r.AssumeRole = false
	}
	return r
}

// outlivesProblem is the warning on attr that what grants (a sentence naming the policy and its grants) lets the
// holder keep access past the credential's end, worded for the role's kind.
func (r Role) outlivesProblem(attr, grants string) Problem {
	var end, fix string
	switch r.CredentialType {
	case IAMUser:
		end = "An access key from this role stops working at its lease's expiry (the expiry guard denies it everything " +
			"then), but what the holder did before the expiry goes on: role sessions it assumed with sts:AssumeRole keep " +
			"working for up to 12 hours, and IAM users, access keys, roles or policies it created with IAM write actions " +
			"stay until someone deletes them (sts:GetCallerIdentity, which no policy can deny, also keeps answering)."
		fix = "Narrow the policy to the actions the credential needs, set permissions_boundary_arn to a boundary without " +
			"IAM writes and sts:AssumeRole, or prefer credential_type \"assumed_role\", whose sessions end on their own."
	case AssumedRole:
		end = "The assumed-role session ends on its own, but what the holder did with these rights during it does not: " +
			"role sessions chained from it with sts:AssumeRole keep working for up to an hour after it, and IAM users, " +
			"access keys, roles or policies created with IAM write actions stay until someone deletes them."
		fix = "Narrow the session policy to the actions the credential needs, or give the IAM roles in role_arns a " +
			"permissions boundary without IAM writes and sts:AssumeRole."
	case FederationToken:
		end = "A federation token cannot call IAM through the API, but a console session signed in with it can: IAM users, " +
			"access keys, roles or policies created that way stay after the token expires, until someone deletes them."
		fix = "Narrow the session policy to the actions the credential needs, or remove IAM writes from it."
	}
	return Problem{Attribute: attr, Warning: true, Summary: SummaryOutlivesExpiry,
		Detail: fmt.Sprintf("%s. %s %s", grants, end, fix)}
}

// PolicyRisks reads every policy of role.PolicyARNs that the policy package does not know (customer-managed
// policies, and AWS-managed ones outside its table) with iam:GetPolicy and iam:GetPolicyVersion, all at once, and
// returns a warning for those that grant IAM writes or sts:AssumeRole on any role. It never fails: a policy that
// cannot be read is itself a warning, so that checking never stands in the way of issuing. It makes two calls per
// such policy, in two round trips however many there are, and none when there is no such policy.
func (i *Issuer) PolicyRisks(ctx context.Context, role Role) []Problem {
	if !role.CredentialType.in(belongs["policy_arns"]) {
		return nil
	}
	var arns []string
	for _, arn := range unique(role.PolicyARNs) {
		if _, known := policy.AWSManagedRisks(arn); !known {
			arns = append(arns, arn)
		}
	}
	var (
		mu     sync.Mutex
		found  []string
		unread []string
		wg     sync.WaitGroup
	)
	for _, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			risks, err := i.readPolicyRisks(ctx, arn)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unread = append(unread, fmt.Sprintf("%s: %s", arn, err))
			case role.CredentialType.exposedTo(risks).Any():
				found = append(found, fmt.Sprintf("%s grants %s", arn, role.CredentialType.exposedTo(risks).Describe()))
			}
		}()
	}
	wg.Wait()
	sort.Strings(found)
	sort.Strings(unread)
	var ps []Problem
	if len(found) > 0 {
		ps = append(ps, role.outlivesProblem("policy_arns", "In policy_arns, "+strings.Join(found, "; ")))
	}
	if len(unread) > 0 {
		ps = append(ps, Problem{Attribute: "policy_arns", Warning: true, Summary: SummaryPolicyUnread,
			Detail: fmt.Sprintf("The credential is issued regardless, but these policies of policy_arns could not be read to check "+
				"whether they grant IAM writes or sts:AssumeRole on any role, which would outlive the credential:\n  %s\n\n"+
				"Grant the provider's root identity iam:GetPolicy and iam:GetPolicyVersion (see the least-privilege guide) "+
				"to have them checked.", strings.Join(unread, "\n  "))})
	}
	return ps
}

// readPolicyRisks analyses the default version of a managed policy.
func (i *Issuer) readPolicyRisks(ctx context.Context, arn string) (policy.Risks, error) {
	p, err := i.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return policy.Risks{}, fmt.Errorf("reading policy %s: %w", arn, awsError(err))
	}
	if p.Policy == nil || p.Policy.DefaultVersionId == nil {
		return policy.Risks{}, fmt.Errorf("policy %s has no default version", arn)
	}
	v, err := i.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return policy.Risks{}, fmt.Errorf("reading version %s of policy %s: %w", aws.ToString(p.Policy.DefaultVersionId), arn, awsError(err))
	}
	if v.PolicyVersion == nil || v.PolicyVersion.Document == nil {
		return policy.Risks{}, fmt.Errorf("version %s of policy %s has no document", aws.ToString(p.Policy.DefaultVersionId), arn)
	}
	// IAM returns the document URL-encoded (RFC 3986); PathUnescape leaves a literal "+" alone.
	doc := aws.ToString(v.PolicyVersion.Document)
	if d, err := url.PathUnescape(doc); err == nil {
		doc = d
	}
	risks, err := policy.Analyze(doc)
	if err != nil {
		return policy.Risks{}, fmt.Errorf("reading the document of policy %s: %w", arn, err)
	}
	return risks, nil
}
