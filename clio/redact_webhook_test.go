package clio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/webhook"
)

// Register sends the receiver's URL with its clio_hook token, Clio handshakes it, and
// Clio's answer echoes it: at debug level, neither the client's log nor the receiver's
// (which logs refused requests) holds the token, the secret or a signature.
func TestFakeWebhookLogsNoTokenOrSecret(t *testing.T) {
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0), cliotest.WithInsecureWebhooks())
	t.Cleanup(srv.Close)
	logger, buf := debugLogger()
	reg := webhook.NewMemoryRegistry()
	rcv := httptest.NewServer(webhook.NewHandler(reg, func(context.Context, webhook.Event) error { return nil }, webhook.WithLogger(logger)))
	t.Cleanup(rcv.Close)
	c, err := NewClient(context.Background(), WithBaseURL(srv.URL), WithToken(srv.IssueToken().AccessToken), WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, _, err := c.Webhooks.Register(ctx, WebhookParams{URL: rcv.URL + "/hooks?model=matter", Model: "matter", Events: []string{"created"}},
		UseWebhookRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	token := webhook.TokenFromURL(w.Url)
	r, err := reg.Lookup(ctx, token)
	if err != nil || len(r.Secret) == 0 {
		t.Fatalf("registration %+v, %v", r, err)
	}
	// Requests the receiver refuses, and logs: a second secret, a bad signature.
	for _, hdr := range []string{webhook.HeaderSecret, webhook.HeaderSignature} {
		req, _ := http.NewRequest(http.MethodPost, w.Url, strings.NewReader(`{}`))
		req.Header.Set(hdr, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	out := buf.String()
	if !strings.Contains(out, "/webhooks.json") || !strings.Contains(out, "refused") {
		t.Fatalf("the log misses the requests the test checks:\n%s", out)
	}
	for _, s := range []string{token, string(r.Secret), "ffffffffffffffff"} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
}
