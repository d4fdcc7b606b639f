package clio

import (
	"strings"
	"time"
)

// IfNoneMatch makes a GET conditional on the record having changed since
// the caller fetched the version tagged etag (the record's etag field).
// When it has not, Clio answers 304 without a body and the call returns
// cached (a T or *T for Do[T]) with Response.NotModified set, not an
// error, so callers can keep one code path:
//
//	m, resp, err := c.Matters.Get(ctx, id, p, clio.IfNoneMatch(old.Etag, old))
//
// cached may be nil; the call then returns the zero value on 304.
func IfNoneMatch(etag string, cached any) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if err := checkETag("IfNoneMatch", etag); err != nil {
			c.setErr(err)
			return
		}
		c.ifNoneMatch, c.cached = etag, cached
	})
}

// IfMatch makes a PATCH or DELETE conditional on the record still having
// etag. If someone changed it first, Clio answers 412 and the call fails
// with an error matching ErrPreconditionFailed: re-read, merge, retry.
func IfMatch(etag string) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if err := checkETag("IfMatch", etag); err != nil {
			c.setErr(err)
			return
		}
		c.ifMatch = etag
	})
}

// IfModifiedSince makes a list GET conditional on changes since t; Clio
// answers 304 (Response.NotModified, no records) when nothing changed.
// With All, only the first page is conditional: once it has answered, every
// page is fetched.
func IfModifiedSince(t time.Time) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if t.IsZero() {
			c.setErr(&InputError{Field: "IfModifiedSince", Reason: "zero time"})
			return
		}
		// Clio documents an RFC 2822 date.
		c.ifModifiedSince = t.UTC().Format(time.RFC1123Z)
	})
}

func checkETag(option, etag string) error {
	if strings.TrimSpace(etag) == "" {
		return &InputError{Field: option, Reason: "empty etag"}
	}
	if strings.ContainsAny(etag, "\r\n") {
		return &InputError{Field: option, Reason: "etag contains a line break"}
	}
	return nil
}
