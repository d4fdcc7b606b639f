package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const reportPath = "../../api/rules-report.txt"

// schemaOf returns a component schema of the committed document, failing the test without it.
func schemaOf(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		t.Fatalf("no schema %s", name)
	}
	return s.Value
}

func refName(r *openapi3.SchemaRef) string {
	if r == nil {
		return ""
	}
	if r.Value != nil && r.Value.Type.Is("array") && r.Value.Items != nil {
		return "[]" + refName(r.Value.Items)
	}
	return strings.TrimPrefix(r.Ref, "#/components/schemas/")
}

// The committed report is what the rules say today, and names every rule.
func TestRulesReportIsCommitted(t *testing.T) {
	_, report, err := transcribe(refPath, tsvPath, corrPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, report) {
		t.Fatal("api/rules-report.txt differs from what cmd/transcribe reports: run `go generate ./...`")
	}
	for _, r := range append([]docRule{{name: "nested-shape-names"}}, docRules...) {
		if !bytes.Contains(report, []byte("\n## "+r.name+": ")) {
			t.Errorf("the report has no section for rule %s", r.name)
		}
	}
}

// A rule with nothing to change or list fails, so a rule the reference no longer needs is noticed.
func TestRulesFailWhenTheyFindNothing(t *testing.T) {
	doc := &openapi3.T{Paths: openapi3.NewPaths(), Components: &openapi3.Components{Schemas: openapi3.Schemas{}}}
	_, err := applyRules(doc, &ruleResult{})
	if err == nil || !strings.Contains(err.Error(), "rule template-enums found nothing") {
		t.Fatalf("err = %v, want the first rule to report it found nothing", err)
	}
}

func TestRuleTemplateEnums(t *testing.T) {
	op := mustOp(t, loadDoc(t), "GET", "/api/v4/matters.json")
	for _, name := range []string{"open_date[]", "close_date[]", "pending_date[]"} {
		p := param(op, "query", name)
		items := p.Schema.Value.Items.Value
		if len(items.Enum) != 0 || p.Extensions["x-rule"] != "template-enums" {
			t.Fatalf("%s: enum %v, x-rule %v", name, items.Enum, p.Extensions["x-rule"])
		}
		re := regexp.MustCompile(items.Pattern)
		for _, ok := range []string{">=2024-01-01", "<2024-12-31", "=2024-02-29", ">2024-01-01", "<=2024-01-01"} {
			if !re.MatchString(ok) {
				t.Errorf("%s refuses %q", name, ok)
			}
		}
		for _, bad := range []string{">=DATE", "2024-01-01", "=>2024-01-01", ">=2024-1-1"} {
			if re.MatchString(bad) {
				t.Errorf("%s accepts %q", name, bad)
			}
		}
	}
}

func TestRuleEnumPunctuation(t *testing.T) {
	p := param(mustOp(t, loadDoc(t), "GET", "/api/v4/court_rules/matter_dockets.json"), "query", "status")
	if want := []any{"not_started", "in_progress", "failed", "completed"}; !slices.Equal(p.Schema.Value.Enum, want) {
		t.Errorf("enum %v, want %v", p.Schema.Value.Enum, want)
	}
}

func TestRuleCommaLists(t *testing.T) {
	p := param(mustOp(t, loadDoc(t), "GET", "/api/v4/matters.json"), "query", "status")
	s := p.Schema.Value
	if !s.Type.Is("array") || p.Style != "form" || p.Explode == nil || *p.Explode {
		t.Fatalf("status: %v style %q explode %v; want an array sent as one comma list", s.Type, p.Style, p.Explode)
	}
	if want := []any{"open", "closed", "pending"}; !slices.Equal(s.Items.Value.Enum, want) {
		t.Errorf("status items %v, want %v", s.Items.Value.Enum, want)
	}
	// A parameter without "comma-separated" keeps its type.
	if a := param(mustOp(t, loadDoc(t), "GET", "/api/v4/activities.json"), "query", "status"); a.Schema.Value.Type.Is("array") {
		t.Errorf("activities status became an array")
	}
}

func TestRuleCustomFieldFilters(t *testing.T) {
	doc := loadDoc(t)
	n := 0
	_ = eachParam(doc, func(where string, _ *openapi3.Operation, p *openapi3.Parameter) error {
		if p.Name != "custom_field_values" {
			return nil
		}
		n++
		s := p.Schema.Value
		if !s.Type.Is("object") || p.Style != "deepObject" || s.AdditionalProperties.Schema == nil || len(s.Enum) != 0 {
			t.Errorf("%s: %v style %q; want a deepObject map of custom field id to operator and value", where, s.Type, p.Style)
			return nil
		}
		re := regexp.MustCompile(s.AdditionalProperties.Schema.Value.Pattern)
		for _, ok := range []string{">=5", "<=2024-01-01", "=text", "plain"} {
			if !re.MatchString(ok) {
				t.Errorf("%s refuses %q", where, ok)
			}
		}
		if re.MatchString(">=") {
			t.Errorf("%s accepts an operator without a value", where)
		}
		return nil
	})
	if n != 6 {
		t.Errorf("%d custom_field_values parameters, want 6", n)
	}
}

func TestRulePluralScalars(t *testing.T) {
	doc := loadDoc(t)
	for _, name := range []string{"Bill", "Bill_base"} {
		p := schemaOf(t, doc, name).Properties["available_state_transitions"].Value
		if !p.Type.Is("array") || !p.Items.Value.Type.Is("string") {
			t.Errorf("%s.available_state_transitions is %v, want an array of strings (platform guide)", name, p.Type)
		}
	}
	// The create request sends "formats": ["pdf"]; the record's export_formats is that list.
	if p := schemaOf(t, doc, "DocumentAutomation").Properties["export_formats"].Value; !p.Type.Is("array") {
		t.Errorf("DocumentAutomation.export_formats is %v, want an array like the create's formats", p.Type)
	}
	// Nothing says a webhook's fields are a list: it stays Clio's comma string.
	if p := schemaOf(t, doc, "Webhook").Properties["fields"].Value; !p.Type.Is("string") {
		t.Errorf("Webhook.fields is %v, want string", p.Type)
	}
}

func TestRuleMoneyDecimals(t *testing.T) {
	doc := loadDoc(t)
	for schema, fields := range map[string][]string{
		"Rate_input":                {"amount", "non_billable_amount"},
		"LaukCivilCertificatedRate": {"fee", "exceptional"},
		"ExpenseCategory":           {"rate"},
		"Bill":                      {"taxable_sub_total"},
	} {
		for _, f := range fields {
			if p := schemaOf(t, doc, schema).Properties[f].Value; !p.Type.Is("number") {
				t.Errorf("%s.%s is %v, want number", schema, f, p.Type)
			}
		}
	}
	// Names that end in another word than money stay integers.
	for schema, f := range map[string]string{"PaymentProfile_base": "discount_period", "ListMeta": "records", "Matter": "number"} {
		if p := schemaOf(t, doc, schema).Properties[f].Value; !p.Type.Is("integer") {
			t.Errorf("%s.%s is %v, want integer", schema, f, p.Type)
		}
	}
}

func TestRuleRecordEnums(t *testing.T) {
	doc := loadDoc(t)
	for schema, want := range map[string][]any{
		"Matter_status": {"Open", "Closed", "Pending"},
		"Task_priority": {"High", "Normal", "Low"},
		"Contact_type":  {"Company", "Person"},
		"Bill_state":    {"draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted"},
	} {
		if got := schemaOf(t, doc, schema).Enum; !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", schema, got, want)
		}
	}
	for _, rec := range []string{"Matter", "Matter_create_input", "Matter_update_input"} {
		if got := refName(schemaOf(t, doc, rec).Properties["status"]); got != "Matter_status" {
			t.Errorf("%s.status refers to %q, want the shared Matter_status", rec, got)
		}
	}
	// A filter that takes the very values the record holds shares its enum; matter status
	// (open on the filter, Open on the record) keeps its own.
	if p := param(mustOp(t, doc, "GET", "/api/v4/activities.json"), "query", "type"); p.Schema.Ref != "#/components/schemas/Activity_type" {
		t.Errorf("activities type filter refers to %q, want Activity_type", p.Schema.Ref)
	}
	if p := param(mustOp(t, doc, "GET", "/api/v4/matters.json"), "query", "status"); p.Schema.Value.Items.Ref != "" {
		t.Errorf("matters status filter refers to %q, want its own lowercase enum", p.Schema.Value.Items.Ref)
	}
	// "Operating" is not one of OperatingAccount, TrustAccount: left as the reference shows it.
	if p := schemaOf(t, doc, "BankAccount").Properties["type"]; p.Ref != "" || len(p.Value.Enum) != 0 {
		t.Errorf("BankAccount.type got an enum")
	}
}

func TestRuleDateOrDateTime(t *testing.T) {
	doc := loadDoc(t)
	for _, in := range []string{"Task_create_input", "Task_update_input"} {
		p := schemaOf(t, doc, in).Properties["due_at"].Value
		if p.Format != "" {
			t.Fatalf("%s.due_at has format %q", in, p.Format)
		}
		re := regexp.MustCompile(p.Pattern)
		for _, ok := range []string{"2024-01-31", "2024-01-31T09:00:00Z", "2024-01-31T09:00:00.5+01:00"} {
			if !re.MatchString(ok) {
				t.Errorf("%s.due_at refuses %q", in, ok)
			}
		}
		for _, bad := range []string{"tomorrow", "31/01/2024", "2024-01-31 09:00"} {
			if re.MatchString(bad) {
				t.Errorf("%s.due_at accepts %q", in, bad)
			}
		}
	}
	if f := schemaOf(t, doc, "Task").Properties["due_at"].Value.Format; f != "date" {
		t.Errorf("Task.due_at format %q, want date (the record is not changed)", f)
	}
}

func TestRuleRecordIDTypes(t *testing.T) {
	doc := loadDoc(t)
	if !schemaOf(t, doc, "CalendarEntry").Properties["id"].Value.Type.Is("string") {
		t.Fatal("CalendarEntry.id should stay a string, as real Clio sends it")
	}
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		if p := param(mustOp(t, doc, m, "/api/v4/calendar_entries/{id}.json"), "path", "id"); !p.Schema.Value.Type.Is("string") {
			t.Errorf("%s calendar entry id is %v, want string", m, p.Schema.Value.Type)
		}
	}
	if p := param(mustOp(t, doc, "GET", "/api/v4/activities.json"), "query", "calendar_entry_id"); !p.Schema.Value.Type.Is("string") {
		t.Errorf("activities calendar_entry_id is %v, want string like the entry's id", p.Schema.Value.Type)
	}
	// In bodies nothing says which type Clio takes: left as the reference shows it.
	if p := schemaOf(t, doc, "CalendarEntry").Properties["parent_calendar_entry_id"].Value; !p.Type.Is("integer") {
		t.Errorf("CalendarEntry.parent_calendar_entry_id changed to %v", p.Type)
	}
	if p := param(mustOp(t, doc, "GET", "/api/v4/matters/{id}.json"), "path", "id"); !p.Schema.Value.Type.Is("integer") {
		t.Errorf("matter id is %v, want integer like Matter.id", p.Schema.Value.Type)
	}
}

func TestRuleNestedShapeNames(t *testing.T) {
	doc := loadDoc(t)
	for field, borrowed := range map[string]string{
		"Matter.task_template_list_instances": "[]TrustRequest",
		"Grant.grant_funding_source":          "DocumentCategory",
		"Activity.text_message_conversation":  "Task_base",
		"LineItem.activity":                   "TimeEntry_base",
	} {
		schema, name, _ := strings.Cut(field, ".")
		got := refName(schemaOf(t, doc, schema).Properties[name])
		if got == borrowed || got == "" {
			t.Errorf("%s refers to %q: borrowed from another resource", field, got)
		}
	}
	// A field named for a resource (or a qualified one: latest_document_version) keeps the
	// resource's shape; so does a field the guide (calendar_owner), the document (utbms_task:
	// the UTBMS code list's types) or its list filter (responsible_attorney_id: "a single
	// User") says holds one.
	for field, want := range map[string]string{
		"Document.latest_document_version": "DocumentVersion",
		"CalendarEntry.calendar_owner":     "Calendar_base",
		"ActivityDescription.utbms_task":   "UtbmsCode",
		"Activity.utbms_expense":           "UtbmsCode",
		"Matter.responsible_attorney":      refName(schemaOf(t, doc, "Activity").Properties["user"]),
	} {
		schema, name, _ := strings.Cut(field, ".")
		if got := refName(schemaOf(t, doc, schema).Properties[name]); got != want || got == "" {
			t.Errorf("%s refers to %q, want %q", field, got, want)
		}
	}
}

func TestRuleCutSentences(t *testing.T) {
	doc := loadDoc(t)
	completed := 0
	_ = eachParam(doc, func(where string, _ *openapi3.Operation, p *openapi3.Parameter) error {
		if strings.HasSuffix(p.Description, "Use the keyword") {
			t.Errorf("%s: still cut at \"Use the keyword\"", where)
		}
		if strings.Contains(p.Description, "Use the keyword `null` to match those without a ") {
			completed++
		}
		return nil
	})
	if completed < 40 {
		t.Errorf("only %d descriptions completed", completed)
	}
	p := param(mustOp(t, doc, "GET", "/api/v4/matters.json"), "query", "responsible_attorney_id")
	if !strings.HasSuffix(p.Description, "Use the keyword `null` to match those without a User.") {
		t.Errorf("responsible_attorney_id: %q", p.Description)
	}
}

func TestRuleNotModified(t *testing.T) {
	doc := loadDoc(t)
	for _, path := range []string{"/api/v4/matters/{id}.json", "/api/v4/calendar_entries/{id}.json", "/api/v4/users/who_am_i.json"} {
		if mustOp(t, doc, "GET", path).Responses.Value("304") == nil {
			t.Errorf("GET %s: no 304", path)
		}
	}
	if mustOp(t, doc, "GET", "/api/v4/matters.json").Responses.Value("304") != nil {
		t.Errorf("a list got a 304")
	}
}

// Schema corrections add what the guide says Clio has since the reference; a property the
// reference has gained since fails the correction.
func TestSchemaCorrections(t *testing.T) {
	doc := loadDoc(t)
	if got := refName(schemaOf(t, doc, "Matter").Properties["responsible_staff"]); got != "ResponsibleStaff_base" {
		t.Errorf("Matter.responsible_staff refers to %q", got)
	}
	if param(mustOp(t, doc, "GET", "/api/v4/matters.json"), "query", "responsible_staff_id") == nil {
		t.Errorf("no responsible_staff_id filter on matters")
	}
	c := &corrections{Schemas: []schemaCorrection{{Name: "Matter", Why: "test",
		Properties: map[string]*openapi3.SchemaRef{"status": openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}}}
	if err := c.applySchemas(doc); err == nil || !strings.Contains(err.Error(), "property status exists already") {
		t.Errorf("err = %v", err)
	}
	c = &corrections{Schemas: []schemaCorrection{{Name: "Nope", Why: "test",
		Properties: map[string]*openapi3.SchemaRef{"x": openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}}}
	if err := c.applySchemas(doc); err == nil || !strings.Contains(err.Error(), "no such schema") {
		t.Errorf("err = %v", err)
	}
}
