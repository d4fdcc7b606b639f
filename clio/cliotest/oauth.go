package cliotest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type token struct {
	access   string
	refresh  string
	clientID string
	userID   int64
	expires  time.Time
	revoked  bool
}

type grant struct {
	refresh  string
	clientID string
	userID   int64
	access   string
	revoked  bool
}

type authCode struct {
	clientID    string
	redirectURI string
	expires     time.Time
}

// Token is an OAuth token pair issued by the server.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// IssueToken issues a token pair directly, without the authorization-code dance.
func (s *Server) IssueToken() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(s.cfg.clientID, "")
}

func (s *Server) issueLocked(clientID, refresh string) Token {
	var g *grant
	if refresh != "" {
		g = s.refresh[refresh]
	}
	newRefresh := false
	if g == nil || s.cfg.rotateRefresh {
		if g != nil {
			delete(s.refresh, refresh)
		}
		rt := "cliotest-rt-" + randomHex(16)
		g = &grant{refresh: rt, clientID: clientID, userID: s.userID}
		s.refresh[rt] = g
		newRefresh = true
	}
	access := "cliotest-at-" + randomHex(16)
	g.access = access
	s.tokens[access] = &token{access: access, refresh: g.refresh, clientID: clientID, userID: g.userID, expires: s.now().Add(s.cfg.tokenLifetime)}
	t := Token{AccessToken: access, TokenType: "bearer", ExpiresIn: int64(s.cfg.tokenLifetime / time.Second)}
	if newRefresh {
		t.RefreshToken = g.refresh
	}
	return t
}

// ExpireToken makes an access token expired at once (its refresh token still works).
func (s *Server) ExpireToken(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[access]; t != nil {
		t.expires = s.now().Add(-time.Second)
	}
}

// RevokeToken revokes an access token and its refresh token, as /oauth/deauthorize does.
func (s *Server) RevokeToken(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(access)
}

func (s *Server) revokeLocked(tok string) bool {
	if t := s.tokens[tok]; t != nil {
		t.revoked = true
		if g := s.refresh[t.refresh]; g != nil {
			g.revoked = true
		}
		return true
	}
	if g := s.refresh[tok]; g != nil {
		g.revoked = true
		if t := s.tokens[g.access]; t != nil {
			t.revoked = true
		}
		return true
	}
	return false
}

// DeclineNextAuthorizations makes the next n visits to /oauth/authorize simulate a user
// who declines: the redirect carries error=access_denied. A visit with the fake's own
// query parameter consent=deny declines too.
func (s *Server) DeclineNextAuthorizations(n int) {
	s.mu.Lock()
	s.declineNext = n
	s.mu.Unlock()
}

func (s *Server) authenticate(r *http.Request) (*token, *resp) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return nil, unauthorized("missing bearer token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[strings.TrimSpace(tok)]
	switch {
	case t == nil:
		return nil, unauthorized("invalid access token")
	case t.revoked:
		return nil, unauthorized("the access token was revoked")
	case !s.now().Before(t.expires):
		return nil, unauthorized("the access token expired")
	}
	return t, nil
}

func unauthorized(msg string) *resp {
	res := errResp(http.StatusUnauthorized, "Unauthorized", msg)
	res.header.Set("WWW-Authenticate", `Bearer realm="Clio", error="invalid_token"`)
	return res
}

type rateWindow struct {
	start time.Time
	used  int
}

// spend takes one request from the token's budget and returns the rate-limit headers,
// plus a 429 answer when the budget is spent (a 429 does not count).
func (s *Server) spend(key string) (http.Header, *resp) {
	h := http.Header{}
	if s.cfg.rateLimit <= 0 {
		return h, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	w := s.windows[key]
	if w == nil || !now.Before(w.start.Add(s.cfg.rateWindow)) {
		w = &rateWindow{start: now}
		s.windows[key] = w
	}
	reset := w.start.Add(s.cfg.rateWindow)
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.rateLimit))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
	if w.used >= s.cfg.rateLimit {
		h.Set("X-RateLimit-Remaining", "0")
		res := rateLimited(reset.Sub(now))
		return h, res
	}
	w.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.cfg.rateLimit-w.used))
	return h, nil
}

func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.Nanosecond() > 0 {
		u++
	}
	return u
}

func rateLimited(wait time.Duration) *resp {
	secs := int64((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	res := errResp(http.StatusTooManyRequests, "RateLimited", "Rate limit exceeded. Retry in "+strconv.FormatInt(secs, 10)+" seconds.")
	res.header.Set("Retry-After", strconv.FormatInt(secs, 10))
	return res
}

// authorize simulates the consent screen: it redirects at once to redirect_uri with a
// code and the state, or with error=access_denied when the user declines.
func (s *Server) authorize(r *http.Request) *resp {
	q := r.URL.Query()
	if q.Get("response_type") != "code" {
		return oauthErr(http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
	}
	if q.Get("client_id") != s.cfg.clientID {
		return oauthErr(http.StatusUnauthorized, "invalid_client", "unknown client_id")
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		return oauthErr(http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute URL")
	}
	s.mu.Lock()
	decline := q.Get("consent") == "deny"
	if s.declineNext > 0 {
		s.declineNext--
		decline = true
	}
	rq := redirect.Query()
	if decline {
		rq.Set("error", "access_denied")
		rq.Set("error_description", "The user denied access to your application")
	} else {
		code := "cliotest-code-" + randomHex(12)
		s.codes[code] = &authCode{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), expires: s.now().Add(10 * time.Minute)}
		rq.Set("code", code)
	}
	s.mu.Unlock()
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	res := emptyResp(http.StatusFound)
	res.header.Set("Location", redirect.String())
	return res
}

func oauthErr(status int, code, desc string) *resp {
	return jsonResp(status, map[string]string{"error": code, "error_description": desc})
}

// tokenEndpoint serves the authorization_code and refresh_token grants.
func (s *Server) tokenEndpoint(r *http.Request) *resp {
	if r.Method != http.MethodPost {
		return oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
	}
	if err := r.ParseForm(); err != nil {
		return oauthErr(http.StatusBadRequest, "invalid_request", err.Error())
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok && id == "" {
		id, secret = u, p
	}
	if id != s.cfg.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.clientSecret)) != 1 {
		return oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var t Token
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		ac := s.codes[code]
		delete(s.codes, code)
		if ac == nil || ac.clientID != id || !s.now().Before(ac.expires) {
			return oauthErr(http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, or was issued to another client.")
		}
		if ac.redirectURI != r.PostForm.Get("redirect_uri") {
			return oauthErr(http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
		}
		t = s.issueLocked(id, "")
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g := s.refresh[rt]
		if g == nil || g.revoked || g.clientID != id {
			return oauthErr(http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or was revoked.")
		}
		t = s.issueLocked(id, rt)
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
	b, _ := json.Marshal(t)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	return &resp{status: http.StatusOK, header: h, body: b}
}

// deauthorize revokes the token given in the form (token=...) or in the Authorization header.
func (s *Server) deauthorize(r *http.Request) *resp {
	if r.Method != http.MethodPost {
		return oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
	}
	_ = r.ParseForm()
	tok := r.PostForm.Get("token")
	if tok == "" {
		if scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
			tok = t
		}
	}
	s.mu.Lock()
	ok := tok != "" && s.revokeLocked(tok)
	s.mu.Unlock()
	if !ok {
		return oauthErr(http.StatusUnauthorized, "invalid_token", "unknown token")
	}
	return jsonResp(http.StatusOK, map[string]any{})
}
