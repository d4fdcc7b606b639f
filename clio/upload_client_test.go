package clio

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"
)

// TestUploadDownloadThroughClient runs the engines over a real Client's API and
// storage clients, the way the wiring in client.go will: the auth layer
// adds the token for the API origin and the storage client must not.
func TestUploadDownloadThroughClient(t *testing.T) {
	lowerLimits(t, 1024)
	f := newFakeClio(t)
	c, err := NewClient(context.Background(), WithBaseURL(f.api.URL), WithToken(testToken), WithoutRateLimiter())
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(c.BaseURL())
	u := &uploader{api: newEngineCall(c.HTTPClient(), base, FastCodec{}), storage: c.StorageHTTPClient()}
	data := testBytes(5000)
	for _, multipart := range []bool{false, true} {
		res, err := u.upload(context.Background(), UploadParams{
			Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "a.pdf",
			Body: bytes.NewReader(data), Size: int64(len(data)), Multipart: multipart, MD5: multipart, PartSize: 1024,
		})
		if err != nil {
			t.Fatalf("multipart %v: %v", multipart, err)
		}
		if !bytes.Equal(f.content(res.DocumentID), data) {
			t.Fatal("content differs")
		}
	}
	f.download["/api/v4/documents/5/download.json"] = data
	d := &downloader{api: c.HTTPClient(), storage: c.StorageHTTPClient(), base: base}
	dl, err := d.document(context.Background(), 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dl)
	dl.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("download differs")
	}
	if f.leaks.Load() != 0 {
		t.Fatal("token reached storage")
	}
}

func TestUploadAPIURL(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:8080/fake/")
	got := apiURL(base, "/api/v4/documents.json", url.Values{"fields": {"id,latest_document_version{uuid}"}})
	if want := "http://127.0.0.1:8080/fake/api/v4/documents.json?fields=id%2Clatest_document_version%7Buuid%7D"; got != want {
		t.Fatalf("apiURL = %s, want %s", got, want)
	}
}
