package cliotest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // Content-MD5, as on S3
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	maxPartsPerRequest = 50
	maxPartNumber      = 10000
)

type docVersion struct {
	uuid          string
	id            int64
	docID         int64
	filename      string
	contentType   string
	multipart     bool
	parts         map[int]*partInfo
	single        []byte
	uploaded      bool
	fullyUploaded bool
	createdAt     string
}

type partInfo struct {
	number   int
	length   int64
	md5      string
	data     []byte
	uploaded bool
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) sign(msg string) string {
	m := hmac.New(sha256.New, s.storageKey)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (s *Server) putURL(v *docVersion, part int) string {
	q := url.Values{}
	q.Set("X-Amz-Expires", "28800")
	q.Set("X-Amz-Date", s.now().Format("20060102T150405Z"))
	if part > 0 {
		q.Set("uploadId", v.uuid)
		q.Set("partNumber", strconv.Itoa(part))
	}
	q.Set("X-Amz-Signature", s.sign("put:"+v.uuid+":"+strconv.Itoa(part)))
	return s.StorageURL + "/uploads/" + v.uuid + "/" + url.PathEscape(v.filename) + "?" + q.Encode()
}

func header(name, value string) map[string]any { return map[string]any{"name": name, "value": value} }

// versionView is the latest_document_version object of a document.
func (s *Server) versionView(v *docVersion) map[string]any {
	m := map[string]any{
		"id": v.id, "uuid": v.uuid, "document_id": v.docID, "filename": v.filename, "content_type": v.contentType,
		"fully_uploaded": v.fullyUploaded, "created_at": v.createdAt, "updated_at": v.createdAt,
		"version_number": int64(1),
	}
	if v.fullyUploaded {
		m["size"] = int64(len(s.blobs["documents/"+v.uuid]))
	}
	m["put_headers"] = []any{header("x-amz-server-side-encryption", "AES256"), header("Content-Type", v.contentType)}
	if !v.fullyUploaded {
		if v.multipart {
			var parts []any
			nums := make([]int, 0, len(v.parts))
			for n := range v.parts {
				nums = append(nums, n)
			}
			sort.Ints(nums)
			for _, n := range nums {
				p := v.parts[n]
				hs := []any{header("Content-Length", strconv.FormatInt(p.length, 10))}
				if p.md5 != "" {
					hs = append(hs, header("Content-MD5", p.md5))
				}
				parts = append(parts, map[string]any{"part_number": int64(n), "put_url": s.putURL(v, n), "put_headers": hs})
			}
			m["multiparts"] = parts
		} else {
			m["put_url"] = s.putURL(v, 0)
		}
	}
	setETag(m)
	return m
}

func (s *Server) addParts(v *docVersion, raw any) *resp {
	arr, ok := raw.([]any)
	if !ok {
		return invalid("multiparts must be an array")
	}
	if len(arr) > maxPartsPerRequest {
		return invalid("at most %d multiparts per request, got %d", maxPartsPerRequest, len(arr))
	}
	for _, it := range arr {
		m, _ := it.(map[string]any)
		n, ok := asInt(m["part_number"])
		if !ok || n < 1 || n > maxPartNumber {
			return invalid("part_number must be between 1 and %d", maxPartNumber)
		}
		l, ok := asInt(m["content_length"])
		if !ok || l < 1 {
			return invalid("content_length of part %d must be positive", n)
		}
		v.parts[int(n)] = &partInfo{number: int(n), length: l, md5: asString(m["content_md5"])}
	}
	v.multipart = true
	return nil
}

var parentCollections = map[string]string{"Matter": "matters", "Contact": "contacts", "Folder": "folders", "Document": "documents"}

func (s *Server) createDocument(c *call) *resp {
	d := c.data
	name := asString(d["name"])
	if name == "" {
		return invalid("name can't be blank")
	}
	parent, _ := d["parent"].(map[string]any)
	pid, ok := asInt(parent["id"])
	ptype := asString(parent["type"])
	coll := parentCollections[ptype]
	if !ok || coll == "" {
		return invalid("parent must have an id and a type (Matter, Contact, Folder or Document)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getLocked(coll, pid) == nil {
		return invalid("parent: no %s with id %d", ptype, pid)
	}
	ct := asString(d["content_type"])
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	s.nextSubID++
	v := &docVersion{uuid: newUUID(), id: s.nextSubID, filename: name, contentType: ct, parts: map[int]*partInfo{}, createdAt: s.now().Format(time.RFC3339)}
	if mp, ok := d["multiparts"]; ok && mp != nil {
		if res := s.addParts(v, mp); res != nil {
			return res
		}
	}
	var rec map[string]any
	event := "created"
	if ptype == "Document" {
		rec = s.getLocked("documents", pid)
		event = "updated"
	} else {
		rec = map[string]any{"name": name, "parent": map[string]any{"id": pid, "type": ptype}, "content_type": ct}
		switch ptype {
		case "Matter":
			rec["matter"] = map[string]any{"id": pid}
		case "Contact":
			rec["contact"] = map[string]any{"id": pid}
		case "Folder":
			rec["folder"] = map[string]any{"id": pid}
		}
		for _, k := range []string{"description", "document_category", "received_at"} {
			if val, ok := d[k]; ok {
				rec[k] = copyValue(val)
			}
		}
		s.insertLocked("documents", rec)
	}
	old := deepCopy(rec)
	v.docID, _ = asInt(rec["id"])
	s.versions[v.uuid] = v
	versions, _ := rec["_versions"].([]any)
	rec["_versions"] = append(versions, v.uuid)
	rec["latest_document_version"] = s.versionView(v)
	rec["updated_at"] = s.now().Format(time.RFC3339)
	setETag(rec)
	if event == "created" {
		s.queueEventLocked(c, "documents", event, rec, nil)
	} else {
		s.queueEventLocked(c, "documents", event, rec, old)
	}
	return s.dataResp(http.StatusCreated, s.project(rec, c.fields, c.schema, false))
}

func uploadNotFound(v *docVersion, why string) *resp {
	return errResp(http.StatusUnprocessableEntity, "UploadNotFoundError", fmt.Sprintf("A matching remote file was not found for the file named %s with UUID %s (%s)", v.filename, v.uuid, why))
}

func (s *Server) updateDocument(c *call, id int64) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, res := s.writableLocked(c, "documents", id)
	if res != nil {
		return res
	}
	d := c.data
	changes := map[string]any{}
	for k, v := range d {
		switch k {
		case "uuid", "fully_uploaded", "multiparts", "parent":
		default:
			changes[k] = v
		}
	}
	if u := asString(d["uuid"]); u != "" {
		v := s.versions[u]
		if v == nil || v.docID != id {
			return errResp(http.StatusUnprocessableEntity, "UploadNotFoundError", "no upload with UUID "+u+" for document "+strconv.FormatInt(id, 10))
		}
		full, _ := asBool(d["fully_uploaded"])
		if mp, ok := d["multiparts"]; ok && mp != nil && !v.fullyUploaded {
			if res := s.addParts(v, mp); res != nil {
				return res
			}
		}
		if full && !v.fullyUploaded {
			if res := s.completeUpload(v); res != nil {
				return res
			}
			changes["size"] = int64(len(s.blobs["documents/"+v.uuid]))
			changes["content_type"] = v.contentType
		}
		changes["latest_document_version"] = s.versionView(v)
	}
	return s.applyUpdateLocked(c, "documents", rec, changes)
}

// completeUpload verifies that every byte arrived and assembles the content.
func (s *Server) completeUpload(v *docVersion) *resp {
	if !v.multipart {
		if !v.uploaded {
			return uploadNotFound(v, "nothing was uploaded to put_url")
		}
		s.blobs["documents/"+v.uuid] = v.single
		v.fullyUploaded = true
		return nil
	}
	nums := make([]int, 0, len(v.parts))
	for n := range v.parts {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var buf bytes.Buffer
	for i, n := range nums {
		p := v.parts[n]
		if !p.uploaded {
			return uploadNotFound(v, fmt.Sprintf("part %d was not uploaded", n))
		}
		if i < len(nums)-1 && int64(len(p.data)) < s.cfg.minPartSize {
			return errResp(http.StatusUnprocessableEntity, "EntityTooSmall", fmt.Sprintf("part %d has %d bytes; every part but the last needs at least %d", n, len(p.data), s.cfg.minPartSize))
		}
		buf.Write(p.data)
	}
	s.blobs["documents/"+v.uuid] = buf.Bytes()
	v.fullyUploaded = true
	return nil
}

func (s *Server) documentVersions(c *call, id int64) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked("documents", id)
	if rec == nil {
		return notFound("documents", id)
	}
	var items []map[string]any
	uuids, _ := rec["_versions"].([]any)
	for i, u := range uuids {
		if v := s.versions[asString(u)]; v != nil {
			m := s.versionView(v)
			m["version_number"] = int64(i + 1)
			items = append(items, m)
		}
	}
	return s.listLocked(c, items)
}

// download answers 303 to the storage host, as Clio does for documents, document
// archives, document templates and reports.
func (s *Server) download(c *call, coll string, id int64) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked(coll, id)
	if rec == nil {
		return notFound(coll, id)
	}
	var key string
	if coll == "documents" {
		uuids, _ := rec["_versions"].([]any)
		for i := len(uuids) - 1; i >= 0; i-- {
			if v := s.versions[asString(uuids[i])]; v != nil && v.fullyUploaded {
				key = "documents/" + v.uuid
				break
			}
		}
		if key == "" {
			return errResp(http.StatusNotFound, "RecordNotFound", "the document has no fully uploaded version")
		}
	} else {
		key = coll + "/" + strconv.FormatInt(id, 10)
		if _, ok := s.blobs[key]; !ok {
			s.blobs[key] = []byte(fmt.Sprintf("cliotest placeholder content of %s %d\n", coll, id))
		}
	}
	q := url.Values{}
	q.Set("X-Amz-Expires", "300")
	q.Set("X-Amz-Signature", s.sign("get:"+key))
	res := emptyResp(http.StatusSeeOther)
	res.header.Set("Location", s.StorageURL+"/downloads/"+key+"?"+q.Encode())
	return res
}

// SetContent sets the bytes that the download of a record (document archive, document
// template, report...) redirects to.
func (s *Server) SetContent(collection string, id int64, data []byte) {
	s.mu.Lock()
	s.blobs[collection+"/"+strconv.FormatInt(id, 10)] = append([]byte(nil), data...)
	s.mu.Unlock()
}

// DocumentContent returns the bytes of the latest fully uploaded version of a document.
func (s *Server) DocumentContent(id int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked("documents", id)
	if rec == nil {
		return nil, false
	}
	uuids, _ := rec["_versions"].([]any)
	for i := len(uuids) - 1; i >= 0; i-- {
		if v := s.versions[asString(uuids[i])]; v != nil && v.fullyUploaded {
			return append([]byte(nil), s.blobs["documents/"+v.uuid]...), true
		}
	}
	return nil, false
}

// StorageHandler returns the http.Handler of the storage host (put_url uploads and
// download redirects). It refuses, with 403, any request that carries an Authorization
// header, and counts them in Counters.StorageAuthRejected.
func (s *Server) StorageHandler() http.Handler { return http.HandlerFunc(s.serveStorage) }

func storageErr(status int, code, msg string) *resp {
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	return &resp{status: status, header: h, body: []byte(body)}
}

func (s *Server) serveStorage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.StorageRequests++
	f := s.takeFaultLocked(r, true)
	s.mu.Unlock()
	if f != nil && s.applyFaultBefore(w, r, f) {
		return
	}
	s.writeResp(w, r, s.storage(r), f)
}

func (s *Server) storage(r *http.Request) *resp {
	if r.Header.Get("Authorization") != "" {
		s.mu.Lock()
		s.counters.StorageAuthRejected++
		s.mu.Unlock()
		return storageErr(http.StatusForbidden, "AccessDenied", "Requests to storage must not carry an Authorization header; the signed URL is the credential.")
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/uploads/"):
		rest := strings.TrimPrefix(r.URL.Path, "/uploads/")
		uuid, _, _ := strings.Cut(rest, "/")
		part := 0
		if pn := q.Get("partNumber"); pn != "" {
			part, _ = strconv.Atoi(pn)
		}
		if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.sign("put:"+uuid+":"+strconv.Itoa(part)))) {
			return storageErr(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return storageErr(http.StatusBadRequest, "IncompleteBody", err.Error())
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		v := s.versions[uuid]
		if v == nil {
			return storageErr(http.StatusNotFound, "NoSuchUpload", "unknown upload")
		}
		sum := md5.Sum(body) //nolint:gosec
		got := base64.StdEncoding.EncodeToString(sum[:])
		if h := r.Header.Get("Content-MD5"); h != "" && h != got {
			return storageErr(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
		h := http.Header{}
		h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		if part > 0 {
			p := v.parts[part]
			if p == nil {
				return storageErr(http.StatusNotFound, "NoSuchUpload", "part "+strconv.Itoa(part)+" was not requested")
			}
			if p.md5 != "" && r.Header.Get("Content-MD5") == "" {
				return storageErr(http.StatusForbidden, "SignatureDoesNotMatch", "the signed headers include Content-MD5; send the put_headers")
			}
			if p.md5 != "" && p.md5 != got {
				return storageErr(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
			}
			if int64(len(body)) != p.length {
				return storageErr(http.StatusBadRequest, "IncompleteBody", fmt.Sprintf("part %d: expected %d bytes, got %d", part, p.length, len(body)))
			}
			p.data, p.uploaded = body, true
			return &resp{status: http.StatusOK, header: h}
		}
		if r.Header.Get("X-Amz-Server-Side-Encryption") != "AES256" || r.Header.Get("Content-Type") != v.contentType {
			return storageErr(http.StatusForbidden, "SignatureDoesNotMatch", "the signed headers (put_headers: x-amz-server-side-encryption, Content-Type) were not sent as given")
		}
		v.single, v.uploaded = body, true
		return &resp{status: http.StatusOK, header: h}
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, "/downloads/"):
		key := strings.TrimPrefix(r.URL.Path, "/downloads/")
		if !hmac.Equal([]byte(q.Get("X-Amz-Signature")), []byte(s.sign("get:"+key))) {
			return storageErr(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		}
		s.mu.Lock()
		data, ok := s.blobs[key]
		ct := "application/octet-stream"
		if strings.HasPrefix(key, "documents/") {
			if v := s.versions[strings.TrimPrefix(key, "documents/")]; v != nil {
				ct = v.contentType
			}
		}
		s.mu.Unlock()
		if !ok {
			return storageErr(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		}
		h := http.Header{}
		h.Set("Content-Type", ct)
		return &resp{status: http.StatusOK, header: h, body: append([]byte(nil), data...)}
	}
	return storageErr(http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" "+r.URL.Path)
}
