package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Revoke removes everything the lease created, and anything attached to its user since, then the user. It is
// idempotent: what is already gone (NoSuchEntity) counts as removed, and revoking a lease whose user no longer
// exists succeeds. STS credentials cannot be revoked before they expire; for them Revoke does nothing.
//
// Round 1 deletes what the lease recorded and, at the same time, lists what may have been added out of band.
// Round 2 deletes those extras, if there are any. Round 3 deletes the user. IAM refuses DeleteUser while anything
// is left, so a DeleteUser that succeeds proves the user is gone with everything on it: errors of the earlier
// rounds (a listing AWS could not answer, say) are reported only when DeleteUser fails.
func (i *Issuer) Revoke(ctx context.Context, l *Lease) error {
	switch l.Kind {
	case IAMUser:
	case AssumedRole, FederationToken, SessionToken:
		return nil
	default:
		return fmt.Errorf("revoking lease %s: unknown credential type %q", l.ID, l.Kind)
	}
	if l.UserName == "" {
		return nil
	}
	u := &userCleanup{iam: i.iam, lease: l, user: aws.String(l.UserName)}

	roundErr := concurrently(append(u.deleteKnown(ctx), u.listAll(ctx)...)...)
	if extras := u.deleteExtras(ctx); len(extras) > 0 {
		roundErr = errors.Join(roundErr, concurrently(extras...))
	}

	_, err := i.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: u.user})
	if err = ignoreNoSuchEntity(err); err == nil {
		return nil
	}
	err = fmt.Errorf("deleting IAM user %q: %w", l.UserName, awsError(err))
	if roundErr != nil {
		err = fmt.Errorf("%w; before that: %w", err, roundErr)
	}
	return fmt.Errorf("revoking lease %s: %w", l.ID, err)
}

// userCleanup is one revoke of an IAM user: what it found on the user, and the calls that remove it.
type userCleanup struct {
	iam   IAMAPI
	lease *Lease
	user  *string

	// Filled by listAll, each by its own goroutine.
	accessKeys   []string
	inline       []string
	attached     []string
	groups       []string
	loginProfile bool
	mfaSerials   []string
	sshKeys      []string
	signingCerts []string
	serviceCreds []string
}

// deleteKnown removes what the lease recorded creating.
func (u *userCleanup) deleteKnown(ctx context.Context) []func() error {
	l := u.lease
	var fns []func() error
	if l.AccessKeyID != "" {
		fns = append(fns, u.deleteAccessKey(ctx, l.AccessKeyID))
	}
	for _, name := range l.InlinePolicies {
		fns = append(fns, u.deleteInlinePolicy(ctx, name))
	}
	for _, arn := range l.PolicyARNs {
		fns = append(fns, u.detachPolicy(ctx, arn))
	}
	for _, group := range l.Groups {
		fns = append(fns, u.leaveGroup(ctx, group))
	}
	return fns
}

// deleteExtras removes what listAll found beyond what the lease recorded.
func (u *userCleanup) deleteExtras(ctx context.Context) []func() error {
	l := u.lease
	var fns []func() error
	for _, id := range u.accessKeys {
		if id != l.AccessKeyID {
			fns = append(fns, u.deleteAccessKey(ctx, id))
		}
	}
	for _, name := range u.inline {
		if !slices.Contains(l.InlinePolicies, name) {
			fns = append(fns, u.deleteInlinePolicy(ctx, name))
		}
	}
	for _, arn := range u.attached {
		if !slices.Contains(l.PolicyARNs, arn) {
			fns = append(fns, u.detachPolicy(ctx, arn))
		}
	}
	for _, group := range u.groups {
		if !slices.Contains(l.Groups, group) {
			fns = append(fns, u.leaveGroup(ctx, group))
		}
	}
	if u.loginProfile {
		fns = append(fns, func() error {
			_, err := u.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u.user})
			return u.wrap(err, "deleting the console password")
		})
	}
	for _, serial := range u.mfaSerials {
		fns = append(fns, func() error {
			_, err := u.iam.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: u.user, SerialNumber: aws.String(serial)})
			if err := u.wrap(err, "deactivating MFA device "+serial); err != nil {
				return err
			}
			// A virtual device's serial is its ARN; it would outlive the user, useless, so it goes too. Hardware
			// and FIDO devices belong to whoever holds them.
			if !strings.Contains(serial, ":mfa/") {
				return nil
			}
			_, err = u.iam.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
			return u.wrap(err, "deleting virtual MFA device "+serial)
		})
	}
	for _, id := range u.sshKeys {
		fns = append(fns, func() error {
			_, err := u.iam.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: u.user, SSHPublicKeyId: aws.String(id)})
			return u.wrap(err, "deleting SSH public key "+id)
		})
	}
	for _, id := range u.signingCerts {
		fns = append(fns, func() error {
			_, err := u.iam.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: u.user, CertificateId: aws.String(id)})
			return u.wrap(err, "deleting signing certificate "+id)
		})
	}
	for _, id := range u.serviceCreds {
		fns = append(fns, func() error {
			_, err := u.iam.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{
				UserName: u.user, ServiceSpecificCredentialId: aws.String(id)})
			return u.wrap(err, "deleting service-specific credential "+id)
		})
	}
	return fns
}

// listAll lists everything IAM lets hang on a user and blocks DeleteUser while it does. A user that does not exist
// has nothing on it.
func (u *userCleanup) listAll(ctx context.Context) []func() error {
	return []func() error{
		func() error {
			p := iam.NewListAccessKeysPaginator(u.iam, &iam.ListAccessKeysInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "access keys")
				}
				for _, k := range page.AccessKeyMetadata {
					u.accessKeys = append(u.accessKeys, aws.ToString(k.AccessKeyId))
				}
			}
			return nil
		},
		func() error {
			p := iam.NewListUserPoliciesPaginator(u.iam, &iam.ListUserPoliciesInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "inline policies")
				}
				u.inline = append(u.inline, page.PolicyNames...)
			}
			return nil
		},
		func() error {
			p := iam.NewListAttachedUserPoliciesPaginator(u.iam, &iam.ListAttachedUserPoliciesInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "attached policies")
				}
				for _, ap := range page.AttachedPolicies {
					u.attached = append(u.attached, aws.ToString(ap.PolicyArn))
				}
			}
			return nil
		},
		func() error {
			p := iam.NewListGroupsForUserPaginator(u.iam, &iam.ListGroupsForUserInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "groups")
				}
				for _, g := range page.Groups {
					u.groups = append(u.groups, aws.ToString(g.GroupName))
				}
			}
			return nil
		},
		func() error {
			_, err := u.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: u.user})
			if err == nil {
				u.loginProfile = true
			}
			return u.wrapList(err, "console password (login profile)")
		},
		func() error {
			p := iam.NewListMFADevicesPaginator(u.iam, &iam.ListMFADevicesInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "MFA devices")
				}
				for _, d := range page.MFADevices {
					u.mfaSerials = append(u.mfaSerials, aws.ToString(d.SerialNumber))
				}
			}
			return nil
		},
		func() error {
			p := iam.NewListSSHPublicKeysPaginator(u.iam, &iam.ListSSHPublicKeysInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "SSH public keys")
				}
				for _, k := range page.SSHPublicKeys {
					u.sshKeys = append(u.sshKeys, aws.ToString(k.SSHPublicKeyId))
				}
			}
			return nil
		},
		func() error {
			p := iam.NewListSigningCertificatesPaginator(u.iam, &iam.ListSigningCertificatesInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapList(err, "signing certificates")
				}
				for _, c := range page.Certificates {
					u.signingCerts = append(u.signingCerts, aws.ToString(c.CertificateId))
				}
			}
			return nil
		},
		func() error {
			// Not paginated by AWS.
			out, err := u.iam.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: u.user})
			if err != nil {
				return u.wrapList(err, "service-specific credentials")
			}
			for _, c := range out.ServiceSpecificCredentials {
				u.serviceCreds = append(u.serviceCreds, aws.ToString(c.ServiceSpecificCredentialId))
			}
			return nil
		},
	}
}

func (u *userCleanup) deleteAccessKey(ctx context.Context, id string) func() error {
	return func() error {
		_, err := u.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: u.user, AccessKeyId: aws.String(id)})
		return u.wrap(err, "deleting access key "+id)
	}
}

func (u *userCleanup) deleteInlinePolicy(ctx context.Context, name string) func() error {
	return func() error {
		_, err := u.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u.user, PolicyName: aws.String(name)})
		return u.wrap(err, "deleting inline policy "+name)
	}
}

func (u *userCleanup) detachPolicy(ctx context.Context, arn string) func() error {
	return func() error {
		_, err := u.iam.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u.user, PolicyArn: aws.String(arn)})
		return u.wrap(err, "detaching policy "+arn)
	}
}

func (u *userCleanup) leaveGroup(ctx context.Context, group string) func() error {
	return func() error {
		_, err := u.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u.user, GroupName: aws.String(group)})
		if err = ignoreNoSuchEntity(err); err != nil {
			return fmt.Errorf("removing IAM user %q from group %q: %w", u.lease.UserName, group, awsError(err))
		}
		return nil
	}
}

// wrap names the step and the user; NoSuchEntity is success.
func (u *userCleanup) wrap(err error, step string) error {
	if err = ignoreNoSuchEntity(err); err == nil {
		return nil
	}
	return fmt.Errorf("%s of IAM user %q: %w", step, u.lease.UserName, awsError(err))
}

func (u *userCleanup) wrapList(err error, what string) error {
	return u.wrap(err, "listing the "+what)
}
