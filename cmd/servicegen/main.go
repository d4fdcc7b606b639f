// Command servicegen writes clio/services_gen.go: one service per tag of the document, with a
// method per operation that builds the request with gen's request builder (NewXxxRequest) and
// hands it to the clio package's pipeline (Do, DoNoContent, ListPage, All, Pages, Refresh).
// The methods take the generated parameter and input types as they are: the wrapper adds
// behaviour and the {"data": ...} envelope, not a second copy of the API's types. It also
// writes one default field set per record type (every scalar field of its schema), sent when
// a call names no fields: Clio would otherwise answer only id and etag.
//
//	go run ./cmd/servicegen -spec gen/openapi.json -gen gen/clio.gen.go -out clio/services_gen.go
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"iter"
	"os"
	"sort"
	"strings"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

func main() {
	spec := flag.String("spec", "gen/openapi.json", "the generator's input written by cmd/specfix")
	genFile := flag.String("gen", "gen/clio.gen.go", "the generated client")
	out := flag.String("out", "clio/services_gen.go", "where to write the services")
	req := flag.String("required", "", "where to write the required parameters of each operation (clio/required_gen.go)")
	flag.Parse()
	if *req != "" {
		if err := requiredFile(*spec, *req); err != nil {
			fmt.Fprintln(os.Stderr, "servicegen:", err)
			os.Exit(1)
		}
	}
	src, err := generate(*spec, *genFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "servicegen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "servicegen:", err)
		os.Exit(1)
	}
}

// op is one operation as the services need it.
type op struct {
	GoName, ClioName, Method, Path, Tag, Summary string
	Resource, Action                             string
	Kind                                         string // list, record, none
	Record                                       string // Go type of the record, for list and record
	Params                                       []string
	Args                                         []string
	// Input is the Go type of the body's data, when the body is the {"data": ...} envelope:
	// the method then takes Input and wraps it.
	Input, BodyType string
	// Fields is the default field set of Record (its scalar fields); Conditional: the
	// operation accepts If-None-Match.
	Fields      []string
	Conditional bool
	// CursorOrder: the operation's order parameter accepts id(asc), Clio's cursor order.
	CursorOrder bool
}

func generate(specPath, genPath string) ([]byte, error) {
	js, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	sigs, err := clientSignatures(genPath)
	if err != nil {
		return nil, err
	}
	var ops []op
	for at, m := range operations(doc) {
		x := op{Method: at.Method, Path: at.Path}
		x.GoName, _ = m["operationId"].(string)
		x.ClioName, _ = m["x-clio-operation"].(string)
		x.Summary, _ = m["summary"].(string)
		if tags, _ := m["tags"].([]any); len(tags) > 0 {
			x.Tag, _ = tags[0].(string)
		}
		x.Resource, x.Action, _ = strings.Cut(x.ClioName, "#")
		var schema string
		x.Kind, x.Record, schema = answer(doc, m)
		x.Fields = scalarFields(doc, schema)
		if opts, _ := m["x-clio-call-options"].([]any); opts != nil {
			for _, o := range opts {
				x.Conditional = x.Conditional || o == "if-none-match"
			}
		}
		x.CursorOrder = acceptsCursorOrder(m)
		sig, ok := sigs[x.GoName]
		if !ok {
			return nil, fmt.Errorf("%s: no method %s on the generated Client", x.ClioName, x.GoName)
		}
		x.Params, x.Args, x.Input, x.BodyType = sig.params, sig.args, sig.input, sig.bodyType
		ops = append(ops, x)
	}
	sort.Slice(ops, func(a, b int) bool { return ops[a].GoName < ops[b].GoName })
	return render(ops)
}

// opAt is where an operation lives: its upper-case method and its path.
type opAt struct{ Method, Path string }

// operations yields every operation object of the document with where it lives. Both
// generators walk the document this way.
func operations(doc map[string]any) iter.Seq2[opAt, map[string]any] {
	return func(yield func(opAt, map[string]any) bool) {
		paths, _ := doc["paths"].(map[string]any)
		for path, it := range paths {
			item, _ := it.(map[string]any)
			for method, o := range item {
				m, ok := o.(map[string]any)
				if !ok {
					continue
				}
				if !yield(opAt{strings.ToUpper(method), path}, m) {
					return
				}
			}
		}
	}
}

// answer says what a successful answer holds: a list of records, one record, or nothing to decode.
func answer(doc map[string]any, o map[string]any) (kind, record, schema string) {
	resps, _ := o["responses"].(map[string]any)
	for _, code := range []string{"200", "201"} {
		r, _ := resps[code].(map[string]any)
		content, _ := r["content"].(map[string]any)
		mt, _ := content["application/json"].(map[string]any)
		schema := deref(doc, mt["schema"])
		props, _ := schema["properties"].(map[string]any)
		data, _ := props["data"].(map[string]any)
		if data == nil {
			continue
		}
		if items, ok := data["items"].(map[string]any); ok {
			if ref, ok := items["$ref"].(string); ok {
				name := strings.TrimPrefix(ref, "#/components/schemas/")
				return "list", "gen." + codegen.SchemaNameToTypeName(name), name
			}
			return "list", "json.RawMessage", ""
		}
		if ref, ok := data["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			return "record", "gen." + codegen.SchemaNameToTypeName(name), name
		}
		return "record", "json.RawMessage", ""
	}
	return "none", "", ""
}

// scalarFields lists the properties of a record schema that hold a value rather than a
// nested record (strings, numbers, booleans, dates, arrays of those): what a call without
// fields asks for. Nested records need a Nested field, since Clio names their fields.
func scalarFields(doc map[string]any, schema string) []string {
	if schema == "" {
		return nil
	}
	props, _ := deref(doc, map[string]any{"$ref": "#/components/schemas/" + schema})["properties"].(map[string]any)
	var out []string
	for name, p := range props {
		pm, _ := p.(map[string]any)
		if items, ok := pm["items"].(map[string]any); ok && pm["type"] == "array" {
			pm = items
		}
		if _, ref := pm["$ref"]; ref {
			pm = deref(doc, pm) // a shared enum (Matter_status) is a scalar too
		}
		switch pm["type"] {
		case "string", "integer", "number", "boolean":
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func deref(doc map[string]any, s any) map[string]any {
	m, _ := s.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		m, _ = schemas[name].(map[string]any)
	}
	return m
}

type signature struct {
	params, args    []string
	input, bodyType string // see op.Input
}

// clientSignatures reads the parameters of the generated Client's methods, between ctx and
// the request editors, with the package's own types qualified by "gen.".
func clientSignatures(path string) (map[string]signature, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	// bodies: XJSONRequestBody -> XJSONBody; envelopeData: a struct whose only field is Data
	// -> that field's type.
	bodies := map[string]string{}
	envelopeData := map[string]ast.Expr{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.TYPE {
			continue
		}
		for _, sp := range g.Specs {
			ts := sp.(*ast.TypeSpec)
			switch t := ts.Type.(type) {
			case *ast.Ident:
				bodies[ts.Name.Name] = t.Name
			case *ast.StructType:
				if len(t.Fields.List) == 1 && len(t.Fields.List[0].Names) == 1 && t.Fields.List[0].Names[0].Name == "Data" {
					envelopeData[ts.Name.Name] = t.Fields.List[0].Type
				}
			}
		}
	}
	sigs := map[string]signature{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); !ok || star.X.(*ast.Ident).Name != "Client" {
			continue
		}
		var s signature
		for _, field := range fn.Type.Params.List {
			if _, variadic := field.Type.(*ast.Ellipsis); variadic {
				continue
			}
			for _, n := range field.Names {
				if n.Name == "ctx" {
					continue
				}
				typ := qualify(fset, field.Type)
				if id, ok := field.Type.(*ast.Ident); ok && n.Name == "body" {
					if data := envelopeData[bodies[id.Name]]; data != nil {
						s.input, s.bodyType = qualify(fset, data), typ
						s.params = append(s.params, "in "+s.input)
						s.args = append(s.args, typ+"{Data: in}")
						continue
					}
				}
				s.params = append(s.params, n.Name+" "+typ)
				s.args = append(s.args, n.Name)
			}
		}
		sigs[fn.Name.Name] = s
	}
	return sigs, nil
}

func qualify(fset *token.FileSet, e ast.Expr) string {
	e = qualifyExpr(e)
	var b bytes.Buffer
	if err := format.Node(&b, token.NewFileSet(), e); err != nil {
		panic(err) // a well-formed expression from the parser always prints
	}
	return b.String()
}

func qualifyExpr(e ast.Expr) ast.Expr {
	switch t := e.(type) {
	case *ast.Ident:
		if ast.IsExported(t.Name) {
			return &ast.SelectorExpr{X: ast.NewIdent("gen"), Sel: ast.NewIdent(t.Name)}
		}
	case *ast.StarExpr:
		return &ast.StarExpr{X: qualifyExpr(t.X)}
	case *ast.ArrayType:
		return &ast.ArrayType{Len: t.Len, Elt: qualifyExpr(t.Elt)}
	}
	return e
}

// acceptsCursorOrder says whether an operation's order parameter takes id(asc): it lists it,
// or it lists no values at all.
func acceptsCursorOrder(o map[string]any) bool {
	params, _ := o["parameters"].([]any)
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if pm["name"] != "order" || pm["in"] != "query" {
			continue
		}
		schema, _ := pm["schema"].(map[string]any)
		enum, _ := schema["enum"].([]any)
		if len(enum) == 0 {
			return true
		}
		for _, e := range enum {
			if e == "id(asc)" {
				return true
			}
		}
	}
	return false
}
