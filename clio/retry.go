package clio

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
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
	Err      error          // transport error (connection reset, timeout, an answer cut short, …)
	// APIError is Clio's error answer when Response is a non-2xx from the API, with its
	// type and message read (UploadTimeoutError asks to try again).
	APIError *Error
	// Number is 1 for the first attempt. A 429 that was waited out does not count: a rate
	// limit honoured is not a failure.
	Number int
	// RateLimited counts the 429s of this request waited out so far.
	RateLimited int
	Elapsed     time.Duration // since the first attempt started
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
//   - 408, 500, 502, 503, 504, timeouts, dropped connections and answers cut
//     short are retried only for idempotent attempts. A connection that was
//     refused never reached Clio and is retried for every method.
//   - Clio's UploadTimeoutError (its check of an uploaded file timed out) is
//     retried for every method, as Clio asks.
//   - Back-off is exponential with full jitter; MaxAttempts and MaxElapsed
//     cap the total.
type StandardRetryer struct {
	MaxAttempts int // attempts including the first; default 5; waited-out 429s excluded
	// MaxRateLimitWaits caps the 429s one request waits out; default 10. With
	// MaxElapsed it bounds a storm.
	MaxRateLimitWaits int
	BaseDelay         time.Duration // default 500ms
	MaxDelay          time.Duration // default 30s
	MaxElapsed        time.Duration // default 2m
	now               func() time.Time
}

// RetryDelay implements Retryer.
func (r *StandardRetryer) RetryDelay(a Attempt) (time.Duration, bool) {
	maxAttempts := cmp.Or(r.MaxAttempts, 5)
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
		if a.RateLimited >= cmp.Or(r.MaxRateLimitWaits, 10) {
			return 0, false
		}
		now := time.Now
		if r.now != nil {
			now = r.now
		}
		if ra, ok := retryAfter(a.Response.Header, now()); ok {
			d = ra
		} else {
			d = r.backoff(a.Number)
		}
	case a.APIError != nil && a.APIError.Type == "UploadTimeoutError":
		d = r.backoff(a.Number)
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
	if d > cmp.Or(r.MaxElapsed, 2*time.Minute)-a.Elapsed { // not Elapsed+d: a huge d would overflow
		return 0, false
	}
	return d, true
}

// backoff is "full jitter": uniform in [0, min(MaxDelay, BaseDelay*2^(n-1))).
func (r *StandardRetryer) backoff(n int) time.Duration {
	base := cmp.Or(r.BaseDelay, 500*time.Millisecond)
	capD := cmp.Or(r.MaxDelay, 30*time.Second)
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

func isRetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isRetryableErr classifies transport errors. Context cancellation, TLS
// certificate problems and our own refusals are final. A refused dial
// never reached the server, so it is safe for any method; anything else
// (reset, EOF, timeout) may have been processed and needs idempotency.
func isRetryableErr(err error, idempotent bool) bool {
	ours := errors.Is(err, errAttemptTimeout) || errors.Is(err, errHeaderTimeout) || errors.Is(err, errStallTimeout)
	if !ours && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
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
	if ours || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
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

func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// errHeaderTimeout and errStallTimeout say which default timeout ended an attempt; both are
// retried like a dropped connection when the request is idempotent.
var (
	errHeaderTimeout  = errors.New("clio: no answer headers within the header timeout")
	errStallTimeout   = errors.New("clio: answer body stalled longer than the stall timeout")
	errAttemptTimeout = errors.New("clio: attempt timed out")
)
