package clio

// Document upload and download against the fake Clio (clio/cliotest),
// whose storage host refuses (and counts) any request carrying an
// Authorization header. Internal test package: it lowers the client's
// minimum part size (lowerLimits) to match the fake's WithMinPartSize.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/clio-go/clio-go/clio/cliotest"
)

const fakeMinPart = 1024

func newFakeDocClient(t *testing.T) (*cliotest.Server, *Client, int64) {
	t.Helper()
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0), cliotest.WithMinPartSize(fakeMinPart))
	t.Cleanup(srv.Close)
	c, err := NewClient(context.Background(), WithBaseURL(srv.URL), WithToken(srv.IssueToken().AccessToken),
		WithRetryer(&StandardRetryer{BaseDelay: 1e6, MaxDelay: 2e7}), WithPrivateStorage()) // 1 ms .. 20 ms
	if err != nil {
		t.Fatal(err)
	}
	contact := srv.MustInsert(t, "contacts", map[string]any{"type": "Company", "name": "Acme"})[0]
	matter := srv.MustInsert(t, "matters", map[string]any{"description": "Docs", "client": map[string]any{"id": contact}})[0]
	t.Cleanup(func() {
		cs := srv.Counters()
		if cs.StorageAuthRejected != 0 {
			t.Errorf("storage refused %d requests carrying the bearer token", cs.StorageAuthRejected)
		}
		if v := srv.Violations(); len(v) > 0 {
			t.Errorf("the fake answered outside the document: %v", v)
		}
	})
	return srv, c, matter
}

// onlyReader hides io.ReaderAt, so the upload streams the body once.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(b []byte) (int, error) { return o.r.Read(b) }

func downloadAll(t *testing.T, c *Client, id int64) []byte {
	t.Helper()
	dl, _, err := c.Documents.Download(context.Background(), id)
	if err != nil {
		t.Fatalf("Download(%d): %v", id, err)
	}
	defer dl.Close()
	b, err := io.ReadAll(dl)
	if err != nil {
		t.Fatalf("reading download %d: %v", id, err)
	}
	if dl.ContentLength >= 0 && dl.ContentLength != int64(len(b)) {
		t.Fatalf("download announced %d bytes, got %d", dl.ContentLength, len(b))
	}
	return b
}

// Upload then download, by single PUT and by multipart (with and without
// MD5, from a ReaderAt and from a stream, with a storage failure mid-way),
// comparing bytes at both ends; the storage host never sees the token.
// Not parallel: lowerLimits changes package variables.
func TestFakeDocumentsUploadDownload(t *testing.T) {
	lowerLimits(t, fakeMinPart)
	cases := []struct {
		name      string
		size      int
		multipart bool
		md5       bool
		stream    bool
		conc      int
		fault     *cliotest.Fault // on storage
		wantParts int
	}{
		{"single PUT", 3000, false, false, false, 0, nil, 0},
		{"single PUT from a stream", 2500, false, false, true, 0, nil, 0},
		{"empty file", 0, false, false, false, 0, nil, 0},
		{"multipart", 5*fakeMinPart + 100, true, false, false, 2, nil, 6},
		{"multipart with MD5", 3*fakeMinPart + 1, true, true, false, 3, nil, 4},
		{"multipart with MD5 from a stream", 4 * fakeMinPart, true, true, true, 2, nil, 4},
		{"multipart, a part dropped mid-upload", 4*fakeMinPart + 7, true, false, false, 2,
			&cliotest.Fault{Kind: cliotest.FaultDrop, Method: http.MethodPut, Storage: true}, 5},
		{"multipart, storage 503s", 3 * fakeMinPart, true, true, false, 1,
			&cliotest.Fault{Kind: cliotest.FaultStatus, Status: 503, Method: http.MethodPut, Storage: true, Count: 2}, 3},
		{"single PUT, storage 500", 1500, false, false, false, 0,
			&cliotest.Fault{Kind: cliotest.FaultStatus, Status: 500, Method: http.MethodPut, Storage: true}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, matter := newFakeDocClient(t)
			data := testBytes(tc.size)
			var body io.Reader = bytes.NewReader(data)
			if tc.stream {
				body = onlyReader{bytes.NewReader(data)}
			}
			if tc.fault != nil {
				srv.InjectFault(*tc.fault)
			}
			var mu sync.Mutex
			var last, calls int64
			res, _, err := c.Documents.Upload(context.Background(), UploadParams{
				Parent: DocumentParent{ID: matter, Type: ParentMatter}, Name: "brief.pdf",
				Body: body, Size: int64(len(data)), Multipart: tc.multipart, MD5: tc.md5,
				PartSize: fakeMinPart, Concurrency: tc.conc,
				Progress: func(done, total int64) {
					mu.Lock()
					defer mu.Unlock()
					if done < last || total != int64(len(data)) {
						t.Errorf("progress %d/%d after %d", done, total, last)
					}
					last, calls = done, calls+1
				},
			})
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if res.Parts != tc.wantParts {
				t.Fatalf("%d parts, want %d", res.Parts, tc.wantParts)
			}
			if last != int64(len(data)) || (len(data) > 0 && calls == 0) {
				t.Fatalf("progress ended at %d of %d", last, len(data))
			}
			stored, ok := srv.DocumentContent(res.DocumentID)
			if !ok || !bytes.Equal(stored, data) {
				t.Fatalf("the fake stored %d bytes (fully uploaded: %v), want the %d sent", len(stored), ok, len(data))
			}
			if got := downloadAll(t, c, res.DocumentID); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
			}
			cs := srv.Counters()
			if cs.StorageRequests < max(tc.wantParts, 1)+1 {
				t.Fatalf("storage saw %d requests", cs.StorageRequests)
			}
			if tc.fault != nil && cs.FaultsFired != max(tc.fault.Count, 1) {
				t.Fatalf("%d faults fired, want %d", cs.FaultsFired, max(tc.fault.Count, 1))
			}
			if srv.RequestCount(http.MethodPost, "/api/v4/documents.json") != 1 {
				t.Fatal("the document was created more than once")
			}
		})
	}
}

// A new version of an existing document replaces what Download returns;
// the document itself is not duplicated.
func TestFakeDocumentsNewVersion(t *testing.T) {
	lowerLimits(t, fakeMinPart)
	srv, c, matter := newFakeDocClient(t)
	ctx := context.Background()
	v1, v2 := testBytes(2000), bytes.Repeat([]byte("version two "), 400)
	res, _, err := c.Documents.Upload(ctx, UploadParams{Parent: DocumentParent{ID: matter, Type: ParentMatter}, Name: "memo.txt",
		Body: bytes.NewReader(v1), Size: int64(len(v1))})
	if err != nil {
		t.Fatal(err)
	}
	res2, _, err := c.Documents.NewVersion(ctx, res.DocumentID, UploadParams{Name: "memo.txt",
		Body: bytes.NewReader(v2), Size: int64(len(v2)), Multipart: true, PartSize: fakeMinPart})
	if err != nil {
		t.Fatal(err)
	}
	if res2.DocumentID != res.DocumentID || res2.VersionUUID == res.VersionUUID || res2.Parts < 2 {
		t.Fatalf("new version %+v of %+v", res2, res)
	}
	if got := downloadAll(t, c, res.DocumentID); !bytes.Equal(got, v2) {
		t.Fatal("download is not the new version")
	}
	if n := srv.Count("documents"); n != 1 {
		t.Fatalf("%d documents, want 1", n)
	}
	doc, _, err := c.Documents.Get(ctx, res.DocumentID, Fields("id", "name"))
	if err != nil || doc.Name != "memo.txt" {
		t.Fatalf("document: %+v %v", doc, err)
	}
}

// Download failures are errors, never short data: a storage 5xx is
// retried (a GET), a cut-off body fails the read, and a document without
// an uploaded version is ErrNotFound. The token never reaches storage.
func TestFakeDocumentsDownloadFaults(t *testing.T) {
	t.Parallel()
	srv, c, matter := newFakeDocClient(t)
	ctx := context.Background()
	data := testBytes(4096)
	res, _, err := c.Documents.Upload(ctx, UploadParams{Parent: DocumentParent{ID: matter, Type: ParentMatter}, Name: "a.bin",
		Body: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}

	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultStatus, Status: 503, Method: http.MethodGet, Storage: true})
	if got := downloadAll(t, c, res.DocumentID); !bytes.Equal(got, data) {
		t.Fatal("download after a storage 503 differs")
	}

	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultTruncate, Method: http.MethodGet, Storage: true})
	dl, _, err := c.Documents.Download(ctx, res.DocumentID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(dl)
	dl.Close()
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || len(got) >= len(data) {
		t.Fatalf("truncated download: %d bytes, err %v; want io.ErrUnexpectedEOF", len(got), err)
	}

	pending := srv.MustInsert(t, "documents", map[string]any{"name": "never uploaded"})[0]
	if _, _, err := c.Documents.Download(ctx, pending); !errors.Is(err, ErrNotFound) {
		t.Fatalf("download of a document without content: %v, want ErrNotFound", err)
	}
	if _, _, err := c.Documents.Download(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("download of a missing document: %v", err)
	}
}
