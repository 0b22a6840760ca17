package lease

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// InventoryOptions say which leases to list.
type InventoryOptions struct {
	// PathPrefix limits the listing to users under this IAM path. Required, as for a sweep.
	PathPrefix string
	// Role, when set, keeps only the leases whose role tag names it.
	Role string
	// LeaseID, when set, keeps only that lease.
	LeaseID string
	// Concurrency bounds the IAM calls in flight; default 4.
	Concurrency int
}

// KeyUse is one access key of a lease's user and when and where AWS last saw it used (iam:GetAccessKeyLastUsed).
type KeyUse struct {
	AccessKeyID string `json:"access_key_id"`
	Status      string `json:"status"`
	// LastUsedAt is nil until the key is first used.
	LastUsedAt      *time.Time `json:"last_used_at"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
}

// LeaseInfo is one lease's user as AWS has it. It holds no secret.
type LeaseInfo struct {
	UserName  string     `json:"user_name"`
	UserARN   string     `json:"user_arn"`
	UserID    string     `json:"user_id"`
	LeaseID   string     `json:"lease_id"`
	Role      string     `json:"role"`
	State     LeaseState `json:"state"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	// ExpiresAt is the date the guard, read back, enforces; nil without a guard this engine wrote.
	ExpiresAt *time.Time `json:"expires_at"`
	// AccessKeys are the user's keys: one for a lease as issued.
	AccessKeys []KeyUse `json:"access_keys"`
	// IssuedBy and IssuedFrom are the audit tags (the root identity's ARN, and the CI run); "" when absent.
	IssuedBy   string `json:"issued_by,omitempty"`
	IssuedFrom string `json:"issued_from,omitempty"`
}

// Inventory lists the leases under the path, each classified as the sweep classifies it (live, expired,
// half-created, tampered) and with its keys' last use. A live user holding more than one access key, or a console
// password, is tampered: an issue makes exactly one key and no password. Users without a lease tag are not listed. Errors reading one user are returned
// joined, after every other user was listed.
func (i *Issuer) Inventory(ctx context.Context, o InventoryOptions) ([]LeaseInfo, error) {
	if err := ValidateLeasePath(o.PathPrefix); err != nil {
		return nil, fmt.Errorf("listing leases: %w", err)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	users, err := i.usersUnder(ctx, o.PathPrefix)
	if err != nil {
		return nil, err
	}

	var (
		mu   sync.Mutex
		out  []LeaseInfo
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, u := range users {
		g.Go(func() error {
			info, ok, err := i.inventoryUser(gctx, u, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				info.UserID = u.id
				out = append(out, info)
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(out, func(a, b int) bool { return out[a].UserName < out[b].UserName })
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, errors.Join(errs...)
}

func (i *Issuer) inventoryUser(ctx context.Context, u iamUser, o InventoryOptions) (LeaseInfo, bool, error) {
	c, err := i.classify(ctx, u)
	if err != nil || c.LeaseID == "" {
		return LeaseInfo{}, false, err
	}
	info := LeaseInfo{UserName: u.name, UserARN: u.arn, LeaseID: c.LeaseID, Role: c.Tags[TagRole], State: c.State,
		Reason: c.Reason, CreatedAt: u.created.UTC(), IssuedBy: c.Tags[TagIssuedBy], IssuedFrom: c.Tags[TagIssuedFrom]}
	if (o.Role != "" && info.Role != o.Role) || (o.LeaseID != "" && info.LeaseID != o.LeaseID) {
		return LeaseInfo{}, false, nil
	}
	if !c.Guard.ExpiresAt.IsZero() {
		t := c.Guard.ExpiresAt
		info.ExpiresAt = &t
	}
	var keys []KeyUse
	var console bool
	err = concurrently(
		func() (err error) { keys, err = i.keyUses(ctx, u.name); return err },
		func() (err error) { console, err = i.hasLoginProfile(ctx, u.name); return err },
	)
	if err != nil {
		return LeaseInfo{}, false, err
	}
	info.AccessKeys = keys
	if info.State == StateLive {
		switch {
		case len(keys) > 1:
			info.State, info.Reason = StateTampered, fmt.Sprintf("it holds %d access keys; an issue makes one", len(keys))
		case console:
			info.State, info.Reason = StateTampered, "it has a console password (login profile); no issue makes one"
		}
	}
	return info, true, nil
}

// keyUses lists a user's access keys and, for each, when and where it was last used.
func (i *Issuer) keyUses(ctx context.Context, user string) ([]KeyUse, error) {
	listed, err := i.userKeysIfAny(ctx, user)
	if err != nil || len(listed) == 0 {
		return nil, err
	}
	keys := make([]KeyUse, 0, len(listed))
	for _, k := range listed {
		keys = append(keys, KeyUse{AccessKeyID: aws.ToString(k.AccessKeyId), Status: string(k.Status)})
	}
	err = concurrently(func() []func() error {
		var fs []func() error
		for n := range keys {
			fs = append(fs, func() error {
				lu, err := i.keyLastUsed(ctx, keys[n].AccessKeyID)
				if IsNoSuchEntity(err) {
					return nil // deleted since the listing
				}
				if err != nil {
					return fmt.Errorf("reading the last use of access key %s of IAM user %q: %w", keys[n].AccessKeyID, user, err)
				}
				keys[n].LastUsedAt, keys[n].LastUsedService, keys[n].LastUsedRegion = lu.At, lu.Service, lu.Region
				return nil
			})
		}
		return fs
	}()...)
	return keys, err
}

// LastUse is when and where AWS last saw an access key used; At is nil until its first use.
type LastUse struct {
	UserName        string
	At              *time.Time
	Service, Region string
}

// keyLastUsed calls iam:GetAccessKeyLastUsed. AWS answers "N/A" for the service and region of a key never used.
func (i *Issuer) keyLastUsed(ctx context.Context, keyID string) (LastUse, error) {
	out, err := i.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if err != nil {
		if IsNoSuchEntity(err) {
			return LastUse{}, err
		}
		return LastUse{}, awsError(err)
	}
	lu := LastUse{UserName: aws.ToString(out.UserName)}
	if k := out.AccessKeyLastUsed; k != nil {
		if k.LastUsedDate != nil && !k.LastUsedDate.IsZero() {
			t := k.LastUsedDate.UTC()
			lu.At = &t
		}
		if s := aws.ToString(k.ServiceName); s != "N/A" {
			lu.Service = s
		}
		if r := aws.ToString(k.Region); r != "N/A" {
			lu.Region = r
		}
	}
	return lu, nil
}
