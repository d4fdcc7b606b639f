package clio

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"sync"
	"time"
	"weak"

	"golang.org/x/oauth2"
)

// Client is the entry point to the Clio API. It is safe for concurrent use
// and should be reused: it holds the connection pool, the token and the
// rate limiter shared by all goroutines.
//
// Every request it makes, to the API or to a storage host, takes one path
// (pipeline.go): a service method builds the request with package gen's
// request builder, and one loop sends it, attempt after attempt: rate
// limiter → token and headers (API origin only) → your middlewares → base
// transport → 401 refresh once → decode or error → retry decision → back-off.
type Client struct {
	services  // generated resource services (services_gen.go)
	*pipeline // the attempt loop and what it needs (pipeline.go)

	base   *url.URL
	server string       // base as the request builders of package gen take it
	hc     *http.Client // HTTPClient: the pipeline as an *http.Client
	store  *http.Client // StorageHTTPClient
}

// NewClient builds a Client. A credential is required (WithToken or
// WithTokenSource); the region defaults to US. ctx is only checked, not
// retained: token refreshes use the context given to OAuth.TokenSource.
func NewClient(ctx context.Context, opts ...Option) (*Client, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := config{region: US, apiVersion: APIVersion, userAgent: defaultUserAgent, codec: FastCodec{},
		headerTO: DefaultHeaderTimeout, stallTO: DefaultStallTimeout, maxAnswer: DefaultMaxAnswerSize}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.regionSet && cfg.baseURL != "" {
		return nil, &InputError{Field: "WithBaseURL", Reason: "cannot be combined with WithRegion"}
	}
	if cfg.tokenSource == nil {
		return nil, &InputError{Field: "WithToken", Reason: "no credentials: use WithToken or WithTokenSource"}
	}
	if cfg.limiter != nil && cfg.noLimiter {
		return nil, &InputError{Field: "WithoutRateLimiter", Reason: "cannot be combined with WithRateLimiter"}
	}
	raw := cfg.baseURL
	if raw == "" {
		raw = cfg.region.BaseURL()
	}
	base, _ := url.Parse(raw)
	if cfg.retryer == nil {
		cfg.retryer = &StandardRetryer{}
	}
	if cfg.limiter == nil && !cfg.noLimiter {
		cfg.limiter = sharedLimiter(base.String(), cfg)
	}
	user := cfg.httpClient
	if user == nil {
		user = &http.Client{}
	}
	rt := user.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	// The header timeout costs nothing per request when the transport enforces it: a clone
	// of an *http.Transport gets it (the caller's transport is left as it is), and the
	// clock then needs no context of its own per attempt.
	headerTO := cfg.headerTO
	if t, ok := rt.(*http.Transport); ok && headerTO > 0 && t.ResponseHeaderTimeout == 0 {
		t = t.Clone()
		t.ResponseHeaderTimeout = headerTO
		rt, headerTO = t, 0
	}
	for i := len(cfg.middlewares) - 1; i >= 0; i-- {
		rt = cfg.middlewares[i](rt)
	}
	c := &Client{base: base, server: base.String(), pipeline: &pipeline{
		origin:      originOf(base),
		rt:          rt,
		codec:       cfg.codec,
		retryer:     cfg.retryer,
		limiter:     cfg.limiter,
		ts:          cfg.tokenSource,
		refreshable: !cfg.staticToken,
		apiVersion:  fixedValue(cfg.apiVersion),
		userAgent:   fixedValue(cfg.userAgent),
		logger:      cfg.logger,
		timeout:     user.Timeout,
		clock:       newClock(headerTO, cfg.stallTO, cfg.attemptTO),

		headerInTransport: headerTO != cfg.headerTO,
		maxAnswer:         cfg.maxAnswer,
		privateStorage:    cfg.privateStorage,
		now:               time.Now,
		sleep:             sleepCtx,
	}}
	c.hc = &http.Client{Transport: adapter{c: c, to: toAPI}, CheckRedirect: sameOrigin(c.origin)}
	c.store = &http.Client{Transport: adapter{c: c, to: toStorage}}
	c.initServices()
	return c, nil
}

// checkContext refuses a nil context with an error rather than a panic deeper down.
func checkContext(ctx context.Context) error {
	if ctx == nil {
		return &InputError{Field: "ctx", Reason: "is nil; pass context.Background() or a request's context"}
	}
	return nil
}

// limiters holds the RateLimiter of each credential in use, so that Clients built with the
// same token (WithToken with the same value, or WithTokenSource with the same source) against
// the same host share one: Clio's budget is per token, not per Client. Entries are weak: a
// limiter no Client uses any more is collected and its entry removed.
var limiters sync.Map // limiterKey → weak.Pointer[RateLimiter]

type limiterKey struct {
	base   string
	token  [sha256.Size]byte  // WithToken: a digest, so the map holds no secret
	source oauth2.TokenSource // WithTokenSource, when its value is comparable
}

// sharedLimiter returns the limiter of cfg's credential on base, creating it when needed.
// A token source whose value cannot be a map key gets a limiter of its own.
func sharedLimiter(base string, cfg config) *RateLimiter {
	key := limiterKey{base: base}
	switch {
	case cfg.staticToken:
		key.token = sha256.Sum256([]byte(cfg.token))
	case reflect.ValueOf(cfg.tokenSource).Comparable(): // the value: an interface field may hold a func
		key.source = cfg.tokenSource
	default:
		return NewRateLimiter()
	}
	for {
		old, found := limiters.Load(key)
		if found {
			if l := old.(weak.Pointer[RateLimiter]).Value(); l != nil {
				return l
			}
		}
		l := NewRateLimiter()
		wp := weak.Make(l)
		if found && !limiters.CompareAndSwap(key, old, wp) || !found && !storeNew(key, wp) {
			continue // another Client got there first
		}
		runtime.AddCleanup(l, func(k limiterKey) { limiters.CompareAndDelete(k, wp) }, key)
		return l
	}
}

func storeNew(key limiterKey, wp weak.Pointer[RateLimiter]) bool {
	_, loaded := limiters.LoadOrStore(key, wp)
	return !loaded
}

// sameOrigin is HTTPClient's redirect policy: a redirect within the API origin is
// followed, one to another host is not (its answer is returned as it is).
func sameOrigin(o origin) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !o.matches(req.URL) || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// HTTPClient returns an *http.Client whose requests take the Client's pipeline: token
// (API origin only), X-API-VERSION, retries, rate limiting and logging included, for the
// generated client when no wrapper method fits:
//
//	api, _ := gen.NewClient(c.BaseURL(), gen.WithHTTPClient(c.HTTPClient()))
//
// Requests to another host fail with ErrUntrustedURL. Use CheckResponse to turn its
// answers into errors (or build the request with gen.NewXxxRequest and send it with Do).
func (c *Client) HTTPClient() *http.Client { return c.hc }

// StorageHTTPClient returns an *http.Client for storage hosts (document upload put_urls,
// download locations): the pipeline's storage requests, which never carry the bearer
// token, retry like API requests without the API rate limiter, and refuse private
// addresses unless WithPrivateStorage allows them.
func (c *Client) StorageHTTPClient() *http.Client { return c.store }

// BaseURL returns the API origin, e.g. "https://app.clio.com" (the server
// URL the generated request builders expect: their paths start with /api/v4).
func (c *Client) BaseURL() string { return c.server }

// RateLimiter returns the Client's limiter (nil if disabled), to share
// with another Client for the same token or to read the last budget.
func (c *Client) RateLimiter() *RateLimiter { return c.limiter }

// adapter is the RoundTripper of HTTPClient and StorageHTTPClient: a request sent through
// them takes the pipeline too, with the Client's settings and no call options.
type adapter struct {
	c  *Client
	to destination
}

func (a adapter) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.to == toAPI && !a.c.origin.matches(req.URL) {
		return nil, fmt.Errorf("%w: %s (client base %s)", ErrUntrustedURL, sanitizeURL(req.URL), a.c.base)
	}
	_, resp, err := send[struct{}](req.Context(), a.c.pipeline, exchange{req: req, to: a.to, raw: true}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Response, nil
}
