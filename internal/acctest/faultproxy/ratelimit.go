package faultproxy

import (
	"net/http"
	"strings"
	"time"
)

// RateLimit is IAM's request rate as AWS enforces it: per account, over every client, with writes limited far
// below reads. Each class has a token bucket; a call that finds its bucket empty is answered Throttling (HTTP 400,
// as IAM answers) without reaching moto. STS calls are not IAM's and are not limited.
type RateLimit struct {
	WritesPerSecond float64 // 0: writes are not limited
	ReadsPerSecond  float64 // 0: reads are not limited
	// Burst is how many calls each bucket holds when full; 0 means one second's worth of its rate.
	Burst float64
}

type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64) *bucket {
	if rate <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = rate
	}
	return &bucket{rate: rate, burst: burst, tokens: burst}
}

// take spends one token if there is one. A nil bucket has no limit.
func (b *bucket) take(now time.Time) bool {
	if b == nil {
		return true
	}
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// SetRateLimit installs an account-wide rate limit (and resets what the buckets held).
func (p *Proxy) SetRateLimit(rl RateLimit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes, p.reads = newBucket(rl.WritesPerSecond, rl.Burst), newBucket(rl.ReadsPerSecond, rl.Burst)
}

var stsActions = map[string]bool{
	"GetCallerIdentity": true, "AssumeRole": true, "AssumeRoleWithWebIdentity": true, "AssumeRoleWithSAML": true,
	"GetFederationToken": true, "GetSessionToken": true, "GetAccessKeyInfo": true, "DecodeAuthorizationMessage": true,
}

// IsIAMRead says whether an IAM action only reads (Get*, List*): IAM's read rate applies to it, not its write rate.
func IsIAMRead(action string) bool {
	return strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List")
}

// overRate spends a token of action's bucket and reports whether there was none. Callers hold p.mu.
func (p *Proxy) overRate(action string, now time.Time) bool {
	if action == "" || stsActions[action] {
		return false
	}
	if IsIAMRead(action) {
		if !p.reads.take(now) {
			return true
		}
		p.readsIn++
		return false
	}
	if !p.writes.take(now) {
		return true
	}
	p.writesIn++
	return false
}

// Stats are what the proxy saw since Start or the last Reset.
type Stats struct {
	Calls     int // HTTP requests (attempts)
	Throttled int // of those, answered Throttling by the rate limit
	// Invocations are the SDK's calls, each made of one or more attempts (the amz-sdk-invocation-id header
	// groups them); Retries = Calls - Invocations for the calls that carried the header.
	Invocations, MaxAttempts int
	// Writes and Reads are the IAM calls that got past the rate limit, writes and reads apart: the work the
	// account's rate has to carry, whatever the retries.
	Writes, Reads int
}

// Stats returns the counts since Start or the last Reset.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Calls: len(p.calls), Throttled: p.throttled, Invocations: len(p.attempts), Writes: p.writesIn, Reads: p.readsIn}
	for _, n := range p.attempts {
		s.MaxAttempts = max(s.MaxAttempts, n)
	}
	return s
}

const invocationHeader = "Amz-Sdk-Invocation-Id"

// rateLimited answers as IAM does past its rate.
func rateLimited(w http.ResponseWriter, action string) {
	writeError(w, Throttling, action)
}
