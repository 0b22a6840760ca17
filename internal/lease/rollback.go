package lease

import (
	"context"
	"errors"
	"fmt"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IssueError is a failed Issue: the step that failed and what rolling back left behind.
type IssueError struct {
	Role        string
	Step        string // what was being done: `attaching policy arn:... to IAM user "awsdyn-..."`
	Err         error  // AWS's answer to that step
	RollbackErr error  // nil when nothing from the attempt remains
	UserName    string // the user the attempt created, or meant to
}

func (e *IssueError) Error() string {
	msg := fmt.Sprintf("issuing credential for role %q: %s: %v", e.Role, e.Step, e.Err)
	if e.RollbackErr == nil {
		return msg + "; rollback complete: nothing from this attempt remains"
	}
	return fmt.Sprintf("%s; rollback incomplete: %v; IAM user %q carries lease tags and the sweep removes it once its expiry guard has denied everything past the grace (at once if it got no guard and holds no credential)",
		msg, e.RollbackErr, e.UserName)
}

// Unwrap returns the step's error: errors.Is and errors.As see what AWS answered.
func (e *IssueError) Unwrap() error { return e.Err }

// rollback removes what a failed Issue created. It runs on a context of its own, bounded by the rollback timeout,
// so that a canceled apply (the usual reason ctx is done here) still cleans up. userMayExist says CreateUser failed:
// whether the user exists, and whether it is this attempt's, only AWS can say.
func (i *Issuer) rollback(ctx context.Context, role Role, l *Lease, step string, stepErr error, userMayExist bool) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), i.rollbackTimeout)
	defer cancel()

	var err error
	for attempt := 1; ; attempt++ {
		if userMayExist {
			err = i.rollbackUncertainUser(rctx, l)
		} else {
			err = i.Revoke(rctx, l)
		}
		// A step of the failed issue that was canceled in flight can land after the revoke listed the user.
		if !errors.Is(err, ErrAddedDuringRevoke) || attempt == rollbackRevokes {
			break
		}
	}
	return &IssueError{Role: role.Name, Step: step, Err: stepErr, RollbackErr: err, UserName: l.UserName}
}

// rollbackRevokes is how many revokes a rollback makes while something lands on the user after the revoke listed it.
const rollbackRevokes = 3

// createMayHaveHappened tells whether a failed create (one attempt of it, or the last) may still have created its
// object: the answer was lost (network, 5xx, timeout, cancellation) or the SDK's retry of a call that did succeed
// met EntityAlreadyExists. Any other 4xx (AccessDenied, ValidationError, LimitExceeded, ...) is a refusal that
// created nothing.
func createMayHaveHappened(err error) bool {
	if isEntityAlreadyExists(err) {
		return true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() < 400 || re.HTTPStatusCode() >= 500
	}
	return true
}

// rollbackUncertainUser removes the user only if it carries this lease's ID: a user of the same name may belong to
// someone else, and EntityAlreadyExists is exactly how that looks. Revoke asks for that proof itself.
func (i *Issuer) rollbackUncertainUser(ctx context.Context, l *Lease) error {
	if err := i.Revoke(ctx, l); err != nil && !errors.Is(err, ErrNotLeaseUser) {
		return err
	}
	return nil
}
