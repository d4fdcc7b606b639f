package clio

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Attempt describes one finished attempt, for a Retryer to judge.
type Attempt struct {
	Request  *http.Request
	Response *http.Response // nil when Err is set
	Err      error          // transport error (connection reset, timeout, …)
	Number   int            // 1 for the first attempt
	Elapsed  time.Duration  // since the first attempt started
	// Idempotent reports whether repeating the request is safe after a
	// failure that may have reached the server: true for GET, HEAD, PUT,
	// DELETE and OPTIONS, and for any method under RetryUnsafe.
	Idempotent bool
}

// Retryer decides whether a request is repeated and after how long. It is
// modelled on aws-sdk-go-v2's retry.Retryer, reduced to one decision.
// Implementations must be safe for concurrent use.
type Retryer interface {
	// RetryDelay returns the wait before the next attempt and whether there
	// should be one. The transport still refuses to sleep past the
	// context deadline.
	RetryDelay(a Attempt) (time.Duration, bool)
}

// StandardRetryer is the default policy:
//   - 429 (or Clio's atypical rate-limit body) is always retried, even for
//     POST: Clio did not process it. The wait is Retry-After (seconds or an
//     HTTP date), else X-RateLimit-Reset, else back-off.
//   - 500, 502, 503, 504, timeouts and dropped connections are retried only
//     for idempotent attempts. A connection that was refused never reached
//     Clio and is retried for every method.
//   - Back-off is exponential with full jitter; MaxAttempts and MaxElapsed
//     cap the total.
type StandardRetryer struct {
	MaxAttempts int           // attempts including the first; default 5
	BaseDelay   time.Duration // default 500ms
	MaxDelay    time.Duration // default 30s
	MaxElapsed  time.Duration // default 2m
	now         func() time.Time
}

// RetryDelay implements Retryer.
func (r *StandardRetryer) RetryDelay(a Attempt) (time.Duration, bool) {
	maxAttempts := cmpOr(r.MaxAttempts, 5)
	if a.Number >= maxAttempts {
		return 0, false
	}
	var d time.Duration
	switch {
	case a.Err != nil:
		if !isRetryableErr(a.Err, a.Idempotent) {
			return 0, false
		}
		d = r.backoff(a.Number)
	case a.Response.StatusCode == http.StatusTooManyRequests:
		now := time.Now
		if r.now != nil {
			now = r.now
		}
		if ra, ok := retryAfter(a.Response.Header, now()); ok {
			d = ra
		} else {
			d = r.backoff(a.Number)
		}
	case isRetryableStatus(a.Response.StatusCode):
		if !a.Idempotent {
			return 0, false
		}
		d = r.backoff(a.Number)
		if ra, ok := retryAfter(a.Response.Header, time.Now()); ok && a.Response.StatusCode == http.StatusServiceUnavailable {
			d = max(d, ra)
		}
	default:
		return 0, false
	}
	if d > cmpOr(r.MaxElapsed, 2*time.Minute)-a.Elapsed { // not Elapsed+d: a huge d would overflow
		return 0, false
	}
	return d, true
}

// backoff is "full jitter": uniform in [0, min(MaxDelay, BaseDelay*2^(n-1))).
func (r *StandardRetryer) backoff(n int) time.Duration {
	base := cmpOr(r.BaseDelay, 500*time.Millisecond)
	capD := cmpOr(r.MaxDelay, 30*time.Second)
	d := base
	for i := 1; i < n && d < capD; i++ {
		d *= 2
	}
	d = min(d, capD)
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func isRetryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isRetryableErr classifies transport errors. Context cancellation, TLS
// certificate problems and our own refusals are final. A refused dial
// never reached the server, so it is safe for any method; anything else
// (reset, EOF, timeout) may have been processed and needs idempotency.
func isRetryableErr(err error, idempotent bool) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errAttemptTimeout) {
		return false
	}
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &he) || errors.Is(err, ErrUntrustedURL) || errors.Is(err, ErrInvalidInput) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	if !idempotent {
		return false
	}
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// Other network failures surfaced by net/http ("server closed
		// idle connection", HTTP/2 stream resets) are transient.
		return errors.As(uerr.Err, &op) || strings.Contains(uerr.Err.Error(), "connection")
	}
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

var errAttemptTimeout = errors.New("clio: attempt timed out")

func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// retryTransport repeats failed attempts per its Retryer. It sits inside
// the logging layer and outside the rate limiter, so every attempt waits
// for (and feeds) the limiter.
type retryTransport struct {
	next      http.RoundTripper
	retryer   Retryer
	origin    origin
	logger    *slog.Logger
	attemptTO time.Duration
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cc := callFrom(ctx)
	idempotent := isIdempotent(req.Method) || cc != nil && cc.retryUnsafe
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	info := attemptsFrom(ctx)
	start := t.now()
	for n := 1; ; n++ {
		if info != nil {
			info.n = n
		}
		r := req
		if n > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("clio: replaying request body: %w", err)
				}
				r.Body = body
			}
		}
		resp, err := t.attempt(r)
		if err == nil && t.origin.matches(req.URL) {
			normalizeRateLimit(resp)
		}
		if ctx.Err() != nil || !replayable {
			return resp, err
		}
		a := Attempt{Request: r, Response: resp, Err: err, Number: n, Elapsed: t.now().Sub(start), Idempotent: idempotent}
		delay, again := t.retryer.RetryDelay(a)
		if !again {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && t.now().Add(delay).After(dl) {
			return resp, err // sleeping would outlive the caller: report now
		}
		if t.logger != nil {
			reason := ""
			if err != nil {
				reason = sanitizeTransportErr(err).Error()
			} else {
				reason = resp.Status
			}
			t.logger.LogAttrs(ctx, slog.LevelInfo, "clio retry",
				slog.String("method", req.Method), slog.String("url", sanitizeURL(req.URL)),
				slog.Int("attempt", n), slog.Duration("wait", delay), slog.String("reason", reason))
		}
		if resp != nil {
			drainClose(resp.Body)
		}
		if err := t.sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// attempt runs one attempt, with its own timeout if configured. The
// timeout's context is released when the body is closed, not on return,
// or reading the body would fail.
func (t *retryTransport) attempt(r *http.Request) (*http.Response, error) {
	if t.attemptTO <= 0 {
		return t.next.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), t.attemptTO, errAttemptTimeout)
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		if errors.Is(context.Cause(ctx), errAttemptTimeout) && r.Context().Err() == nil {
			return nil, fmt.Errorf("%w after %s: %w", errAttemptTimeout, t.attemptTO, err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// normalizeRateLimit turns Clio's atypical rate-limit answer (a base64
// text containing "RateLimited", not a JSON 429) into a 429, so the retry
// policy, the limiter and CheckResponse all treat it as one. Only error
// statuses and small non-JSON answers are inspected; the body is put back.
func normalizeRateLimit(resp *http.Response) {
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusNotModified || resp.StatusCode == http.StatusNoContent || resp.Body == nil {
		return
	}
	limit := int64(8<<10 + 1)
	if resp.StatusCode < 400 {
		// A success is only suspicious when it is small and not JSON;
		// every regular Clio answer is application/json.
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if strings.Contains(ct, "json") || resp.ContentLength <= 0 || resp.ContentLength > 1024 ||
			resp.Request != nil && resp.Request.Method == http.MethodHead {
			return
		}
		limit = resp.ContentLength
	}
	head := make([]byte, limit)
	n, err := io.ReadFull(resp.Body, head)
	head = head[:n]
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), rest}
	if (err == nil || err == io.ErrUnexpectedEOF || err == io.EOF) && int64(n) < int64(8<<10+1) && isRateLimitBody(head) {
		resp.StatusCode = http.StatusTooManyRequests
		resp.Status = "429 Too Many Requests (atypical rate-limit body)"
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
