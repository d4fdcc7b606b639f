package clio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Transport errors name URLs twice: in *url.Error's URL and, for some failures, in its
// inner error (Go's "failed to parse Location header %q" quotes the Location it could
// not follow). A storage host that redirects to an unparsable signed URL must not put
// that signature in the download's error.
func TestDownloadStorageRedirectErrorRedacted(t *testing.T) {
	const sig = "STORAGESIG0123456789"
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A control character makes the Location unparsable for the client.
		w.Header()["Location"] = []string{"https://s3.example/k\x7f?X-Amz-Signature=" + sig}
		w.WriteHeader(http.StatusFound)
	}))
	defer storage.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/f?X-Amz-Signature=first"+sig, http.StatusSeeOther)
	}))
	defer api.Close()
	c, err := NewClient(context.Background(), WithBaseURL(api.URL), WithToken("t"), WithPrivateStorage(), testRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Documents.Download(context.Background(), 1)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), sig) {
		t.Fatalf("the signature is in the error: %v", err)
	}
}

// The same for API requests, whose transport errors also reach the log (log.go, retry.go).
func TestSanitizeTransportErrRedactsTheCause(t *testing.T) {
	const sig = "CAUSESIG0123456789"
	inner := &url.Error{Op: "Get", URL: "https://app.example/api/v4/x.json", Err: errorString(`malformed MIME header line: "Location: https://s3.example/k?X-Amz-Signature=` + sig + `"`)}
	for name, err := range map[string]error{
		"url.Error": inner,
		"wrapped":   &url.Error{Op: "Get", URL: "https://s3.example/k?X-Amz-Signature=" + sig, Err: inner.Err},
		"plain":     errorString("dial https://s3.example/k?sig=" + sig),
	} {
		if got := sanitizeTransportErr(err).Error(); strings.Contains(got, sig) {
			t.Errorf("%s: %s", name, got)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
