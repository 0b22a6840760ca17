package lease

import (
	"maps"
	"testing"
)

// TestCalls_PerIssueAndRevoke measures what one issue and one revoke cost in calls, for a role with 3 policy ARNs,
// a document and a group, with the propagation check on. The counts are what `make bench` reports with latency.
func TestCalls_PerIssueAndRevoke(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	role := e.fullRole("deploy")

	e.record()
	l, _, err := i.Issue(e.ctx(), role, Request{WaitForPropagation: true})
	issue := actionCounts(e.recording())
	if err != nil {
		t.Fatal(err)
	}
	e.record()
	if err := i.Revoke(e.ctx(), l); err != nil {
		t.Fatal(err)
	}
	revoke := actionCounts(e.recording())
	t.Logf("issue calls: %v (total %d)", issue, total(issue))
	t.Logf("revoke calls: %v (total %d)", revoke, total(revoke))

	wantIssue := map[string]int{"CreateUser": 1, "PutUserPolicy": 2, "AttachUserPolicy": 3, "AddUserToGroup": 1,
		"CreateAccessKey": 1, "GetCallerIdentity": 3}
	if !maps.Equal(issue, wantIssue) {
		t.Errorf("issue calls %v, want %v", issue, wantIssue)
	}
	wantRevoke := map[string]int{
		// round 1: the lease's key, the user (to prove it is the lease's) ...
		"DeleteAccessKey": 1, "GetUser": 1,
		// ... and the nine listings. moto answers ListServiceSpecificCredentials with HTTP 500, which the SDK's
		// standard retryer tries 3 times; against AWS it is 1 call.
		"ListAccessKeys": 1, "ListUserPolicies": 1, "ListAttachedUserPolicies": 1, "ListGroupsForUser": 1,
		"GetLoginProfile": 1, "ListMFADevices": 1, "ListSSHPublicKeys": 1, "ListSigningCertificates": 1,
		"ListServiceSpecificCredentials": 3,
		// round 2: no credential is left, so the guard goes with the lease's policies and group.
		"DeleteUserPolicy": 2, "DetachUserPolicy": 3, "RemoveUserFromGroup": 1,
		// round 3:
		"DeleteUser": 1,
	}
	if !maps.Equal(revoke, wantRevoke) {
		t.Errorf("revoke calls %v, want %v", revoke, wantRevoke)
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
