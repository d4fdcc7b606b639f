package cliotest

import (
	"bytes"
	"crypto/md5" //nolint:gosec
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// put uploads bytes to a storage URL with the put_headers, like a client should.
func put(t *testing.T, c *http.Client, u string, headers []any, body []byte, extra ...string) int {
	t.Helper()
	req, _ := http.NewRequest("PUT", u, bytes.NewReader(body))
	for _, h := range headers {
		m := h.(map[string]any)
		if m["name"] != "Content-Length" {
			req.Header.Set(m["name"].(string), m["value"].(string))
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestDocumentUploadAndDownload(t *testing.T) {
	for _, doc := range []struct {
		name string
		opt  []Option
	}{{"mini", []Option{WithDocument(miniDoc)}}, {"api", nil}} {
		t.Run(doc.name, func(t *testing.T) {
			f := newFixture(t, doc.opt...)
			_, mid := seedContactAndMatter(f)
			d := f.must(201, "POST", "/api/v4/documents.json?fields=id,name,latest_document_version{uuid,put_url,put_headers}", data(map[string]any{
				"name": "will.pdf", "parent": map[string]any{"id": mid, "type": "Matter"},
			})).data()
			v := d["latest_document_version"].(map[string]any)
			putURL := v["put_url"].(string)
			if !bytes.HasPrefix([]byte(putURL), []byte(f.s.StorageURL+"/")) {
				t.Fatalf("put_url %s is not on the storage host %s", putURL, f.s.StorageURL)
			}
			docPath := "/api/v4/documents/" + itoa(num(d["id"])) + ".json?fields=id,latest_document_version{fully_uploaded}"
			// Marking it uploaded before the bytes arrived fails.
			if a := f.must(422, "PATCH", docPath, data(map[string]any{"uuid": v["uuid"], "fully_uploaded": true})); a.errType() != "UploadNotFoundError" {
				t.Fatalf("early fully_uploaded: %s", a.raw)
			}
			content := []byte("%PDF-1.7 last will and testament")
			// The storage host refuses the bearer token.
			if st := put(t, f.c, putURL, v["put_headers"].([]any), content, "Authorization", "Bearer "+f.tok); st != 403 {
				t.Fatalf("PUT with Authorization: %d", st)
			}
			if st := put(t, f.c, putURL, nil, content); st != 403 {
				t.Fatalf("PUT without put_headers: %d", st)
			}
			if st := put(t, f.c, putURL, v["put_headers"].([]any), content); st != 200 {
				t.Fatalf("PUT: %d", st)
			}
			got := f.must(200, "PATCH", docPath, data(map[string]any{"uuid": v["uuid"], "fully_uploaded": true})).data()
			if got["latest_document_version"].(map[string]any)["fully_uploaded"] != true {
				t.Fatalf("after upload: %v", got)
			}
			a := f.must(303, "GET", "/api/v4/documents/"+itoa(num(d["id"]))+"/download.json", nil)
			loc := a.header.Get("Location")
			req, _ := http.NewRequest("GET", loc, nil)
			req.Header.Set("Authorization", "Bearer "+f.tok)
			if res, _ := f.c.Do(req); res == nil || res.StatusCode != 403 {
				t.Fatalf("download with Authorization was not refused")
			} else {
				res.Body.Close()
			}
			res, err := f.c.Get(loc)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !bytes.Equal(b, content) || res.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download: %q %s", b, res.Header.Get("Content-Type"))
			}
			if c := f.s.Counters(); c.StorageAuthRejected != 2 {
				t.Fatalf("StorageAuthRejected = %d", c.StorageAuthRejected)
			}
			if got, _ := f.s.DocumentContent(num(d["id"])); !bytes.Equal(got, content) {
				t.Fatalf("DocumentContent: %q", got)
			}
			// A new version: parent is the document.
			f.must(201, "POST", "/api/v4/documents.json", data(map[string]any{"name": "will.pdf", "parent": map[string]any{"id": d["id"], "type": "Document"}}))
			f.must(422, "POST", "/api/v4/documents.json", data(map[string]any{"name": "x.pdf", "parent": map[string]any{"id": 999, "type": "Matter"}}))
		})
	}
}

func md5b64(b []byte) string {
	s := md5.Sum(b) //nolint:gosec
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestMultipartUpload(t *testing.T) {
	f := newFixture(t, WithMinPartSize(8))
	_, mid := seedContactAndMatter(f)
	parts := [][]byte{[]byte("0123456789"), []byte("abcdefghij"), []byte("XYZ")}
	var mp []any
	for i, p := range parts[:2] {
		// api/openapi.yaml types content_length as a string (Multipart_input).
		mp = append(mp, map[string]any{"part_number": i + 1, "content_length": strconv.Itoa(len(p)), "content_md5": md5b64(p)})
	}
	d := f.must(201, "POST", "/api/v4/documents.json?fields=id,latest_document_version{uuid,multiparts}", data(map[string]any{
		"name": "big.bin", "parent": map[string]any{"id": mid, "type": "Matter"}, "multiparts": mp,
	})).data()
	v := d["latest_document_version"].(map[string]any)
	docPath := "/api/v4/documents/" + itoa(num(d["id"])) + ".json?fields=id,latest_document_version{uuid,multiparts,fully_uploaded}"
	// More parts in a second request, with fully_uploaded=false.
	more := f.must(200, "PATCH", docPath, data(map[string]any{"uuid": v["uuid"], "fully_uploaded": false, "multiparts": []any{
		map[string]any{"part_number": 3, "content_length": strconv.Itoa(len(parts[2]))},
	}})).data()["latest_document_version"].(map[string]any)["multiparts"].([]any)
	if len(more) != 3 {
		t.Fatalf("multiparts after adding one: %v", more)
	}
	for i, it := range more[:2] {
		m := it.(map[string]any)
		if st := put(t, f.c, m["put_url"].(string), m["put_headers"].([]any), parts[i]); st != 200 {
			t.Fatalf("part %d: %d", i+1, st)
		}
	}
	if a := f.must(422, "PATCH", docPath, data(map[string]any{"uuid": v["uuid"], "fully_uploaded": true})); a.errType() != "UploadNotFoundError" {
		t.Fatalf("missing part: %s", a.raw)
	}
	last := more[2].(map[string]any)
	if st := put(t, f.c, last["put_url"].(string), last["put_headers"].([]any), []byte("XY")); st != 400 {
		t.Fatalf("short part: %d", st)
	}
	if st := put(t, f.c, last["put_url"].(string), last["put_headers"].([]any), parts[2]); st != 200 {
		t.Fatalf("part 3: %d", st)
	}
	f.must(200, "PATCH", docPath, data(map[string]any{"uuid": v["uuid"], "fully_uploaded": true}))
	if got, _ := f.s.DocumentContent(num(d["id"])); string(got) != "0123456789abcdefghijXYZ" {
		t.Fatalf("assembled %q", got)
	}
	// Rules: at most 50 parts per request, part_number within 1..10000, parts big enough.
	many := make([]any, 51)
	for i := range many {
		many[i] = map[string]any{"part_number": i + 1, "content_length": "10"}
	}
	f.must(422, "POST", "/api/v4/documents.json", data(map[string]any{"name": "x", "parent": map[string]any{"id": mid, "type": "Matter"}, "multiparts": many}))
	f.must(422, "POST", "/api/v4/documents.json", data(map[string]any{"name": "x", "parent": map[string]any{"id": mid, "type": "Matter"}, "multiparts": []any{map[string]any{"part_number": 10001, "content_length": "1"}}}))
	small := f.must(201, "POST", "/api/v4/documents.json?fields=id,latest_document_version{uuid,multiparts}", data(map[string]any{
		"name": "s", "parent": map[string]any{"id": mid, "type": "Matter"},
		"multiparts": []any{map[string]any{"part_number": 1, "content_length": "2"}, map[string]any{"part_number": 2, "content_length": "2"}},
	})).data()
	sv := small["latest_document_version"].(map[string]any)
	for _, it := range sv["multiparts"].([]any) {
		m := it.(map[string]any)
		put(t, f.c, m["put_url"].(string), m["put_headers"].([]any), []byte("ab"))
	}
	if a := f.must(422, "PATCH", "/api/v4/documents/"+itoa(num(small["id"]))+".json", data(map[string]any{"uuid": sv["uuid"], "fully_uploaded": true})); a.errType() != "EntityTooSmall" {
		t.Fatalf("small part: %s", a.raw)
	}
}

func TestGenericDownloads(t *testing.T) {
	f := newFixture(t)
	id := f.s.MustInsert(t, "reports", map[string]any{"name": "Quarterly"})[0]
	f.s.SetContent("reports", id, []byte("a,b\n1,2\n"))
	a := f.must(303, "GET", "/api/v4/reports/"+itoa(id)+"/download.json", nil)
	res, err := f.c.Get(a.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "a,b\n1,2\n" {
		t.Fatalf("report download %q", b)
	}
	f.must(404, "GET", "/api/v4/document_templates/5/download.json", nil)
	tpl := f.s.MustInsert(t, "document_templates", map[string]any{"filename": "t.docx"})[0]
	f.must(303, "GET", "/api/v4/document_templates/"+itoa(tpl)+"/download.json", nil)
}
