package clio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// coreList serves /api/v4/matters.json with total records (ids 1..total),
// in cursor mode (opaque page_token next URLs) or offset mode.
type coreList struct {
	t           testing.TB
	srv         *httptest.Server
	total       int
	nextBase    string // host for next URLs; default the server itself
	delay       time.Duration
	hits        atomic.Int32
	inflight    atomic.Int32
	maxInflight atomic.Int32
	mu          sync.Mutex
	queries     []string
	issued      map[string]bool // raw queries handed out as next URLs
	noRecords   bool
	claim       int // meta.records to announce instead of total (a stale count); offset pages then link on
}

func newCoreList(t testing.TB, total int) *coreList {
	l := &coreList{t: t, total: total, issued: map[string]bool{}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	return l
}

func (l *coreList) serve(w http.ResponseWriter, r *http.Request) {
	l.hits.Add(1)
	n := l.inflight.Add(1)
	defer l.inflight.Add(-1)
	for {
		m := l.maxInflight.Load()
		if n <= m || l.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	l.mu.Lock()
	l.queries = append(l.queries, r.URL.RawQuery)
	l.mu.Unlock()
	if l.delay > 0 {
		select {
		case <-time.After(l.delay):
		case <-r.Context().Done():
			return
		}
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit < 1 || limit > 200 {
		coreClioError(w, 400, "ArgumentError", "bad limit")
		return
	}
	start := 0
	next := ""
	if q.Has("offset") {
		start, _ = strconv.Atoi(q.Get("offset"))
		if start+limit > offsetCap {
			l.t.Errorf("asked past 10,000: offset %d limit %d", start, limit)
			coreClioError(w, 422, "ArgumentError", "offset too deep")
			return
		}
		if l.claim != 0 && start+limit < l.total {
			next = l.srv.URL + "/api/v4/matters.json?offset=" + strconv.Itoa(start+limit) + "&limit=" + strconv.Itoa(limit)
		}
	} else {
		if tok := q.Get("page_token"); tok != "" {
			l.mu.Lock()
			ok := l.issued[r.URL.RawQuery]
			l.mu.Unlock()
			if !ok {
				l.t.Errorf("next URL not followed exactly: %s", r.URL.RawQuery)
			}
			start, _ = strconv.Atoi(strings.TrimPrefix(tok, "after/"))
		} else if q.Get("order") != "id(asc)" {
			l.t.Errorf("cursor request without order=id(asc): %s", r.URL.RawQuery)
		}
		if start+limit < l.total {
			// Opaque, oddly encoded, and not a re-encoding of our query.
			raw := "page_token=after%2F" + strconv.Itoa(start+limit) + "&limit=" + strconv.Itoa(limit) + "&order=id%28asc%29&fields=id%2Cname"
			l.mu.Lock()
			l.issued[raw] = true
			l.mu.Unlock()
			base := l.nextBase
			if base == "" {
				base = l.srv.URL
			}
			next = base + "/api/v4/matters.json?" + raw
		}
	}
	end := min(start+limit, l.total)
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"m%d"}`, i+1, i+1)
	}
	b.WriteString(`],"meta":{"paging":{`)
	if next != "" {
		fmt.Fprintf(&b, `"next":%q`, next)
	}
	b.WriteString(`}`)
	if !l.noRecords {
		fmt.Fprintf(&b, `,"records":%d`, cmp.Or(l.claim, l.total))
	}
	b.WriteString(`}}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}

func (l *coreList) list(c *Client, query string) Request {
	return coreReq(c, "GET", "/api/v4/matters.json"+query, nil)
}

func TestAllCursorFollowsNextExactly(t *testing.T) {
	t.Parallel()
	l := newCoreList(t, 450)
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	// fields set twice (in the query and with Fields) is refused: one way to set a thing.
	if _, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, "?fields=id"), Fields("id", "name"))); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("fields twice: %v", err)
	}
	ids, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, ""), Fields("id", "name")))
	if err != nil {
		t.Fatal(err)
	}
	coreCheckIDs(t, ids, 450)
	if len(l.queries) != 3 || l.queries[0] != "fields=id%2Cname&limit=200&order=id%28asc%29" {
		t.Fatalf("queries %q", l.queries)
	}
	// The caller's explicit order=id(asc) is fine; PageSize applies.
	ids, err = coreCollect(t, All[coreRec](context.Background(), c, l.list(c, "?order=id(asc)"), PageSize(100)))
	if err != nil {
		t.Fatal(err)
	}
	coreCheckIDs(t, ids, 450)
}

func TestAllCursorRejectsConflictingOrder(t *testing.T) {
	t.Parallel()
	l := newCoreList(t, 10)
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	_, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, "?order=display_number(desc)")))
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "order" || !strings.Contains(ie.Reason, "display_number(desc)") || l.hits.Load() != 0 {
		t.Fatalf("err=%v hits=%d", err, l.hits.Load())
	}
	_, err = coreCollect(t, All[coreRec](context.Background(), c, l.list(c, "?limit=500")))
	if !errors.As(err, &ie) || ie.Field != "limit" || l.hits.Load() != 0 {
		t.Fatalf("limit: err=%v", err)
	}
	if _, _, err := ListPage[coreRec](context.Background(), c, l.list(c, ""), PageSize(201)); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("PageSize: %v", err)
	}
}

func TestAllRefusesForeignNextURL(t *testing.T) {
	t.Parallel()
	foreign, fhits, _ := coreForeign(t)
	l := newCoreList(t, 300)
	l.nextBase = foreign.URL
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	ids, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, "")))
	if !errors.Is(err, ErrUntrustedURL) || len(ids) != 200 || fhits.Load() != 0 {
		t.Fatalf("err=%v ids=%d foreign hits=%d", err, len(ids), fhits.Load())
	}
	// Same for a page URL passed by hand.
	_, _, err = ListPage[coreRec](context.Background(), c, l.list(c, ""), PageURL(foreign.URL+"/api/v4/matters.json?page_token=x"))
	if !errors.Is(err, ErrUntrustedURL) || fhits.Load() != 0 {
		t.Fatalf("PageURL: %v", err)
	}
}

func TestListPageAndPageURL(t *testing.T) {
	t.Parallel()
	l := newCoreList(t, 250)
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	ctx := context.Background()
	recs, resp, err := ListPage[coreRec](ctx, c, l.list(c, "?order=id(asc)&limit=200"))
	if err != nil || len(recs) != 200 || resp.Records != 250 || resp.NextURL == "" {
		t.Fatalf("page 1: %d %+v %v", len(recs), resp, err)
	}
	recs, resp, err = ListPage[coreRec](ctx, c, l.list(c, "?order=id(asc)&limit=200"), PageURL(resp.NextURL))
	if err != nil || len(recs) != 50 || recs[0].ID != 201 || resp.NextURL != "" {
		t.Fatalf("page 2: %d %+v %v", len(recs), resp, err)
	}
}

func TestAllOffsetConcurrentInOrder(t *testing.T) {
	t.Parallel()
	l := newCoreList(t, 1000)
	l.delay = 5 * time.Millisecond
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	ids, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, ""), OffsetPagination(3), PageSize(100)))
	if err != nil {
		t.Fatal(err)
	}
	coreCheckIDs(t, ids, 1000)
	if l.hits.Load() != 10 {
		t.Errorf("hits %d, want 10", l.hits.Load())
	}
	if m := l.maxInflight.Load(); m > 3 || m < 2 {
		t.Errorf("max concurrent requests %d, want 2..3 (3 workers)", m)
	}
	// The caller's own limit is kept in offset mode.
	l2 := newCoreList(t, 95)
	defer l2.srv.Close()
	c2, _ := newCoreClient(t, l2.srv)
	ids, err = coreCollect(t, All[coreRec](context.Background(), c2, l2.list(c2, "?limit=20"), OffsetPagination(0)))
	if err != nil {
		t.Fatal(err)
	}
	coreCheckIDs(t, ids, 95)
	if l2.hits.Load() != 5 {
		t.Errorf("hits %d, want 5 pages of 20", l2.hits.Load())
	}
}

func TestAllOffsetStopsAt10000(t *testing.T) {
	t.Parallel()
	l := newCoreList(t, 10000)
	defer l.srv.Close()
	c, _ := newCoreClient(t, l.srv)
	ids, err := coreCollect(t, All[coreRec](context.Background(), c, l.list(c, ""), OffsetPagination(4), PageSize(150)))
	if err != nil {
		t.Fatal(err)
	}
	coreCheckIDs(t, ids, 10000)
	last := false
	for _, q := range l.queries {
		if strings.Contains(q, "limit=100&offset=9900") {
			last = true
		}
	}
	if !last {
		t.Errorf("the last page should be offset 9900 limit 100 (clamped)")
	}

	deep := newCoreList(t, 10001)
	defer deep.srv.Close()
	cd, _ := newCoreClient(t, deep.srv)
	ids, err = coreCollect(t, All[coreRec](context.Background(), cd, deep.list(cd, ""), OffsetPagination(4)))
	if !errors.Is(err, ErrOffsetLimit) || !strings.Contains(err.Error(), "cursor") || len(ids) != 0 || deep.hits.Load() != 1 {
		t.Fatalf("err=%v ids=%d hits=%d", err, len(ids), deep.hits.Load())
	}

	// Without meta.records: serial, still never past the cap.
	norec := newCoreList(t, 10300)
	norec.noRecords = true
	defer norec.srv.Close()
	cn, _ := newCoreClient(t, norec.srv)
	ids, err = coreCollect(t, All[coreRec](context.Background(), cn, norec.list(cn, ""), OffsetPagination(2)))
	if !errors.Is(err, ErrOffsetLimit) || len(ids) != 10000 {
		t.Fatalf("no records: err=%v ids=%d", err, len(ids))
	}
}

func TestAllCancelStopsPromptly(t *testing.T) {
	t.Parallel()
	for _, mode := range []CallOption{nil, OffsetPagination(4)} {
		l := newCoreList(t, 5000)
		l.delay = 200 * time.Millisecond
		c, _ := newCoreClient(t, l.srv, testRetries(1))
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		n := 0
		var err error
		for _, e := range All[coreRec](ctx, c, l.list(c, ""), PageSize(10), mode) {
			if e != nil {
				err = e
				break
			}
			n++
			if n == 5 {
				cancel()
			}
		}
		if !errors.Is(err, context.Canceled) || n != 10 && n != 5 {
			t.Errorf("mode %v: n=%d err=%v", mode, n, err)
		}
		if el := time.Since(start); el > 350*time.Millisecond+l.delay {
			t.Errorf("mode %v: took %s after cancel", mode, el)
		}
		cancel()
		l.srv.Close()
	}
}

// TestAllBreakLeaksNoGoroutine breaks out of both modes early while pages
// are in flight and checks the goroutine count returns to its baseline.
// Not parallel: it counts goroutines.
func TestAllBreakLeaksNoGoroutine(t *testing.T) {
	for _, mode := range []CallOption{nil, OffsetPagination(6)} {
		tr := &http.Transport{}
		runtime.GC()
		base := runtime.NumGoroutine()
		l := newCoreList(t, 5000)
		l.delay = 20 * time.Millisecond
		c, _ := newCoreClient(t, l.srv, WithHTTPClient(&http.Client{Transport: tr}))
		n := 0
		for r, err := range All[coreRec](context.Background(), c, l.list(c, ""), PageSize(50), mode) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			if r.ID == 120 {
				break
			}
		}
		if n != 120 {
			t.Fatalf("n=%d", n)
		}
		// All iterator goroutines have returned when the loop exits; what
		// remains are the connection pools, closed here.
		l.srv.Close()
		tr.CloseIdleConnections()
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := runtime.NumGoroutine(); got > base {
			buf := make([]byte, 1<<16)
			t.Fatalf("mode %v: %d goroutines after break, baseline %d\n%s", mode, got, base, buf[:runtime.Stack(buf, true)])
		}
	}
}

// pagedListWithRecords serves ids 1..total, per pages of at most pageCap records
// whatever limit asks, in cursor mode (next URLs) or offset mode. With
// condPer304 it answers 304 to a conditional request for any page after the
// first, as a server evaluating If-Modified-Since per page would.
func pagedListWithRecords(t *testing.T, total, pageCap int, condPer304 bool) *httptest.Server {
	return pagedList(t, total, pageCap, condPer304, true)
}

// pagedList serves total records, at most pageCap a page, with or without meta.records.
func pagedList(t *testing.T, total, pageCap int, condPer304, withRecords bool) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start := 0
		if v := q.Get("page_token"); v != "" {
			start, _ = strconv.Atoi(v)
		}
		if v := q.Get("offset"); v != "" {
			start, _ = strconv.Atoi(v)
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 || limit > pageCap {
			limit = pageCap
		}
		if condPer304 && start > 0 && (r.Header.Get("If-Modified-Since") != "" || r.Header.Get("If-None-Match") != "") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		var data []map[string]any
		for i := start; i < min(start+limit, total); i++ {
			data = append(data, map[string]any{"id": i + 1})
		}
		paging := map[string]any{}
		if !q.Has("offset") && start+limit < total {
			paging["next"] = fmt.Sprintf("%s/api/v4/list.json?limit=%d&page_token=%d", srv.URL, limit, start+limit)
		}
		meta := map[string]any{"paging": paging}
		if withRecords {
			meta["records"] = total
		}
		coreJSON(w, http.StatusOK, map[string]any{"data": data, "meta": meta})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func collectIDs(t *testing.T, c *Client, opts ...CallOption) ([]int64, error) {
	t.Helper()
	var ids []int64
	for r, err := range All[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/list.json", nil), opts...) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// A conditional list iteration (IfModifiedSince, IfNoneMatch) is decided by
// its first page; later pages must not be conditional, or a 304 there ends
// the iteration early without an error.
func TestConditionalIterationIsNotTruncated(t *testing.T) {
	srv := pagedListWithRecords(t, 5, 2, true)
	c, _ := newCoreClient(t, srv)
	for _, mode := range []struct {
		name string
		opts []CallOption
	}{
		{"cursor", nil},
		{"offset", []CallOption{OffsetPagination(2)}},
	} {
		opts := append([]CallOption{PageSize(2), IfModifiedSince(time.Now().Add(-time.Hour))}, mode.opts...)
		ids, err := collectIDs(t, c, opts...)
		if err != nil || len(ids) != 5 {
			t.Errorf("%s: got ids %v, err %v; want all 5 records", mode.name, ids, err)
		}
	}
}

// When the server serves fewer records per page than the limit asked for,
// offset pagination must not skip the records between its short pages.
func TestOffsetPaginationServerPageCap(t *testing.T) {
	srv := pagedListWithRecords(t, 10, 3, false)
	c, _ := newCoreClient(t, srv)
	ids, err := collectIDs(t, c, OffsetPagination(2), PageSize(5))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("got ids %v, want %v", ids, want)
	}
}

// A next URL that goes back to a page already fetched (A → B → A) must stop
// the iteration with an error, not loop forever.
func TestCursorNextCycleStops(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("page_token")
		next := map[string]string{"": "a", "a": "b", "b": "a"}[tok]
		coreJSON(w, http.StatusOK, map[string]any{"data": []map[string]any{{"id": 1}},
			"meta": map[string]any{"paging": map[string]any{"next": srv.URL + "/api/v4/list.json?page_token=" + next}}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 0
	var last error
	for _, err := range All[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/list.json", nil)) {
		if err != nil {
			last = err
			break
		}
		if n++; n > 100 {
			break
		}
	}
	if n > 100 || last == nil || errors.Is(last, context.DeadlineExceeded) {
		t.Fatalf("after %d records, err %v; want a loop error within a few pages", n, last)
	}
}

// Without meta.records the offset walk cannot know the total: a page shorter than asked
// (the server's own cap) must not end it.
func TestOffsetPaginationWithoutRecordsCountKeepsGoing(t *testing.T) {
	srv := pagedList(t, 10, 3, false, false)
	c, _ := newCoreClient(t, srv)
	ids, err := collectIDs(t, c, OffsetPagination(2), PageSize(5))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("got ids %v, want %v", ids, want)
	}
}
