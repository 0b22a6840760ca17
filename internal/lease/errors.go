package lease

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// AccessDeniedError is an HTTP 403 that arrived without a usable error code. Real IAM says AccessDenied with a
// message; moto (and some proxies) answer 403 with a body aws-sdk-go-v2 reports as "UnknownError", which tells a
// user nothing. This names the call that was refused instead.
type AccessDeniedError struct {
	Identity  string // who called, in words: "the root identity", "the new access key"
	Action    string // "iam:CreateUser"
	RequestID string
	Err       error
}

func (e *AccessDeniedError) Error() string {
	msg := fmt.Sprintf("AccessDenied (HTTP 403): %s is not allowed to call %s", e.Identity, e.Action)
	if e.RequestID != "" {
		msg += " (request ID " + e.RequestID + ")"
	}
	return msg
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

// awsError turns an SDK error into the error the engine reports, as the root identity.
func awsError(err error) error { return awsErrorAs("the root identity", err) }

// awsErrorAs maps a code-less HTTP 403 to *AccessDeniedError and leaves every other error as it is.
func awsErrorAs(identity string, err error) error {
	if err == nil {
		return nil
	}
	var ad *AccessDeniedError
	if errors.As(err, &ad) {
		return err
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() != "" && api.ErrorCode() != "UnknownError" {
		return err // a real code (AccessDenied, InvalidClientTokenId, ...) with AWS's own message says more
	}
	action := "AWS"
	var op *smithy.OperationError
	if errors.As(err, &op) {
		action = strings.ToLower(op.ServiceID) + ":" + op.OperationName
	}
	out := &AccessDeniedError{Identity: identity, Action: action, Err: err}
	var rid interface{ ServiceRequestID() string }
	if errors.As(err, &rid) {
		out.RequestID = rid.ServiceRequestID()
	}
	return out
}

// IsNoSuchEntity reports whether err says the IAM object does not exist. For a delete that means it is already
// gone, which is what the delete wanted.
func IsNoSuchEntity(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity"
}

// isEntityAlreadyExists reports IAM's EntityAlreadyExists.
func isEntityAlreadyExists(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "EntityAlreadyExists"
}

// ignoreNoSuchEntity is for deletes: an object that is not there is deleted.
func ignoreNoSuchEntity(err error) error {
	if IsNoSuchEntity(err) {
		return nil
	}
	return err
}
