// Package moto runs a moto server (a real AWS emulator) on a free loopback port for tests. It never fakes AWS
// itself: when moto cannot be started the caller fails or skips with the reason.
package moto

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// AccountID is moto's default account.
const AccountID = "123456789012"

// Server is a running moto server.
type Server struct {
	URL     string
	LogPath string

	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	once sync.Once
}

// PythonEnv names the interpreter that has moto installed (make tools writes it into env.sh).
const PythonEnv = "AWSDYNAMIC_MOTO_PYTHON"

var portLine = regexp.MustCompile(`Running on http://127\.0\.0\.1:(\d+)`)

// Start launches `python -m moto.server` on 127.0.0.1 with a kernel-chosen port and waits until it answers.
// AWS managed policies are loaded so that arn:aws:iam::aws:policy/... ARNs exist as they do in AWS.
func Start(ctx context.Context) (*Server, error) {
	python := os.Getenv(PythonEnv)
	if python == "" {
		return nil, fmt.Errorf("%s is not set: run `make tools` and use the Makefile targets, or point it at a Python with moto installed", PythonEnv)
	}
	dir, err := os.MkdirTemp("", "awsdynamic-moto-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0")
	cmd.Env = append(os.Environ(),
		"MOTO_IAM_LOAD_MANAGED_POLICIES=true",
		// The recorder writes to its working directory unless told otherwise; keep it in the temp dir.
		"MOTO_RECORDER_FILEPATH="+filepath.Join(dir, "moto_recording"),
		"PYTHONUNBUFFERED=1",
	)
	// moto's output goes to a file: a pipe nobody drains would stall the server once full.
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting moto server with %s: %w", python, err)
	}
	s := &Server{LogPath: logPath, cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logFile.Close(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("moto server exited during start-up; its log:\n%s", s.Log())
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("moto server did not answer within 60s; its log:\n%s", s.Log())
		}
		if s.URL == "" {
			if m := portLine.FindStringSubmatch(s.Log()); m != nil {
				s.URL = "http://127.0.0.1:" + m[1]
			}
		}
		if s.URL != "" {
			if resp, err := http.Get(s.URL + "/moto-api/"); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s, nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what moto printed so far (kept for failed tests).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// Stop kills the server and its process group, always.
func (s *Server) Stop() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
		if os.Getenv("AWSDYNAMIC_KEEP_MOTO_LOG") == "" {
			_ = os.RemoveAll(s.dir)
		}
	})
}

func (s *Server) post(path, body string) error {
	resp, err := http.Post(s.URL+path, "text/plain", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("moto %s: HTTP %d: %s", path, resp.StatusCode, b)
	}
	return nil
}

// Reset empties all of moto's state.
func (s *Server) Reset() error { return s.post("/moto-api/reset", "") }

// EnableAuth makes moto enforce IAM authorization from the next request on; DisableAuth turns it off.
func (s *Server) EnableAuth() error  { return s.post("/moto-api/reset-auth", "0") }
func (s *Server) DisableAuth() error { return s.post("/moto-api/reset-auth", "inf") }

// StartRecording clears moto's request recorder and starts it.
func (s *Server) StartRecording() error {
	if err := s.post("/moto-api/recorder/reset-recording", ""); err != nil {
		return err
	}
	return s.post("/moto-api/recorder/start-recording", "")
}

// StopRecording stops moto's request recorder.
func (s *Server) StopRecording() error { return s.post("/moto-api/recorder/stop-recording", "") }

// Request is one request moto recorded, with its form decoded.
type Request struct {
	Method string
	Path   string
	Action string
	Form   url.Values
}

// Recording returns the requests recorded since StartRecording, in order.
func (s *Server) Recording() ([]Request, error) {
	resp, err := http.Get(s.URL + "/moto-api/recorder/download-recording")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec struct {
			Method      string `json:"method"`
			URL         string `json:"url"`
			Body        string `json:"body"`
			BodyEncoded bool   `json:"body_encoded"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("decoding moto recording line %q: %w", line, err)
		}
		body := rec.Body
		if rec.BodyEncoded {
			b, err := base64.StdEncoding.DecodeString(rec.Body)
			if err != nil {
				return nil, fmt.Errorf("decoding moto recording body: %w", err)
			}
			body = string(b)
		}
		form, _ := url.ParseQuery(body)
		if u, err := url.Parse(rec.URL); err == nil {
			for k, v := range u.Query() {
				form[k] = append(form[k], v...)
			}
		}
		out = append(out, Request{Method: rec.Method, Path: rec.URL, Action: form.Get("Action"), Form: form})
	}
	return out, nil
}

// Actions lists the recorded Action names, in order.
func Actions(reqs []Request) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		if r.Action != "" {
			out = append(out, r.Action)
		}
	}
	return out
}

// URLEnv is set by RunTests to the URL of the package's moto server, for tests that cannot reach *s.
const URLEnv = "AWSDYNAMIC_TEST_MOTO_URL"

// RunTests is the TestMain body of every package that needs moto: it starts one server into *s, runs the tests,
// prints the end of moto's log when they failed, and stops the server always. Without a moto Python it runs the
// tests with *s nil, after saying why, so that they can skip.
func RunTests(m interface{ Run() int }, pkg string, s **Server) int {
	if os.Getenv(PythonEnv) == "" {
		fmt.Fprintf(os.Stderr, "%s: %s is not set, so the tests that need moto skip (use the Makefile's targets, which install it)\n", pkg, PythonEnv)
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: starting moto (%s=%s): %v\n", pkg, PythonEnv, os.Getenv(PythonEnv), err)
		return 1
	}
	defer srv.Stop()
	*s = srv
	os.Setenv(URLEnv, srv.URL) //nolint:errcheck // cannot fail for a valid name
	code := m.Run()
	if code != 0 {
		log := srv.Log()
		const keep = 32 << 10
		if len(log) > keep {
			log = "[...]\n" + log[len(log)-keep:]
		}
		fmt.Fprintf(os.Stderr, "\n---- moto log (%s) ----\n%s\n---- end of moto log ----\n", srv.LogPath, log)
	}
	return code
}
