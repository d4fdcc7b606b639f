package main

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

var update = flag.Bool("update", false, "rewrite testdata/synthetic-report.md from this run (make goldens)")

const golden = "testdata/synthetic-report.md"

// The maintainer's procedure on a synthetic next version, end to end in a copy of the module:
// every line of the reference moved and the table's reference_line column is stale; the
// version adds an operation, a field, a parameter and an enum value, turns a string field into
// an array and removes an operation. Each change must reach the document, the generated
// client, the services and both reports, and the report is the golden one.
func TestSyntheticVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates and compiles a copy of the module")
	}
	// The comparers are built from the module cache, which make test fills first: a test
	// never reaches the network.
	t.Setenv("GOPROXY", "off")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	copyTree(t, root, tree)
	ref, tsv := synthesize(t, root, t.TempDir())

	started := time.Now()
	r, err := bump(tree, ref, tsv, nextVersion)
	if err != nil {
		t.Fatalf("%v\n(if a module is missing from the cache: make test-deps)", err)
	}
	t.Logf("bump took %s", time.Since(started).Round(time.Second))

	checkDocument(t, tree)
	checkClient(t, tree)
	checkServices(t, tree)
	checkReport(t, r)

	changelog, err := os.ReadFile(filepath.Join(tree, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(changelog), changelogHead+"\n## Unreleased (draft of ") || !strings.Contains(string(changelog), "Clio API "+nextVersion) {
		t.Errorf("CHANGELOG.md has no draft entry on top:\n%.400s", changelog)
	}

	got := r.markdown() + "\n---\nCHANGELOG.md draft:\n\n" + changelogEntry(r, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the report differs from %s (if the change is meant, refresh it: make goldens):\n%s", golden, got)
	}
}

func checkDocument(t *testing.T, tree string) {
	doc, err := openapi3.NewLoader().LoadFromFile(filepath.Join(tree, "api/openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Version != nextVersion {
		t.Errorf("info.version = %s, want %s", doc.Info.Version, nextVersion)
	}
	op := func(s string) *openapi3.Operation {
		method, path, _ := strings.Cut(s, " ")
		if item := doc.Paths.Value(path); item != nil {
			return item.GetOperation(method)
		}
		return nil
	}
	if op(newOperation) == nil {
		t.Errorf("the document lacks the new operation %s", newOperation)
	}
	if op(removedOp) != nil {
		t.Errorf("the document still has the removed operation %s", removedOp)
	}
	list := op("GET /api/v4/practice_areas.json")
	if p := list.Parameters.GetByInAndName("query", newParam); p == nil || !p.Schema.Value.Type.Is("boolean") {
		t.Errorf("no boolean query parameter %s", newParam)
	}
	if p := list.Parameters.GetByInAndName("query", "order"); p == nil || !contains(p.Schema.Value.Enum, newEnumValue) {
		t.Errorf("the order parameter has no value %s", newEnumValue)
	}
	area := doc.Components.Schemas["PracticeArea"].Value
	if f := area.Properties[newField]; f == nil || !f.Value.Type.Is("string") {
		t.Errorf("PracticeArea has no string field %s", newField)
	}
	if f := area.Properties[arrayField]; f == nil || !f.Value.Type.Is("array") || !f.Value.Items.Value.Type.Is("string") {
		t.Errorf("PracticeArea.%s is not an array of strings", arrayField)
	}
}

func contains(enum []any, v string) bool {
	for _, e := range enum {
		if e == v {
			return true
		}
	}
	return false
}

// goFile is a parsed generated file: its struct types and the string constants, by name.
type goFile struct {
	structs map[string]*ast.StructType
	consts  map[string]string
	funcs   map[string]bool // "Recv.Name" or "Name"
}

func parseGo(t *testing.T, path string) goFile {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	g := goFile{map[string]*ast.StructType{}, map[string]string{}, map[string]bool{}}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if st, ok := s.Type.(*ast.StructType); ok {
						g.structs[s.Name.Name] = st
					}
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if i < len(s.Values) {
							if lit, ok := s.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								g.consts[n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				name = recv.(*ast.Ident).Name + "." + name
			}
			g.funcs[name] = true
		}
	}
	return g
}

// field gives the Go type of the field a struct encodes under a json or form key.
func (g goFile) field(typ, key string) string {
	st := g.structs[typ]
	if st == nil {
		return ""
	}
	for _, f := range st.Fields.List {
		if f.Tag == nil {
			continue
		}
		tag := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
		for _, k := range []string{"json", "form"} {
			if name, _, _ := strings.Cut(tag.Get(k), ","); name == key {
				return exprString(f.Type)
			}
		}
	}
	return ""
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.ArrayType:
		return "[]" + exprString(e.Elt)
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	}
	return "?"
}

func checkClient(t *testing.T, tree string) {
	g := parseGo(t, filepath.Join(tree, "gen/clio.gen.go"))
	if got := g.field("PracticeArea", newField); got != "*string" && got != "string" {
		t.Errorf("gen.PracticeArea.%s is %q, want a string", newField, got)
	}
	if got := g.field("PracticeArea", arrayField); got != "[]string" {
		t.Errorf("gen.PracticeArea.%s is %q, want []string", arrayField, got)
	}
	if got := g.field("ListPracticeAreasParams", newParam); got != "*bool" {
		t.Errorf("gen.ListPracticeAreasParams.%s is %q, want *bool", newParam, got)
	}
	enum := false
	for name, v := range g.consts {
		enum = enum || (v == newEnumValue && strings.Contains(name, "PracticeArea"))
	}
	if !enum {
		t.Errorf("gen has no PracticeArea constant for %q", newEnumValue)
	}
	if !g.funcs["Client.ListPracticeAreaTemplates"] {
		t.Error("gen.Client has no ListPracticeAreaTemplates")
	}
	if g.funcs["Client.DeletePracticeArea"] {
		t.Error("gen.Client still has DeletePracticeArea")
	}
}

func checkServices(t *testing.T, tree string) {
	// clio.APIVersion and cliotest.LatestAPIVersion are api.Version.
	if v := parseGo(t, filepath.Join(tree, "api/version.go")).consts["Version"]; v != nextVersion {
		t.Errorf("api.Version = %q, want %s", v, nextVersion)
	}
	g := parseGo(t, filepath.Join(tree, "clio/services_gen.go"))
	if g.structs["PracticeAreaTemplatesService"] == nil || !g.funcs["PracticeAreaTemplatesService.List"] {
		t.Error("clio has no PracticeAreaTemplatesService with List")
	}
	if g.funcs["PracticeAreasService.Delete"] {
		t.Error("clio.PracticeAreasService still has Delete")
	}
}

func checkReport(t *testing.T, r *changeReport) {
	if r.OldVersion != "4.0.10" || r.NewVersion != nextVersion {
		t.Errorf("versions %s -> %s", r.OldVersion, r.NewVersion)
	}
	for _, want := range []string{
		"### " + newOperation, "endpoint added",
		"### " + removedOp, ":warning: API removed",
		"`" + newParam + "`", newEnumValue, "`data/" + newField + "`",
		"`data/" + arrayField + "` response's property `type` changed from `string` to `array<string>`",
	} {
		if !strings.Contains(r.API, want) {
			t.Errorf("the API report does not say %q", want)
		}
	}
	for pkg, wants := range map[string][]string{
		"gen":  {"Incompatible changes:", "DeletePracticeArea: removed", "PracticeArea.Code: changed from string to []string", "ListPracticeAreaTemplates: added"},
		"clio": {"Incompatible changes:", "(*PracticeAreasService).Delete: removed", "PracticeAreaTemplatesService: added"},
	} {
		for _, want := range wants {
			if !strings.Contains(r.Go[pkg], want) {
				t.Errorf("the Go report of %s does not say %q:\n%s", pkg, want, r.Go[pkg])
			}
		}
	}
	if !r.GoBreaking || r.APIBreaking == 0 {
		t.Errorf("breaking: Go %v, API %d", r.GoBreaking, r.APIBreaking)
	}
}
