package clio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// A token endpoint (or a proxy before it) that echoes what it was sent, in an OAuth
// error description or a plain-text page, must not put the code, the refresh token or
// the client secret in the error the caller logs.
func TestOAuthErrorsRedactEchoedCredentials(t *testing.T) {
	t.Parallel()
	const (
		code    = "CODE-a1b2c3d4e5f6"
		refresh = "RT-0f9e8d7c6b5a"
		secret  = "CS-77aa88bb99cc"
	)
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		isErr  error
	}{
		{"oauth error description", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"grant %s%s for client %s is revoked"}`,
				r.PostFormValue("code"), r.PostFormValue("refresh_token"), r.PostFormValue("client_secret"))
		}, nil},
		{"invalid_client", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"unknown secret %s"}`, r.PostFormValue("client_secret"))
		}, ErrInvalidClient},
		{"plain text page", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "upstream refused %s %s %s", r.PostFormValue("code"), r.PostFormValue("refresh_token"), r.PostFormValue("client_secret"))
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tc.answer))
			defer srv.Close()
			o, err := NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: secret, RedirectURL: "https://app.example/cb", BaseURL: srv.URL, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			_, xerr := o.Exchange(context.Background(), code)
			ts := o.TokenSource(context.Background(), &oauth2.Token{AccessToken: "a", RefreshToken: refresh, Expiry: time.Now().Add(-time.Hour)}, nil)
			_, rerr := ts.Token()
			for what, err := range map[string]error{"exchange": xerr, "refresh": rerr} {
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				for _, s := range []string{code, refresh, secret} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s: %q in the error: %v", what, s, err)
					}
				}
				if tc.isErr != nil && !errors.Is(err, tc.isErr) {
					t.Errorf("%s: %v does not match %v", what, err, tc.isErr)
				}
			}
		})
	}
}
