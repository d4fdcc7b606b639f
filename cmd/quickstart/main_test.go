package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio/cliotest"
)

// The README's first command: with no configuration the quickstart walks every step
// against the embedded fake and says so.
func TestQuickstartAgainstTheFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"1. Authorized through the authorization-code flow",
		"2. Created contact \"Ada Lovelace\"",
		"3. Listed 3 matters in 2 pages with fields=id,display_number,description,client{id,name}",
		"yields the same 3 matters",
		"4. Uploaded",
		"downloaded them back identical",
		"5. Received and verified a signed \"created\" webhook",
		"Done: 5 steps against the embedded fake Clio",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickstartRefusesHalfCredentials(t *testing.T) {
	env := map[string]string{"CLIO_CLIENT_ID": "id"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "CLIO_CLIENT_SECRET") {
		t.Fatalf("err = %v, want one naming CLIO_CLIENT_SECRET", err)
	}
}

func TestQuickstartRefusesAnUnknownRegion(t *testing.T) {
	env := map[string]string{"CLIO_CLIENT_ID": "id", "CLIO_CLIENT_SECRET": "s", "CLIO_REGION": "mars"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "mars") {
		t.Fatalf("err = %v, want one naming the region", err)
	}
}

// The "real Clio" path, against the fake standing in for it through CLIO_BASE_URL: a token
// from the environment (refreshed first, with the app's credentials), a webhook delivered to
// the URL the environment names, and everything the run created deleted at the end.
func TestQuickstartAgainstAConfiguredHost(t *testing.T) {
	srv := cliotest.NewServer(cliotest.WithInsecureWebhooks(), cliotest.WithRateLimit(0, 0))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookAddr := ln.Addr().String()
	ln.Close()
	for name, env := range map[string]map[string]string{
		"refresh token": {"CLIO_CLIENT_ID": cliotest.DefaultClientID, "CLIO_CLIENT_SECRET": cliotest.DefaultClientSecret,
			"CLIO_REFRESH_TOKEN": srv.IssueToken().RefreshToken},
		"access token": {"CLIO_ACCESS_TOKEN": srv.IssueToken().AccessToken},
	} {
		t.Run(name, func(t *testing.T) {
			env["CLIO_BASE_URL"] = srv.URL
			env["CLIO_WEBHOOK_LISTEN"] = hookAddr
			env["CLIO_WEBHOOK_URL"] = "http://" + hookAddr + "/clio/webhooks"
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out bytes.Buffer
			if err := run(ctx, &out, func(k string) string { return env[k] }); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for _, want := range []string{"1. Authorized with the token from the environment", "5. Received and verified", "Done: 5 steps against Clio at " + srv.URL} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if n := srv.Count("matters") + srv.Count("contacts") + srv.Count("documents") + srv.Count("webhooks"); n != 0 {
				t.Errorf("%d records left behind; the quickstart deletes what it creates in real Clio", n)
			}
		})
	}
}

func TestQuickstartRefusesABaseURLWithoutCredentials(t *testing.T) {
	env := map[string]string{"CLIO_BASE_URL": "http://127.0.0.1:1"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "CLIO_ACCESS_TOKEN") {
		t.Fatalf("err = %v, want one asking for credentials", err)
	}
}
