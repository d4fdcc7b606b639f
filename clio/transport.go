package clio

import (
	"errors"
	"fmt"
	"io"
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

// authTransport is the host guard: requests to the API origin get the
// bearer token, X-API-VERSION, User-Agent and the per-call conditional
// headers; any other host gets none of these, and an Authorization header
// that somehow reached it is removed. It also owns the 401 rule: on a
// refreshable token, refresh once and repeat the request once.
type authTransport struct {
	next        http.RoundTripper
	origin      origin
	ts          oauth2.TokenSource
	refreshable bool
	apiVersion  string
	userAgent   string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.origin.matches(req.URL) {
		if req.Header.Get("Authorization") != "" {
			req = req.Clone(req.Context())
			req.Header.Del("Authorization")
		}
		return t.next.RoundTrip(req)
	}
	tok, err := t.ts.Token()
	if err != nil {
		return nil, fmt.Errorf("clio: obtaining access token: %w", err)
	}
	r := t.prepare(req, tok)
	resp, err := t.next.RoundTrip(r)
	hideToken(resp, req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !t.refreshable {
		return resp, err
	}
	// 401: the token expired or was revoked. Refresh once, repeat once.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot replay the body
	}
	if inv, ok := t.ts.(Invalidator); ok {
		inv.Invalidate(tok.AccessToken)
	}
	tok2, err := t.ts.Token()
	if err != nil {
		// Say why: a revoked grant or a wrong region is worth more than a bare 401.
		drainClose(resp.Body)
		return nil, fmt.Errorf("%w: Clio rejected the token and refreshing it failed: %w", ErrUnauthorized, err)
	}
	if tok2.AccessToken == tok.AccessToken {
		return resp, nil // nothing better to offer: report the 401
	}
	drainClose(resp.Body)
	r2 := t.prepare(req, tok2)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("clio: replaying request body: %w", err)
		}
		r2.Body = body
	}
	resp, err = t.next.RoundTrip(r2)
	hideToken(resp, req)
	return resp, err
}

// hideToken points an answer's Request at the request as it was before the
// token was added, so that resp.Request.Header (kept by Response and *Error,
// and dumped by debuggers and loggers) never holds the token.
func hideToken(resp *http.Response, req *http.Request) {
	if resp != nil {
		resp.Request = req
	}
}

func (t *authTransport) prepare(req *http.Request, tok *oauth2.Token) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	cc := callFrom(req.Context())
	switch {
	case cc != nil && cc.apiVersion != "":
		r.Header.Set("X-Api-Version", cc.apiVersion)
	case r.Header.Get("X-Api-Version") == "":
		r.Header.Set("X-Api-Version", t.apiVersion)
	}
	if ua := r.Header.Get("User-Agent"); ua == "" || strings.HasPrefix(ua, "Go-http-client/") || strings.HasPrefix(ua, "oapi-codegen/") {
		r.Header.Set("User-Agent", t.userAgent)
	}
	if cc != nil {
		if cc.ifNoneMatch != "" {
			r.Header.Set("If-None-Match", cc.ifNoneMatch)
		}
		if cc.ifMatch != "" {
			r.Header.Set("If-Match", cc.ifMatch)
		}
		if cc.ifModifiedSince != "" {
			r.Header.Set("If-Modified-Since", cc.ifModifiedSince)
		}
	}
	return r
}

// stripAuthTransport guards the storage client: whatever the caller put
// in the request, no Authorization header leaves through it.
type stripAuthTransport struct{ next http.RoundTripper }

func (t stripAuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
	}
	return t.next.RoundTrip(req)
}

// checkRedirect wraps the caller's redirect policy: a redirect that leaves
// the API origin loses its Authorization header (Clio's 303 download
// answers point at storage hosts). The auth layer would not add the token
// there anyway; this also covers a header the caller set by hand.
func checkRedirect(o origin, user func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !o.matches(req.URL) {
			req.Header.Del("Authorization")
		}
		if user != nil {
			return user(req, via)
		}
		if len(via) >= 10 {
			return errors.New("clio: stopped after 10 redirects")
		}
		return nil
	}
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
