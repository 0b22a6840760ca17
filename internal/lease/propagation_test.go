package lease

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// scriptedSTS answers GetCallerIdentity from a script, for the poll's arithmetic. Tests against moto cover the
// real calls.
type scriptedSTS struct {
	STSAPI
	mu      sync.Mutex
	answers []func() (*sts.GetCallerIdentityOutput, error)
	calls   int
	creds   aws.Credentials
}

func (s *scriptedSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(s.calls, len(s.answers)-1)
	s.calls++
	return s.answers[n]()
}

const scriptedARN = "arn:aws:iam::123456789012:user/awsdynamic/awsdyn-x"

func ok() (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Arn: aws.String(scriptedARN)}, nil
}
func asOther() (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Arn: aws.String("arn:aws:sts::123456789012:user/moto")}, nil
}
func invalid() (*sts.GetCallerIdentityOutput, error) {
	return nil, sdkError("STS", "GetCallerIdentity", 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

func scriptedIssuer(s *scriptedSTS, p PropagationPolicy) *Issuer {
	return NewIssuer(Options{
		NewSTS: func(cp aws.CredentialsProvider) STSAPI {
			s.creds, _ = cp.Retrieve(context.Background())
			return s
		},
		Propagation: p,
	})
}

var fastPoll = PropagationPolicy{InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Timeout: 5 * time.Second}

func TestPropagation_NeedsSuccessesInARow(t *testing.T) {
	s := &scriptedSTS{answers: []func() (*sts.GetCallerIdentityOutput, error){
		invalid, ok, invalid, asOther, ok, ok, invalid, ok, ok, ok, invalid,
	}}
	l := &Lease{UserName: "awsdyn-x", UserARN: scriptedARN}
	err := scriptedIssuer(s, fastPoll).waitForPropagation(context.Background(), l,
		Credentials{AccessKeyID: "AKIANEW", SecretAccessKey: "new-secret"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.calls != 10 {
		t.Errorf("GetCallerIdentity calls = %d, want 10 (the first run of 3 successes ends at call 10)", s.calls)
	}
	if s.creds.AccessKeyID != "AKIANEW" || s.creds.SecretAccessKey != "new-secret" {
		t.Errorf("the poll signed with %s, not the new key", s.creds.AccessKeyID)
	}
}

func TestPropagation_TimesOutWithClearErrorUnit(t *testing.T) {
	s := &scriptedSTS{answers: []func() (*sts.GetCallerIdentityOutput, error){ok, invalid}}
	p := fastPoll
	p.Timeout = 50 * time.Millisecond
	l := &Lease{UserName: "awsdyn-x", UserARN: scriptedARN}
	err := scriptedIssuer(s, p).waitForPropagation(context.Background(), l,
		Credentials{AccessKeyID: "AKIANEW", SecretAccessKey: "new-secret"}, 0)
	if err == nil {
		t.Fatal("waitForPropagation succeeded with a key that stopped working")
	}
	mustContain(t, err.Error(), `the access key of IAM user "awsdyn-x" did not authenticate 3 times in a row within 50ms (`,
		" attempts)", "last error: ", "InvalidClientTokenId")
	if strings.Contains(err.Error(), "new-secret") {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestPropagation_StopsWhenCanceled(t *testing.T) {
	s := &scriptedSTS{answers: []func() (*sts.GetCallerIdentityOutput, error){asOther}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	l := &Lease{UserName: "awsdyn-x", UserARN: scriptedARN}
	start := time.Now()
	err := scriptedIssuer(s, fastPoll).waitForPropagation(ctx, l, Credentials{AccessKeyID: "AKIANEW"}, 0)
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want it to say the wait was canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("the poll went on for %s after cancellation", time.Since(start))
	}
	mustContain(t, err.Error(), `stopped waiting for the access key of IAM user "awsdyn-x"`, "answered as arn:aws:sts::123456789012:user/moto")
}

func TestPropagation_TimesOutWithClearError(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	l, creds, _ := e.issueDeploy(i)
	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
	// Without authorization moto answers a deleted user's key with its default identity; with it, the key fails.
	if err := e.server.EnableAuth(); err != nil {
		t.Fatal(err)
	}
	err := i.waitForPropagation(e.ctx(), l, creds, 300*time.Millisecond)
	if err == nil {
		t.Fatal("a deleted user's key passed the propagation check")
	}
	t.Log(err)
	mustContain(t, err.Error(), `the access key of IAM user "`+l.UserName+`" did not authenticate 3 times in a row within 300ms (`,
		"attempts); last error: ", "GetCallerIdentity", "InvalidClientTokenId")
	if strings.Contains(err.Error(), creds.SecretAccessKey) {
		t.Errorf("error shows the secret access key: %v", err)
	}
}

func TestIssue_RollsBackWhenKeyNeverAuthenticates(t *testing.T) {
	e := newMotoEnv(t)
	role := e.fullRole("deploy")
	// The propagation client talks to a port nobody listens on.
	closed := "http://127.0.0.1:1"
	i := e.issuer(func(o *Options) {
		o.NewSTS = func(p aws.CredentialsProvider) STSAPI {
			return sts.NewFromConfig(e.cfg, func(o *sts.Options) {
				o.Credentials = p
				o.BaseEndpoint = aws.String(closed)
				o.RetryMaxAttempts = 1
			})
		}
	})
	e.record()
	_, creds, err := i.Issue(e.ctx(), role, Request{WaitForPropagation: true, PropagationTimeout: 300 * time.Millisecond})
	reqs := e.recording()
	if err == nil {
		t.Fatal("Issue succeeded although the key never authenticated")
	}
	t.Log(err)
	var ie *IssueError
	if !errors.As(err, &ie) || ie.RollbackErr != nil {
		t.Fatalf("err = %#v, want an *IssueError with a complete rollback", err)
	}
	if creds != (Credentials{}) {
		t.Error("Issue returned credentials with its error")
	}
	mustContain(t, err.Error(), `issuing credential for role "deploy": checking the new access key: the access key of IAM user "`+ie.UserName+`" did not authenticate`,
		"connection refused", "rollback complete: nothing from this attempt remains")
	if n := actionCounts(reqs)["DeleteAccessKey"]; n != 1 {
		t.Errorf("DeleteAccessKey calls = %d, want 1: rollback must delete the key it created", n)
	}
	if lastIndexOf(reqs, "DeleteUser") < lastIndexOf(reqs, "DeleteAccessKey") {
		t.Error("DeleteUser was not the last step of the rollback")
	}
	if users := e.usersUnder(DefaultUserPath); len(users) != 0 {
		t.Errorf("users left under %s: %v", DefaultUserPath, users)
	}
	keys, err := e.iam.ListAccessKeys(e.ctx(), &iam.ListAccessKeysInput{UserName: aws.String(ie.UserName)})
	if err == nil && len(keys.AccessKeyMetadata) > 0 {
		t.Errorf("access keys left: %v", keys.AccessKeyMetadata)
	}
}
