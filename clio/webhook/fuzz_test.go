package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHandler sends arbitrary bodies, tokens, secrets and signatures to a Handler holding
// one registration with a secret and one still pending. Whatever comes in, the Handler
// does not panic, answers one of its documented statuses, runs the event function only
// for a body signed with the registered secret at the registered URL, and lets a
// handshake set a secret only through a registered token and never replace one.
func FuzzHandler(f *testing.F) {
	f.Add([]byte(`{"data":{"id":1,"etag":"\"e\""},"meta":{"event":"created","webhook_id":5}}`), uint8(1), "", true, "")
	f.Add([]byte(`{"data":{"id":"7"},"meta":{"event":"updated","webhook_id":"5"}}`), uint8(1), "", true, "")
	f.Add([]byte(`{"meta":{"webhook_id":6}}`), uint8(0), "forged", false, "")
	f.Add([]byte(""), uint8(2), "clio-secret", false, "")
	f.Add([]byte(""), uint8(1), "other", false, "")
	f.Add([]byte(`{"data":null,"meta":{"webhook_id":null}}`), uint8(3), "", false, "zz")
	f.Add([]byte(`[1,2]`), uint8(1), "", true, "")
	f.Add([]byte(`{"data":{"id":1e99},"meta":{"webhook_id":-5}}`), uint8(1), "", true, "")
	f.Fuzz(func(t *testing.T, body []byte, which uint8, handshakeSecret string, sign bool, sig string) {
		reg := NewMemoryRegistry()
		ctx := context.Background()
		live, _ := NewToken()
		pending, _ := NewToken()
		_ = reg.Add(ctx, Registration{Token: live, WebhookID: 5, Model: "matter", Secret: []byte("k"), ExpiresAt: time.Now().Add(time.Hour)})
		_ = reg.Add(ctx, Registration{Token: pending, Model: "matter", ExpiresAt: time.Now().Add(time.Hour)})
		var calls []Event
		h := NewHandler(reg, func(_ context.Context, ev Event) error {
			calls = append(calls, ev)
			return nil
		}, WithLogger(quiet), WithMaxBodyBytes(4096))

		target := "/hooks"
		switch which % 4 {
		case 1:
			target += "?" + TokenParam + "=" + live
		case 2:
			target += "?" + TokenParam + "=" + pending
		case 3:
			target += "?" + TokenParam + "=" + strings.Repeat("A", 43)
		}
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
		// Header values with control characters are not sendable over HTTP.
		if handshakeSecret != "" && validHeaderValue(handshakeSecret) {
			req.Header.Set(HeaderSecret, handshakeSecret)
		}
		if sign {
			sig = Sign([]byte("k"), body)
		}
		if sig != "" && validHeaderValue(sig) {
			req.Header.Set(HeaderSignature, sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)

		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d is not one the Handler documents for this input", w.Code)
		}
		handshake := req.Header.Get(HeaderSecret) != ""
		if handshake {
			if len(calls) != 0 {
				t.Fatal("a handshake ran the event function")
			}
			l, _ := reg.Lookup(ctx, live)
			if string(l.Secret) != "k" {
				t.Fatalf("a handshake replaced the registered secret with %q", l.Secret)
			}
			p, _ := reg.Lookup(ctx, pending)
			if w.Code == http.StatusOK {
				if which%4 != 1 && which%4 != 2 {
					t.Fatalf("a handshake without a registered token was accepted")
				}
				if which%4 == 1 && handshakeSecret != "k" {
					t.Fatalf("a handshake with another secret was accepted")
				}
			} else if p.Secret != nil {
				t.Fatalf("a refused handshake stored %q", p.Secret)
			}
			if reg.Len() != 2 {
				t.Fatalf("the registry holds %d registrations", reg.Len())
			}
			return
		}
		if len(calls) > 0 {
			if which%4 != 1 || Verify([]byte("k"), body, req.Header.Get(HeaderSignature)) != nil {
				t.Fatalf("an unverified delivery reached the event function: %+v", calls[0])
			}
			if ev := calls[0]; ev.WebhookID != 5 || ev.Model != "matter" {
				t.Fatalf("event attributed to webhook %d (%s), want 5 (matter)", ev.WebhookID, ev.Model)
			}
		}
		if w.Code == http.StatusOK && len(calls) != 1 {
			t.Fatalf("a delivery answered 200 ran the event function %d times", len(calls))
		}
	})
}

// validHeaderValue reports whether net/http would send v as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}
