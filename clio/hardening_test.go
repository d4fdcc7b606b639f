package clio

// Issue 11, findings 3 to 10: each test reproduces one finding against an httptest server
// and checks the behaviour that replaces it.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Finding 3: a GET whose JSON arrives cut (HTTP itself fine) is retried like a dropped
// connection; a POST is not (it may have been processed).
func TestTruncatedJSONIsRetriedWhenIdempotent(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if hits.Add(1) == 1 || r.Method == http.MethodPost {
			body := `{"data":{"id":1,"name":"cut`
			w.Header().Set("Content-Length", strconv.Itoa(len(body))) // HTTP says complete
			_, _ = w.Write([]byte(body))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"id":1,"name":"whole"}}`))
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil))
	if err != nil || v.Name != "whole" || hits.Load() != 2 {
		t.Fatalf("GET after a cut answer: %+v %v (%d hits)", v, err, hits.Load())
	}
	hits.Store(0)
	_, _, err = Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(`{}`)))
	if err == nil || hits.Load() != 1 {
		t.Fatalf("POST with a cut answer: %v (%d hits), want one attempt and an error", err, hits.Load())
	}
}

// Finding 3: an iteration that fails says where it stopped, and resuming from there
// delivers the rest: no record lost, none repeated, in cursor and offset mode.
func TestIterationResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"cursor", "offset"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			l := newCoreList(t, 1000)
			defer l.srv.Close()
			var broken atomic.Bool
			broken.Store(true)
			inner := l.srv.Config.Handler
			var pages atomic.Int32
			l.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if pages.Add(1) == 3 && broken.Load() {
					coreClioError(w, 500, "", "down")
					return
				}
				inner.ServeHTTP(w, r)
			})
			c, _ := newCoreClient(t, l.srv, testRetries(1))
			opts := []CallOption{PageSize(100)}
			if mode == "offset" {
				opts = append(opts, OffsetPagination(1))
			}
			var ids []int64
			var perr *PageError
			for r, err := range All[coreRec](context.Background(), c, l.list(c, ""), opts...) {
				if err != nil {
					if !errors.As(err, &perr) || !errors.Is(err, ErrServer) {
						t.Fatalf("error %v is not a *PageError over the 500", err)
					}
					break
				}
				ids = append(ids, r.ID)
			}
			if perr == nil || perr.Delivered != len(ids) || len(ids) == 0 || len(ids) == 1000 {
				t.Fatalf("stopped after %d records with %+v", len(ids), perr)
			}
			broken.Store(false)
			for r, err := range All[coreRec](context.Background(), c, l.list(c, ""), append(opts, perr.Resume())...) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.ID)
			}
			coreCheckIDs(t, ids, 1000)
		})
	}
}

// Finding 4: an answer larger than the limit stops being read at the limit, with a typed
// error, and memory stays near the limit however large the answer.
func TestAnswerSizeIsBounded(t *testing.T) {
	t.Parallel()
	const huge = 256 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"id":1,"name":"`))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for sent := 0; sent < huge; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithMaxAnswerSize(4<<20), testRetries(1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := ListPage[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json", nil))
	runtime.ReadMemStats(&after)
	var tl *AnswerTooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrAnswerTooLarge) || tl.Limit != 4<<20 {
		t.Fatalf("err = %v, want *AnswerTooLargeError", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("allocated %d MB for a 4 MB limit", grew>>20)
	}
}

// Finding 5: API calls never follow a redirect, and a POST answered 303 is an error, not
// a GET that reports success; downloads refuse storage on link-local and private addresses.
func TestRedirectsAreNotFollowedOnAPICalls(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 666}})
	}))
	defer foreign.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v4/documents/1/download.json":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusSeeOther)
		case "/api/v4/documents/2/download.json":
			http.Redirect(w, r, foreign.URL+"/file", http.StatusSeeOther)
		default:
			http.Redirect(w, r, foreign.URL+"/elsewhere", http.StatusSeeOther)
		}
	}))
	defer api.Close()
	c, err := NewClient(context.Background(), WithBaseURL(api.URL), WithToken(coreToken), testRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(`{"data":{}}`)))
	if e, ok := errors.AsType[*Error](err); !ok || e.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST answered 303: %v", err)
	}
	if foreignHits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	// A download's 303 to a metadata address (or to loopback, without WithPrivateStorage)
	// is refused before any connection.
	for _, id := range []int64{1, 2} {
		if _, _, err := c.Documents.Download(context.Background(), id); !errors.Is(err, errPrivateStorage) {
			t.Fatalf("download %d: %v, want a refused private address", id, err)
		}
	}
	if foreignHits.Load() != 0 {
		t.Fatal("storage on loopback was reached without WithPrivateStorage")
	}
}

// Finding 6: an endless chain of empty pages, each with a new next link, ends with
// ErrPaging after a bounded run; the memory that detects cycles is bounded too.
func TestEndlessEmptyPagesEnd(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		fmt.Fprintf(w, `{"data":[],"meta":{"paging":{"next":"%s/api/v4/matters.json?page_token=%d"}}}`, srv.URL, n)
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	var err error
	for _, e := range All[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json", nil)) {
		err = e
	}
	if !errors.Is(err, ErrPaging) || hits.Load() > maxEmptyPages+2 {
		t.Fatalf("err = %v after %d requests", err, hits.Load())
	}
	v := newVisited()
	for i := range 5 * maxVisited {
		if v.add("https://app.clio.com/api/v4/matters.json?page_token=" + strconv.Itoa(i)) {
			t.Fatal("a new link taken for a repeat")
		}
	}
	if len(v.set) > maxVisited || len(v.ring) > maxVisited {
		t.Fatalf("visited holds %d links", len(v.set))
	}
	if !v.add("https://app.clio.com/api/v4/matters.json?page_token=" + strconv.Itoa(5*maxVisited-1)) {
		t.Fatal("a recent link not recognised")
	}
}

// Finding 7: only a 429, or a 503 with Retry-After, carries RetryAfter; the final error of
// a retried call says how many attempts were made.
func TestRetryAfterOnlyWhereTheServerAskedForAWait(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/api/v4/"))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
		if r.URL.Query().Has("retry_after") {
			w.Header().Set("Retry-After", "7")
		}
		coreClioError(w, code, "", "no")
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithoutRateLimiter(), WithRetryer(&StandardRetryer{MaxAttempts: 3, MaxRateLimitWaits: 1}))
	for _, tc := range []struct {
		path string
		want bool
	}{{"404", false}, {"422", false}, {"503", false}, {"503?retry_after=1", true}, {"429", true}} {
		_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/"+tc.path, nil))
		e, ok := errors.AsType[*Error](err)
		if !ok || (e.RetryAfter > 0) != tc.want || strings.Contains(e.Error(), "retry after") != tc.want {
			t.Errorf("%s: %v (RetryAfter %s)", tc.path, err, e.RetryAfter)
		}
		if tc.path == "503" && (e.Attempts != 3 || !strings.Contains(e.Error(), "after 3 attempts")) {
			t.Errorf("a retried 503 does not say its attempts: %v", err)
		}
	}
}

// Finding 8: a server that never answers, or stalls in the middle of a body, is cut off by
// the default timeouts (configurable) and the idempotent request retried.
func TestTimeoutsCutSilentServers(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch {
		case r.URL.Path == "/api/v4/silent":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case n%2 == 1: // the stalled body: half an answer, then nothing
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"id":1,`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		default:
			coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1, "name": "whole"}})
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _ := newCoreClient(t, srv, WithTimeouts(100*time.Millisecond, 100*time.Millisecond), testRetries(2))
	start := time.Now()
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/silent", nil))
	if !errors.Is(err, errHeaderTimeout) || hits.Load() != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %d attempts in %s", err, hits.Load(), time.Since(start))
	}
	hits.Store(0)
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/stall", nil))
	if err != nil || v.Name != "whole" || hits.Load() != 2 {
		t.Fatalf("stalled body: %+v %v after %d attempts", v, err, hits.Load())
	}
}

// Finding 9: a 429 that was waited out does not use up attempts.
func TestRateLimitWaitsDoNotUseAttempts(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 4 {
			w.Header().Set("Retry-After", "0")
			coreClioError(w, 429, "RateLimited", "slow down")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithoutRateLimiter(), testRetries(2))
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil)); err != nil || hits.Load() != 5 {
		t.Fatalf("after four 429s with MaxAttempts 2: %v (%d hits)", err, hits.Load())
	}
}

// Finding 9: workers held by one 429 share the wait and resume staggered, not together.
func TestRateLimiterReleasesWaitersStaggered(t *testing.T) {
	t.Parallel()
	l := NewRateLimiter()
	h := http.Header{}
	h.Set("Retry-After", "1")
	l.Observe(http.StatusTooManyRequests, h)
	start := time.Now()
	var mu sync.Mutex
	var at []time.Duration
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
		})
	}
	wg.Wait()
	lo, hi := at[0], at[0]
	for _, d := range at {
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 900*time.Millisecond || hi > 1300*time.Millisecond || hi-lo < 5*time.Millisecond {
		t.Fatalf("released between %s and %s: not one shared, staggered wait", lo, hi)
	}
}

// Finding 10: {"data": null} is an error, not an empty record; an offset read whose count
// is wrong does not end quietly.
func TestSilentResultsAreErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"data":null}`))
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil)); !errors.Is(err, ErrEmptyAnswer) {
		t.Fatalf("data null: %v", err)
	}

	// meta.records says 300, the list holds 250.
	over := newCoreList(t, 250)
	defer over.srv.Close()
	over.claim = 300
	co, _ := newCoreClient(t, over.srv)
	n, err := countAll(co, over.list(co, ""), PageSize(100), OffsetPagination(2))
	var perr *PageError
	if !errors.Is(err, ErrCountMismatch) || !errors.As(err, &perr) || perr.Offset != n || n != 200 {
		t.Fatalf("overcount: %d records, %v", n, err)
	}
	// meta.records says 100, the list holds 150 and the last counted page links on.
	under := newCoreList(t, 150)
	defer under.srv.Close()
	under.claim = 100
	cu, _ := newCoreClient(t, under.srv)
	if n, err := countAll(cu, under.list(cu, ""), PageSize(50), OffsetPagination(2)); err != nil || n != 150 {
		t.Fatalf("undercount: %d records, %v", n, err)
	}
}

func countAll(c *Client, r Request, opts ...CallOption) (int, error) {
	n := 0
	for _, err := range All[coreRec](context.Background(), c, r, opts...) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// FuzzNextLink: whatever a server puts in meta.paging.next, checkNext neither panics nor
// lets through a link to another origin.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{"https://app.clio.com/api/v4/matters.json?page_token=x", "//evil.com/x",
		"https://app.clio.com.evil.com/", "http://app.clio.com/", "https://APP.clio.com:443/a", "", "%zz", "javascript:alert(1)"} {
		f.Add(s)
	}
	c, err := NewClient(context.Background(), WithToken("t"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, next string) {
		u, err := c.checkNext(next, newVisited(), 0)
		if err != nil {
			return
		}
		if !u.IsAbs() || !c.origin.matches(u) {
			t.Fatalf("accepted %q", next)
		}
		if p, perr := url.Parse(next); perr != nil || originOf(p) != c.origin {
			t.Fatalf("accepted %q, whose origin differs", next)
		}
	})
}

// A Request without an HTTP request (a builder that failed without saying so, a zero
// Request) is an error naming it, not a panic.
func TestZeroRequestIsAnInputError(t *testing.T) {
	t.Parallel()
	c, err := NewClient(context.Background(), WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Do[coreRec](context.Background(), c, Request{}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("Do: %v", err)
	}
	if _, err := DoNoContent(context.Background(), c, Request{}); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("DoNoContent: %v", err)
	}
	for _, err := range All[coreRec](context.Background(), c, Request{}) {
		if !errors.Is(err, ErrInvalidInput) {
			t.Fatalf("All: %v", err)
		}
	}
}
