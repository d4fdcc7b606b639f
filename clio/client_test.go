package clio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---- test helpers shared by this package's core tests (names prefixed
// "core" to stay clear of other files' test helpers) ----

const coreToken = "core-secret-token"

type coreRec struct {
	ID   int64    `json:"id"`
	Name string   `json:"name,omitempty"`
	Tags []string `json:"tags,omitempty"`
}

// newCoreClient builds a client on srv with a static token, tiny back-off
// and a sleep that records waits instead of sleeping.
func newCoreClient(t testing.TB, srv *httptest.Server, opts ...Option) (*Client, *coreSleeps) {
	t.Helper()
	all := append([]Option{WithBaseURL(srv.URL), WithToken(coreToken), testRetries(0), WithPrivateStorage(),
		WithHTTPClient(srv.Client())}, opts...)
	c, err := NewClient(context.Background(), all...)
	if err != nil {
		t.Fatal(err)
	}
	s := &coreSleeps{}
	c.sleep = s.sleep
	return c, s
}

type coreSleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *coreSleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *coreSleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// coreReq builds a request as a generated method does, for c's base URL + path.
func coreReq(c *Client, method, path string, body []byte) Request {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.BaseURL()+path, r)
	if err == nil && body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return Request{HTTP: req, Err: err}
}

func coreJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func coreClioError(w http.ResponseWriter, status int, typ, msg string) {
	coreJSON(w, status, map[string]any{"error": map[string]string{"type": typ, "message": msg}})
}

// coreHijackClose drops the connection: before any answer when partial is
// "", else after the headers and a partial body.
func coreHijackClose(t testing.TB, w http.ResponseWriter, partial string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("no hijacker")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	if partial != "" {
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + partial)
		_ = buf.Flush()
	}
	_ = conn.Close()
}

// ---- client tests ----

func TestNewClientOptionErrorsNameTheOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		opts []Option
		want string
	}{
		{"region", []Option{WithToken("x"), WithRegion("mars")}, "WithRegion"},
		{"base url path", []Option{WithToken("x"), WithBaseURL("https://app.clio.com/api/v4")}, "WithBaseURL"},
		{"base url relative", []Option{WithToken("x"), WithBaseURL("app.clio.com")}, "WithBaseURL"},
		{"both", []Option{WithToken("x"), WithRegion(EU), WithBaseURL("https://x.test")}, "WithBaseURL"},
		{"no token", nil, "WithToken"},
		{"empty token", []Option{WithToken(" ")}, "WithToken"},
		{"nil ts", []Option{WithTokenSource(nil)}, "WithTokenSource"},
		{"version", []Option{WithToken("x"), WithAPIVersion("5")}, "WithAPIVersion"},
		{"timeouts", []Option{WithToken("x"), WithTimeouts(-1, 0)}, "WithTimeouts"},
		{"answer size", []Option{WithToken("x"), WithMaxAnswerSize(10)}, "WithMaxAnswerSize"},
		{"nil http", []Option{WithToken("x"), WithHTTPClient(nil)}, "WithHTTPClient"},
		{"nil codec", []Option{WithToken("x"), WithCodec(nil)}, "WithCodec"},
		{"ua", []Option{WithToken("x"), WithUserAgent("a\nb")}, "WithUserAgent"},
		{"limiter", []Option{WithToken("x"), WithRateLimiter(NewRateLimiter()), WithoutRateLimiter()}, "WithoutRateLimiter"},
	}
	for _, tc := range cases {
		_, err := NewClient(ctx, tc.opts...)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.want || !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError naming %s", tc.name, err, tc.want)
		}
	}
	for r, want := range map[Region]string{US: "https://app.clio.com", CA: "https://ca.app.clio.com", EU: "https://eu.app.clio.com", AU: "https://au.app.clio.com"} {
		c, err := NewClient(ctx, WithRegion(r), WithToken("x"))
		if err != nil || c.BaseURL() != want {
			t.Errorf("region %s: %v %v", r, c, err)
		}
	}
}

func TestDoSendsHeadersAndDecodes(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if r.URL.Path != "/api/v4/matters/7.json" || r.URL.Query().Get("fields") != "id,name" {
			t.Errorf("url %s", r.URL)
		}
		w.Header().Set("X-API-VERSION", r.Header.Get("X-API-VERSION"))
		w.Header().Set("X-Request-Id", "req-1")
		w.Header().Set("X-RateLimit-Limit", "50")
		w.Header().Set("X-RateLimit-Remaining", "49")
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 7, "name": "Smith v Jones"}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithUserAgent("acme/1"))
	m, resp, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/7.json", nil), Fields("id", "name"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 7 || m.Name != "Smith v Jones" {
		t.Errorf("decoded %+v", m)
	}
	if got.Get("Authorization") != "Bearer "+coreToken || got.Get("X-API-VERSION") != APIVersion || !strings.HasPrefix(got.Get("User-Agent"), "acme/1 clio-go/") {
		t.Errorf("headers %v", got)
	}
	if resp.APIVersion != APIVersion || resp.RequestID != "req-1" || resp.RateLimit.Remaining != 49 || resp.StatusCode != 200 {
		t.Errorf("response %+v", resp)
	}

	// Per-call and per-client version overrides.
	_, resp, err = Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/7.json", nil), Fields("id", "name"), UseAPIVersion("4.0.10"))
	if err != nil || got.Get("X-API-VERSION") != "4.0.10" || resp.APIVersion != "4.0.10" {
		t.Errorf("per-call version: %v %v", err, got.Get("X-API-VERSION"))
	}
	c2, _ := newCoreClient(t, srv, WithAPIVersion("4.0.5"))
	_, _, _ = Do[coreRec](context.Background(), c2, coreReq(c2, "GET", "/api/v4/matters/7.json", nil), Fields("id", "name"))
	if got.Get("X-API-VERSION") != "4.0.5" {
		t.Errorf("client version: %v", got.Get("X-API-VERSION"))
	}
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/x", nil), UseAPIVersion("v4")); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad per-call version: %v", err)
	}
}

func TestErrorsMapToSentinels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		typ    string
		want   error
	}{
		{400, "ArgumentError", ErrBadRequest},
		{401, "Unauthorized", ErrUnauthorized},
		{403, "Forbidden", ErrForbidden},
		{404, "RecordNotFound", ErrNotFound},
		{409, "Conflict", ErrConflict},
		{410, "Gone", ErrGone},
		{412, "PreconditionFailed", ErrPreconditionFailed},
		{422, "RecordInvalid", ErrValidation},
		{429, "RateLimited", ErrRateLimited},
		{502, "", ErrServer},
	}
	for _, tc := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "rid-9")
			if tc.status == 429 {
				w.Header().Set("Retry-After", "30")
			}
			coreClioError(w, tc.status, tc.typ, "it went wrong")
		}))
		c, _ := newCoreClient(t, srv, testRetries(1))
		_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json?access_token=leak&code=leak2", nil))
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, tc.want) {
			t.Errorf("%d: %v, want %v", tc.status, err, tc.want)
		} else {
			if e.StatusCode != tc.status || e.Type != tc.typ || e.Message != "it went wrong" || e.RequestID != "rid-9" {
				t.Errorf("%d: fields %+v", tc.status, e)
			}
			if strings.Contains(e.Error(), "leak") {
				t.Errorf("secret in error: %s", e.Error())
			}
			if tc.status == 429 && e.RetryAfter != 30*time.Second {
				t.Errorf("retry after %s", e.RetryAfter)
			}
			body, _ := io.ReadAll(e.Response.Body)
			if !bytes.Contains(body, []byte("it went wrong")) {
				t.Errorf("body not put back: %q", body)
			}
		}
		for _, other := range []error{ErrNotFound, ErrGone, ErrConflict} {
			if other != tc.want && errors.Is(err, other) {
				t.Errorf("%d also matches %v", tc.status, other)
			}
		}
		srv.Close()
	}
}

func TestAtypicalRateLimitBodyIsRateLimited(t *testing.T) {
	t.Parallel()
	body := "UmF0ZUxpbWl0ZWQ6IHRvbyBtYW55IHJlcXVlc3Rz" // base64("RateLimited: too many requests")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 || r.URL.Query().Get("always") != "" {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(403)
			_, _ = io.WriteString(w, body)
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, sleeps := newCoreClient(t, srv, WithoutRateLimiter())
	// A POST too: a rate-limited request was not processed.
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(`{}`)))
	if err != nil || v.ID != 1 || hits.Load() != 2 || len(sleeps.all()) != 1 {
		t.Fatalf("v=%v err=%v hits=%d", v, err, hits.Load())
	}
	c1, _ := newCoreClient(t, srv, testRetries(1))
	_, _, err = Do[coreRec](context.Background(), c1, coreReq(c1, "GET", "/api/v4/matters.json?always=1", nil))
	var e *Error
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &e) || e.Type != "RateLimited" {
		t.Fatalf("err = %v", err)
	}
}

func TestMidBodyResetRetriedForGETOnly(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			coreHijackClose(t, w, `{"data":{"id":1,"na`)
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1, "name": "ok"}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil))
	if err != nil || v.Name != "ok" || hits.Load() != 2 {
		t.Fatalf("GET: v=%+v err=%v hits=%d", v, err, hits.Load())
	}
	hits.Store(0)
	_, _, err = Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(`{"data":{}}`)))
	if err == nil || hits.Load() != 1 {
		t.Fatalf("POST must not be repeated: err=%v hits=%d", err, hits.Load())
	}
	// A malformed (complete) body is not a network failure: no retry.
	hits.Store(0)
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"id":"not a number"}}`)
	}))
	defer srv2.Close()
	c2, _ := newCoreClient(t, srv2)
	if _, _, err := Do[coreRec](context.Background(), c2, coreReq(c2, "GET", "/api/v4/matters/1.json", nil)); err == nil || hits.Load() != 1 {
		t.Fatalf("malformed: err=%v hits=%d", err, hits.Load())
	}
}

func TestDoNoContent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "DELETE" {
			t.Errorf("method %s", r.Method)
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	resp, err := DoNoContent(context.Background(), c, coreReq(c, "DELETE", "/api/v4/matters/1.json", nil))
	if err != nil || resp.StatusCode != 204 {
		t.Fatal(resp, err)
	}
}

// testRetries is a StandardRetryer with tiny back-off; n caps the attempts (0: default).
func testRetries(n int) Option {
	return WithRetryer(&StandardRetryer{MaxAttempts: n, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond})
}

func coreCollect(t testing.TB, seq func(func(coreRec, error) bool)) ([]int64, error) {
	var ids []int64
	var err error
	for r, e := range seq {
		if e != nil {
			err = e
			break
		}
		ids = append(ids, r.ID)
	}
	return ids, err
}

func coreCheckIDs(t testing.TB, ids []int64, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("got %d records, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("record %d has id %d: out of order", i, id)
		}
	}
}
