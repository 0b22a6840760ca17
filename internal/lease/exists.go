package lease

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Exists reports whether the lease's credential is still there: for an IAM user, the user and its access key. STS
// credentials cannot be looked up; they exist until they expire.
func (i *Issuer) Exists(ctx context.Context, l *Lease) (bool, error) {
	p, err := i.Presence(ctx, l)
	return p.User && p.Key, err
}

// Presence is what of an IAM-user lease is still in AWS. User is true only for the lease's own user: a user of the
// same name that is not the lease's (Foreign says why) counts as gone.
type Presence struct {
	User, Key bool
	Foreign   string
}

// Presence reports separately whether the lease's user and its access key exist: a user without its key (a revoke
// that failed after deleting the key) still has to be revoked.
func (i *Issuer) Presence(ctx context.Context, l *Lease) (Presence, error) {
	if l.Kind != IAMUser {
		return Presence{User: true, Key: true}, nil
	}
	user := aws.String(l.UserName)
	var userFound, keyFound bool
	var foreign string
	err := concurrently(
		func() error {
			out, err := i.iam.GetUser(ctx, &iam.GetUserInput{UserName: user})
			if IsNoSuchEntity(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading IAM user %q: %w", l.UserName, awsError(err))
			}
			foreign = notLeaseUser(l, out.User)
			userFound = foreign == ""
			return nil
		},
		func() error {
			p := iam.NewListAccessKeysPaginator(i.iam, &iam.ListAccessKeysInput{UserName: user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if IsNoSuchEntity(err) {
					return nil
				}
				if err != nil {
					return fmt.Errorf("listing the access keys of IAM user %q: %w", l.UserName, awsError(err))
				}
				for _, k := range page.AccessKeyMetadata {
					if aws.ToString(k.AccessKeyId) == l.AccessKeyID {
						keyFound = true
					}
				}
			}
			return nil
		},
	)
	if err != nil {
		return Presence{}, fmt.Errorf("checking lease %s: %w", l.ID, err)
	}
	return Presence{User: userFound, Key: keyFound && userFound, Foreign: foreign}, nil
}
