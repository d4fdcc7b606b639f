package main

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// service is one tag's methods.
type service struct {
	Field, Type, Tag string
	Methods          []method
}

type method struct {
	Name, Doc string
	Op        op
	Build     string // the request builder call, e.g. gen.NewGetMatterRequest(s.client.server, id, params)
	Helper    string // Do, DoNoContent, ListPage, All, Pages, Refresh
	Result    string
	Params    string
	Fields    string // the default field set variable, "" for none
	Opts      string // the call options expression passed to the helper
}

// fieldSet is one generated default field set.
type fieldSet struct {
	Var, Record string
	Names       string // quoted, comma separated
}

// skipped operations get hand-written methods (see clio/download.go): a 303 to storage must be
// followed without the token and streamed, which the generic helpers do not do.
var skipped = map[string]bool{"download": true}

func render(ops []op) ([]byte, error) {
	byTag := map[string][]op{}
	for _, o := range ops {
		byTag[o.Tag] = append(byTag[o.Tag], o)
	}
	var services []service
	var table []string
	sets := map[string]fieldSet{}
	for tag, tops := range byTag {
		name := codegen.ToCamelCase(strings.ReplaceAll(tag, " ", "_"))
		s := service{Field: name, Type: name + "Service", Tag: tag}
		main := mainResource(tops)
		for _, o := range tops {
			if skipped[o.Action] {
				table = append(table, fmt.Sprintf("{%q, %q, %q},", o.ClioName, s.Field, "Download"))
				continue
			}
			if v := fieldsVar(o); v != "" {
				sets[v] = fieldSet{Var: v, Record: o.Record, Names: quoteAll(o.Fields)}
			}
			for _, m := range methods(o, o.Resource == main) {
				s.Methods = append(s.Methods, m)
				table = append(table, fmt.Sprintf("{%q, %q, %q},", o.ClioName, s.Field, m.Name))
			}
		}
		sort.Slice(s.Methods, func(a, b int) bool { return s.Methods[a].Name < s.Methods[b].Name })
		for i := 1; i < len(s.Methods); i++ {
			if s.Methods[i].Name == s.Methods[i-1].Name {
				return nil, fmt.Errorf("service %s: two methods named %s", s.Type, s.Methods[i].Name)
			}
		}
		services = append(services, s)
	}
	sort.Slice(services, func(a, b int) bool { return services[a].Field < services[b].Field })
	sort.Strings(table)
	var b bytes.Buffer
	var fieldSets []fieldSet
	for _, f := range sets {
		fieldSets = append(fieldSets, f)
	}
	sort.Slice(fieldSets, func(a, b int) bool { return fieldSets[a].Var < fieldSets[b].Var })
	if err := tmpl.Execute(&b, map[string]any{"Services": services, "Table": table, "FieldSets": fieldSets}); err != nil {
		return nil, err
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the services: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

// mainResource is the resource most of a tag's operations are about; its methods get the
// short names (List, Get, Create...).
func mainResource(ops []op) string {
	count := map[string]int{}
	for _, o := range ops {
		count[o.Resource]++
		if o.Action == "index" || o.Action == "show" {
			count[o.Resource]++
		}
	}
	best := ""
	for r, c := range count {
		if c > count[best] || (c == count[best] && r < best) {
			best = r
		}
	}
	return best
}

// fieldsVar names the default field set of an operation's record, "" when it has none.
func fieldsVar(o op) string {
	if len(o.Fields) == 0 || !strings.HasPrefix(o.Record, "gen.") {
		return ""
	}
	return strings.TrimPrefix(o.Record, "gen.") + "Fields"
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func methods(o op, main bool) []method {
	build := "gen.New" + o.GoName + "Request(" + strings.Join(append([]string{"s.client.server"}, o.Args...), ", ") + ")"
	base := method{Op: o, Build: build, Params: strings.Join(o.Params, ", "), Fields: fieldsVar(o), Opts: "opts"}
	where := fmt.Sprintf("Clio operation %s: %s %s.", o.ClioName, o.Method, o.Path)
	fieldsDoc := ""
	if base.Fields != "" {
		fieldsDoc = fmt.Sprintf("\n// Without Fields, Clio would answer only id and etag: the call asks for %s\n// (every scalar field of the record) unless it names its own; nested records need Nested.", base.Fields)
	}
	short := map[string]string{"index": "List", "show": "Get", "create": "Create", "update": "Update", "destroy": "Delete"}
	name := o.GoName
	if main && short[o.Action] != "" {
		name = short[o.Action]
	}
	switch o.Kind {
	case "list":
		list, all, pages := base, base, base
		suffix := strings.TrimPrefix(name, "List")
		list.Name, list.Helper, list.Result = name, "ListPage", "[]"+o.Record
		list.Doc = fmt.Sprintf("%s, one page at a time: the Response\n// carries the next page's URL, and %s walks every page.%s\n// %s", sentence(list.Name, o.Summary), "All"+suffix, fieldsDoc, where)
		all.Name = "All" + suffix
		all.Helper, all.Result = "All", o.Record
		all.Doc = fmt.Sprintf("%s iterates over every record of %s, page after page\n// (cursor pagination by default; see OffsetPagination).%s\n// %s", all.Name, list.Name, fieldsDoc, where)
		if !o.CursorOrder {
			all.Doc = fmt.Sprintf("%s iterates over every record of %s, page after page, following\n// Clio's next links (the operation takes no order=id(asc); see OffsetPagination).%s\n// %s", all.Name, list.Name, fieldsDoc, where)
			all.Opts = "withoutCursorOrder(opts)"
		}
		pages.Name, pages.Helper, pages.Result, pages.Opts = "Pages"+suffix, "Pages", o.Record, all.Opts
		pages.Doc = fmt.Sprintf("%s iterates over the pages of %s, each with its *Response\n// (meta.records, the rate-limit budget), as %s does over records.\n// %s", pages.Name, list.Name, all.Name, where)
		return []method{list, all, pages}
	case "record":
		base.Name, base.Helper, base.Result = name, "Do", o.Record
	default:
		base.Name, base.Helper, base.Fields = name, "DoNoContent", ""
		base.Doc = fmt.Sprintf("%s.\n// %s", sentence(base.Name, o.Summary), where)
		return []method{base}
	}
	base.Doc = fmt.Sprintf("%s.%s\n// %s", sentence(base.Name, o.Summary), fieldsDoc, where)
	out := []method{base}
	if o.Conditional && o.Method == "GET" && base.Fields != "" && slices.Contains(o.Fields, "etag") {
		r := base
		r.Helper = "Refresh"
		r.Name = "Refresh" + strings.TrimPrefix(name, "Get")
		if !strings.HasPrefix(name, "Get") {
			r.Name = name + "IfChanged"
		}
		r.Params = strings.Join(append(slices.Clone(o.Params), "cached "+o.Record), ", ")
		r.Doc = fmt.Sprintf("%s returns cached unless the record changed since it was read: Clio\n// answers 304 to If-None-Match: cached.Etag, and the call returns cached with\n// Response.NotModified set; otherwise it returns the record as %s does.\n// %s", r.Name, name, where)
		out = append(out, r)
	}
	return out
}

// thirdPerson conjugates the verbs Clio's summaries start with ("Return the data..." makes
// "Get returns the data...").
var thirdPerson = map[string]string{
	"Return": "returns", "Update": "updates", "Create": "creates", "Delete": "deletes", "List": "lists",
	"Download": "downloads", "Copy": "copies", "Preview": "previews", "Mark": "marks", "Get": "gets",
	"Generate": "generates", "Destroy": "destroys", "Clear": "clears",
	"Returns": "returns", "Deletes": "deletes", "Creates": "creates",
	"Updating": "updates", "Destroying": "destroys", "Creating": "creates", "Deleting": "deletes",
}

// sentence makes a doc comment's first sentence from a method name and Clio's summary.
func sentence(name, summary string) string {
	verb, rest, _ := strings.Cut(summary, " ")
	if v, ok := thirdPerson[verb]; ok {
		return name + " " + v + " " + rest
	}
	return name + ": " + summary
}

var tmpl = template.Must(template.New("services").Parse(`// Code generated by cmd/servicegen from gen/openapi.json. DO NOT EDIT.

package clio

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/clio-go/clio-go/gen"
)

var _ json.RawMessage // some answers are not typed by the reference

// services holds one service per tag of the Clio API; Client embeds it.
type services struct {
{{- range .Services}}
	// {{.Field}} calls the operations of Clio's "{{.Tag}}" section.
	{{.Field}} *{{.Type}}
{{- end}}
}

// initServices builds the services on the Client.
func (c *Client) initServices() {
{{- range .Services}}
	c.{{.Field}} = &{{.Type}}{client: c}
{{- end}}
}

// The default field sets: every scalar field of a record, what a call without Fields asks
// for. Extend one with With or Nested: clio.MatterFields.Nested("client", "id", "name").
var (
{{- range .FieldSets}}
	// {{.Var}} is the default field set of {{.Record}}.
	{{.Var}} = Fields({{.Names}})
{{- end}}
)

// serviceOperations maps each Clio operation to the service method that calls it.
var serviceOperations = [][3]string{
{{- range .Table}}
	{{.}}
{{- end}}
}
{{range $s := .Services}}
// {{$s.Type}} calls the operations of Clio's "{{$s.Tag}}" section.
type {{$s.Type}} struct{ client *Client }
{{range .Methods}}
// {{.Doc}}
{{- if eq .Helper "ListPage"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{with .Params}}{{.}}, {{end}}opts ...CallOption) ({{.Result}}, *Response, error) {
	req, err := {{.Build}}
	return ListPage[{{slice .Result 2}}](ctx, s.client, Request{HTTP: req, Err: err{{with .Fields}}, DefaultFields: {{.}}{{end}}}, {{.Opts}}...)
}
{{- else if eq .Helper "All"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{with .Params}}{{.}}, {{end}}opts ...CallOption) iter.Seq2[{{.Result}}, error] {
	req, err := {{.Build}}
	return All[{{.Result}}](ctx, s.client, Request{HTTP: req, Err: err{{with .Fields}}, DefaultFields: {{.}}{{end}}}, {{.Opts}}...)
}
{{- else if eq .Helper "Pages"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{with .Params}}{{.}}, {{end}}opts ...CallOption) iter.Seq2[*Page[{{.Result}}], error] {
	req, err := {{.Build}}
	return Pages[{{.Result}}](ctx, s.client, Request{HTTP: req, Err: err{{with .Fields}}, DefaultFields: {{.}}{{end}}}, {{.Opts}}...)
}
{{- else if eq .Helper "Do"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{with .Params}}{{.}}, {{end}}opts ...CallOption) ({{.Result}}, *Response, error) {
	req, err := {{.Build}}
	return Do[{{.Result}}](ctx, s.client, Request{HTTP: req, Err: err{{with .Fields}}, DefaultFields: {{.}}{{end}}}, opts...)
}
{{- else if eq .Helper "Refresh"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{.Params}}, opts ...CallOption) ({{.Result}}, *Response, error) {
	req, err := {{.Build}}
	return Refresh(ctx, s.client, Request{HTTP: req, Err: err, DefaultFields: {{.Fields}}}, cached, cached.Etag, opts...)
}
{{- else}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{with .Params}}{{.}}, {{end}}opts ...CallOption) (*Response, error) {
	req, err := {{.Build}}
	return DoNoContent(ctx, s.client, Request{HTTP: req, Err: err}, opts...)
}
{{- end}}
{{end}}
{{- end}}
`))
