package clio

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

type coreSyncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *coreSyncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *coreSyncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestLoggingRedactsSecrets(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=cookie-secret")
		if hits.Add(1) == 1 {
			coreClioError(w, 503, "", "busy")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	var buf coreSyncBuf
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newCoreClient(t, srv, WithLogger(logger))

	path := "/api/v4/matters.json?access_token=at-secret&refresh_token=rt-secret&client_secret=cs-secret&code=code-secret&custom_action_nonce=nonce-secret&X-Amz-Signature=sig-secret&fields=id"
	form := url.Values{"client_secret": {"form-secret"}, "refresh_token": {"form-rt"}, "grant_type": {"refresh_token"}}
	req, _ := http.NewRequest("PUT", c.BaseURL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Hook-Secret", "hook-secret")
	req.Header.Set("Cookie", "c=cookie2-secret")
	if _, _, err := Do[coreRec](context.Background(), c, Request{HTTP: req}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{coreToken, "at-secret", "rt-secret", "cs-secret", "code-secret", "nonce-secret", "sig-secret", "form-secret", "form-rt", "hook-secret", "cookie-secret", "cookie2-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"msg":"clio retry"`, `"msg":"clio request"`, `"method":"PUT"`, `"status":200`, `"attempts":2`, `"duration"`, "REDACTED", `fields=id`, `"grant_type=refresh_token`} {
		if !strings.Contains(out, want) && !strings.Contains(out, strings.TrimPrefix(want, `"`)) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://user:pw@s3.example/b?X-Amz-Credential=cred&x-amz-signature=sig&partNumber=2")
	got := sanitizeURL(u)
	if strings.Contains(got, "pw") || strings.Contains(got, "cred") || strings.Contains(got, "sig&") || !strings.Contains(got, "partNumber=2") {
		t.Fatalf("sanitized %s", got)
	}
	plain, _ := url.Parse("https://app.clio.com/api/v4/matters.json?fields=id")
	if sanitizeURL(plain) != plain.String() {
		t.Fatal("changed a URL without secrets")
	}
}
