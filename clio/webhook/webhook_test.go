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

func newTestHandler(t *testing.T, opts ...Option) (*Handler, *MemorySecretStore, *recorder) {
	t.Helper()
	store := NewMemorySecretStore()
	rec := &recorder{}
	h := NewHandler(store, rec.fn, append([]Option{WithLogger(quiet)}, opts...)...)
	return h, store, rec
}

func TestHandshakeEcho(t *testing.T) {
	h, store, rec := newTestHandler(t)
	resp := post(t, h, "/hooks", []byte(`{"data":{"id":77}}`), map[string]string{HeaderSecret: "abc"})
	if resp.Code != http.StatusOK || resp.Header().Get(HeaderSecret) != "abc" {
		t.Fatalf("handshake: %d, echoed %q", resp.Code, resp.Header().Get(HeaderSecret))
	}
	if s, err := store.Secret(context.Background(), 77); err != nil || string(s) != "abc" {
		t.Fatalf("stored secret = %q, %v", s, err)
	}
	if rec.count() != 0 {
		t.Fatal("handshake reached the event function")
	}
	// Other places Clio (or the user's URL) may carry the id.
	for target, body := range map[string]string{
		"/hooks":               `{"meta":{"webhook_id":78}}`,
		"/hooks?webhook_id=79": ``,
		"/hooks?x=1":           `{"webhook_id":"80"}`,
	} {
		resp := post(t, h, target, []byte(body), map[string]string{HeaderSecret: "k"})
		if resp.Code != http.StatusOK {
			t.Errorf("handshake %s %s: %d", target, body, resp.Code)
		}
	}
	for _, id := range []int64{78, 79, 80} {
		if _, err := store.Secret(context.Background(), id); err != nil {
			t.Errorf("secret for %d not stored: %v", id, err)
		}
	}
	if resp := post(t, h, "/hooks", []byte(`{}`), map[string]string{HeaderSecret: "k"}); resp.Code != http.StatusBadRequest {
		t.Errorf("handshake without id: %d, want 400", resp.Code)
	}
}

func TestHandshakeDelayedAndChecked(t *testing.T) {
	var activated atomic.Int64
	h, store, _ := newTestHandler(t,
		WithDelayedActivation(func(_ context.Context, id int64, secret []byte) error {
			if string(secret) != "later" {
				return fmt.Errorf("secret %q", secret)
			}
			activated.Store(id)
			return nil
		}),
		WithHandshakeCheck(func(_ context.Context, id int64, _ *http.Request) error {
			if id != 5 {
				return errors.New("not one of ours")
			}
			return nil
		}))
	resp := post(t, h, "/", []byte(`{"id":5}`), map[string]string{HeaderSecret: "later"})
	if resp.Code != http.StatusOK || resp.Header().Get(HeaderSecret) != "" {
		t.Fatalf("delayed handshake: %d, echoed %q", resp.Code, resp.Header().Get(HeaderSecret))
	}
	if activated.Load() != 5 {
		t.Fatal("activation hook not called")
	}
	resp = post(t, h, "/", []byte(`{"id":6}`), map[string]string{HeaderSecret: "evil"})
	if resp.Code != http.StatusForbidden {
		t.Fatalf("unchecked handshake: %d, want 403", resp.Code)
	}
	if _, err := store.Secret(context.Background(), 6); !errors.Is(err, ErrUnknownWebhook) {
		t.Fatalf("refused handshake stored a secret: %v", err)
	}
}

func TestDeliveryVerified(t *testing.T) {
	h, store, rec := newTestHandler(t)
	store.SetSecret(context.Background(), 1234, []byte("sec"))
	body := delivery(1234, "created", 152, `"9a10"`)
	resp := post(t, h, "/hooks?model=activity", body, map[string]string{HeaderSignature: Sign([]byte("sec"), body)})
	if resp.Code != http.StatusOK {
		t.Fatalf("delivery: %d", resp.Code)
	}
	if rec.count() != 1 {
		t.Fatalf("handler called %d times", rec.count())
	}
	ev := rec.events[0]
	if ev.WebhookID != 1234 || ev.Name != "created" || ev.ID != 152 || ev.ETag != `"9a10"` || ev.Model != "activity" {
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
	store.SetSecret(context.Background(), 1, []byte("right"))
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
		"unknown webhook": {delivery(2, "updated", 9, `"e"`),
			map[string]string{HeaderSignature: Sign([]byte("right"), delivery(2, "updated", 9, `"e"`))}, http.StatusUnauthorized},
		"oversized":  {big, map[string]string{HeaderSignature: Sign([]byte("right"), big)}, http.StatusRequestEntityTooLarge},
		"not json":   {[]byte("hello"), map[string]string{HeaderSignature: Sign([]byte("right"), []byte("hello"))}, http.StatusBadRequest},
		"no webhook": {[]byte(`{"data":{}}`), nil, http.StatusBadRequest},
	}
	for name, c := range cases {
		if resp := post(t, h, "/", c.body, c.hdr); resp.Code != c.want {
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

func TestURLAndBodyIDMustAgree(t *testing.T) {
	h, store, rec := newTestHandler(t)
	store.SetSecret(context.Background(), 1, []byte("one"))
	body := delivery(2, "updated", 9, `"e"`)
	// Signed with webhook 1's secret but claiming to be webhook 2.
	resp := post(t, h, "/?webhook_id=1", body, map[string]string{HeaderSignature: Sign([]byte("one"), body)})
	if resp.Code != http.StatusBadRequest || rec.count() != 0 {
		t.Fatalf("mismatched ids: %d, %d calls", resp.Code, rec.count())
	}
}

func TestReplayDeduped(t *testing.T) {
	h, store, rec := newTestHandler(t)
	store.SetSecret(context.Background(), 1, []byte("k"))
	body := delivery(1, "updated", 9, `"v1"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}
	for i := range 3 {
		if resp := post(t, h, "/", body, sig); resp.Code != http.StatusOK {
			t.Fatalf("delivery %d: %d", i, resp.Code)
		}
	}
	if rec.count() != 1 {
		t.Fatalf("replayed delivery handled %d times, want 1", rec.count())
	}
	// A new etag is a new change: processed.
	body2 := delivery(1, "updated", 9, `"v2"`)
	post(t, h, "/", body2, map[string]string{HeaderSignature: Sign([]byte("k"), body2)})
	if rec.count() != 2 {
		t.Fatalf("new etag not processed: %d calls", rec.count())
	}
}

func TestFailureRetriedNotDeduped(t *testing.T) {
	h, store, rec := newTestHandler(t)
	store.SetSecret(context.Background(), 1, []byte("k"))
	body := delivery(1, "deleted", 9, `"v"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}
	rec.err = errors.New("database down")
	if resp := post(t, h, "/", body, sig); resp.Code != http.StatusInternalServerError {
		t.Fatalf("failing handler: %d, want 500", resp.Code)
	}
	rec.err = nil
	if resp := post(t, h, "/", body, sig); resp.Code != http.StatusOK {
		t.Fatalf("retry: %d", resp.Code)
	}
	if rec.count() != 2 {
		t.Fatalf("retry after failure: %d calls, want 2", rec.count())
	}
	rec.err = fmt.Errorf("stop: %w", ErrGone)
	body = delivery(1, "deleted", 10, `"v"`)
	if resp := post(t, h, "/", body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusGone {
		t.Fatalf("ErrGone: %d", resp.Code)
	}
}

func TestPanicReleasesClaim(t *testing.T) {
	store := NewMemorySecretStore()
	store.SetSecret(context.Background(), 1, []byte("k"))
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
		post(t, h, "/", body, sig)
	}()
	if resp := post(t, h, "/", body, sig); resp.Code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after panic: %d, %d calls", resp.Code, calls.Load())
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	store := NewMemorySecretStore()
	for id := int64(1); id <= 4; id++ {
		store.SetSecret(context.Background(), id, fmt.Appendf(nil, "secret-%d", id))
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
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
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
