package lease

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestExists_FalseAfterOutOfBandDelete(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	l, _, _ := e.issueDeploy(i)
	if ok, err := i.Exists(e.ctx(), l); err != nil || !ok {
		t.Fatalf("Exists = %v, %v right after issue", ok, err)
	}

	// Someone deletes the key by hand: the credential is gone although the user is not.
	if _, err := e.iam.DeleteAccessKey(e.ctx(), &iam.DeleteAccessKeyInput{UserName: aws.String(l.UserName), AccessKeyId: aws.String(l.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := i.Exists(e.ctx(), l); err != nil || ok {
		t.Errorf("Exists = %v, %v after the key was deleted; want false", ok, err)
	}

	// Then the user.
	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
	if ok, err := i.Exists(e.ctx(), l); err != nil || ok {
		t.Errorf("Exists = %v, %v after the user was deleted; want false", ok, err)
	}

	sts := &Lease{ID: "l", Kind: FederationToken}
	if ok, err := i.Exists(e.ctx(), sts); err != nil || !ok {
		t.Errorf("Exists(sts) = %v, %v; want true", ok, err)
	}
}
