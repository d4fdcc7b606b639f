package webhook_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/clio-go/clio-go/clio/webhook"
)

func ExampleSign() {
	// Build a signed delivery, as Clio would, e.g. to test a receiver.
	secret := []byte("secret-from-the-handshake")
	body := []byte(`{"data":{"id":152,"etag":"\"9a10\""},"meta":{"event":"created","webhook_id":1234}}`)
	sig := webhook.Sign(secret, body)
	fmt.Println(len(sig), webhook.Verify(secret, body, sig))
	// Output: 64 <nil>
}

func ExampleNewHandler() {
	// The registry is shared by the code that registers webhooks (clio's
	// Register with clio.UseWebhookRegistry) and this receiver; use one
	// backed by a database in production.
	registry := webhook.NewMemoryRegistry()
	type matter struct {
		ID            int64  `json:"id"`
		DisplayNumber string `json:"display_number"`
	}
	h := webhook.NewHandler(registry, func(ctx context.Context, ev webhook.Event) error {
		m, err := webhook.DecodeData[matter](ev)
		if err != nil {
			return err
		}
		fmt.Printf("%s %s %d %s\n", ev.Model, ev.Name, m.ID, m.DisplayNumber)
		return nil // a non-nil error answers 500 and Clio retries
	})
	mux := http.NewServeMux()
	mux.Handle("POST /clio/hooks", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// What Register does before creating the webhook: a registration with an
	// unguessable token, which goes into the webhook's URL.
	token, err := webhook.NewToken()
	if err != nil {
		log.Fatal(err)
	}
	if err := registry.Add(context.Background(), webhook.Registration{Token: token, Model: "matter"}); err != nil {
		log.Fatal(err)
	}
	url, _ := webhook.URLWithToken(srv.URL+"/clio/hooks", token)

	// 1. Clio's handshake, only the X-Hook-Secret header: stored and echoed.
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set(webhook.HeaderSecret, "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("handshake:", resp.StatusCode, resp.Header.Get(webhook.HeaderSecret))

	// The same handshake at a URL without a registration's token is refused.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/clio/hooks", nil)
	req.Header.Set(webhook.HeaderSecret, "forged")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("stranger's handshake:", resp.StatusCode)

	// 2. A signed delivery, sent twice: the handler runs once.
	body := `{"data":{"id":7,"etag":"\"a1\"","display_number":"00007-Smith"},"meta":{"event":"matter_opened","webhook_id":1234}}`
	for range 2 {
		req, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("s3cret"), []byte(body)))
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println("delivery:", resp.StatusCode)
	}
	// Output:
	// handshake: 200 s3cret
	// stranger's handshake: 403
	// matter matter_opened 7 00007-Smith
	// delivery: 200
	// delivery: 200
}
