package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// ErrNotLeaseUser says that the IAM user with the lease's name is not the lease's: it was deleted and someone made
// another under the same name (with a fixed username_template, say). Nothing is deleted from such a user; the
// lease's own user is gone, so the lease is too.
var ErrNotLeaseUser = errors.New("the IAM user of that name is not the lease's")

// ErrAddedDuringRevoke says that DeleteUser was refused although every delete of the revoke went through: something
// was put on the user after the revoke listed it. Revoking again removes it.
var ErrAddedDuringRevoke = errors.New("something was added to the user while it was revoked")

// isDeleteConflict reports IAM's DeleteConflict: the user still holds something.
func isDeleteConflict(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "DeleteConflict"
}

// Revoke removes everything the lease created, and anything attached to its user since, then the user. It is
// idempotent: what is already gone (NoSuchEntity) counts as removed, and revoking a lease whose user no longer
// exists succeeds. A user of the lease's name that is not the lease's (see ErrNotLeaseUser) is left untouched.
// STS credentials cannot be revoked before they expire; for them Revoke does nothing.
//
// The expiry guard is the last thing removed before the user, and only once the user holds no credential at all,
// so that a revoke that stops anywhere leaves no working key without it:
//
//	round 1: delete the recorded access key (key IDs are unique: no proof needed), read the user (its ID and tags
//	         prove it is the lease's), and list everything IAM lets hang on it;
//	round 2: delete the lease's policies and group memberships and whatever was added out of band; with no
//	         credential left, the guard goes in the same round;
//	round 3: delete the user.
//
// With credentials added out of band, they go in round 2, the guard in round 3 and the user in round 4. When a
// credential cannot be deleted, the guard stays and is moved to now: every credential left is denied at once.
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
	if err := i.revokeUser(ctx, l); err != nil {
		return fmt.Errorf("revoking lease %s: %w", l.ID, err)
	}
	return nil
}

func (i *Issuer) revokeUser(ctx context.Context, l *Lease) error {
	u := &userCleanup{iam: i.iam, lease: l, user: aws.String(l.UserName)}

	var keyErr, whoErr error
	listErr := concurrently(append(u.listAll(ctx),
		func() error {
			if l.AccessKeyID != "" {
				keyErr = u.deleteAccessKey(ctx, l.AccessKeyID)()
			}
			return nil
		},
		func() error { whoErr = u.identify(ctx); return nil },
	)...)
	switch {
	case whoErr != nil:
		return whoErr
	case !u.exists:
		return nil
	}

	// What is left that could authenticate: keys other than the recorded one (or the recorded one, if deleting it
	// failed), a console password, SSH keys, signing certificates, service-specific credentials.
	credentials := u.credentialExtras(ctx, keyErr == nil)
	others := append(u.deleteKnown(ctx), u.deleteOtherExtras(ctx)...)
	if keyErr != nil || u.credentialListErr != nil {
		// Whatever is left must stay denied: the guard stays, cut to now, and the rest is still removed so that the
		// next attempt has less to do.
		err := errors.Join(keyErr, u.credentialListErr, concurrently(append(credentials, others...)...))
		return i.denyNow(ctx, l, err)
	}
	if len(credentials) > 0 {
		if err := concurrently(append(credentials, others...)...); err != nil {
			return i.denyNow(ctx, l, err)
		}
		others = nil
	}
	deleteErr := concurrently(append(others, u.deleteInlinePolicy(ctx, GuardPolicyName))...)
	roundErr := errors.Join(listErr, deleteErr)

	_, err := i.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: u.user})
	if err == nil {
		i.quota.release()
	}
	if err = ignoreNoSuchEntity(err); err == nil {
		// IAM refuses DeleteUser while anything is left on the user, so success proves it went with everything on
		// it: the errors of the earlier rounds (a listing AWS could not answer, say) no longer matter.
		return nil
	}
	if isDeleteConflict(err) && deleteErr == nil {
		// Every delete went through, yet something is on the user: it landed after the listings (a step of an issue
		// that was canceled in flight, say). Revoking again finds it.
		err = fmt.Errorf("%w: %w", ErrAddedDuringRevoke, err)
	}
	err = fmt.Errorf("deleting IAM user %q: %w", l.UserName, awsError(err))
	if roundErr != nil {
		err = fmt.Errorf("%w; before that: %w", err, roundErr)
	}
	// DeleteUser refused: something is left that the listings did not show (a listing that failed, or something
	// added meanwhile). It may be a credential, so the guard goes back, denying everything from now on.
	return i.denyNow(ctx, l, err)
}

// denyNow puts the guard back on the lease's user (proven to be the lease's), dated now, so that whatever a failed
// revoke left can no longer be used. err is the revoke's failure; the result says whether the guard went on.
func (i *Issuer) denyNow(ctx context.Context, l *Lease, err error) error {
	if l.UserARN == "" {
		return err
	}
	now := i.clock.Now().UTC().Truncate(time.Second)
	_, perr := i.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(l.UserName),
		PolicyName: aws.String(GuardPolicyName), PolicyDocument: aws.String(l.guardDocument(now))})
	if IsNoSuchEntity(perr) {
		// The user is gone: a DeleteUser whose answer was lost did delete it, and with it everything on it.
		return nil
	}
	if perr != nil {
		return fmt.Errorf("%w; moving the expiry guard to now failed too, so what is left works until the guard's date: %w", err, awsError(perr))
	}
	return fmt.Errorf("%w; the expiry guard stays, moved to %s: whatever is left is denied", err, formatExpiry(now))
}

// userCleanup is one revoke of an IAM user: what it found on the user, and the calls that remove it.
type userCleanup struct {
	iam   IAMAPI
	lease *Lease
	user  *string

	// Filled by identify.
	exists bool

	// Filled by listAll, each by its own goroutine.
	credentialListErr error // a listing of credentials (keys, password, SSH keys, certificates) that failed
	credentialMu      sync.Mutex
	accessKeys        []string
	inline            []string
	attached          []string
	groups            []string
	loginProfile      bool
	mfaSerials        []string
	sshKeys           []string
	signingCerts      []string
	serviceCreds      []string
}

// deleteKnown removes what the lease recorded creating, but its access key (round 1) and its guard (last).
func (u *userCleanup) deleteKnown(ctx context.Context) []func() error {
	l := u.lease
	var fns []func() error
	for _, name := range l.InlinePolicies {
		if name != GuardPolicyName {
			fns = append(fns, u.deleteInlinePolicy(ctx, name))
		}
	}
	for _, arn := range l.PolicyARNs {
		fns = append(fns, u.detachPolicy(ctx, arn))
	}
	for _, group := range l.Groups {
		fns = append(fns, u.leaveGroup(ctx, group))
	}
	return fns
}

// credentialExtras removes the credentials listAll found besides the lease's key (and the lease's key too, when
// deleting it in round 1 failed: keyGone false).
func (u *userCleanup) credentialExtras(ctx context.Context, keyGone bool) []func() error {
	l := u.lease
	var fns []func() error
	for _, id := range u.accessKeys {
		if id != l.AccessKeyID || !keyGone {
			fns = append(fns, u.deleteAccessKey(ctx, id))
		}
	}
	if u.loginProfile {
		fns = append(fns, func() error {
			_, err := u.iam.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: u.user})
			return u.wrap(err, "deleting the console password")
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

// deleteOtherExtras removes what listAll found beyond what the lease recorded that cannot authenticate by itself:
// policies, group memberships, MFA devices. The guard is not among them.
func (u *userCleanup) deleteOtherExtras(ctx context.Context) []func() error {
	l := u.lease
	var fns []func() error
	for _, name := range u.inline {
		if name != GuardPolicyName && !slices.Contains(l.InlinePolicies, name) {
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
	return fns
}

// identify reads the user and proves it is the lease's: the user ID recorded at issue, or (for leases recorded
// before IDs were) the lease-ID tag. A user that does not exist sets nothing; one that is not the lease's is
// ErrNotLeaseUser.
func (u *userCleanup) identify(ctx context.Context) error {
	out, err := u.iam.GetUser(ctx, &iam.GetUserInput{UserName: u.user})
	if IsNoSuchEntity(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading IAM user %q to prove it is the lease's: %w", u.lease.UserName, awsError(err))
	}
	if why := notLeaseUser(u.lease, out.User); why != "" {
		return fmt.Errorf("IAM user %q: %w: %s; nothing was deleted from it", u.lease.UserName, ErrNotLeaseUser, why)
	}
	u.exists = true
	return nil
}

// listAll lists everything IAM lets hang on a user and blocks DeleteUser while it does. A user that does not exist
// has nothing on it.
func (u *userCleanup) listAll(ctx context.Context) []func() error {
	// Parallel on purpose: one listing per kind of object, each with its own wording and whether its failure keeps the guard on.
	return []func() error{
		func() error {
			p := iam.NewListAccessKeysPaginator(u.iam, &iam.ListAccessKeysInput{UserName: u.user})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return u.wrapCredentialList(err, "access keys")
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
			return u.wrapCredentialList(err, "console password (login profile)")
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
					return u.wrapCredentialList(err, "SSH public keys")
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
					return u.wrapCredentialList(err, "signing certificates")
				}
				for _, c := range page.Certificates {
					u.signingCerts = append(u.signingCerts, aws.ToString(c.CertificateId))
				}
			}
			return nil
		},
		func() error {
			// Not paginated by AWS. A failure here does not keep the guard on: DeleteUser, which IAM refuses while a
			// service-specific credential exists, is the proof, and its refusal puts the guard back (denyNow). Some
			// emulators cannot answer this call at all (see internal/acctest/moto/README.md).
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

// wrapCredentialList is wrapList for a listing of credentials, whose failure also keeps the guard on: what it did not
// show may be a working credential. (Service-specific credentials are not among them: see listAll.)
func (u *userCleanup) wrapCredentialList(err error, what string) error {
	err = u.wrapList(err, what)
	if err != nil {
		u.credentialMu.Lock()
		u.credentialListErr = errors.Join(u.credentialListErr, err)
		u.credentialMu.Unlock()
	}
	return err
}

func (u *userCleanup) wrapList(err error, what string) error {
	return u.wrap(err, "listing the "+what)
}

// notLeaseUser says why user is not the lease's, or "" when it is.
func notLeaseUser(l *Lease, user *types.User) string {
	if user == nil {
		return "AWS returned no user"
	}
	if l.UserID != "" {
		if id := aws.ToString(user.UserId); id != l.UserID {
			return fmt.Sprintf("its user ID is %s, the lease's was %s (it was deleted and created again)", id, l.UserID)
		}
		return ""
	}
	for _, t := range user.Tags {
		if aws.ToString(t.Key) == TagLeaseID {
			if v := aws.ToString(t.Value); v != l.ID {
				return fmt.Sprintf("its %s tag is %s", TagLeaseID, v)
			}
			return ""
		}
	}
	return fmt.Sprintf("it has no %s tag", TagLeaseID)
}

// credentialsHeld names the credentials listAll found, in words.
func (u *userCleanup) credentialsHeld() []string {
	var held []string
	add := func(n int, what string) {
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(u.accessKeys), "access key(s)")
	if u.loginProfile {
		held = append(held, "a console password")
	}
	add(len(u.sshKeys), "SSH public key(s)")
	add(len(u.signingCerts), "signing certificate(s)")
	add(len(u.serviceCreds), "service-specific credential(s)")
	return held
}
