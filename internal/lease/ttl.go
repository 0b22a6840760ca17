package lease

import "time"

// TTLs applies Vault's rule for a lease's durations: the TTL is the request's, else the role's default, else the
// provider's default; the maximum is the role's, else the provider's; the TTL never exceeds the maximum.
func TTLs(role Role, req Request, providerDefault, providerMax time.Duration) (ttl, max time.Duration) {
	max = firstPositive(role.MaxTTL, providerMax)
	return cappedTTL(max, req.TTL, role.DefaultTTL, providerDefault), max
}

// cappedTTL is the first positive of candidates, at most max when max is positive: Vault's rule for every TTL
// (the request's, else the role's default, else the engine's), for leases and STS credentials alike.
func cappedTTL(max time.Duration, candidates ...time.Duration) time.Duration {
	ttl := firstPositive(candidates...)
	if max > 0 && ttl > max {
		ttl = max
	}
	return ttl
}

func firstPositive(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}
