package clio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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

// maxErrorBody caps how much of an error answer is read, so a misbehaving
// proxy cannot make the client buffer an unbounded body.
const maxErrorBody = 1 << 20

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

// CheckResponse returns nil for a 2xx or 304 answer and a *Error for any
// other status. It is exported for callers who use the generated client
// (package gen) directly with Client.HTTPClient and want the same errors.
// It reads at most 1 MiB of the body and puts it back on r.Body.
func CheckResponse(r *http.Response) error {
	return checkResponse(r, JSONCodec{})
}

func checkResponse(r *http.Response, codec Codec) error {
	if c := r.StatusCode; (c >= 200 && c <= 299) || c == http.StatusNotModified {
		return nil
	}
	e := &Error{
		StatusCode: r.StatusCode,
		RequestID:  requestID(r.Header),
		Response:   r,
	}
	if r.Request != nil {
		e.Method = r.Request.Method
		if r.Request.URL != nil {
			e.URL = sanitizeURL(r.Request.URL)
		}
	}
	switch r.StatusCode {
	case http.StatusTooManyRequests:
		e.RetryAfter, _ = retryAfter(r.Header, time.Now())
	case http.StatusServiceUnavailable:
		if r.Header.Get("Retry-After") != "" {
			e.RetryAfter, _ = retryAfter(r.Header, time.Now())
		}
	}
	if c := r.StatusCode; c >= 300 && c < 400 {
		// API calls never follow a redirect: a foreign body is not Clio data, and a POST
		// turned into a GET would report a success that did not happen.
		e.Message = "redirect not followed"
		if loc := r.Header.Get("Location"); loc != "" {
			e.Message += " (to " + sanitizeString(loc) + ")"
		}
		drainClose(r.Body)
		r.Body = http.NoBody
		return e
	}
	if r.Body == nil {
		return e
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		e.Message = "reading error body: " + err.Error()
		return e
	}
	var body struct {
		Error any `json:"error"`
	}
	if len(bytes.TrimSpace(data)) > 0 && codec.Unmarshal(data, &body) == nil {
		switch v := body.Error.(type) {
		case map[string]any:
			e.Type, _ = v["type"].(string)
			e.Message, _ = v["message"].(string)
		case string:
			e.Message = v
		}
	}
	if e.Type == "" && e.Message == "" && isRateLimitBody(data) {
		e.Type = "RateLimited"
		e.Message = "rate limited (atypical answer body)"
		return e
	}
	if e.Type == "" && e.Message == "" && len(data) > 0 {
		// Not Clio's JSON shape (a proxy's HTML page, say): keep a short,
		// single-line excerpt so the error is still informative.
		msg := strings.Join(strings.Fields(string(data)), " ")
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		e.Message = msg
	}
	e.Message = redactText(e.Message) // an answer may echo a signed URL or a secret
	return e
}
