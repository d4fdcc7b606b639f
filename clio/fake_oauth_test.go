package clio_test

// OAuth against the fake Clio: the authorization-code flow from
// AuthCodeURL to a working Client, refresh-once-on-401 with and without
// rotated refresh tokens, revocation, a declined consent, and
// invalid_client for a wrong secret.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
	"golang.org/x/oauth2"
)

const (
	redirectURL = "https://app.example/oauth/callback"
	whoAmIPath  = "/api/v4/users/who_am_i.json"
)

func newFakeOAuth(t *testing.T, srv *cliotest.Server, secret string) *clio.OAuth {
	t.Helper()
	o, err := clio.NewOAuth(clio.OAuthConfig{
		ClientID: cliotest.DefaultClientID, ClientSecret: secret, RedirectURL: redirectURL, BaseURL: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func authCodeURL(t *testing.T, o *clio.OAuth, state string, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	u, err := o.AuthCodeURL(state, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authorize plays the user's browser: it opens the authorization URL and,
// without following the redirect, returns the query of the Location the
// fake's simulated consent sends it to.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("redirected to %s, want %s", got, redirectURL)
	}
	return loc.Query()
}

type savedTokens struct {
	mu   sync.Mutex
	toks []*oauth2.Token
}

func (s *savedTokens) save(t *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toks = append(s.toks, t)
	return nil
}

func (s *savedTokens) all() []*oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*oauth2.Token(nil), s.toks...)
}

// From AuthCodeURL to a working Client; then an access token that Clio
// expired is refreshed once and the request repeated once (for a POST too,
// with its body, creating exactly one record), with the new token
// persisted and the refresh token kept or rotated as Clio says.
func TestFakeOAuthFlowAndRefresh(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{false, true} {
		name := "refresh token kept"
		if rotate {
			name = "refresh token rotated"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := []cliotest.Option{cliotest.WithT(t), cliotest.WithRateLimit(0, 0)}
			if rotate {
				opts = append(opts, cliotest.WithRotatingRefreshTokens())
			}
			srv := cliotest.NewServer(opts...)
			ctx := context.Background()
			o := newFakeOAuth(t, srv, cliotest.DefaultClientSecret)

			authURL := authCodeURL(t, o, "state-8f3a", clio.RedirectOnDecline())
			if !strings.HasPrefix(authURL, srv.URL+"/oauth/authorize?") {
				t.Fatalf("AuthCodeURL = %s", authURL)
			}
			aq := mustQuery(t, authURL)
			if aq.Get("response_type") != "code" || aq.Get("client_id") != cliotest.DefaultClientID ||
				aq.Get("redirect_uri") != redirectURL || aq.Get("redirect_on_decline") != "true" {
				t.Fatalf("authorization URL query: %v", aq)
			}
			q := authorize(t, authURL)
			if q.Get("state") != "state-8f3a" || q.Get("code") == "" {
				t.Fatalf("redirect query %v", q)
			}
			tok, err := o.Exchange(ctx, q.Get("code"))
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" || time.Until(tok.Expiry) < 29*24*time.Hour {
				t.Fatalf("token %+v", tok)
			}
			if _, err := o.Exchange(ctx, q.Get("code")); err == nil || errors.Is(err, clio.ErrInvalidClient) {
				t.Fatalf("a reused code: %v, want invalid_grant", err)
			}

			saved := &savedTokens{}
			c, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithTokenSource(o.TokenSource(ctx, tok, saved.save)))
			if err != nil {
				t.Fatal(err)
			}
			me, _, err := c.Users.WhoAmI(ctx, clio.Fields("id", "name"))
			if err != nil || me.Id == 0 {
				t.Fatalf("who_am_i: %+v %v", me, err)
			}

			// Clio expires the token before its announced expiry.
			srv.ExpireToken(tok.AccessToken)
			before := srv.Counters().Unauthorized
			if _, _, err := c.Users.WhoAmI(ctx, nil); err != nil {
				t.Fatalf("after expiry: %v", err)
			}
			if n := srv.Counters().Unauthorized - before; n != 1 {
				t.Fatalf("%d 401s, want exactly 1", n)
			}
			if n := srv.RequestCount(http.MethodGet, whoAmIPath); n != 3 {
				t.Fatalf("%d who_am_i requests, want 3 (one repeated)", n)
			}
			s := saved.all()
			if len(s) != 1 || s[0].AccessToken == tok.AccessToken {
				t.Fatalf("persisted %d tokens, want the one refreshed token", len(s))
			}
			if rotate == (s[0].RefreshToken == tok.RefreshToken) || s[0].RefreshToken == "" {
				t.Fatalf("refresh token after refresh: rotated=%v, kept=%v", rotate, s[0].RefreshToken == tok.RefreshToken)
			}

			// Again, on a POST: the body is replayed, one contact created.
			srv.ExpireToken(s[0].AccessToken)
			path := "/api/v4/contacts.json"
			contacts := srv.Count("contacts")
			ct, _, err := c.Contacts.Create(ctx, nil,
				gen.ContactCreateInput{Type: gen.ContactTypeCompany, Name: clio.Ptr("Refreshed Ltd")}, clio.Fields("id", "name"))
			if err != nil || ct.Name == "" || ct.Name != "Refreshed Ltd" {
				t.Fatalf("create after expiry: %+v %v", ct, err)
			}
			if srv.Count("contacts") != contacts+1 || srv.RequestCount(http.MethodPost, path) != 2 {
				t.Fatalf("contacts %d→%d over %d POSTs, want one more over 2", contacts, srv.Count("contacts"), srv.RequestCount(http.MethodPost, path))
			}
			if s2 := saved.all(); len(s2) != 2 || (rotate && s2[1].RefreshToken == s[0].RefreshToken) {
				t.Fatalf("second refresh: %d tokens persisted", len(s2))
			}

			// Revoked: the refresh is refused too, so the 401 stands.
			cur := saved.all()[1]
			if err := o.Deauthorize(ctx, cur); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Users.WhoAmI(ctx, nil); !errors.Is(err, clio.ErrUnauthorized) {
				t.Fatalf("after Deauthorize: %v, want ErrUnauthorized", err)
			}
			if len(saved.all()) != 2 {
				t.Fatal("a revoked grant produced a new token")
			}
		})
	}
}

// A user who declines comes back with error=access_denied and the state.
func TestFakeOAuthDeclined(t *testing.T) {
	t.Parallel()
	srv := cliotest.NewServer(cliotest.WithT(t))
	o := newFakeOAuth(t, srv, cliotest.DefaultClientSecret)
	srv.DeclineNextAuthorizations(1)
	q := authorize(t, authCodeURL(t, o, "s1", clio.RedirectOnDecline()))
	if q.Get("error") != "access_denied" || q.Get("state") != "s1" || q.Has("code") {
		t.Fatalf("declined redirect %v", q)
	}
	if u, err := o.AuthCodeURL(""); u != "" || !errors.Is(err, clio.ErrInvalidInput) {
		t.Fatal("AuthCodeURL without state must refuse")
	}
}

// A wrong client secret fails the exchange, and a refresh, with an error
// matching ErrInvalidClient that explains the usual cause (the region) and
// does not leak the secret.
func TestFakeOAuthInvalidClient(t *testing.T) {
	t.Parallel()
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0))
	ctx := context.Background()
	const wrong = "not-the-secret-5b1e"
	bad := newFakeOAuth(t, srv, wrong)
	q := authorize(t, authCodeURL(t, bad, "s2"))
	_, err := bad.Exchange(ctx, q.Get("code"))
	if !errors.Is(err, clio.ErrInvalidClient) || !strings.Contains(err.Error(), "region") || strings.Contains(err.Error(), wrong) {
		t.Fatalf("exchange with a wrong secret: %v", err)
	}

	// A token past its expiry is refreshed before the request, with the
	// wrong secret: the call fails with ErrInvalidClient and never reaches the API.
	good := newFakeOAuth(t, srv, cliotest.DefaultClientSecret)
	tok, err := good.Exchange(ctx, authorize(t, authCodeURL(t, good, "s3")).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	expired := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	c, err := clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithTokenSource(bad.TokenSource(ctx, expired, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Users.WhoAmI(ctx, nil)
	if !errors.Is(err, clio.ErrInvalidClient) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("refresh with a wrong secret: %v", err)
	}
	if n := srv.RequestCount(http.MethodGet, whoAmIPath); n != 0 {
		t.Fatalf("the API saw %d requests without a valid token", n)
	}

	// A token Clio rejects (401) whose refresh then fails: the error says why, not only 401.
	live := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	srv.ExpireToken(tok.AccessToken)
	c, err = clio.NewClient(ctx, clio.WithBaseURL(srv.URL), clio.WithTokenSource(bad.TokenSource(ctx, live, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Users.WhoAmI(ctx, nil)
	if !errors.Is(err, clio.ErrUnauthorized) || !errors.Is(err, clio.ErrInvalidClient) || strings.Contains(err.Error(), wrong) {
		t.Fatalf("401 then a failed refresh: %v, want ErrUnauthorized and ErrInvalidClient", err)
	}
}
