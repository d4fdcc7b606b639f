package clio_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
)

// Register bounds the time a registration takes a handshake: here the receiver refuses
// Clio's (it was down), the webhook stays pending, and its registration must not stay
// open to a handshake from whoever learns the URL later.
func TestRegisterBoundsTheHandshakeWindow(t *testing.T) {
	t.Parallel()
	_, c, _ := fakeClient(t, []cliotest.Option{cliotest.WithInsecureWebhooks()})
	ctx := context.Background()
	rcv := newReceiver(t, webhook.WithHandshakeCheck(func(context.Context, webhook.Registration, *http.Request) error {
		return errors.New("receiver down")
	}))
	before := time.Now()
	w, _, err := c.Webhooks.Register(ctx, clio.WebhookParams{URL: rcv.URL + "/hooks", Model: "matter", Events: []string{"created"}},
		clio.UseWebhookRegistry(rcv.reg))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := rcv.reg.Lookup(ctx, webhook.TokenFromURL(w.Url))
	if err != nil {
		t.Fatal(err)
	}
	if reg.Secret != nil || reg.HandshakeBy.IsZero() || reg.HandshakeBy.Before(before) || reg.HandshakeBy.After(before.Add(time.Hour)) {
		t.Fatalf("registration after a refused handshake: secret %v, handshake by %s (registered at %s)", reg.Secret, reg.HandshakeBy, before)
	}
}
