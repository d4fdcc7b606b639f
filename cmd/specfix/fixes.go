package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

// fix is one named, documented change to the generator's input.
type fix struct {
	name  string
	why   string
	apply func(doc map[string]any) (changes int, err error)
}

// fixes run in this order.
var fixes = []fix{
	{"go-operation-names", "Clio's operation names (Matter#index) become Go verbs (ListMatters, GetMatter)", goOperationNames},
	{"schema-name-clashes", "two schemas must not map to one Go type (TaskTemplate_list and TaskTemplateList)", schemaNameClashes},
	{"number-float64", "a number without format is float32 in Go; amounts need float64", numberFloat64},
	{"integer-int64", "an integer without format is int in Go; ids are int64 in every path parameter, so records say int64 too", integerInt64},
	{"enum-varnames", "enum values such as id(asc) or >= need readable, distinct Go constant names", enumVarNames},
	{"record-values", "records Clio sends are read, not written: scalar fields as values, not pointers, halve the allocations of decoding", recordValues},
	{"rfc2822-dates", "IF-MODIFIED-SINCE says date but expects an RFC 2822 timestamp: send it as a string", rfc2822Dates},
	{"enum-values", "a shared enum (Matter_status) is a value in records and inputs alike: \"\" is never one of its values, so omitempty leaves it out of a PATCH as a nil pointer would", enumValues},
	{"call-options", "fields, the conditional headers and X-API-VERSION are set one way, as clio call options: the generated parameters drop them and the operation lists them in x-clio-call-options", callOptions},
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations calls fn for every operation in path order.
func operations(doc map[string]any, fn func(method, path string, op map[string]any) error) error {
	paths, _ := doc["paths"].(map[string]any)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		item, _ := paths[p].(map[string]any)
		for _, m := range methods {
			if op, ok := item[m].(map[string]any); ok {
				if err := fn(m, p, op); err != nil {
					return fmt.Errorf("%s %s: %w", strings.ToUpper(m), p, err)
				}
			}
		}
	}
	return nil
}

// walk calls fn for every object in the tree, depth first, with its JSON pointer.
func walk(v any, ptr string, fn func(ptr string, m map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(ptr, t)
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(t[k], ptr+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), fn)
		}
	case []any:
		for i, e := range t {
			walk(e, fmt.Sprintf("%s/%d", ptr, i), fn)
		}
	}
}

// actionNames are the Go verbs of Clio's non-CRUD actions, by operation name.
var actionNames = map[string]string{
	"BillableMatter_ids":           "ListBillableMatterIDs",
	"Folder_list":                  "ListFolderContents",
	"ReportPreset_generate_report": "GenerateReportFromPreset",
	"User_who_am_i":                "WhoAmI",
}

func goOperationNames(doc map[string]any) (int, error) {
	seen := map[string]string{}
	n := 0
	err := operations(doc, func(method, path string, op map[string]any) error {
		id, _ := op["operationId"].(string)
		res, action, ok := strings.Cut(id, "_")
		if !ok {
			return fmt.Errorf("operationId %q is not Resource_action", id)
		}
		name := actionNames[id]
		if name == "" {
			switch action {
			case "index":
				name = "List" + plural(res)
			case "show":
				name = "Get" + res
			case "create":
				name = "Create" + res
			case "update":
				name = "Update" + res
			case "destroy":
				name = "Delete" + res
			default:
				name = codegen.ToCamelCase(action) + res
			}
		}
		if other, dup := seen[name]; dup {
			return fmt.Errorf("the Go name %s is given to both %s and %s", name, other, id)
		}
		seen[name] = id
		op["operationId"] = name
		op["x-clio-operation"] = strings.Replace(id, "_", "#", 1)
		n++
		return nil
	})
	return n, err
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "s"):
		return s
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ay") && !strings.HasSuffix(s, "ey"):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

// generatedNames are the types oapi-codegen declares for the client itself.
var generatedNames = []string{"Client", "ClientInterface", "ClientOption", "ClientWithResponses",
	"ClientWithResponsesInterface", "HttpRequestDoer", "RequestEditorFn"}

// schemaNameClashes renames a component schema whose Go type name another schema already has,
// and every reference to it. A list envelope (X_list) becomes X_page.
func schemaNameClashes(doc map[string]any) (int, error) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	names := make([]string, 0, len(schemas))
	for k := range schemas {
		names = append(names, k)
	}
	// Plain names keep theirs: the schema with fewer underscores is the one renamed last.
	sort.Slice(names, func(a, b int) bool {
		ua, ub := strings.Count(names[a], "_"), strings.Count(names[b], "_")
		if ua != ub {
			return ua < ub
		}
		return names[a] < names[b]
	})
	goNames := map[string]string{}
	for _, g := range generatedNames {
		goNames[g] = "the generated client"
	}
	renames := map[string]string{}
	for _, name := range names {
		g := codegen.SchemaNameToTypeName(name)
		if _, clash := goNames[g]; !clash {
			goNames[g] = name
			continue
		}
		var next string
		switch {
		case strings.HasSuffix(name, "_list"):
			next = strings.TrimSuffix(name, "_list") + "_page"
		case !strings.Contains(name, "_"):
			next = name + "_record"
		}
		for i := 2; next == "" || goNames[codegen.SchemaNameToTypeName(next)] != "" || schemas[next] != nil; i++ {
			next = fmt.Sprintf("%s%d", name, i)
		}
		renames[name] = next
		goNames[codegen.SchemaNameToTypeName(next)] = next
	}
	for from, to := range renames {
		schemas[to] = schemas[from]
		delete(schemas, from)
	}
	refs := 0
	walk(doc, "", func(_ string, m map[string]any) {
		if r, ok := m["$ref"].(string); ok {
			if to, ok := renames[strings.TrimPrefix(r, "#/components/schemas/")]; ok {
				m["$ref"] = "#/components/schemas/" + to
				refs++
			}
		}
	})
	return len(renames) + refs, nil
}

func numberFloat64(doc map[string]any) (int, error) {
	n := 0
	walk(doc, "", func(_ string, m map[string]any) {
		if t, _ := m["type"].(string); t == "number" {
			if _, ok := m["format"]; !ok {
				m["format"] = "double"
				n++
			}
		}
	})
	return n, nil
}

func integerInt64(doc map[string]any) (int, error) {
	n := 0
	walk(doc, "", func(_ string, m map[string]any) {
		if t, _ := m["type"].(string); t == "integer" {
			if _, ok := m["format"]; !ok {
				m["format"] = "int64"
				n++
			}
		}
	})
	return n, nil
}

// enumWords spell the operators and placeholders Clio uses as enum values.
var enumWords = strings.NewReplacer("<=", " lte ", ">=", " gte ", "<", " lt ", ">", " gt ", "=", " eq ")

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// enumVarName makes a Go name part from an enum value: "id(asc)" → "IdAsc", ">=DATE" → "GteDATE".
func enumVarName(v string) string {
	parts := nonWord.Split(enumWords.Replace(v), -1)
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "V" + s
	}
	return s
}

func enumVarNames(doc map[string]any) (int, error) {
	n := 0
	var err error
	walk(doc, "", func(ptr string, m map[string]any) {
		vals, ok := m["enum"].([]any)
		if !ok || err != nil {
			return
		}
		seen := map[string]any{}
		names := make([]any, 0, len(vals))
		for _, v := range vals {
			s, isStr := v.(string)
			if !isStr {
				return
			}
			name := enumVarName(s)
			if prev, dup := seen[name]; dup {
				err = fmt.Errorf("%s: enum values %q and %q both make Go name %s", ptr, prev, s, name)
				return
			}
			seen[name] = s
			names = append(names, name)
		}
		m["x-enum-varnames"] = names
		n++
	})
	return n, err
}

func rfc2822Dates(doc map[string]any) (int, error) {
	n := 0
	err := operations(doc, func(_, _ string, op map[string]any) error {
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			if pm["in"] != "header" || !strings.EqualFold(fmt.Sprint(pm["name"]), "IF-MODIFIED-SINCE") {
				continue
			}
			if s, ok := pm["schema"].(map[string]any); ok && s["format"] == "date" {
				delete(s, "format")
				n++
			}
		}
		return nil
	})
	return n, err
}

// recordValues marks the scalar properties (dates excepted) of every schema that is not a
// request body (*_input) to be generated as values; time.Time takes null as the zero time. Request bodies keep pointers: a PATCH must be able to
// send false, 0 and "" and to leave a field out.
func recordValues(doc map[string]any) (int, error) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	n := 0
	for name, s := range schemas {
		if strings.HasSuffix(name, "_input") {
			continue
		}
		props, _ := s.(map[string]any)["properties"].(map[string]any)
		for _, p := range props {
			pm, _ := p.(map[string]any)
			if pm["format"] == "date" {
				// openapi_types.Date fails on null; a pointer is nil instead. Clio sends
				// null dates (an open matter's close_date).
				continue
			}
			switch pm["type"] {
			case "string", "integer", "number", "boolean":
				pm["x-go-type-skip-optional-pointer"] = true
				n++
			}
		}
	}
	return n, nil
}

// callParams are the parameters the clio package sets from call options (Fields, IfMatch,
// IfNoneMatch, IfModifiedSince, UseAPIVersion), by lower-case name.
var callParams = map[string]string{
	"fields": "query", "if-none-match": "header", "if-match": "header",
	"if-modified-since": "header", "x-api-version": "header",
}

// callOptions removes the call-option parameters from every operation and lists the ones an
// operation had in x-clio-call-options, so that cmd/servicegen can offer what applies (a
// Refresh method where If-None-Match was accepted).
func callOptions(doc map[string]any) (int, error) {
	n := 0
	err := operations(doc, func(_, _ string, op map[string]any) error {
		params, _ := op["parameters"].([]any)
		kept := params[:0:0]
		var dropped []any
		for _, p := range params {
			pm, _ := p.(map[string]any)
			name := strings.ToLower(fmt.Sprint(pm["name"]))
			if in, ok := callParams[name]; ok && pm["in"] == in {
				dropped = append(dropped, name)
				n++
				continue
			}
			kept = append(kept, p)
		}
		if dropped != nil {
			op["parameters"] = kept
			op["x-clio-call-options"] = dropped
		}
		return nil
	})
	return n, err
}

// enumValues marks the component schemas that are string enums (the record enums shared by
// records and their create and update inputs) to be generated as values wherever they are
// used: m.Status, not *m.Status, and Status: gen.MatterStatusOpen in a request.
func enumValues(doc map[string]any) (int, error) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	n := 0
	for _, s := range schemas {
		sm, _ := s.(map[string]any)
		if sm["type"] != "string" || sm["enum"] == nil {
			continue
		}
		sm["x-go-type-skip-optional-pointer"] = true
		n++
	}
	// A query parameter cannot be a value: the generated client would send type= when it
	// is unset. A parameter that refers to a shared enum takes a copy of it, named with
	// the shared Go type (ActivityType), so it stays an optional pointer of that type.
	err := operations(doc, func(_, _ string, op map[string]any) error {
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm, _ := p.(map[string]any)
			holder, _ := pm["schema"].(map[string]any)
			if items, ok := holder["items"].(map[string]any); ok {
				holder = items
			}
			ref, _ := holder["$ref"].(string)
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			enum, _ := schemas[name].(map[string]any)
			if ref == "" || enum == nil || enum["enum"] == nil {
				continue
			}
			delete(holder, "$ref")
			holder["type"], holder["enum"] = "string", enum["enum"]
			holder["x-go-type"] = codegen.SchemaNameToTypeName(name)
			n++
		}
		return nil
	})
	return n, err
}
