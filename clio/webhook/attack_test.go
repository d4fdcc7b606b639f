package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The dedupe key must not let one event stand for another: webhooks of two
// registrations (Clio regions number webhooks independently, so two apps' or
// tenants' webhooks can share an id) deliver the same-looking event, and fields
// holding the key's separator must not shift into one another.
func TestDedupeKeysDoNotCollide(t *testing.T) {
	h, store, rec := newTestHandler(t)
	usA := registered(t, store, 7, "us-secret")
	euA := registered(t, store, 7, "eu-secret")
	body := delivery(7, "updated", 9, `"e1"`)
	for _, c := range []struct{ target, secret string }{{usA, "us-secret"}, {euA, "eu-secret"}} {
		if resp := post(t, h, c.target, body, map[string]string{HeaderSignature: Sign([]byte(c.secret), body)}); resp.Code != http.StatusOK {
			t.Fatalf("%d", resp.Code)
		}
	}
	if rec.count() != 2 {
		t.Fatalf("the event of a second registration with the same webhook id was dropped as a duplicate: %d calls", rec.count())
	}
	// Separator shifting: (event "a|1", id 2, etag "b") vs (event "a", id 1, etag "2|b")
	// would both read 7|a|1|2|b with a plain "|" join.
	u := registered(t, store, 8, "k")
	for _, b := range [][]byte{delivery(8, "updated|1", 2, "b"), delivery(8, "updated", 1, "2|b")} {
		post(t, h, u, b, map[string]string{HeaderSignature: Sign([]byte("k"), b)})
	}
	if rec.count() != 4 {
		t.Fatalf("two distinct events shared a dedupe key: %d calls, want 4", rec.count())
	}
}

// Attacks on the token that must all be refused, and store nothing: a
// duplicated parameter (a proxy may read the other one than Go does), the token
// in the path, a header or the body, another case of the parameter name, and an
// altered encoding of the value.
func TestTokenPlacementAttacks(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 1, "")
	token := strings.TrimPrefix(u, "/hooks?"+TokenParam+"=")
	fake := strings.Repeat("B", 43)
	for name, target := range map[string]string{
		"duplicated, real first":  u + "&" + TokenParam + "=" + fake,
		"duplicated, real second": "/hooks?" + TokenParam + "=" + fake + "&" + TokenParam + "=" + token,
		"duplicated, same value":  u + "&" + TokenParam + "=" + token,
		"in the path":             "/hooks/" + token,
		"upper-case name":         "/hooks?CLIO_HOOK=" + token,
		"padded value":            "/hooks?" + TokenParam + "=%20" + token,
		"truncated value":         "/hooks?" + TokenParam + "=" + token[:len(token)-1],
	} {
		req := httpRequest(target, TokenParam+"="+token)
		req.Header.Set(HeaderSecret, "attacker")
		req.Header.Set("X-Clio-Hook", token)
		resp := serve(h, req)
		if resp != http.StatusForbidden {
			t.Errorf("%s: handshake answered %d, want 403", name, resp)
		}
	}
	got, err := store.Lookup(context.Background(), token)
	if err != nil || got.Secret != nil || rec.count() != 0 {
		t.Fatalf("a refused handshake changed the registration: %+v %v", got, err)
	}
}

func httpRequest(target, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	return req
}

func serve(h http.Handler, req *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// A registration whose handshake never succeeded (the receiver was down when Clio
// sent it, and a proxy logged the URL with its token) must not accept a handshake
// from whoever reads that URL later: past HandshakeBy, a registration without a
// secret takes none. Clio's own repeat of an accepted handshake still passes.
func TestLateHandshakeRefused(t *testing.T) {
	h, store, rec := newTestHandler(t)
	add := func(by time.Time, secret []byte) string {
		t.Helper()
		token, _ := NewToken()
		if err := store.Add(context.Background(), Registration{Token: token, Model: "matter", Secret: secret, HandshakeBy: by}); err != nil {
			t.Fatal(err)
		}
		return "/hooks?" + TokenParam + "=" + token
	}
	late := add(time.Now().Add(-time.Second), nil)
	if code := sendHandshake(h, late, "from-the-logs"); code != http.StatusForbidden {
		t.Fatalf("late handshake: %d, want 403", code)
	}
	body := delivery(1, "created", 2, `"e"`)
	if resp := post(t, h, late, body, map[string]string{HeaderSignature: Sign([]byte("from-the-logs"), body)}); resp.Code != http.StatusUnauthorized || rec.count() != 0 {
		t.Fatalf("forged delivery after a refused late handshake: %d, %d events", resp.Code, rec.count())
	}
	if code := sendHandshake(h, add(time.Now().Add(time.Minute), nil), "clio"); code != http.StatusOK {
		t.Fatalf("handshake in time: %d", code)
	}
	if code := sendHandshake(h, add(time.Now().Add(-time.Minute), []byte("clio")), "clio"); code != http.StatusOK {
		t.Fatalf("repeat of an accepted handshake after the deadline: %d", code)
	}
}

// Signature and body attacks on a delivery at a genuine URL, without the secret: all
// refused before the event function or the deduper sees anything.
func TestDeliverySignatureAttacks(t *testing.T) {
	d := NewMemoryDeduper(10)
	h, store, rec := newTestHandler(t, WithDeduper(d), WithMaxBodyBytes(1024))
	u := registered(t, store, 1, "k")
	body := delivery(1, "created", 2, `"e"`)
	good := Sign([]byte("k"), body)
	for name, c := range map[string]struct {
		body []byte
		sigs []string
		want int
	}{
		"no signature":              {body, nil, http.StatusUnauthorized},
		"empty signature":           {body, []string{""}, http.StatusUnauthorized},
		"sha256= prefix":            {body, []string{"sha256=" + good}, http.StatusUnauthorized},
		"overlong":                  {body, []string{good + "00"}, http.StatusUnauthorized},
		"signed under empty secret": {body, []string{Sign(nil, body)}, http.StatusUnauthorized},
		"good one second":           {body, []string{"00", good}, http.StatusUnauthorized},
		"body with a trailing byte": {append(append([]byte(nil), body...), ' '), []string{good}, http.StatusUnauthorized},
		"oversized, signed":         {[]byte(strings.Repeat(" ", 2048)), []string{Sign([]byte("k"), []byte(strings.Repeat(" ", 2048)))}, http.StatusRequestEntityTooLarge},
	} {
		req := httptest.NewRequest(http.MethodPost, u, strings.NewReader(string(c.body)))
		req.ContentLength = -1 // chunked: no length to refuse early
		for _, s := range c.sigs {
			req.Header.Add(HeaderSignature, s)
		}
		resp := httptest.NewRecorder()
		h.ServeHTTP(resp, req)
		if resp.Code != c.want {
			t.Errorf("%s: %d, want %d", name, resp.Code, c.want)
		}
	}
	if rec.count() != 0 || d.Len() != 0 || store.Len() != 1 {
		t.Fatalf("refused deliveries left traces: %d events, %d dedupe keys, %d registrations", rec.count(), d.Len(), store.Len())
	}
}

// Handshakes racing for one registration (Clio's and a forger's who learned the URL
// in time): exactly one secret wins, and only the winner was answered 200.
func TestRacingHandshakesOneWins(t *testing.T) {
	h, store, _ := newTestHandler(t)
	u := registered(t, store, 1, "")
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i] = sendHandshake(h, u, fmt.Sprintf("secret-%02d", i)) })
	}
	wg.Wait()
	got, err := store.Lookup(context.Background(), strings.TrimPrefix(u, "/hooks?"+TokenParam+"="))
	if err != nil {
		t.Fatal(err)
	}
	var winners []int
	for i, c := range codes {
		if c == http.StatusOK {
			winners = append(winners, i)
		} else if c != http.StatusForbidden {
			t.Fatalf("handshake %d: %d", i, c)
		}
	}
	if len(winners) != 1 || string(got.Secret) != fmt.Sprintf("secret-%02d", winners[0]) {
		t.Fatalf("winners %v, stored secret %q", winners, got.Secret)
	}
}

// A Registry whose Lookup forgets to filter expired rows (a database query without
// "expires_at > now()") must not keep an expired registration alive: the Handler checks
// ExpiresAt itself, for handshakes and deliveries.
func TestExpiredRegistrationRefusedWhateverTheRegistry(t *testing.T) {
	token, _ := NewToken()
	expired := Registration{Token: token, WebhookID: 1, Model: "matter", Secret: []byte("k"), ExpiresAt: time.Now().Add(-time.Minute)}
	rec := &recorder{}
	h := NewHandler(lyingRegistry{NewMemoryRegistry(), expired}, rec.fn, WithLogger(quiet))
	u := "/hooks?" + TokenParam + "=" + token
	body := delivery(1, "created", 2, `"e"`)
	if resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusUnauthorized || rec.count() != 0 {
		t.Fatalf("delivery for an expired registration: %d, %d events", resp.Code, rec.count())
	}
	if code := sendHandshake(h, u, "k"); code != http.StatusForbidden {
		t.Fatalf("handshake for an expired registration: %d", code)
	}
}

// naiveRegistry's SetSecret overwrites, as an "UPDATE ... SET secret = $2 WHERE token =
// $1" without the compare would.
type naiveRegistry struct{ *MemoryRegistry }

func (n naiveRegistry) SetSecret(ctx context.Context, token string, secret []byte) error {
	if err := n.Remove(ctx, token); err != nil {
		return err
	}
	return n.Add(ctx, Registration{Token: token, WebhookID: 1, Model: "matter", Secret: secret})
}

// Whoever learned the URL of a webhook whose handshake succeeded cannot replace its
// secret even through a Registry that does not compare before storing: the Handler
// refuses a handshake bringing another secret than the one it looked up.
func TestHandshakeDoesNotReplaceASecretWhateverTheRegistry(t *testing.T) {
	store := naiveRegistry{NewMemoryRegistry()}
	u := registered(t, store, 1, "clio")
	h := NewHandler(store, (&recorder{}).fn, WithLogger(quiet))
	if code := sendHandshake(h, u, "forger"); code != http.StatusForbidden {
		t.Fatalf("handshake with another secret: %d, want 403", code)
	}
	got, _ := store.Lookup(context.Background(), strings.TrimPrefix(u, "/hooks?"+TokenParam+"="))
	if string(got.Secret) != "clio" {
		t.Fatalf("the secret became %q", got.Secret)
	}
}
