package cliotest

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/clio-go/clio-go/api"
)

// Server is an in-memory Clio Manage API v4. It serves the API and the OAuth endpoints on
// one handler (URL) and the document storage on another (StorageURL), as Clio does with
// its storage host. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the API and OAuth endpoints, e.g. http://127.0.0.1:41234
	// (empty for a Server made with New).
	URL string
	// StorageURL is the base URL of the storage host that put_url and download
	// redirects point at.
	StorageURL string

	cfg        *config
	sp         *spec
	apiSrv     *httptest.Server
	storageSrv *httptest.Server
	hookClient *http.Client
	storageKey []byte
	closeOnce  sync.Once

	mu          sync.Mutex
	stores      map[string]*store
	singletons  map[string]map[string]any
	nextSubID   int64
	userID      int64
	tokens      map[string]*token
	refresh     map[string]*grant
	codes       map[string]*authCode
	declineNext int
	windows     map[string]*rateWindow
	faults      []*armedFault
	faultRand   *mrand.Rand // draws Fault.Probability; seeded by WithFaultSeed
	emptyPages  int         // FaultEmptyPage answers so far, numbering their page tokens
	counters    Counters
	perRoute    map[string]int
	versions    map[string]*docVersion
	blobs       map[string][]byte
	hooks       map[int64]*hookState
	deliveries  []Delivery
	violations  []string
}

type store struct {
	next int64
	recs map[int64]map[string]any
}

// Counters counts what the server saw; read them with Server.Counters.
type Counters struct {
	Requests            int // requests to the API handler (API and OAuth), faults included
	StorageRequests     int // requests to the storage handler
	StorageAuthRejected int // storage requests refused because they carried an Authorization header
	Unauthorized        int // 401 answers
	RateLimited         int // 429 answers, from the budget or from injected storms
	RejectedRequests    int // requests refused by document validation (400/422)
	ResponseViolations  int // answers of the fake that broke the document
	FaultsFired         int // injected faults that fired, all kinds
	StatusFaults        int // injected 5xx (or other status) answers
	DroppedConnections  int // connections closed by an injected fault, before or after the work
	DroppedAfterWork    int // of DroppedConnections, those closed after the request was processed
	SlowAnswers         int // answers delayed by an injected fault
	TruncatedBodies     int // answers cut short by an injected fault (FaultTruncate)
	TruncatedJSON       int // complete HTTP answers with cut JSON (FaultTruncatedJSON)
	RateLimitFaults     int // of RateLimited, the injected 429s (FaultRateLimit)
	CannedBodies        int // answers of FaultBody
	EmptyPages          int // empty pages of FaultEmptyPage
	Redirects           int // redirects of FaultRedirect
	WebhookHandshakes   int // handshake POSTs sent to webhook URLs
	WebhookDeliveries   int // event POSTs sent to webhook URLs
}

// New builds a Server without starting listeners: serve Handler and StorageHandler
// yourself and set the storage base URL with WithStorageURL.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(cfg)
	}
	doc := cfg.document
	if doc == nil {
		doc = api.OpenAPI
	}
	sp, err := loadSpec(doc)
	if err != nil {
		return nil, err
	}
	if len(sp.routes) == 0 {
		return nil, fmt.Errorf("cliotest: the OpenAPI document has no paths")
	}
	s := &Server{
		cfg:        cfg,
		sp:         sp,
		StorageURL: strings.TrimSuffix(cfg.storageURL, "/"),
		storageKey: []byte(randomHex(16)),
		hookClient: &http.Client{Timeout: cfg.webhookTimeout},
		stores:     map[string]*store{},
		singletons: map[string]map[string]any{},
		nextSubID:  1000000,
		tokens:     map[string]*token{},
		refresh:    map[string]*grant{},
		codes:      map[string]*authCode{},
		windows:    map[string]*rateWindow{},
		perRoute:   map[string]int{},
		versions:   map[string]*docVersion{},
		blobs:      map[string][]byte{},
		hooks:      map[int64]*hookState{},
		faultRand:  newFaultRand(cfg.faultSeed),
	}
	for _, f := range cfg.faults {
		s.InjectFault(f)
	}
	s.seedDefaults()
	for _, fn := range cfg.seed {
		fn(s)
	}
	return s, nil
}

// NewServer starts a Server on two loopback listeners (API and storage) and returns it.
// It panics when the document cannot be loaded, or fails the test given with WithT.
// With WithT, the server is closed when the test ends.
func NewServer(opts ...Option) *Server { return start(false, opts) }

// NewTLSServer is NewServer with TLS on both listeners; Client returns an *http.Client
// that trusts them.
func NewTLSServer(opts ...Option) *Server { return start(true, opts) }

func start(useTLS bool, opts []Option) *Server {
	storage := httptest.NewUnstartedServer(nil)
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	storageURL := scheme + "://" + storage.Listener.Addr().String()
	s, err := New(append(append([]Option{}, opts...), WithStorageURL(storageURL))...)
	if err != nil {
		storage.Close()
		cfg := defaultConfig()
		for _, o := range opts {
			o(cfg)
		}
		if cfg.t != nil {
			cfg.t.Helper()
			cfg.t.Fatal(err)
		}
		panic(err)
	}
	storage.Config.Handler = s.StorageHandler()
	s.storageSrv = storage
	s.apiSrv = httptest.NewUnstartedServer(s.Handler())
	if useTLS {
		storage.StartTLS()
		s.apiSrv.StartTLS()
		s.hookClient.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback test receivers
	} else {
		storage.Start()
		s.apiSrv.Start()
	}
	s.URL = s.apiSrv.URL
	if s.cfg.t != nil {
		s.cfg.t.Cleanup(s.Close)
	}
	return s
}

// Client returns an *http.Client for the server: for a TLS server it trusts the server's
// certificate (API and storage share it); otherwise it is a plain client.
func (s *Server) Client() *http.Client {
	if s.apiSrv != nil {
		return s.apiSrv.Client()
	}
	return &http.Client{}
}

// Close shuts down the listeners started by NewServer or NewTLSServer.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.apiSrv != nil {
			s.apiSrv.CloseClientConnections()
			s.apiSrv.Close()
		}
		if s.storageSrv != nil {
			s.storageSrv.CloseClientConnections()
			s.storageSrv.Close()
		}
	})
}

// Handler returns the http.Handler of the API (/api/v4/...) and OAuth (/oauth/...) endpoints.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Counters returns a snapshot of the server's counters.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// RequestCount returns how many requests reached the API handler with this method and
// URL path (e.g. "POST", "/api/v4/matters.json"), faults included.
func (s *Server) RequestCount(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perRoute[method+" "+path]
}

// Violations returns the messages of every answer that broke the document.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) now() time.Time { return s.cfg.now().UTC() }

func (s *Server) logf(format string, args ...any) {
	switch {
	case s.cfg.logf != nil:
		s.cfg.logf(format, args...)
	case s.cfg.t != nil:
		s.cfg.t.Logf(format, args...)
	default:
		log.Printf(format, args...)
	}
}

// Record returns a copy of a stored record, with the fake's internal fields removed.
func (s *Server) Record(collection string, id int64) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked(collection, id)
	if rec == nil {
		return nil, false
	}
	out := deepCopy(rec)
	for k := range out {
		if strings.HasPrefix(k, "_") {
			delete(out, k)
		}
	}
	return out, true
}

// Count returns the number of records in a collection.
func (s *Server) Count(collection string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stores[collection]; st != nil {
		return len(st.recs)
	}
	return 0
}

func (s *Server) storeLocked(name string) *store {
	st := s.stores[name]
	if st == nil {
		st = &store{recs: map[int64]map[string]any{}}
		s.stores[name] = st
	}
	return st
}

func (s *Server) getLocked(collection string, id int64) map[string]any {
	if st := s.stores[collection]; st != nil {
		return st.recs[id]
	}
	return nil
}

func (s *Server) insertLocked(collection string, rec map[string]any) int64 {
	st := s.storeLocked(collection)
	st.next++
	id := st.next
	if v, ok := asInt(rec["id"]); ok && v > 0 && st.recs[v] == nil {
		id = v
		if v > st.next {
			st.next = v
		}
	}
	now := s.now().Format(time.RFC3339)
	rec["id"] = id
	if _, ok := rec["created_at"]; !ok {
		rec["created_at"] = now
	}
	rec["updated_at"] = now
	s.assignSubIDs(rec)
	setETag(rec)
	st.recs[id] = rec
	return id
}

// assignSubIDs gives an id to every object in an array field that has none (email
// addresses of a contact, and so on).
func (s *Server) assignSubIDs(rec map[string]any) {
	for k, v := range rec {
		if strings.HasPrefix(k, "_") {
			continue
		}
		arr, ok := v.([]any)
		if !ok {
			continue
		}
		for _, it := range arr {
			if m, ok := it.(map[string]any); ok {
				if _, has := m["id"]; !has {
					s.nextSubID++
					m["id"] = s.nextSubID
					setETag(m)
				}
			}
		}
	}
}

// sortedIDs returns the ids of a collection in increasing order.
func (st *store) sortedIDs() []int64 {
	ids := make([]int64, 0, len(st.recs))
	for id := range st.recs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func setETag(rec map[string]any) {
	c := maps.Clone(rec)
	delete(c, "etag")
	b, _ := json.Marshal(c)
	rec["etag"] = fmt.Sprintf("%q", hex.EncodeToString(hashBytes(b))[:32])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
