package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clio-go/clio-go/clio/cliotest"
)

// consent follows the authorize URL as a browser would: the fake consents and redirects
// to the loopback callback.
func consent(t *testing.T) func(string) error {
	return func(u string) error {
		go func() {
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("following the authorize URL: %v", err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
}

func TestLoginSavesATokenOnlyItsOwnerCanRead(t *testing.T) {
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0))
	defer srv.Close()
	client := map[string]any{"id": srv.MustInsert(t, "contacts", map[string]any{"type": "Person", "name": "Ada Lovelace"})[0]}
	srv.MustInsert(t, "matters", map[string]any{"description": "Estate", "client": client}, map[string]any{"description": "Lease", "client": client},
		map[string]any{"description": "Patent", "client": client})
	openBrowser = consent(t)
	defer func() { openBrowser = nil }()
	tokFile := filepath.Join(t.TempDir(), "cfg", "token.json")
	creds := []string{"--base-url", srv.URL, "--client-id", cliotest.DefaultClientID, "--client-secret", cliotest.DefaultClientSecret, "--token-file", tokFile}
	out, _, err := run(t, context.Background(), append([]string{"login", "--port", "0"}, creds...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	st, err := os.Stat(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the token file is %v, want -rw-------", st.Mode().Perm())
	}
	if dir, _ := os.Stat(filepath.Dir(tokFile)); dir.Mode().Perm() != 0o700 {
		t.Errorf("the token directory is %v, want drwx------", dir.Mode().Perm())
	}
	if !strings.Contains(out, "/oauth/authorize?") || !strings.Contains(out, "Logged in") {
		t.Errorf("login printed:\n%s", out)
	}

	// The saved token serves `clio api`, page after page.
	stdout, stderr, err := run(t, context.Background(), append([]string{"api", "get", "/matters.json", "--fields", "id,description", "--paginate"}, creds...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var recs []struct {
		ID          int64  `json:"id"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(stdout), &recs); err != nil {
		t.Fatalf("--paginate printed no JSON array: %v\n%s", err, stdout)
	}
	if len(recs) != 3 || recs[2].Description != "Patent" {
		t.Errorf("--paginate printed %+v", recs)
	}
	stdout, _, err = run(t, context.Background(), append([]string{"api", "POST", "contacts.json", "-d", `{"data":{"type":"Person","first_name":"Ada","last_name":"Lovelace"}}`, "--fields", "id,name"}, creds...)...)
	if err != nil || !strings.Contains(stdout, `"name": "Ada Lovelace"`) {
		t.Errorf("api POST: %v\n%s", err, stdout)
	}
	_, stderr, err = run(t, context.Background(), append([]string{"api", "GET", "matters/999.json"}, creds...)...)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(stderr, "RecordNotFound") {
		t.Errorf("a missing record gave %v\n%s", err, stderr)
	}
}

func TestLoginRefusesAForgedRedirect(t *testing.T) {
	srv := cliotest.NewServer(cliotest.WithT(t))
	defer srv.Close()
	openBrowser = func(u string) error {
		go func() {
			// A redirect that did not come from this login's consent page.
			au, _ := url.Parse(u)
			resp, err := http.Get(au.Query().Get("redirect_uri") + "?code=stolen&state=other")
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
	defer func() { openBrowser = nil }()
	tokFile := filepath.Join(t.TempDir(), "token.json")
	_, _, err := run(t, context.Background(), "login", "--port", "0", "--base-url", srv.URL, "--client-id", cliotest.DefaultClientID,
		"--client-secret", cliotest.DefaultClientSecret, "--token-file", tokFile)
	if err == nil || !strings.Contains(err.Error(), "state") {
		t.Errorf("a forged redirect gave %v", err)
	}
	if _, err := os.Stat(tokFile); err == nil {
		t.Error("a token was saved from a forged redirect")
	}
}

func TestAPIRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"api", "--fake", "FETCH", "matters.json"},
		{"api", "--fake", "POST", "matters.json", "--paginate"},
		{"api", "--fake", "POST", "matters.json", "-d", "{not json"},
		{"api", "--fake", "GET", "matters.json", "--fields", "id,client{id"},
		{"api", "--fake", "GET", "https://evil.example/x.json"},
		{"login", "--fake"},
		{"login", "--client-id", "", "--client-secret", ""},
	} {
		t.Setenv("CLIO_CLIENT_ID", "")
		if _, _, err := run(t, context.Background(), args...); err == nil {
			t.Errorf("clio %s was accepted", strings.Join(args, " "))
		}
	}
}
