package cliotest

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	echo   bool
	secret string
	got    []received
	status int
}

type received struct {
	sig  string
	body []byte
}

func newReceiver(t *testing.T, echo bool) *receiver {
	r := &receiver{echo: echo, status: 200}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if s := req.Header.Get("X-Hook-Secret"); s != "" {
			r.secret = s
			if r.echo {
				w.Header().Set("X-Hook-Secret", s)
			}
			return
		}
		r.got = append(r.got, received{sig: req.Header.Get("X-Hook-Signature"), body: b})
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) events(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, g := range r.got {
		if !hmac.Equal([]byte(g.sig), []byte(Sign(r.secret, g.body))) || strings.ToLower(g.sig) != g.sig {
			t.Fatalf("bad signature %q", g.sig)
		}
		var m map[string]any
		if err := json.Unmarshal(g.body, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestWebhookHandshakeAndDeliveries(t *testing.T) {
	for _, doc := range []struct {
		name string
		opt  []Option
	}{{"mini", []Option{WithDocument(miniDoc)}}, {"api", nil}} {
		t.Run(doc.name, func(t *testing.T) {
			f := newFixture(t, append(doc.opt, WithInsecureWebhooks())...)
			rcv := newReceiver(t, true)
			wh := f.must(201, "POST", "/api/v4/webhooks.json?fields=id,status,shared_secret,expires_at", data(map[string]any{
				"url": rcv.URL + "/hook", "model": "contact", "events": []any{"created", "updated", "deleted"}, "fields": "id,name",
			})).data()
			if wh["status"] != "enabled" || wh["shared_secret"] != rcv.secret {
				t.Fatalf("webhook: %v (secret %q)", wh, rcv.secret)
			}
			exp, _ := time.Parse(time.RFC3339, wh["expires_at"].(string))
			if d := time.Until(exp); d < 71*time.Hour || d > 73*time.Hour {
				t.Fatalf("default expiry %v away", d)
			}
			c := f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "Acme"})).data()
			path := "/api/v4/contacts/" + itoa(num(c["id"])) + ".json"
			f.must(200, "PATCH", path, data(map[string]any{"name": "Acme Inc"}))
			f.must(200, "PATCH", path, data(map[string]any{"type": "Company"})) // no watched field changed
			f.must(204, "DELETE", path, nil)
			evs := rcv.events(t)
			if len(evs) != 3 {
				t.Fatalf("got %d deliveries: %v", len(evs), evs)
			}
			for i, want := range []string{"created", "updated", "deleted"} {
				meta := evs[i]["meta"].(map[string]any)
				if meta["event"] != want || num(meta["webhook_id"]) != num(wh["id"]) || evs[i]["data"].(map[string]any)["name"] == nil {
					t.Fatalf("delivery %d: %v", i, evs[i])
				}
			}
			if evs[1]["data"].(map[string]any)["name"] != "Acme Inc" {
				t.Fatalf("update payload: %v", evs[1])
			}
			if n := len(f.s.Deliveries()); n != 3 {
				t.Fatalf("Deliveries() = %d", n)
			}
			// Other models are not delivered.
			f.must(201, "POST", "/api/v4/practice_areas.json", data(map[string]any{"name": "x"}))
			if n := f.s.Counters().WebhookDeliveries; n != 3 {
				t.Fatalf("WebhookDeliveries = %d", n)
			}
		})
	}
}

func TestWebhookActivationAndRules(t *testing.T) {
	f := newFixture(t, WithInsecureWebhooks())
	rcv := newReceiver(t, false)
	wh := f.must(201, "POST", "/api/v4/webhooks.json?fields=id,status", data(map[string]any{
		"url": rcv.URL, "model": "matter", "events": []any{"created"},
	})).data()
	if wh["status"] != "pending" || rcv.secret == "" {
		t.Fatalf("pending webhook: %v", wh)
	}
	act := "/api/v4/webhooks/" + itoa(num(wh["id"])) + "/activate.json"
	f.must(422, "PUT", act, nil, "X-Hook-Secret", "wrong")
	f.must(204, "PUT", act, nil, "X-Hook-Secret", rcv.secret) // the document says 204
	got := f.must(200, "GET", "/api/v4/webhooks/"+itoa(num(wh["id"]))+".json?fields=status", nil).data()
	if got["status"] != "enabled" {
		t.Fatalf("after activate: %v", got)
	}
	// Clio accepts numeric model ids (1 is matter), but api/openapi.yaml types model as a
	// string, so the request is refused by validation.
	f.must(422, "POST", "/api/v4/webhooks.json", data(map[string]any{"url": rcv.URL, "model": 1, "events": []any{"created"}}))
	for _, bad := range []map[string]any{
		{"url": rcv.URL, "model": "spaceship", "events": []any{"created"}},
		{"url": rcv.URL, "model": "matter", "events": []any{"created"}, "expires_at": time.Now().Add(32 * 24 * time.Hour).UTC().Format(time.RFC3339)},
		{"url": rcv.URL, "model": "matter", "events": []any{"created"}, "fields": "id,nope"},
		{"url": "ftp://x", "model": "matter", "events": []any{"created"}},
	} {
		f.must(422, "POST", "/api/v4/webhooks.json", data(bad))
	}
	// Without WithInsecureWebhooks, http is refused as on Clio.
	g := newFixture(t)
	if a := g.must(422, "POST", "/api/v4/webhooks.json", data(map[string]any{"url": rcv.URL, "model": "matter", "events": []any{"created"}})); !strings.Contains(string(a.raw), "https") {
		t.Fatalf("http webhook: %s", a.raw)
	}
}

func TestWebhookExpiryAndGone(t *testing.T) {
	clock := NewManualClock(time.Now().UTC())
	f := newFixture(t, WithInsecureWebhooks(), WithClock(clock.Now))
	rcv := newReceiver(t, true)
	f.must(201, "POST", "/api/v4/webhooks.json", data(map[string]any{
		"url": rcv.URL, "model": "contact", "events": []any{"created"}, "expires_at": clock.Now().Add(time.Hour).Format(time.RFC3339),
	}))
	f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "A"}))
	clock.Advance(2 * time.Hour)
	f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "B"}))
	if n := len(rcv.events(t)); n != 1 {
		t.Fatalf("deliveries after expiry: %d", n)
	}
	// A 410 answer disables the webhook.
	gone := newReceiver(t, true)
	gone.status = http.StatusGone
	wh := f.must(201, "POST", "/api/v4/webhooks.json?fields=id", data(map[string]any{"url": gone.URL, "model": "contact", "events": []any{"created"}})).data()
	f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "C"}))
	f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Company", "name": "D"}))
	if n := len(gone.events(t)); n != 1 {
		t.Fatalf("deliveries after 410: %d", n)
	}
	if st := f.must(200, "GET", "/api/v4/webhooks/"+itoa(num(wh["id"]))+".json?fields=status", nil).data()["status"]; st == "enabled" {
		t.Fatalf("webhook still enabled after 410")
	}
}

func TestMatterLifecycleEvents(t *testing.T) {
	f := newFixture(t, WithInsecureWebhooks())
	rcv := newReceiver(t, true)
	f.must(201, "POST", "/api/v4/webhooks.json", data(map[string]any{"url": rcv.URL, "model": "matter", "events": []any{"matter_closed"}, "fields": "id,status"}))
	_, mid := seedContactAndMatter(f)
	f.must(200, "PATCH", "/api/v4/matters/"+itoa(mid)+".json", data(map[string]any{"status": "Closed"}))
	evs := rcv.events(t)
	if len(evs) != 1 || evs[0]["meta"].(map[string]any)["event"] != "matter_closed" || evs[0]["data"].(map[string]any)["status"] != "Closed" {
		t.Fatalf("events %v", evs)
	}
	f.must(422, "POST", "/api/v4/webhooks.json", data(map[string]any{"url": rcv.URL, "model": "contact", "events": []any{"matter_closed"}}))
}
