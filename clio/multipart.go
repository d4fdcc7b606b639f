package clio

// Multipart uploads: one goroutine reads parts into a fixed set of buffers and asks Clio
// for put_urls in batches of up to 50; Concurrency workers PUT the parts (storage.go) and
// hand the buffers back.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/clio-go/clio-go/gen"
)

// multipart runs the upload: one goroutine (this one) reads parts into a
// fixed set of Concurrency buffers and asks Clio for put_urls in batches of
// up to 50; Concurrency workers PUT the parts and hand buffers back.
func (u *uploader) multipart(ctx context.Context, p *UploadParams) (*UploadResult, *Response, error) {
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
				return nil, nil, &UploadError{Step: "read", Part: n, Err: err}
			}
			md5s[n-1] = base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
	}
	streamingMD5 := p.MD5 && !isReaderAt

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	m := &mpState{u: u, p: p, targets: map[int]gen.MultipartBase{}}
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
				err := u.c.storagePut(ctx, j.target.PutUrl, putHeaders(j.target.PutHeaders), int64(len(j.data)), j.md5, true,
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
		specs := make([]gen.MultipartInput, len(pending))
		for i, j := range pending {
			specs[i] = partSpec(j.n, int64(len(j.data)), j.md5)
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
				specs := make([]gen.MultipartInput, 0, last-n+1)
				for k := n; k <= last; k++ {
					sum := ""
					if md5s != nil {
						sum = md5s[k-1]
					}
					specs = append(specs, partSpec(k, partLen(k), sum))
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
		return nil, nil, err
	}
	resp, err := u.complete(ctx, m.docID, m.uuid)
	if err != nil {
		return nil, nil, m.errorf("complete", 0, err)
	}
	return &UploadResult{DocumentID: m.docID, VersionUUID: m.uuid, Parts: nParts}, resp, nil
}

// partSpec announces one part. content_length is a string in the request schema of both
// POST and PATCH /documents (the walkthrough's sample shows a number); the generated type
// follows the schema.
func partSpec(n int, size int64, md5sum string) gen.MultipartInput {
	s := gen.MultipartInput{PartNumber: int64(n), ContentLength: strconv.FormatInt(size, 10)}
	if md5sum != "" {
		s.ContentMd5 = Ptr(md5sum)
	}
	return s
}

type partJob struct {
	n      int
	buf    []byte // the pool slot, returned after the PUT
	data   []byte // buf[:part length]
	md5    string
	target gen.MultipartBase
}

// mpState tracks the document of a multipart upload and the put_urls
// received but not yet used. It is used by the producer goroutine only.
type mpState struct {
	u       *uploader
	p       *UploadParams
	docID   int64
	uuid    string
	targets map[int]gen.MultipartBase
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
func (m *mpState) request(ctx context.Context, specs []gen.MultipartInput) error {
	var doc gen.Document
	var err error
	if m.docID == 0 {
		in := m.p.createInput()
		in.Multiparts = specs
		doc, _, err = m.u.createDocument(ctx, in, fieldsMultipart)
		if err != nil {
			return &UploadError{Step: "create", Err: err}
		}
		if doc.Id == 0 || latestVersion(doc).Uuid == "" {
			return &UploadError{Step: "create", Err: errors.New("answer lacks id or latest_document_version.uuid")}
		}
		m.docID, m.uuid = doc.Id, latestVersion(doc).Uuid
	} else {
		doc, _, err = m.u.updateDocument(ctx, m.docID,
			gen.DocumentUpdateInput{Uuid: Ptr(m.uuid), FullyUploaded: Ptr(false), Multiparts: specs}, fieldsMultipart)
		if err != nil {
			return m.errorf("request parts", int(specs[0].PartNumber), err)
		}
	}
	got := make(map[int]gen.MultipartBase, len(latestVersion(doc).Multiparts))
	for _, mp := range latestVersion(doc).Multiparts {
		got[int(mp.PartNumber)] = mp
	}
	for _, s := range specs {
		mp, ok := got[int(s.PartNumber)]
		if !ok || mp.PutUrl == "" {
			return m.errorf("request parts", int(s.PartNumber), errors.New("answer has no put_url for this part"))
		}
		m.targets[int(s.PartNumber)] = mp
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
