package clio_test

// Retries against the fake Clio (clio/cliotest): injected 5xx bursts,
// dropped connections, truncated bodies, slow answers and 429 storms, with
// the fake's own record counts as the judge of what was (not) repeated.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
)

// wireAttempt is one attempt as it left the client, below the retry layer.
type wireAttempt struct {
	method, path string
	url          string
	at           time.Time
	status       int // 0 for a transport error
	auth         bool
}

// wireLog records every attempt the client puts on the wire.
type wireLog struct {
	mu          sync.Mutex
	attempts    []wireAttempt
	inFlight    int
	maxInFlight int
}

func (l *wireLog) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		a := wireAttempt{method: r.Method, path: r.URL.Path, url: r.URL.String(), at: time.Now(), auth: r.Header.Get("Authorization") != ""}
		l.mu.Lock()
		l.inFlight++
		l.maxInFlight = max(l.maxInFlight, l.inFlight)
		l.mu.Unlock()
		resp, err := next.RoundTrip(r)
		if err == nil {
			a.status = resp.StatusCode
		}
		l.mu.Lock()
		l.inFlight--
		l.attempts = append(l.attempts, a)
		l.mu.Unlock()
		return resp, err
	})
}

func (l *wireLog) peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxInFlight
}

func (l *wireLog) all() []wireAttempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]wireAttempt(nil), l.attempts...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeClient starts the fake Clio (answers checked against the document,
// rate limit off unless srvOpts say otherwise) and a Client on it with fast
// back-off and a wire log.
func fakeClient(t *testing.T, srvOpts []cliotest.Option, opts ...clio.Option) (*cliotest.Server, *clio.Client, *wireLog) {
	t.Helper()
	srv := cliotest.NewServer(append([]cliotest.Option{cliotest.WithT(t), cliotest.WithRateLimit(0, 0)}, srvOpts...)...)
	t.Cleanup(srv.Close)
	wl := &wireLog{}
	c, err := clio.NewClient(context.Background(), append([]clio.Option{
		clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken),
		testRetries(0),
		clio.WithPrivateStorage(),
		clio.WithTransportMiddleware(wl.middleware),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if v := srv.Violations(); len(v) > 0 {
			t.Errorf("the fake answered outside the document: %v", v)
		}
	})
	return srv, c, wl
}

// seedMatters inserts a client contact and n matters, returning the matter ids.
func seedMatters(t testing.TB, srv *cliotest.Server, n int) (contactID int64, ids []int64) {
	contactID = srv.MustInsert(t, "contacts", map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace"})[0]
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"description": "Matter " + strconv.Itoa(i+1), "status": "Open", "client": map[string]any{"id": contactID}}
	}
	if n > 0 {
		ids = srv.MustInsert(t, "matters", recs...)
	}
	return contactID, ids
}

const (
	mattersPath = "/api/v4/matters.json"
)

func matterPath(id int64) string { return "/api/v4/matters/" + strconv.FormatInt(id, 10) + ".json" }

func newMatter(contactID int64, desc string) gen.MatterCreateInput {
	return gen.MatterCreateInput{Client: clio.Ref(contactID), Description: clio.Ptr(desc)}
}

// Reads survive server errors, dropped connections, truncated bodies and
// slow answers; each case checks what the fake saw, not just the result.
func TestFakeRetryIdempotentReads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fault    cliotest.Fault
		opts     []clio.Option
		wantGETs int // requests the fake saw for the record
		counter  func(cliotest.Counters) int
	}{
		{"503 burst", cliotest.Fault{Kind: cliotest.FaultStatus, Count: 3}, nil, 4,
			func(c cliotest.Counters) int { return c.StatusFaults }},
		{"500", cliotest.Fault{Kind: cliotest.FaultStatus, Status: 500}, nil, 2,
			func(c cliotest.Counters) int { return c.StatusFaults }},
		{"502", cliotest.Fault{Kind: cliotest.FaultStatus, Status: 502}, nil, 2,
			func(c cliotest.Counters) int { return c.StatusFaults }},
		{"dropped connection", cliotest.Fault{Kind: cliotest.FaultDrop, Count: 2}, nil, 3,
			func(c cliotest.Counters) int { return c.DroppedConnections }},
		{"dropped after processing", cliotest.Fault{Kind: cliotest.FaultDrop, AfterProcessing: true}, nil, 2,
			func(c cliotest.Counters) int { return c.DroppedConnections }},
		{"truncated body", cliotest.Fault{Kind: cliotest.FaultTruncate}, nil, 2,
			func(c cliotest.Counters) int { return c.TruncatedBodies }},
		{"slow answer, attempt timeout", cliotest.Fault{Kind: cliotest.FaultDelay, Delay: 5 * time.Second},
			[]clio.Option{clio.WithAttemptTimeout(300 * time.Millisecond)}, 2,
			func(c cliotest.Counters) int { return c.SlowAnswers }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeClient(t, nil, tc.opts...)
			_, ids := seedMatters(t, srv, 1)
			f := tc.fault
			f.Method, f.Path = http.MethodGet, matterPath(ids[0])
			srv.InjectFault(f)
			start := time.Now()
			m, _, err := c.Matters.Get(context.Background(), ids[0], nil, clio.Fields("id", "description"))
			if err != nil {
				t.Fatalf("Get after %s: %v", tc.name, err)
			}
			if m.Description == "" || m.Description != "Matter 1" {
				t.Fatalf("got %+v", m)
			}
			if got := srv.RequestCount(http.MethodGet, matterPath(ids[0])); got != tc.wantGETs {
				t.Fatalf("the fake saw %d GETs, want %d", got, tc.wantGETs)
			}
			want := max(f.Count, 1)
			if got := tc.counter(srv.Counters()); got != want {
				t.Fatalf("fault fired %d times, want %d", got, want)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Fatalf("took %s", el)
			}
		})
	}
}

// Writes are not repeated after a failure that may have reached Clio,
// unless the call says RetryUnsafe; the fake's matter count proves whether
// a duplicate was created.
func TestFakeRetryPOSTNotRepeated(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		fault       cliotest.Fault
		unsafe      bool
		wantErr     error // nil: success
		wantPOSTs   int
		wantCreated int
	}{
		{"503, not processed", cliotest.Fault{Kind: cliotest.FaultStatus}, false, clio.ErrServer, 1, 0},
		{"503 with RetryUnsafe", cliotest.Fault{Kind: cliotest.FaultStatus}, true, nil, 2, 1},
		{"dropped after processing", cliotest.Fault{Kind: cliotest.FaultDrop, AfterProcessing: true}, false, errAny, 1, 1},
		{"dropped after processing with RetryUnsafe: the duplicate it risks", cliotest.Fault{Kind: cliotest.FaultDrop, AfterProcessing: true}, true, nil, 2, 2},
		{"truncated answer", cliotest.Fault{Kind: cliotest.FaultTruncate}, false, io.ErrUnexpectedEOF, 1, 1},
		{"dropped before processing", cliotest.Fault{Kind: cliotest.FaultDrop}, false, errAny, 1, 0},
		{"429 is always retried: Clio did not process it", cliotest.Fault{Kind: cliotest.FaultRateLimit, RetryAfter: time.Second}, false, nil, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeClient(t, nil)
			contact, _ := seedMatters(t, srv, 0)
			f := tc.fault
			f.Method, f.Path = http.MethodPost, mattersPath
			srv.InjectFault(f)
			var opts []clio.CallOption
			if tc.unsafe {
				opts = append(opts, clio.RetryUnsafe())
			}
			m, _, err := c.Matters.Create(context.Background(), nil, newMatter(contact, "New matter"), opts...)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Create: %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("Create: err = %v, want %v", err, tc.wantErr)
			case tc.wantErr == nil && m.Id == 0:
				t.Fatalf("Create returned %+v", m)
			}
			if got := srv.RequestCount(http.MethodPost, mattersPath); got != tc.wantPOSTs {
				t.Fatalf("the fake saw %d POSTs, want %d", got, tc.wantPOSTs)
			}
			if got := srv.Count("matters"); got != tc.wantCreated {
				t.Fatalf("%d matters exist, want %d", got, tc.wantCreated)
			}
		})
	}
}

var errAny = errors.New("any error")

// A 429 storm is sat out by waiting Retry-After between attempts (measured
// on the wire), never by hammering; every attempt is counted by the fake.
func TestFakeRetry429StormHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv, c, wl := fakeClient(t, nil)
	_, ids := seedMatters(t, srv, 1)
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Method: http.MethodGet, Path: matterPath(ids[0]), Count: 2, RetryAfter: time.Second})
	start := time.Now()
	if _, _, err := c.Matters.Get(context.Background(), ids[0], nil); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if got := srv.Counters().RateLimited; got != 2 {
		t.Fatalf("fake answered %d 429s, want 2", got)
	}
	var at []time.Time
	for _, a := range wl.all() {
		if a.path == matterPath(ids[0]) {
			at = append(at, a.at)
		}
	}
	if len(at) != 3 {
		t.Fatalf("%d attempts on the wire, want 3", len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 990*time.Millisecond {
			t.Fatalf("attempt %d came %s after a 429 with Retry-After: 1", i+1, gap)
		}
	}
	if el > 4*time.Second {
		t.Fatalf("took %s for two 1 s waits", el)
	}
	// A storm longer than the cap on waits ends in ErrRateLimited with the
	// server's Retry-After, after exactly 1+MaxRateLimitWaits attempts.
	srv2, c2, _ := fakeClient(t, nil, clio.WithRetryer(&clio.StandardRetryer{MaxRateLimitWaits: 1}))
	_, ids2 := seedMatters(t, srv2, 1)
	srv2.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Path: matterPath(ids2[0]), Count: -1, RetryAfter: time.Second})
	_, _, err := c2.Matters.Get(context.Background(), ids2[0], nil)
	var ce *clio.Error
	if !errors.Is(err, clio.ErrRateLimited) || !errors.As(err, &ce) || ce.RetryAfter != time.Second {
		t.Fatalf("err = %v, want ErrRateLimited with RetryAfter 1s", err)
	}
	if got := srv2.RequestCount(http.MethodGet, matterPath(ids2[0])); got != 2 {
		t.Fatalf("%d attempts, want 2", got)
	}
}

// Clio's atypical rate-limit answer (a base64 text containing
// "RateLimited") is classified, not a decoding failure, and retried.
func TestFakeRetryOddRateLimitBody(t *testing.T) {
	t.Parallel()
	odd := cliotest.Fault{Kind: cliotest.FaultRateLimit, OddBody: true, RetryAfter: time.Second, Method: http.MethodGet, Path: mattersPath}

	srv, c, _ := fakeClient(t, nil, testRetries(1))
	seedMatters(t, srv, 3)
	srv.InjectFault(odd)
	_, _, err := c.Matters.List(context.Background(), nil)
	var ce *clio.Error
	if !errors.Is(err, clio.ErrRateLimited) || !errors.As(err, &ce) || ce.Type != "RateLimited" {
		t.Fatalf("err = %v, want ErrRateLimited of type RateLimited", err)
	}

	srv2, c2, _ := fakeClient(t, nil)
	seedMatters(t, srv2, 3)
	srv2.InjectFault(odd)
	got, _, err := c2.Matters.List(context.Background(), nil)
	if err != nil || len(got) != 3 {
		t.Fatalf("after an odd 429: %d matters, %v", len(got), err)
	}
	if n := srv2.RequestCount(http.MethodGet, mattersPath); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// A body cut short is an error, never silently short data: a single
// record, a list page, and an iterator all fail instead of returning what
// arrived.
func TestFakeRetryTruncatedBodyIsAnError(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeClient(t, nil, testRetries(3))
	_, ids := seedMatters(t, srv, 5)
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultTruncate, Method: http.MethodGet, Count: -1})
	ctx := context.Background()

	m, _, err := c.Matters.Get(ctx, ids[0], nil, clio.Fields("id", "description"))
	if !errors.Is(err, io.ErrUnexpectedEOF) || m.Id != 0 {
		t.Fatalf("Get of a truncated answer: %+v, %v; want io.ErrUnexpectedEOF and no data", m, err)
	}
	if n := srv.RequestCount(http.MethodGet, matterPath(ids[0])); n != 3 {
		t.Fatalf("%d attempts, want 3 (MaxAttempts)", n)
	}
	list, _, err := c.Matters.List(ctx, nil, clio.Fields("id", "description"))
	if err == nil || list != nil {
		t.Fatalf("List of a truncated page: %d records, %v", len(list), err)
	}
	var yielded int
	var iterErr error
	for _, err := range c.Matters.All(ctx, nil, clio.PageSize(2)) {
		if err != nil {
			iterErr = err
			break
		}
		yielded++
	}
	if iterErr == nil || yielded != 0 {
		t.Fatalf("All over truncated pages yielded %d records, err %v", yielded, iterErr)
	}
	srv.ClearFaults()
	var all int
	for _, err := range c.Matters.All(ctx, nil, clio.PageSize(2)) {
		if err != nil {
			t.Fatal(err)
		}
		all++
	}
	if all != 5 {
		t.Fatalf("after the faults cleared: %d matters, want 5", all)
	}
}

// The fake's real per-token budget, with the client's proactive limiter
// off: the 429 that ends the window carries a Retry-After computed from the
// window's reset, the retry layer waits it out, and every call succeeds.
// Each answer reports the budget in Response.RateLimit.
//
// (With the limiter on, this fake window is too short to test quickly: the
// limiter assumes Clio's 60 s window and, once a budget is spent, paces at
// limit/60 s. ratelimit_test.go covers it with httptest stubs.)
func TestFakeRetryRateLimitBudget(t *testing.T) {
	t.Parallel()
	const limit, window, calls = 3, time.Second, 5
	srv, c, wl := fakeClient(t, []cliotest.Option{cliotest.WithRateLimit(limit, window)}, clio.WithoutRateLimiter())
	_, ids := seedMatters(t, srv, 1)
	for i := range calls {
		_, resp, err := c.Matters.Get(context.Background(), ids[0], nil)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if resp.RateLimit.Limit != limit || resp.RateLimit.Remaining < 0 || resp.RateLimit.Remaining >= limit || resp.RateLimit.Reset.IsZero() {
			t.Fatalf("call %d: RateLimit = %+v", i+1, resp.RateLimit)
		}
	}
	n := srv.Counters().RateLimited
	if n < 1 || n > 2 {
		t.Fatalf("the fake answered %d 429s for %d calls at %d per %s, want 1 or 2", n, calls, limit, window)
	}
	// No attempt followed a 429 sooner than the window allowed: the
	// attempt after each 429 is in a later window, so it succeeded.
	att := wl.all()
	for i := 1; i < len(att); i++ {
		if att[i-1].status == http.StatusTooManyRequests && att[i].status == http.StatusTooManyRequests {
			t.Fatalf("attempt %d was sent into the same exhausted window", i+1)
		}
	}
	if len(att) != calls+n {
		t.Fatalf("%d attempts on the wire, want %d", len(att), calls+n)
	}
}

// testRetries is a StandardRetryer with fast back-off; n caps the attempts (0: default).
func testRetries(n int) clio.Option {
	return clio.WithRetryer(&clio.StandardRetryer{MaxAttempts: n, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond})
}
