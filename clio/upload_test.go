package clio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

type progressLog struct {
	mu   sync.Mutex
	done []int64
}

func (p *progressLog) fn(done, total int64) {
	p.mu.Lock()
	p.done = append(p.done, done)
	p.mu.Unlock()
}

func (p *progressLog) check(t *testing.T, size int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.done) == 0 {
		t.Fatal("progress never reported")
	}
	if !slices.IsSorted(p.done) {
		t.Fatalf("progress not monotonic: %v", p.done)
	}
	if last := p.done[len(p.done)-1]; last != size {
		t.Fatalf("progress ends at %d, want %d", last, size)
	}
}

func TestUploadSingle(t *testing.T) {
	f := newFakeClio(t)
	data := testBytes(300_000)
	for _, body := range []io.Reader{bytes.NewReader(data), streamOnly{bytes.NewReader(data)}} {
		var pl progressLog
		res, err := f.uploader().upload(context.Background(), UploadParams{
			Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "file.pdf",
			Body: body, Size: int64(len(data)), Progress: pl.fn,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Parts != 0 || res.VersionUUID == "" {
			t.Fatalf("result %+v", res)
		}
		if got := f.content(res.DocumentID); !bytes.Equal(got, data) {
			t.Fatalf("stored %d bytes, want the %d sent", len(got), len(data))
		}
		if !f.docs[res.DocumentID].complete {
			t.Fatal("version not marked fully uploaded")
		}
		pl.check(t, int64(len(data)))
	}
	if f.leaks.Load() != 0 {
		t.Fatal("token leaked to storage")
	}
}

func TestUploadEmpty(t *testing.T) {
	f := newFakeClio(t)
	var pl progressLog
	res, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentFolder}, Name: "empty.txt",
		Body: strings.NewReader(""), Size: 0, Progress: pl.fn})
	if err != nil || !f.docs[res.DocumentID].complete {
		t.Fatalf("empty upload: %v", err)
	}
	pl.check(t, 0)
}

func TestUploadMultipartBatches(t *testing.T) {
	lowerLimits(t, 1024)
	f := newFakeClio(t)
	data := testBytes(120*1024 - 100) // 120 parts, the last one short
	var pl progressLog
	res, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.pdf",
		Body: streamOnly{bytes.NewReader(data)}, Size: int64(len(data)),
		Multipart: true, PartSize: 1024, Concurrency: 3, Progress: pl.fn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != 120 {
		t.Fatalf("parts = %d", res.Parts)
	}
	if !slices.Equal(f.batchSizes, []int{50, 50, 20}) {
		t.Fatalf("batches = %v, want [50 50 20]", f.batchSizes)
	}
	wantReq := []string{"POST /api/v4/documents.json #50", "PATCH /api/v4/documents/1001.json #50",
		"PATCH /api/v4/documents/1001.json #20", "PATCH /api/v4/documents/1001.json #0"}
	if !slices.Equal(f.requests, wantReq) {
		t.Fatalf("API requests:\n%v\nwant\n%v", f.requests, wantReq)
	}
	if !bytes.Equal(f.content(res.DocumentID), data) {
		t.Fatal("reassembled parts differ from the body")
	}
	pl.check(t, int64(len(data)))
}

func TestUploadMD5(t *testing.T) {
	lowerLimits(t, 1024)
	data := testBytes(10*1024 + 7)
	for name, body := range map[string]func() io.Reader{
		"ReaderAt": func() io.Reader { return bytes.NewReader(data) },
		"stream":   func() io.Reader { return streamOnly{bytes.NewReader(data)} },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeClio(t)
			res, err := f.uploader().upload(context.Background(), UploadParams{
				Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.pdf",
				Body: body(), Size: int64(len(data)), MD5: true, PartSize: 1024, Concurrency: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			// The storage fake recomputes each part's MD5 and compares it
			// with the header and with what was announced to Clio.
			d := f.docs[res.DocumentID]
			for n, p := range d.parts {
				if p.md5 == "" {
					t.Fatalf("part %d announced without content_md5", n)
				}
			}
			if !bytes.Equal(f.content(res.DocumentID), data) {
				t.Fatal("content differs")
			}
			switch name {
			case "ReaderAt": // MD5s from a first pass: one request for all 11
				if !slices.Equal(f.batchSizes, []int{11}) {
					t.Fatalf("batches = %v", f.batchSizes)
				}
			case "stream": // at most Concurrency parts per request
				for _, b := range f.batchSizes {
					if b > 2 {
						t.Fatalf("streaming MD5 batch of %d > concurrency: %v", b, f.batchSizes)
					}
				}
			}
		})
	}
}

func TestUploadPartRetriedAfterDroppedConnection(t *testing.T) {
	lowerLimits(t, 4096)
	f := newFakeClio(t)
	f.failPut = func(part, attempt int, w http.ResponseWriter, r *http.Request) bool {
		switch {
		case part == 3 && attempt == 1:
			dropMidBody(w, r)
			return true
		case part == 5 && attempt <= 2:
			http.Error(w, "<Error><Code>InternalError</Code></Error>", 500)
			return true
		}
		return false
	}
	data := testBytes(8*4096 + 1)
	res, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.pdf",
		Body: streamOnly{bytes.NewReader(data)}, Size: int64(len(data)), Multipart: true, PartSize: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.content(res.DocumentID), data) {
		t.Fatal("content differs after retries")
	}
	uuid := f.docs[res.DocumentID].uuid
	if f.puts(uuid+"/3") != 2 || f.puts(uuid+"/5") != 3 || f.puts(uuid+"/1") != 1 {
		t.Fatalf("PUT counts: %v", f.putCount)
	}
}

func TestUploadPartPermanentFailure(t *testing.T) {
	lowerLimits(t, 4096)
	for name, fail := range map[string]func(part, attempt int, w http.ResponseWriter, r *http.Request) bool{
		"dropped every time": func(part, _ int, w http.ResponseWriter, r *http.Request) bool {
			if part == 2 {
				dropMidBody(w, r)
				return true
			}
			return false
		},
		"access denied": func(part, _ int, w http.ResponseWriter, r *http.Request) bool {
			if part == 2 {
				http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
				return true
			}
			return false
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeClio(t)
			f.failPut = fail
			data := testBytes(6 * 4096)
			_, err := f.uploader().upload(context.Background(), UploadParams{
				Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.pdf",
				Body: streamOnly{bytes.NewReader(data)}, Size: int64(len(data)), Multipart: true, PartSize: 4096,
				Concurrency: 2,
			})
			ue, ok := errors.AsType[*UploadError](err)
			if !ok || ue.Part != 2 || ue.Step != "put" || ue.DocumentID != 1001 || ue.VersionUUID == "" {
				t.Fatalf("error = %#v (%v)", ue, err)
			}
			d := f.doc(1001)
			if d.complete || slices.ContainsFunc(f.requests, func(s string) bool { return strings.HasSuffix(s, "#0") }) {
				t.Fatal("a failed upload was marked fully uploaded")
			}
			tries := f.puts(d.uuid + "/2")
			if name == "access denied" && tries != 1 {
				t.Fatalf("403 retried: %d PUTs", tries)
			}
			if name == "dropped every time" && tries != defaultAttempts {
				t.Fatalf("dropped part tried %d times, want %d", tries, defaultAttempts)
			}
			if name == "access denied" {
				if se, ok := errors.AsType[*StorageError](err); !ok || se.StatusCode != http.StatusForbidden || !strings.Contains(se.Body, "AccessDenied") {
					t.Fatalf("storage error = %v", err)
				}
			}
		})
	}
}

func TestUploadTimeoutRetried(t *testing.T) {
	lowerLimits(t, 1024)
	f := newFakeClio(t)
	f.timeouts.Store(2)
	data := testBytes(5000)
	res, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "a.pdf",
		Body: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err != nil || !f.docs[res.DocumentID].complete {
		t.Fatalf("after two UploadTimeoutErrors: %v", err)
	}
	// More timeouts than attempts: the error surfaces, typed.
	f.timeouts.Store(defaultAttempts + 1)
	_, err = f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "b.pdf",
		Body: bytes.NewReader(data), Size: int64(len(data)),
	})
	if e, ok := errors.AsType[*Error](err); !ok || e.Type != "UploadTimeoutError" {
		t.Fatalf("persistent timeout: %v", err)
	}
	if ue, ok := errors.AsType[*UploadError](err); !ok || ue.Step != "complete" {
		t.Fatalf("persistent timeout: %v", err)
	}
}

func TestUploadWrongSize(t *testing.T) {
	lowerLimits(t, 1024)
	data := testBytes(4096)
	for _, multipart := range []bool{false, true} {
		for _, c := range []struct {
			name string
			body io.Reader
			size int64
		}{
			{"short stream", streamOnly{bytes.NewReader(data)}, 5000},
			{"long stream", streamOnly{bytes.NewReader(data)}, 3000},
			{"short ReaderAt", bytes.NewReader(data), 5000},
			{"long ReaderAt", bytes.NewReader(data), 3000},
		} {
			f := newFakeClio(t)
			_, err := f.uploader().upload(context.Background(), UploadParams{
				Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "x.pdf",
				Body: c.body, Size: c.size, Multipart: multipart, PartSize: 1024,
			})
			if err == nil {
				t.Errorf("%s (multipart %v): no error", c.name, multipart)
				continue
			}
			t.Logf("%s (multipart %v): %v", c.name, multipart, err)
			for _, d := range f.docs {
				if d.complete {
					t.Errorf("%s (multipart %v): marked fully uploaded despite %v", c.name, multipart, err)
				}
			}
		}
	}
}

func TestUploadNewVersion(t *testing.T) {
	f := newFakeClio(t)
	data := testBytes(1000)
	res, err := f.uploader().newVersion(context.Background(), 1234, UploadParams{
		Name: "file.jpg", Body: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	d := f.docs[1234]
	if res.DocumentID != 1234 || d.parent["type"] != "Document" || !d.complete {
		t.Fatalf("new version: %+v, parent %v", res, d.parent)
	}
	_, err = f.uploader().newVersion(context.Background(), 1234, UploadParams{
		Parent: DocumentParent{ID: 5, Type: ParentMatter}, Name: "x", Body: bytes.NewReader(data), Size: 1000})
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("conflicting parent: %v", err)
	}
}

func TestUploadInvalidInput(t *testing.T) {
	u := newFakeClio(t).uploader(WithTransportMiddleware(func(http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("no request expected") })
	}))
	ok := UploadParams{Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "n", Body: strings.NewReader(""), Size: 0}
	for name, mut := range map[string]func(*UploadParams){
		"Body":   func(p *UploadParams) { p.Body = nil },
		"Size":   func(p *UploadParams) { p.Size = -1 },
		"Name":   func(p *UploadParams) { p.Name = "" },
		"Parent": func(p *UploadParams) { p.Parent = DocumentParent{} },
	} {
		p := ok
		mut(&p)
		_, err := u.upload(context.Background(), p)
		if ie, isIE := errors.AsType[*InputError](err); !isIE || ie.Field != name {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUploadPartSize(t *testing.T) {
	p := UploadParams{Size: 1 << 40} // 1 TiB: 10,000 parts of at least 110 MB
	if ps := p.partSize(); (p.Size+ps-1)/ps > maxParts {
		t.Fatalf("part size %d gives more than 10,000 parts", ps)
	}
	p = UploadParams{Size: 1 << 30, PartSize: 1024}
	if ps := p.partSize(); ps != minPartSize {
		t.Fatalf("part size %d below the minimum", ps)
	}
}

func TestUploadCancel(t *testing.T) {
	lowerLimits(t, 1024)
	f := newFakeClio(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.failPut = func(part, _ int, w http.ResponseWriter, r *http.Request) bool {
		if part == 3 {
			cancel()
		}
		return false
	}
	data := testBytes(40 * 1024)
	_, err := f.uploader().upload(ctx, UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "x.pdf",
		Body: streamOnly{bytes.NewReader(data)}, Size: int64(len(data)), Multipart: true, PartSize: 1024,
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	if f.doc(1001).complete {
		t.Fatal("cancelled upload completed")
	}
}

// TestUploadMemoryBounded checks the allocations of a 64 MiB stream in
// 1 MiB parts with 2 workers: the part buffers (2 MiB) plus the HTTP
// machinery, nowhere near the size of the body.
func TestUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	lowerLimits(t, 1<<20)
	f := newFakeClio(t)
	f.discard = true
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "big.bin",
		Body: &patternReader{n: size}, Size: size, Multipart: true, PartSize: 1 << 20, Concurrency: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB (client and fake servers) for a %d MiB upload", float64(allocated)/(1<<20), size>>20)
	if allocated > 12<<20 {
		t.Fatalf("allocated %d bytes: part buffers are not reused", allocated)
	}
}

// A storage PUT that fails at the transport level must not put the signed
// put_url (its signature is a credential for the file) in the error, as the
// download path already ensures.
func TestUploadErrorRedactsSignedURL(t *testing.T) {
	f := newFakeClio(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	putURL := srv.URL + "/bucket/obj?X-Amz-Credential=CRED-SECRET&X-Amz-Signature=SIG-SECRET"
	srv.Close()
	f.putURL = putURL
	_, err := f.uploader().upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "a.txt",
		Body: struct{ io.Reader }{strings.NewReader("hello")}, Size: 5, // one attempt: no back-off
	})
	if err == nil {
		t.Fatal("no error from a closed storage host")
	}
	if s := err.Error(); strings.Contains(s, "SIG-SECRET") || strings.Contains(s, "CRED-SECRET") {
		t.Fatalf("error leaks the signed URL: %v", err)
	}
}

// testUploader runs the upload engine on the fake's client, results without the Response.
type testUploader struct{ u *uploader }

func (f *fakeClio) uploader(opts ...Option) testUploader {
	return testUploader{&uploader{f.client(opts...)}}
}

func (t testUploader) upload(ctx context.Context, p UploadParams) (*UploadResult, error) {
	r, _, err := t.u.upload(ctx, p)
	return r, err
}

func (t testUploader) newVersion(ctx context.Context, id int64, p UploadParams) (*UploadResult, error) {
	r, _, err := t.u.newVersion(ctx, id, p)
	return r, err
}

// testDownloader fetches the fake's downloads through the client.
type testDownloader struct{ c *Client }

func (f *fakeClio) downloader() testDownloader { return testDownloader{f.client()} }

func (d testDownloader) document(ctx context.Context, id, version int64) (*Download, error) {
	var dl *Download
	var err error
	if version != 0 {
		dl, _, err = d.c.Documents.DownloadVersion(ctx, id, version)
	} else {
		dl, _, err = d.c.Documents.Download(ctx, id)
	}
	return dl, err
}

func (d testDownloader) documentArchive(ctx context.Context, id int64) (*Download, error) {
	dl, _, err := d.c.DocumentArchives.Download(ctx, id)
	return dl, err
}

func (d testDownloader) documentTemplate(ctx context.Context, id int64) (*Download, error) {
	dl, _, err := d.c.DocumentTemplates.Download(ctx, id)
	return dl, err
}

func (d testDownloader) report(ctx context.Context, id int64) (*Download, error) {
	dl, _, err := d.c.Reports.Download(ctx, id)
	return dl, err
}
