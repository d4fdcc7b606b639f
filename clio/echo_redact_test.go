package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// An API that echoes a credential it was sent in free text (no key=value a pattern
// could find): Activate's webhook secret, Deauthorize's access token. The error keeps
// its type (a *Error with its status) but not the credential.
func TestEchoedCredentialsRedactedFromAPIErrors(t *testing.T) {
	t.Parallel()
	const (
		secret = "HOOKSECRET-5f4e3d2c1b"
		access = "ACCESS-9a8b7c6d5e4f"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		echo := r.Header.Get("X-Hook-Secret") + form.Get("token")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"error":{"type":"ValidationError","message":"%s does not match"}}`, echo)
	}))
	defer srv.Close()
	c, err := NewClient(context.Background(), WithBaseURL(srv.URL), WithToken("t0k3n-abcdef"), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, aerr := c.Webhooks.Activate(context.Background(), 7, secret)
	o, err := NewOAuth(OAuthConfig{ClientID: "cid", ClientSecret: "cs-123456", RedirectURL: "https://app.example/cb", BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	derr := o.Deauthorize(context.Background(), &oauth2.Token{AccessToken: access})
	for what, err := range map[string]error{"Activate": aerr, "Deauthorize": derr} {
		e, ok := errors.AsType[*Error](err)
		if !ok || e.StatusCode != http.StatusUnprocessableEntity || !errors.Is(err, ErrValidation) {
			t.Fatalf("%s: %v is not the 422 *Error", what, err)
		}
		for _, s := range []string{secret, access} {
			if strings.Contains(err.Error(), s) || strings.Contains(e.Message, s) {
				t.Errorf("%s: the error holds %q: %v", what, s, err)
			}
		}
	}
}
