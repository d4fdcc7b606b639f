package clio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// An answer that keeps arriving, however slowly, is never cut: the stall timeout bounds a
// silence, not a transfer.
func TestStallTimeoutSparesATrickle(t *testing.T) {
	t.Parallel()
	// Long enough that a loaded machine's scheduling delays stay well inside it.
	const stall = 200 * time.Millisecond
	body := []byte(`{"data":{"id":7,"name":"t"}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// 28 bytes, one every half stall: the whole answer takes fourteen stall timeouts.
		for i := range body {
			_, _ = w.Write(body[i : i+1])
			w.(http.Flusher).Flush()
			time.Sleep(stall / 2)
		}
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithTimeouts(stall, stall), testRetries(1))
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/7.json", nil))
	if err != nil || v.Name != "t" {
		t.Fatalf("trickled answer: %+v, %v", v, err)
	}
}

// The header timeout counts from the end of the request body: an upload slower than the
// header timeout, answered at once, is not a silent server.
func TestHeaderTimeoutStartsAfterTheBody(t *testing.T) {
	t.Parallel()
	const header = 200 * time.Millisecond // well above a loaded machine's scheduling delays
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		coreJSON(w, 201, map[string]any{"data": map[string]any{"id": 1, "name": "uploaded"}})
	}))
	defer srv.Close()
	for name, opts := range map[string][]Option{
		"transport": {WithTimeouts(header, time.Second)},
		"clock":     {WithTimeouts(header, time.Second), opaqueTransport(srv)},
	} {
		c, _ := newCoreClient(t, srv, append(opts, testRetries(1))...)
		req := coreReq(c, "POST", "/api/v4/matters.json", nil)
		// Six bytes, one every half header timeout: the upload takes three of them.
		req.HTTP.Body = io.NopCloser(&slowReader{r: bytes.NewReader(bytes.Repeat([]byte(" "), 6)), pause: header / 2})
		req.HTTP.ContentLength = 6
		if _, _, err := Do[coreRec](context.Background(), c, req); err != nil {
			t.Fatalf("%s: a slow upload answered at once: %v", name, err)
		}
	}
}

type slowReader struct {
	r     io.Reader
	pause time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause)
	return s.r.Read(p[:min(len(p), 1)])
}

// A timeout never ends an attempt early, and ends it within one and a half times its
// length (the clock looks every quarter of the shortest timeout), whether the base
// transport enforces the header timeout (an *http.Transport) or the clock does.
func TestTimeoutsFireOnTime(t *testing.T) {
	t.Parallel()
	const header = 200 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	for name, opts := range map[string][]Option{
		"transport": {WithTimeouts(header, 0)},
		"clock":     {WithTimeouts(header, 0), opaqueTransport(srv)},
		"attempt":   {WithTimeouts(0, 0), WithAttemptTimeout(header)},
	} {
		c, _ := newCoreClient(t, srv, append(opts, testRetries(1))...)
		start := time.Now()
		_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil))
		took := time.Since(start)
		if !errors.Is(err, errHeaderTimeout) && !errors.Is(err, errAttemptTimeout) {
			t.Fatalf("%s: silent server: %v", name, err)
		}
		// The upper bound has room for a loaded machine; the lower one has none.
		if took < header || took > 3*header {
			t.Fatalf("%s: the timeout of %s ended the attempt after %s: %v", name, header, took, err)
		}
	}
}

// opaqueTransport hides srv's *http.Transport behind a RoundTripper of another type.
func opaqueTransport(srv *httptest.Server) Option {
	return WithHTTPClient(&http.Client{Transport: roundTripFunc(srv.Client().Transport.RoundTrip)})
}

// The clock's timer lapses once no attempt is in flight: a Client at rest holds no timer
// and no goroutine of its own, and the next request arms it again.
func TestClockRestsWhenIdle(t *testing.T) {
	t.Parallel()
	var k *clock
	var armedInFlight atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed(k) {
			armedInFlight.Add(1)
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	// A transport that is no *http.Transport: the header timeout is the clock's, which
	// runs from the start of each attempt.
	c, _ := newCoreClient(t, srv, WithTimeouts(20*time.Millisecond, 20*time.Millisecond), opaqueTransport(srv))
	k = c.clock
	for i := range 3 {
		if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil)); err != nil {
			t.Fatal(err)
		}
		if armedInFlight.Load() != int32(i+1) {
			t.Fatalf("request %d: the clock was not armed while it was in flight", i+1)
		}
		deadline := time.Now().Add(5 * time.Second)
		for armed(k) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		k.mu.Lock()
		left, stillArmed := len(k.watches), k.armed
		k.mu.Unlock()
		if stillArmed || left != 0 {
			t.Fatalf("the clock still runs with %d attempts after the requests ended", left)
		}
	}
}

func armed(k *clock) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.armed
}

// All timeouts off: no clock at all, and the requests still go.
func TestNoClockWithoutTimeouts(t *testing.T) {
	t.Parallel()
	srv := coreSmallServer()
	defer srv.Close()
	c, _ := newCoreClient(t, srv, WithTimeouts(0, 0))
	if c.clock != nil {
		t.Fatal("a clock with every timeout off")
	}
	v, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/12345.json", nil))
	if err != nil || v.ID != 12345 {
		t.Fatalf("%+v %v", v, err)
	}
}

// uncomparableCtx is a context of a type == cannot compare: the pipeline must not panic on it.
type uncomparableCtx struct {
	context.Context
	tags []string
}

func TestAContextOfAnUncomparableTypeIsNoPanic(t *testing.T) {
	t.Parallel()
	srv := coreSmallServer()
	defer srv.Close()
	ctx := uncomparableCtx{Context: context.Background(), tags: []string{"job"}}
	for name, opts := range map[string][]Option{"stall clock": nil, "no clock": {WithTimeouts(0, 0)}} {
		c, _ := newCoreClient(t, srv, opts...)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v4/matters/12345.json", nil)
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
	}
}
