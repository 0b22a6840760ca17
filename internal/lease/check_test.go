package lease

import (
	"errors"
	"slices"
	"testing"
)

func TestCheckRole_ListsExactlyWhatIsMissing(t *testing.T) {
	e := newMotoEnv(t)
	i := e.issuer()
	role := e.fullRole("deploy")
	if err := i.CheckRole(e.ctx(), role); err != nil {
		t.Fatalf("a role whose objects all exist: %v", err)
	}

	role.PolicyARNs = append(role.PolicyARNs, "arn:aws:iam::123456789012:policy/zz-missing", "arn:aws:iam::aws:policy/NoSuchManagedPolicy",
		"arn:aws:iam::123456789012:policy/zz-missing")
	role.PermissionsBoundaryARN = "arn:aws:iam::123456789012:policy/missing-boundary"
	role.IAMGroups = append(role.IAMGroups, "missing-b", "missing-a")
	e.record()
	err := i.CheckRole(e.ctx(), role)
	reqs := e.recording()
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want *MissingError", err)
	}
	t.Log(err)
	if want := []string{"arn:aws:iam::123456789012:policy/zz-missing", "arn:aws:iam::aws:policy/NoSuchManagedPolicy"}; !slices.Equal(me.PolicyARNs, want) {
		t.Errorf("missing policies %v, want %v (sorted, each once)", me.PolicyARNs, want)
	}
	if me.BoundaryARN != role.PermissionsBoundaryARN {
		t.Errorf("missing boundary %q", me.BoundaryARN)
	}
	if want := []string{"missing-a", "missing-b"}; !slices.Equal(me.Groups, want) {
		t.Errorf("missing groups %v, want %v", me.Groups, want)
	}
	mustContain(t, err.Error(), `role "deploy" refers to IAM objects that do not exist: policies arn:aws:iam::123456789012:policy/zz-missing, arn:aws:iam::aws:policy/NoSuchManagedPolicy; permissions boundary arn:aws:iam::123456789012:policy/missing-boundary; groups missing-a, missing-b`)
	c := actionCounts(reqs)
	if c["GetPolicy"] != 6 || c["GetGroup"] != 3 || len(reqs) != 9 {
		t.Errorf("calls %v: want one GetPolicy per distinct policy and the boundary (6), one GetGroup per group (3)", c)
	}
}
