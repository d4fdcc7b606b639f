package clio

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

func coreRLHeader(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

func TestRateLimiterPacesFromHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := NewRateLimiter()
	l.now = func() time.Time { return now }
	if l.lim.Limit() != rate.Inf {
		t.Fatal("limits before any header")
	}
	// Plenty left: a short script is not slowed down.
	l.Observe(200, coreRLHeader(50, 25, now.Add(30*time.Second)))
	if l.lim.Limit() != rate.Inf {
		t.Fatalf("rate %v with half the budget left, want unpaced", l.lim.Limit())
	}
	if l.Last().Remaining != 25 || l.Last().Limit != 50 {
		t.Errorf("last %+v", l.Last())
	}
	// A fifth or less left: 8 spendable (one kept in reserve) over 30 s.
	l.Observe(200, coreRLHeader(50, 9, now.Add(30*time.Second)))
	if got := float64(l.lim.Limit()); math.Abs(got-8.0/30) > 1e-9 {
		t.Fatalf("rate %v, want 8/30 per s", got)
	}
	// Clock skew: a reset far away is clamped to the 60 s window.
	l.Observe(200, coreRLHeader(50, 7, now.Add(time.Hour)))
	if got := float64(l.lim.Limit()); math.Abs(got-0.1) > 1e-9 {
		t.Fatalf("rate %v, want 0.1/s", got)
	}
	// Exhausted: everyone waits for the reset, then the nominal rate.
	l.Observe(200, coreRLHeader(50, 1, now.Add(20*time.Second)))
	if !l.blockedUntil.Equal(now.Add(20*time.Second)) || math.Abs(float64(l.lim.Limit())-50.0/60) > 1e-9 {
		t.Fatalf("blocked until %v rate %v", l.blockedUntil, l.lim.Limit())
	}
	// A 429 blocks until Retry-After, for every goroutine sharing l.
	l2 := NewRateLimiter()
	l2.now = func() time.Time { return now }
	l2.Observe(429, http.Header{"Retry-After": {"45"}})
	if !l2.blockedUntil.Equal(now.Add(45 * time.Second)) {
		t.Fatalf("429 blocked until %v", l2.blockedUntil)
	}
}

func TestRateLimiterWaitRespectsDeadline(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter()
	l.Observe(429, http.Header{"Retry-After": {"30"}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); !errors.Is(err, ErrRateLimited) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("err=%v after %s", err, time.Since(start))
	}
}

// TestRateLimiterHoldsRequestsUntilReset runs real time: the server says
// the budget is spent until the next second; the next request (from
// another goroutine) must not arrive before that.
func TestRateLimiterHoldsRequestsUntilReset(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrivals []time.Time
	reset := time.Now().Truncate(time.Second).Add(time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			for k, v := range coreRLHeader(5, 0, reset) {
				w.Header()[k] = v
			}
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/a.json", nil)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/b.json", nil)); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if len(arrivals) != 2 || arrivals[1].Before(reset) {
		t.Fatalf("second request at %v, before the reset %v", arrivals[1], reset)
	}
}

// A broken Retry-After of hours blocks callers for at most maxBlock.
func TestRateLimiterCapsABlock(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := NewRateLimiter()
	l.now = func() time.Time { return now }
	l.Observe(429, http.Header{"Retry-After": {"86400"}})
	if !l.blockedUntil.Equal(now.Add(maxBlock)) {
		t.Fatalf("blocked until %v, want %v", l.blockedUntil, now.Add(maxBlock))
	}
}

// A block pushed further while a caller sleeps is honoured when it wakes.
func TestRateLimiterWaitRechecksAfterSleeping(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter()
	l.Observe(429, http.Header{"Retry-After": {"1"}})
	go func() {
		time.Sleep(500 * time.Millisecond)
		l.Observe(429, http.Header{"Retry-After": {"2"}}) // now+2s, about 2.5 s after the start
	}()
	start := time.Now()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Fatalf("waited %s: the extended block was ignored", waited)
	}
}

// Clients with the same credential on the same host share a limiter; others do not.
func TestRateLimiterSharedPerToken(t *testing.T) {
	ctx := context.Background()
	mk := func(opts ...Option) *Client {
		t.Helper()
		c, err := NewClient(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := mk(WithBaseURL("https://limiter.example"), WithToken("tok-1"))
	b := mk(WithBaseURL("https://limiter.example"), WithToken("tok-1"))
	if a.RateLimiter() != b.RateLimiter() {
		t.Errorf("two Clients with one token have two limiters")
	}
	if mk(WithBaseURL("https://limiter.example"), WithToken("tok-2")).RateLimiter() == a.RateLimiter() {
		t.Errorf("another token shares the limiter")
	}
	if mk(WithBaseURL("https://other.example"), WithToken("tok-1")).RateLimiter() == a.RateLimiter() {
		t.Errorf("another host shares the limiter")
	}
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	if mk(WithToken("x"), WithTokenSource(ts)).RateLimiter() != mk(WithTokenSource(ts)).RateLimiter() {
		t.Errorf("two Clients with one token source have two limiters")
	}
	own := NewRateLimiter()
	if mk(WithBaseURL("https://limiter.example"), WithToken("tok-1"), WithRateLimiter(own)).RateLimiter() != own {
		t.Errorf("WithRateLimiter is not used")
	}
}

type funcTokenSource func() (*oauth2.Token, error)

func (f funcTokenSource) Token() (*oauth2.Token, error) { return f() }

// wrappedTokenSource has a comparable type, but the source it holds may not be.
type wrappedTokenSource struct{ oauth2.TokenSource }

// A token source whose type is comparable but whose value is not (an interface field holding
// a func) cannot be a map key: NewClient gives it a limiter of its own instead of panicking.
func TestSharedLimiterUnhashableTokenSource(t *testing.T) {
	ts := wrappedTokenSource{funcTokenSource(func() (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "x"}, nil
	})}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("NewClient panicked: %v", r)
		}
	}()
	c, err := NewClient(context.Background(), WithBaseURL("https://unhashable.example"), WithTokenSource(ts))
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimiter() == nil {
		t.Fatal("no rate limiter")
	}
}

// Limited counts the 429 answers and adds up the waits they announced, an absurd one
// clamped, whatever carried them: Retry-After, X-RateLimit-Reset, or nothing.
func TestRateLimiterCountsLimitedAnswers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := NewRateLimiter()
	l.now = func() time.Time { return now }
	if n, d := l.Limited(); n != 0 || d != 0 {
		t.Fatalf("a new limiter: %d, %s", n, d)
	}
	l.Observe(200, http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"90"}})
	l.Observe(429, http.Header{"Retry-After": {"30"}})
	l.Observe(429, http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(20*time.Second).Unix(), 10)}})
	l.Observe(429, http.Header{})
	l.Observe(429, http.Header{"Retry-After": {"1e300"}})
	if n, d := l.Limited(); n != 4 || d != 30*time.Second+20*time.Second+rateWindow+maxBlock {
		t.Fatalf("after four 429s: %d answers, %s announced", n, d)
	}
}
