package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// sendHandshake posts Clio's handshake, which carries only the X-Hook-Secret header, to
// target, and returns the status.
func sendHandshake(h http.Handler, target, secret string) int {
	req := httptest.NewRequest(http.MethodPost, target, nil)
	req.Header.Set(HeaderSecret, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Finding 1 of issue 11: a stranger handshook webhook ids the application had not
// registered yet (ids are sequential), got the secret stored and signed events that were
// accepted. Now, under every combination of options, a handshake without the token of a
// registration is refused, stores nothing, and the forger's signed events are refused.
func TestHandshakeSquattingRefused(t *testing.T) {
	approveAll := WithHandshakeCheck(func(context.Context, Registration, *http.Request) error { return nil })
	delayed := WithDelayedActivation(func(context.Context, Registration) error { return nil })
	model := WithModel(func(*http.Request, int64) string { return "matter" })
	for name, opts := range map[string][]Option{
		"defaults":                 nil,
		"check approving all":      {approveAll},
		"delayed activation":       {delayed},
		"all options, no deduper":  {approveAll, delayed, model, WithDeduper(nil), WithMaxBodyBytes(512)},
		"check and echo, deduped":  {approveAll, WithDeduper(NewMemoryDeduper(1))},
		"model from a function":    {model},
		"delayed, checked, dedupe": {delayed, approveAll, WithDeduper(NewMemoryDeduper(0))},
	} {
		t.Run(name, func(t *testing.T) {
			h, store, rec := newTestHandler(t, opts...)
			genuine := registered(t, store, 41, "") // the app's own registration, still pending
			before := store.Len()
			// The forger guesses the next webhook ids, in every place an id could be put,
			// and tokens it invents.
			targets := []string{"/hooks", "/hooks?webhook_id=42", "/hooks?" + TokenParam + "=", "/hooks?" + TokenParam + "=42",
				"/hooks?" + TokenParam + "=" + strings.Repeat("x", 43), "/hooks?model=matter&webhook_id=43"}
			for _, target := range targets {
				for _, body := range []string{"", `{"meta":{"webhook_id":42}}`, `{"id":43,"data":{"id":43}}`} {
					req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
					req.Header.Set(HeaderSecret, "forger-secret")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusForbidden || w.Header().Get(HeaderSecret) != "" {
						t.Fatalf("forged handshake %s %s: %d (echo %q), want 403", target, body, w.Code, w.Header().Get(HeaderSecret))
					}
				}
			}
			if store.Len() != before {
				t.Fatalf("forged handshakes grew the registry from %d to %d", before, store.Len())
			}
			// Events signed with the forger's secret, for the ids it tried and for the genuine one.
			for _, target := range append(targets, genuine) {
				for _, id := range []int64{41, 42, 43} {
					body := delivery(id, "created", 1, `"e"`)
					if resp := post(t, h, target, body, map[string]string{HeaderSignature: Sign([]byte("forger-secret"), body)}); resp.Code != http.StatusUnauthorized {
						t.Fatalf("forged event for %d at %s: %d, want 401", id, target, resp.Code)
					}
				}
			}
			if rec.count() != 0 {
				t.Fatalf("forged events reached the event function %d times", rec.count())
			}
			// Clio's real handshake for the registered webhook still works.
			if code := sendHandshake(h, genuine, "clio-secret"); code != http.StatusOK {
				t.Fatalf("genuine handshake: %d", code)
			}
			body := delivery(41, "created", 1, `"e"`)
			if resp := post(t, h, genuine, body, map[string]string{HeaderSignature: Sign([]byte("clio-secret"), body)}); resp.Code != http.StatusOK || rec.count() != 1 {
				t.Fatalf("genuine delivery: %d, %d calls", resp.Code, rec.count())
			}
		})
	}
}

// Whoever learns a registration's URL after the handshake cannot replace its secret; Clio
// repeating its handshake (its answer was lost) with the same secret is accepted.
func TestHandshakeDoesNotReplaceASecret(t *testing.T) {
	h, store, _ := newTestHandler(t,
		WithHandshakeCheck(func(context.Context, Registration, *http.Request) error { return nil }))
	u := registered(t, store, 7, "")
	if code := sendHandshake(h, u, "genuine"); code != http.StatusOK {
		t.Fatalf("first handshake: %d", code)
	}
	if code := sendHandshake(h, u, "forged"); code != http.StatusForbidden {
		t.Fatalf("handshake with another secret: %d, want 403", code)
	}
	if code := sendHandshake(h, u, "genuine"); code != http.StatusOK {
		t.Fatalf("repeated handshake: %d, want 200", code)
	}
	if got, _ := store.Lookup(context.Background(), TokenFromURL(u)); string(got.Secret) != "genuine" {
		t.Fatalf("stored secret = %q; the genuine one must stay", got.Secret)
	}
}

// An expired registration (the webhook's expires_at passed) accepts neither a handshake
// nor a delivery, and the in-memory registry drops it.
func TestExpiredRegistrationRefused(t *testing.T) {
	h, store, rec := newTestHandler(t)
	now := time.Now()
	store.now = func() time.Time { return now }
	u := registered(t, store, 9, "k")
	pending := registered(t, store, 10, "")
	now = now.Add(2 * time.Hour) // registered() lets them live one hour
	body := delivery(9, "created", 1, `"e"`)
	if resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusUnauthorized {
		t.Fatalf("delivery to an expired registration: %d, want 401", resp.Code)
	}
	if code := sendHandshake(h, pending, "s"); code != http.StatusForbidden {
		t.Fatalf("handshake of an expired registration: %d, want 403", code)
	}
	if rec.count() != 0 || store.Len() != 0 {
		t.Fatalf("%d events, %d registrations left", rec.count(), store.Len())
	}
}

// Nil arguments do not panic and accept nothing: a nil registry is one nobody can add to,
// a nil event function refuses deliveries with 500 so that Clio keeps them.
func TestNewHandlerWithNils(t *testing.T) {
	h := NewHandler(nil, nil, WithLogger(quiet))
	if code := sendHandshake(h, "/hooks?"+TokenParam+"="+strings.Repeat("a", 43), "s3cret"); code != http.StatusForbidden {
		t.Fatalf("handshake with a nil registry: %d, want 403", code)
	}
	reg := NewMemoryRegistry()
	u := registered(t, reg, 9, "s3cret")
	h = NewHandler(reg, nil, WithLogger(quiet))
	body := delivery(9, "created", 1, `"e"`)
	if resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("s3cret"), body)}); resp.Code != http.StatusInternalServerError {
		t.Fatalf("delivery with a nil event function: %d, want 500", resp.Code)
	}
}

// failingRegistry fails every lookup as a database that is down would.
type failingRegistry struct{ *MemoryRegistry }

func (failingRegistry) Lookup(context.Context, string) (Registration, error) {
	return Registration{}, errors.New("connection refused")
}

// lyingRegistry answers every lookup with the same registration, as a buggy query would.
type lyingRegistry struct {
	*MemoryRegistry
	reg Registration
}

func (l lyingRegistry) Lookup(context.Context, string) (Registration, error) { return l.reg, nil }

// A registry that fails answers 500 (Clio retries) and stores nothing; one that answers
// with another token's registration is not trusted with its secret.
func TestHandshakeRegistryFailures(t *testing.T) {
	mem := NewMemoryRegistry()
	u := registered(t, mem, 7, "")
	h := NewHandler(failingRegistry{mem}, func(context.Context, Event) error { return nil }, WithLogger(quiet))
	if code := sendHandshake(h, u, "s"); code != http.StatusInternalServerError {
		t.Errorf("handshake with a failing registry: %d, want 500", code)
	}
	if got, _ := mem.Lookup(context.Background(), TokenFromURL(u)); got.Secret != nil {
		t.Fatalf("a secret was stored: %q", got.Secret)
	}
	victim, _ := mem.Lookup(context.Background(), TokenFromURL(u))
	victim.Secret = []byte("victim")
	h = NewHandler(lyingRegistry{mem, victim}, func(context.Context, Event) error { return nil }, WithLogger(quiet))
	body := delivery(7, "created", 1, `"e"`)
	other := "/hooks?" + TokenParam + "=" + strings.Repeat("b", 43)
	if resp := post(t, h, other, body, map[string]string{HeaderSignature: Sign([]byte("victim"), body)}); resp.Code != http.StatusInternalServerError {
		t.Errorf("delivery through a registry answering another token: %d, want 500", resp.Code)
	}
}

// Clio repeats a handshake whose activation failed: the same secret is accepted again and
// the activation retried; another secret is not.
func TestHandshakeRepeatedWithTheSameSecret(t *testing.T) {
	activations := 0
	fail := true
	h, store, _ := newTestHandler(t,
		WithDelayedActivation(func(context.Context, Registration) error {
			activations++
			if fail {
				return errors.New("API down")
			}
			return nil
		}))
	u := registered(t, store, 8, "")
	if code := sendHandshake(h, u, "s3cret"); code != http.StatusInternalServerError {
		t.Fatalf("handshake with a failing activation: %d, want 500", code)
	}
	fail = false
	if code := sendHandshake(h, u, "s3cret"); code != http.StatusOK {
		t.Fatalf("repeated handshake with the same secret: %d, want 200", code)
	}
	if activations != 2 {
		t.Fatalf("%d activations, want 2", activations)
	}
	if code := sendHandshake(h, u, "other"); code != http.StatusForbidden {
		t.Fatalf("handshake with another secret: %d, want 403", code)
	}
}

// The registry refuses tokens short enough to guess and reused tokens; tokens are
// URL-safe and distinct.
func TestMemoryRegistryTokens(t *testing.T) {
	reg := NewMemoryRegistry()
	ctx := context.Background()
	if err := reg.Add(ctx, Registration{Token: "42"}); err == nil {
		t.Fatal("a 2-character token was accepted")
	}
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) < 43 || strings.ContainsAny(tok, "+/=&?#%") || seen[tok] {
			t.Fatalf("token %q: too short, not URL-safe or repeated", tok)
		}
		seen[tok] = true
	}
	tok, _ := NewToken()
	if err := reg.Add(ctx, Registration{Token: tok}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(ctx, Registration{Token: tok}); err == nil {
		t.Fatal("a token was registered twice")
	}
	u, err := URLWithToken("https://example.com/hooks?model=matter", tok)
	if err != nil || TokenFromURL(u) != tok || !strings.Contains(u, "model=matter") {
		t.Fatalf("URLWithToken = %q, %v", u, err)
	}
	if err := reg.SetWebhook(ctx, "missing-"+tok, 1, time.Time{}); !errors.Is(err, ErrUnknownRegistration) {
		t.Fatalf("SetWebhook of an unknown token: %v", err)
	}
	if err := reg.Remove(ctx, tok); err != nil || reg.Len() != 0 {
		t.Fatalf("Remove: %v, %d left", err, reg.Len())
	}
}
