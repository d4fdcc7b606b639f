package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clio-go/clio-go/api"
	"github.com/clio-go/clio-go/gen"
	"golang.org/x/oauth2"
)

// APIVersion is the X-API-VERSION sent by default: the version the API
// description in api/openapi.yaml was transcribed from (info.version, kept in
// api.Version), the newest the reference documents; Clio's default is 4.0.9. Pin
// another with WithAPIVersion or UseAPIVersion.
const APIVersion = api.Version

// Version is this library's version, sent in the User-Agent.
const Version = "0.1.0"

const defaultUserAgent = "clio-go/" + Version

// maxLimit is the largest page Clio serves.
const maxLimit = 200

// RequestEditor edits an outgoing request before it is sent. It has the
// same shape as gen.RequestEditorFn; convert a slice with EditorsAs.
type RequestEditor = func(ctx context.Context, req *http.Request) error

// RequestFunc sends one generated operation, applying editors, and returns
// the raw answer. The generic entry points (Do, DoNoContent, ListPage, All)
// take one, so they work with any operation of package gen without
// importing it:
//
//	func(ctx context.Context, ed ...clio.RequestEditor) (*http.Response, error) {
//		return api.ListMatters(ctx, params, clio.EditorsAs[gen.RequestEditorFn](ed)...)
//	}
type RequestFunc = func(ctx context.Context, editors ...RequestEditor) (*http.Response, error)

// EditorsAs converts editors to the generated client's named editor type
// (gen.RequestEditorFn), which has the same underlying type.
func EditorsAs[E ~func(context.Context, *http.Request) error](eds []RequestEditor) []E {
	out := make([]E, len(eds))
	for i, e := range eds {
		out[i] = e
	}
	return out
}

// Client is the entry point to the Clio API. It is safe for concurrent use
// and should be reused: it holds the connection pool, the token and the
// rate limiter shared by all goroutines.
//
// The transport stack is fixed, outermost first:
//
//	logging → retry → rate limiter → auth/host guard (401 refresh-once) → your middlewares → base transport
//
// Logging sees one logical request (with its attempt count). Retry sits
// above the limiter so every attempt, retries included, waits for and
// feeds the limiter, and a 429 seen by one goroutine pauses all of them.
// The auth layer is innermost so each attempt carries a current token, and
// so only requests to the configured API origin ever get it.
type Client struct {
	services // generated resource services (services_gen.go)

	api *gen.Client // the generated client on this Client's HTTP stack

	base    *url.URL
	origin  origin
	hc      *http.Client
	storage *http.Client
	codec   Codec
	retryer Retryer
	limiter *RateLimiter
	ts      oauth2.TokenSource
	sleep   func(ctx context.Context, d time.Duration) error
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
	cfg := config{region: US, apiVersion: APIVersion, userAgent: defaultUserAgent, codec: FastCodec{}}
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
	if cfg.retryer != nil && cfg.retryTuned {
		return nil, &InputError{Field: "WithRetryer", Reason: "cannot be combined with WithMaxAttempts, WithBackoff or WithMaxElapsed (they tune the standard retryer)"}
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
		cfg.retryer = &StandardRetryer{MaxAttempts: cfg.maxAttempts, BaseDelay: cfg.baseDelay, MaxDelay: cfg.maxDelay, MaxElapsed: cfg.maxElapsed}
	}
	if cfg.limiter == nil && !cfg.noLimiter {
		cfg.limiter = sharedLimiter(base.String(), cfg)
	}

	c := &Client{
		base:    base,
		origin:  originOf(base),
		codec:   cfg.codec,
		retryer: cfg.retryer,
		limiter: cfg.limiter,
		ts:      cfg.tokenSource,
		sleep:   sleepCtx,
	}

	user := cfg.httpClient
	if user == nil {
		user = &http.Client{}
	}
	baseRT := user.Transport
	if baseRT == nil {
		baseRT = http.DefaultTransport
	}
	for i := len(cfg.middlewares) - 1; i >= 0; i-- {
		baseRT = cfg.middlewares[i](baseRT)
	}

	var rt http.RoundTripper = &authTransport{
		next:        baseRT,
		origin:      c.origin,
		ts:          cfg.tokenSource,
		refreshable: !cfg.staticToken,
		apiVersion:  cfg.apiVersion,
		userAgent:   cfg.userAgent,
	}
	if cfg.limiter != nil {
		rt = &rateLimitTransport{next: rt, limiter: cfg.limiter, origin: c.origin}
	}
	rt = &retryTransport{next: rt, retryer: cfg.retryer, origin: c.origin, logger: cfg.logger, attemptTO: cfg.attemptTO, now: time.Now,
		sleep: func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }}
	if cfg.logger != nil {
		rt = &logTransport{next: rt, logger: cfg.logger, now: time.Now}
	}
	c.hc = &http.Client{Transport: rt, Jar: user.Jar, Timeout: user.Timeout, CheckRedirect: checkRedirect(c.origin, user.CheckRedirect)}

	var srt http.RoundTripper = stripAuthTransport{next: baseRT}
	srt = &retryTransport{next: srt, retryer: cfg.retryer, logger: cfg.logger, attemptTO: cfg.attemptTO, now: time.Now,
		sleep: func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }}
	if cfg.logger != nil {
		srt = &logTransport{next: srt, logger: cfg.logger, now: time.Now}
	}
	c.storage = &http.Client{Transport: srt}

	if err := c.initServices(); err != nil {
		return nil, err
	}
	return c, nil
}

// HTTPClient returns the configured API client: token (API host only),
// X-API-VERSION, retries, rate limiting and logging included. Use it with
// the generated client when no wrapper method fits:
//
//	api, _ := gen.NewClient(c.BaseURL(), gen.WithHTTPClient(c.HTTPClient()))
//
// and CheckResponse (or Do) to turn its answers into errors.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// StorageHTTPClient returns a client for storage hosts (document upload
// put_urls, download redirects). It never sends the bearer token, strips
// any Authorization header, and retries like the API client but without
// the API rate limiter. It has no overall timeout: size it with contexts.
func (c *Client) StorageHTTPClient() *http.Client { return c.storage }

// BaseURL returns the API origin, e.g. "https://app.clio.com" (the server
// URL the generated client expects: its paths start with /api/v4).
func (c *Client) BaseURL() string { return c.base.String() }

// RateLimiter returns the Client's limiter (nil if disabled), to share
// with another Client for the same token or to read the last budget.
func (c *Client) RateLimiter() *RateLimiter { return c.limiter }

// Do sends a generated operation that answers one record ({"data": {...}})
// and decodes it into T. It is what the generated Get/Create/Update
// methods call, and the escape hatch for any other operation:
//
//	m, resp, err := clio.Do[gen.Matter](ctx, c, func(ctx context.Context, ed ...clio.RequestEditor) (*http.Response, error) {
//		return api.GetMatter(ctx, id, params, clio.EditorsAs[gen.RequestEditorFn](ed)...)
//	}, clio.Fields("id", "display_number"))
//
// With IfNoneMatch, a 304 returns the cached value given there and
// resp.NotModified. Errors are *Error (HTTP), *InputError (bad options,
// before any request) or transport errors.
func Do[T any](ctx context.Context, c *Client, fn RequestFunc, opts ...CallOption) (T, *Response, error) {
	var zero T
	cc, err := c.callConfig(ctx, opts)
	if err == nil {
		err = cc.notAList()
	}
	if err == nil && cc.cached != nil {
		switch cc.cached.(type) {
		case T, *T:
		default:
			err = &InputError{Field: "IfNoneMatch", Reason: fmt.Sprintf("the cached value is a %T; this call returns a %T", cc.cached, zero)}
		}
	}
	if err != nil {
		return zero, nil, err
	}
	v, r, err := exec(ctx, c, cc, fn, func(body io.Reader, _ *Response) (T, error) {
		var env envelope[T]
		err := decodeAnswer(c.codec, body, &env)
		return env.Data, err
	})
	if err == nil && r.NotModified {
		v = cachedAs[T](cc.cached)
	}
	return v, r, err
}

// DoNoContent sends a generated operation whose answer has no useful body
// (DELETE answers 204). It is what the generated Delete methods call.
func DoNoContent(ctx context.Context, c *Client, fn RequestFunc, opts ...CallOption) (*Response, error) {
	cc, err := c.callConfig(ctx, opts)
	if err == nil {
		err = cc.notAList()
	}
	if err != nil {
		return nil, err
	}
	_, r, err := exec[struct{}](ctx, c, cc, fn, nil)
	return r, err
}

// ListPage sends a generated list operation and returns one page, with
// resp.NextURL / PreviousURL / Records filled in. Pass PageURL(resp.NextURL)
// to get the next page. It is what the generated List methods call.
func ListPage[T any](ctx context.Context, c *Client, fn RequestFunc, opts ...CallOption) ([]T, *Response, error) {
	cc, err := c.callConfig(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	p, r, err := fetchPage[T](ctx, c, cc, fn, nil)
	if err != nil || p == nil {
		return nil, r, err
	}
	return p.Data, r, nil
}

// checkContext refuses a nil context with an error rather than a panic deeper down.
func checkContext(ctx context.Context) error {
	if ctx == nil {
		return &InputError{Field: "ctx", Reason: "is nil; pass context.Background() or a request's context"}
	}
	return nil
}

// notAList refuses the paging options on a call that is not a list: they would rewrite its
// URL or add limit and offset to it.
func (cc *callConfig) notAList() error {
	switch {
	case cc.pageURL != nil:
		return &InputError{Field: "PageURL", Reason: "only list calls (List, All) have pages"}
	case cc.pageSize != 0:
		return &InputError{Field: "PageSize", Reason: "only list calls (List, All) have pages"}
	case cc.offsetMode:
		return &InputError{Field: "OffsetPagination", Reason: "only iterators (All) page by offset"}
	}
	return nil
}

func cachedAs[T any](v any) T {
	switch x := v.(type) {
	case T:
		return x
	case *T:
		if x != nil {
			return *x
		}
	}
	var zero T
	return zero
}

func (c *Client) callConfig(ctx context.Context, opts []CallOption) (*callConfig, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	cc := &callConfig{}
	for _, o := range opts {
		if o != nil {
			o.applyCall(cc)
		}
	}
	if cc.err != nil {
		return nil, cc.err
	}
	if cc.pageURL != nil && !c.origin.matches(cc.pageURL) {
		return nil, fmt.Errorf("%w: %s (client base %s)", ErrUntrustedURL, sanitizeURL(cc.pageURL), c.base)
	}
	return cc, nil
}

// editor applies the call's query-string options to a request built by the
// generated client. Header options are applied by the auth layer, from the
// context, so they also reach requests sent through HTTPClient.
func (c *Client) editor(cc *callConfig) RequestEditor {
	return func(_ context.Context, req *http.Request) error {
		if cc.pageURL == nil {
			// A next page's URL is Clio's own and carries what the first page sent.
			if err := checkRequired(req); err != nil {
				return err
			}
		}
		if cc.pageURL != nil {
			// Follow next/previous exactly as given: no re-encoding, no
			// re-sent parameters. The host was checked by callConfig.
			u := *cc.pageURL
			req.URL, req.Host = &u, ""
			return nil
		}
		raw := req.URL.RawQuery
		if !cc.fieldsSet && !cc.cursor && !cc.offsetMode && cc.pageSize == 0 &&
			!strings.Contains(raw, "fields=") && !strings.Contains(raw, "limit=") {
			return nil
		}
		if cc.fieldsSet && !cc.cursor && !cc.offsetMode && cc.pageSize == 0 &&
			!strings.Contains(raw, "fields=") && !strings.Contains(raw, "limit=") {
			// Common case (a Get with fields): append, no parse/re-encode.
			if raw != "" {
				raw += "&"
			}
			req.URL.RawQuery = raw + "fields=" + url.QueryEscape(cc.fields)
			return nil
		}
		q := req.URL.Query()
		if cc.fieldsSet {
			q.Set("fields", cc.fields)
		} else if f := q.Get("fields"); f != "" {
			if _, err := ParseFields(f); err != nil {
				return err
			}
		}
		callerLimit := 0
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 || n > maxLimit {
				return &InputError{Field: "limit", Reason: fmt.Sprintf("%q is outside 1..%d (Clio's maximum page size)", l, maxLimit)}
			}
			callerLimit = n
		}
		if cc.pageSize > 0 {
			q.Set("limit", strconv.Itoa(cc.pageSize))
		}
		if cc.cursor && !cc.followNext {
			if o := q.Get("order"); o != "" && o != "id(asc)" {
				return &InputError{Field: "order", Reason: fmt.Sprintf("cursor pagination requires order=id(asc), but the call sets %q; drop the order parameter, or iterate with OffsetPagination to keep it", o)}
			}
			if q.Has("offset") {
				return &InputError{Field: "offset", Reason: "cursor pagination cannot start at an offset; use OffsetPagination"}
			}
			q.Set("order", "id(asc)")
		}
		if cc.cursor && !q.Has("limit") {
			q.Set("limit", strconv.Itoa(maxLimit))
		}
		if cc.offsetMode {
			if q.Has("page_token") {
				return &InputError{Field: "page_token", Reason: "offset pagination does not combine with page_token"}
			}
			if cc.offset == 0 && cc.limit == 0 && q.Has("offset") {
				return &InputError{Field: "offset", Reason: "offset is managed by the iterator in OffsetPagination mode"}
			}
			limit := cc.limit
			if limit == 0 {
				limit = cmpOr(cc.pageSize, cmpOr(callerLimit, maxLimit))
			}
			if cc.limitSeen != nil {
				*cc.limitSeen = limit
			}
			q.Set("offset", strconv.Itoa(cc.offset))
			q.Set("limit", strconv.Itoa(limit))
		}
		req.URL.RawQuery = q.Encode()
		return nil
	}
}

// bodyReader remembers read errors of the underlying body, so a decode
// failure caused by a dropped connection (retryable) can be told apart
// from a malformed answer (not retryable), whatever the Codec.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// exec is the single path every generic entry point takes: send with the
// call's editors and context, map errors, decode from the stream, and
// repeat an idempotent call whose body was cut off mid-stream (the retry
// transport cannot see failures that happen after the headers arrived).
// decode nil means the body is discarded.
func exec[R any](ctx context.Context, c *Client, cc *callConfig, fn RequestFunc, decode func(io.Reader, *Response) (R, error)) (R, *Response, error) {
	var zero R
	ctx = context.WithValue(ctx, callKey{}, cc)
	edit := c.editor(cc)
	start := time.Now()
	for n := 1; ; n++ {
		resp, err := fn(ctx, edit)
		if err != nil {
			return zero, nil, sanitizeTransportErr(err)
		}
		r := newResponse(resp)
		if resp.StatusCode == http.StatusNotModified {
			drainClose(resp.Body)
			return zero, r, nil
		}
		if err := checkResponse(resp, c.codec); err != nil {
			return zero, r, err
		}
		if decode == nil || resp.StatusCode == http.StatusNoContent {
			drainClose(resp.Body)
			return zero, r, nil
		}
		br := &bodyReader{r: resp.Body}
		v, derr := decode(br, r)
		drainClose(resp.Body)
		if derr == nil {
			return v, r, nil
		}
		if br.err == nil {
			return zero, r, fmt.Errorf("clio: decoding answer of %s %s: %w", methodOf(resp), urlOf(resp), derr)
		}
		// The connection dropped mid-body.
		a := Attempt{Request: resp.Request, Err: br.err, Number: n, Elapsed: time.Since(start),
			Idempotent: resp.Request != nil && isIdempotent(resp.Request.Method) || cc.retryUnsafe}
		delay, again := c.retryer.RetryDelay(a)
		if dl, ok := ctx.Deadline(); again && ok && time.Now().Add(delay).After(dl) {
			again = false
		}
		if !again || ctx.Err() != nil {
			return zero, r, fmt.Errorf("clio: reading answer of %s %s: %w", methodOf(resp), urlOf(resp), br.err)
		}
		if err := c.sleep(ctx, delay); err != nil {
			return zero, r, err
		}
	}
}

func methodOf(r *http.Response) string {
	if r.Request == nil {
		return ""
	}
	return r.Request.Method
}

func urlOf(r *http.Response) string {
	if r.Request == nil {
		return ""
	}
	return sanitizeURL(r.Request.URL)
}

// sanitizeTransportErr strips secrets from the URL that *url.Error embeds.
func sanitizeTransportErr(err error) error {
	err = redactURLErrInner(err) // the cause may quote a signed URL too (see redact.go)
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		if s := sanitizeString(ue.URL); s != ue.URL {
			return &url.Error{Op: ue.Op, URL: s, Err: ue.Err}
		}
	}
	return err
}
