package lease

import "strings"

// ReservedTagPrefix begins every tag key the provider puts on a lease's user (TagLeaseID, TagRole, TagExpiresAt)
// and any it may add; IAM compares tag keys case-insensitively, so the prefix is reserved in any case.
const ReservedTagPrefix = "awsdynamic:"

// sameKeyFold reports the key of sorted keys that comes before k and equals it but for case.
func sameKeyFold(sorted []string, k string) (string, bool) {
	for _, other := range sorted {
		if other == k {
			return "", false
		}
		if strings.EqualFold(other, k) {
			return other, true
		}
	}
	return "", false
}

// mergeTags lays over onto base, as IAM would see the result: a key of over replaces a key of base that differs
// from it only in case, so that a role's "Team" replaces the provider's "team" instead of sending both, which IAM
// rejects.
func mergeTags(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over)+LeaseTagCount)
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		for existing := range out {
			if strings.EqualFold(existing, k) {
				delete(out, existing)
			}
		}
		out[k] = v
	}
	return out
}
