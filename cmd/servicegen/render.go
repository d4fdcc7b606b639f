package main

import (
	"bytes"
	"fmt"
	"go/format"
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
	Call      string // the generated Client's method
	Helper    string // Do, DoNoContent, ListPage, All
	Result    string
	Params    string
	Args      string
	Opts      string // the call options expression passed to the helper
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
	for tag, tops := range byTag {
		name := codegen.ToCamelCase(strings.ReplaceAll(tag, " ", "_"))
		s := service{Field: name, Type: name + "Service", Tag: tag}
		main := mainResource(tops)
		for _, o := range tops {
			if skipped[o.Action] {
				table = append(table, fmt.Sprintf("{%q, %q, %q},", o.ClioName, s.Field, "Download"))
				continue
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
	if err := tmpl.Execute(&b, map[string]any{"Services": services, "Table": table}); err != nil {
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

func methods(o op, main bool) []method {
	base := method{Op: o, Call: o.GoName,
		Params: strings.Join(o.Params, ", "), Args: strings.Join(o.Args, ", ")}
	where := fmt.Sprintf("Clio operation %s: %s %s.", o.ClioName, o.Method, o.Path)
	short := map[string]string{"index": "List", "show": "Get", "create": "Create", "update": "Update", "destroy": "Delete"}
	name := o.GoName
	if main && short[o.Action] != "" {
		name = short[o.Action]
	}
	switch o.Kind {
	case "list":
		list, all := base, base
		list.Name, list.Helper, list.Result = name, "ListPage", "[]"+o.Record
		list.Doc = fmt.Sprintf("%s, one page at a time: the Response\n// carries the next page's URL, and %s walks every page.\n// %s", sentence(list.Name, o.Summary), "All"+strings.TrimPrefix(name, "List"), where)
		all.Name = "All" + strings.TrimPrefix(name, "List")
		all.Helper, all.Result = "All", o.Record
		all.Doc = fmt.Sprintf("%s iterates over every record of %s, page after page\n// (cursor pagination by default; see OffsetPagination).\n// %s", all.Name, list.Name, where)
		all.Opts = "opts"
		if !o.CursorOrder {
			all.Doc = fmt.Sprintf("%s iterates over every record of %s, page after page, following\n// Clio's next links (the operation takes no order=id(asc); see OffsetPagination).\n// %s", all.Name, list.Name, where)
			all.Opts = "withoutCursorOrder(opts)"
		}
		return []method{list, all}
	case "record":
		base.Name, base.Helper, base.Result = name, "Do", o.Record
	default:
		base.Name, base.Helper = name, "DoNoContent"
	}
	base.Doc = fmt.Sprintf("%s.\n// %s", sentence(base.Name, o.Summary), where)
	return []method{base}
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
	"net/http"

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

// initServices builds the generated client on the Client's HTTP stack and the services on it.
func (c *Client) initServices() error {
	api, err := gen.NewClient(c.BaseURL(), gen.WithHTTPClient(c.HTTPClient()))
	if err != nil {
		return err
	}
	c.api = api
{{- range .Services}}
	c.{{.Field}} = &{{.Type}}{client: c}
{{- end}}
	return nil
}

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
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{.Params}}, opts ...CallOption) ({{.Result}}, *Response, error) {
	return ListPage[{{slice .Result 2}}](ctx, s.client, func(ctx context.Context, eds ...RequestEditor) (*http.Response, error) {
		return s.client.api.{{.Call}}(ctx, {{.Args}}, EditorsAs[gen.RequestEditorFn](eds)...)
	}, opts...)
}
{{- else if eq .Helper "All"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{.Params}}, opts ...CallOption) iter.Seq2[{{.Result}}, error] {
	return All[{{.Result}}](ctx, s.client, func(ctx context.Context, eds ...RequestEditor) (*http.Response, error) {
		return s.client.api.{{.Call}}(ctx, {{.Args}}, EditorsAs[gen.RequestEditorFn](eds)...)
	}, {{.Opts}}...)
}
{{- else if eq .Helper "Do"}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{.Params}}, opts ...CallOption) ({{.Result}}, *Response, error) {
	return Do[{{.Result}}](ctx, s.client, func(ctx context.Context, eds ...RequestEditor) (*http.Response, error) {
		return s.client.api.{{.Call}}(ctx, {{.Args}}, EditorsAs[gen.RequestEditorFn](eds)...)
	}, opts...)
}
{{- else}}
func (s *{{$s.Type}}) {{.Name}}(ctx context.Context, {{.Params}}, opts ...CallOption) (*Response, error) {
	return DoNoContent(ctx, s.client, func(ctx context.Context, eds ...RequestEditor) (*http.Response, error) {
		return s.client.api.{{.Call}}(ctx, {{.Args}}, EditorsAs[gen.RequestEditorFn](eds)...)
	}, opts...)
}
{{- end}}
{{end}}
{{- end}}
`))
