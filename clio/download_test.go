package clio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDownloadFollows303WithoutToken(t *testing.T) {
	f := newFakeClio(t)
	content := testBytes(200_000)
	for _, p := range []string{
		"/api/v4/documents/5/download.json", "/api/v4/document_archives/6/download.json",
		"/api/v4/document_templates/7/download.json", "/api/v4/reports/8/download.json",
	} {
		f.download[p] = content
	}
	d := f.downloader()
	ctx := context.Background()
	for name, get := range map[string]func() (*Download, error){
		"document": func() (*Download, error) { return d.document(ctx, 5, 0) },
		"archive":  func() (*Download, error) { return d.documentArchive(ctx, 6) },
		"template": func() (*Download, error) { return d.documentTemplate(ctx, 7) },
		"report":   func() (*Download, error) { return d.report(ctx, 8) },
	} {
		dl, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(dl)
		dl.Close()
		if err != nil || string(got) != string(content) {
			t.Fatalf("%s: read %d bytes, %v", name, len(got), err)
		}
		if dl.ContentLength != int64(len(content)) || dl.Filename != "big.pdf" || dl.ContentType != "application/pdf" {
			t.Fatalf("%s: metadata %d %q %q", name, dl.ContentLength, dl.Filename, dl.ContentType)
		}
	}
	if f.leaks.Load() != 0 {
		t.Fatal("token leaked to storage")
	}
}

func TestDownloadErrors(t *testing.T) {
	f := newFakeClio(t)
	d := f.downloader()
	_, err := d.document(context.Background(), 404, 0)
	if e, ok := errors.AsType[*Error](err); !ok || e.StatusCode != 404 || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing document: %v", err)
	}
	// Storage refuses (say, an expired signature): a StorageError that
	// does not repeat the signed URL.
	f.download["/api/v4/reports/1/download.json"] = []byte("x")
	f.badSignature = true
	_, err = d.report(context.Background(), 1)
	se, ok := errors.AsType[*StorageError](err)
	if !ok || se.StatusCode != 403 || strings.Contains(err.Error(), "Signature") {
		t.Fatalf("storage refusal: %v", err)
	}
}

func TestDownloadDirectAnswer(t *testing.T) {
	f := newFakeClio(t)
	f.download["/api/v4/documents/9/download.json"] = []byte("ignored")
	f.directContent = []byte("direct bytes")
	dl, err := f.downloader().document(context.Background(), 9, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	if b, _ := io.ReadAll(dl); string(b) != "direct bytes" {
		t.Fatalf("got %q", b)
	}
}
