package lease

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestTTLs_FollowVaultsRule(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		name                     string
		reqTTL, roleTTL, roleMax time.Duration
		wantTTL, wantMax         time.Duration
	}{
		{"provider defaults", 0, 0, 0, 1 * h, 24 * h},
		{"role default", 0, 2 * h, 0, 2 * h, 24 * h},
		{"request wins over role", 3 * h, 2 * h, 0, 3 * h, 24 * h},
		{"role max caps request", 10 * h, 2 * h, 5 * h, 5 * h, 5 * h},
		{"role max caps role default", 0, 8 * h, 5 * h, 5 * h, 5 * h},
		{"provider max caps request", 30 * h, 0, 0, 24 * h, 24 * h},
		{"role max may exceed provider max", 30 * h, 0, 48 * h, 30 * h, 48 * h},
		{"role max below provider default", 0, 0, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ttl, max := TTLs(Role{DefaultTTL: tc.roleTTL, MaxTTL: tc.roleMax}, Request{TTL: tc.reqTTL}, h, 24*h)
			if ttl != tc.wantTTL || max != tc.wantMax {
				t.Errorf("TTLs = (%s, %s), want (%s, %s)", ttl, max, tc.wantTTL, tc.wantMax)
			}
		})
	}
}

// sdkError builds the error chain aws-sdk-go-v2 returns for an HTTP error response.
func sdkError(service, op string, status int, code, msg string) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg},
		},
		RequestID: "req-1",
	}}
}

func TestAWSError_Maps403WithoutCodeToAccessDenied(t *testing.T) {
	orig := sdkError("IAM", "CreateUser", 403, "UnknownError", "UnknownError")
	err := awsError(orig)
	want := "AccessDenied (HTTP 403): the root identity is not allowed to call iam:CreateUser (request ID req-1)"
	if err.Error() != want {
		t.Errorf("awsError = %q, want %q", err, want)
	}
	var ad *AccessDeniedError
	if !errors.As(err, &ad) || !errors.Is(err, orig) {
		t.Errorf("mapped error does not unwrap to the original: %#v", err)
	}
	if again := awsError(fmt.Errorf("wrapped: %w", err)); !strings.Contains(again.Error(), "wrapped: AccessDenied") {
		t.Errorf("mapping twice changed the error: %v", again)
	}
}

func TestAWSError_KeepsErrorsThatSayWhy(t *testing.T) {
	for _, orig := range []error{
		sdkError("IAM", "CreateUser", 403, "AccessDenied", "User: x is not authorized to perform: iam:CreateUser"),
		sdkError("STS", "GetCallerIdentity", 403, "InvalidClientTokenId", "The security token included in the request is invalid."),
		sdkError("IAM", "AttachUserPolicy", 404, "NoSuchEntity", "Policy does not exist"),
		errors.New("dial tcp: connection refused"),
	} {
		if got := awsError(orig); got != orig {
			t.Errorf("awsError(%v) = %v, want it unchanged", orig, got)
		}
	}
	if awsError(nil) != nil {
		t.Error("awsError(nil) != nil")
	}
}

func TestIsNoSuchEntity(t *testing.T) {
	if !IsNoSuchEntity(fmt.Errorf("x: %w", sdkError("IAM", "GetUser", 404, "NoSuchEntity", "gone"))) {
		t.Error("wrapped NoSuchEntity not recognized")
	}
	if IsNoSuchEntity(sdkError("IAM", "GetUser", 409, "DeleteConflict", "")) || IsNoSuchEntity(nil) {
		t.Error("other errors recognized as NoSuchEntity")
	}
}

func TestCreateMayHaveHappened(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{sdkError("IAM", "CreateUser", 409, "EntityAlreadyExists", ""), true},
		{sdkError("IAM", "CreateUser", 500, "ServiceFailure", ""), true},
		{errors.New("connection reset by peer"), true},
		{sdkError("IAM", "CreateUser", 403, "AccessDenied", ""), false},
		{sdkError("IAM", "CreateUser", 400, "ValidationError", ""), false},
		{sdkError("IAM", "CreateUser", 409, "LimitExceeded", ""), false},
	} {
		if got := createMayHaveHappened(tc.err); got != tc.want {
			t.Errorf("createMayHaveHappened(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestIssueError_Wording(t *testing.T) {
	cause := sdkError("IAM", "AttachUserPolicy", 404, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/Nope does not exist")
	e := &IssueError{Role: "deploy", Step: `attaching policy arn:aws:iam::aws:policy/Nope to IAM user "u"`, Err: cause, UserName: "u"}
	mustContain(t, e.Error(), `issuing credential for role "deploy": attaching policy arn:aws:iam::aws:policy/Nope to IAM user "u": `,
		"NoSuchEntity", "; rollback complete: nothing from this attempt remains")
	if !errors.Is(e, cause) || !IsNoSuchEntity(e) {
		t.Error("IssueError does not unwrap to the step's error")
	}
	e.RollbackErr = errors.New("deleting IAM user \"u\": throttled")
	mustContain(t, e.Error(), `; rollback incomplete: deleting IAM user "u": throttled; IAM user "u" carries lease tags and the sweep removes it`)
}

func TestSameIAMUser(t *testing.T) {
	const want = "arn:aws:iam::123456789012:user/awsdynamic/awsdyn-x"
	for got, same := range map[string]bool{
		want: true,
		"arn:aws:iam::123456789012:user/awsdyn-x":           true,
		"arn:aws:sts::123456789012:user/moto":               false,
		"arn:aws:iam::123456789012:user/awsdyn-y":           false,
		"arn:aws:iam::210987654321:user/awsdyn-x":           false,
		"arn:aws:sts::123456789012:assumed-role/r/awsdyn-x": false,
		"": false,
	} {
		if sameIAMUser(got, want) != same {
			t.Errorf("sameIAMUser(%q) = %v, want %v", got, !same, same)
		}
	}
}
