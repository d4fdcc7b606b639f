package clio

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// origin is a scheme and host with the default port made explicit, so
// "https://app.clio.com" and "https://APP.clio.com:443" compare equal.
type origin struct{ scheme, host string }

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return origin{scheme: scheme, host: net.JoinHostPort(host, port)}
}

func (o origin) matches(u *url.URL) bool {
	if u == nil {
		return false
	}
	// Fast path for the common exact form, avoiding allocations.
	if u.Scheme == o.scheme && u.Host != "" && (u.Host == o.host || u.Host+":443" == o.host && u.Scheme == "https" || u.Host+":80" == o.host && u.Scheme == "http") {
		return true
	}
	return originOf(u) == o
}

// Invalidator is implemented by token sources that can be told a token was
// rejected (Clio answered 401), so that the next Token call refreshes
// instead of handing out the cached token again. OAuth.TokenSource and
// NotifyingTokenSource implement it.
type Invalidator interface {
	Invalidate(rejectedAccessToken string)
}

// setHeaders gives a request to the API origin its bearer token, X-API-VERSION,
// User-Agent and the call's conditional headers. Only the pipeline calls it, and only
// for requests whose URL it checked against the origin.
// apiVersion and userAgent are the Client's fixed values (see fixedValue).
func setHeaders(h http.Header, s *settings, token string, apiVersion, userAgent []string) {
	setHeader(h, hdrAuthorization, "Bearer "+token)
	if s.apiVersion != "" {
		setHeader(h, hdrAPIVersion, s.apiVersion)
	} else if getHeader(h, hdrAPIVersion) == "" {
		h[hdrAPIVersion] = apiVersion
	}
	if ua := getHeader(h, hdrUserAgent); ua == "" || strings.HasPrefix(ua, "Go-http-client/") || strings.HasPrefix(ua, "oapi-codegen/") {
		h[hdrUserAgent] = userAgent
	}
	if s.ifNoneMatch != "" {
		setHeader(h, hdrIfNoneMatch, s.ifNoneMatch)
	}
	if s.ifMatch != "" {
		setHeader(h, hdrIfMatch, s.ifMatch)
	}
	if s.ifModifiedSince != "" {
		setHeader(h, hdrIfModifiedSince, s.ifModifiedSince)
	}
}

// refreshToken is the 401 rule: on a refreshable token, invalidate the rejected one and
// get another. It reports whether there is a different token to try (once per request).
func refreshToken(ts oauth2.TokenSource, rejected string) (bool, error) {
	if inv, ok := ts.(Invalidator); ok {
		inv.Invalidate(rejected)
	}
	tok, err := ts.Token()
	if err != nil {
		// Say why: a revoked grant or a wrong region is worth more than a bare 401.
		return false, err
	}
	if tok.AccessToken == rejected {
		return false, nil // nothing better to offer: report the 401
	}
	return true, nil
}
