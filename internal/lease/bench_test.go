package lease

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/awsconfig"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/clock"
)

// The benchmarks of `make bench` (bench/README.md explains each figure). Every measured call goes through the
// fault proxy with benchLatency added, on clients built exactly as the provider builds them (awsconfig.New: its
// retryer, its transport), so the figures are the provider's. Beyond ns/op each reports, per operation:
//
//	calls/op              every call the proxy saw (IAM and, for issue, the propagation check's STS calls)
//	round-trips/op        sequential round trips the proxy measured (faultproxy.RoundTrips), without the
//	                      propagation check: the critical path the issue's targets speak of
//	propagation-calls/op  sts:GetCallerIdentity calls of the propagation check (issue only)
//	propagation-ms/op     from the end of CreateAccessKey to Issue's return: what the wait adds (issue only)
//	new-conns/op          HTTP connections the SDK opened instead of reusing an idle one (see benchEnv.op)
//	slowest-call-ms/op    the longest call as the proxy timed it (latency included), propagation check aside:
//	                      above the latency, it is moto's time, which grows when moto serves many calls at once
//
// They never assert a time: with -benchtime=1x they are CI's smoke test of this file.

const benchLatency = 20 * time.Millisecond

var benchARNCounts = []int{1, 5, 10}

// benchPropagation is the issuer's propagation policy: the defaults (PropagationPolicy.withDefaults: 3 successes in
// a row, 2s max backoff, 2m timeout) but a short first pause, since moto accepts a new key at once.
var benchPropagation = PropagationPolicy{InitialBackoff: 10 * time.Millisecond}

func BenchmarkIssue(b *testing.B) {
	// The schedule the provider uses against AWS, as a benchmark configuration line ("key: value", which benchstat
	// keeps with the results that follow): the parent of sub-benchmarks runs once, before any result is printed.
	p := PropagationPolicy{}.withDefaults()
	fmt.Printf("propagation-schedule-aws: %d successes in a row; pause %s after a success and before the first retry "+
		"(jittered to 50-100%%), x1.5 per further failure up to %s; timeout %s\n",
		p.Successes, p.InitialBackoff, p.MaxBackoff, p.Timeout)
	for _, n := range benchARNCounts {
		b.Run(fmt.Sprintf("arns=%d", n), func(b *testing.B) {
			e := newBenchEnv(b, n, true)
			var l *Lease
			e.loop(nil, func(ctx context.Context) (err error) {
				l, _, err = e.measured.Issue(ctx, e.role, Request{WaitForPropagation: true})
				return err
			}, func() {
				if err := e.direct.Revoke(e.ctx, l); err != nil {
					b.Fatal(err)
				}
			}, true)
		})
	}
}

func BenchmarkRevoke(b *testing.B) {
	for _, n := range benchARNCounts {
		b.Run(fmt.Sprintf("arns=%d", n), func(b *testing.B) { benchRevoke(b, n, true) })
	}
}

// BenchmarkRevokeMoto500 is BenchmarkRevoke against moto as it is: moto does not implement
// iam:ListServiceSpecificCredentials and answers HTTP 500, which the provider's retryer retries with backoff. AWS
// answers it at once, so BenchmarkRevoke replaces that 500 with AWS's answer; this one shows what moto costs.
func BenchmarkRevokeMoto500(b *testing.B) {
	b.Run("arns=1", func(b *testing.B) { benchRevoke(b, 1, false) })
}

func benchRevoke(b *testing.B, arns int, answerUnimplemented bool) {
	e := newBenchEnv(b, arns, answerUnimplemented)
	var l *Lease
	e.loop(func() {
		var err error
		if l, _, err = e.direct.Issue(e.ctx, e.role, Request{}); err != nil {
			b.Fatal(err)
		}
	}, func(ctx context.Context) error { return e.measured.Revoke(ctx, l) }, nil, false)
}

// BenchmarkRenew moves one lease's expiry by a second per iteration (the fake clock moves), so every renewal
// changes what AWS holds. Renewal does not depend on the role's policies.
func BenchmarkRenew(b *testing.B) {
	e := newBenchEnv(b, 1, true)
	l := e.directLease()
	b.ResetTimer()
	e.loop(func() { e.clock.Advance(time.Second) }, func(ctx context.Context) error { return e.measured.Renew(ctx, l, 0) }, nil, false)
}

// BenchmarkRefresh is what a refresh of an iam_user credential asks AWS: Presence, at once, the key's last use and
// the guard and, with the check for added credentials (the provider's default, check_added_credentials), the user's
// key listing and login profile. It writes nothing.
func BenchmarkRefresh(b *testing.B) {
	for _, check := range []bool{true, false} {
		b.Run(fmt.Sprintf("check_added_credentials=%t", check), func(b *testing.B) {
			e := newBenchEnv(b, 1, true)
			l := e.directLease()
			measured := *e.measured
			measured.checkAdded = check
			b.ResetTimer()
			e.loop(nil, func(ctx context.Context) error {
				if p, err := measured.Presence(ctx, l); err != nil || !p.Key || p.GuardProblem != "" || len(p.Added) != 0 {
					return fmt.Errorf("Presence = %+v, %v", p, err)
				}
				return nil
			}, nil, false)
		})
	}
}

// benchEnv is one benchmark's view of the package's moto server (TestMain's): emptied, holding the role's policies,
// with a latency proxy in front of it.
type benchEnv struct {
	b        *testing.B
	ctx      context.Context
	proxy    *faultproxy.Proxy
	measured *Issuer // through the proxy: the calls that are measured
	direct   *Issuer // straight to moto, no propagation check: arranging and cleaning up between iterations
	clock    *clock.Fake
	role     Role
	newConns atomic.Int64 // connections the measured clients opened during the current operation
}

func newBenchEnv(b *testing.B, arns int, answerUnimplemented bool) *benchEnv {
	b.Helper()
	resetMoto(b, "the benchmarks need a moto server (run `make bench`)")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	proxy, err := faultproxy.Start(motoServer.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(proxy.Close)

	e := &benchEnv{b: b, ctx: ctx, proxy: proxy, clock: clock.NewFake(time.Now().UTC().Truncate(time.Second))}
	issuer := func(endpoint string, answer bool, p PropagationPolicy) (*Issuer, *awsconfig.Clients) {
		c, err := awsconfig.New(ctx, awsconfig.Settings{
			AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "secret", Region: "us-east-1",
			IAMEndpoint: endpoint, STSEndpoint: endpoint,
			// Hermetic: nothing from the machine's ~/.aws.
			SharedConfigFiles: []string{os.DevNull}, SharedCredentialsFiles: []string{os.DevNull},
		})
		if err != nil {
			b.Fatal(err)
		}
		if answer {
			// Wrapped after loading: the loader adjusts only the SDK's own client type (for AWS_CA_BUNDLE, say).
			c.Config.HTTPClient = moto.GapClient{Next: c.Config.HTTPClient}
			c.IAM = iam.NewFromConfig(c.Config, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
			c.STS = sts.NewFromConfig(c.Config, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
		}
		return NewIssuer(Options{
			IAM: c.IAM, STS: c.STS,
			NewSTS:      func(p aws.CredentialsProvider) STSAPI { return c.NewSTS(p) },
			Clock:       e.clock,
			DefaultTags: map[string]string{"managed-by": "awsdynamic-bench"},
			Propagation: p,
		}), c
	}
	e.measured, _ = issuer(proxy.URL, answerUnimplemented, benchPropagation)
	var root *awsconfig.Clients
	e.direct, root = issuer(motoServer.URL, true, PropagationPolicy{})

	// Customer-managed policies, as a real role would name: moto's AWS-managed ones are loaded too, but a role's
	// own policies are the common case.
	var policyARNs []string
	for n := range arns {
		out, err := root.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(fmt.Sprintf("bench-%02d", n)),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		})
		if err != nil {
			b.Fatalf("arranging policy bench-%02d: %v", n, err)
		}
		policyARNs = append(policyARNs, aws.ToString(out.Policy.Arn))
	}
	e.role = Role{Name: "bench", CredentialType: IAMUser, PolicyARNs: policyARNs, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}

	// One issue and revoke through the proxy before measuring: the first calls after moto's reset pay for moto
	// building its backends and for the clients' first connections, which no later operation pays.
	e.resetProxy()
	l, _, err := e.measured.Issue(ctx, e.role, Request{WaitForPropagation: true})
	if err != nil {
		b.Fatalf("warming up: %v", err)
	}
	if err := e.measured.Revoke(ctx, l); err != nil {
		b.Fatalf("warming up: %v", err)
	}
	b.ResetTimer()
	return e
}

// directLease issues a lease straight to moto, outside any measure, and revokes it when the benchmark ends.
func (e *benchEnv) directLease() *Lease {
	e.b.Helper()
	l, _, err := e.direct.Issue(e.ctx, e.role, Request{})
	if err != nil {
		e.b.Fatal(err)
	}
	e.b.Cleanup(func() { _ = e.direct.Revoke(context.Background(), l) })
	return l
}

// loop is the measuring loop of every benchmark here. For each of b.N iterations, with the timer stopped, arrange
// runs (when not nil) and the proxy forgets its calls; the timer runs only while operation does, on a fresh e.op();
// then, stopped again, an error from operation fails the benchmark, the proxy's calls are added up, and cleanUp runs
// (when not nil). The figures are reported at the end, the propagation check's with propagation.
func (e *benchEnv) loop(arrange func(), operation func(context.Context) error, cleanUp func(), propagation bool) {
	b := e.b
	var m benchMetrics
	for range b.N {
		b.StopTimer()
		if arrange != nil {
			arrange()
		}
		e.resetProxy()
		b.StartTimer()
		err := operation(e.op())
		returned := time.Now()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		m.add(e.settledCalls(), returned, e.newConns.Load())
		if cleanUp != nil {
			cleanUp()
		}
		b.StartTimer()
	}
	m.report(b, propagation)
}

// resetProxy forgets the calls so far; Reset also drops the latency, which is put back.
func (e *benchEnv) resetProxy() {
	e.proxy.Reset()
	e.proxy.SetLatency(benchLatency)
	e.newConns.Store(0)
}

// op is the context of one measured operation: it counts the connections the SDK could not take from its idle
// pool. Against AWS each of those pays a TCP and a TLS handshake (about two more round trips) before its call;
// against the proxy on loopback it costs next to nothing, so only the count tells.
func (e *benchEnv) op() context.Context {
	return httptrace.WithClientTrace(e.ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			e.newConns.Add(1)
		}
	}})
}

// settledCalls returns the proxy's calls once each has its end time: the proxy records it just after the answer
// is written, so the client can be a step ahead.
func (e *benchEnv) settledCalls() []faultproxy.Call {
	deadline := time.Now().Add(time.Second)
	for {
		calls := e.proxy.Calls()
		settled := true
		for _, c := range calls {
			if c.End.IsZero() {
				settled = false
				break
			}
		}
		if settled || time.Now().After(deadline) {
			return calls
		}
		time.Sleep(time.Millisecond)
	}
}

// benchMetrics adds up the proxy's view of each operation.
type benchMetrics struct {
	ops, calls, roundTrips, propagationCalls int
	newConns                                 int64
	propagation, slowest                     time.Duration
}

func (m *benchMetrics) add(calls []faultproxy.Call, returned time.Time, newConns int64) {
	m.ops++
	m.newConns += newConns
	m.calls += len(calls)
	var engine []faultproxy.Call
	var keyCreated time.Time
	var slowest time.Duration
	for _, c := range calls {
		if c.Action != "GetCallerIdentity" {
			slowest = max(slowest, c.End.Sub(c.Start))
		}
		switch c.Action {
		case "GetCallerIdentity":
			m.propagationCalls++
		case "CreateAccessKey":
			keyCreated = c.End
			engine = append(engine, c)
		default:
			engine = append(engine, c)
		}
	}
	m.roundTrips += faultproxy.RoundTrips(engine)
	m.slowest += slowest
	if !keyCreated.IsZero() {
		m.propagation += returned.Sub(keyCreated)
	}
}

func (m *benchMetrics) report(b *testing.B, propagation bool) {
	if m.ops == 0 {
		return
	}
	n := float64(m.ops)
	b.ReportMetric(float64(m.calls)/n, "calls/op")
	b.ReportMetric(float64(m.roundTrips)/n, "round-trips/op")
	b.ReportMetric(float64(m.newConns)/n, "new-conns/op")
	b.ReportMetric(float64(m.slowest.Microseconds())/1000/n, "slowest-call-ms/op")
	if propagation {
		b.ReportMetric(float64(m.propagationCalls)/n, "propagation-calls/op")
		b.ReportMetric(float64(m.propagation.Microseconds())/1000/n, "propagation-ms/op")
	}
}
