package replica

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/clio-go/clio-go/api"
)

// Resource is one Clio collection kept in step.
type Resource struct {
	// Name is the collection path under /api/v4 without ".json" ("matters").
	Name string
	// Model is the webhook model whose deleted events concern it ("matter").
	Model string
	// Fields is what the full and delta passes ask for: every field of the record, and
	// every field of each nested record (Clio serves one level of nesting).
	Fields string
	// UpdatedSince is true when the list accepts updated_since. Without it a delta is a
	// full pass.
	UpdatedSince bool
}

// DefaultResources are the collections `clio sync` copies when none is named: the ones
// reporting and billing analytics start from.
var DefaultResources = []string{"users", "contacts", "matters", "activities", "tasks", "bills"}

// LookupResources returns the named collections, described from Clio's OpenAPI document
// (package api). An unknown name, or a collection that cannot be listed, is an error that
// names it.
func LookupResources(names ...string) ([]Resource, error) {
	cat, err := catalog()
	if err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(names))
	for _, n := range names {
		r, ok := cat[n]
		if why := unsupported[n]; !ok && why != "" {
			return nil, fmt.Errorf("replica: %q cannot be kept in step: %s", n, why)
		}
		if !ok {
			return nil, fmt.Errorf("replica: %q is not a Clio collection that can be listed (known: %s)", n, strings.Join(knownNames(cat), ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

func knownNames(cat map[string]Resource) []string {
	names := make([]string, 0, len(cat))
	for n := range cat {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// unsupported names the collections that can be listed but not kept, and why.
var unsupported = map[string]string{}

var catalog = sync.OnceValues(func() (map[string]Resource, error) { return buildCatalog(api.OpenAPI) })

type oaSchema struct {
	Ref        string               `yaml:"$ref"`
	Type       string               `yaml:"type"`
	Properties map[string]*oaSchema `yaml:"properties"`
	Items      *oaSchema            `yaml:"items"`
}

type oaDoc struct {
	Paths map[string]struct {
		Get *struct {
			Parameters []struct {
				Name     string `yaml:"name"`
				In       string `yaml:"in"`
				Required bool   `yaml:"required"`
			} `yaml:"parameters"`
			Responses map[string]struct {
				Content map[string]struct {
					Schema oaSchema `yaml:"schema"`
				} `yaml:"content"`
			} `yaml:"responses"`
		} `yaml:"get"`
	} `yaml:"paths"`
	Components struct {
		Schemas map[string]*oaSchema `yaml:"schemas"`
	} `yaml:"components"`
}

// buildCatalog finds every collection path (/api/v4/NAME.json, no path parameter) whose
// GET answers a list of records with an id.
func buildCatalog(doc []byte) (map[string]Resource, error) {
	var d oaDoc
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("replica: reading the OpenAPI document: %w", err)
	}
	ref := func(s *oaSchema) (string, *oaSchema) {
		if s == nil || !strings.HasPrefix(s.Ref, "#/components/schemas/") {
			return "", s
		}
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		return name, d.Components.Schemas[name]
	}
	cat := map[string]Resource{}
	for p, item := range d.Paths {
		name, ok := strings.CutPrefix(p, "/api/v4/")
		if !ok || item.Get == nil || strings.Contains(name, "{") {
			continue
		}
		if name, ok = strings.CutSuffix(name, ".json"); !ok {
			continue
		}
		ok200, found := item.Get.Responses["200"]
		if !found {
			continue
		}
		body, found := ok200.Content["application/json"]
		if !found {
			continue
		}
		_, list := ref(&body.Schema)
		if list == nil || list.Properties["data"] == nil || list.Properties["data"].Items == nil {
			continue
		}
		model, rec := ref(list.Properties["data"].Items)
		if rec == nil || rec.Properties["id"] == nil {
			continue
		}
		if t := rec.Properties["id"].Type; t != "integer" {
			unsupported[name] = fmt.Sprintf("its records have %s ids, and the engine orders and scans integer ids", t)
			continue
		}
		r := Resource{Name: name, Model: snake(model), Fields: fieldsOf(rec, ref)}
		required := ""
		for _, prm := range item.Get.Parameters {
			if prm.Name == "updated_since" {
				r.UpdatedSince = true
			}
			if prm.Required && prm.In == "query" {
				required = prm.Name
			}
		}
		if required != "" {
			unsupported[name] = fmt.Sprintf("its list requires the parameter %s, so no single list holds all its records", required)
			continue
		}
		cat[name] = r
	}
	if len(cat) == 0 {
		return nil, fmt.Errorf("replica: the OpenAPI document lists no collection")
	}
	return cat, nil
}

// fieldsOf lists every property of rec; a nested record gets its own scalar properties in
// braces, the one level of nesting Clio serves.
func fieldsOf(rec *oaSchema, ref func(*oaSchema) (string, *oaSchema)) string {
	names := make([]string, 0, len(rec.Properties))
	for n := range rec.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		p := rec.Properties[n]
		if p.Type == "array" && p.Items != nil {
			p = p.Items
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		if _, nested := ref(p); nested != nil {
			if inner := scalarsOf(nested); len(inner) > 0 {
				b.WriteString("{" + strings.Join(inner, ",") + "}")
			}
		}
	}
	return b.String()
}

func scalarsOf(s *oaSchema) []string {
	var out []string
	for n, p := range s.Properties {
		if p.Ref == "" && p.Type != "object" && (p.Type != "array" || (p.Items != nil && p.Items.Ref == "" && p.Items.Type != "object")) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// snake turns a schema name into the webhook model name: CalendarEntry is calendar_entry.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
