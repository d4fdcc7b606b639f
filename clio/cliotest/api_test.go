package cliotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseFields(t *testing.T) {
	fs, err := parseFields("id,display_number,client{id,name},practice_area{name}")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || !fs[2].braces || len(fs[2].sub) != 2 || fs[3].sub[0].name != "name" {
		t.Fatalf("parsed %+v", fs)
	}
	for _, bad := range []string{"client{id,account{id}}", "id,,name", "client{id", "id}", "client{}"} {
		if _, err := parseFields(bad); err == nil {
			t.Errorf("parseFields(%q) accepted", bad)
		}
	}
}

func seedContactAndMatter(f *fixture) (int64, int64) {
	f.t.Helper()
	c := f.must(201, "POST", "/api/v4/contacts.json?fields=id,name", data(map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace"})).data()
	m := f.must(201, "POST", "/api/v4/matters.json", data(map[string]any{"client": map[string]any{"id": c["id"]}, "description": "Estate"})).data()
	return num(c["id"]), num(m["id"])
}

func TestFields(t *testing.T) {
	f := mini(t)
	cid, mid := seedContactAndMatter(f)
	// Without fields: only id and etag.
	m := f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+".json", nil).data()
	if len(m) != 2 || m["id"] == nil || !strings.HasPrefix(m["etag"].(string), `"`) {
		t.Fatalf("default fields: %v", m)
	}
	m = f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+".json?fields=id,display_number,status,client{id,name}", nil).data()
	cl, _ := m["client"].(map[string]any)
	if m["display_number"] != "00001-Lovelace" || m["status"] != "Open" || num(cl["id"]) != cid || cl["name"] != "Ada Lovelace" || len(cl) != 2 {
		t.Fatalf("nested fields: %v", m)
	}
	// A nested resource without braces gives its id and etag.
	m = f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+".json?fields=client", nil).data()
	if cl, _ := m["client"].(map[string]any); cl["etag"] == nil || cl["name"] != nil {
		t.Fatalf("default nested fields: %v", m)
	}
	for _, q := range []string{"fields=id,nope", "fields=client{nope}", "fields=client{id,account{id}}", "fields=description{id}"} {
		if a := f.must(400, "GET", "/api/v4/matters/"+itoa(mid)+".json?"+q, nil); a.errType() == "" {
			t.Errorf("%s: no Clio error body: %s", q, a.raw)
		}
	}
	// fields shapes POST and PATCH answers too.
	p := f.must(200, "PATCH", "/api/v4/matters/"+itoa(mid)+".json?fields=id,description", data(map[string]any{"description": "Estate of Ada"})).data()
	if p["description"] != "Estate of Ada" {
		t.Fatalf("patch answer: %v", p)
	}
	// Sub-resource lists and nested single resources.
	f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+"/client.json?fields=id,name", nil)
	f.must(404, "GET", "/api/v4/matters/999/client.json", nil)
}

func TestPagingOffsetAndCursor(t *testing.T) {
	f := mini(t)
	recs := make([]map[string]any, 450)
	for i := range recs {
		recs[i] = map[string]any{"name": "Area " + strconv.Itoa(i)}
	}
	f.s.MustInsert(t, "practice_areas", recs...)
	// Offset mode (the default): next is a full URL on the server's own host.
	next := "/api/v4/practice_areas.json?fields=id,name&limit=200"
	var seen []int64
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		a := f.must(200, "GET", next, nil)
		meta := a.body["meta"].(map[string]any)
		if num(meta["records"]) != 450 {
			t.Fatalf("records = %v", meta["records"])
		}
		for _, d := range a.list() {
			seen = append(seen, num(d.(map[string]any)["id"]))
		}
		paging := meta["paging"].(map[string]any)
		next, _ = paging["next"].(string)
		if next != "" && !strings.HasPrefix(next, f.s.URL+"/api/v4/practice_areas.json?") {
			t.Fatalf("next is not a full URL on the server: %s", next)
		}
		if pages > 0 && paging["previous"] == nil {
			t.Fatalf("no previous on page %d", pages+1)
		}
	}
	if len(seen) != 450 || seen[0] >= seen[449] {
		t.Fatalf("offset paging saw %d records", len(seen))
	}
	// Cursor mode: order=id(desc) with an opaque page_token, no offset.
	next = "/api/v4/practice_areas.json?order=id(desc)&limit=200"
	seen = seen[:0]
	for next != "" {
		a := f.must(200, "GET", next, nil)
		for _, d := range a.list() {
			seen = append(seen, num(d.(map[string]any)["id"]))
		}
		next, _ = a.body["meta"].(map[string]any)["paging"].(map[string]any)["next"].(string)
		if next != "" {
			u, _ := url.Parse(next)
			if u.Query().Get("page_token") == "" || u.Query().Has("offset") {
				t.Fatalf("cursor next: %s", next)
			}
		}
	}
	if len(seen) != 450 || seen[0] <= seen[449] {
		t.Fatalf("cursor paging saw %d records, first %d last %d", len(seen), seen[0], seen[len(seen)-1])
	}
	// limit bounds and bad tokens.
	f.must(400, "GET", "/api/v4/practice_areas.json?limit=0", nil)
	f.must(400, "GET", "/api/v4/practice_areas.json?limit=201", nil)
	f.must(400, "GET", "/api/v4/practice_areas.json?page_token=garbage!", nil)
	f.must(400, "GET", "/api/v4/practice_areas.json?offset=-1", nil)
	// ids[] filter.
	a := f.must(200, "GET", "/api/v4/practice_areas.json?ids[]=3&ids[]=5", nil)
	if len(a.list()) != 2 {
		t.Fatalf("ids[] filter: %s", a.raw)
	}
	// A foreign paging host when asked for.
	g := mini(t, WithNextURLBase("https://evil.example"))
	g.s.MustInsert(t, "practice_areas", recs[:3]...)
	a = g.must(200, "GET", "/api/v4/practice_areas.json?limit=1", nil)
	if n, _ := a.body["meta"].(map[string]any)["paging"].(map[string]any)["next"].(string); !strings.HasPrefix(n, "https://evil.example/api/v4/practice_areas.json?") {
		t.Fatalf("next with WithNextURLBase: %s", n)
	}
}

func TestPagingOffsetStopsAt10000(t *testing.T) {
	f := mini(t)
	recs := make([]map[string]any, 10050)
	for i := range recs {
		recs[i] = map[string]any{"name": "A"}
	}
	f.s.MustInsert(t, "practice_areas", recs...)
	f.must(200, "GET", "/api/v4/practice_areas.json?offset=9800&limit=200", nil)
	a := f.must(422, "GET", "/api/v4/practice_areas.json?offset=9900&limit=200", nil)
	if a.errType() == "" {
		t.Fatalf("422 without Clio error: %s", a.raw)
	}
	// Cursor paging has no such limit.
	next, n := "/api/v4/practice_areas.json?order=id(asc)&limit=200&fields=id", 0
	for next != "" {
		a := f.must(200, "GET", next, nil)
		n += len(a.list())
		next, _ = a.body["meta"].(map[string]any)["paging"].(map[string]any)["next"].(string)
	}
	if n != 10050 {
		t.Fatalf("cursor paging saw %d of 10050", n)
	}
}

func TestETags(t *testing.T) {
	f := mini(t)
	_, mid := seedContactAndMatter(f)
	path := "/api/v4/matters/" + itoa(mid) + ".json"
	etag := f.must(200, "GET", path, nil).data()["etag"].(string)
	a := f.must(304, "GET", path, nil, "if-none-match", etag)
	if len(a.raw) != 0 {
		t.Fatalf("304 with a body: %s", a.raw)
	}
	f.must(200, "GET", path, nil, "IF-NONE-MATCH", `"other"`)
	f.must(412, "PATCH", path, data(map[string]any{"description": "x"}), "if-match", `"stale"`)
	p := f.must(200, "PATCH", path, data(map[string]any{"description": "x"}), "IF-MATCH", etag).data()
	if p["etag"] == etag {
		t.Fatal("etag did not change on update")
	}
	// IF-MODIFIED-SINCE (RFC 2822) on single records and lists.
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC1123Z)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z)
	f.must(304, "GET", path, nil, "If-Modified-Since", future)
	f.must(304, "GET", "/api/v4/matters.json", nil, "IF-MODIFIED-SINCE", future)
	f.must(200, "GET", "/api/v4/matters.json", nil, "IF-MODIFIED-SINCE", past)
	f.must(412, "DELETE", path, nil, "IF-MATCH", etag)
	f.must(204, "DELETE", path, nil, "IF-MATCH", p["etag"].(string))
	f.must(404, "GET", path, nil)
}

func TestRateLimit(t *testing.T) {
	clock := NewManualClock(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	f := mini(t, WithClock(clock.Now), WithRateLimit(3, time.Minute))
	reset := strconv.FormatInt(clock.Now().Add(time.Minute).Unix(), 10)
	for i := 2; i >= 0; i-- {
		a := f.must(200, "GET", "/api/v4/users/who_am_i.json", nil)
		if a.header.Get("X-RateLimit-Limit") != "3" || a.header.Get("X-RateLimit-Remaining") != strconv.Itoa(i) || a.header.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("headers %v", a.header)
		}
	}
	clock.Advance(20 * time.Second)
	a := f.must(429, "GET", "/api/v4/users/who_am_i.json", nil)
	if a.header.Get("Retry-After") != "40" || a.errType() != "RateLimited" || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429: %v %s", a.header, a.raw)
	}
	// The budget is per token.
	other := *f
	other.tok = f.s.IssueToken().AccessToken
	other.must(200, "GET", "/api/v4/users/who_am_i.json", nil)
	clock.Advance(40 * time.Second)
	f.must(200, "GET", "/api/v4/users/who_am_i.json", nil)
	if got := f.s.Counters().RateLimited; got != 1 {
		t.Fatalf("RateLimited = %d", got)
	}
}

func TestAPIVersion(t *testing.T) {
	f := mini(t)
	if v := f.must(200, "GET", "/api/v4/users/who_am_i.json", nil).header.Get("X-API-VERSION"); v != DefaultAPIVersion {
		t.Fatalf("default version echo %q", v)
	}
	if v := f.must(200, "GET", "/api/v4/users/who_am_i.json", nil, "x-api-version", "4.0.10").header.Get("X-API-VERSION"); v != "4.0.10" {
		t.Fatalf("version echo %q", v)
	}
	a := f.must(410, "GET", "/api/v4/users/who_am_i.json", nil, "X-API-VERSION", "4.0.2")
	if a.header.Get("X-API-VERSION") != "" || a.errType() == "" {
		t.Fatalf("410: %v %s", a.header, a.raw)
	}
	f.must(400, "GET", "/api/v4/users/who_am_i.json", nil, "X-API-VERSION", "banana")
	f.must(400, "GET", "/api/v4/users/who_am_i.json", nil, "X-API-VERSION", "4.0.99")
}

func TestRequestValidation(t *testing.T) {
	f := mini(t)
	cid, _ := seedContactAndMatter(f)
	cases := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/api/v4/matters.json?order=sideways", nil, 400},
		{"GET", "/api/v4/matters.json?client_id=abc", nil, 400},
		{"GET", "/api/v4/matters.json?ids[]=x", nil, 400},
		{"GET", "/api/v4/matters.json?updated_since=yesterday", nil, 400},
		{"GET", "/api/v4/matters/abc.json", nil, 400},
		{"POST", "/api/v4/matters.json", data(map[string]any{"description": 5, "client": map[string]any{"id": cid}}), 422},
		{"POST", "/api/v4/matters.json", data(map[string]any{"client": map[string]any{"id": cid}}), 422},
		{"POST", "/api/v4/matters.json", data(map[string]any{"description": "x", "client": map[string]any{"id": 999}}), 422},
		{"POST", "/api/v4/matters.json", data(map[string]any{"description": "x", "status": "Sideways", "client": map[string]any{"id": cid}}), 422},
		{"POST", "/api/v4/matters.json", "{not json", 400},
		{"POST", "/api/v4/contacts.json", data(map[string]any{"type": "Robot", "name": "R2"}), 422},
		{"DELETE", "/api/v4/users/who_am_i.json", nil, 405},
		{"GET", "/api/v4/nothing.json", nil, 404},
	}
	for _, tc := range cases {
		a := f.do(tc.method, tc.path, tc.body)
		if a.status != tc.status || a.errType() == "" {
			t.Errorf("%s %s: %d %s, want %d with a Clio error", tc.method, tc.path, a.status, a.raw, tc.status)
		}
	}
	// Unknown query parameters (offset is not in the reference) are accepted.
	f.must(200, "GET", "/api/v4/matters.json?offset=0&whatever=1", nil)
	if got := f.s.Counters().RejectedRequests; got < 8 {
		t.Fatalf("RejectedRequests = %d", got)
	}
}

func TestAuth(t *testing.T) {
	f := mini(t)
	f.tok = ""
	f.must(401, "GET", "/api/v4/users/who_am_i.json", nil)
	f.tok = "forged"
	a := f.must(401, "GET", "/api/v4/users/who_am_i.json", nil)
	if a.errType() == "" {
		t.Fatalf("401 body: %s", a.raw)
	}
}

// recordingTB captures Errorf so a test can check that a violation fails the test.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, format)
}

func (r *recordingTB) Helper() {}

func TestAnswerViolationFailsTest(t *testing.T) {
	// A document that says a create answers 200 and that matters have a numeric status.
	doc := strings.Replace(string(miniDoc), "'201': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Contact_show'}}}}", "'200': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Contact_show'}}}}", 1)
	doc = strings.Replace(doc, "required: [data]\n      properties:\n        data:\n          type: object\n          required: [type]", "required: [data]\n      properties:\n        data:\n          type: object\n          required: [type]", 1)
	rec := &recordingTB{TB: t}
	s := NewServer(WithDocument([]byte(doc)), WithT(rec))
	tok := s.IssueToken().AccessToken
	req, _ := http.NewRequest("POST", s.URL+"/api/v4/contacts.json", strings.NewReader(`{"data":{"type":"Company","name":"Acme"}}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 || len(rec.errors) != 1 || s.Counters().ResponseViolations != 1 {
		t.Fatalf("status %d, errors %v, violations %v", res.StatusCode, rec.errors, s.Violations())
	}
	if !strings.Contains(s.Violations()[0], "status 201 is not documented") {
		t.Fatalf("violation: %v", s.Violations())
	}
}

func TestRealBehaviour(t *testing.T) {
	f := newFixture(t)
	c := f.must(201, "POST", "/api/v4/contacts.json?fields=id,name,initials,primary_email_address", data(map[string]any{
		"first_name": "Grace", "last_name": "Hopper", "type": "Person",
		"email_addresses": []any{map[string]any{"address": "grace@example.com", "name": "Work", "primary": true}},
	})).data()
	if c["name"] != "Grace Hopper" || c["initials"] != "GH" || c["primary_email_address"] != "grace@example.com" {
		t.Fatalf("contact: %v", c)
	}
	cid := num(c["id"])
	ea := f.must(200, "GET", "/api/v4/contacts/"+itoa(cid)+"/email_addresses.json?fields=id,address", nil).list()
	if len(ea) != 1 || ea[0].(map[string]any)["id"] == nil {
		t.Fatalf("email addresses: %v", ea)
	}
	m := f.must(201, "POST", "/api/v4/matters.json?fields=id,status,open_date,display_number,responsible_attorney{name}", data(map[string]any{"client": map[string]any{"id": cid}, "description": "Compiler patent"})).data()
	if m["status"] != "Open" || m["display_number"] != "00001-Hopper" || m["responsible_attorney"].(map[string]any)["name"] != "Alex Lawyer" {
		t.Fatalf("matter: %v", m)
	}
	midN := num(m["id"])
	mid := itoa(midN)
	m = f.must(200, "PATCH", "/api/v4/matters/"+mid+".json?fields=status,close_date", data(map[string]any{"status": "Closed"})).data()
	if m["close_date"] == nil {
		t.Fatalf("closed matter: %v", m)
	}
	act := f.must(201, "POST", "/api/v4/activities.json?fields=id,total,type,date", data(map[string]any{"quantity": 5400, "price": 200, "matter": map[string]any{"id": midN}})).data()
	if act["total"] != 300.0 || act["type"] != "TimeEntry" {
		t.Fatalf("activity: %v", act)
	}
	task := f.must(201, "POST", "/api/v4/tasks.json?fields=id,status", data(map[string]any{"name": "Draft", "matter": map[string]any{"id": midN}})).data()
	task = f.must(200, "PATCH", "/api/v4/tasks/"+itoa(num(task["id"]))+".json?fields=status,completed_at", data(map[string]any{"status": "complete"})).data()
	if task["completed_at"] == nil {
		t.Fatalf("task: %v", task)
	}
	f.must(422, "POST", "/api/v4/calendar_entries.json", data(map[string]any{"summary": "Bad", "start_at": "2026-12-01T11:00:00Z", "end_at": "2026-12-01T10:00:00Z", "calendar_owner": map[string]any{"id": 1}}))
	f.must(422, "POST", "/api/v4/notes.json", data(map[string]any{"subject": "Orphan"}))
	f.must(422, "POST", "/api/v4/folders.json", data(map[string]any{}))
	// Lists filter by parameters that name fields.
	f.must(201, "POST", "/api/v4/matters.json", data(map[string]any{"client": map[string]any{"id": cid}, "description": "Second"}))
	open := f.must(200, "GET", "/api/v4/matters.json?status=open", nil).list()
	closed := f.must(200, "GET", "/api/v4/matters.json?status=closed", nil).list()
	if len(open) != 1 || len(closed) != 1 {
		t.Fatalf("status filter: %d open, %d closed", len(open), len(closed))
	}
	byClient := f.must(200, "GET", "/api/v4/matters.json?client_id="+itoa(cid)+"&order=display_number(desc)&fields=display_number", nil).list()
	if len(byClient) != 2 || byClient[0].(map[string]any)["display_number"] != "00002-Hopper" {
		t.Fatalf("client filter/order: %v", byClient)
	}
	// Singletons and collection actions are generic.
	f.must(200, "GET", "/api/v4/settings/billing.json", nil)
	f.must(200, "GET", "/api/v4/folders/list.json?fields=id,name", nil)
	f.must(200, "GET", "/api/v4/billable_matters/ids.json", nil)
	b, _ := json.Marshal(f.s.Counters())
	t.Logf("counters %s", b)
}
