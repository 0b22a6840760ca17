// Command load is `make load` (bench/README.md): many Terraform applies at once against one account whose IAM
// request rate is limited, as AWS limits it, for every client together.
//
// It builds the provider and the fault proxy, starts moto with the proxy in front of it enforcing an account-wide
// token bucket on IAM calls (writes and reads apart; Throttling past them), then runs N `terraform apply` at once,
// each in a working directory of its own with its own provider processes, each with M awsdynamic_credential of a
// role with two policy ARNs and a document; then N `terraform destroy` at once. It reports the applies and
// destroys that failed, the IAM users and access keys left, the time against the floor the rate allows, the
// throttled answers, the attempts per SDK call, and the CPU time and peak RSS of each provider process, and writes
// them to -out. It exits non-zero when anything failed or was left. It is a measurement, not a timed test.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/faultproxy"
	"github.com/awsdynamic/terraform-provider-awsdynamic/internal/acctest/moto"
)

type settings struct {
	n, m, parallelism int
	writeRate         float64
	readRate          float64
	burst             float64
	timeout           time.Duration
	cli, out          string
	retryMode         string
}

func main() {
	var s settings
	flag.IntVar(&s.n, "n", 20, "concurrent applies (separate working directories and provider processes)")
	flag.IntVar(&s.m, "m", 50, "awsdynamic_credential resources per apply")
	flag.IntVar(&s.parallelism, "parallelism", 10, "terraform -parallelism of each apply and destroy")
	flag.Float64Var(&s.writeRate, "write-rate", 20, "account-wide IAM writes per second")
	flag.Float64Var(&s.readRate, "read-rate", 100, "account-wide IAM reads (Get*, List*) per second")
	flag.Float64Var(&s.burst, "burst", 0, "calls each rate bucket holds when full (0: one second's worth)")
	flag.DurationVar(&s.timeout, "timeout", 45*time.Minute, "bound on the whole run; applies and destroys still running then are killed and count as failed")
	flag.StringVar(&s.cli, "cli", os.Getenv("AWSDYNAMIC_TERRAFORM"), "terraform or tofu binary")
	flag.StringVar(&s.out, "out", "bench/load.md", "report file ('' for none)")
	flag.StringVar(&s.retryMode, "retry-mode", "", "provider retry_mode ('' for the provider's default)")
	flag.Parse()
	if s.writeRate <= 0 || s.readRate <= 0 || s.n <= 0 || s.m <= 0 {
		fail("-n, -m, -write-rate and -read-rate must be positive")
	}
	if s.cli == "" {
		fail("-cli (or AWSDYNAMIC_TERRAFORM) is required: run through `make load`")
	}
	ok, err := run(s)
	if err != nil {
		fail(err.Error())
	}
	if !ok {
		os.Exit(1)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "load:", msg)
	os.Exit(2)
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}

// phase is one round of N concurrent CLI runs.
type phase struct {
	name     string
	wall     time.Duration
	failed   []string
	stats    faultproxy.Stats
	procs    []procStat
	runTimes []time.Duration
}

func run(s settings) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	work, err := os.MkdirTemp("", "awsdynamic-load-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)

	say("building the provider")
	plugins := filepath.Join(work, "plugins")
	provider := filepath.Join(plugins, "terraform-provider-awsdynamic")
	if out, err := exec.Command("go", "build", "-o", provider, ".").CombinedOutput(); err != nil {
		return false, fmt.Errorf("building the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"awsdynamic/awsdynamic\" = %q\n  }\n  direct {}\n}\n", plugins)), 0o600); err != nil {
		return false, err
	}

	say("starting moto and the rate-limiting proxy (IAM writes %.0f/s, reads %.0f/s, account-wide)", s.writeRate, s.readRate)
	srv, err := moto.Start(ctx)
	if err != nil {
		return false, err
	}
	defer srv.Stop()
	px, err := faultproxy.Start(srv.URL)
	if err != nil {
		return false, err
	}
	defer px.Close()
	// moto answers iam:ListServiceSpecificCredentials with HTTP 500 (not implemented), which every revoke would
	// retry for seconds that AWS never charges: the proxy answers it as AWS does for a user without any.
	gap := &moto.GapHandler{Next: px}
	proxySrv := &http.Server{Handler: gap, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return false, err
	}
	go func() { _ = proxySrv.Serve(ln) }()
	defer proxySrv.Close()
	endpoint := "http://" + ln.Addr().String()

	dirs := make([]string, s.n)
	for i := range dirs {
		dirs[i] = filepath.Join(work, fmt.Sprintf("apply-%02d", i))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			return false, err
		}
		if err := os.WriteFile(filepath.Join(dirs[i], "main.tf"), []byte(config(i, s, endpoint)), 0o600); err != nil {
			return false, err
		}
	}
	env := append(cleanEnv(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

	// Warm moto's managed policies (the first IAM call loads them) so that it does not count against the applies.
	root := rootIAM(srv.URL)
	if _, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		return false, fmt.Errorf("warming moto: %w", err)
	}

	px.SetRateLimit(faultproxy.RateLimit{WritesPerSecond: s.writeRate, ReadsPerSecond: s.readRate, Burst: s.burst})
	apply := runPhase(ctx, "apply", px, provider, dirs, env, s, "apply", "-auto-approve", "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", s.parallelism))
	liveUsers, _ := countLeft(root)
	limit := faultproxy.RateLimit{WritesPerSecond: s.writeRate, ReadsPerSecond: s.readRate, Burst: s.burst}
	px.Reset()
	px.SetRateLimit(limit)
	destroy := runPhase(ctx, "destroy", px, provider, dirs, env, s, "destroy", "-auto-approve", "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", s.parallelism))
	px.Reset()

	users, keys := countLeft(root)
	ok := len(apply.failed) == 0 && len(destroy.failed) == 0 && users == 0 && keys == 0
	report := render(s, apply, destroy, liveUsers, users, keys, gap.Answered())
	fmt.Print(report)
	if s.out != "" {
		if err := os.WriteFile(s.out, []byte(report), 0o644); err != nil {
			return ok, err
		}
		say("wrote %s", s.out)
	}
	for _, p := range []phase{apply, destroy} {
		for _, f := range p.failed {
			say("%s failed: %s", p.name, f)
		}
	}
	return ok, nil
}

func config(i int, s settings, endpoint string) string {
	retry := ""
	if s.retryMode != "" {
		retry = fmt.Sprintf("  retry_mode = %q\n", s.retryMode)
	}
	return fmt.Sprintf(`terraform {
  required_providers {
    awsdynamic = {
      source = "awsdynamic/awsdynamic"
    }
  }
}

provider "awsdynamic" {
  region = "us-east-1"
%s  endpoints {
    iam = %q
    sts = %q
  }
}

resource "awsdynamic_role" "load" {
  name            = "load%02d"
  credential_type = "iam_user"
  policy_arns     = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/SecurityAudit"]
  policy_document = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "*" }] })
}

resource "awsdynamic_credential" "load" {
  count        = %d
  role         = awsdynamic_role.load
  display_name = "c${count.index}"
  ttl          = "1h"
}
`, retry, endpoint, endpoint, i, s.m)
}

// cleanEnv is the environment without anything that would point the CLI or the SDK elsewhere.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "TF_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func runPhase(ctx context.Context, name string, px *faultproxy.Proxy, provider string, dirs []string, env []string, s settings, args ...string) phase {
	say("%s: %d at once, %d credentials each", name, len(dirs), s.m)
	p := phase{name: name, runTimes: make([]time.Duration, len(dirs))}
	sampler := startSampler(provider)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			cmd := exec.CommandContext(ctx, s.cli, args...)
			cmd.Dir, cmd.Env = dir, env
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			log, err := os.Create(filepath.Join(dir, name+".log"))
			if err == nil {
				cmd.Stdout, cmd.Stderr = log, log
				err = cmd.Run()
				_ = log.Close()
			}
			p.runTimes[i] = time.Since(t0)
			if err != nil {
				mu.Lock()
				p.failed = append(p.failed, fmt.Sprintf("%s: %v: %s", filepath.Base(dir), err, errorLines(filepath.Join(dir, name+".log"))))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	p.wall = time.Since(start)
	p.procs = sampler.stop()
	p.stats = px.Stats()
	say("%s: %s, %d failed, %d of %d calls throttled", name, p.wall.Round(time.Second), len(p.failed), p.stats.Throttled, p.stats.Calls)
	return p
}

// errorLines is the first error diagnostic of a failed run's output, for the report.
func errorLines(path string) string {
	b, _ := os.ReadFile(path)
	s := string(b)
	if i := strings.Index(s, "Error:"); i >= 0 {
		s = s[i:]
	} else if len(s) > 600 {
		s = s[len(s)-600:]
	}
	if len(s) > 600 {
		s = s[:600]
	}
	return strings.Join(strings.Fields(s), " ")
}

func rootIAM(url string) *iam.Client {
	return iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", "")},
		func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
}

// countLeft counts the IAM users under the provider's path and their access keys, straight from moto.
func countLeft(c *iam.Client) (users, keys int) {
	ctx := context.Background()
	out, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/awsdynamic/")})
	if err != nil {
		return -1, -1
	}
	for _, u := range out.Users {
		k, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u.UserName})
		if err == nil {
			keys += len(k.AccessKeyMetadata)
		}
	}
	return len(out.Users), keys
}

// procStat is one provider process: its CPU time and peak RSS, as /proc last showed them.
type procStat struct {
	pid    int
	cpu    time.Duration
	peakKB int
}

type sampler struct {
	stopc chan struct{}
	done  chan []procStat
}

// startSampler watches /proc every 200 ms for processes running the provider binary (each terraform run starts
// several: validate, plan and apply walks) and keeps each one's last CPU time and peak RSS (VmHWM).
func startSampler(binary string) *sampler {
	s := &sampler{stopc: make(chan struct{}), done: make(chan []procStat)}
	clk := float64(100) // USER_HZ on Linux
	go func() {
		seen := map[int]*procStat{}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != binary {
					continue
				}
				st := seen[pid]
				if st == nil {
					st = &procStat{pid: pid}
					seen[pid] = st
				}
				if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
					if i := strings.LastIndexByte(string(b), ')'); i > 0 {
						f := strings.Fields(string(b)[i+2:])
						if len(f) > 12 {
							u, _ := strconv.ParseFloat(f[11], 64)
							sy, _ := strconv.ParseFloat(f[12], 64)
							st.cpu = time.Duration((u + sy) / clk * float64(time.Second))
						}
					}
				}
				if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
					for _, line := range strings.Split(string(b), "\n") {
						if strings.HasPrefix(line, "VmHWM:") {
							if f := strings.Fields(line); len(f) >= 2 {
								kb, _ := strconv.Atoi(f[1])
								st.peakKB = max(st.peakKB, kb)
							}
						}
					}
				}
			}
			select {
			case <-s.stopc:
				out := make([]procStat, 0, len(seen))
				for _, st := range seen {
					out = append(out, *st)
				}
				s.done <- out
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() []procStat {
	close(s.stopc)
	return <-s.done
}

func render(s settings, apply, destroy phase, live, users, keys, gapAnswers int) string {
	var b strings.Builder
	verdict := "PASSED"
	if len(apply.failed)+len(destroy.failed) > 0 || users != 0 || keys != 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "# Load: %d concurrent applies × %d credentials, IAM limited to %.0f writes/s and %.0f reads/s account-wide — %s\n\n",
		s.n, s.m, s.writeRate, s.readRate, verdict)
	cliVersion, _ := exec.Command(s.cli, "version").Output()
	fmt.Fprintf(&b, "Generated by `make load` (internal/acctest/load) on %s: %d CPUs, %s, %s, %s, -parallelism=%d, retry_mode %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version(), firstLine(string(cliVersion)),
		runtime.GOOS+"/"+runtime.GOARCH, s.parallelism, orDefault(s.retryMode, "(provider default)"))
	fmt.Fprintf(&b, "| | apply | destroy |\n|---|---|---|\n")
	row := func(name string, f func(p phase) string) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, f(apply), f(destroy))
	}
	row("runs failed (goal 0)", func(p phase) string { return fmt.Sprintf("%d of %d", len(p.failed), s.n) })
	row("wall time", func(p phase) string { return p.wall.Round(100 * time.Millisecond).String() })
	row("floor the rate allows (IAM writes ÷ write rate, reads ÷ read rate: the larger)", func(p phase) string {
		return floor(p.stats, s).Round(100 * time.Millisecond).String()
	})
	row("wall time ÷ floor", func(p phase) string {
		if f := floor(p.stats, s); f > 0 {
			return fmt.Sprintf("%.2f", p.wall.Seconds()/f.Seconds())
		}
		return "-"
	})
	row("slowest / median run", func(p phase) string {
		return fmt.Sprintf("%s / %s", maxDur(p.runTimes).Round(100*time.Millisecond), median(p.runTimes).Round(100*time.Millisecond))
	})
	row("IAM writes / reads that got through", func(p phase) string { return fmt.Sprintf("%d / %d", p.stats.Writes, p.stats.Reads) })
	row("HTTP requests (attempts)", func(p phase) string { return strconv.Itoa(p.stats.Calls) })
	row("throttled answers", func(p phase) string {
		return fmt.Sprintf("%d (%.0f%%)", p.stats.Throttled, 100*float64(p.stats.Throttled)/float64(max(1, p.stats.Calls)))
	})
	row("SDK calls; attempts per call mean / max", func(p phase) string {
		return fmt.Sprintf("%d; %.2f / %d", p.stats.Invocations, float64(p.stats.Calls)/float64(max(1, p.stats.Invocations)), p.stats.MaxAttempts)
	})
	row("provider processes", func(p phase) string { return strconv.Itoa(len(p.procs)) })
	row("provider CPU per process mean / max", func(p phase) string {
		var sum, top time.Duration
		for _, pr := range p.procs {
			sum += pr.cpu
			top = max(top, pr.cpu)
		}
		return fmt.Sprintf("%s / %s", (sum / time.Duration(max(1, len(p.procs)))).Round(10*time.Millisecond), top.Round(10*time.Millisecond))
	})
	row("provider peak RSS per process mean / max", func(p phase) string {
		sum, top := 0, 0
		for _, pr := range p.procs {
			sum += pr.peakKB
			top = max(top, pr.peakKB)
		}
		return fmt.Sprintf("%.0f MiB / %.0f MiB", float64(sum)/1024/float64(max(1, len(p.procs))), float64(top)/1024)
	})
	fmt.Fprintf(&b, "\nIAM users after the applies: %d (want %d). Left after the destroys (goal 0): %d users, %d access keys.\n",
		live, s.n*s.m, users, keys)
	fmt.Fprintf(&b, "iam:ListServiceSpecificCredentials answered as AWS would where moto answers HTTP 500: %d times.\n", gapAnswers)
	for _, p := range []phase{apply, destroy} {
		if len(p.failed) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s failures:\n\n", p.name)
		sort.Strings(p.failed)
		for _, f := range p.failed {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return b.String()
}

func floor(st faultproxy.Stats, s settings) time.Duration {
	w := float64(st.Writes) / s.writeRate
	r := 0.0
	if s.readRate > 0 {
		r = float64(st.Reads) / s.readRate
	}
	return time.Duration(max(w, r) * float64(time.Second))
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
