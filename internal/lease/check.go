package lease

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// MissingError lists what a role refers to that does not exist in IAM, each list sorted.
type MissingError struct {
	Role        string
	PolicyARNs  []string
	BoundaryARN string // empty when the boundary exists or the role has none
	Groups      []string
}

func (e *MissingError) Error() string {
	var parts []string
	if len(e.PolicyARNs) > 0 {
		parts = append(parts, "policies "+strings.Join(e.PolicyARNs, ", "))
	}
	if e.BoundaryARN != "" {
		parts = append(parts, "permissions boundary "+e.BoundaryARN)
	}
	if len(e.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(e.Groups, ", "))
	}
	return fmt.Sprintf("role %q refers to IAM objects that do not exist: %s", e.Role, strings.Join(parts, "; "))
}

// CheckRole looks up every managed policy, the permissions boundary and every group the role names, at once. It
// returns a *MissingError naming exactly those that do not exist, or the lookup errors.
func (i *Issuer) CheckRole(ctx context.Context, r Role) error {
	var (
		mu      sync.Mutex
		missing = &MissingError{Role: r.Name}
		fns     []func() error
	)
	getPolicy := func(arn string, record func()) func() error {
		return func() error {
			_, err := i.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
			if IsNoSuchEntity(err) {
				mu.Lock()
				record()
				mu.Unlock()
				return nil
			}
			if err != nil {
				return fmt.Errorf("looking up policy %s: %w", arn, awsError(err))
			}
			return nil
		}
	}
	for _, arn := range unique(r.PolicyARNs) {
		fns = append(fns, getPolicy(arn, func() { missing.PolicyARNs = append(missing.PolicyARNs, arn) }))
	}
	if b := r.PermissionsBoundaryARN; b != "" {
		fns = append(fns, getPolicy(b, func() { missing.BoundaryARN = b }))
	}
	for _, group := range unique(r.IAMGroups) {
		fns = append(fns, func() error {
			// GetGroup also lists members; one is enough to learn the group exists.
			_, err := i.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)})
			if IsNoSuchEntity(err) {
				mu.Lock()
				missing.Groups = append(missing.Groups, group)
				mu.Unlock()
				return nil
			}
			if err != nil {
				return fmt.Errorf("looking up group %q: %w", group, awsError(err))
			}
			return nil
		})
	}
	if err := concurrently(fns...); err != nil {
		return fmt.Errorf("checking role %q: %w", r.Name, err)
	}
	if len(missing.PolicyARNs) == 0 && missing.BoundaryARN == "" && len(missing.Groups) == 0 {
		return nil
	}
	sort.Strings(missing.PolicyARNs)
	sort.Strings(missing.Groups)
	return missing
}
