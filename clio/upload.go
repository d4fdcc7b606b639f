package clio

// Document uploads. Clio stores document bytes outside the API: the client creates a
// document (or a new version of one) with the generated request builders, PUTs the bytes
// to the signed storage URL(s) Clio hands back (storage.go), and then marks the version
// fully uploaded. Small files take one PUT (this file), large ones go multipart
// (multipart.go). Every request, API or storage, goes through the pipeline.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/clio-go/clio-go/gen"
)

// Document parent types accepted by UploadParams.Parent.Type.
const (
	ParentMatter   = "Matter"
	ParentFolder   = "Folder"
	ParentContact  = "Contact"
	ParentDocument = "Document" // a new version of that document; see NewVersion
)

const (
	// multipartThreshold is the size from which uploads go multipart:
	// Clio's guide says "when a file reaches 100 MB".
	multipartThreshold = 100 << 20
	// defaultPartSize keeps memory at 4 x 8 MiB with the default
	// concurrency while needing at most 50 parts (one API request) per 400 MiB.
	defaultPartSize = 8 << 20
	// defaultUploadConcurrency is the number of parts in flight. Parts are
	// PUT to storage, not to the API, so they do not count against Clio's
	// rate limit.
	defaultUploadConcurrency = 4
	// maxPartsPerRequest is Clio's limit on multiparts per create/update.
	maxPartsPerRequest = 50
	// maxParts: part_number runs 1 to 10,000.
	maxParts = 10000
)

// minPartSize: every part but the last must be at least 5 MB. Tests lower it.
var minPartSize int64 = 5 << 20

// UploadParams describes one document (or document version) upload.
type UploadParams struct {
	// Parent is where the document goes: a Matter, Folder or Contact, or a
	// Document to add a new version to it. Required.
	Parent DocumentParent
	// Name is the document name shown in Clio. Required.
	Name string
	// Filename is optional; Clio derives it from Name when empty.
	Filename string
	// ContentType is optional; Clio derives it from the extension when empty.
	// Set it when the extension is uncommon or missing.
	ContentType string

	// Body supplies exactly Size bytes. It is read once, front to back, one
	// part at a time: it is never held in memory as a whole. When it also
	// implements io.ReaderAt (*os.File, *bytes.Reader, io.SectionReader) it
	// is read with ReadAt from offset 0 instead, which allows re-sending a
	// single-PUT upload and computing MD5s in a first pass.
	Body io.Reader
	// Size is the exact number of bytes Body holds. A Body that ends early
	// or holds more is an error before the version is marked uploaded, so a
	// wrong size never produces a silently truncated document.
	Size int64

	// Multipart forces a multipart upload for files under 100 MB.
	// Files of 100 MB (100 MiB) and more always go multipart.
	Multipart bool
	// MD5 sends a base64 Content-MD5 with each part so storage checks every
	// part end to end; it implies Multipart (Clio offers MD5 only there).
	// With a Body that is not an io.ReaderAt the MD5 of a part is known
	// only once it is read, so parts are then requested from Clio in
	// batches of at most Concurrency parts rather than 50 (more API calls).
	MD5 bool
	// PartSize is the multipart part size, default 8 MiB. It is raised to
	// 5 MiB (storage's minimum) and to Size/10,000 (the part count limit).
	PartSize int64
	// Concurrency is the number of parts uploaded at once, default 4. At
	// most Concurrency part buffers exist at any time, so memory is about
	// Concurrency x PartSize.
	Concurrency int

	// Progress, if set, is called with the bytes stored so far and Size.
	// Calls are serialized and the first argument never decreases; a part
	// counts once storage has accepted it. Keep it fast: it runs on the
	// upload's goroutines.
	Progress func(done, total int64)
}

// DocumentParent identifies a document's parent: {id, type} in Clio's API.
type DocumentParent struct {
	ID   int64
	Type string // ParentMatter, ParentFolder, ParentContact or ParentDocument
}

// UploadResult describes a completed upload.
type UploadResult struct {
	DocumentID  int64  // the document Clio created or added a version to
	VersionUUID string // the uuid of the uploaded document version
	Parts       int    // number of multipart parts; 0 for a single PUT
}

// UploadError reports a failed upload after the document was created, so
// that the caller can find (and delete, or retry) the unfinished version:
// Clio keeps it, but it is not fully uploaded and not downloadable.
// Err holds the cause (a *Error from the API, a storage failure, a short
// Body, or the context's error).
type UploadError struct {
	DocumentID  int64
	VersionUUID string
	Part        int    // part number that failed, 0 when not about a part
	Step        string // "create", "request parts", "put", "read", "complete"
	Err         error
}

// Error names the step, the part and the document, then the cause.
func (e *UploadError) Error() string {
	var b strings.Builder
	b.WriteString("clio: upload ")
	b.WriteString(e.Step)
	if e.Part > 0 {
		fmt.Fprintf(&b, " part %d", e.Part)
	}
	if e.DocumentID != 0 {
		fmt.Fprintf(&b, " (document %d, version %s)", e.DocumentID, e.VersionUUID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrRateLimited),
// errors.As(err, &storageErr) and the like see through an UploadError.
func (e *UploadError) Unwrap() error { return e.Err }

// The fields the upload asks for in each of its API calls.
var (
	fieldsSingle    = Fields("id").Nested("latest_document_version", "uuid", "put_url", "put_headers")
	fieldsMultipart = Fields("id").Nested("latest_document_version", "uuid", "put_headers", "multiparts")
	fieldsComplete  = Fields("id").Nested("latest_document_version", "uuid", "fully_uploaded")
)

// uploader runs uploads on a Client: API calls with the token, storage PUTs without.
type uploader struct{ c *Client }

// createDocument creates a document (or a version) through the generated request builder.
func (u *uploader) createDocument(ctx context.Context, in gen.DocumentCreateInput, fields FieldSet) (gen.Document, *Response, error) {
	req, err := gen.NewCreateDocumentRequest(u.c.server, gen.CreateDocumentJSONRequestBody{Data: in})
	return Do[gen.Document](ctx, u.c, Request{HTTP: req, Err: err}, fields)
}

func (u *uploader) updateDocument(ctx context.Context, id int64, in gen.DocumentUpdateInput, fields FieldSet) (gen.Document, *Response, error) {
	req, err := gen.NewUpdateDocumentRequest(u.c.server, id, gen.UpdateDocumentJSONRequestBody{Data: in})
	return Do[gen.Document](ctx, u.c, Request{HTTP: req, Err: err}, fields)
}

// latestVersion is the latest version of an answer, never nil.
func latestVersion(d gen.Document) gen.DocumentVersion {
	if d.LatestDocumentVersion == nil {
		return gen.DocumentVersion{}
	}
	return *d.LatestDocumentVersion
}

func putHeaders(hs []gen.PutHeaderBase) []putHeader {
	out := make([]putHeader, 0, len(hs))
	for _, h := range hs {
		out = append(out, putHeader{Name: h.Name, Value: h.Value})
	}
	return out
}

// upload creates a document (or a version, when p.Parent is a Document) and
// uploads p.Body into it.
func (u *uploader) upload(ctx context.Context, p UploadParams) (*UploadResult, *Response, error) {
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	// An empty file has nothing to split or check: always a single PUT.
	if p.Size > 0 && (p.MD5 || p.Multipart || p.Size >= multipartThreshold) {
		return u.multipart(ctx, &p)
	}
	return u.single(ctx, &p)
}

// newVersion uploads p.Body as a new version of document documentID: Clio
// models this as creating a document whose parent is that document.
func (u *uploader) newVersion(ctx context.Context, documentID int64, p UploadParams) (*UploadResult, *Response, error) {
	if p.Parent != (DocumentParent{}) && p.Parent != (DocumentParent{documentID, ParentDocument}) {
		return nil, nil, &InputError{Field: "Parent", Reason: "must be empty for a new version (it is the document)"}
	}
	p.Parent = DocumentParent{ID: documentID, Type: ParentDocument}
	return u.upload(ctx, p)
}

func (p *UploadParams) check() error {
	switch {
	case p.Body == nil:
		return &InputError{Field: "Body", Reason: "is nil"}
	case p.Size < 0:
		return &InputError{Field: "Size", Reason: "must be the exact size of Body, not negative"}
	case p.Name == "":
		return &InputError{Field: "Name", Reason: "is required"}
	case p.Parent.ID <= 0 || p.Parent.Type == "":
		return &InputError{Field: "Parent", Reason: "needs an id and a type (Matter, Folder, Contact or Document)"}
	case p.Concurrency < 0:
		return &InputError{Field: "Concurrency", Reason: "must not be negative"}
	case p.PartSize < 0:
		return &InputError{Field: "PartSize", Reason: "must not be negative"}
	}
	if p.Concurrency == 0 {
		p.Concurrency = defaultUploadConcurrency
	}
	return nil
}

func (p *UploadParams) createInput() gen.DocumentCreateInput {
	in := gen.DocumentCreateInput{Name: p.Name, Parent: gen.ParentInput{Id: Ptr(p.Parent.ID), Type: Ptr(p.Parent.Type)}}
	if p.Filename != "" {
		in.Filename = Ptr(p.Filename)
	}
	if p.ContentType != "" {
		in.ContentType = Ptr(p.ContentType)
	}
	return in
}

// partSize picks the part size: the caller's (or the default), at least the
// storage minimum, and large enough to stay within 10,000 parts.
func (p *UploadParams) partSize() int64 {
	ps := p.PartSize
	if ps == 0 {
		ps = defaultPartSize
	}
	ps = max(ps, minPartSize, (p.Size+maxParts-1)/maxParts)
	return ps
}

// uploadProgress serializes the caller's callback and keeps it monotonic.
type uploadProgress struct {
	mu       sync.Mutex
	fn       func(done, total int64)
	done     int64
	total    int64
	reported bool
}

func (pr *uploadProgress) add(n int64) {
	if pr.fn == nil || n == 0 {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.done += n
	pr.fn(pr.done, pr.total)
}

// atLeast reports a running byte count that may restart (a retried single
// PUT): only values above the last reported one are passed on.
func (pr *uploadProgress) atLeast(n int64) {
	if pr.fn == nil {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if n > pr.done || !pr.reported {
		pr.done = max(n, pr.done)
		pr.reported = true
		pr.fn(pr.done, pr.total)
	}
}

// single: one create, one PUT of the whole body, one completion.
func (u *uploader) single(ctx context.Context, p *UploadParams) (*UploadResult, *Response, error) {
	doc, _, err := u.createDocument(ctx, p.createInput(), fieldsSingle)
	if err != nil {
		return nil, nil, &UploadError{Step: "create", Err: err}
	}
	v := latestVersion(doc)
	fail := func(step string, err error) (*UploadResult, *Response, error) {
		return nil, nil, &UploadError{DocumentID: doc.Id, VersionUUID: v.Uuid, Step: step, Err: err}
	}
	if v.Uuid == "" || v.PutUrl == "" {
		return fail("create", errors.New("answer lacks latest_document_version uuid or put_url"))
	}
	pr := &uploadProgress{fn: p.Progress, total: p.Size}
	ra, seekable := p.Body.(io.ReaderAt)
	var short *shortBodyError
	err = u.c.storagePut(ctx, v.PutUrl, putHeaders(v.PutHeaders), p.Size, "", seekable, func() io.Reader {
		var r io.Reader
		if seekable {
			r = io.NewSectionReader(ra, 0, p.Size) // the body can be produced again
		} else {
			r = p.Body
		}
		return &progressReader{r: &exactSizeReader{r: r, left: p.Size, err: &short}, fn: pr.atLeast}
	})
	if short != nil {
		return fail("read", short)
	}
	if err != nil {
		return fail("put", err)
	}
	if err := checkNoExtra(p.Body, p.Size); err != nil {
		return fail("read", err)
	}
	pr.atLeast(p.Size) // a zero-byte upload still reports completion
	resp, err := u.complete(ctx, doc.Id, v.Uuid)
	if err != nil {
		return fail("complete", err)
	}
	return &UploadResult{DocumentID: doc.Id, VersionUUID: v.Uuid}, resp, nil
}

// complete marks the version fully uploaded. Clio verifies the stored file synchronously
// and that check may time out (UploadTimeoutError): the pipeline's Retryer repeats it.
func (u *uploader) complete(ctx context.Context, id int64, uuid string) (*Response, error) {
	_, resp, err := u.updateDocument(ctx, id, gen.DocumentUpdateInput{Uuid: Ptr(uuid), FullyUploaded: Ptr(true)}, fieldsComplete)
	return resp, err
}

// shortBodyError reports a Body that ended before Size bytes.
type shortBodyError struct{ want, got int64 }

func (e *shortBodyError) Error() string {
	return fmt.Sprintf("Body ended after %d of Size %d bytes", e.got, e.want)
}

func (e *shortBodyError) Unwrap() error { return io.ErrUnexpectedEOF }

// exactSizeReader passes on exactly left bytes of r, and records a
// shortBodyError when r ends early (the transport would only say "unexpected
// EOF" about its own body, losing the cause).
type exactSizeReader struct {
	r    io.Reader
	left int64
	read int64
	err  **shortBodyError
}

func (e *exactSizeReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	e.read += int64(n)
	if err == io.EOF && e.left > 0 {
		*e.err = &shortBodyError{want: e.read + e.left, got: e.read}
		return n, io.ErrUnexpectedEOF
	}
	if e.left == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

type progressReader struct {
	r  io.Reader
	n  int64
	fn func(int64)
}

func (c *progressReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if n > 0 {
		c.fn(c.n)
	}
	return n, err
}

// checkNoExtra fails when Body holds more than Size bytes: uploading only
// the first Size bytes would silently truncate the document.
func checkNoExtra(body io.Reader, size int64) error {
	var b [1]byte
	var n int
	var err error
	if ra, ok := body.(io.ReaderAt); ok {
		n, err = ra.ReadAt(b[:], size)
	} else {
		n, err = io.ReadFull(body, b[:])
	}
	if n > 0 {
		return fmt.Errorf("upload: UploadParams.Body holds more than Size (%d bytes)", size)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Upload creates a document under p.Parent and uploads p.Body to Clio's storage: one PUT, or
// concurrent multipart parts for large files or when MD5 checks are asked for. The bearer
// token never goes to storage. The version is marked fully uploaded before Upload returns;
// the Response is the answer to that last call.
func (s *DocumentsService) Upload(ctx context.Context, p UploadParams) (*UploadResult, *Response, error) {
	if err := checkContext(ctx); err != nil {
		return nil, nil, err
	}
	return (&uploader{s.client}).upload(ctx, p)
}

// NewVersion uploads p.Body as a new version of an existing document.
func (s *DocumentsService) NewVersion(ctx context.Context, documentID int64, p UploadParams) (*UploadResult, *Response, error) {
	if err := checkContext(ctx); err != nil {
		return nil, nil, err
	}
	return (&uploader{s.client}).newVersion(ctx, documentID, p)
}

// storagePut PUTs size bytes from body() to a pre-signed storage URL with Clio's
// put_headers. When replayable, body is called once per attempt (a PUT is idempotent: the
// pipeline retries a dropped connection, a 5xx, 408 or 429 like any other request). No Authorization header
// is ever set: the URL carries its own signature.
func (c *Client) storagePut(ctx context.Context, putURL string, headers []putHeader, size int64, md5sum string, replayable bool, body func() io.Reader) error {
	target, err := url.Parse(putURL)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" {
		return errors.New("invalid put_url from Clio")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target.String(), nil)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Body = http.NoBody
	if size > 0 {
		req.Body = io.NopCloser(body())
		if replayable {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
		}
	}
	for _, h := range headers {
		switch http.CanonicalHeaderKey(h.Name) {
		case "Content-Length":
			// net/http writes Content-Length from req.ContentLength; a header would be
			// ignored. A mismatch means the signature covers a different part size: fail
			// rather than send.
			if h.Value != strconv.FormatInt(size, 10) {
				return fmt.Errorf("put_headers Content-Length %s, part has %d bytes", h.Value, size)
			}
		case "Host":
			req.Host = h.Value
		case "Authorization":
			// Never: storage is not Clio.
		default:
			req.Header.Set(h.Name, h.Value)
		}
	}
	if md5sum != "" && req.Header.Get("Content-MD5") == "" {
		req.Header.Set("Content-MD5", md5sum)
	}
	_, _, err = send(ctx, c.pipeline, exchange{req: req, to: toStorage}, discardAnswer)
	return err
}
