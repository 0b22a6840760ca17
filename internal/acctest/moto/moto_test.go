package moto

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestStartRecordStop(t *testing.T) {
	if os.Getenv(PythonEnv) == "" {
		t.Skipf("%s not set: run through make test", PythonEnv)
	}
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.StartRecording(); err != nil {
		t.Fatal(err)
	}
	resp, err := httpPostForm(s.URL+"/", "Action=ListUsers&Version=2010-05-08")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp
	reqs, err := s.Recording()
	if err != nil {
		t.Fatal(err)
	}
	if got := Actions(reqs); len(got) != 1 || got[0] != "ListUsers" {
		t.Fatalf("recorded actions = %v, want [ListUsers]", got)
	}
	s.Stop()
	if _, err := httpPostForm(s.URL+"/", "Action=ListUsers"); err == nil {
		t.Fatal("moto still answers after Stop")
	}
}

func httpPostForm(u, body string) (int, error) {
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
