package clio

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"
)

// Response wraps the HTTP answer of a call with what Clio reports besides
// the data. The body has already been read and closed.
type Response struct {
	*http.Response

	// NextURL and PreviousURL are meta.paging.next / previous of a list
	// answer: full URLs to pass, unchanged, to PageURL.
	NextURL     string
	PreviousURL string
	// Records is meta.records, the total number of records of a list
	// answer; -1 when Clio did not say.
	Records int
	// APIVersion is the X-API-VERSION Clio echoed: the version that
	// actually served the call.
	APIVersion string
	// RequestID identifies the call in Clio's logs.
	RequestID string
	// NotModified is true when Clio answered 304 to IfNoneMatch (or
	// IfModifiedSince); the value returned is then the cached one the
	// caller supplied.
	NotModified bool
	// RateLimit is the budget Clio reported with this answer.
	RateLimit RateLimit
}

// newResponse wraps r with rl, the budget already read from its headers.
func newResponse(r *http.Response, rl RateLimit) *Response {
	return &Response{
		Response:    r,
		Records:     -1,
		APIVersion:  getHeader(r.Header, hdrAPIVersion),
		RequestID:   requestID(r.Header),
		NotModified: r.StatusCode == http.StatusNotModified,
		RateLimit:   rl,
	}
}

// page is the shape of every Clio list answer. Iterators decode into it,
// so no generated list type is needed.
type page[T any] struct {
	Data []T      `json:"data"`
	Meta pageMeta `json:"meta"`
}

type pageMeta struct {
	Paging struct {
		Previous string `json:"previous"`
		Next     string `json:"next"`
	} `json:"paging"`
	Records *int `json:"records"`
}

func (p *page[T]) fill(r *Response) {
	r.NextURL = p.Meta.Paging.Next
	r.PreviousURL = p.Meta.Paging.Previous
	if p.Meta.Records != nil {
		r.Records = *p.Meta.Records
	}
}

// envelope is the shape of a single-record answer.
type envelope[T any] struct {
	Data T `json:"data"`
}

// The headers that name an answer for Clio's support, by their canonical keys.
const (
	hdrRequestID   = "X-Request-Id"
	hdrAmznTraceID = "X-Amzn-Trace-Id"
)

// requestID is the id of an answer in Clio's logs (or the load balancer's).
func requestID(h http.Header) string {
	if id := getHeader(h, hdrRequestID); id != "" {
		return id
	}
	return getHeader(h, hdrAmznTraceID)
}

// drainClose reads a little of what is left of a body so the connection
// can be reused, then closes it.
func drainClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	body.Close()
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// maxErrorBody caps how much of an error answer is read, so a misbehaving
// proxy cannot make the client buffer an unbounded body.
const maxErrorBody = 1 << 20

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
