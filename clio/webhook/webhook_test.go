package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func delivery(id int64, event string, recordID int64, etag string) []byte {
	b, _ := json.Marshal(map[string]any{
		"data": map[string]any{"id": recordID, "etag": etag},
		"meta": map[string]any{"event": event, "webhook_id": id},
	})
	return b
}

func post(t *testing.T, h http.Handler, target string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSignVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"data":{"id":1}}`)
	sig := Sign(secret, body)
	if sig != strings.ToLower(sig) || len(sig) != 64 {
		t.Fatalf("signature %q is not lowercase hex sha256", sig)
	}
	if err := Verify(secret, body, sig); err != nil {
		t.Fatalf("Verify(valid) = %v", err)
	}
	if err := Verify(secret, body, strings.ToUpper(sig)); err != nil {
		t.Fatalf("Verify(uppercase) = %v", err)
	}
	cases := map[string]struct {
		secret, body []byte
		sig          string
		want         error
	}{
		"missing":      {secret, body, "", ErrNoSignature},
		"wrong secret": {[]byte("other"), body, sig, ErrBadSignature},
		"altered body": {secret, []byte(`{"data":{"id":2}}`), sig, ErrBadSignature},
		"not hex":      {secret, body, "zz" + sig[2:], ErrBadSignature},
		"truncated":    {secret, body, sig[:62], ErrBadSignature},
		"empty secret": {nil, body, Sign(nil, body), ErrBadSignature},
	}
	for name, c := range cases {
		if err := Verify(c.secret, c.body, c.sig); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, c.want)
		}
	}
}

type recorder struct {
	mu     sync.Mutex
	events []Event
	err    error
}

func (r *recorder) fn(_ context.Context, ev Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// registered adds a registration of webhook id whose handshake brought secret
// ("" for none yet) and returns the URL path Clio posts to for it.
func registered(t testing.TB, reg Registry, id int64, secret string) string {
	t.Helper()
	token, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	r := Registration{Token: token, WebhookID: id, Model: "matter", ExpiresAt: time.Now().Add(time.Hour)}
	if secret != "" {
		r.Secret = []byte(secret)
	}
	if err := reg.Add(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return "/hooks?" + TokenParam + "=" + token
}

func newTestHandler(t *testing.T, opts ...Option) (*Handler, *MemoryRegistry, *recorder) {
	t.Helper()
	store := NewMemoryRegistry()
	rec := &recorder{}
	h := NewHandler(store, rec.fn, append([]Option{WithLogger(quiet)}, opts...)...)
	return h, store, rec
}

// Clio's handshake carries only X-Hook-Secret (no webhook id anywhere): the token in the
// URL names the registration, and the secret is stored there and echoed.
func TestHandshakeEcho(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 0, "")
	resp := post(t, h, u, nil, map[string]string{HeaderSecret: "abc"})
	if resp.Code != http.StatusOK || resp.Header().Get(HeaderSecret) != "abc" {
		t.Fatalf("handshake: %d, echoed %q", resp.Code, resp.Header().Get(HeaderSecret))
	}
	got, err := store.Lookup(context.Background(), TokenFromURL(u))
	if err != nil || string(got.Secret) != "abc" {
		t.Fatalf("stored secret = %q, %v", got.Secret, err)
	}
	if rec.count() != 0 {
		t.Fatal("handshake reached the event function")
	}
	// A body naming a webhook id changes nothing: the token decides.
	u2 := registered(t, store, 0, "")
	if resp := post(t, h, u2, []byte(`{"meta":{"webhook_id":78}}`), map[string]string{HeaderSecret: "k"}); resp.Code != http.StatusOK {
		t.Errorf("handshake with a body: %d", resp.Code)
	}
}

func TestHandshakeDelayedAndChecked(t *testing.T) {
	var activated atomic.Int64
	h, store, _ := newTestHandler(t,
		WithDelayedActivation(func(_ context.Context, reg Registration) error {
			if string(reg.Secret) != "later" {
				return fmt.Errorf("secret %q", reg.Secret)
			}
			activated.Store(reg.WebhookID)
			return nil
		}),
		WithHandshakeCheck(func(_ context.Context, reg Registration, _ *http.Request) error {
			if reg.WebhookID != 5 {
				return errors.New("not approved")
			}
			return nil
		}))
	u := registered(t, store, 5, "")
	resp := post(t, h, u, nil, map[string]string{HeaderSecret: "later"})
	if resp.Code != http.StatusOK || resp.Header().Get(HeaderSecret) != "" {
		t.Fatalf("delayed handshake: %d, echoed %q", resp.Code, resp.Header().Get(HeaderSecret))
	}
	if activated.Load() != 5 {
		t.Fatal("activation hook not called")
	}
	u6 := registered(t, store, 6, "")
	resp = post(t, h, u6, nil, map[string]string{HeaderSecret: "evil"})
	if resp.Code != http.StatusForbidden {
		t.Fatalf("handshake the check refuses: %d, want 403", resp.Code)
	}
	if got, _ := store.Lookup(context.Background(), TokenFromURL(u6)); got.Secret != nil {
		t.Fatalf("refused handshake stored a secret: %q", got.Secret)
	}
}

func TestDeliveryVerified(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 1234, "sec")
	body := delivery(1234, "created", 152, `"9a10"`)
	resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("sec"), body)})
	if resp.Code != http.StatusOK {
		t.Fatalf("delivery: %d", resp.Code)
	}
	if rec.count() != 1 {
		t.Fatalf("handler called %d times", rec.count())
	}
	ev := rec.events[0]
	if ev.WebhookID != 1234 || ev.Name != "created" || ev.ID != 152 || ev.ETag != `"9a10"` || ev.Model != "matter" {
		t.Fatalf("event = %+v", ev)
	}
	type activity struct {
		ID   int64  `json:"id"`
		ETag string `json:"etag"`
	}
	a, err := DecodeData[activity](ev)
	if err != nil || a.ID != 152 {
		t.Fatalf("DecodeData = %+v, %v", a, err)
	}
}

func TestDeliveryRefused(t *testing.T) {
	h, store, rec := newTestHandler(t, WithMaxBodyBytes(512))
	u := registered(t, store, 1, "right")
	body := delivery(1, "updated", 9, `"e"`)
	big := delivery(1, "updated", 9, strings.Repeat("x", 600))
	cases := map[string]struct {
		body []byte
		hdr  map[string]string
		want int
	}{
		"missing signature": {body, nil, http.StatusUnauthorized},
		"forged signature":  {body, map[string]string{HeaderSignature: strings.Repeat("ab", 32)}, http.StatusUnauthorized},
		"wrong secret":      {body, map[string]string{HeaderSignature: Sign([]byte("wrong"), body)}, http.StatusUnauthorized},
		"tampered body": {delivery(1, "updated", 10, `"e"`),
			map[string]string{HeaderSignature: Sign([]byte("right"), body)}, http.StatusUnauthorized},
		"another webhook's id": {delivery(2, "updated", 9, `"e"`),
			map[string]string{HeaderSignature: Sign([]byte("right"), delivery(2, "updated", 9, `"e"`))}, http.StatusUnauthorized},
		"oversized":            {big, map[string]string{HeaderSignature: Sign([]byte("right"), big)}, http.StatusRequestEntityTooLarge},
		"not json":             {[]byte("hello"), map[string]string{HeaderSignature: Sign([]byte("right"), []byte("hello"))}, http.StatusBadRequest},
		"unsigned, no webhook": {[]byte(`{"data":{}}`), nil, http.StatusUnauthorized},
	}
	for name, c := range cases {
		if resp := post(t, h, u, c.body, c.hdr); resp.Code != c.want {
			t.Errorf("%s: %d, want %d", name, resp.Code, c.want)
		}
	}
	if rec.count() != 0 {
		t.Fatalf("refused deliveries reached the event function %d times", rec.count())
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
}

// A delivery is verified with the secret of its URL's registration only: signing with
// webhook 1's secret and naming webhook 2, or sending webhook 1's token with webhook 2's
// signature, is refused; so is a URL without a token or with an unknown one.
func TestDeliveryBoundToItsRegistration(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u1 := registered(t, store, 1, "one")
	u2 := registered(t, store, 2, "two")
	pending := registered(t, store, 3, "")
	body2 := delivery(2, "updated", 9, `"e"`)
	cases := map[string]struct {
		target string
		body   []byte
		secret string
	}{
		"id of another webhook": {u1, body2, "one"},
		"secret of another":     {u1, body2, "two"},
		"no token":              {"/hooks", body2, "two"},
		"unknown token":         {"/hooks?" + TokenParam + "=" + strings.Repeat("A", 43), body2, "two"},
		"no handshake yet":      {pending, delivery(3, "updated", 9, `"e"`), ""},
	}
	for name, c := range cases {
		if resp := post(t, h, c.target, c.body, map[string]string{HeaderSignature: Sign([]byte(c.secret), c.body)}); resp.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.Code)
		}
	}
	if rec.count() != 0 {
		t.Fatalf("refused deliveries ran the event function %d times", rec.count())
	}
	if resp := post(t, h, u2, body2, map[string]string{HeaderSignature: Sign([]byte("two"), body2)}); resp.Code != http.StatusOK || rec.count() != 1 {
		t.Fatalf("genuine delivery: %d, %d calls", resp.Code, rec.count())
	}
}

func TestReplayDeduped(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 1, "k")
	body := delivery(1, "updated", 9, `"v1"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}
	for i := range 3 {
		if resp := post(t, h, u, body, sig); resp.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i, resp.Code)
		}
	}
	if rec.count() != 1 {
		t.Fatalf("replayed delivery handled %d times, want 1", rec.count())
	}
	// A new etag is a new change: processed.
	body2 := delivery(1, "updated", 9, `"v2"`)
	post(t, h, u, body2, map[string]string{HeaderSignature: Sign([]byte("k"), body2)})
	if rec.count() != 2 {
		t.Fatalf("new etag not processed: %d calls", rec.count())
	}
}

func TestFailureRetriedNotDeduped(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 1, "k")
	body := delivery(1, "deleted", 9, `"v"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}
	rec.err = errors.New("database down")
	if resp := post(t, h, u, body, sig); resp.Code != http.StatusInternalServerError {
		t.Fatalf("failing handler: %d, want 500", resp.Code)
	}
	rec.err = nil
	if resp := post(t, h, u, body, sig); resp.Code != http.StatusOK {
		t.Fatalf("retry: %d", resp.Code)
	}
	if rec.count() != 2 {
		t.Fatalf("retry after failure: %d calls, want 2", rec.count())
	}
	rec.err = fmt.Errorf("stop: %w", ErrGone)
	body = delivery(1, "deleted", 10, `"v"`)
	if resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusGone {
		t.Fatalf("ErrGone: %d", resp.Code)
	}
}

func TestPanicReleasesClaim(t *testing.T) {
	store := NewMemoryRegistry()
	u := registered(t, store, 1, "k")
	var calls atomic.Int32
	h := NewHandler(store, func(context.Context, Event) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, WithLogger(quiet))
	body := delivery(1, "created", 3, `"x"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}
	func() {
		defer func() { recover() }()
		post(t, h, u, body, sig)
	}()
	if resp := post(t, h, u, body, sig); resp.Code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after panic: %d, %d calls", resp.Code, calls.Load())
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	store := NewMemoryRegistry()
	urls := map[int64]string{}
	for id := int64(1); id <= 4; id++ {
		urls[id] = registered(t, store, id, fmt.Sprintf("secret-%d", id))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	release := make(chan struct{})
	h := NewHandler(store, func(_ context.Context, ev Event) error {
		<-release
		mu.Lock()
		seen[fmt.Sprintf("%d/%d", ev.WebhookID, ev.ID)]++
		mu.Unlock()
		return nil
	}, WithLogger(quiet))
	srv := httptest.NewServer(h)
	defer srv.Close()

	const records = 25
	var wg sync.WaitGroup
	var conflicts, oks atomic.Int32
	send := func(id, rec int64) {
		defer wg.Done()
		body := delivery(id, "updated", rec, fmt.Sprintf(`"%d"`, rec))
		req, _ := http.NewRequest(http.MethodPost, srv.URL+urls[id], strings.NewReader(string(body)))
		req.Header.Set(HeaderSignature, Sign(fmt.Appendf(nil, "secret-%d", id), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			oks.Add(1)
		case http.StatusConflict:
			conflicts.Add(1)
		default:
			t.Errorf("status %d", resp.StatusCode)
		}
	}
	// Every event is sent twice at once: one copy is processed, the other
	// is either a 409 (first copy in flight) or a 200 duplicate.
	for id := int64(1); id <= 4; id++ {
		for rec := int64(1); rec <= records; rec++ {
			wg.Add(2)
			go send(id, rec)
			go send(id, rec)
		}
	}
	close(release)
	wg.Wait()
	if len(seen) != 4*records {
		t.Fatalf("distinct events handled = %d, want %d", len(seen), 4*records)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("event %s handled %d times", k, n)
		}
	}
	if int(oks.Load()+conflicts.Load()) != 2*4*records {
		t.Errorf("answers: %d ok + %d conflict", oks.Load(), conflicts.Load())
	}
}

func TestMemoryDeduperBounded(t *testing.T) {
	d := NewMemoryDeduper(3)
	ctx := context.Background()
	for i := range 10 {
		k := fmt.Sprint(i)
		if s, _ := d.Claim(ctx, k); s != ClaimNew {
			t.Fatalf("claim %s = %v", k, s)
		}
		d.Finish(ctx, k, true)
	}
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	if s, _ := d.Claim(ctx, "9"); s != ClaimDone {
		t.Fatalf("recent key: %v", s)
	}
	if s, _ := d.Claim(ctx, "0"); s != ClaimNew {
		t.Fatalf("evicted key: %v", s)
	}
	// In-progress keys are not evicted by completed ones.
	for i := 10; i < 20; i++ {
		k := fmt.Sprint(i)
		d.Claim(ctx, k)
		d.Finish(ctx, k, true)
	}
	if s, _ := d.Claim(ctx, "0"); s != ClaimInProgress {
		t.Fatalf("in-progress key after churn: %v", s)
	}
}
