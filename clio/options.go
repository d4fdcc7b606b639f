package clio

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Option configures a Client in NewClient. An option given an invalid value
// makes NewClient fail with an *InputError naming the option.
type Option func(*config) error

type config struct {
	region         Region
	regionSet      bool
	baseURL        string
	tokenSource    oauth2.TokenSource
	staticToken    bool
	token          string // the WithToken value, to share a rate limiter between Clients
	httpClient     *http.Client
	apiVersion     string
	userAgent      string
	logger         *slog.Logger
	codec          Codec
	retryer        Retryer
	attemptTO      time.Duration
	headerTO       time.Duration
	stallTO        time.Duration
	maxAnswer      int64
	privateStorage bool
	limiter        *RateLimiter
	noLimiter      bool
	middlewares    []func(http.RoundTripper) http.RoundTripper
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

// WithHTTPClient supplies the *http.Client whose Transport and Timeout the
// Client builds on; the given client is not modified. Its Timeout bounds a
// whole call, retries included. Its Jar and CheckRedirect are not used: Clio
// sets no cookies, and API calls never follow a redirect (downloads follow
// their 303 to storage themselves).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return &InputError{Field: "WithHTTPClient", Reason: "client is nil"}
		}
		c.httpClient = hc
		return nil
	}
}

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

// WithRetryer replaces the retry policy (default: a StandardRetryer with its defaults).
// It is the one place retries are tuned:
//
//	clio.WithRetryer(&clio.StandardRetryer{MaxAttempts: 3, MaxElapsed: 30 * time.Second})
func WithRetryer(r Retryer) Option {
	return func(c *config) error {
		if r == nil {
			return &InputError{Field: "WithRetryer", Reason: "retryer is nil"}
		}
		c.retryer = r
		return nil
	}
}

// Defaults of the limits a Client applies to every answer; see WithTimeouts and
// WithMaxAnswerSize.
const (
	// DefaultHeaderTimeout is the wait for an answer's headers, counted from the end of
	// the request: Clio answers within seconds, reports included.
	DefaultHeaderTimeout = 60 * time.Second
	// DefaultStallTimeout is the longest pause allowed while an answer's body arrives.
	DefaultStallTimeout = 30 * time.Second
	// DefaultMaxAnswerSize bounds an API answer: a page of 200 records with every field is
	// a few MB; 64 MiB leaves room for long text fields.
	DefaultMaxAnswerSize = 64 << 20
)

// WithTimeouts sets the header timeout (the wait for an answer's headers once the
// request is sent) and the stall timeout (the longest pause while a body arrives),
// DefaultHeaderTimeout and DefaultStallTimeout by default; 0 disables one. An attempt
// that runs into either is retried like a dropped connection (idempotent requests only).
// They bound a silent server, not a slow one: a download that keeps arriving is never cut.
// When the base transport is an *http.Transport without ResponseHeaderTimeout, the Client
// uses a clone of it with ResponseHeaderTimeout set (the clone has its own connection
// pool); otherwise the Client enforces the header timeout itself. The stall timeout (and
// the header timeout when the Client enforces it) runs on one coarse clock per Client
// rather than a timer per request, so an attempt ends between the timeout and one and a
// half times it.
func WithTimeouts(header, stall time.Duration) Option {
	return func(c *config) error {
		if header < 0 || stall < 0 {
			return &InputError{Field: "WithTimeouts", Reason: fmt.Sprintf("negative timeout (%s, %s)", header, stall)}
		}
		c.headerTO, c.stallTO = header, stall
		return nil
	}
}

// WithMaxAnswerSize bounds the size of an API answer the client reads and decodes
// (DefaultMaxAnswerSize). Reading stops at the limit with an *AnswerTooLargeError, so a
// broken or hostile server cannot exhaust memory. Downloads are streamed to the caller
// and not bounded.
func WithMaxAnswerSize(n int64) Option {
	return func(c *config) error {
		if n < 1<<10 {
			return &InputError{Field: "WithMaxAnswerSize", Reason: fmt.Sprintf("%d bytes is below 1 KiB", n)}
		}
		c.maxAnswer = n
		return nil
	}
}

// WithPrivateStorage lets storage requests (upload put_urls, download locations) go to
// loopback, link-local and private addresses, which are refused by default: a forged
// redirect must not reach a cloud metadata service or an internal host. Tests against
// local servers (cliotest) need it.
func WithPrivateStorage() Option {
	return func(c *config) error { c.privateStorage = true; return nil }
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
