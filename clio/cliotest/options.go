package cliotest

import (
	"sync"
	"testing"
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	document         []byte
	t                testing.TB
	now              func() time.Time
	rateLimit        int
	rateWindow       time.Duration
	tokenLifetime    time.Duration
	clientID         string
	clientSecret     string
	insecureWebhooks bool
	webhookTimeout   time.Duration
	minPartSize      int64
	storageURL       string
	nextURLBase      string
	rotateRefresh    bool
	faults           []Fault
	faultSeed        uint64
	seed             []func(*Server)
	logf             func(format string, args ...any)
}

func defaultConfig() *config {
	return &config{
		now:            time.Now,
		rateLimit:      50,
		rateWindow:     time.Minute,
		tokenLifetime:  30 * 24 * time.Hour,
		clientID:       DefaultClientID,
		clientSecret:   DefaultClientSecret,
		webhookTimeout: 5 * time.Second,
		minPartSize:    5 << 20,
		faultSeed:      defaultFaultSeed,
	}
}

// DefaultClientID and DefaultClientSecret are the OAuth application credentials the
// server accepts unless WithOAuthClient says otherwise.
const (
	DefaultClientID     = "cliotest-client-id"
	DefaultClientSecret = "cliotest-client-secret"
)

// WithDocument makes the server follow another OpenAPI document than api/openapi.yaml.
func WithDocument(doc []byte) Option { return func(c *config) { c.document = doc } }

// WithT ties the server to a test: an answer of the server that breaks the document fails
// the test with t.Errorf, and the server is closed when the test ends.
func WithT(t testing.TB) Option { return func(c *config) { c.t = t } }

// WithClock replaces the wall clock, e.g. with (*ManualClock).Now, for token expiry,
// rate-limit windows, webhook expiry and record timestamps.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRateLimit sets the per-token budget: limit requests per window (default 50 a
// minute, Clio's peak-hour limit). A limit of 0 or less disables rate limiting.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(c *config) {
		c.rateLimit = limit
		if window > 0 {
			c.rateWindow = window
		}
	}
}

// WithTokenLifetime sets how long issued access tokens live (default 30 days).
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithOAuthClient sets the OAuth application's client id and secret.
func WithOAuthClient(id, secret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = id, secret }
}

// WithRotatingRefreshTokens makes the refresh grant return a new refresh token; by
// default it omits refresh_token, as Clio does when it does not change.
func WithRotatingRefreshTokens() Option { return func(c *config) { c.rotateRefresh = true } }

// WithInsecureWebhooks lets webhooks use http:// URLs on loopback hosts (127.0.0.1, ::1,
// localhost), for httptest receivers. Without it the fake follows Clio, which accepts
// only https; cmd/cliofake follows the same rule, with -insecure-webhooks for this option.
func WithInsecureWebhooks() Option { return func(c *config) { c.insecureWebhooks = true } }

// WithWebhookTimeout bounds each handshake and delivery request (default 5 s).
func WithWebhookTimeout(d time.Duration) Option { return func(c *config) { c.webhookTimeout = d } }

// WithMinPartSize sets the smallest size of a multipart upload part other than the last
// (default 5 MB, as on Clio's storage).
func WithMinPartSize(n int64) Option { return func(c *config) { c.minPartSize = n } }

// WithStorageURL sets the base URL at which StorageHandler is reachable. NewServer and
// NewTLSServer set it themselves; use it with New when serving the handlers yourself.
func WithStorageURL(u string) Option { return func(c *config) { c.storageURL = u } }

// WithNextURLBase makes paging links (meta.paging.next/previous) point at another
// scheme://host than the one the request used, to check that a client refuses to send its
// token to a host it did not choose.
func WithNextURLBase(base string) Option { return func(c *config) { c.nextURLBase = base } }

// WithFaults arms faults from the start, as Server.InjectFault would.
func WithFaults(f ...Fault) Option { return func(c *config) { c.faults = append(c.faults, f...) } }

// WithFaultSeed seeds the generator that decides whether a fault with a Probability
// fires, so a run with chaos is repeatable (the default seed is fixed too).
func WithFaultSeed(seed uint64) Option { return func(c *config) { c.faultSeed = seed } }

// WithSeed runs fn on the new server before it serves, e.g. to Insert records.
func WithSeed(fn func(*Server)) Option { return func(c *config) { c.seed = append(c.seed, fn) } }

// WithLogf sends the server's diagnostics (document violations without a test, webhook
// failures) to logf instead of the standard logger.
func WithLogf(logf func(format string, args ...any)) Option { return func(c *config) { c.logf = logf } }

// ManualClock is a clock that moves only when told; use it with WithClock.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
