// Package faultproxy sits between the AWS SDK and moto and misbehaves on request: it understands the AWS query
// protocol (the Action= of IAM and STS), counts calls per action, and per action and call number can answer with
// an AWS error, add latency, cut the connection after moto has done the work, or hold a call until released.
// The fault tests and the benchmarks share it.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Kind is what a rule does to a matching call.
type Kind int

const (
	// Error answers with an AWS error without forwarding: nothing happened in moto.
	Error Kind = iota
	// Cut forwards the call to moto, then closes the client's connection without an answer: the work was done
	// but the client cannot know.
	Cut
	// Hold forwards nothing until Release is called (or the client goes away), then forwards.
	Hold
)

// Fault is an AWS error answer.
type Fault struct {
	Code   string
	Status int
}

// The AWS errors the fault tests inject.
var (
	Throttling             = Fault{"Throttling", http.StatusBadRequest}
	ServiceUnavailable     = Fault{"ServiceUnavailable", http.StatusServiceUnavailable}
	InternalFailure        = Fault{"InternalFailure", http.StatusInternalServerError}
	ConcurrentModification = Fault{"ConcurrentModification", http.StatusConflict}
	AccessDenied           = Fault{"AccessDenied", http.StatusForbidden}
)

// Rule selects calls and says what to do with them.
type Rule struct {
	Action string // "" matches every action
	// Call is the 1-based number of the matching action's call the rule applies to; 0 means every call.
	Call int
	// Probability applies the rule to that share of matching calls (0 means always), e.g. 0.3 for 30% throttling.
	Probability float64
	Kind        Kind
	Fault       Fault // for Error
	// Times limits how often the rule fires; 0 means no limit.
	Times int

	fired int
}

// Call is one request the proxy saw.
type Call struct {
	Action     string
	Start, End time.Time
	Faulted    bool
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL string

	target  *url.URL
	rp      *httputil.ReverseProxy
	srv     *http.Server
	ln      net.Listener
	latency time.Duration

	mu      sync.Mutex
	rules   []*Rule
	counts  map[string]int
	calls   []Call
	held    chan struct{}
	holding map[string]int
	gen     int // bumped by Reset: calls in flight across a Reset are not recorded into the new epoch
	rng     *rand.Rand
	rewrite map[string]func([]byte) []byte

	writes, reads *bucket // SetRateLimit's account-wide buckets; nil: no limit
	throttled     int     // calls the rate limit answered
	writesIn      int     // IAM writes and reads the rate limit let through
	readsIn       int
	attempts      map[string]int // attempts per SDK invocation ID
}

// Start listens on a free loopback port and forwards to target (moto's URL).
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		target:   u,
		ln:       ln,
		counts:   map[string]int{},
		held:     make(chan struct{}),
		holding:  map[string]int{},
		rng:      rand.New(rand.NewPCG(1, 2)),
		rewrite:  map[string]func([]byte) []byte{},
		attempts: map[string]int{},
	}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy and releases held calls.
func (p *Proxy) Close() {
	p.Release()
	_ = p.srv.Close()
}

// SetLatency delays every call by d before forwarding (a stand-in for AWS's round-trip time).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Add installs rules; they are checked in order and the first that fires wins.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range rules {
		r := rules[i]
		p.rules = append(p.rules, &r)
	}
}

// Reset removes every rule, rewrite, rate limit and latency, forgets counts and calls, and releases held calls.
func (p *Proxy) Reset() {
	p.Release()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
	p.counts = map[string]int{}
	p.calls = nil
	p.gen++
	p.holding = map[string]int{}
	p.latency = 0
	p.rewrite = map[string]func([]byte) []byte{}
	p.attempts = map[string]int{}
	p.throttled, p.writesIn, p.readsIn = 0, 0, 0
	p.writes, p.reads = nil, nil
}

// Rewrite forwards action's calls to moto and answers with fn applied to moto's successful answer: for what AWS
// reports and moto cannot be made to (an account's quotas, say).
func (p *Proxy) Rewrite(action string, fn func(body []byte) []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite[action] = fn
}

var usersQuota = regexp.MustCompile(`(<key>UsersQuota</key>\s*<value>)\d+(</value>)`)

// UsersQuota rewrites an iam:GetAccountSummary answer to report quota as the account's UsersQuota. moto always
// reports AWS's default, 5,000, and counts its users truly; real accounts differ (AWS raises the quota on
// request), and a test cannot create thousands of users to come near it.
func UsersQuota(quota int) func([]byte) []byte {
	return func(b []byte) []byte {
		return usersQuota.ReplaceAll(b, []byte("${1}"+strconv.Itoa(quota)+"${2}"))
	}
}

// Release lets the calls held so far through; Hold rules go on holding later calls.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.held)
	p.held = make(chan struct{})
}

// Holding reports how many calls of action are being held right now.
func (p *Proxy) Holding(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holding[action]
}

// Count is how many calls of action the proxy received ("" for all).
func (p *Proxy) Count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if action == "" {
		return len(p.calls)
	}
	return p.counts[action]
}

// Counts returns a copy of the per-action call counts.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Calls returns the calls seen so far, in arrival order.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Actions lists the actions of the calls seen so far, in arrival order.
func (p *Proxy) Actions() []string {
	calls := p.Calls()
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Action
	}
	return out
}

// RoundTrips is the number of sequential round trips the calls took: the longest chain of calls each of which
// started only after the previous one had finished. Calls that overlap count once, whatever their number.
func (p *Proxy) RoundTrips() int {
	return RoundTrips(p.Calls())
}

// RoundTrips computes the longest chain of non-overlapping calls.
func RoundTrips(calls []Call) int {
	sort.Slice(calls, func(i, j int) bool { return calls[i].Start.Before(calls[j].Start) })
	depth := make([]int, len(calls))
	best := 0
	for i := range calls {
		depth[i] = 1
		for j := 0; j < i; j++ {
			if !calls[j].End.After(calls[i].Start) && depth[j]+1 > depth[i] {
				depth[i] = depth[j] + 1
			}
		}
		if depth[i] > best {
			best = depth[i]
		}
	}
	return best
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	action := actionOf(r, body)

	start := time.Now()
	p.mu.Lock()
	p.counts[action]++
	n := p.counts[action]
	idx, gen := len(p.calls), p.gen
	p.calls = append(p.calls, Call{Action: action, Start: start})
	rule := p.match(action, n)
	limited := rule == nil && p.overRate(action, start)
	if limited {
		p.throttled++
	}
	if id := r.Header.Get(invocationHeader); id != "" {
		p.attempts[id]++
	}
	latency := p.latency
	held := p.held
	rewrite := p.rewrite[action]
	p.mu.Unlock()

	defer func() {
		p.mu.Lock()
		if p.gen == gen {
			p.calls[idx].End = time.Now()
			p.calls[idx].Faulted = rule != nil || limited
		}
		p.mu.Unlock()
	}()

	if latency > 0 {
		time.Sleep(latency)
	}
	if limited {
		rateLimited(w, action)
		return
	}
	if rule == nil && rewrite != nil {
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		out := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			out = rewrite(out)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
		return
	}
	if rule == nil {
		p.rp.ServeHTTP(w, r)
		return
	}
	switch rule.Kind {
	case Error:
		writeError(w, rule.Fault, action)
	case Cut:
		rec := &discard{header: http.Header{}}
		p.rp.ServeHTTP(rec, r) // moto does the work; the client never hears of it
		hijackClose(w)
	case Hold:
		p.mu.Lock()
		p.holding[action]++
		p.mu.Unlock()
		select {
		case <-held:
		case <-r.Context().Done():
		}
		p.mu.Lock()
		if p.gen == gen {
			p.holding[action]--
		}
		p.mu.Unlock()
		if r.Context().Err() != nil {
			return
		}
		p.rp.ServeHTTP(w, r)
	}
}

// match returns the first rule that fires for the n-th call of action. Callers hold p.mu.
func (p *Proxy) match(action string, n int) *Rule {
	for _, r := range p.rules {
		if r.Action != "" && r.Action != action {
			continue
		}
		if r.Call != 0 && r.Call != n {
			continue
		}
		if r.Times > 0 && r.fired >= r.Times {
			continue
		}
		if r.Probability > 0 && p.rng.Float64() >= r.Probability {
			continue
		}
		r.fired++
		return r
	}
	return nil
}

func actionOf(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		return form.Get("Action")
	}
	return ""
}

// writeError answers in the query protocol's error shape, which aws-sdk-go-v2 decodes into an API error.
func writeError(w http.ResponseWriter, f Fault, action string) {
	typ := "Sender"
	if f.Status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>%s</Type><Code>%s</Code><Message>injected by faultproxy into %s</Message></Error><RequestId>faultproxy-0000</RequestId></ErrorResponse>`, typ, f.Code, action)
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http drops the connection without a response
}

type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
