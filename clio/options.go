package clio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Option configures a Client in NewClient. An option given an invalid value
// makes NewClient fail with an *InputError naming the option.
type Option func(*config) error

type config struct {
	region      Region
	regionSet   bool
	baseURL     string
	tokenSource oauth2.TokenSource
	staticToken bool
	token       string // the WithToken value, to share a rate limiter between Clients
	httpClient  *http.Client
	apiVersion  string
	userAgent   string
	logger      *slog.Logger
	codec       Codec
	retryer     Retryer
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	maxElapsed  time.Duration
	retryTuned  bool
	attemptTO   time.Duration
	limiter     *RateLimiter
	noLimiter   bool
	middlewares []func(http.RoundTripper) http.RoundTripper
}

// WithRegion selects the regional host (default US). A token works only in
// the region that issued it. Exclusive with WithBaseURL.
func WithRegion(r Region) Option {
	return func(c *config) error {
		if err := r.validate("WithRegion"); err != nil {
			return err
		}
		c.region, c.regionSet = r, true
		return nil
	}
}

// WithBaseURL sets the API host explicitly, as scheme://host[:port] with no
// path (the generated paths already start with /api/v4). Meant for tests
// and proxies; exclusive with WithRegion. The bearer token is only ever sent
// to this scheme and host.
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil {
			return &InputError{Field: "WithBaseURL", Reason: err.Error()}
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &InputError{Field: "WithBaseURL", Reason: fmt.Sprintf("%q must be an absolute http(s) URL", raw)}
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return &InputError{Field: "WithBaseURL", Reason: fmt.Sprintf("%q must be scheme://host only (no path, query or credentials; paths come from the API spec)", raw)}
		}
		c.baseURL = u.Scheme + "://" + u.Host
		return nil
	}
}

// WithTokenSource authenticates with an OAuth2 token source, typically
// OAuth.TokenSource, which refreshes expired tokens and can be forced to
// refresh once when Clio answers 401.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return &InputError{Field: "WithTokenSource", Reason: "token source is nil"}
		}
		c.tokenSource, c.staticToken = ts, false
		return nil
	}
}

// WithToken authenticates with a fixed access token. It is never refreshed;
// a 401 is returned as ErrUnauthorized.
func WithToken(accessToken string) Option {
	return func(c *config) error {
		if strings.TrimSpace(accessToken) == "" {
			return &InputError{Field: "WithToken", Reason: "token is empty"}
		}
		c.tokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"})
		c.staticToken, c.token = true, accessToken
		return nil
	}
}

// WithHTTPClient supplies the *http.Client whose Transport, Jar, Timeout and
// CheckRedirect the Client builds on. The given client is not modified.
// Its Timeout bounds a whole call, retries included.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return &InputError{Field: "WithHTTPClient", Reason: "client is nil"}
		}
		c.httpClient = hc
		return nil
	}
}

var versionRE = regexp.MustCompile(`^4\.0\.[0-9]+$`)

// WithAPIVersion pins the X-API-VERSION sent on every request (default
// APIVersion). UseAPIVersion overrides it for one call.
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		if !versionRE.MatchString(v) {
			return &InputError{Field: "WithAPIVersion", Reason: fmt.Sprintf("%q is not a Clio API v4 version like %q", v, APIVersion)}
		}
		c.apiVersion = v
		return nil
	}
}

// WithUserAgent prefixes the User-Agent header, so Clio can tell apps
// apart in its logs.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.ContainsAny(ua, "\r\n") || strings.TrimSpace(ua) == "" {
			return &InputError{Field: "WithUserAgent", Reason: "must be a non-empty single line"}
		}
		c.userAgent = ua + " " + defaultUserAgent
		return nil
	}
}

// WithLogger logs every request (method, sanitized URL, status, duration,
// attempts) and every retry through l. Secrets are redacted. Without it the
// client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return &InputError{Field: "WithLogger", Reason: "logger is nil"}
		}
		c.logger = l
		return nil
	}
}

// WithCodec replaces the JSON codec used to decode every answer (default FastCodec,
// which differential tests hold to encoding/json's results; JSONCodec is encoding/json).
func WithCodec(codec Codec) Option {
	return func(c *config) error {
		if codec == nil {
			return &InputError{Field: "WithCodec", Reason: "codec is nil"}
		}
		c.codec = codec
		return nil
	}
}

// WithRetryer replaces the retry policy (default: a StandardRetryer).
// Exclusive with WithMaxAttempts, WithBackoff and WithMaxElapsed, which tune
// the standard one.
func WithRetryer(r Retryer) Option {
	return func(c *config) error {
		if r == nil {
			return &InputError{Field: "WithRetryer", Reason: "retryer is nil"}
		}
		c.retryer = r
		return nil
	}
}

// WithMaxAttempts caps attempts per request, the first included (default 5).
// 1 disables retries.
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 100 {
			return &InputError{Field: "WithMaxAttempts", Reason: fmt.Sprintf("%d is outside 1..100", n)}
		}
		c.maxAttempts, c.retryTuned = n, true
		return nil
	}
}

// WithBackoff sets the exponential back-off base and cap (defaults 500ms and
// 30s). Delays are drawn with full jitter in [0, min(max, base*2^n)).
// 429 waits come from Retry-After / X-RateLimit-Reset instead.
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(c *config) error {
		if base <= 0 || maxDelay < base {
			return &InputError{Field: "WithBackoff", Reason: fmt.Sprintf("need 0 < base (%s) <= max (%s)", base, maxDelay)}
		}
		c.baseDelay, c.maxDelay, c.retryTuned = base, maxDelay, true
		return nil
	}
}

// WithMaxElapsed caps the total time spent on one request across retries
// (default 2 minutes, enough to sit out one 60 s rate-limit window).
func WithMaxElapsed(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return &InputError{Field: "WithMaxElapsed", Reason: fmt.Sprintf("%s must be positive", d)}
		}
		c.maxElapsed, c.retryTuned = d, true
		return nil
	}
}

// WithAttemptTimeout bounds each attempt separately (default: none). An
// attempt that times out is retried like a connection failure (idempotent
// requests only), unlike the caller's context deadline, which ends the call.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return &InputError{Field: "WithAttemptTimeout", Reason: fmt.Sprintf("%s must be positive", d)}
		}
		c.attemptTO = d
		return nil
	}
}

// WithRateLimiter sets the Client's RateLimiter. By default Clients that use
// the same credential on the same host (the same WithToken value or the same
// WithTokenSource source) share one, since Clio's limit is per token; use this
// to share one between sources that yield the same token, or to isolate one.
// (The shared limiter is held weakly, but its key holds the token source: a
// source that itself refers back to its Client keeps that limiter alive as
// long as the program runs; give such a source its own limiter here.)
func WithRateLimiter(l *RateLimiter) Option {
	return func(c *config) error {
		if l == nil {
			return &InputError{Field: "WithRateLimiter", Reason: "limiter is nil (use WithoutRateLimiter to disable)"}
		}
		c.limiter = l
		return nil
	}
}

// WithoutRateLimiter disables proactive pacing; 429s are still retried.
func WithoutRateLimiter() Option {
	return func(c *config) error { c.noLimiter = true; return nil }
}

// WithTransportMiddleware adds a layer just above the base transport, below
// the retry, rate-limit and auth layers: it sees every attempt as sent on
// the wire, Authorization header included. Middlewares run in the order
// given, the first outermost.
func WithTransportMiddleware(mw func(http.RoundTripper) http.RoundTripper) Option {
	return func(c *config) error {
		if mw == nil {
			return &InputError{Field: "WithTransportMiddleware", Reason: "middleware is nil"}
		}
		c.middlewares = append(c.middlewares, mw)
		return nil
	}
}

// CallOption adjusts one call (or one iteration). It travels in the request
// context, so the transport layers see it too.
type CallOption interface {
	applyCall(*callConfig)
}

type callOptionFunc func(*callConfig)

func (f callOptionFunc) applyCall(c *callConfig) { f(c) }

// callConfig is the per-call state: what the editors add to the URL and
// what the transports add to the headers or decide on retries.
type callConfig struct {
	err             error
	fields          string
	fieldsSet       bool
	ifNoneMatch     string
	cached          any
	ifMatch         string
	ifModifiedSince string
	apiVersion      string
	retryUnsafe     bool
	offsetMode      bool
	workers         int
	pageSize        int
	pageURL         *url.URL

	// followNext: the operation takes no order=id(asc) (its reference lists none), so
	// the iterator follows Clio's next links without asking for cursor order.
	followNext bool

	// set by the iterators, per page
	cursor    bool
	offset    int
	limit     int
	limitSeen *int // where the first offset page reports the caller's limit
}

type callKey struct{}

func callFrom(ctx context.Context) *callConfig {
	c, _ := ctx.Value(callKey{}).(*callConfig)
	return c
}

func (c *callConfig) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// RetryUnsafe lets this call's POST or PATCH be retried after a 5xx, a
// timeout or a dropped connection. Only use it when repeating is harmless
// (a retried POST /matters.json can create a duplicate matter). 429s are
// always retried: Clio did not process the request.
func RetryUnsafe() CallOption {
	return callOptionFunc(func(c *callConfig) { c.retryUnsafe = true })
}

// UseAPIVersion overrides X-API-VERSION for this call.
func UseAPIVersion(v string) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if !versionRE.MatchString(v) {
			c.setErr(&InputError{Field: "UseAPIVersion", Reason: fmt.Sprintf("%q is not a Clio API v4 version like %q", v, APIVersion)})
			return
		}
		c.apiVersion = v
	})
}

// PageSize sets the limit query parameter used by iterators and list calls
// (1..200; iterators default to 200, the maximum, to spend fewer requests).
func PageSize(n int) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if n < 1 || n > maxLimit {
			c.setErr(&InputError{Field: "limit", Reason: fmt.Sprintf("page size %d is outside 1..%d", n, maxLimit)})
			return
		}
		c.pageSize = n
	})
}

// OffsetPagination switches All to offset mode: pages are fetched
// concurrently by at most workers goroutines (0 means 4) and yielded in
// order. Clio serves offset pages for the first 10,000 records only; past
// that the iterator fails with ErrOffsetLimit without asking. Cursor mode
// (the default) has no depth limit but is serial.
func OffsetPagination(workers int) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if workers < 0 || workers > 32 {
			c.setErr(&InputError{Field: "OffsetPagination", Reason: fmt.Sprintf("%d workers is outside 0..32", workers)})
			return
		}
		c.offsetMode, c.workers = true, workers
	})
}

// withoutCursorOrder marks an iterator over an operation that takes no order=id(asc); the
// generated services add it.
func withoutCursorOrder(opts []CallOption) []CallOption {
	return append(opts[:len(opts):len(opts)], callOptionFunc(func(c *callConfig) { c.followNext = true }))
}

// PageURL makes a list call fetch this page URL (a Response.NextURL or
// PreviousURL) exactly as given instead of the operation's own URL. A URL
// whose scheme or host differs from the Client's base URL fails with
// ErrUntrustedURL before any request.
func PageURL(u string) CallOption {
	return callOptionFunc(func(c *callConfig) {
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() {
			c.setErr(&InputError{Field: "PageURL", Reason: "not an absolute URL: " + sanitizeString(u)})
			return
		}
		c.pageURL = p
	})
}
