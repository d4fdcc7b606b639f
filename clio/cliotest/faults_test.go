package cliotest

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	f := mini(t)
	who := "/api/v4/users/who_am_i.json"
	f.s.InjectFault(Fault{Kind: FaultStatus, Path: who, Count: 2, Status: 502})
	f.must(502, "GET", who, nil)
	f.must(502, "GET", who, nil)
	f.must(200, "GET", who, nil)
	// Path patterns and methods.
	f.s.InjectFault(Fault{Kind: FaultStatus, Method: "POST", Path: "/api/v4/contacts*"})
	f.must(200, "GET", "/api/v4/contacts.json", nil)
	f.must(503, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "A"}))
	if f.s.Count("contacts") != 0 {
		t.Fatal("a 5xx fault processed the request")
	}

	// Dropped connection, before and after processing.
	req := func(method, path, body string) (*http.Response, error) {
		r, _ := http.NewRequest(method, f.s.URL+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+f.tok)
		r.Header.Set("Content-Type", "application/json")
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Do(r)
		if err == nil {
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		return res, err
	}
	f.s.InjectFault(Fault{Kind: FaultDrop})
	if _, err := req("GET", who, ""); err == nil {
		t.Fatal("dropped connection gave no error")
	}
	f.s.InjectFault(Fault{Kind: FaultDrop, AfterProcessing: true, Method: "POST"})
	if _, err := req("POST", "/api/v4/contacts.json", `{"data":{"type":"Company","name":"Dup"}}`); err == nil {
		t.Fatal("dropped connection gave no error")
	}
	if f.s.Count("contacts") != 1 {
		t.Fatal("AfterProcessing drop did not process the POST")
	}
	// Truncated body.
	f.s.InjectFault(Fault{Kind: FaultTruncate})
	if _, err := req("GET", "/api/v4/contacts.json?fields=id,name", ""); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("truncated body: %v", err)
	}
	// Slow answer.
	f.s.InjectFault(Fault{Kind: FaultDelay, Delay: 150 * time.Millisecond})
	start := time.Now()
	f.must(200, "GET", who, nil)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("no delay")
	}
	// 429 storm, one with Clio's odd base64 body.
	f.s.InjectFault(Fault{Kind: FaultRateLimit, Count: 2, RetryAfter: 3 * time.Second})
	f.s.InjectFault(Fault{Kind: FaultRateLimit, OddBody: true})
	for i := 0; i < 2; i++ {
		if a := f.must(429, "GET", who, nil); a.header.Get("Retry-After") != "3" || a.errType() != "RateLimited" {
			t.Fatalf("429 storm: %v %s", a.header, a.raw)
		}
	}
	a := f.must(429, "GET", who, nil)
	if dec, err := base64.StdEncoding.DecodeString(string(a.raw)); err != nil || !strings.Contains(string(dec), "RateLimited") {
		t.Fatalf("odd body %q", a.raw)
	}
	f.must(200, "GET", who, nil)
	// Storage faults.
	f.s.InjectFault(Fault{Kind: FaultStatus, Storage: true, Count: -1})
	res, err := http.Get(f.s.StorageURL + "/downloads/x")
	if err != nil || res.StatusCode != 503 {
		t.Fatalf("storage fault: %v %v", res, err)
	}
	res.Body.Close()
	if f.s.PendingFaults() != 1 {
		t.Fatalf("PendingFaults = %d", f.s.PendingFaults())
	}
	f.s.ClearFaults()
	c := f.s.Counters()
	if c.StatusFaults != 4 || c.DroppedConnections != 2 || c.TruncatedBodies != 1 || c.SlowAnswers != 1 || c.RateLimited != 3 || c.FaultsFired != 11 {
		t.Fatalf("counters %+v", c)
	}
	if n := f.s.RequestCount("GET", who); n < 9 {
		t.Fatalf("RequestCount = %d", n)
	}
}

func TestFaultsFromOptionAndTLS(t *testing.T) {
	s := NewTLSServer(WithDocument(miniDoc), WithT(t), WithFaults(Fault{Kind: FaultStatus, Count: 1}))
	r, _ := http.NewRequest("GET", s.URL+"/api/v4/users/who_am_i.json", nil)
	r.Header.Set("Authorization", "Bearer "+s.IssueToken().AccessToken)
	for _, want := range []int{503, 200} {
		res, err := s.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("status %d, want %d", res.StatusCode, want)
		}
	}
	if !strings.HasPrefix(s.StorageURL, "https://") {
		t.Fatalf("StorageURL %s", s.StorageURL)
	}
}
