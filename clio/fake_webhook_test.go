package clio_test

// Webhooks end to end against the fake Clio: registration through
// WebhooksService.Register, the X-Hook-Secret handshake answered by the
// clio/webhook handler (echoed, or stored and activated later), signed
// deliveries on matter changes decoded into typed events, and forged or
// replayed deliveries refused.

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
	"github.com/clio-go/clio-go/gen"
)

// receiver is an httptest server running the clio/webhook handler; it
// keeps every event the handler let through.
type receiver struct {
	*httptest.Server
	store  *webhook.MemorySecretStore
	mu     sync.Mutex
	events []webhook.Event
}

func newReceiver(t *testing.T, opts ...webhook.Option) *receiver {
	t.Helper()
	r := &receiver{store: webhook.NewMemorySecretStore()}
	opts = append([]webhook.Option{webhook.WithDeduper(webhook.NewMemoryDeduper(100)),
		webhook.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	h := webhook.NewHandler(r.store, func(_ context.Context, ev webhook.Event) error {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
		return nil
	}, opts...)
	r.Server = httptest.NewServer(h)
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []webhook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Event(nil), r.events...)
}

func (r *receiver) post(t *testing.T, path string, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(webhook.HeaderSignature, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type matterEvent struct {
	ID          int64  `json:"id"`
	Description string `json:"description"`
	Status      string `json:"status"`
}

// The whole loop: register, handshake, matter created / updated / closed
// → verified, typed events; the fake's signatures check out; forged,
// altered and replayed deliveries are refused or ignored.
func TestFakeWebhookDeliveries(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"echo", "delayed activation"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithInsecureWebhooks()})
			ctx := context.Background()
			var rcv *receiver
			if mode == "echo" {
				rcv = newReceiver(t)
			} else {
				// The handler stores the secret and activates the webhook
				// through the API instead of echoing it.
				rcv = newReceiver(t, webhook.WithDelayedActivation(func(ctx context.Context, id int64, secret []byte) error {
					_, err := c.Webhooks.Activate(ctx, id, string(secret))
					return err
				}))
			}
			w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{
				URL:    rcv.URL + "/hooks?model=matter",
				Model:  "matter",
				Events: []string{"created", "updated", "matter_closed"},
				Fields: clio.Fields("id", "etag", "description", "status"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if w.Status != "enabled" {
				t.Fatalf("after the handshake the webhook is %q, want enabled", w.Status)
			}
			secret, err := rcv.store.Secret(ctx, w.Id)
			if err != nil || string(secret) != w.SharedSecret {
				t.Fatalf("receiver's secret %q (%v) differs from the webhook's", secret, err)
			}

			contact, _ := seedMatters(srv, 0)
			m, _, err := c.Matters.Create(ctx, nil, newMatter(contact, "Estate of X"))
			if err != nil {
				t.Fatal(err)
			}
			id := m.Id
			if _, _, err := c.Matters.Update(ctx, id, nil, gen.UpdateMatterJSONRequestBody{Data: gen.MatterUpdateInput{Description: clio.Ptr("Estate of Y")}}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Matters.Update(ctx, id, nil, gen.UpdateMatterJSONRequestBody{Data: gen.MatterUpdateInput{Status: gen.MatterStatusClosed}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Matters.Delete(ctx, id, nil); err != nil { // not watched
				t.Fatal(err)
			}

			// Deliveries are sent before the API answers, so they are in.
			evs := rcv.got()
			want := []struct{ name, desc, status string }{
				{"created", "Estate of X", "Open"},
				{"updated", "Estate of Y", "Open"},
				{"updated", "Estate of Y", "Closed"},
				{"matter_closed", "Estate of Y", "Closed"},
			}
			if len(evs) != len(want) {
				t.Fatalf("received %d events, want %d: %+v", len(evs), len(want), evs)
			}
			for i, ev := range evs {
				d, err := webhook.DecodeData[matterEvent](ev)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Model != "matter" || ev.Name != want[i].name || ev.WebhookID != w.Id || ev.ID != id ||
					d.ID != id || d.Description != want[i].desc || d.Status != want[i].status || ev.ETag == "" {
					t.Fatalf("event %d = %+v %+v, want %s of matter %d (%s, %s)", i, ev, d, want[i].name, id, want[i].desc, want[i].status)
				}
			}
			ds := srv.Deliveries()
			if len(ds) != len(want) {
				t.Fatalf("the fake sent %d deliveries", len(ds))
			}
			for _, d := range ds {
				if d.Status != http.StatusOK || d.Signature != webhook.Sign(secret, d.Body) || d.Signature != strings.ToLower(d.Signature) {
					t.Fatalf("delivery %+v", d)
				}
			}

			// Refused: each answered 401 and never reaches the event function.
			body := ds[0].Body
			other := cliotest.Sign("another-secret", body)
			altered := bytes.Replace(body, []byte("Estate of X"), []byte("Estate of Z"), 1)
			for _, tc := range []struct {
				name string
				body []byte
				sig  string
			}{
				{"no signature", body, ""},
				{"signed with another secret", body, other},
				{"garbage signature", body, "zz" + ds[0].Signature[2:]},
				{"uppercase hex of a wrong signature", body, strings.ToUpper(other)},
				{"altered body, original signature", altered, ds[0].Signature},
				{"truncated signature", body, ds[0].Signature[:32]},
			} {
				if code := rcv.post(t, "/hooks?model=matter", tc.body, tc.sig); code != http.StatusUnauthorized {
					t.Fatalf("%s: answered %d, want 401", tc.name, code)
				}
			}
			// A replayed genuine delivery is acknowledged but handled once.
			if code := rcv.post(t, "/hooks?model=matter", body, ds[0].Signature); code != http.StatusOK {
				t.Fatalf("replay answered %d", code)
			}
			if n := len(rcv.got()); n != len(want) {
				t.Fatalf("the event function ran %d times, want %d", n, len(want))
			}
		})
	}
}

// A webhook whose receiver neither echoes nor activates stays pending and
// gets no deliveries; Activate with the handshake's secret turns them on.
func TestFakeWebhookPendingUntilActivated(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithInsecureWebhooks()})
	sink := newHookSink(t)
	ctx := context.Background()
	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: sink.URL, Model: "contact", Events: []string{"created"}})
	if err != nil || w.Status != "pending" {
		t.Fatalf("%v %v", err, w.Status)
	}
	mk := func(name string) {
		t.Helper()
		if _, _, err := c.Contacts.Create(ctx, nil, gen.CreateContactJSONRequestBody{Data: gen.ContactCreateInput{Type: gen.ContactTypeCompany, Name: clio.Ptr(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("Before")
	if n := len(srv.Deliveries()); n != 0 {
		t.Fatalf("a pending webhook got %d deliveries", n)
	}
	if _, err := c.Webhooks.Activate(ctx, w.Id, sink.lastSecret()); err != nil {
		t.Fatal(err)
	}
	mk("After")
	ds := srv.Deliveries()
	if len(ds) != 1 || ds[0].Event != "created" || ds[0].Signature != cliotest.Sign(sink.lastSecret(), ds[0].Body) {
		t.Fatalf("deliveries after activation: %+v", ds)
	}
}
