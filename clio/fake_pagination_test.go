package clio_test

// Pagination against the fake Clio: cursor and offset iterators over real
// paging answers (opaque page tokens, meta.records, the 10,000-record
// offset cap, foreign next URLs), early exit and cancellation.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
)

// collectIDs runs an iterator to the end and returns the ids it yielded.
func collectIDs(t *testing.T, seq func(func(gen.Matter, error) bool)) ([]int64, error) {
	t.Helper()
	var ids []int64
	for m, err := range seq {
		if err != nil {
			return ids, err
		}
		if m.Id == 0 {
			t.Fatalf("record without id: %+v", m)
		}
		ids = append(ids, m.Id)
	}
	return ids, nil
}

// Every record exactly once, in order, in as many requests as pages, for
// both modes; the cursor follows the fake's opaque next URLs as given.
func TestFakePaginationYieldsAllInOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		n         int
		opts      []clio.CallOption
		params    *gen.ListMattersParams
		wantReqs  int
		offset    bool
		desc      bool
		maxFlight int // cursor: the page being yielded's fetch is done, the next one in flight
	}{
		{"cursor, 450 by 200", 450, []clio.CallOption{clio.PageSize(200)}, nil, 3, false, false, 1},
		{"cursor, default page size", 450, nil, nil, 3, false, false, 1},
		{"cursor, explicit order=id(asc)", 7, []clio.CallOption{clio.PageSize(3)},
			&gen.ListMattersParams{Order: clio.Ptr(gen.ListMattersParamsOrderIdAsc)}, 3, false, false, 1},
		{"cursor, exact multiple of the page", 400, []clio.CallOption{clio.PageSize(200)}, nil, 2, false, false, 1},
		{"offset, 3 workers, 450 by 50", 450, []clio.CallOption{clio.OffsetPagination(3), clio.PageSize(50)}, nil, 9, true, false, 3},
		{"offset keeps the caller's order", 120, []clio.CallOption{clio.OffsetPagination(2), clio.PageSize(25)},
			&gen.ListMattersParams{Order: clio.Ptr(gen.ListMattersParamsOrderIdDesc)}, 5, true, true, 2},
		{"empty list", 0, []clio.CallOption{clio.PageSize(10)}, nil, 1, false, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, wl := fakeClient(t, nil)
			_, want := seedMatters(t, srv, tc.n)
			if tc.desc {
				for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
					want[i], want[j] = want[j], want[i]
				}
			}
			// Slow every page a little so that concurrent fetching shows.
			srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultDelay, Delay: 30 * time.Millisecond, Method: http.MethodGet, Path: mattersPath, Count: -1})
			got, err := collectIDs(t, c.Matters.All(context.Background(), tc.params, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("yielded %d records, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("record %d is id %d, want %d", i, got[i], want[i])
				}
			}
			if n := srv.RequestCount(http.MethodGet, mattersPath); n != tc.wantReqs {
				t.Fatalf("%d list requests, want %d", n, tc.wantReqs)
			}
			if p := wl.peak(); p > tc.maxFlight || (tc.offset && tc.wantReqs > 2 && p < 2) {
				t.Fatalf("%d requests in flight at once, want at most %d (and some concurrency in offset mode)", p, tc.maxFlight)
			}
			att := wl.all()
			for i, a := range att {
				q := mustQuery(t, a.url)
				switch {
				case tc.offset:
					if q.Get("offset") == "" || q.Has("page_token") {
						t.Fatalf("offset request %s", a.url)
					}
				case i == 0:
					if q.Get("order") != "id(asc)" || q.Has("page_token") {
						t.Fatalf("first cursor request %s", a.url)
					}
				default:
					if !q.Has("page_token") || q.Has("offset") {
						t.Fatalf("cursor request %d is not the next URL: %s", i+1, a.url)
					}
				}
			}
		})
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// Requests that cannot be served as asked fail before anything is sent.
func TestFakePaginationRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		params *gen.ListMattersParams
		opts   []clio.CallOption
		check  func(error) bool
	}{
		{"cursor with a conflicting order", &gen.ListMattersParams{Order: clio.Ptr(gen.ListMattersParamsOrderDisplayNumberAsc)}, nil,
			func(err error) bool {
				var ie *clio.InputError
				return errors.As(err, &ie) && ie.Field == "order" && strings.Contains(err.Error(), "display_number(asc)")
			}},
		{"page size over 200", nil, []clio.CallOption{clio.PageSize(201)}, func(err error) bool { return errors.Is(err, clio.ErrInvalidInput) }},
		{"limit over 200 in the params", &gen.ListMattersParams{Limit: clio.Ptr(int32(500))}, nil, func(err error) bool { return errors.Is(err, clio.ErrInvalidInput) }},
		{"foreign PageURL", nil, []clio.CallOption{clio.PageURL("https://evil.example/api/v4/matters.json?page_token=x")},
			func(err error) bool { return errors.Is(err, clio.ErrUntrustedURL) }},
		{"too many workers", nil, []clio.CallOption{clio.OffsetPagination(100)}, func(err error) bool { return errors.Is(err, clio.ErrInvalidInput) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeClient(t, nil)
			seedMatters(t, srv, 3)
			n := 0
			var got error
			for _, err := range c.Matters.All(context.Background(), tc.params, tc.opts...) {
				if err != nil {
					got = err
					break
				}
				n++
			}
			if n != 0 || !tc.check(got) {
				t.Fatalf("yielded %d records, err %v", n, got)
			}
			if r := srv.Counters().Requests; r != 0 {
				t.Fatalf("the fake saw %d requests", r)
			}
		})
	}
}

// Offset pagination stops at Clio's 10,000 records without asking past
// them; cursor pagination goes through the same list to the end.
func TestFakePaginationOffsetCap(t *testing.T) {
	t.Parallel()
	srv, c, wl := fakeClient(t, nil)
	_, ids := seedMatters(t, srv, 10_001)
	n := 0
	var err error
	for _, e := range c.Matters.All(context.Background(), nil, clio.OffsetPagination(4)) {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if !errors.Is(err, clio.ErrOffsetLimit) || n != 0 {
		t.Fatalf("offset over 10,001 records: %d yielded, err %v; want ErrOffsetLimit before any record", n, err)
	}
	if r := srv.RequestCount(http.MethodGet, mattersPath); r != 1 {
		t.Fatalf("%d requests; want only the first page", r)
	}
	for _, a := range wl.all() {
		if q := mustQuery(t, a.url); q.Get("offset") != "0" {
			t.Fatalf("asked %s", a.url)
		}
	}

	// A list of exactly 10,000 is still fine by offset, with no request past the cap.
	srv2, c2, wl2 := fakeClient(t, nil)
	_, ids2 := seedMatters(t, srv2, 10_000)
	got, err := collectIDs(t, c2.Matters.All(context.Background(), nil, clio.OffsetPagination(4)))
	if err != nil || len(got) != len(ids2) || got[len(got)-1] != ids2[len(ids2)-1] {
		t.Fatalf("offset over exactly 10,000: %d records, %v", len(got), err)
	}
	for _, a := range wl2.all() {
		if off, _ := strconv.Atoi(mustQuery(t, a.url).Get("offset")); off >= 10_000 {
			t.Fatalf("asked past the cap: %s", a.url)
		}
	}

	got, err = collectIDs(t, c.Matters.All(context.Background(), nil))
	if err != nil || len(got) != len(ids) || got[len(got)-1] != ids[len(ids)-1] {
		t.Fatalf("cursor over 10,001: %d records, %v", len(got), err)
	}
}

// A next URL on a host the client did not choose ends the iteration with
// ErrUntrustedURL; that host never sees a request, let alone the token.
func TestFakePaginationForeignNextURL(t *testing.T) {
	t.Parallel()
	var foreignHits atomic.Int32
	var tokenSeen atomic.Bool
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			tokenSeen.Store(true)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":[],"meta":{"paging":{},"records":0}}`))
	}))
	t.Cleanup(foreign.Close)
	for _, mode := range []struct {
		name string
		opts []clio.CallOption
	}{
		{"All", []clio.CallOption{clio.PageSize(2)}},
		{"ListPage then PageURL", nil},
	} {
		t.Run(mode.name, func(t *testing.T) {
			srv, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithNextURLBase(foreign.URL)})
			seedMatters(t, srv, 5)
			ctx := context.Background()
			var err error
			n := 0
			if mode.opts != nil {
				for _, e := range c.Matters.All(ctx, nil, mode.opts...) {
					if e != nil {
						err = e
						break
					}
					n++
				}
				if n != 2 {
					t.Fatalf("yielded %d records before the foreign next URL, want the first page (2)", n)
				}
			} else {
				page, resp, lerr := c.Matters.List(ctx, &gen.ListMattersParams{Limit: clio.Ptr(int32(2))})
				if lerr != nil || len(page) != 2 || !strings.HasPrefix(resp.NextURL, foreign.URL) {
					t.Fatalf("first page: %d, %v, next %q", len(page), lerr, resp.NextURL)
				}
				_, _, err = c.Matters.List(ctx, nil, clio.PageURL(resp.NextURL))
			}
			if !errors.Is(err, clio.ErrUntrustedURL) {
				t.Fatalf("err = %v, want ErrUntrustedURL", err)
			}
			if strings.Contains(err.Error(), "cliotest-at-") {
				t.Fatalf("the error leaks the access token: %v", err)
			}
		})
	}
	if foreignHits.Load() != 0 || tokenSeen.Load() {
		t.Fatalf("the foreign host saw %d requests (token: %v)", foreignHits.Load(), tokenSeen.Load())
	}
}

// clioGoroutines returns the stacks of live goroutines carrying the pprof
// label key=val (inherited from the goroutine that started them) that are
// running code of package clio.
func clioGoroutines(key, val string) []string {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	var out []string
	want := `"` + key + `":"` + val + `"`
	for rec := range strings.SplitSeq(buf.String(), "\n\n") {
		if !strings.Contains(rec, want) {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(rec))
		for sc.Scan() {
			if strings.Contains(sc.Text(), "clio-go/clio-go/clio.") {
				out = append(out, rec)
				break
			}
		}
	}
	return out
}

// Breaking out of the loop while pages are being fetched leaves no
// iterator goroutine behind, in either mode. Goroutines are identified by a
// pprof label, so other tests running in parallel do not disturb the count.
func TestFakePaginationBreakLeaksNoGoroutine(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opt  clio.CallOption
	}{{"cursor", clio.PageSize(20)}, {"offset", clio.OffsetPagination(4)}} {
		t.Run(mode.name, func(t *testing.T) {
			srv, c, _ := fakeClient(t, nil)
			seedMatters(t, srv, 400)
			// Pages arrive slowly, so fetches are in flight at the break.
			srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultDelay, Delay: 50 * time.Millisecond, Method: http.MethodGet, Path: mattersPath, Count: -1})
			label := t.Name()
			n := 0
			pprof.Do(context.Background(), pprof.Labels("fake-leak-test", label), func(ctx context.Context) {
				opts := []clio.CallOption{mode.opt}
				if mode.name == "offset" {
					opts = append(opts, clio.PageSize(20))
				}
				for _, err := range c.Matters.All(ctx, nil, opts...) {
					if err != nil {
						t.Fatal(err)
					}
					if n++; n == 30 {
						break
					}
				}
			})
			if n != 30 {
				t.Fatalf("n = %d", n)
			}
			// The iterator waits for its goroutines before returning.
			if g := clioGoroutines("fake-leak-test", label); len(g) > 0 {
				t.Fatalf("%d iterator goroutines outlived the loop:\n%s", len(g), strings.Join(g, "\n\n"))
			}
		})
	}
}

// Cancelling the context stops the iteration promptly, even while the
// next page is slow to come, and the error says why.
func TestFakePaginationCancelStops(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		opts []clio.CallOption
	}{
		{"cursor", []clio.CallOption{clio.PageSize(10)}},
		{"offset", []clio.CallOption{clio.OffsetPagination(3), clio.PageSize(10)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeClient(t, nil)
			seedMatters(t, srv, 100)
			// The first page comes at once, the next ones take 5 s.
			srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultDelay, Delay: 0, Method: http.MethodGet, Path: mattersPath})
			srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultDelay, Delay: 5 * time.Second, Method: http.MethodGet, Path: mattersPath, Count: -1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var start time.Time
			n := 0
			var err error
			for _, e := range c.Matters.All(ctx, nil, mode.opts...) {
				if e != nil {
					err = e
					break
				}
				if n++; n == 1 {
					cancel()
					start = time.Now()
				}
			}
			if el := time.Since(start); el > time.Second {
				t.Fatalf("the iteration went on for %s after cancel", el)
			}
			if !errors.Is(err, context.Canceled) || n > 10 {
				t.Fatalf("yielded %d, err %v; want context.Canceled within the first page", n, err)
			}
		})
	}
}
