package cliotest

import (
	"math/rand/v2"
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
	// FaultDrop closes the connection without an answer (a reset before the work). With
	// AfterProcessing the request is processed first, for any method (a POST creates its
	// record, a GET reads its page), as when a network fails on the way back.
	FaultDrop
	// FaultDelay waits Delay before processing the request (or until the client gives up).
	FaultDelay
	// FaultTruncate processes the request, announces the full Content-Length, sends half
	// of the body and closes the connection: the client sees an unexpected EOF.
	FaultTruncate
	// FaultRateLimit answers 429 with Retry-After (RetryAfter, default 1 s) without
	// processing the request, whatever the budget says. With OddBody the answer carries
	// the base64-encoded text body Clio has been seen to send instead of JSON.
	FaultRateLimit
	// FaultTruncatedJSON processes the request and sends a complete, well-formed HTTP
	// answer with the request's status whose Content-Length matches what is sent, but
	// whose JSON stops halfway: HTTP is fine, the JSON is not.
	FaultTruncatedJSON
	// FaultBody answers Status (default 200) with Body as it is, as JSON, without
	// processing the request: e.g. Body `{"data":null}`.
	FaultBody
	// FaultEmptyPage answers, without processing the request, a list page with no
	// records whose meta.paging.next points at the same path again with a new
	// page_token; with a negative Count it is an endless chain of empty pages.
	FaultEmptyPage
	// FaultRedirect answers Status (default 303 See Other) with Location (default the
	// same path and query on http://redirected.invalid), without processing the request.
	FaultRedirect
)

var faultNames = map[FaultKind]string{
	FaultStatus: "FaultStatus", FaultDrop: "FaultDrop", FaultDelay: "FaultDelay",
	FaultTruncate: "FaultTruncate", FaultRateLimit: "FaultRateLimit",
	FaultTruncatedJSON: "FaultTruncatedJSON", FaultBody: "FaultBody",
	FaultEmptyPage: "FaultEmptyPage", FaultRedirect: "FaultRedirect",
}

// String returns the kind's Go name, for test messages.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one fault to inject into the next matching requests.
//
// A fault fires on a matching request, Count times in all. Burst makes each firing hit
// that many consecutive matching requests (a 5xx burst, a 429 storm): {Kind:
// FaultRateLimit, Burst: 5} answers the next five matching requests with 429. With
// Probability a fault fires on a matching request only by chance, drawn from the
// server's seeded generator (WithFaultSeed), so a long run gets faults sprinkled through
// it, the same ones for the same seed and order of requests.
type Fault struct {
	Kind            FaultKind
	Method          string        // only requests with this method; "" for any
	Path            string        // only this URL path, or a path.Match pattern ("/api/v4/matters*"); "" for any
	Count           int           // how many times it fires (default 1); negative: until ClearFaults
	Probability     float64       // chance in (0, 1) that it fires on a matching request; 0 or 1 and above: always
	Burst           int           // each firing hits this many consecutive matching requests (default 1), whatever Probability says
	Status          int           // FaultStatus (default 503), FaultBody (default 200), FaultRedirect (default 303)
	Delay           time.Duration // FaultDelay: how long to wait
	RetryAfter      time.Duration // FaultRateLimit: the Retry-After to announce, rounded up to seconds (default 1 s; negative: 0)
	AfterProcessing bool          // FaultDrop: process the request before dropping the connection
	OddBody         bool          // FaultRateLimit: send a base64 text body containing "RateLimited"
	Body            []byte        // FaultBody: the body to send
	Location        string        // FaultRedirect: where to send the client
	Storage         bool          // hit the storage handler instead of the API handler
}

type armedFault struct {
	Fault
	left  int // hits left; negative: unlimited
	burst int // hits left in the current burst
}

// InjectFault arms a fault for the next matching requests; faults are tried in the order
// they were armed, and the first that fires wins.
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

// Chaos returns a mix of the faults a client's retries must survive on requests to
// paths matching pathPattern ("" for every path, OAuth included), each firing with
// probability rate until ClearFaults: 5xx bursts of 3, resets before and after the
// work, bodies cut short, truncated JSON and 429 storms of 3 (announcing Retry-After 0,
// so tests do not sleep). Arm them with WithFaults(Chaos(...)...) or InjectFault.
func Chaos(rate float64, pathPattern string) []Fault {
	mk := func(f Fault) Fault {
		f.Path, f.Probability, f.Count = pathPattern, rate, -1
		return f
	}
	return []Fault{
		mk(Fault{Kind: FaultStatus, Status: http.StatusBadGateway, Burst: 3}),
		mk(Fault{Kind: FaultDrop}),
		mk(Fault{Kind: FaultDrop, AfterProcessing: true}),
		mk(Fault{Kind: FaultTruncate}),
		mk(Fault{Kind: FaultTruncatedJSON}),
		mk(Fault{Kind: FaultRateLimit, RetryAfter: -1, Burst: 3}),
	}
}

// defaultFaultSeed makes runs without WithFaultSeed repeatable too.
const defaultFaultSeed = 1

func newFaultRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func (f *armedFault) matches(r *http.Request, storage bool) bool {
	if f.Storage != storage || (f.Method != "" && f.Method != r.Method) {
		return false
	}
	if f.Path != "" && f.Path != r.URL.Path {
		if ok, _ := path.Match(f.Path, r.URL.Path); !ok {
			return false
		}
	}
	return true
}

// takeFaultLocked returns the fault that fires on r, if any, and counts it.
func (s *Server) takeFaultLocked(r *http.Request, storage bool) *Fault {
	for i, f := range s.faults {
		if !f.matches(r, storage) {
			continue
		}
		if f.burst > 0 {
			f.burst--
		} else {
			if p := f.Probability; p > 0 && p < 1 && s.faultRand.Float64() >= p {
				continue
			}
			f.burst = max(f.Burst, 1) - 1
			if f.left > 0 {
				f.left--
			}
		}
		if f.left == 0 && f.burst == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		s.countFaultLocked(&f.Fault)
		out := f.Fault
		return &out
	}
	return nil
}

func (s *Server) countFaultLocked(f *Fault) {
	c := &s.counters
	c.FaultsFired++
	switch f.Kind {
	case FaultStatus:
		c.StatusFaults++
	case FaultDrop:
		c.DroppedConnections++
		if f.AfterProcessing {
			c.DroppedAfterWork++
		}
	case FaultDelay:
		c.SlowAnswers++
	case FaultTruncate:
		c.TruncatedBodies++
	case FaultRateLimit:
		c.RateLimited++
		c.RateLimitFaults++
	case FaultTruncatedJSON:
		c.TruncatedJSON++
	case FaultBody:
		c.CannedBodies++
	case FaultEmptyPage:
		c.EmptyPages++
	case FaultRedirect:
		c.Redirects++
	}
}
