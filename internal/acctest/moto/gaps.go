package moto

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
)

// Where moto cannot answer as AWS does, the harnesses answer in its place. moto 5.x answers
// iam:ListServiceSpecificCredentials with HTTP 500 (NotImplementedError): the SDK retries it with backoff (seconds
// AWS never charges), and each retry costs the standard retryer 14 tokens of its retry quota that no success refunds,
// so against moto a few revokes exhaust the quota. The call still goes to moto (through any proxy, where it is
// counted, delayed or throttled like any other); only moto's 500 is replaced with AWS's answer for a user with no
// such credentials.
var gapAnswers = map[string]string{
	"ListServiceSpecificCredentials": `<ListServiceSpecificCredentialsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">` +
		`<ListServiceSpecificCredentialsResult><ServiceSpecificCredentials/></ListServiceSpecificCredentialsResult>` +
		`<ResponseMetadata><RequestId>moto-gap-answer</RequestId></ResponseMetadata></ListServiceSpecificCredentialsResponse>`,
}

// gapAnswer reads r's body (putting it back for whoever sends r on) and returns AWS's answer to r's action when moto
// does not implement it.
func gapAnswer(r *http.Request) (answer string, ok bool, err error) {
	if r.Body == nil {
		return "", false, nil
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return "", false, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	answer, ok = gapAnswers[form.Get("Action")]
	return answer, ok, nil
}

// GapClient is an HTTP client for the SDK (an aws.HTTPClient) that sends every request through Next and, where moto
// answered an action it does not implement with HTTP 500, returns AWS's answer instead.
type GapClient struct {
	Next interface {
		Do(*http.Request) (*http.Response, error)
	}
}

// Do sends r through c.Next.
func (c GapClient) Do(r *http.Request) (*http.Response, error) {
	answer, gap, err := gapAnswer(r)
	if err != nil {
		return nil, err
	}
	resp, err := c.Next.Do(r)
	if err != nil || !gap || resp.StatusCode != http.StatusInternalServerError {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: resp.Proto, ProtoMajor: resp.ProtoMajor, ProtoMinor: resp.ProtoMinor,
		Header:        http.Header{"Content-Type": {"text/xml"}},
		Body:          io.NopCloser(strings.NewReader(answer)),
		ContentLength: int64(len(answer)),
		Request:       r,
	}, nil
}

// GapHandler is GapClient for a server: it serves every request with Next and, where Next answered an action moto
// does not implement with HTTP 500, writes AWS's answer instead, counting each time.
type GapHandler struct {
	Next     http.Handler
	answered atomic.Int64
}

func (h *GapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer, gap, err := gapAnswer(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !gap {
		h.Next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.Next.ServeHTTP(rec, r)
	if rec.Code == http.StatusInternalServerError {
		h.answered.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, answer)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Answered is how many times h answered in moto's place.
func (h *GapHandler) Answered() int { return int(h.answered.Load()) }
