package clio

import (
	"io"
	"net/http"
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
		APIVersion:  header(r.Header, hdrAPIVersion),
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

// requestID is the id of an answer in Clio's logs (or the load balancer's).
func requestID(h http.Header) string {
	if id := header(h, hdrRequestID); id != "" {
		return id
	}
	return header(h, hdrAmznTraceID)
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
