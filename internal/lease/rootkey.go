package lease

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// RootKeyRotationError is a failed root key rotation: which key is live, and which the operator must delete, if any.
type RootKeyRotationError struct {
	UserName string
	OldKeyID string
	NewKeyID string // empty when no new key exists
	// Committed: the new key was handed over (written to the credentials file) before the failure.
	Committed bool
	Err       error
}

func (e *RootKeyRotationError) Error() string {
	switch {
	case e.Committed:
		return fmt.Sprintf("rotating the access key of IAM user %q: the new key %s is live and saved, but the old key %s could "+
			"not be deleted: %v; delete it yourself: aws iam delete-access-key --user-name %s --access-key-id %s",
			e.UserName, e.NewKeyID, e.OldKeyID, e.Err, e.UserName, e.OldKeyID)
	case e.NewKeyID != "":
		return fmt.Sprintf("rotating the access key of IAM user %q: %v; the old key %s is still live and unchanged, and the new "+
			"key %s could not be deleted: delete it yourself: aws iam delete-access-key --user-name %s --access-key-id %s",
			e.UserName, e.Err, e.OldKeyID, e.NewKeyID, e.UserName, e.NewKeyID)
	default:
		return fmt.Sprintf("rotating the access key of IAM user %q: %v; the old key %s is still live and unchanged, and no new key is known to remain",
			e.UserName, e.Err, e.OldKeyID)
	}
}

func (e *RootKeyRotationError) Unwrap() error { return e.Err }

// RotateOwnKey is Vault's rotate-root for a key kept outside the engine: the Issuer signs with the key oldKeyID of
// IAM user (whose ARN is userARN), and commit stores a new key where the old one was. In order: refuse when the user
// holds IAM's two keys (the other may be in use elsewhere), create the new key, wait until it authenticates,
// commit, and only then delete the old key. A failure before commit deletes the new key; a failure after it keeps
// the old key and says so. The error is a *RootKeyRotationError that names the live key.
func (i *Issuer) RotateOwnKey(ctx context.Context, user, userARN, oldKeyID string, propagationTimeout time.Duration,
	commit func(Credentials) error) (Credentials, error) {
	fail := func(newID string, committed bool, err error) (Credentials, error) {
		return Credentials{}, &RootKeyRotationError{UserName: user, OldKeyID: oldKeyID, NewKeyID: newID, Committed: committed, Err: err}
	}
	k := &StaticKey{UserName: user, UserARN: userARN}
	keys, err := i.userKeys(ctx, user)
	if err != nil {
		return fail("", false, err)
	}
	before := make([]string, 0, len(keys))
	for _, m := range keys {
		before = append(before, aws.ToString(m.AccessKeyId))
	}
	if len(before) >= MaxAccessKeysPerUser {
		return fail("", false, fmt.Errorf("IAM user %q already holds %d access keys (%v), IAM's maximum: delete the one that is "+
			"not %s (if nothing uses it) and run again", user, len(before), before, oldKeyID))
	}

	key, err := i.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		err = fmt.Errorf("creating an access key: %w", awsError(err))
		// As in RotateStatic: a retried attempt may have made a key whatever the last answer says.
		if lerr := i.removeUnknownKeys(ctx, k, before, ""); lerr != nil {
			err = fmt.Errorf("%w; checking for a key made by an attempt whose answer was lost failed: %v", err, lerr)
		}
		return fail("", false, err)
	}
	id := aws.ToString(key.AccessKey.AccessKeyId)
	creds := Credentials{AccessKeyID: id, SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
	undo := func(cause error) (Credentials, error) {
		if rerr := i.deleteKeyBounded(ctx, user, id); rerr != nil {
			return fail(id, false, fmt.Errorf("%w; deleting the new key failed: %v", cause, rerr))
		}
		return fail("", false, cause)
	}
	if lostAttempts(key.ResultMetadata) {
		if err := i.removeUnknownKeys(ctx, k, before, id); err != nil {
			return undo(fmt.Errorf("removing access keys whose creation was not answered: %w", err))
		}
	}
	if err := i.waitForPropagation(ctx, &Lease{UserName: user, UserARN: userARN}, creds, propagationTimeout); err != nil {
		return undo(fmt.Errorf("checking the new access key %s: %w", id, err))
	}
	if err := commit(creds); err != nil {
		return undo(fmt.Errorf("saving the new access key %s: %w", id, err))
	}
	if err := i.deleteKeyBounded(ctx, user, oldKeyID); err != nil {
		return creds, &RootKeyRotationError{UserName: user, OldKeyID: oldKeyID, NewKeyID: id, Committed: true, Err: err}
	}
	return creds, nil
}
