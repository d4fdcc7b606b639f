package clio

// An httptest Clio for the upload, download and custom action engines: an
// API host that requires the bearer token, and a separate storage host that
// fails the test if it ever sees one.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "tok-secret"

type fakePart struct {
	length int64
	md5    string
}

type fakeDoc struct {
	id       int64
	uuid     string
	parent   map[string]any
	name     string
	parts    map[int]fakePart // announced multiparts
	single   bool
	stored   map[int][]byte // part number (0 for single) -> bytes (nil when discarding)
	storedN  map[int]int64
	complete bool
}

// fakeClio is the API host plus the storage host.
type fakeClio struct {
	t       testing.TB
	api     *httptest.Server
	storage *httptest.Server
	discard bool // storage keeps lengths only (benchmarks)

	mu            sync.Mutex
	docs          map[int64]*fakeDoc
	byUUID        map[string]*fakeDoc
	nextID        int64
	requests      []string       // API requests, "METHOD path #parts"
	batchSizes    []int          // multiparts per create/update
	putCount      map[string]int // storage PUTs per "uuid/part"
	timeouts      atomic.Int32   // UploadTimeoutError answers to give on completion
	failPut       func(part, attempt int, w http.ResponseWriter, r *http.Request) bool
	leaks         atomic.Int32      // storage requests that carried a token
	subjects      map[string]string // custom action: subject path -> nonce accepted
	download      map[string][]byte // download path -> content (via 303)
	directContent []byte
	badSignature  bool // download redirects carry a signature storage refuses
	// perConnBps, when set, limits each storage PUT to that many bytes per
	// second, as a distant object store does per TCP connection.
	perConnBps int64
	putURL     string // overrides the single put_url
}

func newFakeClio(t testing.TB) *fakeClio {
	f := &fakeClio{t: t, docs: map[int64]*fakeDoc{}, byUUID: map[string]*fakeDoc{}, nextID: 1000,
		putCount: map[string]int{}, subjects: map[string]string{}, download: map[string][]byte{}}
	f.storage = httptest.NewServer(http.HandlerFunc(f.serveStorage))
	f.api = httptest.NewServer(http.HandlerFunc(f.serveAPI))
	t.Cleanup(func() { f.api.Close(); f.storage.Close() })
	return f
}

// client is a Client on the fake: its token, fast retries, storage on loopback allowed.
func (f *fakeClio) client(opts ...Option) *Client {
	c, err := NewClient(context.Background(), append([]Option{WithBaseURL(f.api.URL), WithToken(testToken),
		WithoutRateLimiter(), WithPrivateStorage(), testRetries(0)}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func clioErr(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"type": typ, "message": msg}})
}

func (f *fakeClio) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		clioErr(w, 401, "AuthenticationError", "no token")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v4/documents.json":
		f.createDoc(w, r)
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v4/documents/"):
		f.updateDoc(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/download.json"):
		f.mu.Lock()
		content, ok := f.download[r.URL.Path]
		f.mu.Unlock()
		if !ok {
			clioErr(w, 404, "RecordNotFound", "no such record")
			return
		}
		if f.directContent != nil {
			w.Write(f.directContent)
			return
		}
		_ = content
		sig := "abc"
		if f.badSignature {
			sig = "wrong"
		}
		http.Redirect(w, r, f.storage.URL+"/files"+r.URL.Path+"?X-Amz-Signature="+sig, http.StatusSeeOther)
	case r.Method == http.MethodGet:
		f.mu.Lock()
		nonce, ok := f.subjects[r.URL.Path]
		f.mu.Unlock()
		if !ok {
			clioErr(w, 404, "RecordNotFound", "no such record")
			return
		}
		if r.URL.Query().Get("custom_action_nonce") != nonce {
			clioErr(w, http.StatusForbidden, "ForbiddenError", "custom action nonce does not match")
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": 7, "fields": r.URL.Query().Get("fields")}})
	default:
		clioErr(w, 404, "NotFound", r.Method+" "+r.URL.Path)
	}
}

// rawDoc decodes the request body, checking content_length is a string as
// in the request schema.
func (f *fakeClio) rawDoc(r *http.Request) (map[string]any, []map[string]any, error) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
		return nil, nil, err
	}
	var parts []map[string]any
	if mps, ok := env.Data["multiparts"].([]any); ok {
		for _, mp := range mps {
			m := mp.(map[string]any)
			if _, ok := m["content_length"].(string); !ok {
				return nil, nil, fmt.Errorf("content_length is %T, want string", m["content_length"])
			}
			parts = append(parts, m)
		}
	}
	return env.Data, parts, nil
}

func (f *fakeClio) addParts(d *fakeDoc, parts []map[string]any) ([]map[string]any, error) {
	if len(parts) > maxPartsPerRequest {
		return nil, fmt.Errorf("%d multiparts in one request", len(parts))
	}
	f.batchSizes = append(f.batchSizes, len(parts))
	var out []map[string]any
	for _, m := range parts {
		n := int(m["part_number"].(float64))
		if n < 1 || n > maxParts {
			return nil, fmt.Errorf("part_number %d", n)
		}
		l, _ := strconv.ParseInt(m["content_length"].(string), 10, 64)
		md, _ := m["content_md5"].(string)
		d.parts[n] = fakePart{length: l, md5: md}
		hdrs := []map[string]string{{"name": "Content-Length", "value": strconv.FormatInt(l, 10)}}
		if md != "" {
			hdrs = append(hdrs, map[string]string{"name": "Content-MD5", "value": md})
		}
		out = append(out, map[string]any{"part_number": n,
			"put_url":     fmt.Sprintf("%s/parts/%s/%d?uploadId=x&X-Amz-Signature=s", f.storage.URL, d.uuid, n),
			"put_headers": hdrs})
	}
	return out, nil
}

func (f *fakeClio) createDoc(w http.ResponseWriter, r *http.Request) {
	data, parts, err := f.rawDoc(r)
	if err != nil {
		clioErr(w, 400, "ArgumentError", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, fmt.Sprintf("POST %s #%d", r.URL.Path, len(parts)))
	parent, _ := data["parent"].(map[string]any)
	name, _ := data["name"].(string)
	if parent == nil || name == "" {
		clioErr(w, 422, "RecordInvalid", "name and parent required")
		return
	}
	f.nextID++
	d := &fakeDoc{id: f.nextID, uuid: fmt.Sprintf("uuid-%d", f.nextID), parent: parent, name: name,
		parts: map[int]fakePart{}, stored: map[int][]byte{}, storedN: map[int]int64{}}
	if parent["type"] == "Document" {
		d.id = int64(parent["id"].(float64))
	}
	f.docs[d.id] = d
	f.byUUID[d.uuid] = d
	v := map[string]any{"uuid": d.uuid, "put_headers": []map[string]string{
		{"name": "x-amz-server-side-encryption", "value": "AES256"},
		{"name": "Content-Type", "value": "application/pdf"}}}
	if len(parts) == 0 {
		d.single = true
		v["put_url"] = fmt.Sprintf("%s/single/%s?X-Amz-Signature=s", f.storage.URL, d.uuid)
		if f.putURL != "" {
			v["put_url"] = f.putURL
		}
	} else {
		mps, err := f.addParts(d, parts)
		if err != nil {
			clioErr(w, 422, "ArgumentError", err.Error())
			return
		}
		v["multiparts"] = mps
	}
	writeJSON(w, 201, map[string]any{"data": map[string]any{"id": d.id, "latest_document_version": v}})
}

func (f *fakeClio) updateDoc(w http.ResponseWriter, r *http.Request) {
	data, parts, err := f.rawDoc(r)
	if err != nil {
		clioErr(w, 400, "ArgumentError", err.Error())
		return
	}
	id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v4/documents/"), ".json"), 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, fmt.Sprintf("PATCH %s #%d", r.URL.Path, len(parts)))
	d := f.docs[id]
	if d == nil || data["uuid"] != d.uuid {
		clioErr(w, 404, "RecordNotFound", "no such document version")
		return
	}
	switch data["fully_uploaded"] {
	case false:
		mps, err := f.addParts(d, parts)
		if err != nil {
			clioErr(w, 422, "ArgumentError", err.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": d.id,
			"latest_document_version": map[string]any{"uuid": d.uuid, "multiparts": mps}}})
	case true:
		if f.timeouts.Load() > 0 {
			f.timeouts.Add(-1)
			clioErr(w, 422, "UploadTimeoutError", "A timeout occurred verifying the remote file. Please try the request again.")
			return
		}
		if d.single {
			if _, ok := d.storedN[0]; !ok {
				clioErr(w, 422, "UploadNotFoundError", "A matching remote file was not found")
				return
			}
		} else {
			for n, p := range d.parts {
				if d.storedN[n] != p.length {
					clioErr(w, 422, "UploadNotFoundError", fmt.Sprintf("part %d missing", n))
					return
				}
			}
		}
		d.complete = true
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": d.id,
			"latest_document_version": map[string]any{"uuid": d.uuid, "fully_uploaded": true}}})
	default:
		clioErr(w, 400, "ArgumentError", "fully_uploaded must be a boolean")
	}
}

func (f *fakeClio) serveStorage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" || strings.Contains(r.URL.RawQuery, testToken) {
		f.leaks.Add(1)
		f.t.Errorf("storage host received a token: %s %s", r.Method, r.URL.Path)
		http.Error(w, "<Error><Code>InvalidArgument</Code></Error>", 400)
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method == http.MethodGet && seg[0] == "files" {
		p := "/" + strings.Join(seg[1:], "/")
		f.mu.Lock()
		content, ok := f.download[p]
		f.mu.Unlock()
		if !ok || r.URL.Query().Get("X-Amz-Signature") != "abc" {
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="big.pdf"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content)
		return
	}
	if r.Method != http.MethodPut || len(seg) < 2 {
		http.Error(w, "bad storage request", 400)
		return
	}
	uuid, part := seg[1], 0
	if seg[0] == "parts" {
		part, _ = strconv.Atoi(seg[2])
	}
	key := fmt.Sprintf("%s/%d", uuid, part)
	f.mu.Lock()
	f.putCount[key]++
	attempt := f.putCount[key]
	d := f.byUUID[uuid]
	fail := f.failPut
	f.mu.Unlock()
	if d == nil {
		http.Error(w, "<Error><Code>NoSuchUpload</Code></Error>", 404)
		return
	}
	if fail != nil && fail(part, attempt, w, r) {
		return
	}
	if seg[0] == "single" && r.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>", http.StatusForbidden)
		return
	}
	h := md5.New()
	var buf bytes.Buffer
	dst := io.MultiWriter(h, &buf)
	if f.discard {
		dst = h
		if r.Header.Get("Content-MD5") == "" {
			dst = io.Discard
		}
	}
	var body io.Reader = r.Body
	if f.perConnBps > 0 {
		body = &throttled{r: r.Body, bps: f.perConnBps, start: time.Now()}
	}
	n, err := io.Copy(dst, body)
	if err != nil {
		return
	}
	if n != r.ContentLength {
		http.Error(w, "<Error><Code>IncompleteBody</Code></Error>", 400)
		return
	}
	if want := r.Header.Get("Content-MD5"); want != "" {
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
			http.Error(w, "<Error><Code>BadDigest</Code></Error>", 400)
			return
		}
	}
	f.mu.Lock()
	if part > 0 {
		p := d.parts[part]
		if p.length != n || r.Header.Get("Content-MD5") != p.md5 {
			f.mu.Unlock()
			http.Error(w, "<Error><Code>SignatureDoesNotMatch</Code></Error>", http.StatusForbidden)
			return
		}
	}
	if !f.discard {
		d.stored[part] = buf.Bytes()
	}
	d.storedN[part] = n
	f.mu.Unlock()
	w.Header().Set("ETag", `"etag"`)
	w.WriteHeader(200)
}

// content reassembles a stored document.
func (f *fakeClio) content(id int64) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.docs[id]
	if d.single {
		return d.stored[0]
	}
	var b []byte
	for n := 1; n <= len(d.parts); n++ {
		b = append(b, d.stored[n]...)
	}
	return b
}

// dropMidBody reads half of the request body and then cuts the connection,
// as a network failure in the middle of a part would.
func dropMidBody(w http.ResponseWriter, r *http.Request) {
	io.CopyN(io.Discard, r.Body, r.ContentLength/2)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// streamOnly hides io.ReaderAt so the engine must read a plain stream.
type streamOnly struct{ r io.Reader }

func (s streamOnly) Read(b []byte) (int, error) { return s.r.Read(b) }

// patternReader generates n pseudo-random bytes without holding them.
type patternReader struct {
	n, off int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := uint64(p.off + int64(i))
		b[i] = byte(x*2654435761>>13) ^ byte(x)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func testBytes(n int) []byte {
	b, _ := io.ReadAll(&patternReader{n: int64(n)})
	return b
}

// lowerLimits makes parts tiny for the duration of a test (the fake's client retries fast).
func lowerLimits(t testing.TB, minPart int64) {
	oldMin := minPartSize
	minPartSize = minPart
	t.Cleanup(func() { minPartSize = oldMin })
}

// defaultAttempts is StandardRetryer's default MaxAttempts, which the fake's client keeps.
const defaultAttempts = 5

// puts returns how many PUTs storage received for "uuid/part".
func (f *fakeClio) puts(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.putCount[key]
}

// doc returns a copy of the state of document id.
func (f *fakeClio) doc(id int64) fakeDoc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.docs[id]
}

// throttled paces reads to bps bytes per second.
type throttled struct {
	r     io.Reader
	bps   int64
	n     int64
	start time.Time
}

func (t *throttled) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	t.n += int64(n)
	if due := time.Duration(float64(t.n) / float64(t.bps) * float64(time.Second)); due > time.Since(t.start) {
		time.Sleep(due - time.Since(t.start))
	}
	return n, err
}
