package cliotest

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// field is one entry of the `fields` query parameter: a name, and for a nested resource
// the names inside its braces.
type field struct {
	name   string
	braces bool
	sub    []field
}

var defaultFields = []field{{name: "id"}, {name: "etag"}}

// parseFields parses "id,name,client{id,name}". Only one level of nesting is allowed
// inside a nested resource: "client{id,account{id}}" is an error, as on Clio.
func parseFields(s string) ([]field, error) {
	fs, rest, err := parseFieldList(s, 0)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("unexpected %q in fields", rest)
	}
	return fs, nil
}

func parseFieldList(s string, depth int) ([]field, string, error) {
	var out []field
	for {
		i := strings.IndexAny(s, ",{}")
		name := s
		if i >= 0 {
			name = s[:i]
		}
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, "", errors.New("empty field name in fields")
		}
		f := field{name: name}
		if i < 0 {
			return append(out, f), "", nil
		}
		s = s[i:]
		if s[0] == '{' {
			if depth >= 1 {
				return nil, "", fmt.Errorf("fields nest too deeply at %q: only one level of nesting is allowed inside a nested resource", name)
			}
			sub, rest, err := parseFieldList(s[1:], depth+1)
			if err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(rest, "}") {
				return nil, "", fmt.Errorf("unclosed brace after %q in fields", name)
			}
			f.braces, f.sub = true, sub
			s = rest[1:]
		}
		out = append(out, f)
		if s == "" {
			return out, "", nil
		}
		switch s[0] {
		case ',':
			s = s[1:]
		case '}':
			if depth == 0 {
				return nil, "", errors.New("unbalanced '}' in fields")
			}
			return out, s, nil
		default:
			return nil, "", fmt.Errorf("unexpected %q in fields", s)
		}
	}
}

// checkFields verifies that every requested field exists in the record schema.
func checkFields(fs []field, sch *openapi3.Schema) error {
	ps := props(sch)
	if len(ps) == 0 {
		return nil
	}
	for _, f := range fs {
		p := ps[f.name]
		if p == nil || p.Value == nil {
			return fmt.Errorf("unknown field %q; available: %s", f.name, strings.Join(sortedKeys(ps), ","))
		}
		if !f.braces {
			continue
		}
		e := elem(p.Value)
		eps := props(e)
		if !isType(e, "object") && len(eps) == 0 {
			return fmt.Errorf("field %q is not a nested resource", f.name)
		}
		if len(eps) == 0 {
			continue
		}
		for _, sf := range f.sub {
			if eps[sf.name] == nil {
				return fmt.Errorf("unknown field %q in %s{...}; available: %s", sf.name, f.name, strings.Join(sortedKeys(eps), ","))
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]*openapi3.SchemaRef) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// project shapes a stored record for an answer: only the requested fields, nested
// references resolved, and values the schema cannot hold left out. The caller holds s.mu.
func (s *Server) project(rec map[string]any, fs []field, sch *openapi3.Schema, nested bool) map[string]any {
	out := map[string]any{}
	ps := props(sch)
	for _, f := range fs {
		if strings.HasPrefix(f.name, "_") {
			continue
		}
		v, ok := rec[f.name]
		if !ok {
			continue
		}
		var psch *openapi3.Schema
		if p := ps[f.name]; p != nil {
			psch = p.Value
		}
		if !nested {
			inner := defaultFields
			if f.braces {
				inner = f.sub
			}
			switch x := v.(type) {
			case map[string]any:
				v = s.project(s.resolve(f.name, x), inner, elem(psch), true)
			case []any:
				arr := make([]any, 0, len(x))
				for _, it := range x {
					if m, ok := it.(map[string]any); ok {
						arr = append(arr, s.project(s.resolve(f.name, m), inner, elem(psch), true))
					} else {
						arr = append(arr, it)
					}
				}
				v = arr
			}
		} else {
			v = copyValue(v)
		}
		v = conform(v, psch)
		if psch != nil && psch.VisitJSON(v) != nil {
			continue
		}
		out[f.name] = v
	}
	return out
}

// refStores maps reference field names to the collection they point at.
var refStores = map[string]string{
	"client": "contacts", "contact": "contacts", "matter": "matters", "user": "users",
	"responsible_attorney": "users", "originating_attorney": "users", "responsible_staff": "users", "author": "users",
	"created_by": "users", "assigner": "users", "owner": "users", "creator": "users",
	"practice_area": "practice_areas", "folder": "folders", "document": "documents",
	"calendar_owner": "calendars", "activity_description": "activity_descriptions",
	"bill": "bills", "task_type": "task_types", "matter_stage": "matter_stages",
	"document_category": "document_categories", "group": "groups", "calendar": "calendars",
}

// resolve merges a stored reference ({"id": 5} or {"id": 5, "type": "Matter"}) with the
// record it points at, when the fake holds it.
func (s *Server) resolve(name string, ref map[string]any) map[string]any {
	id, ok := asInt(ref["id"])
	if !ok {
		return ref
	}
	var cands []string
	if t, ok := ref["type"].(string); ok && t != "" {
		cands = append(cands, snakePlural(t))
	}
	if c, ok := refStores[name]; ok {
		cands = append(cands, c)
	}
	cands = append(cands, plural(name))
	var target map[string]any
	for _, c := range cands {
		if target = s.getLocked(c, id); target != nil {
			break
		}
	}
	if target == nil {
		return ref
	}
	out := deepCopy(target)
	for k, v := range ref {
		if _, has := out[k]; !has {
			out[k] = v
		}
	}
	return out
}
