package clio

import (
	"fmt"
	"net/url"
)

// A call's options become one settings value, which travels with the request through the
// pipeline as an argument, never in the context.

// maxLimit is the largest page Clio serves.
const maxLimit = 200

// CallOption adjusts one call (or one iteration). Options are applied to a settings value
// that travels with the request through the pipeline as an argument.
type CallOption interface {
	applyCall(*settings)
}

type callOptionFunc func(*settings)

func (f callOptionFunc) applyCall(s *settings) { f(s) }

// settings is what a call's options asked for.
type settings struct {
	err             error
	fields          FieldSet
	fieldsSet       bool
	explicitFields  bool // set by a Fields option, not by a default
	ifNoneMatch     string
	ifMatch         string
	ifModifiedSince string
	apiVersion      string
	retryUnsafe     bool
	offsetMode      bool
	workers         int
	pageSize        int
	pageURL         *url.URL
	startOffset     int // OffsetPagination resumed by PageError.Resume
	// followNext: the operation takes no order=id(asc) (its reference lists none), so
	// the iterator follows Clio's next links without asking for cursor order.
	followNext bool
}

func (s *settings) setErr(err error) {
	if s.err == nil {
		s.err = err
	}
}

// RetryUnsafe lets this call's POST or PATCH be retried after a 5xx, a
// timeout or a dropped connection. Only use it when repeating is harmless
// (a retried POST /matters.json can create a duplicate matter). 429s are
// always retried: Clio did not process the request.
func RetryUnsafe() CallOption {
	return callOptionFunc(func(s *settings) { s.retryUnsafe = true })
}

// UseAPIVersion sets X-API-VERSION for this call (the Client's is WithAPIVersion).
func UseAPIVersion(v string) CallOption {
	return callOptionFunc(func(s *settings) {
		if !versionRE.MatchString(v) {
			s.setErr(&InputError{Field: "UseAPIVersion", Reason: fmt.Sprintf("%q is not a Clio API v4 version like %q", v, APIVersion)})
			return
		}
		s.apiVersion = v
	})
}

// PageSize sets the limit query parameter used by iterators and list calls
// (1..200; iterators default to 200, the maximum, to spend fewer requests).
// A call that also sets limit in the generated parameters fails with an *InputError.
func PageSize(n int) CallOption {
	return callOptionFunc(func(s *settings) {
		if n < 1 || n > maxLimit {
			s.setErr(&InputError{Field: "limit", Reason: fmt.Sprintf("page size %d is outside 1..%d", n, maxLimit)})
			return
		}
		s.pageSize = n
	})
}

// OffsetPagination switches All and Pages to offset mode: pages are fetched
// concurrently by at most workers goroutines (0 means 4) and yielded in
// order. Clio serves offset pages for the first 10,000 records only; past
// that the iterator fails with ErrOffsetLimit without asking. Cursor mode
// (the default) has no depth limit but is serial.
func OffsetPagination(workers int) CallOption {
	return callOptionFunc(func(s *settings) {
		if workers < 0 || workers > 32 {
			s.setErr(&InputError{Field: "OffsetPagination", Reason: fmt.Sprintf("%d workers is outside 0..32", workers)})
			return
		}
		s.offsetMode, s.workers = true, workers
	})
}

// withoutCursorOrder marks an iterator over an operation that takes no order=id(asc); the
// generated services add it.
func withoutCursorOrder(opts []CallOption) []CallOption {
	return append(opts[:len(opts):len(opts)], callOptionFunc(func(s *settings) { s.followNext = true }))
}

// PageURL makes a list call fetch this page URL (a Response.NextURL or
// PreviousURL) exactly as given instead of the operation's own URL. A URL
// whose scheme or host differs from the Client's base URL fails with
// ErrUntrustedURL before any request.
func PageURL(u string) CallOption {
	return callOptionFunc(func(s *settings) {
		p, err := url.Parse(u)
		if err != nil || !p.IsAbs() {
			s.setErr(&InputError{Field: "PageURL", Reason: "not an absolute URL: " + sanitizeString(u)})
			return
		}
		s.pageURL = p
	})
}

// applyCall makes a FieldSet a CallOption: the one way to set fields.
func (f FieldSet) applyCall(c *settings) {
	switch {
	case f.err != nil:
		c.setErr(f.err)
	case len(f.items) == 0:
		c.setErr(&InputError{Field: "fields", Reason: "empty field set"})
	default:
		c.fields, c.fieldsSet, c.explicitFields = f, true, true
	}
}
