package clio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// coreForeign is a host that records any Authorization it receives.
func coreForeign(t *testing.T) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	var hits atomic.Int32
	var auth atomic.Value
	auth.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if a := r.Header.Get("Authorization"); a != "" {
			auth.Store(a)
			t.Errorf("foreign host got Authorization %q", a)
		}
		if r.Header.Get("X-API-VERSION") != "" {
			t.Errorf("foreign host got X-API-VERSION")
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 99}})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits, &auth
}

func TestTokenNeverFollowsRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	foreign, hits, _ := coreForeign(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+coreToken {
			t.Errorf("API host without token")
		}
		// Clio's document download answers 303 to a storage URL.
		http.Redirect(w, r, foreign.URL+"/bucket/doc.pdf?X-Amz-Signature=abc", http.StatusSeeOther)
	}))
	defer api.Close()
	c, _ := newCoreClient(t, api)
	// A manually set header must not survive the hop either.
	req, _ := http.NewRequest("GET", c.BaseURL()+"/api/v4/documents/1/download.json", nil)
	req.Header.Set("Authorization", "Bearer "+coreToken)
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The API client never follows a redirect to another host: the 303 comes back as it
	// is (downloads follow it through the storage client, without the token).
	if hits.Load() != 0 || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("redirect followed: %d %d", hits.Load(), resp.StatusCode)
	}
	// Through Do, the redirect is an error naming where it led, not foreign data.
	_, _, err = Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters/1.json", nil))
	if e, ok := errors.AsType[*Error](err); !ok || e.StatusCode != http.StatusSeeOther || !strings.Contains(e.Message, "not followed") {
		t.Fatalf("Do after a 303: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("Do followed the redirect")
	}
}

func TestTokenNotSentToForeignHostDirectly(t *testing.T) {
	t.Parallel()
	foreign, hits, _ := coreForeign(t)
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	c, _ := newCoreClient(t, api)
	// The API client refuses another host outright; the storage client sends without the token.
	req, _ := http.NewRequest("PUT", foreign.URL+"/put-url", strings.NewReader("bytes"))
	req.Header.Set("Authorization", "Bearer "+coreToken)
	if _, err := c.HTTPClient().Do(req); !errors.Is(err, ErrUntrustedURL) {
		t.Fatalf("API client to a foreign host: %v", err)
	}
	req, _ = http.NewRequest("PUT", foreign.URL+"/put-url", strings.NewReader("bytes"))
	req.Header.Set("Authorization", "Bearer "+coreToken)
	resp, err := c.StorageHTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("hits %d", hits.Load())
	}
	// Same host name, other scheme or port: also foreign.
	o := originOf(mustURL(t, "https://app.clio.com"))
	for _, u := range []string{"http://app.clio.com/x", "https://app.clio.com:8443/x", "https://app.clio.com.evil.test/x", "https://eu.app.clio.com/x"} {
		if o.matches(mustURL(t, u)) {
			t.Errorf("%s treated as the API origin", u)
		}
	}
	for _, u := range []string{"https://app.clio.com/api/v4/x.json", "https://APP.clio.com:443/x", "HTTPS://app.clio.com/x"} {
		if !o.matches(mustURL(t, u)) {
			t.Errorf("%s not treated as the API origin", u)
		}
	}
}

func mustURL(t *testing.T, s string) *urlT {
	u, err := parseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// coreOAuthServer is an API host with an OAuth token endpoint: "old"
// tokens get 401, refreshed ones 200.
type coreOAuthServer struct {
	srv       *httptest.Server
	refreshes atomic.Int32
	apiHits   atomic.Int32
	mu        sync.Mutex
	bodies    []string
	always401 atomic.Bool
}

func newCoreOAuthServer(t *testing.T) *coreOAuthServer {
	s := &coreOAuthServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth/token":
			if _, _, ok := r.BasicAuth(); ok {
				t.Error("client credentials sent with basic auth; Clio wants them in the form")
			}
			_ = r.ParseForm()
			if r.PostForm.Get("client_id") != "cid" || r.PostForm.Get("client_secret") != "csecret" {
				coreJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "unknown client"})
				return
			}
			switch r.PostForm.Get("grant_type") {
			case "refresh_token":
				if r.PostForm.Get("refresh_token") != "rt1" {
					t.Errorf("refresh with %q", r.PostForm.Get("refresh_token"))
				}
				n := s.refreshes.Add(1)
				// No refresh_token in the answer: it did not change.
				coreJSON(w, 200, map[string]any{"access_token": "new" + strconv.Itoa(int(n)), "token_type": "bearer", "expires_in": 2592000})
			case "authorization_code":
				if r.PostForm.Get("code") != "the-code" || r.PostForm.Get("redirect_uri") != "https://app.example/cb" {
					t.Errorf("exchange form %v", r.PostForm)
				}
				coreJSON(w, 200, map[string]any{"access_token": "old", "token_type": "bearer", "expires_in": 2592000, "refresh_token": "rt1"})
			}
		case "/oauth/deauthorize":
			_ = r.ParseForm()
			if r.PostForm.Get("token") != "old" {
				t.Errorf("deauthorize form %v", r.PostForm)
			}
			w.WriteHeader(200)
		default:
			s.apiHits.Add(1)
			b, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.bodies = append(s.bodies, string(b))
			s.mu.Unlock()
			if s.always401.Load() || r.Header.Get("Authorization") == "Bearer old" {
				coreClioError(w, 401, "Unauthorized", "expired")
				return
			}
			coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *coreOAuthServer) oauth(t *testing.T) *OAuth {
	o, err := NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "csecret", RedirectURL: "https://app.example/cb", BaseURL: s.srv.URL, HTTPClient: s.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func Test401RefreshesOnceAndRepeatsOnce(t *testing.T) {
	t.Parallel()
	s := newCoreOAuthServer(t)
	var saved []*oauth2.Token
	ts := s.oauth(t).TokenSource(context.Background(), &oauth2.Token{AccessToken: "old", RefreshToken: "rt1", TokenType: "bearer"},
		func(tok *oauth2.Token) error { saved = append(saved, tok); return nil })
	c, _ := newCoreClient(t, s.srv, WithTokenSource(ts))
	body := `{"data":{"name":"x"}}`
	if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "POST", "/api/v4/matters.json", []byte(body))); err != nil {
		t.Fatal(err)
	}
	if s.refreshes.Load() != 1 || s.apiHits.Load() != 2 {
		t.Fatalf("refreshes %d api hits %d", s.refreshes.Load(), s.apiHits.Load())
	}
	if s.bodies[1] != body {
		t.Errorf("repeated body %q", s.bodies[1])
	}
	if len(saved) != 1 || saved[0].AccessToken != "new1" || saved[0].RefreshToken != "rt1" {
		t.Fatalf("saved %+v", saved)
	}
	// Rejected again: one refresh, one repeat, then the 401 is the answer.
	s.always401.Store(true)
	s.apiHits.Store(0)
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json", nil))
	if !errors.Is(err, ErrUnauthorized) || s.apiHits.Load() != 2 || s.refreshes.Load() != 2 {
		t.Fatalf("err=%v api hits %d refreshes %d", err, s.apiHits.Load(), s.refreshes.Load())
	}
	// A static token is not refreshable: one request.
	s.apiHits.Store(0)
	cs, _ := newCoreClient(t, s.srv, WithToken("old"))
	if _, _, err := Do[coreRec](context.Background(), cs, coreReq(cs, "GET", "/api/v4/matters.json", nil)); !errors.Is(err, ErrUnauthorized) || s.apiHits.Load() != 1 {
		t.Fatalf("static: err=%v hits %d", err, s.apiHits.Load())
	}
}

func TestConcurrent401sShareOneRefresh(t *testing.T) {
	t.Parallel()
	s := newCoreOAuthServer(t)
	ts := s.oauth(t).TokenSource(context.Background(), &oauth2.Token{AccessToken: "old", RefreshToken: "rt1"}, nil)
	c, _ := newCoreClient(t, s.srv, WithTokenSource(ts))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/matters.json", nil)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s.refreshes.Load() != 1 {
		t.Fatalf("refreshes %d, want 1", s.refreshes.Load())
	}
}

type urlT = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

// The answer (and the *Error built from it) must not hold the bearer token
// in Response.Request.Header: errors are logged, dumped and wrapped.
func TestResponseRequestCarriesNoToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/missing.json" {
			coreClioError(w, http.StatusNotFound, "NotFound", "nope")
			return
		}
		coreJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	_, resp, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/missing.json", nil))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	for name, r := range map[string]*http.Response{"Error.Response": e.Response, "Response": resp.Response} {
		if r.Request == nil {
			t.Fatalf("%s.Request is nil", name)
		}
		if got := r.Request.Header.Get("Authorization"); strings.Contains(got, coreToken) {
			t.Errorf("%s.Request.Header carries the token: %q", name, got)
		}
	}
	_, resp, err = Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/ok.json", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Request.Header.Get("Authorization"); strings.Contains(got, coreToken) {
		t.Errorf("Response.Request.Header carries the token: %q", got)
	}
}
