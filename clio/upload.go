package clio

// Document upload engine. Clio stores document bytes outside the API: the
// client creates a document (or a new version of one), PUTs the bytes to the
// signed storage URL(s) Clio hands back, and then marks the version fully
// uploaded. See the "Documents" section of doc.go and clio-platform.md.
//
// The engine talks to the API through the small documentAPI interface, not
// through Client, so that it can be tested on its own and so that the
// storage requests can never pick up the client's auth transport: they go
// through a separate *http.Client that must not add a bearer token.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
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
	// partAttempts is how often one part (or a single-PUT body that can be
	// re-read) is tried: a PUT of a part is idempotent, so a dropped
	// connection or a 5xx costs one part, not the upload.
	partAttempts = 4
	// completeAttempts is how often the final "fully_uploaded" PATCH is
	// tried when Clio answers UploadTimeoutError, as the guide asks.
	completeAttempts = 5
)

// Tunables that tests lower. Production code never changes them.
var (
	// minPartSize: every part but the last must be at least 5 MB.
	minPartSize int64 = 5 << 20
	// partRetryBase is the first back-off before re-sending a part.
	partRetryBase = 500 * time.Millisecond
	// uploadTimeoutRetryBase is the first back-off after UploadTimeoutError.
	uploadTimeoutRetryBase = 2 * time.Second
)

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

// StorageError is a non-2xx answer from the document storage host (a
// put_url or a download location), which is not Clio and does not answer
// with Clio's error shape. Body holds the start of the answer, for S3 an XML
// <Error> with a Code such as BadDigest or AccessDenied.
type StorageError struct {
	Method     string
	Host       string // the storage host; the signed URL itself is not kept
	StatusCode int
	Body       string
}

// Error renders the status and the start of storage's answer; the signed
// URL is left out because its query string is a credential.
func (e *StorageError) Error() string {
	return fmt.Sprintf("clio: storage %s %s: %d %s: %s", e.Method, e.Host, e.StatusCode,
		http.StatusText(e.StatusCode), e.Body)
}

// ---- the API side -------------------------------------------------------

// documentAPI is what the engine needs from the API client: create a
// document (or version) and update it, both decoding the "data" object of
// the answer. Implementations must send the bearer token and return API
// failures as *Error, so that UploadTimeoutError is recognised.
type documentAPI interface {
	createDocument(ctx context.Context, data documentData, fields string) (documentInfo, error)
	updateDocument(ctx context.Context, id int64, data documentData, fields string) (documentInfo, error)
}

// engineCall sends one JSON request to the API host: method, a path from the
// host root ("/api/v4/documents.json"), query parameters, a body to encode
// (nil for none) and a value to decode the 2xx answer into (nil to discard).
// It is the one primitive the Client has to supply to the engines of this
// file, download.go and customaction.go.
type engineCall func(ctx context.Context, method, path string, query url.Values, in, out any) error

// newEngineCall returns the engineCall of an API client: hc must be the
// Client's API *http.Client (token for the API origin only, retries,
// rate limiting), base the API origin, codec the Client's. Answers outside
// 2xx become *Error. POST and PATCH are not retried by the client's retry
// layer, so a document is never created twice by a retry.
func newEngineCall(hc *http.Client, base *url.URL, codec Codec) engineCall {
	return func(ctx context.Context, method, path string, query url.Values, in, out any) error {
		var body io.Reader
		if in != nil {
			b, err := codec.Marshal(in)
			if err != nil {
				return err
			}
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, apiURL(base, path, query), body)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return sanitizeTransportErr(err) // the query may hold custom_action_nonce
		}
		defer drainClose(resp.Body)
		if err := checkResponse(resp, codec); err != nil {
			return err
		}
		if out == nil {
			return nil
		}
		if err := decodeAnswer(codec, resp.Body, out); err != nil {
			return fmt.Errorf("clio: decoding %s %s answer: %w", method, path, err)
		}
		return nil
	}
}

// apiURL joins the API base (which may carry a path prefix, e.g. behind a
// proxy or a fake server) and an /api/v4/... path.
func apiURL(base *url.URL, path string, query url.Values) string {
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	u.Fragment = ""
	return u.String()
}

func (f engineCall) createDocument(ctx context.Context, data documentData, fields string) (documentInfo, error) {
	var out struct {
		Data documentInfo `json:"data"`
	}
	err := f(ctx, http.MethodPost, "/api/v4/documents.json", url.Values{"fields": {fields}},
		documentEnvelope{data}, &out)
	return out.Data, err
}

func (f engineCall) updateDocument(ctx context.Context, id int64, data documentData, fields string) (documentInfo, error) {
	var out struct {
		Data documentInfo `json:"data"`
	}
	err := f(ctx, http.MethodPatch, "/api/v4/documents/"+strconv.FormatInt(id, 10)+".json",
		url.Values{"fields": {fields}}, documentEnvelope{data}, &out)
	return out.Data, err
}

type documentEnvelope struct {
	Data documentData `json:"data"`
}

// documentData is the request body of POST /documents and PATCH /documents/{id}.
type documentData struct {
	Name          string          `json:"name,omitempty"`
	Filename      string          `json:"filename,omitempty"`
	ContentType   string          `json:"content_type,omitempty"`
	Parent        *parentJSON     `json:"parent,omitempty"`
	UUID          string          `json:"uuid,omitempty"`
	FullyUploaded *bool           `json:"fully_uploaded,omitempty"`
	Multiparts    []multipartSpec `json:"multiparts,omitempty"`
}

type parentJSON struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// multipartSpec announces one part. content_length is a string in the
// request schema of both POST and PATCH /documents (the walkthrough's sample
// shows a number); we follow the schema, which is what the spec validator
// of the fake server and the generated types check.
type multipartSpec struct {
	PartNumber    int    `json:"part_number"`
	ContentLength int64  `json:"content_length,string"`
	ContentMD5    string `json:"content_md5,omitempty"`
}

type putHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type multipartInfo struct {
	PartNumber int         `json:"part_number"`
	PutURL     string      `json:"put_url"`
	PutHeaders []putHeader `json:"put_headers"`
}

type documentInfo struct {
	ID                    int64 `json:"id"`
	LatestDocumentVersion struct {
		UUID          string          `json:"uuid"`
		PutURL        string          `json:"put_url"`
		PutHeaders    []putHeader     `json:"put_headers"`
		Multiparts    []multipartInfo `json:"multiparts"`
		FullyUploaded bool            `json:"fully_uploaded"`
	} `json:"latest_document_version"`
}

const (
	fieldsSingle    = "id,latest_document_version{uuid,put_url,put_headers}"
	fieldsMultipart = "id,latest_document_version{uuid,put_headers,multiparts}"
	fieldsComplete  = "id,latest_document_version{uuid,fully_uploaded}"
)

// isUploadTimeout reports Clio's "verification timed out, try again" answer.
func isUploadTimeout(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Type == "UploadTimeoutError"
}

// ---- the engine ---------------------------------------------------------

// uploader runs uploads. api carries the token; storage must not: it is
// used for put_urls only, which are pre-signed and live on another host.
type uploader struct {
	api     documentAPI
	storage *http.Client
}

// upload creates a document (or a version, when p.Parent is a Document) and
// uploads p.Body into it.
func (u *uploader) upload(ctx context.Context, p UploadParams) (*UploadResult, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	// An empty file has nothing to split or check: always a single PUT.
	if p.Size > 0 && (p.MD5 || p.Multipart || p.Size >= multipartThreshold) {
		return u.multipart(ctx, &p)
	}
	return u.single(ctx, &p)
}

// newVersion uploads p.Body as a new version of document documentID: Clio
// models this as creating a document whose parent is that document.
func (u *uploader) newVersion(ctx context.Context, documentID int64, p UploadParams) (*UploadResult, error) {
	if p.Parent != (DocumentParent{}) && p.Parent != (DocumentParent{documentID, ParentDocument}) {
		return nil, &InputError{Field: "Parent", Reason: "must be empty for a new version (it is the document)"}
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

func (p *UploadParams) createData() documentData {
	return documentData{
		Name: p.Name, Filename: p.Filename, ContentType: p.ContentType,
		Parent: &parentJSON{ID: p.Parent.ID, Type: p.Parent.Type},
	}
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
func (u *uploader) single(ctx context.Context, p *UploadParams) (*UploadResult, error) {
	doc, err := u.api.createDocument(ctx, p.createData(), fieldsSingle)
	if err != nil {
		return nil, &UploadError{Step: "create", Err: err}
	}
	v := doc.LatestDocumentVersion
	fail := func(step string, err error) (*UploadResult, error) {
		return nil, &UploadError{DocumentID: doc.ID, VersionUUID: v.UUID, Step: step, Err: err}
	}
	if v.UUID == "" || v.PutURL == "" {
		return fail("create", errors.New("answer lacks latest_document_version uuid or put_url"))
	}
	pr := &uploadProgress{fn: p.Progress, total: p.Size}
	ra, seekable := p.Body.(io.ReaderAt)
	attempts := 1
	if seekable {
		attempts = partAttempts // the body can be produced again
	}
	var short *shortBodyError
	err = u.put(ctx, v.PutURL, v.PutHeaders, p.Size, "", attempts, func() io.Reader {
		var r io.Reader
		if seekable {
			r = io.NewSectionReader(ra, 0, p.Size)
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
	if err := u.complete(ctx, doc.ID, v.UUID); err != nil {
		return fail("complete", err)
	}
	return &UploadResult{DocumentID: doc.ID, VersionUUID: v.UUID}, nil
}

// complete marks the version fully uploaded, retrying UploadTimeoutError:
// Clio verifies the stored file synchronously and that check may time out.
func (u *uploader) complete(ctx context.Context, id int64, uuid string) error {
	yes := true
	return retryUploadTimeout(ctx, func() error {
		_, err := u.api.updateDocument(ctx, id, documentData{UUID: uuid, FullyUploaded: &yes}, fieldsComplete)
		return err
	})
}

func retryUploadTimeout(ctx context.Context, f func() error) error {
	var err error
	for attempt := range completeAttempts {
		if attempt > 0 {
			if werr := sleepCtx(ctx, uploadBackoff(uploadTimeoutRetryBase, attempt-1)); werr != nil {
				return errors.Join(err, werr)
			}
		}
		if err = f(); err == nil || !isUploadTimeout(err) {
			return err
		}
	}
	return err
}

// multipart runs the pipeline: one goroutine (this one) reads parts into a
// fixed set of Concurrency buffers and asks Clio for put_urls in batches of
// up to 50; Concurrency workers PUT the parts and hand buffers back.
func (u *uploader) multipart(ctx context.Context, p *UploadParams) (*UploadResult, error) {
	partSize := p.partSize()
	nParts := int(max(1, (p.Size+partSize-1)/partSize))
	partLen := func(n int) int64 { // n is 1-based
		return min(partSize, p.Size-int64(n-1)*partSize)
	}
	ra, isReaderAt := p.Body.(io.ReaderAt)
	src := p.Body
	if isReaderAt {
		src = io.NewSectionReader(ra, 0, p.Size)
	}

	// With MD5 on a re-readable body, hash every part in a first pass so
	// that batches of 50 can be requested ahead of the data, as without MD5.
	var md5s []string
	if p.MD5 && isReaderAt {
		md5s = make([]string, nParts)
		for n := 1; n <= nParts; n++ {
			h := md5.New()
			if _, err := io.Copy(h, io.NewSectionReader(ra, int64(n-1)*partSize, partLen(n))); err != nil {
				return nil, &UploadError{Step: "read", Part: n, Err: err}
			}
			md5s[n-1] = base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
	}
	streamingMD5 := p.MD5 && !isReaderAt

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	m := &mpState{u: u, p: p, targets: map[int]multipartInfo{}}
	pool := newPartBufPool(p.Concurrency)
	pr := &uploadProgress{fn: p.Progress, total: p.Size}
	jobs := make(chan *partJob)

	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	setErr := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel(err)
	}
	for range p.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				err := u.put(ctx, j.target.PutURL, j.target.PutHeaders, int64(len(j.data)), j.md5, partAttempts,
					func() io.Reader { return bytes.NewReader(j.data) })
				pool.put(j.buf)
				if err != nil {
					setErr(m.errorf("put", j.n, err))
					continue // keep draining so the producer never blocks
				}
				pr.add(int64(len(j.data)))
			}
		})
	}

	dispatch := func(j *partJob) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			pool.put(j.buf)
			return false
		}
	}
	var pending []*partJob // streaming MD5: read, hashed, waiting for a put_url
	flush := func() bool {
		if len(pending) == 0 {
			return true
		}
		specs := make([]multipartSpec, len(pending))
		for i, j := range pending {
			specs[i] = multipartSpec{PartNumber: j.n, ContentLength: int64(len(j.data)), ContentMD5: j.md5}
		}
		if err := m.request(ctx, specs); err != nil {
			setErr(err)
			for _, j := range pending {
				pool.put(j.buf)
			}
			pending = nil
			return false
		}
		for _, j := range pending {
			j.target = m.targets[j.n]
			delete(m.targets, j.n)
			if !dispatch(j) {
				return false
			}
		}
		pending = pending[:0]
		return true
	}

	produce := func() {
		for n := 1; n <= nParts; n++ {
			buf, ok := pool.tryGet()
			if !ok {
				// Every buffer is busy. Parts waiting for their URL
				// hold buffers too: send them off before blocking, or
				// nothing would ever free one.
				if !flush() {
					return
				}
				if buf, ok = pool.get(ctx); !ok {
					return
				}
			}
			size := partLen(n)
			if int64(cap(buf)) < size {
				buf = make([]byte, partSize) // first use of this slot
			}
			j := &partJob{n: n, buf: buf, data: buf[:size]}
			if _, err := io.ReadFull(src, j.data); err != nil {
				pool.put(buf)
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = fmt.Errorf("upload: UploadParams.Body ended before Size (%d bytes): %w", p.Size, io.ErrUnexpectedEOF)
				}
				setErr(m.errorf("read", n, err))
				return
			}
			switch {
			case streamingMD5:
				sum := md5.Sum(j.data)
				j.md5 = base64.StdEncoding.EncodeToString(sum[:])
				pending = append(pending, j)
				if len(pending) == maxPartsPerRequest || n == nParts {
					if !flush() {
						return
					}
				}
				continue
			case md5s != nil:
				j.md5 = md5s[n-1]
			}
			if _, ok := m.targets[n]; !ok {
				// Ask for this part and the next ones up to 50, from
				// sizes alone: the data is not needed to get URLs.
				last := min(nParts, n+maxPartsPerRequest-1)
				specs := make([]multipartSpec, 0, last-n+1)
				for k := n; k <= last; k++ {
					s := multipartSpec{PartNumber: k, ContentLength: partLen(k)}
					if md5s != nil {
						s.ContentMD5 = md5s[k-1]
					}
					specs = append(specs, s)
				}
				if err := m.request(ctx, specs); err != nil {
					pool.put(buf)
					setErr(err)
					return
				}
			}
			j.target = m.targets[n]
			delete(m.targets, n)
			if !dispatch(j) {
				return
			}
		}
		// All parts read: Body must hold nothing more.
		if err := checkNoExtra(p.Body, p.Size); err != nil {
			setErr(m.errorf("read", 0, err))
		}
	}
	produce()
	close(jobs)
	wg.Wait()

	errMu.Lock()
	err := firstErr
	errMu.Unlock()
	if err == nil && ctx.Err() != nil {
		err = m.errorf("put", 0, context.Cause(ctx))
	}
	if err != nil {
		return nil, err
	}
	if err := u.complete(ctx, m.docID, m.uuid); err != nil {
		return nil, m.errorf("complete", 0, err)
	}
	return &UploadResult{DocumentID: m.docID, VersionUUID: m.uuid, Parts: nParts}, nil
}

type partJob struct {
	n      int
	buf    []byte // the pool slot, returned after the PUT
	data   []byte // buf[:part length]
	md5    string
	target multipartInfo
}

// mpState tracks the document of a multipart upload and the put_urls
// received but not yet used. It is used by the producer goroutine only.
type mpState struct {
	u       *uploader
	p       *UploadParams
	docID   int64
	uuid    string
	targets map[int]multipartInfo
}

func (m *mpState) errorf(step string, part int, err error) error {
	if ue, ok := errors.AsType[*UploadError](err); ok {
		return ue
	}
	return &UploadError{DocumentID: m.docID, VersionUUID: m.uuid, Part: part, Step: step, Err: err}
}

// request announces parts to Clio and records their put_urls. The first
// request creates the document; later ones update its version with
// fully_uploaded=false and the next parts.
func (m *mpState) request(ctx context.Context, specs []multipartSpec) error {
	var doc documentInfo
	var err error
	if m.docID == 0 {
		data := m.p.createData()
		data.Multiparts = specs
		doc, err = m.u.api.createDocument(ctx, data, fieldsMultipart)
		if err != nil {
			return &UploadError{Step: "create", Err: err}
		}
		if doc.ID == 0 || doc.LatestDocumentVersion.UUID == "" {
			return &UploadError{Step: "create", Err: errors.New("answer lacks id or latest_document_version.uuid")}
		}
		m.docID, m.uuid = doc.ID, doc.LatestDocumentVersion.UUID
	} else {
		no := false
		err = retryUploadTimeout(ctx, func() error {
			doc, err = m.u.api.updateDocument(ctx, m.docID,
				documentData{UUID: m.uuid, FullyUploaded: &no, Multiparts: specs}, fieldsMultipart)
			return err
		})
		if err != nil {
			return m.errorf("request parts", specs[0].PartNumber, err)
		}
	}
	got := make(map[int]multipartInfo, len(doc.LatestDocumentVersion.Multiparts))
	for _, mp := range doc.LatestDocumentVersion.Multiparts {
		got[mp.PartNumber] = mp
	}
	for _, s := range specs {
		mp, ok := got[s.PartNumber]
		if !ok || mp.PutURL == "" {
			return m.errorf("request parts", s.PartNumber, errors.New("answer has no put_url for this part"))
		}
		m.targets[s.PartNumber] = mp
	}
	return nil
}

// partBufPool hands out at most n part buffers, allocated on first use and
// reused afterwards. It is a fixed pool rather than a sync.Pool on purpose:
// a sync.Pool would allocate a fresh buffer whenever it is empty, and the
// bound on memory is the point.
type partBufPool struct {
	free  chan []byte
	slots chan struct{} // tokens for buffers not yet allocated
}

func newPartBufPool(n int) *partBufPool {
	p := &partBufPool{free: make(chan []byte, n), slots: make(chan struct{}, n)}
	for range n {
		p.slots <- struct{}{}
	}
	return p
}

// tryGet returns a buffer (possibly nil, to be allocated by the caller) if
// one is available without waiting.
func (p *partBufPool) tryGet() ([]byte, bool) {
	select {
	case b := <-p.free:
		return b, true
	case <-p.slots:
		return nil, true
	default:
		return nil, false
	}
}

func (p *partBufPool) get(ctx context.Context) ([]byte, bool) {
	select {
	case b := <-p.free:
		return b, true
	case <-p.slots:
		return nil, true
	case <-ctx.Done():
		return nil, false
	}
}

func (p *partBufPool) put(b []byte) {
	if b == nil {
		p.slots <- struct{}{}
		return
	}
	p.free <- b
}

// put PUTs size bytes from body() to a pre-signed storage URL with Clio's
// put_headers, trying up to attempts times on a dropped connection, a 5xx,
// 408 or 429. body is called once per attempt. No Authorization header is
// ever set: the URL carries its own signature, and the token must not leave
// the API host.
func (u *uploader) put(ctx context.Context, putURL string, headers []putHeader, size int64, md5sum string,
	attempts int, body func() io.Reader) error {
	target, err := url.Parse(putURL)
	if err != nil || (target.Scheme != "https" && target.Scheme != "http") || target.Host == "" {
		return fmt.Errorf("invalid put_url from Clio")
	}
	var lastErr error
	for attempt := range attempts {
		if attempt > 0 {
			if err := sleepCtx(ctx, uploadBackoff(partRetryBase, attempt-1)); err != nil {
				return errors.Join(lastErr, err)
			}
		}
		retry, err := u.putOnce(ctx, target, headers, size, md5sum, body())
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if attempts > 1 {
		return fmt.Errorf("after %d attempts: %w", attempts, lastErr)
	}
	return lastErr
}

func (u *uploader) putOnce(ctx context.Context, target *url.URL, headers []putHeader, size int64,
	md5sum string, body io.Reader) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target.String(), io.NopCloser(body))
	if err != nil {
		return false, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for _, h := range headers {
		switch http.CanonicalHeaderKey(h.Name) {
		case "Content-Length":
			// net/http writes Content-Length from req.ContentLength; a
			// header would be ignored. A mismatch means the signature
			// covers a different part size: fail rather than send.
			if h.Value != strconv.FormatInt(size, 10) {
				return false, fmt.Errorf("put_headers Content-Length %s, part has %d bytes", h.Value, size)
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
	resp, err := u.storage.Do(req)
	if err != nil {
		// Dropped connection, reset, timeout: the PUT is idempotent. The
		// signed URL in the *url.Error is a credential: none of it in errors.
		return true, stripURLErr(err)
	}
	defer drainClose(resp.Body) // keeps the connection reusable
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	return retryableStorageStatus(resp.StatusCode), storageError(resp)
}

func retryableStorageStatus(code int) bool {
	return code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
}

func storageError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	return &StorageError{Method: resp.Request.Method, Host: resp.Request.URL.Host,
		StatusCode: resp.StatusCode, Body: redactText(strings.TrimSpace(string(b)))}
}

// uploadBackoff is base x 2^n with +-25% jitter, so parallel workers that failed
// together do not retry in lockstep.
func uploadBackoff(base time.Duration, n int) time.Duration {
	d := base << min(n, 10)
	return d - d/4 + rand.N(d/2+1)
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

func (c *Client) uploader() *uploader {
	return &uploader{api: newEngineCall(c.hc, c.base, c.codec), storage: c.storage}
}

// Upload creates a document under p.Parent and uploads p.Body to Clio's storage: one PUT, or
// concurrent multipart parts for large files or when MD5 checks are asked for. The bearer
// token never goes to storage. The version is marked fully uploaded before Upload returns.
func (s *DocumentsService) Upload(ctx context.Context, p UploadParams) (*UploadResult, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.uploader().upload(ctx, p)
}

// NewVersion uploads p.Body as a new version of an existing document.
func (s *DocumentsService) NewVersion(ctx context.Context, documentID int64, p UploadParams) (*UploadResult, error) {
	if err := checkContext(ctx); err != nil {
		return nil, err
	}
	return s.client.uploader().newVersion(ctx, documentID, p)
}
