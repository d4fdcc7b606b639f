package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFixDocumentOnTheRealDocument(t *testing.T) {
	src, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := fixDocument(src, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	_ = operations(doc, func(method, path string, op map[string]any) error {
		ids[strings.ToUpper(method)+" "+path] = op["operationId"].(string)
		return nil
	})
	for key, want := range map[string]string{
		"GET /api/v4/matters.json":                      "ListMatters",
		"GET /api/v4/matters/{id}.json":                 "GetMatter",
		"POST /api/v4/activities.json":                  "CreateActivity",
		"PATCH /api/v4/contacts/{id}.json":              "UpdateContact",
		"DELETE /api/v4/tasks/{id}.json":                "DeleteTask",
		"GET /api/v4/matters/{matter_id}/contacts.json": "ListMatterContacts",
		"GET /api/v4/users/who_am_i.json":               "WhoAmI",
		"PUT /api/v4/webhooks/{id}/activate.json":       "ActivateWebhook",
		"GET /api/v4/documents/{id}/download.json":      "DownloadDocument",
		"GET /api/v4/activity_descriptions.json":        "ListActivityDescriptions",
	} {
		if ids[key] != want {
			t.Errorf("%s: operationId %q, want %q", key, ids[key], want)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	if schemas["TaskTemplate_list"] != nil || schemas["TaskTemplate_page"] == nil || schemas["TaskTemplateList"] == nil {
		t.Errorf("the TaskTemplate_list / TaskTemplateList clash is not resolved")
	}
	if schemas["Client"] != nil || schemas["Client_record"] == nil {
		t.Errorf("schema Client should be renamed away from the generated Client type")
	}
	prop := func(schema, name string) map[string]any {
		return schemas[schema].(map[string]any)["properties"].(map[string]any)[name].(map[string]any)
	}
	if prop("Matter", "id")["format"] != "int64" {
		t.Errorf("Matter.id should be int64, like the id path parameters")
	}
	// Shared enums are values in records and inputs; a parameter that refers to one takes a
	// copy named with the shared Go type, so it stays an optional pointer.
	if schemas["Matter_status"].(map[string]any)["x-go-type-skip-optional-pointer"] != true {
		t.Errorf("Matter_status should be a value")
	}
	for _, p := range doc["paths"].(map[string]any)["/api/v4/activities.json"].(map[string]any)["get"].(map[string]any)["parameters"].([]any) {
		if pm := p.(map[string]any); pm["name"] == "type" {
			if s := pm["schema"].(map[string]any); s["x-go-type"] != "ActivityType" || s["$ref"] != nil || s["enum"] == nil {
				t.Errorf("activities type filter: %v", s)
			}
		}
	}
	if prop("Matter", "display_number")["x-go-type-skip-optional-pointer"] != true {
		t.Errorf("Matter.display_number should be a value")
	}
	if _, ok := prop("Matter", "close_date")["x-go-type-skip-optional-pointer"]; ok {
		t.Errorf("Matter.close_date is a date, which Clio sends as null: it must stay a pointer")
	}
	if _, ok := prop("Matter_create_input", "description")["x-go-type-skip-optional-pointer"]; ok {
		t.Errorf("request bodies must keep pointers")
	}
	if !strings.Contains(string(out), `"#/components/schemas/TaskTemplate_page"`) {
		t.Errorf("references to the renamed schema were not rewritten")
	}
}

func TestInvalidDocumentNamesThePathAndProblem(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ doc, want string }{
		"not openapi": {"hello: world\n", "no openapi field"},
		"missing path parameter": {`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /api/v4/matters/{id}.json:
    get:
      responses: {"200": {description: ok}}
`, "/api/v4/matters/{id}.json"},
		"bad reference": {`openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /api/v4/matters.json:
    get:
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Nope"}}}}}
`, "Nope"},
	} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
			if err := os.WriteFile(in, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			err := run(in, filepath.Join(dir, "out.json"), io.Discard)
			if err == nil {
				t.Fatal("an invalid document was accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), in) {
				t.Errorf("error %q should name %q and the file", err, tc.want)
			}
		})
	}
}

func TestAFixThatFindsNothingFails(t *testing.T) {
	doc := `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`
	if _, err := fixDocument([]byte(doc), io.Discard); err == nil || !strings.Contains(err.Error(), "changed nothing") {
		t.Errorf("want a 'changed nothing' error, got %v", err)
	}
}

func TestEnumVarName(t *testing.T) {
	for in, want := range map[string]string{
		"id(asc)": "IdAsc", ">=DATE": "GteDATE", "<": "Lt", "=": "Eq", "TimeEntry": "TimeEntry",
		"user.name(desc)": "UserNameDesc", "1": "V1",
	} {
		if got := enumVarName(in); got != want {
			t.Errorf("enumVarName(%q) = %q, want %q", in, got, want)
		}
	}
}
