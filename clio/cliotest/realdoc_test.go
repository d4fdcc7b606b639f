package cliotest

import (
	"net/http"
	"testing"
)

// TestRealDocumentFlow runs the main resources against api/openapi.yaml; every answer
// is validated against it (WithT fails the test on a violation).
func TestRealDocumentFlow(t *testing.T) {
	f := newFixture(t)
	me := f.must(200, "GET", "/api/v4/users/who_am_i.json?fields=id,name,email", nil).data()
	if me["name"] != "Alex Lawyer" {
		t.Fatalf("who_am_i: %v", me)
	}
	c := f.must(201, "POST", "/api/v4/contacts.json?fields=id,name,type", data(map[string]any{
		"type": "Person", "first_name": "Ada", "last_name": "Lovelace",
		"email_addresses": []any{map[string]any{"address": "ada@example.com", "name": "Work", "primary": true}},
	})).data()
	cid := num(c["id"])
	if c["name"] != "Ada Lovelace" {
		t.Fatalf("contact: %v", c)
	}
	m := f.must(201, "POST", "/api/v4/matters.json?fields=id,etag,display_number,status,client{id,name}", data(map[string]any{
		"client": map[string]any{"id": cid}, "description": "Estate of Ada",
	})).data()
	mid := num(m["id"])
	if cl, _ := m["client"].(map[string]any); cl["name"] != "Ada Lovelace" {
		t.Fatalf("matter client: %v", m)
	}
	f.must(200, "GET", "/api/v4/matters.json?fields=id,display_number,client{id,name}&limit=1", nil)
	f.must(200, "GET", "/api/v4/contacts/"+itoa(cid)+"/email_addresses.json?fields=id,address", nil)
	f.must(201, "POST", "/api/v4/activities.json?fields=id,total,type", data(map[string]any{
		"type": "TimeEntry", "quantity": 3600, "price": 250, "matter": map[string]any{"id": mid},
	}))
	f.must(201, "POST", "/api/v4/tasks.json?fields=id,name,status", data(map[string]any{"name": "File will", "matter": map[string]any{"id": mid}}))
	f.must(201, "POST", "/api/v4/notes.json?fields=id,subject,type", data(map[string]any{"subject": "Call", "detail": "Called Ada", "type": "Matter", "matter": map[string]any{"id": mid}}))
	f.must(201, "POST", "/api/v4/calendar_entries.json?fields=id,summary", data(map[string]any{
		"summary": "Hearing", "start_at": "2026-12-01T10:00:00Z", "end_at": "2026-12-01T11:00:00Z",
		"calendar_owner": map[string]any{"id": 1},
	}))
	f.must(201, "POST", "/api/v4/folders.json?fields=id,name", data(map[string]any{"name": "Wills", "parent": map[string]any{"id": 1, "type": "Folder"}}))
	f.must(201, "POST", "/api/v4/practice_areas.json?fields=id,name", data(map[string]any{"name": "Estates"}))
	f.must(200, "GET", "/api/v4/practice_areas.json?fields=id,name", nil)
	f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+".json?fields=id,practice_area{name}", nil)
	if v := f.s.Violations(); len(v) > 0 {
		t.Fatalf("violations: %v", v)
	}
	_ = http.MethodGet
}
