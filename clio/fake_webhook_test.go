package clio_test

// Webhooks end to end against the fake Clio: registration through
// WebhooksService.Register, the X-Hook-Secret handshake answered by the
// clio/webhook handler (echoed, or stored and activated later), signed
// deliveries on matter changes decoded into typed events, and forged or
// replayed deliveries refused.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
	"github.com/clio-go/clio-go/gen"
)

// receiver is an httptest server running the clio/webhook handler; it
// keeps every event the handler let through.
type receiver struct {
	*httptest.Server
	reg    *webhook.MemoryRegistry
	mu     sync.Mutex
	events []webhook.Event
}

func newReceiver(t *testing.T, opts ...webhook.Option) *receiver {
	t.Helper()
	r := &receiver{reg: webhook.NewMemoryRegistry()}
	opts = append([]webhook.Option{webhook.WithDeduper(webhook.NewMemoryDeduper(100)),
		webhook.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	h := webhook.NewHandler(r.reg, func(_ context.Context, ev webhook.Event) error {
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
			handshook := make(chan webhook.Registration, 1)
			if mode == "echo" {
				rcv = newReceiver(t)
			} else {
				// The handler stores the secret instead of echoing it; the app activates
				// the webhook through the API once Register has its id.
				rcv = newReceiver(t, webhook.WithDelayedActivation(func(_ context.Context, reg webhook.Registration) error {
					handshook <- reg
					return nil
				}))
			}
			w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{
				URL:    rcv.URL + "/hooks",
				Model:  "matter",
				Events: []string{"created", "updated", "matter_closed"},
				Fields: clio.Fields("id", "etag", "description", "status"),
			}, clio.UseWebhookRegistry(rcv.reg))
			if err != nil {
				t.Fatal(err)
			}
			token := webhook.TokenFromURL(w.Url)
			reg, err := rcv.reg.Lookup(ctx, token)
			if err != nil || string(reg.Secret) != w.SharedSecret || reg.WebhookID != w.Id || reg.Model != "matter" {
				t.Fatalf("registration %+v (%v) does not match the webhook %d", reg, err, w.Id)
			}
			if mode != "echo" {
				if w.Status != "pending" {
					t.Fatalf("with delayed activation the webhook is %q, want pending", w.Status)
				}
				got := <-handshook
				if got.Token != token || string(got.Secret) != w.SharedSecret {
					t.Fatalf("the activation hook got %+v", got)
				}
				if _, err := c.Webhooks.Activate(ctx, reg.WebhookID, string(reg.Secret)); err != nil {
					t.Fatal(err)
				}
			} else if w.Status != "enabled" {
				t.Fatalf("after the handshake the webhook is %q, want enabled", w.Status)
			}
			secret := reg.Secret
			hookPath := strings.TrimPrefix(w.Url, rcv.URL)

			contact, _ := seedMatters(t, srv, 0)
			m, _, err := c.Matters.Create(ctx, nil, newMatter(contact, "Estate of X"))
			if err != nil {
				t.Fatal(err)
			}
			id := m.Id
			if _, _, err := c.Matters.Update(ctx, id, nil, gen.MatterUpdateInput{Description: clio.Ptr("Estate of Y")}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Matters.Update(ctx, id, nil, gen.MatterUpdateInput{Status: gen.MatterStatusClosed}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Matters.Delete(ctx, id); err != nil { // not watched
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
				if code := rcv.post(t, hookPath, tc.body, tc.sig); code != http.StatusUnauthorized {
					t.Fatalf("%s: answered %d, want 401", tc.name, code)
				}
			}
			// A replayed genuine delivery is acknowledged but handled once.
			if code := rcv.post(t, hookPath, body, ds[0].Signature); code != http.StatusOK {
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
		if _, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{Type: gen.ContactTypeCompany, Name: clio.Ptr(name)}); err != nil {
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

// Finding 1 of issue 11 against the fake: a stranger who can reach the receiver handshakes
// the webhook ids the app is about to get (they are sequential) with a secret of their
// own, then signs events. The handshakes are refused and store nothing; the app's own
// registration then completes with Clio's header-only handshake, and the forger's events
// for that webhook are refused while Clio's are accepted.
func TestFakeWebhookHandshakeSquattingRefused(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithInsecureWebhooks()})
	ctx := context.Background()
	rcv := newReceiver(t)
	forge := func(target string, body []byte, hdr, val string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, rcv.URL+target, bytes.NewReader(body))
		req.Header.Set(hdr, val)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The ids the next webhooks will get: the fake numbers them from 1.
	for id := int64(1); id <= 3; id++ {
		for _, target := range []string{"/hooks", fmt.Sprintf("/hooks?webhook_id=%d", id)} {
			for _, body := range []string{"", fmt.Sprintf(`{"meta":{"webhook_id":%d}}`, id), fmt.Sprintf(`{"data":{"id":%d}}`, id)} {
				if code := forge(target, []byte(body), webhook.HeaderSecret, "forger"); code != http.StatusForbidden {
					t.Fatalf("forged handshake for webhook %d at %s: %d, want 403", id, target, code)
				}
			}
		}
	}
	if n := rcv.reg.Len(); n != 0 {
		t.Fatalf("forged handshakes left %d registrations", n)
	}

	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: rcv.URL + "/hooks", Model: "matter", Events: []string{"created"}},
		clio.UseWebhookRegistry(rcv.reg))
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != "enabled" {
		t.Fatalf("the app's webhook is %q after Clio's handshake, want enabled", w.Status)
	}
	hookPath := strings.TrimPrefix(w.Url, rcv.URL)
	// The forger, even knowing the registered URL now, can neither replace the secret
	// nor sign events.
	if code := forge(hookPath, nil, webhook.HeaderSecret, "forger"); code != http.StatusForbidden {
		t.Fatalf("second handshake with the forger's secret: %d, want 403", code)
	}
	forged := fmt.Appendf(nil, `{"data":{"id":1,"etag":"\"x\""},"meta":{"event":"created","webhook_id":%d}}`, w.Id)
	for _, target := range []string{"/hooks", hookPath, fmt.Sprintf("/hooks?webhook_id=%d", w.Id)} {
		if code := forge(target, forged, webhook.HeaderSignature, webhook.Sign([]byte("forger"), forged)); code != http.StatusUnauthorized {
			t.Fatalf("forged event at %s: %d, want 401", target, code)
		}
	}
	if n := len(rcv.got()); n != 0 {
		t.Fatalf("%d forged events reached the app", n)
	}
	contact, _ := seedMatters(t, srv, 0)
	if _, _, err := c.Matters.Create(ctx, nil, newMatter(contact, "Real")); err != nil {
		t.Fatal(err)
	}
	if evs := rcv.got(); len(evs) != 1 || evs[0].WebhookID != w.Id || evs[0].Model != "matter" {
		t.Fatalf("Clio's delivery: %+v", evs)
	}
}

// A Register that Clio refuses leaves no registration behind; one whose URL already
// carries a token is refused before any request; Renew moves the registration's expiry.
func TestWebhookRegistryLifecycle(t *testing.T) {
	t.Parallel()
	_, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithInsecureWebhooks()})
	ctx := context.Background()
	rcv := newReceiver(t)

	// An unknown field passes the client's checks, and Clio refuses the creation.
	_, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: rcv.URL + "/hooks", Model: "matter", Events: []string{"created"},
		Fields: clio.Fields("no_such_field")}, clio.UseWebhookRegistry(rcv.reg))
	if err == nil {
		t.Fatal("Clio accepted a webhook with an unknown field")
	}
	if n := rcv.reg.Len(); n != 0 {
		t.Fatalf("a refused registration left %d entries", n)
	}
	_, _, err = c.Webhooks.Register(ctx, clio.WebhookParams{URL: rcv.URL + "/hooks?clio_hook=abc", Model: "matter", Events: []string{"created"}},
		clio.UseWebhookRegistry(rcv.reg))
	if ie, ok := errors.AsType[*clio.InputError](err); !ok || ie.Field != "URL" {
		t.Fatalf("URL with a token already: %v", err)
	}

	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: rcv.URL + "/hooks", Model: "contact", Events: []string{"created"},
		ExpiresIn: time.Hour}, clio.UseWebhookRegistry(rcv.reg))
	if err != nil {
		t.Fatal(err)
	}
	token := webhook.TokenFromURL(w.Url)
	reg, _ := rcv.reg.Lookup(ctx, token)
	if d := time.Until(reg.ExpiresAt); d < 59*time.Minute || d > 62*time.Minute {
		t.Fatalf("registration expires in %s, want about an hour (the webhook's life)", d)
	}
	until := time.Now().Add(10 * 24 * time.Hour)
	if _, _, err := c.Webhooks.Renew(ctx, w.Id, until, clio.UseWebhookRegistry(rcv.reg)); err != nil {
		t.Fatal(err)
	}
	reg, _ = rcv.reg.Lookup(ctx, token)
	if d := reg.ExpiresAt.Sub(until); d < -time.Second || d > 2*time.Minute {
		t.Fatalf("after Renew the registration expires at %s, want %s", reg.ExpiresAt, until)
	}
}
