package cliotest

import (
	"encoding/base64"
	"net/http"
	"path"
	"strconv"
	"time"
)

// FaultKind says what an injected fault does.
type FaultKind int

const (
	// FaultStatus answers Status (default 503) in Clio's error shape without processing
	// the request.
	FaultStatus FaultKind = iota + 1
	// FaultDrop closes the connection without an answer. With AfterProcessing the
	// request is processed first (a POST creates its record), as when a network fails on
	// the way back.
	FaultDrop
	// FaultDelay waits Delay before processing the request (or until the client gives up).
	FaultDelay
	// FaultTruncate processes the request, announces the full Content-Length, sends half
	// of the body and closes the connection.
	FaultTruncate
	// FaultRateLimit answers 429 with Retry-After (RetryAfter, default 1 s) without
	// processing the request, whatever the budget says. With OddBody the answer carries
	// the base64-encoded text body Clio has been seen to send instead of JSON.
	FaultRateLimit
)

// Fault is one fault to inject into the next matching requests.
type Fault struct {
	Kind            FaultKind
	Method          string        // only requests with this method; "" for any
	Path            string        // only this URL path, or a path.Match pattern ("/api/v4/matters*"); "" for any
	Count           int           // how many matching requests it hits (default 1); negative: until ClearFaults
	Status          int           // FaultStatus: the status (default 503)
	Delay           time.Duration // FaultDelay: how long to wait
	RetryAfter      time.Duration // FaultRateLimit: the Retry-After to announce
	AfterProcessing bool          // FaultDrop: process the request before dropping the connection
	OddBody         bool          // FaultRateLimit: send a base64 text body containing "RateLimited"
	Storage         bool          // hit the storage handler instead of the API handler
}

type armedFault struct {
	Fault
	left int
}

// InjectFault arms a fault for the next matching requests; faults fire in the order they
// were armed.
func (s *Server) InjectFault(f Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &armedFault{Fault: f, left: f.Count})
	s.mu.Unlock()
}

// ClearFaults disarms every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// PendingFaults returns how many armed faults have not used up their Count.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

func (s *Server) takeFaultLocked(r *http.Request, storage bool) *Fault {
	for i, f := range s.faults {
		if f.Storage != storage || (f.Method != "" && f.Method != r.Method) {
			continue
		}
		if f.Path != "" && f.Path != r.URL.Path {
			if ok, _ := path.Match(f.Path, r.URL.Path); !ok {
				continue
			}
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.counters.FaultsFired++
		switch f.Kind {
		case FaultStatus:
			s.counters.StatusFaults++
		case FaultDrop:
			s.counters.DroppedConnections++
		case FaultDelay:
			s.counters.SlowAnswers++
		case FaultTruncate:
			s.counters.TruncatedBodies++
		case FaultRateLimit:
			s.counters.RateLimited++
		}
		out := f.Fault
		return &out
	}
	return nil
}

// applyFaultBefore acts on a fault before the request is processed; it reports whether
// the request is finished.
func (s *Server) applyFaultBefore(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	switch f.Kind {
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		writeRaw(w, errResp(st, "ServiceUnavailable", "injected fault: "+http.StatusText(st)))
		return true
	case FaultRateLimit:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		res := rateLimited(ra)
		if f.OddBody {
			res.header.Set("Content-Type", "text/plain")
			res.body = []byte(base64.StdEncoding.EncodeToString([]byte("RateLimited: too many requests, retry in " + strconv.Itoa(int(ra/time.Second)) + " seconds")))
		}
		writeRaw(w, res)
		return true
	case FaultDrop:
		if !f.AfterProcessing {
			dropConn(w)
			return true
		}
	case FaultDelay:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	return false
}

func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeRaw(w http.ResponseWriter, res *resp) {
	for k, v := range res.header {
		w.Header()[k] = v
	}
	if len(res.body) > 0 || res.status >= 200 && res.status != http.StatusNoContent && res.status != http.StatusNotModified {
		w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

// writeResp writes an answer, applying the faults that act after processing.
func (s *Server) writeResp(w http.ResponseWriter, r *http.Request, res *resp, f *Fault) {
	if f != nil {
		switch {
		case f.Kind == FaultDrop && f.AfterProcessing:
			dropConn(w)
			return
		case f.Kind == FaultTruncate:
			for k, v := range res.header {
				w.Header()[k] = v
			}
			full := len(res.body)
			if full == 0 {
				full = 64
			}
			w.Header().Set("Content-Length", strconv.Itoa(full))
			w.WriteHeader(res.status)
			_, _ = w.Write(res.body[:len(res.body)/2])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		}
	}
	if r.Method == http.MethodHead {
		res.body = nil
	}
	writeRaw(w, res)
}
