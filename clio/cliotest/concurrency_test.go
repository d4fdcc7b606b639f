package cliotest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestConcurrentClients(t *testing.T) {
	f := mini(t, WithInsecureWebhooks())
	rcv := newReceiver(t, true)
	f.must(201, "POST", "/api/v4/webhooks.json", data(map[string]any{"url": rcv.URL, "model": "contact", "events": []any{"created", "updated"}}))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				body := fmt.Sprintf(`{"data":{"type":"Company","name":"C%d-%d"}}`, g, i)
				req, _ := http.NewRequest("POST", f.s.URL+"/api/v4/contacts.json", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+f.tok)
				req.Header.Set("Content-Type", "application/json")
				res, err := f.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != 201 {
					t.Errorf("status %d", res.StatusCode)
				}
				req, _ = http.NewRequest("GET", f.s.URL+"/api/v4/contacts.json?fields=id,name&limit=5", nil)
				req.Header.Set("Authorization", "Bearer "+f.tok)
				if res, err := f.c.Do(req); err == nil {
					res.Body.Close()
				}
			}
		}(g)
	}
	wg.Wait()
	if n := f.s.Count("contacts"); n != 80 {
		t.Fatalf("contacts = %d", n)
	}
	if n := len(rcv.events(t)); n != 80 {
		t.Fatalf("deliveries = %d", n)
	}
}
