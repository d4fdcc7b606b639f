package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHelpIsNotAnError(t *testing.T) {
	var out, usage strings.Builder
	if err := run(context.Background(), []string{"-h"}, &out, &usage); err != nil {
		t.Fatalf("run -h = %v, want nil (exit 0)", err)
	}
	if !strings.Contains(usage.String(), "-seed") || !strings.Contains(usage.String(), "-insecure-webhooks") {
		t.Fatalf("usage lacks the flags:\n%s", usage.String())
	}
	if err := run(context.Background(), []string{"-no-such-flag"}, &out, io.Discard); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	if err := run(context.Background(), []string{"stray"}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Fatalf("a stray argument: %v", err)
	}
}

func writeSeed(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeedIsServed(t *testing.T) {
	seed := writeSeed(t, `{
		"contacts": [{"id": 10, "type": "Person", "first_name": "Ada", "last_name": "Lovelace"}],
		"matters": [{"id": 3, "description": "Estate", "status": "Open", "client": {"id": 10}}]
	}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-rate-limit", "0", "-seed", seed}, pw, io.Discard)
		pw.Close()
	}()
	banner := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		banner[k] = strings.TrimSpace(v)
		if k == "try" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := strings.Fields(banner["Clio fake API"])
	if len(base) == 0 || banner["access token"] == "" {
		t.Fatalf("banner %v; run: %v", banner, <-done)
	}
	if !strings.HasPrefix(banner["API version"], "4.0.10 ") || !strings.HasPrefix(banner["webhooks"], "https only") {
		t.Fatalf("banner %v", banner)
	}
	req, _ := http.NewRequest("GET", base[0]+"/api/v4/matters/3.json?fields=description,client{name}", nil)
	req.Header.Set("Authorization", "Bearer "+banner["access token"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != `{"data":{"client":{"name":"Ada Lovelace"},"description":"Estate"}}` {
		t.Fatalf("seeded matter: %d %s", res.StatusCode, body)
	}
	// Webhooks: Clio's rule by default, as in the in-process fake.
	req, _ = http.NewRequest("POST", base[0]+"/api/v4/webhooks.json", strings.NewReader(`{"data":{"url":"http://127.0.0.1:9/hook","model":"matter","events":["created"]}}`))
	req.Header.Set("Authorization", "Bearer "+banner["access token"])
	req.Header.Set("Content-Type", "application/json")
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 422 || !strings.Contains(string(body), "https") {
		t.Fatalf("an http webhook without -insecure-webhooks: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestBadSeedFailsNamingTheField(t *testing.T) {
	for name, tc := range map[string]struct{ seed, says string }{
		"missing reference": {`{"matters": [{"description": "Estate", "client": {"id": 99}}]}`, "matters[0].client: no contacts record with id 99"},
		"unknown field":     {`{"contacts": [{"type": "Person", "first_name": "A"}, {"type": "Person", "shoe_size": 9}]}`, "contacts[1].shoe_size"},
		"not JSON":          {`{"matters": [`, "seed"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeSeed(t, tc.seed)
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-seed", p}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), p) {
				t.Fatalf("run = %v; want an error naming %s and %q", err, p, tc.says)
			}
		})
	}
	if err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-seed", filepath.Join(t.TempDir(), "none.json")}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Fatalf("a missing seed file: %v", err)
	}
}
