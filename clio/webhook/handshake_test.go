package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Without a check, a forged handshake cannot replace the secret of a known webhook.
func TestHandshakeDoesNotReplaceAKnownSecret(t *testing.T) {
	store := NewMemorySecretStore()
	h := NewHandler(store, func(context.Context, Event) error { return nil })
	handshake := func(secret string) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(`{"meta":{"webhook_id":7}}`))
		req.Header.Set(HeaderSecret, secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := handshake("genuine"); code != http.StatusOK {
		t.Fatalf("first handshake: %d", code)
	}
	if code := handshake("forged"); code != http.StatusForbidden {
		t.Fatalf("second handshake for the same webhook: %d, want 403", code)
	}
	got, err := store.Secret(context.Background(), 7)
	if err != nil || string(got) != "genuine" {
		t.Fatalf("stored secret = %q, %v; the genuine one must stay", got, err)
	}

	// A check that approves lets a re-handshake (a changed URL) through.
	h = NewHandler(store, func(context.Context, Event) error { return nil },
		WithHandshakeCheck(func(context.Context, int64, *http.Request) error { return nil }))
	if code := handshake("rotated"); code != http.StatusOK {
		t.Fatalf("approved re-handshake: %d", code)
	}
}

// Nil arguments do not panic: a nil store keeps secrets in memory, a nil event function
// refuses deliveries with 500 so that Clio keeps them.
func TestNewHandlerWithNils(t *testing.T) {
	h := NewHandler(nil, nil)
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(`{"meta":{"webhook_id":9}}`))
	req.Header.Set(HeaderSecret, "s3cret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("handshake with a nil store: %d", rec.Code)
	}
	body := `{"data":{"id":1,"etag":"\"e\""},"meta":{"event":"created","webhook_id":9}}`
	req = httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
	req.Header.Set(HeaderSignature, Sign([]byte("s3cret"), []byte(body)))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("delivery with a nil event function: %d, want 500", rec.Code)
	}
}
