package cliotest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// raw sends a request with a plain net/http client that keeps no connections and follows
// no redirects, and returns whatever came back, errors included.
func (f *fixture) raw(method, path, body string) (*http.Response, []byte, error) {
	f.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = f.s.URL + path
	}
	r, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+f.tok)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := c.Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

func seedAreas(t *testing.T, f *fixture, n int) {
	t.Helper()
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"name": "Area " + strconv.Itoa(i+1)}
	}
	f.s.MustInsert(t, "practice_areas", recs...)
}

func TestFaultTruncatedJSONIsCompleteHTTP(t *testing.T) {
	f := mini(t)
	seedAreas(t, f, 5)
	f.s.InjectFault(Fault{Kind: FaultTruncatedJSON, Method: "GET"})
	res, body, err := f.raw("GET", "/api/v4/practice_areas.json?fields=id,name", "")
	if err != nil {
		t.Fatalf("HTTP itself must be fine: %v", err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(body) == 0 {
		t.Fatalf("status %d, Content-Length %q, %d bytes read", res.StatusCode, res.Header.Get("Content-Length"), len(body))
	}
	var v any
	if err := json.Unmarshal(body, &v); err == nil || !strings.Contains(err.Error(), "unexpected end of JSON") {
		t.Fatalf("body %q decoded: %v", body, err)
	}
	// On a POST the record is created before the answer is cut.
	f.s.InjectFault(Fault{Kind: FaultTruncatedJSON, Method: "POST"})
	res, body, err = f.raw("POST", "/api/v4/practice_areas.json", `{"data":{"name":"Tax"}}`)
	if err != nil || res.StatusCode != 201 || json.Valid(body) {
		t.Fatalf("POST: %v %v %q", res, err, body)
	}
	if f.s.Count("practice_areas") != 6 {
		t.Fatal("the POST under FaultTruncatedJSON was not processed")
	}
	if c := f.s.Counters(); c.TruncatedJSON != 2 || c.TruncatedBodies != 0 {
		t.Fatalf("counters %+v", c)
	}
}

func TestFaultDropBeforeAndAfterTheWork(t *testing.T) {
	// A budget of one request a minute shows whether a GET was processed: a processed GET
	// spends it.
	f := mini(t, WithRateLimit(1, time.Minute))
	who := "/api/v4/users/who_am_i.json"
	f.s.InjectFault(Fault{Kind: FaultDrop, Method: "GET"})
	if _, _, err := f.raw("GET", who, ""); err == nil {
		t.Fatal("a reset before the work gave no error")
	}
	f.s.InjectFault(Fault{Kind: FaultDrop, Method: "GET", AfterProcessing: true})
	if _, _, err := f.raw("GET", who, ""); err == nil {
		t.Fatal("a reset after the work gave no error")
	}
	f.must(429, "GET", who, nil)

	g := mini(t)
	id := g.s.MustInsert(t, "practice_areas", map[string]any{"name": "Old"})[0]
	g.s.InjectFault(Fault{Kind: FaultDrop, Method: "PATCH", AfterProcessing: true})
	if _, _, err := g.raw("PATCH", "/api/v4/practice_areas/"+itoa(id)+".json", `{"data":{"name":"New"}}`); err == nil {
		t.Fatal("a reset after the PATCH gave no error")
	}
	if rec, _ := g.s.Record("practice_areas", id); rec["name"] != "New" {
		t.Fatalf("the PATCH was not processed: %v", rec)
	}
	g.s.InjectFault(Fault{Kind: FaultDrop, Method: "PATCH"})
	if _, _, err := g.raw("PATCH", "/api/v4/practice_areas/"+itoa(id)+".json", `{"data":{"name":"Newer"}}`); err == nil {
		t.Fatal("a reset before the PATCH gave no error")
	}
	if rec, _ := g.s.Record("practice_areas", id); rec["name"] != "New" {
		t.Fatalf("a reset before the work processed the PATCH: %v", rec)
	}
	if c := f.s.Counters(); c.DroppedConnections != 2 || c.DroppedAfterWork != 1 {
		t.Fatalf("counters %+v", c)
	}
}

// statuses sends n GETs and returns the status of each (0 for a transport error).
func (f *fixture) statuses(n int, path string) []int {
	out := make([]int, n)
	for i := range out {
		if res, _, err := f.raw("GET", path, ""); err == nil {
			out[i] = res.StatusCode
		}
	}
	return out
}

func TestFaultProbabilityBurstsAreSeeded(t *testing.T) {
	who := "/api/v4/users/who_am_i.json"
	run := func(seed uint64) []int {
		f := mini(t, WithFaultSeed(seed))
		f.s.InjectFault(Fault{Kind: FaultStatus, Path: who, Probability: 0.2, Burst: 3, Count: -1})
		return f.statuses(300, who)
	}
	a, b, c := run(7), run(7), run(8)
	if fmtInts(a) != fmtInts(b) {
		t.Fatal("the same seed gave another run")
	}
	if fmtInts(a) == fmtInts(c) {
		t.Fatal("another seed gave the same run")
	}
	faults, run503 := 0, 0
	for i, st := range append(a, 200) {
		if st == 503 {
			faults++
			run503++
			continue
		}
		if st != 200 {
			t.Fatalf("request %d: status %d", i, st)
		}
		if run503%3 != 0 {
			t.Fatalf("a run of %d 503s ends at request %d; bursts are 3 long", run503, i)
		}
		run503 = 0
	}
	// About 300 / (1/0.2 + 3 - 1) * 3 ≈ 128 in expectation; any sane generator lands well inside.
	if faults < 60 || faults > 200 {
		t.Fatalf("%d faults in 300 requests at 20%% with bursts of 3", faults)
	}
}

func fmtInts(v []int) string {
	var b strings.Builder
	for _, n := range v {
		b.WriteString(strconv.Itoa(n) + " ")
	}
	return b.String()
}

func TestFaultCountBoundsAProbability(t *testing.T) {
	f := mini(t)
	who := "/api/v4/users/who_am_i.json"
	f.s.InjectFault(Fault{Kind: FaultStatus, Path: who, Probability: 0.5, Count: 3})
	n := 0
	for _, st := range f.statuses(100, who) {
		if st == 503 {
			n++
		}
	}
	if n != 3 || f.s.PendingFaults() != 0 {
		t.Fatalf("%d faults fired, %d pending; want 3 and 0", n, f.s.PendingFaults())
	}
}

func TestFaultRateLimitStormWithoutWait(t *testing.T) {
	f := mini(t)
	who := "/api/v4/users/who_am_i.json"
	f.s.InjectFault(Fault{Kind: FaultRateLimit, RetryAfter: -1, Burst: 4})
	for i := 0; i < 4; i++ {
		if a := f.must(429, "GET", who, nil); a.header.Get("Retry-After") != "0" || a.errType() != "RateLimited" {
			t.Fatalf("storm answer %d: %v %s", i, a.header, a.raw)
		}
	}
	f.must(200, "GET", who, nil)
	if c := f.s.Counters(); c.RateLimitFaults != 4 || c.RateLimited != 4 || c.FaultsFired != 4 {
		t.Fatalf("counters %+v", c)
	}
}

func TestChaosFiresEveryKind(t *testing.T) {
	f := mini(t)
	seedAreas(t, f, 3)
	list := "/api/v4/practice_areas.json"
	f.s.InjectFault(Fault{Kind: FaultStatus, Path: "/nowhere"}) // a fault that never matches stays armed
	for _, fl := range Chaos(0.1, list) {
		f.s.InjectFault(fl)
	}
	for i := 0; i < 400; i++ {
		_, _, _ = f.raw("GET", list+"?fields=id,name", "")
	}
	c := f.s.Counters()
	if c.StatusFaults == 0 || c.DroppedConnections == c.DroppedAfterWork || c.DroppedAfterWork == 0 ||
		c.TruncatedBodies == 0 || c.TruncatedJSON == 0 || c.RateLimitFaults == 0 {
		t.Fatalf("a kind of Chaos never fired in 400 requests: %+v", c)
	}
	if f.s.PendingFaults() != 7 {
		t.Fatalf("PendingFaults = %d, want the 6 of Chaos and the idle one", f.s.PendingFaults())
	}
	f.s.ClearFaults()
	f.must(200, "GET", list, nil)
}

func TestFaultCannedBodyEmptyPagesAndRedirect(t *testing.T) {
	f := mini(t)
	list := "/api/v4/practice_areas.json"
	f.s.InjectFault(Fault{Kind: FaultBody, Body: []byte(`{"data":null}`)})
	if a := f.must(200, "GET", list, nil); string(a.raw) != `{"data":null}` || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("canned body: %v %s", a.header, a.raw)
	}

	f.s.InjectFault(Fault{Kind: FaultEmptyPage, Path: list, Count: -1})
	next, seen := list+"?fields=id&limit=5&offset=10", map[string]bool{}
	for i := 0; i < 5; i++ {
		a := f.must(200, "GET", next, nil)
		paging, _ := a.body["meta"].(map[string]any)["paging"].(map[string]any)
		n, _ := paging["next"].(string)
		if len(a.list()) != 0 || !strings.HasPrefix(n, f.s.URL+list+"?") || strings.Contains(n, "offset") || seen[n] {
			t.Fatalf("empty page %d: %s", i, a.raw)
		}
		seen[n] = true
		next = n
	}
	f.s.ClearFaults()

	f.s.InjectFault(Fault{Kind: FaultRedirect, Location: "https://elsewhere.example/api/v4/practice_areas.json"})
	a := f.must(303, "GET", list, nil)
	if a.header.Get("Location") != "https://elsewhere.example/api/v4/practice_areas.json" {
		t.Fatalf("Location %q", a.header.Get("Location"))
	}
	f.s.InjectFault(Fault{Kind: FaultRedirect, Status: 307})
	if a := f.must(307, "GET", list+"?limit=1", nil); a.header.Get("Location") != "http://redirected.invalid"+list+"?limit=1" {
		t.Fatalf("default Location %q", a.header.Get("Location"))
	}
	if c := f.s.Counters(); c.CannedBodies != 1 || c.EmptyPages != 5 || c.Redirects != 2 {
		t.Fatalf("counters %+v", c)
	}
}

func TestFaultKindString(t *testing.T) {
	if FaultTruncatedJSON.String() != "FaultTruncatedJSON" || FaultKind(99).String() != "FaultKind(99)" {
		t.Fatal(FaultTruncatedJSON.String(), FaultKind(99).String())
	}
}

// A client that retries every failed GET reads each record exactly once through Chaos,
// in cursor and in offset mode: the faults never corrupt paging itself.
func TestChaosReadWithRetriesSeesEveryRecordOnce(t *testing.T) {
	f := mini(t)
	seedAreas(t, f, 1000)
	list := "/api/v4/practice_areas.json"
	for _, first := range []string{list + "?fields=id&limit=100&order=id(asc)", list + "?fields=id&limit=100&offset=0"} {
		f.s.ClearFaults()
		for _, fl := range Chaos(0.25, list) {
			f.s.InjectFault(fl)
		}
		seen := map[int64]int{}
		tries := 0
		for next := first; next != ""; {
			if tries++; tries > 500 {
				t.Fatalf("%s: no end after 500 requests", first)
			}
			res, body, err := f.raw("GET", next, "")
			var page struct {
				Data []struct{ ID int64 }
				Meta struct{ Paging struct{ Next string } }
			}
			if err != nil || res.StatusCode != 200 || json.Unmarshal(body, &page) != nil {
				continue // retry the same page
			}
			for _, r := range page.Data {
				seen[r.ID]++
			}
			next = page.Meta.Paging.Next
		}
		if len(seen) != 1000 {
			t.Fatalf("%s: %d records seen, want 1000", first, len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("%s: record %d seen %d times", first, id, n)
			}
		}
		if tries < 15 {
			t.Fatalf("%s: only %d requests for 10 pages at a 25%% fault rate per kind", first, tries)
		}
	}
}
