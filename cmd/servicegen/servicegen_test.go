package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// clio/services_gen.go is exactly what servicegen writes from the committed generator input.
func TestServicesAreUpToDate(t *testing.T) {
	want, err := generate("../../gen/openapi.json", "../../gen/clio.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../clio/services_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("clio/services_gen.go is not what cmd/servicegen writes: run `go generate ./...`")
	}
}

func TestMethodNames(t *testing.T) {
	o := op{GoName: "ListMatters", ClioName: "Matter#index", Method: "GET", Path: "/api/v4/matters.json",
		Summary: "Return the data for all Matters", Resource: "Matter", Action: "index", Kind: "list", Record: "gen.Matter",
		Params: []string{"params *gen.ListMattersParams"}, Args: []string{"params"}}
	ms := methods(o, true)
	if len(ms) != 3 || ms[0].Name != "List" || ms[1].Name != "All" || ms[2].Name != "Pages" || ms[0].Result != "[]gen.Matter" {
		t.Fatalf("main resource list methods = %+v", ms)
	}
	ms = methods(o, false)
	if ms[0].Name != "ListMatters" || ms[1].Name != "AllMatters" || ms[2].Name != "PagesMatters" {
		t.Fatalf("secondary resource list methods = %s, %s, %s", ms[0].Name, ms[1].Name, ms[2].Name)
	}
	if !strings.Contains(ms[1].Build, "gen.NewListMattersRequest(s.client.server, params)") {
		t.Errorf("the request is not built by gen's builder: %q", ms[1].Build)
	}
	if !strings.Contains(ms[0].Doc, "Matter#index: GET /api/v4/matters.json") {
		t.Errorf("doc does not name the operation: %q", ms[0].Doc)
	}
	if !strings.HasPrefix(ms[0].Doc, "ListMatters returns the data for all Matters, one page at a time") {
		t.Errorf("doc does not read as a sentence: %q", ms[0].Doc)
	}
	if got := sentence("Summary", "Unread in-app notification events"); got != "Summary: Unread in-app notification events" {
		t.Errorf("sentence without a verb: %q", got)
	}
}

// clio/required_gen.go is what servicegen writes, and lists the parameters the document requires.
func TestRequiredAreUpToDate(t *testing.T) {
	out := t.TempDir() + "/required_gen.go"
	if err := requiredFile("../../gen/openapi.json", out); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../clio/required_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("clio/required_gen.go is not what cmd/servicegen writes: run `go generate ./...`")
	}
	if !bytes.Contains(got, []byte(`{method: "GET", path: "/api/v4/documents/{id}/versions.json", query: []string{"id"}}`)) {
		t.Errorf("the document versions' required id is missing:\n%s", got)
	}
}
