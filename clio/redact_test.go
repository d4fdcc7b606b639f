package clio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/clio-go/clio-go/clio/cliotest"
)

// wireSecrets records, below every layer of the client, the credential values that
// crossed the wire: sensitive query parameters of request URLs and of Location headers,
// and sensitive request headers. Tests then check that none reached a log or an error.
type wireSecrets struct {
	mu     sync.Mutex
	values map[string]bool
}

func (w *wireSecrets) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		w.addURL(req.URL)
		for k, vs := range req.Header {
			if sensitiveHeaders[http.CanonicalHeaderKey(k)] {
				for _, v := range vs {
					w.add(strings.TrimPrefix(v, "Bearer "))
				}
			}
		}
		resp, err := next.RoundTrip(req)
		if err == nil {
			if loc, lerr := resp.Location(); lerr == nil {
				w.addURL(loc)
			}
		}
		return resp, err
	})
}

func (w *wireSecrets) addURL(u *url.URL) {
	for k, vs := range u.Query() {
		if sensitiveParams[strings.ToLower(k)] {
			for _, v := range vs {
				w.add(v)
			}
		}
	}
}

func (w *wireSecrets) add(v string) {
	if len(v) < 8 { // a short value would match by chance
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.values == nil {
		w.values = map[string]bool{}
	}
	w.values[v] = true
}

// assertAbsent fails if any recorded secret, raw or percent-encoded, is in text.
func (w *wireSecrets) assertAbsent(t *testing.T, where, text string) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for v := range w.values {
		if strings.Contains(text, v) || strings.Contains(text, url.QueryEscape(v)) {
			t.Errorf("%s holds the credential %q:\n%s", where, v, text)
		}
	}
}

func (w *wireSecrets) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.values)
}

func debugLogger() (*slog.Logger, *coreSyncBuf) {
	var buf coreSyncBuf
	return slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// Finding 2 of issue 11: at debug level the Location of every download (and the put_url
// of every upload) was logged with its X-Amz-Signature, a capability to the file. Against
// the fake, an upload (single PUT and multipart) and a download log no signature,
// credential or token; the Location and storage URLs are still logged, redacted.
func TestFakeDocumentsLogNoSignedURL(t *testing.T) {
	lowerLimits(t, fakeMinPart)
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0), cliotest.WithMinPartSize(fakeMinPart))
	t.Cleanup(srv.Close)
	logger, buf := debugLogger()
	var wire wireSecrets
	c, err := NewClient(context.Background(), WithBaseURL(srv.URL), WithToken(srv.IssueToken().AccessToken),
		WithLogger(logger), WithTransportMiddleware(wire.middleware), WithPrivateStorage())
	if err != nil {
		t.Fatal(err)
	}
	contact := srv.MustInsert(t, "contacts", map[string]any{"type": "Company", "name": "Acme"})[0]
	matter := srv.MustInsert(t, "matters", map[string]any{"description": "Docs", "client": map[string]any{"id": contact}})[0]
	ctx := context.Background()
	for _, multipart := range []bool{false, true} {
		data := testBytes(2*fakeMinPart + 10)
		res, _, err := c.Documents.Upload(ctx, UploadParams{Parent: DocumentParent{ID: matter, Type: ParentMatter}, Name: "brief.pdf",
			Body: bytes.NewReader(data), Size: int64(len(data)), Multipart: multipart, PartSize: fakeMinPart})
		if err != nil {
			t.Fatal(err)
		}
		if got := downloadAll(t, c, res.DocumentID); !bytes.Equal(got, data) {
			t.Fatal("the download differs from the upload")
		}
	}
	out := buf.String()
	if wire.count() < 3 {
		t.Fatalf("the wire carried %d credentials; the test sees nothing", wire.count())
	}
	wire.assertAbsent(t, "the debug log", out)
	for _, want := range []string{`"Location":"`, "X-Amz-Signature=REDACTED", `"method":"PUT"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}

// A custom action confirmed with a nonce the API refuses, by an API that echoes the
// nonce in its message: neither the log nor the returned error holds the nonce.
func TestConfirmRefusedRedactsNonce(t *testing.T) {
	const nonce = "nonce-5f1c2a9e77"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coreClioError(w, http.StatusForbidden, "Forbidden", "invalid request "+r.URL.String()+` {"custom_action_nonce": "`+nonce+`"}`)
	}))
	defer srv.Close()
	logger, buf := debugLogger()
	c, _ := newCoreClient(t, srv, WithLogger(logger))
	r := httptest.NewRequest("GET", "/cb?custom_action_id=1&user_id=2&subject_url=/api/v4/matters/1.json&custom_action_nonce="+nonce, nil)
	_, _, err := c.CustomActions.Confirm(context.Background(), r, "id")
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("Confirm: %v, want a 403", err)
	}
	for where, text := range map[string]string{"the error": err.Error(), "the log": buf.String()} {
		if strings.Contains(text, nonce) {
			t.Errorf("%s holds the nonce: %s", where, text)
		}
	}
	if !strings.Contains(err.Error(), "custom_action_nonce=REDACTED") {
		t.Errorf("the error no longer says what was sent: %v", err)
	}
}

// Storage refusing a signed URL answers, as S3 does, with the signature and credential it
// was given; a download whose Location does not parse quotes it. The errors returned,
// and the log, hold neither.
func TestStorageErrorsRedactSignatures(t *testing.T) {
	const sig, cred, secret = "d1e5a0c7b2f4signature", "AKIAEXAMPLECRED", "tok-0123456789"
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>`+cred+`</AWSAccessKeyId>`+
			`<SignatureProvided>`+sig+`</SignatureProvided><CanonicalRequest>GET /f X-Amz-Credential=`+cred+`</CanonicalRequest></Error>`)
	}))
	defer storage.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/documents/2/") {
			w.Header()["Location"] = []string{"https://s3.example/f?X-Amz-Signature=" + sig + "&token=" + secret + "%zz"}
		} else {
			w.Header().Set("Location", storage.URL+"/f?X-Amz-Credential="+cred+"&X-Amz-Signature="+sig+"&X-Amz-Security-Token="+secret)
		}
		w.WriteHeader(http.StatusSeeOther)
	}))
	defer api.Close()
	logger, buf := debugLogger()
	c, _ := newCoreClient(t, api, WithLogger(logger), testRetries(1))
	var errs []string
	for _, id := range []int64{1, 2} {
		_, _, err := c.Documents.Download(context.Background(), id)
		if err == nil {
			t.Fatalf("download %d: no error", id)
		}
		errs = append(errs, err.Error())
	}
	all := strings.Join(errs, "\n") + "\n" + buf.String()
	for _, s := range []string{sig, cred, secret} {
		if strings.Contains(all, s) {
			t.Errorf("%q is in the errors or the log:\n%s", s, all)
		}
	}
	if !strings.Contains(errs[0], "SignatureDoesNotMatch") {
		t.Errorf("the storage error lost its code: %s", errs[0])
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"https://s3.example/b/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc123&X-Amz-Expires=300": "https://s3.example/b/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=REDACTED&X-Amz-Expires=300",
		"see x-amz-credential%3DAKIA%2F2026 and Signature=zz, sig=yy; token=tt":                "see x-amz-credential%3DREDACTED and Signature=REDACTED, sig=REDACTED; token=REDACTED",
		`{"shared_secret":"s3\"cret","name":"ok","put_url":"https://h/p?sig=q"}`:               `{"shared_secret":"REDACTED","name":"ok","put_url":"https://h/p?sig=REDACTED"}`,
		"https://user:pass@host/p":                                       "https://user:REDACTED@host/p",
		"/hooks?clio_hook=AbC-123_xyz&model=matter":                      "/hooks?clio_hook=REDACTED&model=matter",
		"<SignatureProvided>abc</SignatureProvided> <Code>Denied</Code>": "<SignatureProvided>REDACTED</SignatureProvided> <Code>Denied</Code>",
		"designation=4&encode=5&partNumber=2":                            "designation=4&encode=5&partNumber=2",
		"":                                                               "",
	} {
		if got := redactText(in); got != want {
			t.Errorf("redactText(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

// Headers: the credentials go, whole or in part; the rest stays readable.
func TestHeaderValueRedacts(t *testing.T) {
	h := http.Header{
		"Location":      {"https://s3.example/f?X-Amz-Signature=sigsigsig&X-Amz-Date=20260101"},
		"Authorization": {"Bearer tok"},
		"X-Hook-Secret": {"hooksecret"},
		"Set-Cookie":    {"s=cookie"},
		"Content-Type":  {"application/json"},
		"X-Amz-Server-Side-Encryption-Customer-Key": {"customerkey"},
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", slog.Any("h", headerValue(h)))
	out := buf.String()
	for _, s := range []string{"sigsigsig", "tok", "hooksecret", "cookie", "customerkey"} {
		if strings.Contains(out, s) {
			t.Errorf("%q logged: %s", s, out)
		}
	}
	for _, s := range []string{"X-Amz-Date=20260101", "https://s3.example/f", "application/json"} {
		if !strings.Contains(out, s) {
			t.Errorf("%q lost: %s", s, out)
		}
	}
}

// A redacted error still matches what the original matched, but does not hand the
// original (and its credential) out through errors.As.
func TestRedactError(t *testing.T) {
	orig := &url.Error{Op: "Get", URL: "https://h/f?sig=secretsig", Err: context.Canceled}
	err := redactError(orig)
	if strings.Contains(err.Error(), "secretsig") || !errors.Is(err, context.Canceled) {
		t.Fatalf("redactError = %v (is Canceled: %v)", err, errors.Is(err, context.Canceled))
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		t.Fatal("the original error is reachable with errors.As")
	}
	plain := errors.New("nothing secret")
	if redactError(plain) != plain || redactError(nil) != nil {
		t.Fatal("an error without credentials was changed")
	}
}
