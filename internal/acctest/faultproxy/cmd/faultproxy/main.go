// Command faultproxy runs the fault/latency proxy of package faultproxy in front of an AWS endpoint (a moto server),
// for tools outside `go test`: scripts/bench.sh puts it between the provider and moto to add AWS-like latency.
//
//	faultproxy -target http://127.0.0.1:PORT [-latency 20ms] [-answer-unimplemented]
//	           [-iam-write-rate 15 -iam-read-rate 60 -rate-burst 0]
//
// It prints its own URL on the first line of stdout, then serves until SIGINT or SIGTERM. Two paths are its own:
// GET /_faultproxy/stats answers {"calls": N, "counts": {"Action": N, ...}, "throttled": N, "invocations": N,
// "max_attempts": N, "iam_writes": N, "iam_reads": N} for the calls since start or the last reset; POST /_faultproxy/reset forgets them (the latency
// and the rate limit stay).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

func main() {
	target := flag.String("target", "", "URL of the endpoint to forward to (moto's), e.g. http://127.0.0.1:5000")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	latency := flag.Duration("latency", 0, "delay added to every call before it is forwarded (AWS's round-trip time)")
	answer := flag.Bool("answer-unimplemented", false,
		"answer calls moto does not implement (HTTP 500) as AWS would; see internal/acctest/moto/gaps.go")
	var rl faultproxy.RateLimit
	flag.Float64Var(&rl.WritesPerSecond, "iam-write-rate", 0, "account-wide IAM writes per second before Throttling (0: no limit)")
	flag.Float64Var(&rl.ReadsPerSecond, "iam-read-rate", 0, "account-wide IAM reads (Get*, List*) per second before Throttling (0: no limit)")
	flag.Float64Var(&rl.Burst, "rate-burst", 0, "calls each rate bucket holds when full (0: one second's worth)")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "faultproxy: -target is required")
		os.Exit(2)
	}

	p, err := faultproxy.Start(*target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
	// p listens on a port of its own, unused here: the handler below wraps p.ServeHTTP to add the admin paths.
	defer p.Close()
	p.SetLatency(*latency)
	p.SetRateLimit(rl)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: &handler{p: p, latency: *latency, answer: *answer, gaps: &moto.GapHandler{Next: p}, rate: rl}, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("http://%s\n", ln.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; _ = srv.Close() }()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
}

type handler struct {
	p       *faultproxy.Proxy
	latency time.Duration
	answer  bool
	gaps    *moto.GapHandler // h.p, answering as AWS where moto answers HTTP 500 (see moto.GapClient)
	rate    faultproxy.RateLimit
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_faultproxy/stats":
		w.Header().Set("Content-Type", "application/json")
		st := h.p.Stats()
		_ = json.NewEncoder(w).Encode(map[string]any{"calls": h.p.Count(""), "counts": h.p.Counts(),
			"throttled": st.Throttled, "invocations": st.Invocations, "max_attempts": st.MaxAttempts,
			"iam_writes": st.Writes, "iam_reads": st.Reads})
		return
	case "/_faultproxy/reset":
		h.p.Reset() // Reset also clears the latency
		h.p.SetLatency(h.latency)
		h.p.SetRateLimit(h.rate)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !h.answer {
		h.p.ServeHTTP(w, r)
		return
	}
	h.gaps.ServeHTTP(w, r)
}
