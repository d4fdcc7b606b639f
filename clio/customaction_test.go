package clio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func customActionRequest(params map[string]string) *http.Request {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return httptest.NewRequest(http.MethodGet, "https://app.example.com/clio/action?"+q.Encode(), nil)
}

func TestCustomActionConfirmed(t *testing.T) {
	f := newFakeClio(t)
	f.subjects["/api/v4/matters/7.json"] = "nonce-1"
	c := f.client()
	for _, subject := range []string{"/api/v4/matters/7.json", f.api.URL + "/api/v4/matters/7.json"} {
		r := customActionRequest(map[string]string{"custom_action_id": "3", "user_id": "42",
			"subject_url": subject, "custom_action_nonce": "nonce-1"})
		ca, _, err := c.CustomActions.Confirm(context.Background(), r, "id,display_number")
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		var rec struct {
			ID     int64  `json:"id"`
			Fields string `json:"fields"`
		}
		if err := json.Unmarshal(ca.Subject, &rec); err != nil || rec.ID != 7 || rec.Fields != "id,display_number" {
			t.Fatalf("subject %s: %v", ca.Subject, err)
		}
		if ca.UserID != 42 || ca.CustomActionID != 3 {
			t.Fatalf("request %+v", ca.CustomActionRequest)
		}
	}
}

func TestCustomActionForgedNonce(t *testing.T) {
	f := newFakeClio(t)
	f.subjects["/api/v4/matters/7.json"] = "nonce-1"
	r := customActionRequest(map[string]string{"custom_action_id": "3", "user_id": "42",
		"subject_url": "/api/v4/matters/7.json", "custom_action_nonce": "forged"})
	_, _, err := f.client().CustomActions.Confirm(context.Background(), r, "")
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("forged nonce: %v", err)
	}
}

func TestCustomActionRejectedBeforeAnyRequest(t *testing.T) {
	called := false
	c, err := NewClient(context.Background(), WithBaseURL("https://app.clio.com"), WithToken("t"),
		WithTransportMiddleware(func(http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(*http.Request) (*http.Response, error) {
				called = true
				return nil, errors.New("no request expected")
			})
		}))
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]string{"custom_action_id": "3", "user_id": "42",
		"subject_url": "/api/v4/matters/7.json", "custom_action_nonce": "n"}
	cases := map[string]map[string]string{
		"foreign host":      {"subject_url": "https://evil.example.com/api/v4/matters/7.json"},
		"protocol-relative": {"subject_url": "//evil.example.com/api/v4/matters/7.json"},
		"http downgrade":    {"subject_url": "http://app.clio.com/api/v4/matters/7.json"},
		"user info":         {"subject_url": "https://x@app.clio.com/api/v4/matters/7.json"},
		"outside api":       {"subject_url": "/oauth/token"},
		"dot segments":      {"subject_url": "/api/v4/../../oauth/deauthorize"},
		"encoded slash":     {"subject_url": "/api/v4/..%2F..%2Foauth/token"},
		"missing nonce":     {"custom_action_nonce": ""},
		"bad user":          {"user_id": "abc"},
		"missing action":    {"custom_action_id": ""},
		"missing subject":   {"subject_url": ""},
	}
	for name, override := range cases {
		p := map[string]string{}
		for k, v := range good {
			p[k] = v
		}
		for k, v := range override {
			if v == "" {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		_, _, err := c.CustomActions.Confirm(context.Background(), customActionRequest(p), "")
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if called {
		t.Fatal("an invalid custom action reached the API")
	}
	if _, err := ParseCustomActionRequest(customActionRequest(good)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errForeignSubject.Error(), "host") {
		t.Fatal("message")
	}
}

// A transport failure while confirming a custom action must not put the
// custom_action_nonce (a credential, redacted everywhere else) in the error.
func TestConfirmTransportErrorRedactsNonce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	c, _ := newCoreClient(t, srv, testRetries(1))
	srv.Close()
	r := httptest.NewRequest("GET", "/cb?custom_action_id=1&user_id=2&subject_url=/api/v4/matters/1.json&custom_action_nonce=NONCE-SECRET", nil)
	_, _, err := c.CustomActions.Confirm(context.Background(), r, "")
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if strings.Contains(err.Error(), "NONCE-SECRET") {
		t.Fatalf("error leaks the nonce: %v", err)
	}
}
