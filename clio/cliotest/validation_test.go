package cliotest

import (
	"strings"
	"testing"
)

// Request bodies are checked as strictly as real Clio checks them: a value outside an enum,
// a wrong type and a missing required field are 422s in Clio's error shape.
func TestRequestBodiesAreValidatedStrictly(t *testing.T) {
	f := newFixture(t)
	c := f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace"})).data()
	for name, body := range map[string]map[string]any{
		"enum":     {"client": map[string]any{"id": c["id"]}, "description": "A", "status": "Archived"},
		"type":     {"client": map[string]any{"id": c["id"]}, "description": 5},
		"nested":   {"client": map[string]any{"id": "one"}, "description": "A"},
		"property": {"client": map[string]any{"id": c["id"]}, "description": "A", "billable": "yes"},
	} {
		a := f.do("POST", "/api/v4/matters.json", data(body))
		if a.status != 422 || a.errType() != "RecordInvalid" {
			t.Errorf("%s: status %d type %q, want 422 RecordInvalid; %s", name, a.status, a.errType(), a.raw)
		}
	}
	a := f.do("POST", "/api/v4/webhooks.json", data(map[string]any{"model": "matter", "events": []string{"created"}}))
	if a.status != 422 || !strings.Contains(string(a.raw), "url") {
		t.Errorf("webhook without url: status %d; %s", a.status, a.raw)
	}
}

// The fake answers enum values in Clio's own case, whatever case it was sent: real Clio
// takes "open" and answers "Open".
func TestEnumValuesAnswerInClioCase(t *testing.T) {
	f := newFixture(t)
	c := f.must(201, "POST", "/api/v4/contacts.json?fields=id,type", data(map[string]any{"type": "person", "first_name": "Ada", "last_name": "Lovelace"})).data()
	if c["type"] != "Person" {
		t.Errorf("contact type %v, want Person", c["type"])
	}
	m := f.must(201, "POST", "/api/v4/matters.json?fields=id,status", data(map[string]any{"client": map[string]any{"id": c["id"]}, "description": "A", "status": "pending"})).data()
	if m["status"] != "Pending" {
		t.Errorf("created status %v, want Pending", m["status"])
	}
	m = f.must(200, "PATCH", "/api/v4/matters/"+itoa(num(m["id"]))+".json?fields=id,status,close_date", data(map[string]any{"status": "CLOSED"})).data()
	if m["status"] != "Closed" || m["close_date"] == nil {
		t.Errorf("updated status %v close_date %v, want Closed and a close date", m["status"], m["close_date"])
	}
	tk := f.must(201, "POST", "/api/v4/tasks.json?fields=id,priority", data(map[string]any{"name": "Call", "priority": "high"})).data()
	if tk["priority"] != "High" {
		t.Errorf("task priority %v, want High", tk["priority"])
	}
}

// Task due_at takes a date or a date-time, as Clio does; the record holds the date.
func TestTaskDueAtTakesDateOrDateTime(t *testing.T) {
	f := newFixture(t)
	for _, due := range []string{"2024-03-01", "2024-03-01T09:30:00Z"} {
		tk := f.must(201, "POST", "/api/v4/tasks.json?fields=id,due_at", data(map[string]any{"name": "Call", "due_at": due})).data()
		if tk["due_at"] != "2024-03-01" {
			t.Errorf("due_at %q answered %v, want 2024-03-01", due, tk["due_at"])
		}
	}
	if a := f.do("POST", "/api/v4/tasks.json", data(map[string]any{"name": "Call", "due_at": "next week"})); a.status != 422 {
		t.Errorf("due_at \"next week\": status %d, want 422", a.status)
	}
}

// Calendar entries have string ids, as real Clio sends them; a created entry can be read,
// updated and deleted by that id.
func TestCalendarEntriesByStringID(t *testing.T) {
	f := newFixture(t)
	e := f.must(201, "POST", "/api/v4/calendar_entries.json?fields=id,summary", data(map[string]any{
		"summary": "Hearing", "start_at": "2024-03-01T09:00:00Z", "end_at": "2024-03-01T10:00:00Z",
		"calendar_owner": map[string]any{"id": 1},
	})).data()
	id, ok := e["id"].(string)
	if !ok || id == "" {
		t.Fatalf("created entry id %#v, want a string", e["id"])
	}
	if got := f.must(200, "GET", "/api/v4/calendar_entries/"+id+".json?fields=id,summary", nil).data(); got["id"] != id || got["summary"] != "Hearing" {
		t.Errorf("read back %v", got)
	}
	if got := f.must(200, "PATCH", "/api/v4/calendar_entries/"+id+".json?fields=id,summary", data(map[string]any{"summary": "Trial"})).data(); got["summary"] != "Trial" {
		t.Errorf("updated %v", got)
	}
	list := f.must(200, "GET", "/api/v4/calendar_entries.json?fields=id", nil).list()
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("listed %v", list)
	}
	f.must(204, "DELETE", "/api/v4/calendar_entries/"+id+".json", nil)
	f.must(404, "GET", "/api/v4/calendar_entries/"+id+".json", nil)
}

// Seeded records are stored in Clio's case too.
func TestSeedStoresEnumValuesInClioCase(t *testing.T) {
	f := newFixture(t)
	c := f.s.MustInsert(t, "contacts", map[string]any{"type": "person", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace"})
	ids := f.s.MustInsert(t, "matters", map[string]any{"description": "A", "status": "pending", "client": map[string]any{"id": c[0]}})
	m := f.must(200, "GET", "/api/v4/matters/"+itoa(ids[0])+".json?fields=id,status", nil).data()
	if m["status"] != "Pending" {
		t.Errorf("seeded status answered %v, want Pending", m["status"])
	}
	if _, err := f.s.Insert("matters", map[string]any{"description": "B", "status": "archived", "client": map[string]any{"id": c[0]}}); err == nil {
		t.Errorf("a status outside the enum was seeded")
	}
}
