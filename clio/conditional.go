package clio

import (
	"strings"
	"time"
)

// IfMatch makes a PATCH or DELETE conditional on the record still having
// etag. If someone changed it first, Clio answers 412 and the call fails
// with an error matching ErrPreconditionFailed: re-read, merge, retry.
func IfMatch(etag string) CallOption {
	return callOptionFunc(func(c *settings) {
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
	return callOptionFunc(func(c *settings) {
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
