package lease

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The guard is three statements, written as fixed text around the date and the user's ARN rather than marshaled, so
// that its size is a known function of the ARN's length which the role's validation can budget for (IAM counts all of
// a user's inline policies together against 2,048 characters):
//
//  1. Deny everything once aws:CurrentTime is past the lease's expiry: AWS kills the key even if nothing revokes it.
//  2. Deny, always, every action but reads on the user itself: a key whose policies grant IAM writes must not be
//     able to delete or rewrite this guard, untag the lease, rename its user, attach policies, change its boundary
//     or make itself more credentials (keys, password, MFA, SSH keys, signing and service-specific credentials).
//     All of those are authorized against the user's ARN.
//  3. Deny, always, group membership changes: IAM authorizes AddUserToGroup against the group, not the user, so the
//     only way to keep the holder from joining a more powerful group is to deny it for every group.
const (
	guardSid      = "AwsdynamicLeaseExpiry"
	guardSelfSid  = "AwsdynamicLeaseSelf"
	guardGroupSid = "AwsdynamicLeaseGroups"

	guardPrefix = `{"Version":"2012-10-17","Statement":[{"Sid":"` + guardSid +
		`","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"`
	guardMiddle = `"}}},{"Sid":"` + guardSelfSid + `","Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"`
	guardSuffix = `"},{"Sid":"` + guardGroupSid +
		`","Effect":"Deny","Action":["iam:AddUserToGroup","iam:RemoveUserFromGroup"],"Resource":"*"}]}`
	guardLayout = "2006-01-02T15:04:05Z" // RFC 3339 in UTC, whole seconds: always 20 characters for years 1000-9999

	// guardFixedSize is the guard policy's size as IAM counts it, less its user's ARN.
	guardFixedSize = len(guardPrefix) + len(guardLayout) + len(guardMiddle) + len(guardSuffix)

	// accountIDLen: every AWS account ID has 12 digits.
	accountIDLen = 12
)

// GuardReadActions are the actions the guard leaves the issued user on its own IAM user.
var GuardReadActions = []string{"iam:Get*", "iam:List*"}

// GuardDocument is the lease guard of the user with ARN userARN: deny every action on every resource once
// aws:CurrentTime is past expiresAt, and deny the user every write to itself and every group membership change until
// then. AWS enforces it even if nothing ever revokes the lease.
func GuardDocument(expiresAt time.Time, userARN string) string {
	return GuardDocumentFor(expiresAt, userARN, NetworkBinding{})
}

// GuardDocumentFor is GuardDocument with a fourth statement when the lease is bound to networks: deny every request
// from outside them, unless an AWS service makes it for the caller (see NetworkBinding.statement).
func GuardDocumentFor(expiresAt time.Time, userARN string, n NetworkBinding) string {
	doc := guardPrefix + expiresAt.UTC().Format(guardLayout) + guardMiddle + userARN + guardSuffix
	if st := n.statement(); st != "" {
		doc = doc[:len(doc)-2] + "," + st + "]}"
	}
	return doc
}

// guardDocument is the guard of lease l dated expires, with the lease's network binding.
func (l *Lease) guardDocument(expires time.Time) string {
	return GuardDocumentFor(expires, l.UserARN, l.Network)
}

// GuardSize is the size, as IAM counts it, of the guard of a user named name under path in partition (an account ID
// has a fixed length, so it need not be known), bound to networks n.
func GuardSize(partition, path, name string, n NetworkBinding) int {
	return guardFixedSize + len(UserARN(partition, "", path, name)) + accountIDLen + n.Size()
}

// UserARN is the ARN IAM gives user name under path in account of partition.
func UserARN(partition, account, path, name string) string {
	return "arn:" + partition + ":iam::" + account + ":user" + path + name
}

// Guard is what a guard policy read back from AWS enforces.
type Guard struct {
	ExpiresAt time.Time
	// UserARN is the user the self-protection statement covers; empty in guards written by 0.1.0, which had none.
	UserARN string
	// Network is what the fourth statement, when there is one, allows.
	Network NetworkBinding
}

// GuardExpiry reads back the date a guard document enforces. See ReadGuard.
func GuardExpiry(doc string) (time.Time, error) {
	g, err := ReadGuard(doc)
	return g.ExpiresAt, err
}

// ReadGuard reads back a guard document. It accepts any JSON layout of the same policy (AWS returns documents
// URL-encoded and may reformat them; decode first), and the one-statement guard of 0.1.0, and refuses documents that
// would not deny everything after their date, or that hold anything this engine does not write.
func ReadGuard(doc string) (Guard, error) {
	var g struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    any
			NotAction any
			Resource  any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &g); err != nil {
		return Guard{}, fmt.Errorf("reading the lease guard policy: %w", err)
	}
	if n := len(g.Statement); n != 1 && n != 3 && n != 4 {
		return Guard{}, fmt.Errorf("reading the lease guard policy: it has %d statements, want 3 (4 with allowed networks, 1 as 0.1.0 wrote)", n)
	}
	st := g.Statement[0]
	if st.Effect != "Deny" || !isStar(st.Action) || !isStar(st.Resource) || st.NotAction != nil {
		return Guard{}, errors.New(`reading the lease guard policy: its first statement is not "Deny" of action "*" on resource "*"`)
	}
	if len(st.Condition) != 1 || len(st.Condition["DateGreaterThan"]) != 1 {
		return Guard{}, errors.New("reading the lease guard policy: its only condition must be DateGreaterThan aws:CurrentTime")
	}
	raw, ok := st.Condition["DateGreaterThan"]["aws:CurrentTime"].(string)
	if !ok {
		return Guard{}, errors.New("reading the lease guard policy: DateGreaterThan has no aws:CurrentTime string")
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return Guard{}, fmt.Errorf("reading the lease guard policy: its date: %w", err)
	}
	out := Guard{ExpiresAt: t.UTC()}
	if len(g.Statement) == 1 {
		return out, nil
	}

	self, groups := g.Statement[1], g.Statement[2]
	arn, _ := self.Resource.(string)
	if self.Effect != "Deny" || self.Action != nil || !sameStrings(self.NotAction, GuardReadActions) || arn == "" ||
		len(self.Condition) != 0 {
		return Guard{}, errors.New(`reading the lease guard policy: its second statement is not "Deny" of everything but iam:Get* and iam:List* on one user`)
	}
	if groups.Effect != "Deny" || groups.NotAction != nil || !isStar(groups.Resource) || len(groups.Condition) != 0 ||
		!sameStrings(groups.Action, []string{"iam:AddUserToGroup", "iam:RemoveUserFromGroup"}) {
		return Guard{}, errors.New(`reading the lease guard policy: its third statement is not "Deny" of group membership changes on resource "*"`)
	}
	out.UserARN = arn
	if len(g.Statement) == 4 {
		st := g.Statement[3]
		if out.Network, err = readNetworkStatement(st.Effect, st.Action, st.NotAction, st.Resource, st.Condition); err != nil {
			return Guard{}, err
		}
	}
	return out, nil
}

func isStar(v any) bool { return sameStrings(v, []string{"*"}) }

// sameStrings says whether a policy element (a string or a list of strings) holds exactly want, in any order.
func sameStrings(v any, want []string) bool {
	var got []string
	switch v := v.(type) {
	case string:
		got = []string{v}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return false
			}
			got = append(got, s)
		}
	default:
		return false
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	return slices.Equal(got, want)
}
