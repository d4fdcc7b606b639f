package clio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
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
)

// maxErrorBody caps how much of an error answer is read, so a misbehaving
// proxy cannot make the client buffer an unbounded body.
const maxErrorBody = 1 << 20

// Error is an answer from Clio outside the 2xx range. It carries what is
// needed to act on it: the status, Clio's error type and message, the
// request id to quote to Clio support, and how long to wait for a 429.
type Error struct {
	StatusCode int           // HTTP status, e.g. 404
	Type       string        // Clio's error.type, e.g. "RecordInvalid"; "RateLimited" for the atypical body
	Message    string        // Clio's error.message (or the start of a non-JSON body)
	RequestID  string        // X-Request-Id of the answer, if any
	RetryAfter time.Duration // from Retry-After or X-RateLimit-Reset; 0 when absent
	Method     string        // request method
	URL        string        // request URL with secrets redacted (see sanitizeURL)
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
	if d, ok := retryAfter(r.Header, time.Now()); ok {
		e.RetryAfter = d
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

// isRateLimitBody recognises the atypical rate-limit answer Clio has been
// seen to send: a base64-encoded text containing "RateLimited" (or the
// plain text itself), instead of a JSON 429.
func isRateLimitBody(data []byte) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || len(data) > 8<<10 {
		return false
	}
	if bytes.Contains(data, []byte("RateLimited")) {
		return true
	}
	if data[0] == '{' || data[0] == '[' || data[0] == '<' {
		return false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		dec, err := enc.DecodeString(string(data))
		if err == nil && bytes.Contains(dec, []byte("RateLimited")) {
			return true
		}
	}
	return false
}

func requestID(h http.Header) string {
	if id := h.Get("X-Request-Id"); id != "" {
		return id
	}
	return h.Get("X-Amzn-Trace-Id")
}

// retryAfter reads how long the server asks us to wait: Retry-After in
// seconds or as an HTTP date, else X-RateLimit-Reset (Unix seconds).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
			if secs >= float64(math.MaxInt64/int64(time.Second)) { // also +Inf
				return time.Duration(math.MaxInt64), true // converting would wrap negative
			}
			return time.Duration(secs * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if unix, err := strconv.ParseInt(v, 10, 64); err == nil && unix > 0 {
			return max(time.Unix(unix, 0).Sub(now), 0), true
		}
	}
	return 0, false
}
