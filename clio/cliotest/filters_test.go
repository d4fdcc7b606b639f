package cliotest

import (
	"net/url"
	"testing"
)

// The fake takes the filters real Clio takes, and refuses the reference's templates.
func TestFiltersTakeWhatClioTakes(t *testing.T) {
	f := newFixture(t)
	c := f.must(201, "POST", "/api/v4/contacts.json", data(map[string]any{"type": "Person", "first_name": "Ada", "last_name": "Lovelace"})).data()
	client := map[string]any{"id": c["id"]}
	for _, m := range []map[string]any{
		{"client": client, "description": "A", "status": "Open", "open_date": "2024-01-10"},
		{"client": client, "description": "B", "status": "Pending", "open_date": "2024-03-01"},
		{"client": client, "description": "C", "status": "Closed", "open_date": "2023-12-31", "close_date": "2024-02-01"},
	} {
		f.must(201, "POST", "/api/v4/matters.json", data(m))
	}
	count := func(query string) int {
		t.Helper()
		return len(f.must(200, "GET", "/api/v4/matters.json?fields=id,description&"+query, nil).list())
	}
	for query, want := range map[string]int{
		"status=open":         1,
		"status=open,pending": 2,
		"open_date[]=" + url.QueryEscape(">=2024-01-01"):                                                    2,
		"open_date[]=" + url.QueryEscape(">=2024-01-01") + "&open_date[]=" + url.QueryEscape("<2024-02-01"): 1,
		"open_date[]=" + url.QueryEscape("=2023-12-31"):                                                     1,
		"close_date[]=" + url.QueryEscape("<=2024-02-01"):                                                   1,
	} {
		if got := count(query); got != want {
			t.Errorf("%s: %d matters, want %d", query, got, want)
		}
	}
	for _, bad := range []string{
		"open_date[]=" + url.QueryEscape(">=DATE"),
		"open_date[]=2024-01-01",
		"status=open,archived",
	} {
		if a := f.do("GET", "/api/v4/matters.json?"+bad, nil); a.status != 400 || a.errType() == "" {
			t.Errorf("%s: status %d, want 400 in Clio's error shape; %s", bad, a.status, a.raw)
		}
	}
}

// Custom-field filters take an operator and a value per custom field id.
func TestCustomFieldFilters(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{
		"custom_field_values[12]=" + url.QueryEscape(">=5"),
		"custom_field_values[12]=plain",
	} {
		f.must(200, "GET", "/api/v4/matters.json?"+q, nil)
	}
	if a := f.do("GET", "/api/v4/matters.json?custom_field_values[12]="+url.QueryEscape(">="), nil); a.status != 400 {
		t.Errorf("an operator without a value: status %d, want 400", a.status)
	}
}

// Matters carry responsible_staff (a user) and lists filter by responsible_staff_id, as in
// current Clio (platform guide).
func TestResponsibleStaff(t *testing.T) {
	f := newFixture(t)
	_, mid := seedContactAndMatter(f)
	m := f.must(200, "GET", "/api/v4/matters/"+itoa(mid)+".json?fields=id,responsible_staff{id,name,email}", nil).data()
	staff, _ := m["responsible_staff"].(map[string]any)
	if staff["name"] != "Alex Lawyer" || staff["email"] == nil {
		t.Fatalf("responsible_staff = %v", m["responsible_staff"])
	}
	if n := len(f.must(200, "GET", "/api/v4/matters.json?responsible_staff_id="+itoa(num(staff["id"])), nil).list()); n != 1 {
		t.Errorf("responsible_staff_id of the staff: %d matters, want 1", n)
	}
	if n := len(f.must(200, "GET", "/api/v4/matters.json?responsible_staff_id=999", nil).list()); n != 0 {
		t.Errorf("responsible_staff_id=999: %d matters, want 0", n)
	}
}
