package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go/middleware"
)

// Static credentials are Vault's static roles: an IAM user that exists already and that the engine did not create.
// The engine owns only the access keys it creates on that user; the user, its policies and its other keys are never
// touched, except that IAM's two-keys-per-user limit can force the engine to delete the user's older key when it
// binds a user that holds two already, as Vault does, and says so.

// MinRotationPeriod is Vault's minimum rotation_period for static roles.
const MinRotationPeriod = time.Minute

// MaxAccessKeysPerUser is IAM's limit of access keys on one user.
const MaxAccessKeysPerUser = 2

// StaticKey is what a static credential records: the user it is bound to and the keys the engine made for it. It is
// plain data, kept in the resource's private state, and holds no secret.
type StaticKey struct {
	UserName string `json:"user_name"`
	// UserID is IAM's unique ID of the user when it was bound. A user deleted and re-created under the same name has
	// another ID, and is not this credential's user: the engine refuses to touch it, as Vault does.
	UserID  string `json:"user_id"`
	UserARN string `json:"user_arn"`
	// AccessKeyID is the key handed out; empty when none is (after an import, or once it was found deleted).
	AccessKeyID string    `json:"access_key_id,omitempty"`
	RotatedAt   time.Time `json:"rotated_at"`
	// Stale are keys the engine made that could not be deleted yet (a failed delete after a rotation, a failed
	// rollback). The next rotation and the destroy delete them; nothing else of the user is ever deleted by ID.
	Stale []string `json:"stale,omitempty"`
}

// Marshal encodes the record for private state.
func (k *StaticKey) Marshal() ([]byte, error) { return json.Marshal(k) }

// UnmarshalStaticKey decodes a record written by Marshal.
func UnmarshalStaticKey(b []byte) (*StaticKey, error) {
	var k StaticKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("decoding static credential record: %w", err)
	}
	return &k, nil
}

// Owned lists every key the record says the engine made and may still exist.
func (k *StaticKey) Owned() []string {
	out := slices.Clone(k.Stale)
	if k.AccessKeyID != "" && !slices.Contains(out, k.AccessKeyID) {
		out = append(out, k.AccessKeyID)
	}
	return out
}

// UserReplacedError says a user of the bound name exists but is not the bound user.
type UserReplacedError struct {
	UserName, BoundID, FoundID string
}

func (e *UserReplacedError) Error() string {
	return fmt.Sprintf("IAM user %q has ID %s, but this credential is bound to the user of ID %s: the user was deleted "+
		"and re-created, and the new one is not touched", e.UserName, e.FoundID, e.BoundID)
}

// ErrStaticUserGone says the bound user no longer exists.
var ErrStaticUserGone = errors.New("the IAM user no longer exists")

// BindStatic finds the existing IAM user name and records its ID. It creates nothing.
func (i *Issuer) BindStatic(ctx context.Context, name string) (*StaticKey, error) {
	if err := ValidateUserName(name); err != nil {
		return nil, fmt.Errorf("username %q: %w", name, err)
	}
	out, err := i.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if IsNoSuchEntity(err) {
		return nil, fmt.Errorf("reading IAM user %q: %w: create the user first; a static credential only rotates the keys of a user that exists", name, ErrStaticUserGone)
	}
	if err != nil {
		return nil, fmt.Errorf("reading IAM user %q: %w", name, awsError(err))
	}
	return &StaticKey{UserName: name, UserID: aws.ToString(out.User.UserId), UserARN: aws.ToString(out.User.Arn)}, nil
}

// StaticStatus is what AWS holds of a static credential's user and key.
type StaticStatus struct {
	UserExists bool
	// Replaced: a user of the name exists with another ID (see UserReplacedError).
	Replaced bool
	FoundID  string
	// KeyExists: the key handed out is still one of the user's keys.
	KeyExists bool
	// Keys are the user's access keys, oldest first.
	Keys []types.AccessKeyMetadata
}

// CheckStatic reads the user and its keys. It changes nothing.
func (i *Issuer) CheckStatic(ctx context.Context, k *StaticKey) (StaticStatus, error) {
	var st StaticStatus
	out, err := i.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(k.UserName)})
	if IsNoSuchEntity(err) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading IAM user %q: %w", k.UserName, awsError(err))
	}
	st.UserExists = true
	st.FoundID = aws.ToString(out.User.UserId)
	if k.UserID != "" && st.FoundID != k.UserID {
		st.Replaced = true
		return st, nil
	}
	if st.Keys, err = i.userKeys(ctx, k.UserName); err != nil {
		return st, err
	}
	st.KeyExists = k.AccessKeyID != "" && holdsKey(st.Keys, k.AccessKeyID)
	return st, nil
}

// userKeys lists a user's access keys, oldest first (ties by ID, so the choice of "oldest" is reproducible).
func (i *Issuer) userKeys(ctx context.Context, user string) ([]types.AccessKeyMetadata, error) {
	var keys []types.AccessKeyMetadata
	p := iam.NewListAccessKeysPaginator(i.iam, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the access keys of IAM user %q: %w", user, awsError(err))
		}
		keys = append(keys, out.AccessKeyMetadata...)
	}
	sort.SliceStable(keys, func(a, b int) bool {
		ta, tb := aws.ToTime(keys[a].CreateDate), aws.ToTime(keys[b].CreateDate)
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return aws.ToString(keys[a].AccessKeyId) < aws.ToString(keys[b].AccessKeyId)
	})
	return keys, nil
}

// userKeysIfAny is userKeys, with none for a user that does not exist.
func (i *Issuer) userKeysIfAny(ctx context.Context, user string) ([]types.AccessKeyMetadata, error) {
	keys, err := i.userKeys(ctx, user)
	if IsNoSuchEntity(err) {
		return nil, nil
	}
	return keys, err
}

// RotateStatic gives the bound user a new access key and deletes the one handed out before, in that order: make room
// if the user holds IAM's two keys, create the new key, wait until it authenticates, then delete the previous key
// and any stale ones. On success k names the new key and rotated_at is now. warnings say what else was done (a key
// deleted to make room, a previous key that could not be deleted and stays recorded in k.Stale).
//
// Whatever fails, k afterwards records every key the engine made that may still exist, and the user holds at most
// the keys it had plus those: a new key whose check failed is deleted (or, if that fails too, recorded as stale), a
// key created by an attempt whose answer was lost is found and deleted. The caller must save k even on error.
func (i *Issuer) RotateStatic(ctx context.Context, k *StaticKey, propagationTimeout time.Duration) (Credentials, []string, error) {
	var warnings []string
	fail := func(format string, args ...any) (Credentials, []string, error) {
		return Credentials{}, warnings, fmt.Errorf("rotating the access key of IAM user %q: "+format, append([]any{k.UserName}, args...)...)
	}
	st, err := i.CheckStatic(ctx, k)
	switch {
	case err != nil:
		return fail("%w", err)
	case !st.UserExists:
		return fail("%w", ErrStaticUserGone)
	case st.Replaced:
		return fail("%w", &UserReplacedError{UserName: k.UserName, BoundID: k.UserID, FoundID: st.FoundID})
	}
	if !st.KeyExists {
		k.AccessKeyID = "" // deleted out of band: nothing to hand out, nothing to delete
	}

	// Make room when the user holds IAM's two keys. Keys this credential made go first: a stale one, else the key
	// handed out, which this rotation retires anyway (the user's other key may be in use elsewhere, and is not this
	// credential's to delete). Only a user holding none of ours loses its oldest key, as Vault does.
	before := make([]string, 0, len(st.Keys))
	for _, m := range st.Keys {
		before = append(before, aws.ToString(m.AccessKeyId))
	}
	if len(before) >= MaxAccessKeysPerUser {
		victim, warning := "", ""
		for _, id := range before {
			if slices.Contains(k.Stale, id) {
				victim = id
				break
			}
		}
		if victim == "" && k.AccessKeyID != "" {
			victim = k.AccessKeyID
			warning = fmt.Sprintf("IAM user %q holds another access key besides this credential's, and IAM allows %d, so the "+
				"previous key %s was deleted just before its successor was created instead of just after", k.UserName, MaxAccessKeysPerUser, victim)
		}
		if victim == "" {
			victim = before[0]
			warning = fmt.Sprintf("IAM user %q held %d access keys, IAM's maximum, so the older key %s, which this provider "+
				"did not create, was deleted to make room, as Vault does", k.UserName, MaxAccessKeysPerUser, victim)
		}
		_, err := i.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(k.UserName), AccessKeyId: aws.String(victim)})
		if err = ignoreNoSuchEntity(err); err != nil {
			return fail("IAM user %q holds %d access keys, IAM's maximum, and deleting access key %s to make room failed: %w",
				k.UserName, len(before), victim, awsError(err))
		}
		before = slices.DeleteFunc(before, func(id string) bool { return id == victim })
		k.Stale = slices.DeleteFunc(k.Stale, func(id string) bool { return id == victim })
		if victim == k.AccessKeyID {
			k.AccessKeyID = ""
		}
		if warning != "" {
			warnings = append(warnings, warning)
		}
	}

	key, err := i.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(k.UserName)})
	if err != nil {
		// Even a refusal may follow an attempt that did create a key (the SDK retried a cut call, and IAM then said
		// LimitExceeded): look for a key that appeared, whatever the last answer was.
		if lerr := i.removeUnknownKeys(ctx, k, before, ""); lerr != nil {
			return fail("creating an access key: %w; checking for a key made by an attempt whose answer was lost failed: %v", awsError(err), lerr)
		}
		return fail("creating an access key: %w", awsError(err))
	}
	id := aws.ToString(key.AccessKey.AccessKeyId)
	if lostAttempts(key.ResultMetadata) {
		if err := i.removeUnknownKeys(ctx, k, before, id); err != nil {
			// The new key is fine; an unknown one may remain, and only its ID would let anyone delete it.
			k.Stale = append(k.Stale, id)
			return fail("removing access keys whose creation was not answered: %w", err)
		}
	}
	creds := Credentials{AccessKeyID: id, SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}

	if err := i.waitForPropagation(ctx, &Lease{UserName: k.UserName, UserARN: k.UserARN}, creds, propagationTimeout); err != nil {
		if rerr := i.deleteKeyBounded(ctx, k.UserName, id); rerr != nil {
			k.Stale = append(k.Stale, id)
			return fail("checking the new access key %s: %w; deleting it failed too (%v): it is recorded and the next apply or destroy deletes it", id, err, rerr)
		}
		return fail("checking the new access key %s: %w; the new key was deleted and the previous key still works", id, err)
	}

	previous := k.Owned()
	k.AccessKeyID, k.RotatedAt, k.Stale = id, i.clock.Now().UTC().Truncate(time.Second), nil
	for _, old := range previous {
		_, err := i.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(k.UserName), AccessKeyId: aws.String(old)})
		if err = ignoreNoSuchEntity(err); err != nil {
			k.Stale = append(k.Stale, old)
			warnings = append(warnings, fmt.Sprintf("the previous access key %s of IAM user %q could not be deleted (%v); the new key %s is "+
				"live, and %s stays recorded so that the next apply or destroy deletes it", old, k.UserName, awsError(err), id, old))
		}
	}
	return creds, warnings, nil
}

// DeleteStatic deletes the keys the engine made (k.Owned) and nothing else. A key already gone is deleted; a user
// deleted (or re-created) meanwhile holds none of them. Idempotent.
func (i *Issuer) DeleteStatic(ctx context.Context, k *StaticKey) error {
	var left []string
	var errs []error
	for _, id := range k.Owned() {
		_, err := i.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(k.UserName), AccessKeyId: aws.String(id)})
		if err = ignoreNoSuchEntity(err); err != nil {
			left = append(left, id)
			errs = append(errs, fmt.Errorf("deleting access key %s of IAM user %q: %w", id, k.UserName, awsError(err)))
		}
	}
	if slices.Contains(left, k.AccessKeyID) {
		k.Stale = slices.DeleteFunc(left, func(id string) bool { return id == k.AccessKeyID })
	} else {
		k.AccessKeyID, k.Stale = "", left
	}
	return errors.Join(errs...)
}

// lostAttempts reports whether a successful call was retried after an attempt that may have done the work: for
// CreateAccessKey that means a key nobody holds the secret of.
func lostAttempts(md middleware.Metadata) bool {
	attempts, ok := retry.GetAttemptResults(md)
	return ok && slices.ContainsFunc(attempts.Results, func(r retry.AttemptResult) bool {
		return r.Err != nil && createMayHaveHappened(r.Err)
	})
}

// removeUnknownKeys deletes the user's keys that are neither among before (the keys it held before this rotation),
// nor keep, nor recorded in k: keys a CreateAccessKey attempt made whose answer was lost. Unlike an issued lease's
// user, a static user has keys of others: only a key that appeared during this call is deleted.
func (i *Issuer) removeUnknownKeys(ctx context.Context, k *StaticKey, before []string, keep string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.rollbackTimeout)
	defer cancel()
	keys, err := i.userKeys(rctx, k.UserName)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range keys {
		id := aws.ToString(m.AccessKeyId)
		if id == keep || slices.Contains(before, id) || slices.Contains(k.Owned(), id) {
			continue
		}
		if err := i.deleteKeyBounded(rctx, k.UserName, id); err != nil {
			k.Stale = append(k.Stale, id)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteKeyBounded deletes a key on a context of its own, so that a canceled apply still removes what it made.
func (i *Issuer) deleteKeyBounded(ctx context.Context, user, id string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.rollbackTimeout)
	defer cancel()
	_, err := i.iam.DeleteAccessKey(rctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	if err = ignoreNoSuchEntity(err); err != nil {
		return fmt.Errorf("deleting access key %s of IAM user %q: %w", id, user, awsError(err))
	}
	return nil
}
