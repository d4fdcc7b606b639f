package clio

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestOAuthConfigPerRegion(t *testing.T) {
	t.Parallel()
	o, err := NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "s", RedirectURL: "https://app.example/cb", Region: EU})
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.Config()
	if cfg.Endpoint.AuthURL != "https://eu.app.clio.com/oauth/authorize" || cfg.Endpoint.TokenURL != "https://eu.app.clio.com/oauth/token" || cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Fatalf("endpoint %+v", cfg.Endpoint)
	}
	raw, err := o.AuthCodeURL("st4te", RedirectOnDecline())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if u.Host != "eu.app.clio.com" || q.Get("response_type") != "code" || q.Get("client_id") != "cid" || q.Get("state") != "st4te" ||
		q.Get("redirect_uri") != "https://app.example/cb" || q.Get("redirect_on_decline") != "true" {
		t.Fatalf("auth URL %s", u)
	}
	if u, err := o.AuthCodeURL(""); u != "" || !errors.Is(err, ErrInvalidInput) {
		t.Error("empty state accepted")
	}
	for _, bad := range []OAuthConfig{{ClientSecret: "s", RedirectURL: "https://x/cb"}, {ClientID: "c", RedirectURL: "https://x/cb"}, {ClientID: "c", ClientSecret: "s"}, {ClientID: "c", ClientSecret: "s", RedirectURL: "https://x/cb", Region: "xx"}} {
		if _, err := NewOAuth(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%+v accepted: %v", bad, err)
		}
	}
}

func TestOAuthExchangeDeauthorizeAndInvalidClient(t *testing.T) {
	t.Parallel()
	s := newCoreOAuthServer(t)
	o := s.oauth(t)
	tok, err := o.Exchange(context.Background(), "the-code")
	if err != nil || tok.AccessToken != "old" || tok.RefreshToken != "rt1" || tok.Expiry.Before(time.Now().Add(29*24*time.Hour)) {
		t.Fatalf("tok=%+v err=%v", tok, err)
	}
	if err := o.Deauthorize(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	wrong, _ := NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "other", RedirectURL: "https://app.example/cb", BaseURL: s.srv.URL, HTTPClient: s.srv.Client()})
	_, err = wrong.Exchange(context.Background(), "the-code")
	if !errors.Is(err, ErrInvalidClient) || !strings.Contains(err.Error(), "region") {
		t.Fatalf("invalid_client: %v", err)
	}
	if strings.Contains(err.Error(), "other") {
		t.Errorf("secret in error: %v", err)
	}
	// Refresh failures carry the same explanation.
	ts := wrong.TokenSource(context.Background(), &oauth2.Token{AccessToken: "a", RefreshToken: "rt1", Expiry: time.Now().Add(-time.Hour)}, nil)
	if _, err := ts.Token(); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("refresh invalid_client: %v", err)
	}
}

func TestTokenSourcePersistsAndRetriesFailedPersistence(t *testing.T) {
	t.Parallel()
	s := newCoreOAuthServer(t)
	fail := true
	var saved []string
	ctx, cancel := context.WithCancel(context.Background())
	ts := s.oauth(t).TokenSource(ctx, &oauth2.Token{AccessToken: "expired", RefreshToken: "rt1", Expiry: time.Now().Add(-time.Minute)},
		func(tok *oauth2.Token) error {
			if fail {
				return errors.New("disk full")
			}
			saved = append(saved, tok.AccessToken+"/"+tok.RefreshToken)
			return nil
		})
	cancel() // refreshes must not depend on the construction context's lifetime
	if _, err := ts.Token(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("persistence failure hidden: %v", err)
	}
	fail = false
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "new1" || s.refreshes.Load() != 1 {
		t.Fatalf("tok=%v err=%v refreshes=%d", tok, err, s.refreshes.Load())
	}
	if len(saved) != 1 || saved[0] != "new1/rt1" {
		t.Fatalf("saved %v", saved)
	}
	// Cached while valid.
	if tok2, _ := ts.Token(); tok2 != tok || s.refreshes.Load() != 1 {
		t.Error("valid token refreshed again")
	}
	// Invalidate with another token is a no-op; with the current one, forces a refresh.
	ts.Invalidate("someone-else")
	if tok2, _ := ts.Token(); tok2 != tok {
		t.Error("foreign invalidation refreshed")
	}
	ts.Invalidate("new1")
	if tok3, _ := ts.Token(); tok3.AccessToken != "new2" {
		t.Errorf("after invalidate: %v", tok3)
	}
}

type coreSeqSource struct {
	toks []*oauth2.Token
	i    int
	inv  []string
}

func (s *coreSeqSource) Token() (*oauth2.Token, error) {
	t := s.toks[min(s.i, len(s.toks)-1)]
	s.i++
	return t, nil
}
func (s *coreSeqSource) Invalidate(tok string) { s.inv = append(s.inv, tok) }

func TestNotifyingTokenSource(t *testing.T) {
	t.Parallel()
	src := &coreSeqSource{toks: []*oauth2.Token{{AccessToken: "a", RefreshToken: "r"}, {AccessToken: "a", RefreshToken: "r"}, {AccessToken: "b"}}}
	var got []string
	ts := NotifyingTokenSource(src, &oauth2.Token{AccessToken: "a", RefreshToken: "r"}, func(tok *oauth2.Token) error {
		got = append(got, tok.AccessToken+"/"+tok.RefreshToken)
		return nil
	})
	for range 3 {
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0] != "b/r" {
		t.Fatalf("notified %v, want [b/r] (unchanged tokens silent, refresh token kept)", got)
	}
	ts.(Invalidator).Invalidate("b")
	if len(src.inv) != 1 {
		t.Error("Invalidate not passed through")
	}
}
