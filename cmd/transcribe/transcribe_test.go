package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const (
	refPath   = "../../api/source/clio-api-v4-reference.txt"
	tsvPath   = "../../api/source/clio-endpoints.tsv"
	corrPath  = "../../api/corrections.yaml"
	docPath   = "../../api/openapi.yaml"
	activated = "PUT /api/v4/webhooks/{id}/activate.json"
)

func endpoints(t *testing.T) []endpoint {
	t.Helper()
	f, err := os.Open(tsvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eps, err := readEndpoints(f)
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// The committed document is exactly what the transcriber writes from the committed sources.
func TestCommittedDocumentIsReproducible(t *testing.T) {
	want, _, err := transcribe(refPath, tsvPath, corrPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("api/openapi.yaml differs from what cmd/transcribe writes: run `go generate ./...`")
	}
}

func TestDocumentValidates(t *testing.T) {
	doc := loadDoc(t)
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := referenceVersion(strings.Split(string(text), "\n"), endpoints(t)); doc.Info.Version != v || v == "" {
		t.Errorf("info.version = %q, want the newest version the reference documents, %q", doc.Info.Version, v)
	}
	var hosts []string
	for _, s := range doc.Servers {
		hosts = append(hosts, s.URL)
	}
	want := []string{"https://app.clio.com", "https://ca.app.clio.com", "https://eu.app.clio.com", "https://au.app.clio.com"}
	if !slices.Equal(hosts, want) {
		t.Errorf("servers = %v, want %v", hosts, want)
	}
	flow := doc.Components.SecuritySchemes["oauth2"].Value.Flows.AuthorizationCode
	if flow.AuthorizationURL != "https://app.clio.com/oauth/authorize" || flow.TokenURL != "https://app.clio.com/oauth/token" {
		t.Errorf("oauth2 flow = %+v", flow)
	}
}

// The document has exactly the operations of the endpoints table plus the webhook activation,
// each with its method, path, operationId, tag and summary, and each secured by OAuth 2.0.
func TestOperationSetMatchesEndpoints(t *testing.T) {
	eps := endpoints(t)
	if len(eps) != 277 {
		t.Fatalf("endpoints table has %d operations, want 277", len(eps))
	}
	doc := loadDoc(t)
	want := map[string]endpoint{}
	for _, e := range eps {
		want[e.Method+" "+e.Path] = e
	}
	got := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			got++
			key := method + " " + path
			if op.Security == nil || len(*op.Security) == 0 {
				t.Errorf("%s: no security requirement", key)
			}
			if key == activated {
				continue
			}
			e, ok := want[key]
			if !ok {
				t.Errorf("%s: not in the endpoints table", key)
				continue
			}
			if op.OperationID != operationID(e.Operation) || op.Summary != e.Summary || !slices.Equal(op.Tags, []string{e.Tag}) {
				t.Errorf("%s: operationId %q summary %q tags %v; want %q %q [%s]", key, op.OperationID, op.Summary, op.Tags, operationID(e.Operation), e.Summary, e.Tag)
			}
			ok2xx := false
			for code := range op.Responses.Map() {
				ok2xx = ok2xx || strings.HasPrefix(code, "2") || code == "303"
			}
			if !ok2xx {
				t.Errorf("%s: no success response", key)
			}
		}
	}
	if got != len(eps)+1 {
		t.Errorf("document has %d operations, want %d (the table plus the activation)", got, len(eps)+1)
	}
	if doc.Paths.Find("/api/v4/webhooks/{id}/activate.json") == nil {
		t.Errorf("missing %s", activated)
	}
}

// resolve follows a schema reference to its schema.
func resolve(r *openapi3.SchemaRef) *openapi3.Schema {
	if r == nil {
		return nil
	}
	return r.Value
}

// typeOf names the type of a schema as the reference's samples and tables show it.
func typeOf(s *openapi3.Schema) string {
	switch {
	case s.Type.Is("string") && s.Format != "":
		return "string <" + s.Format + ">"
	case s.Type.Is("array"):
		return "array of " + typeOf(resolve(s.Items))
	}
	return strings.Join(s.Type.Slice(), ",")
}

func mustOp(t *testing.T, doc *openapi3.T, method, path string) *openapi3.Operation {
	t.Helper()
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("no %s %s", method, path)
	}
	return item.GetOperation(method)
}

func param(op *openapi3.Operation, in, name string) *openapi3.Parameter {
	for _, p := range op.Parameters {
		if p.Value.In == in && p.Value.Name == name {
			return p.Value
		}
	}
	return nil
}

// prop walks a dotted path of properties ("data.items.matter.open_date"; "items" steps into an
// array) from a schema.
func prop(s *openapi3.Schema, path string) *openapi3.Schema {
	for _, k := range strings.Split(path, ".") {
		if s == nil {
			return nil
		}
		if k == "[]" {
			s = resolve(s.Items)
			continue
		}
		s = resolve(s.Properties[k])
	}
	return s
}

func success(op *openapi3.Operation, code string) *openapi3.Schema {
	r := op.Responses.Value(code)
	if r == nil || r.Value.Content.Get("application/json") == nil {
		return nil
	}
	return resolve(r.Value.Content.Get("application/json").Schema)
}

func body(op *openapi3.Operation) *openapi3.Schema {
	if op.RequestBody == nil {
		return nil
	}
	return resolve(op.RequestBody.Value.Content.Get("application/json").Schema)
}

// Golden checks, written by hand from the reference text, for operations of different tags.
func TestGoldenOperations(t *testing.T) {
	doc := loadDoc(t)

	acts := mustOp(t, doc, "GET", "/api/v4/activities.json")
	for name, typ := range map[string]string{
		"activity_description_id": "integer", "created_since": "string <date-time>", "flat_rate": "boolean",
		"ids[]": "array of integer", "limit": "integer", "order": "string", "status": "string", "type": "string",
		"start_date": "string <date-time>", "page_token": "string", "only_unaccounted_for": "boolean",
	} {
		p := param(acts, "query", name)
		if p == nil {
			t.Errorf("ListActivities: no query parameter %s", name)
			continue
		}
		if got := typeOf(p.Schema.Value); got != typ {
			t.Errorf("ListActivities %s: type %s, want %s", name, got, typ)
		}
	}
	if p := param(acts, "query", "limit"); p != nil && p.Schema.Value.Format != "int32" {
		t.Errorf("limit format %q, want int32", p.Schema.Value.Format)
	}
	if p := param(acts, "query", "status"); p == nil || !slices.Equal(p.Schema.Value.Enum, []any{"billed", "draft", "unbilled", "non_billable", "billable", "written_off"}) {
		t.Errorf("ListActivities status enum wrong: %+v", p)
	}
	if p := param(acts, "query", "order"); p == nil || len(p.Schema.Value.Enum) != 26 || p.Schema.Value.Enum[25] != "non_billable_total(desc)" {
		t.Errorf("ListActivities order enum wrong")
	}
	if param(acts, "header", "X-API-VERSION") == nil {
		t.Errorf("ListActivities: no X-API-VERSION header")
	}
	list := success(acts, "200")
	for path, typ := range map[string]string{
		"data.[].date":                            "string <date>",
		"data.[].quantity_in_hours":               "number",
		"data.[].quantity_redacted":               "boolean",
		"data.[].created_at":                      "string <date-time>",
		"data.[].matter.open_date":                "string <date>",
		"data.[].user.roles":                      "array of string",
		"data.[].calendar_entry.id":               "string",
		"data.[].bill.services_taxable_sub_total": "number", // money-decimals
		"data.[].legal_aid_uk_activity.uplift":    "number",
		"meta.paging.next":                        "string",
		"meta.records":                            "integer",
	} {
		s := prop(list, path)
		if s == nil {
			t.Errorf("ListActivities 200: no %s", path)
		} else if got := typeOf(s); got != typ {
			t.Errorf("ListActivities 200 %s: %s, want %s", path, got, typ)
		}
	}
	for _, code := range []string{"400", "401", "403", "429"} {
		if acts.Responses.Value(code) == nil {
			t.Errorf("ListActivities: no %s response", code)
		}
	}

	wh := mustOp(t, doc, "POST", "/api/v4/webhooks.json")
	b := body(wh)
	if !slices.Contains(b.Required, "data") {
		t.Errorf("CreateWebhook body: data should be required")
	}
	for path, typ := range map[string]string{
		"data.events": "array of string", "data.expires_at": "string <date-time>", "data.fields": "string",
		"data.model": "string", "data.url": "string",
	} {
		if s := prop(b, path); s == nil || typeOf(s) != typ {
			t.Errorf("CreateWebhook body %s: want %s", path, typ)
		}
	}
	if d := prop(b, "data"); d == nil || !slices.Equal(d.Required, []string{"url", "model", "events"}) {
		t.Errorf("CreateWebhook data: url, model and events should be required (the reference's prose)")
	}
	if d := prop(body(mustOp(t, doc, "PATCH", "/api/v4/webhooks/{id}.json")), "data"); d == nil || len(d.Required) != 0 {
		t.Errorf("UpdateWebhook data: nothing should be required")
	}
	if s := prop(success(wh, "201"), "data.shared_secret"); s == nil || typeOf(s) != "string" {
		t.Errorf("CreateWebhook 201: no shared_secret")
	}

	docs := mustOp(t, doc, "POST", "/api/v4/documents.json")
	for path, typ := range map[string]string{
		"data.multiparts.[].part_number":    "integer",
		"data.multiparts.[].content_length": "string", // the reference shows "string"
		"data.multiparts.[].content_md5":    "string",
		"data.parent.id":                    "integer",
		"data.parent.type":                  "string",
		"data.received_at":                  "string <date-time>",
	} {
		if s := prop(body(docs), path); s == nil || typeOf(s) != typ {
			t.Errorf("CreateDocument body %s: want %s", path, typ)
		}
	}
	for path, typ := range map[string]string{
		"data.latest_document_version.uuid":                               "string",
		"data.latest_document_version.put_url":                            "string",
		"data.latest_document_version.put_headers.[].name":                "string",
		"data.latest_document_version.multiparts.[].put_headers.[].value": "string",
	} {
		if s := prop(success(docs, "201"), path); s == nil || typeOf(s) != typ {
			t.Errorf("CreateDocument 201 %s: want %s", path, typ)
		}
	}

	dl := mustOp(t, doc, "GET", "/api/v4/documents/{id}/download.json")
	if dl.Responses.Value("303") == nil {
		t.Errorf("document download: no 303")
	}
	del := mustOp(t, doc, "DELETE", "/api/v4/matters/{id}.json")
	if del.Responses.Value("204") == nil || param(del, "path", "id") == nil || !param(del, "path", "id").Required {
		t.Errorf("DeleteMatter: want 204 and a required id")
	}
	upd := mustOp(t, doc, "PATCH", "/api/v4/matters/{id}.json")
	if param(upd, "header", "IF-MATCH") == nil || upd.Responses.Value("412") == nil {
		t.Errorf("UpdateMatter: want IF-MATCH and 412")
	}
	show := mustOp(t, doc, "GET", "/api/v4/contacts/{id}.json")
	if p := param(show, "header", "IF-NONE-MATCH"); p == nil {
		t.Errorf("GetContact: want IF-NONE-MATCH")
	}
	pre := mustOp(t, doc, "GET", "/api/v4/court_rules/matter_dockets/preview.json")
	for _, name := range []string{"jurisdiction[id]", "service_type[id]", "start_date", "start_time", "trigger[id]"} {
		if p := param(pre, "query", name); p == nil || !p.Required {
			t.Errorf("PreviewMatterDocket: %s should be a required query parameter", name)
		}
	}
	tasks := mustOp(t, doc, "GET", "/api/v4/tasks.json")
	if p := param(tasks, "query", "statuses[]"); p == nil || typeOf(p.Schema.Value) != "array of string" || len(p.Schema.Value.Items.Value.Enum) != 4 {
		t.Errorf("ListTasks statuses[]: want an array of 4-value enum")
	}
}

var (
	paramRow  = regexp.MustCompile(`^(\S+?)( required)? \| (string|integer|boolean|number)( <([a-z0-9-]+)>)?`)
	sampleKey = regexp.MustCompile(`^(?:\{- |- |\}, - )"([^"]+)": (\{|\[|"[^"]*"|-?[0-9.]+|true|false)`)
)

// Every parameter row and every sample key of the reference is somewhere in the document,
// checked with a simpler reading of the text than the transcriber's.
func TestEveryReferenceNameIsTranscribed(t *testing.T) {
	text, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(y)
	params, keys := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(string(text), "\n") {
		if m := paramRow.FindStringSubmatch(l); m != nil && m[1] != "required" {
			params[m[1]] = true
		}
		if m := sampleKey.FindStringSubmatch(l); m != nil {
			keys[m[1]] = true
		}
	}
	if len(params) < 150 || len(keys) < 500 {
		t.Fatalf("found only %d parameter names and %d sample keys: the reading is broken", len(params), len(keys))
	}
	for p := range params {
		if !strings.Contains(doc, "name: "+p+"\n") && !strings.Contains(doc, "name: \""+p+"\"\n") {
			t.Errorf("parameter %s is not in the document", p)
		}
	}
	for k := range keys {
		if !strings.Contains(doc, " "+k+":\n") && !strings.Contains(doc, " \""+k+"\":\n") {
			t.Errorf("field %s is not in the document", k)
		}
	}
}

// sampleType is the type a sample value asks for, in typeOf's words.
func sampleType(n *node) string {
	switch n.Kind {
	case kObject:
		return "object"
	case kArray:
		if len(n.Fields) == 0 {
			return "array of "
		}
		return "array of " + sampleType(n.Fields[0])
	case kString:
		switch fingerprint(n) {
		case "date":
			return "string <date>"
		case "date-time":
			return "string <date-time>"
		}
		return "string"
	case kInteger:
		return "integer"
	case kNumber:
		return "number"
	case kBoolean:
		return "boolean"
	}
	return ""
}

// checkSample walks every field of a sample and finds it, with its type, in the schema.
func checkSample(t *testing.T, where string, n *node, s *openapi3.Schema, path string) {
	t.Helper()
	if s == nil {
		t.Errorf("%s: no schema at %s", where, path)
		return
	}
	if s.Extensions["x-rule"] != nil {
		return // a rule over the render changed it, and says so (rules_test.go checks each rule)
	}
	want := sampleType(n)
	got := typeOf(s)
	if want != got && (want != "object" || got != "object") && (n.Kind != kArray || len(n.Fields) != 0) {
		t.Errorf("%s %s: type %s, sample shows %s", where, path, got, want)
		return
	}
	switch n.Kind {
	case kObject:
		for i, k := range n.Keys {
			checkSample(t, where, n.Fields[i], resolve(s.Properties[k]), path+"."+k)
		}
	case kArray:
		if len(n.Fields) > 0 {
			checkSample(t, where, n.Fields[0], resolve(s.Items), path+"[]")
		}
	}
}

// Every field of every request and response sample, in every operation, is in that
// operation's schema with the type the sample shows.
func TestEverySampleFieldIsInItsOperation(t *testing.T) {
	eps := endpoints(t)
	text, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := parseReference(string(text), eps)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadDoc(t)
	fields := 0
	for _, o := range ops {
		if o.raw == nil {
			continue
		}
		op := mustOp(t, doc, o.ep.Method, o.ep.Path)
		where := o.ep.Operation
		if s := o.raw.RequestSample; s != nil {
			checkSample(t, where+" request", s, body(op), "")
			fields += len(s.Keys)
		}
		if s := o.raw.ResponseSample; s != nil && len(o.raw.ResponseCodes) > 0 {
			code := strconv.Itoa(o.raw.ResponseCodes[0])
			r := op.Responses.Value(code)
			if r == nil {
				t.Errorf("%s: no %s response", where, code)
				continue
			}
			if r.Ref != "" {
				continue // a shared error response; its schema is checked below
			}
			checkSample(t, where+" "+code, s, success(op, code), "")
			fields++
		}
		for _, p := range o.raw.Params {
			q := param(op, p.In, p.Name)
			if q == nil {
				t.Errorf("%s: no %s parameter %s", where, p.In, p.Name)
				continue
			}
			if q.Extensions["x-rule"] != nil {
				continue // a rule over the render changed it, and says so
			}
			s := q.Schema.Value
			if s.Type.Is("array") {
				s = s.Items.Value
			}
			if !s.Type.Is(p.Type) || s.Format != p.Format || len(s.Enum) != len(p.Enum) || q.Required != (p.Required || p.In == "path") {
				t.Errorf("%s: parameter %s is %v <%s> enum %d required %v; the reference says %s <%s> enum %d required %v",
					where, p.Name, s.Type, s.Format, len(s.Enum), q.Required, p.Type, p.Format, len(p.Enum), p.Required)
			}
		}
	}
	if fields < 300 {
		t.Errorf("checked only %d samples", fields)
	}
	errSchema := resolve(doc.Components.Responses["NotFound"].Value.Content.Get("application/json").Schema)
	if prop(errSchema, "error.type") == nil || prop(errSchema, "error.message") == nil {
		t.Errorf("the error schema lacks error.type or error.message")
	}
}

// A required-fields correction that names what the body does not have is an error naming it.
func TestRequireFieldsErrors(t *testing.T) {
	doc := loadDoc(t)
	op := mustOp(t, doc, "POST", "/api/v4/webhooks.json")
	for path, fields := range map[string][]string{"data": {"nope"}, "data.url.x": {"y"}, "missing": {"a"}} {
		if err := requireFields(doc, op, map[string][]string{path: fields}); err == nil {
			t.Errorf("required %s %v: accepted", path, fields)
		}
	}
	del := mustOp(t, doc, "DELETE", "/api/v4/matters/{id}.json")
	if err := requireFields(doc, del, map[string][]string{"data": {"x"}}); err == nil || !strings.Contains(err.Error(), "no request body") {
		t.Errorf("a body-less operation: %v", err)
	}
}
