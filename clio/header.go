package clio

import "net/http"

// The headers the pipeline reads and writes on every request, by their canonical keys
// (textproto.CanonicalMIMEHeaderKey's form). The map is used directly: http.Header's Get
// and Set validate and canonicalise the key on every call, which was a tenth of the
// pipeline's own cost per request.
const (
	hdrAuthorization   = "Authorization"
	hdrAPIVersion      = "X-Api-Version"
	hdrUserAgent       = "User-Agent"
	hdrIfNoneMatch     = "If-None-Match"
	hdrIfMatch         = "If-Match"
	hdrIfModifiedSince = "If-Modified-Since"
	hdrContentType     = "Content-Type"
	hdrRateLimitLimit  = "X-Ratelimit-Limit"
	hdrRateLimitLeft   = "X-Ratelimit-Remaining"
	hdrRateLimitReset  = "X-Ratelimit-Reset"
)

// getHeader returns the first value of a canonical key, as h.Get would.
func getHeader(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// setHeader sets a canonical key, as h.Set would.
func setHeader(h http.Header, canonicalKey, v string) {
	h[canonicalKey] = []string{v}
}

// fixedValue is a header value the Client sends with every request, built once. Requests
// share it; its capacity is 1, so a middleware's Add copies it instead of writing into it.
func fixedValue(v string) []string { return []string{v}[:1:1] }
