package clio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetry429HonoursRetryAfterAndReset(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(7 * time.Second).UTC().Format(http.TimeFormat)
	reset := strconv.FormatInt(time.Now().Add(20*time.Second).Unix(), 10)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "3")
		case 2:
			w.Header().Set("Retry-After", date)
		case 3:
			w.Header().Set("X-RateLimit-Reset", reset)
		default:
			coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
			return
		}
		coreClioError(w, 429, "RateLimited", "slow down")
	}))
	defer srv.Close()
	c, sleeps := newCoreClient(t, srv, WithoutRateLimiter())
	// POST: a 429 was never processed, so even a POST is retried.
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(`{}`))); err != nil {
		t.Fatal(err)
	}
	got := sleeps.all()
	if len(got) != 3 || got[0] != 3*time.Second {
		t.Fatalf("sleeps %v", got)
	}
	if got[1] < 5*time.Second || got[1] > 8*time.Second {
		t.Errorf("HTTP-date wait %s, want about 7s", got[1])
	}
	if got[2] < 18*time.Second || got[2] > 21*time.Second {
		t.Errorf("X-RateLimit-Reset wait %s, want about 20s", got[2])
	}
}

// A 429 waited out does not use up attempts; MaxRateLimitWaits ends a storm.
func TestRetry429StormGivesUpAtMaxRateLimitWaits(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "1")
		coreClioError(w, 429, "RateLimited", "storm")
	}))
	defer srv.Close()
	c, sleeps := newCoreClient(t, srv, WithoutRateLimiter(), WithRetryer(&StandardRetryer{MaxAttempts: 2, MaxRateLimitWaits: 3}))
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json", nil))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.RetryAfter != time.Second {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 4 || len(sleeps.all()) != 3 {
		t.Fatalf("hits %d sleeps %v", hits.Load(), sleeps.all())
	}
}

func Test5xxBurstRetriedOnlyWhenIdempotent(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if n <= 2 || r.URL.Query().Get("always") != "" {
			coreClioError(w, 503, "", "busy")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": n}})
	}))
	defer srv.Close()
	c, sleeps := newCoreClient(t, srv)
	ctx := context.Background()
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		hits.Store(0)
		if _, _, err := Do[coreRec](ctx, c, coreReq(c, m, "/api/v4/matters/1.json", nil)); err != nil || hits.Load() != 3 {
			t.Errorf("%s: err=%v hits=%d", m, err, hits.Load())
		}
	}
	for _, d := range sleeps.all() {
		if d <= 0 || d > 4*time.Millisecond {
			t.Errorf("back-off %s outside (0, 4ms]", d)
		}
	}
	for _, m := range []string{"POST", "PATCH"} {
		hits.Store(0)
		_, _, err := Do[coreRec](ctx, c, coreReq(c, m, "/api/v4/matters.json", []byte(`{"data":{}}`)))
		if !errors.Is(err, ErrServer) || hits.Load() != 1 {
			t.Errorf("%s must not be repeated: err=%v hits=%d", m, err, hits.Load())
		}
		hits.Store(0)
		if _, _, err := Do[coreRec](ctx, c, coreReq(c, m, "/api/v4/matters.json", []byte(`{"data":{}}`)), RetryUnsafe()); err != nil || hits.Load() != 3 {
			t.Errorf("%s with RetryUnsafe: err=%v hits=%d", m, err, hits.Load())
		}
	}
	hits.Store(0)
	c3, _ := newCoreClient(t, srv, testRetries(3))
	if _, _, err := Do[coreRec](ctx, c3, coreReq(c3, "GET", "/api/v4/matters.json?always=1", nil)); !errors.Is(err, ErrServer) || hits.Load() != 3 {
		t.Errorf("max attempts: err=%v hits=%d", err, hits.Load())
	}
}

func TestConnectionResetPOSTNotRepeated(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			coreHijackClose(t, w, "")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil)); err != nil || hits.Load() != 2 {
		t.Fatalf("GET: err=%v hits=%d", err, hits.Load())
	}
	hits.Store(0)
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/time_entries.json", []byte(`{"data":{"quantity":1}}`)))
	if err == nil || hits.Load() != 1 {
		t.Fatalf("POST: err=%v hits=%d (a repeated POST can duplicate a time entry)", err, hits.Load())
	}
}

func TestRetryReplaysBodyViaGetBody(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var bodies [3]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		bodies[n-1] = string(b)
		if n < 3 {
			coreClioError(w, 502, "", "")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	payload := `{"data":{"description":"x"}}`
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "PUT", "/api/v4/matters/1.json", []byte(payload))); err != nil {
		t.Fatal(err)
	}
	for i, b := range bodies {
		if b != payload {
			t.Errorf("attempt %d body %q", i+1, b)
		}
	}
}

func TestRetryRespectsContextDeadline(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "30")
		coreClioError(w, 429, "RateLimited", "wait")
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithoutRateLimiter())
	c.sleep = sleepCtx // real sleeping: it must not happen
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters.json", nil))
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Errorf("took %s: slept although the deadline was closer than Retry-After", el)
	}
	var e *Error
	if !errors.As(err, &e) || e.RetryAfter != 30*time.Second || hits.Load() != 1 {
		t.Fatalf("err=%v hits=%d", err, hits.Load())
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 5}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithAttemptTimeout(50*time.Millisecond))
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/5.json", nil))
	if err != nil || v.ID != 5 || hits.Load() != 2 {
		t.Fatalf("v=%v err=%v hits=%d", v, err, hits.Load())
	}
}

func TestStandardRetryerPolicy(t *testing.T) {
	t.Parallel()
	r := &StandardRetryer{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, MaxElapsed: time.Minute}
	for n := 1; n < 5; n++ {
		ceiling := min(100*time.Millisecond<<(n-1), time.Second)
		for range 200 {
			if d := r.backoff(n); d <= 0 || d > ceiling {
				t.Fatalf("attempt %d: %s outside (0, %s]", n, d, ceiling)
			}
		}
	}
	resp := func(code int, h http.Header) *http.Response {
		if h == nil {
			h = http.Header{}
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	if _, ok := r.RetryDelay(Attempt{Response: resp(500, nil), Number: 5, Idempotent: true}); ok {
		t.Error("retried past MaxAttempts")
	}
	if _, ok := r.RetryDelay(Attempt{Response: resp(404, nil), Number: 1, Idempotent: true}); ok {
		t.Error("retried a 404")
	}
	if _, ok := r.RetryDelay(Attempt{Response: resp(429, http.Header{"Retry-After": {"120"}}), Number: 1}); ok {
		t.Error("waited past MaxElapsed")
	}
	if _, ok := r.RetryDelay(Attempt{Err: context.Canceled, Number: 1, Idempotent: true}); ok {
		t.Error("retried a cancellation")
	}
	if _, ok := r.RetryDelay(Attempt{Err: io.ErrUnexpectedEOF, Number: 1, Idempotent: false}); ok {
		t.Error("retried a non-idempotent reset")
	}
	if _, ok := r.RetryDelay(Attempt{Err: io.ErrUnexpectedEOF, Number: 1, Idempotent: true}); !ok {
		t.Error("did not retry an idempotent reset")
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		h    http.Header
		want time.Duration
		ok   bool
	}{
		{http.Header{"Retry-After": {"12"}}, 12 * time.Second, true},
		{http.Header{"Retry-After": {now.Add(5 * time.Second).UTC().Format(http.TimeFormat)}}, 5 * time.Second, true},
		{http.Header{"Retry-After": {now.Add(-5 * time.Second).UTC().Format(http.TimeFormat)}}, 0, true},
		{http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Unix()+42, 10)}}, 42 * time.Second, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{}, 0, false},
	}
	for _, tc := range cases {
		d, ok := retryAfter(tc.h, now)
		if d != tc.want || ok != tc.ok {
			t.Errorf("%v: got %s %v", tc.h, d, ok)
		}
	}
	if !isRateLimitBody([]byte("UmF0ZUxpbWl0ZWQ=")) || isRateLimitBody([]byte(`{"data":[]}`)) || isRateLimitBody([]byte("aGVsbG8=")) {
		t.Error("isRateLimitBody")
	}
}

// A Retry-After too large for a time.Duration must not wrap to a negative
// wait: that turned "wait a very long time" into "retry at once".
func TestHugeRetryAfterDoesNotWrap(t *testing.T) {
	for _, v := range []string{"1e10", "9999999999999", "Inf"} {
		h := http.Header{"Retry-After": {v}}
		if d, ok := retryAfter(h, time.Now()); !ok || d < 0 {
			t.Errorf("retryAfter(%q) = %v, %v; want a non-negative wait", v, d, ok)
		}
		r := &StandardRetryer{}
		for _, elapsed := range []time.Duration{0, time.Second} {
			d, again := r.RetryDelay(Attempt{Response: &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}, Number: 1, Elapsed: elapsed})
			if again {
				t.Errorf("Retry-After %q (elapsed %s): retry after %v; want no retry (beyond MaxElapsed)", v, elapsed, d)
			}
		}
		l := NewRateLimiter()
		l.Observe(http.StatusTooManyRequests, h)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := l.Wait(ctx)
		cancel()
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("Retry-After %q: limiter Wait = %v; want ErrRateLimited (window outlasts the deadline)", v, err)
		}
	}
}
