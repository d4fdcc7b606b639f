package clio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var coreSmallBody = []byte(`{"data":{"id":12345,"name":"Smith v Jones","tags":["a","b"]}}`)

func coreSmallServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-API-VERSION", "4.0.9")
		// Budget so large the limiter never waits: the benchmark measures
		// the stack's overhead, not pacing.
		w.Header().Set("X-RateLimit-Limit", "1000000000")
		w.Header().Set("X-RateLimit-Remaining", "999999999")
		_, _ = w.Write(coreSmallBody)
	}))
}

// plainGetter returns a GET of coreSmallServer's record by hand, with net/http and the
// given decoder: the baselines.
func plainGetter(b *testing.B, hc *http.Client, url string, newDecoder func(io.Reader) Decoder) func() {
	ctx := context.Background()
	url += "/api/v4/matters/12345.json?fields=id%2Cname%2Ctags"
	return func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+coreToken)
		req.Header.Set("X-API-VERSION", APIVersion)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var env envelope[coreRec]
		err = newDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || env.Data.ID != 12345 {
			b.Fatal(err)
		}
	}
}

// fullGetter returns the same GET through Do and the whole pipeline, as a generated
// method sends it: rate limiter (fed by headers), token and headers, attempt with its
// default timeouts, retry decision, fields option, decode with the size bound.
func fullGetter(b *testing.B, c *Client) func() {
	ctx := context.Background()
	fields := Fields("id", "name", "tags")
	return func() {
		v, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters/12345.json", nil), fields)
		if err != nil || v.ID != 12345 {
			b.Fatal(err)
		}
	}
}

func encodingJSON(r io.Reader) Decoder { return json.NewDecoder(r) }

func benchLoop(b *testing.B, get func()) {
	b.ReportAllocs()
	for b.Loop() {
		get()
	}
}

// BenchmarkGetPlain is the baseline: net/http + encoding/json by hand,
// same handler, same transport.
func BenchmarkGetPlain(b *testing.B) {
	srv := coreSmallServer()
	defer srv.Close()
	benchLoop(b, plainGetter(b, srv.Client(), srv.URL, encodingJSON))
}

// BenchmarkGetPlainSameCodec is the baseline with the client's codec: net/http and
// FastCodec by hand, so that GetFullStack's difference is the pipeline's cost alone.
func BenchmarkGetPlainSameCodec(b *testing.B) {
	srv := coreSmallServer()
	defer srv.Close()
	benchLoop(b, plainGetter(b, srv.Client(), srv.URL, FastCodec{}.NewDecoder))
}

// BenchmarkGetFullStack sends the same GET through the whole pipeline.
func BenchmarkGetFullStack(b *testing.B) {
	srv := coreSmallServer()
	defer srv.Close()
	c, _ := newCoreClient(b, srv)
	benchLoop(b, fullGetter(b, c))
}

// BenchmarkGetFullStackVsPlain alternates, in one loop, the GET of GetPlainSameCodec and
// the GET of GetFullStack, and reports their ratio as full/plain, and the difference per
// call. On a shared machine two separate benchmarks drift apart with the load between
// them; here load hits both halves alike. Which half goes first alternates, so neither is
// favoured by a warm connection.
func BenchmarkGetFullStackVsPlain(b *testing.B) {
	srv := coreSmallServer()
	defer srv.Close()
	c, _ := newCoreClient(b, srv)
	plainGet, fullGet := plainGetter(b, srv.Client(), srv.URL, FastCodec{}.NewDecoder), fullGetter(b, c)
	var plain, full time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if n%2 == 0 {
			plainGet()
			t1 := time.Now()
			fullGet()
			plain, full = plain+t1.Sub(t0), full+time.Since(t1)
		} else {
			fullGet()
			t1 := time.Now()
			plainGet()
			full, plain = full+t1.Sub(t0), plain+time.Since(t1)
		}
		n++
	}
	b.ReportMetric(float64(full)/float64(plain), "full/plain")
	b.ReportMetric(float64(full-plain)/float64(n), "ns-overhead/call")
}

// memTransport answers every request with coreSmallBody from memory: no socket, so a
// benchmark over it measures the client's own work and nothing else.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	h["Content-Type"] = []string{"application/json"}
	h["X-Ratelimit-Limit"] = []string{"1000000000"}
	h["X-Ratelimit-Remaining"] = []string{"999999999"}
	return &http.Response{StatusCode: 200, Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(coreSmallBody)), ContentLength: int64(len(coreSmallBody))}, nil
}

// BenchmarkGetInMemory runs both GETs over memTransport: "plain" is http.Client and
// FastCodec by hand, "full" the whole pipeline (its header timeout on the Client's clock,
// since memTransport is no *http.Transport). The difference between them is the
// pipeline's own cost per call, in time and in allocations, without a network to hide it.
func BenchmarkGetInMemory(b *testing.B) {
	const base = "https://app.clio.com"
	b.Run("plain", func(b *testing.B) {
		benchLoop(b, plainGetter(b, &http.Client{Transport: memTransport{}}, base, FastCodec{}.NewDecoder))
	})
	b.Run("full", func(b *testing.B) {
		c, err := NewClient(context.Background(), WithToken(coreToken), testRetries(0), WithHTTPClient(&http.Client{Transport: memTransport{}}))
		if err != nil {
			b.Fatal(err)
		}
		benchLoop(b, fullGetter(b, c))
	})
}

// coreBigList serves 10,000 records as 50 pre-encoded pages of 200, in
// cursor and offset form, so the server's own cost stays small.
func coreBigList(b *testing.B) *httptest.Server {
	const total, per = 10000, 200
	var srv *httptest.Server
	bodies := map[int][]byte{}
	build := func(start int, next string) []byte {
		var sb strings.Builder
		sb.WriteString(`{"data":[`)
		for i := start; i < start+per; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"id":%d,"name":"Matter %d"}`, i+1, i+1)
		}
		sb.WriteString(`],"meta":{"paging":{`)
		if next != "" {
			fmt.Fprintf(&sb, `"next":%q`, next)
		}
		fmt.Fprintf(&sb, `},"records":%d}}`, total)
		return []byte(sb.String())
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start := 0
		if o := q.Get("offset"); o != "" {
			start, _ = strconv.Atoi(o)
			start = -start - 1 // offset bodies have no next
		} else if tok := q.Get("page_token"); tok != "" {
			start, _ = strconv.Atoi(tok)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[start])
	}))
	for s := 0; s < total; s += per {
		next := ""
		if s+per < total {
			next = srv.URL + "/api/v4/matters.json?limit=200&order=id%28asc%29&page_token=" + strconv.Itoa(s+per)
		}
		bodies[s] = build(s, next)
		bodies[-s-1] = build(s, "")
	}
	return srv
}

func benchIterate(b *testing.B, opts ...CallOption) {
	srv := coreBigList(b)
	defer srv.Close()
	c, _ := newCoreClient(b, srv)
	fn := coreReq(c, "GET", "/api/v4/matters.json", nil)
	ctx := context.Background()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for r, err := range All[coreRec](ctx, c, fn, opts...) {
			if err != nil {
				b.Fatal(err)
			}
			if r.ID != int64(n+1) {
				b.Fatalf("record %d has id %d", n, r.ID)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("n=%d", n)
		}
	}
	runtime.ReadMemStats(&ms1)
	recs := float64(b.N) * 10000
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/recs, "allocs/record")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
}

// BenchmarkIterate10kCursor: serial cursor pages, the next one prefetched
// while the current one is consumed. Allocation figures include the
// in-process server.
func BenchmarkIterate10kCursor(b *testing.B) { benchIterate(b) }

// BenchmarkIterate10kOffset: 4 workers fetch offset pages concurrently.
func BenchmarkIterate10kOffset(b *testing.B) { benchIterate(b, OffsetPagination(4)) }
