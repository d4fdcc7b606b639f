package clio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clio-go/clio-go/gen"
)

// realAnswers are answers shaped as real Clio sends them, where the reference's samples
// differ: a bill's available_state_transitions is a list, money has decimals, calendar
// entry ids are strings, matters carry responsible_staff (platform guide).
var realAnswers = map[string]string{
	"/api/v4/bills.json": `{"data":[{"id":1,"state":"awaiting_payment","available_state_transitions":["awaiting_approval","paid","void"],
		"total":1250.75,"balance":99.5,"taxable_sub_total":12.25}],"meta":{"paging":{},"records":1}}`,
	"/api/v4/activity_rates.json":                `{"data":[{"id":2,"rate":187.5}],"meta":{"paging":{},"records":1}}`,
	"/api/v4/lauk_civil_certificated_rates.json": `{"data":[{"id":3,"fee":312.4,"exceptional":1.5}],"meta":{"paging":{},"records":1}}`,
	"/api/v4/calendar_entries/1750624234.json":   `{"data":{"id":"1750624234","summary":"Hearing"}}`,
	"/api/v4/matters/9.json": `{"data":{"id":9,"status":"Open","responsible_staff":{"id":4,"name":"Sam Staff","email":"sam@example.com"},
		"task_template_list_instances":[{"id":5,"etag":"\"e\""}]}}`,
	"/api/v4/activities.json": `{"data":[{"id":6,"type":"ExpenseEntry","quantity":1.25,"price":10.5}],"meta":{"paging":{},"records":1}}`,
}

// Answers in real Clio's shape decode where a literal transcription of the reference failed.
func TestRealShapedAnswersDecode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := realAnswers[r.URL.Path]
		if !ok {
			coreClioError(w, 404, "RecordNotFound", r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx := context.Background()

	bills, _, err := c.Bills.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b := bills[0]; len(b.AvailableStateTransitions) != 3 || b.AvailableStateTransitions[1] != "paid" || b.Total != 1250.75 ||
		b.TaxableSubTotal != 12.25 || b.State != gen.BillStateAwaitingPayment {
		t.Errorf("bill %+v", b)
	}
	rates, _, err := c.ActivityRates.List(ctx, nil)
	if err != nil || rates[0].Rate != 187.5 {
		t.Errorf("activity rates %+v, %v", rates, err)
	}
	lauk, _, err := c.CivilCertificatedRates.List(ctx, nil)
	if err != nil || lauk[0].Fee != 312.4 || lauk[0].Exceptional != 1.5 {
		t.Errorf("legal aid rates %+v, %v", lauk, err)
	}
	e, _, err := c.CalendarEntries.Get(ctx, "1750624234", nil)
	if err != nil || e.Id != "1750624234" {
		t.Errorf("calendar entry %+v, %v", e, err)
	}
	m, _, err := c.Matters.Get(ctx, 9, nil)
	if err != nil || m.Status != gen.MatterStatusOpen || m.ResponsibleStaff == nil || m.ResponsibleStaff.Name != "Sam Staff" ||
		len(m.TaskTemplateListInstances) != 1 {
		t.Errorf("matter %+v, %v", m, err)
	}
	acts, _, err := c.Activities.List(ctx, nil)
	if err != nil || acts[0].Type != gen.ActivityTypeExpenseEntry || acts[0].Quantity != 1.25 {
		t.Errorf("activities %+v, %v", acts, err)
	}
}

// Filters go out in the syntax real Clio takes: operator-and-date conditions, a comma list
// of statuses, custom-field conditions keyed by the field's id.
func TestFiltersAreSentInClioSyntax(t *testing.T) {
	t.Parallel()
	var got url.Values
	var raw string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, raw = r.URL.Query(), r.URL.RawQuery
		coreJSON(w, 200, map[string]any{"data": []any{}, "meta": map[string]any{"paging": map[string]any{}, "records": 0}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	from := time.Date(2024, 1, 1, 23, 30, 0, 0, time.FixedZone("X", -5*3600))
	_, _, err := c.Matters.List(context.Background(), &gen.ListMattersParams{
		OpenDate:          []string{Gte.Date(from), Lt.Date(from.AddDate(0, 1, 0))},
		Status:            []gen.ListMattersParamsStatus{gen.ListMattersParamsStatusOpen, gen.ListMattersParamsStatusPending},
		CustomFieldValues: map[string]string{CustomFieldKey(12): Gte.Value("5")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := got["open_date[]"]; len(d) != 2 || d[0] != ">=2024-01-01" || d[1] != "<2024-02-01" {
		t.Errorf("open_date[] = %q (query %s)", d, raw)
	}
	if s := got.Get("status"); s != "open,pending" {
		t.Errorf("status = %q, want one comma list (query %s)", s, raw)
	}
	if v := got.Get("custom_field_values[12]"); v != ">=5" {
		t.Errorf("custom_field_values[12] = %q (query %s)", v, raw)
	}
	if strings.Contains(raw, "DATE") {
		t.Errorf("a template went out: %s", raw)
	}
}
