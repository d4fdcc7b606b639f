package clio

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for errors.Is. A *Error matches the sentinel of its HTTP
// status, so callers branch on meaning rather than on numbers:
//
//	if errors.Is(err, clio.ErrNotFound) { ... }
var (
	ErrBadRequest         = errors.New("clio: bad request")             // 400
	ErrUnauthorized       = errors.New("clio: unauthorized")            // 401: token expired or revoked
	ErrForbidden          = errors.New("clio: forbidden")               // 403: the user lacks a permission
	ErrNotFound           = errors.New("clio: not found")               // 404
	ErrConflict           = errors.New("clio: conflict")                // 409
	ErrGone               = errors.New("clio: gone")                    // 410: e.g. a retired X-API-VERSION
	ErrPreconditionFailed = errors.New("clio: precondition failed")     // 412: If-Match lost the race
	ErrValidation         = errors.New("clio: validation failed")       // 422
	ErrRateLimited        = errors.New("clio: rate limited")            // 429 or Clio's atypical rate-limit body
	ErrServer             = errors.New("clio: server error")            // 5xx
	ErrInvalidInput       = errors.New("clio: invalid input")           // matched by every *InputError
	ErrUntrustedURL       = errors.New("clio: URL not on the API host") // a next/page URL on another scheme or host
	ErrOffsetLimit        = errors.New("clio: offset pagination stops at 10,000 records; use cursor pagination (the default) instead")
	// ErrEmptyAnswer: a 2xx answer without the record ({"data": null}, or no data at all).
	ErrEmptyAnswer = errors.New("clio: the answer holds no record")
	// ErrAnswerTooLarge is matched by *AnswerTooLargeError.
	ErrAnswerTooLarge = errors.New("clio: answer too large")
)

// AnswerTooLargeError reports an answer larger than WithMaxAnswerSize allows; reading
// stopped at the limit, so memory stayed bounded.
type AnswerTooLargeError struct {
	Method, URL string
	Limit       int64
}

// Error names the request and the limit.
func (e *AnswerTooLargeError) Error() string {
	return fmt.Sprintf("clio: answer of %s %s is larger than %d bytes (WithMaxAnswerSize)", e.Method, e.URL, e.Limit)
}

// Is makes the error match ErrAnswerTooLarge.
func (e *AnswerTooLargeError) Is(target error) bool { return target == ErrAnswerTooLarge }

// Error is an answer from Clio outside the 2xx range. It carries what is
// needed to act on it: the status, Clio's error type and message, the
// request id to quote to Clio support, how long to wait when Clio asked for a wait, and
// how many attempts were made.
type Error struct {
	StatusCode int    // HTTP status, e.g. 404
	Type       string // Clio's error.type, e.g. "RecordInvalid"; "RateLimited" for the atypical body
	Message    string // Clio's error.message (or the start of a non-JSON body)
	RequestID  string // X-Request-Id of the answer, if any
	// RetryAfter is the wait Clio asked for: set only on a 429 (Retry-After or
	// X-RateLimit-Reset) and a 503 with Retry-After. Other errors will not succeed by
	// waiting, and say 0.
	RetryAfter time.Duration
	// Attempts is how many attempts the call made before giving up; 0 or 1 for one.
	Attempts int
	Method   string // request method
	URL      string // request URL with secrets redacted (see sanitizeURL)
	// Response is the raw answer; its Body holds (up to 1 MiB of) the
	// original error body, so it can be read again.
	Response *http.Response
}

// Error renders the error without any secret: the URL is sanitized and the
// body is reduced to Clio's message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("clio: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	if e.URL != "" {
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Type != "" {
		b.WriteString(" (")
		b.WriteString(e.Type)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// Is maps the status code (and Clio's rate-limit type) to the package
// sentinels, so errors.Is(err, ErrNotFound) works through any wrapping.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrGone:
		return e.StatusCode == http.StatusGone
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.Type == "RateLimited"
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// InputError reports bad input from the caller, caught before any request
// is sent. Field names the offending parameter or option (for example
// "fields", "limit" or "WithAPIVersion").
type InputError struct {
	Field  string
	Reason string
}

// Error names the field and says what is wrong with it.
func (e *InputError) Error() string {
	return "clio: invalid " + e.Field + ": " + e.Reason
}

// Is makes every InputError match ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
