package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Without a check, a forged handshake cannot replace the secret of a known webhook.
func TestHandshakeDoesNotReplaceAKnownSecret(t *testing.T) {
	store := NewMemorySecretStore()
	h := NewHandler(store, func(context.Context, Event) error { return nil })
	handshake := func(secret string) int { return sendHandshake(h, 7, secret) }
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
	if code := sendHandshake(h, 9, "s3cret"); code != http.StatusOK {
		t.Fatalf("handshake with a nil store: %d", code)
	}
	body := `{"data":{"id":1,"etag":"\"e\""},"meta":{"event":"created","webhook_id":9}}`
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
	req.Header.Set(HeaderSignature, Sign([]byte("s3cret"), []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("delivery with a nil event function: %d, want 500", rec.Code)
	}
}

// failingStore fails every lookup as a database that is down would.
type failingStore struct{ *MemorySecretStore }

func (failingStore) Secret(context.Context, int64) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// Without a check, a store that cannot tell whether a secret is known refuses the handshake
// (500, so that Clio retries) rather than replacing the secret it may hold.
func TestHandshakeStoreErrorDoesNotReplaceTheSecret(t *testing.T) {
	mem := NewMemorySecretStore()
	_ = mem.SetSecret(context.Background(), 7, []byte("genuine"))
	h := NewHandler(failingStore{mem}, func(context.Context, Event) error { return nil })
	if code := sendHandshake(h, 7, "forged"); code != http.StatusInternalServerError {
		t.Errorf("handshake with a failing store: %d, want 500", code)
	}
	if got, _ := mem.Secret(context.Background(), 7); string(got) != "genuine" {
		t.Fatalf("stored secret = %q; the genuine one must stay", got)
	}
}

// Clio repeats a handshake whose answer it did not get (or that failed activation): the same
// secret again is accepted without a check, since whoever sends it already knows it.
func TestHandshakeRepeatedWithTheSameSecret(t *testing.T) {
	activations := 0
	fail := true
	h := NewHandler(NewMemorySecretStore(), func(context.Context, Event) error { return nil },
		WithDelayedActivation(func(context.Context, int64, []byte) error {
			activations++
			if fail {
				return errors.New("API down")
			}
			return nil
		}))
	handshake := func(secret string) int { return sendHandshake(h, 8, secret) }
	if code := handshake("s3cret"); code != http.StatusInternalServerError {
		t.Fatalf("handshake with a failing activation: %d, want 500", code)
	}
	fail = false
	if code := handshake("s3cret"); code != http.StatusOK {
		t.Fatalf("repeated handshake with the same secret: %d, want 200", code)
	}
	if activations != 2 {
		t.Fatalf("%d activations, want 2", activations)
	}
	if code := handshake("other"); code != http.StatusForbidden {
		t.Fatalf("handshake with another secret: %d, want 403", code)
	}
}

// sendHandshake posts Clio's handshake for webhook id with secret and returns the status.
func sendHandshake(h http.Handler, id int, secret string) int {
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(fmt.Sprintf(`{"meta":{"webhook_id":%d}}`, id)))
	req.Header.Set(HeaderSecret, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}
