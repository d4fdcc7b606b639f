package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

var (
	dateRe     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	dateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// fingerprint identifies the shape of a sample: the same fields with the same types, in any order.
func fingerprint(n *node) string {
	switch n.Kind {
	case kObject:
		idx := make([]int, len(n.Keys))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return n.Keys[idx[a]] < n.Keys[idx[b]] })
		var b strings.Builder
		b.WriteString("{")
		for _, i := range idx {
			b.WriteString(n.Keys[i])
			b.WriteString(":")
			b.WriteString(fingerprint(n.Fields[i]))
			b.WriteString(",")
		}
		b.WriteString("}")
		return b.String()
	case kArray:
		if len(n.Fields) == 0 {
			return "[]"
		}
		return "[" + fingerprint(n.Fields[0]) + "]"
	case kString:
		switch {
		case dateRe.MatchString(n.Str):
			return "date"
		case dateTimeRe.MatchString(n.Str):
			return "date-time"
		}
		return "string"
	case kInteger:
		return "integer"
	case kNumber:
		return "number"
	case kBoolean:
		return "boolean"
	}
	return "null"
}

// isComponent says whether an object sample deserves a shared component schema: objects with
// fields do; the empty `{ }` the reference shows for free-form objects does not.
func isComponent(n *node) bool { return n.Kind == kObject && len(n.Keys) > 0 }

// shapes names the object shapes met in the samples, so that a shape that recurs is one
// component schema and not a copy per operation.
type shapes struct {
	suffix string                    // added to names of nested shapes: "_base" for records, "_input" for request bodies
	fixed  map[string]string         // fingerprint → name given by the caller (main records)
	keys   map[string]map[string]int // fingerprint → key under which it was met → count
	parent map[string]string         // fingerprint → name of the first parent it was met under, for clashes
	order  []string                  // fingerprints in order of first sight
	names  map[string]string         // fingerprint → component name, after assign
	built  map[string]*openapi3.Schema
	// samples are all the sample objects of a shape, to keep only the examples they agree on.
	samples map[string][]*node
	// fixedBy is the shape each fixed name was given to, so two shapes never share a name.
	fixedBy map[string]string
	// resources are the names of Clio's resources (Matter, Group, Task...): a field named
	// for one holds that resource, whatever other field shares its shape.
	resources map[string]bool
	// held are fields whose list filter says which resource they hold
	// (responsible_attorney_id: "The unique identifier for a single User").
	held map[string]string
}

func newShapes(suffix string) *shapes {
	return &shapes{suffix: suffix, fixed: map[string]string{}, keys: map[string]map[string]int{},
		parent: map[string]string{}, names: map[string]string{}, built: map[string]*openapi3.Schema{},
		samples: map[string][]*node{}, fixedBy: map[string]string{}, resources: map[string]bool{}, held: map[string]string{}}
}

// ident is the identity of a nested object shape met under key: its fingerprint, except that
// a shape is never borrowed across resources because its fields happen to match. A field
// named for a resource (group, task, activity) holds that resource's shape, apart from
// every other field with the same fields; a field holding the shape of another resource's
// record (Matter's task_template_list_instances, shaped like a TrustRequest) gets a shape
// of its own. The envelope's data, and bare {"id": 0} references, keep the fingerprint.
func (s *shapes) ident(v *node, key string) string {
	fp := fingerprint(v)
	if key == "" || key == "data" || fp == idOnly {
		return fp
	}
	fixed, isFixed := s.fixed[fp]
	r := s.resourceOf(key)
	if h, ok := s.held[key]; ok && r == "" && s.resources[h] && v.field("type") == nil {
		// What a filter says a field holds; not for a reference with a type of its own
		// (a task's assignee is a User or a Contact).
		r = h
	}
	if r != "" {
		if isFixed && fixed == r {
			return fp
		}
		return fp + "@" + r
	}
	if isFixed && s.resources[fixed] {
		return fp + "@" + key
	}
	return fp
}

// resourceOf names the resource a field holds: the resource its name is
// (activity_description), or ends with (latest_document_version, original_bill); the
// longest such name wins. "" when the name is not a resource's (responsible_attorney).
func (s *shapes) resourceOf(key string) string {
	if r, ok := fieldResources[key]; ok && s.resources[r] {
		return r
	}
	k := camel(singular(key))
	best := ""
	for r := range s.resources {
		if strings.HasSuffix(k, r) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// nestedName is the name of the first identity (in order of sight) of a fingerprint.
func (s *shapes) nestedName(fp string) (string, bool) {
	for _, id := range s.order {
		if id == fp || strings.HasPrefix(id, fp+"@") {
			return s.names[id], true
		}
	}
	return "", false
}

// fieldResources are fields whose name does not say which resource they hold, where the
// platform guide or the document does.
var fieldResources = map[string]string{
	// Platform guide: "calendar_owner ids are Calendar ids, not User ids".
	"calendar_owner": "Calendar",
	// The UTBMS code list filters by type UtbmsTask, UtbmsActivity or UtbmsExpense: these
	// fields hold UTBMS codes of that type.
	"utbms_task": "UtbmsCode", "utbms_activity": "UtbmsCode", "utbms_expense": "UtbmsCode",
}

// idOnly is the fingerprint of {"id": 0}, a reference to a record by id, whatever the key.
const idOnly = "{id:integer,}"

// splits reports the shapes that the identity rule kept apart from another of the same
// fields, with the names they got and the names they would have borrowed.
func (s *shapes) splits(r *ruleResult) {
	byFP := map[string][]string{}
	for id := range s.names {
		fp, _, _ := strings.Cut(id, "@")
		byFP[fp] = append(byFP[fp], id)
	}
	for fp, ids := range byFP {
		if len(ids) < 2 {
			continue
		}
		sort.Strings(ids)
		for _, id := range ids {
			if id == fp {
				continue
			}
			var others []string
			for _, o := range ids {
				if o != id {
					others = append(others, s.names[o])
				}
			}
			sort.Strings(others)
			var keys []string
			for k := range s.keys[id] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			r.change(&r.Schemas, "%s: the shape met as %s (first in %s), no longer shared with %s",
				s.names[id], strings.Join(keys, ", "), strings.TrimSuffix(s.parent[id], s.suffix), strings.Join(others, ", "))
		}
	}
}

// fix names a shape explicitly (the record an operation is about). The first name a shape
// gets wins; a name already given to another shape yields to fallback (then fallback2, ...).
func (s *shapes) fix(n *node, name, fallback string) {
	fp := fingerprint(n)
	s.samples[fp] = append(s.samples[fp], n)
	if _, ok := s.fixed[fp]; ok {
		return
	}
	if other, taken := s.fixedBy[name]; taken && other != fp {
		name = fallback
		for i := 2; s.fixedBy[name] != "" && s.fixedBy[name] != fp; i++ {
			name = fmt.Sprintf("%s%d", fallback, i)
		}
	}
	s.fixed[fp] = name
	s.fixedBy[name] = fp
}

// visit records the nested object shapes below n, n itself excluded.
func (s *shapes) visit(n *node, parent string) {
	for i, k := range n.Keys {
		s.visitValue(n.Fields[i], k, parent)
	}
}

func (s *shapes) visitValue(v *node, key, parent string) {
	switch v.Kind {
	case kArray:
		if len(v.Fields) > 0 {
			s.visitValue(v.Fields[0], singular(key), parent)
		}
	case kObject:
		if !isComponent(v) {
			return
		}
		fp := fingerprint(v)
		s.samples[fp] = append(s.samples[fp], v)
		id := s.ident(v, key)
		if s.keys[id] == nil {
			s.keys[id] = map[string]int{}
			s.parent[id] = parent
			s.order = append(s.order, id)
		}
		s.keys[id][key]++
		if name, ok := s.fixed[id]; ok {
			parent = name
		} else {
			parent = camel(key)
		}
		s.visit(v, parent)
	}
}

// assign gives every shape a name: the fixed one, else the key it is most often found under,
// with the parent's name in front when two different shapes want the same name.
func (s *shapes) assign(taken map[string]bool) {
	for fp, name := range s.fixed {
		s.names[fp] = name
		taken[name] = true
	}
	type want struct {
		fp, name string
		count    int
	}
	var wants []want
	for _, fp := range s.order {
		if _, ok := s.names[fp]; ok {
			continue
		}
		best, count := "", -1
		for k, c := range s.keys[fp] {
			if c > count || (c == count && k < best) {
				best, count = k, c
			}
		}
		total := 0
		for _, c := range s.keys[fp] {
			total += c
		}
		wants = append(wants, want{fp, best, total})
	}
	// The most used shape gets the plain name.
	sort.SliceStable(wants, func(a, b int) bool { return wants[a].count > wants[b].count })
	for _, w := range wants {
		name := camel(w.name) + s.suffix
		if w.fp == idOnly {
			name = "Id" + s.suffix // {"id": 0} names a record by id, whatever the key
		}
		parent := strings.TrimSuffix(s.parent[w.fp], s.suffix)
		if taken[name] {
			name = parent + "_" + w.name + s.suffix
		}
		for i := 2; taken[name]; i++ {
			name = fmt.Sprintf("%s_%s%d%s", parent, w.name, i, s.suffix)
		}
		s.names[w.fp] = name
		taken[name] = true
	}
}

// schema builds the schema of a sample value met under key ("" at the top); objects that are components become references,
// and their component schemas are built once into s.built.
func (s *shapes) schema(v *node, key string) *openapi3.SchemaRef {
	switch v.Kind {
	case kObject:
		if !isComponent(v) {
			return openapi3.NewSchemaRef("", openapi3.NewObjectSchema())
		}
		id := s.ident(v, key)
		name, ok := s.names[id]
		if !ok && key == "" {
			// A whole answer without an envelope: the shape as it was met nested.
			name, ok = s.nestedName(id)
		}
		if !ok {
			panic("shape not visited: " + id) // a bug in the transcriber, not bad input
		}
		if _, done := s.built[name]; !done {
			s.built[name] = nil // guards recursion
			s.built[name] = s.object(v)
		}
		return openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
	case kArray:
		items := openapi3.NewSchemaRef("", &openapi3.Schema{})
		if len(v.Fields) > 0 {
			items = s.schema(v.Fields[0], singular(key))
		}
		a := openapi3.NewArraySchema()
		a.Items = items
		return openapi3.NewSchemaRef("", a)
	}
	return openapi3.NewSchemaRef("", scalar(v))
}

// object builds the properties of an object sample. A literal is kept as a property's
// example only when every sample of the shape shows the same one: a shape shared by several
// operations must not carry one operation's value ("BankAccount") into the others.
func (s *shapes) object(v *node) *openapi3.Schema {
	o := openapi3.NewObjectSchema()
	all := s.samples[fingerprint(v)]
	for i, k := range v.Keys {
		if o.Properties == nil {
			o.Properties = openapi3.Schemas{}
		}
		p := s.schema(v.Fields[i], k)
		if p.Value != nil && p.Value.Example != nil {
			for _, other := range all {
				if f := other.field(k); f == nil || f.Str != v.Fields[i].Str {
					p.Value.Example = nil
					break
				}
			}
		}
		o.Properties[k] = p
	}
	return o
}

// scalar types a sample value as the reference shows it: 0 integer, 0.1 number, dates by
// their pattern; a literal other than "string" is kept as the example.
func scalar(v *node) *openapi3.Schema {
	switch v.Kind {
	case kInteger:
		return openapi3.NewIntegerSchema()
	case kNumber:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}}
	case kBoolean:
		return openapi3.NewBoolSchema()
	case kNull:
		return &openapi3.Schema{Nullable: true}
	}
	st := openapi3.NewStringSchema()
	switch {
	case dateRe.MatchString(v.Str):
		st.Format = "date"
	case dateTimeRe.MatchString(v.Str):
		st.Format = "date-time"
	case v.Str != "string":
		st.Example = v.Str
	}
	return st
}

// camel turns snake_case into CamelCase: "matter_note" → "MatterNote".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.' || r == '[' || r == ']':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// singular names one element of a plural key: "put_headers" → "put_header".
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"), strings.HasSuffix(s, "us"):
		return s
	case strings.HasSuffix(s, "s"):
		return s[:len(s)-1]
	}
	return s
}

// heldResources reads, from the list operations, which resource a record's field holds:
// a filter x_id described as "The unique identifier for a single R", where the listed
// record has a field x. A field whose filters disagree between lists is left out.
func heldResources(ops []operation) map[string]string {
	held, conflict := map[string]string{}, map[string]bool{}
	for _, o := range ops {
		r := o.raw
		if r == nil || o.action() != "index" || r.ResponseSample == nil {
			continue
		}
		d := r.ResponseSample.field("data")
		if d == nil || d.Kind != kArray || len(d.Fields) == 0 {
			continue
		}
		rec := d.Fields[0]
		for _, p := range r.Params {
			key, ok := strings.CutSuffix(p.Name, "_id")
			m := singleRe.FindStringSubmatch(p.Description)
			if !ok || m == nil || rec.field(key) == nil {
				continue
			}
			if prev, seen := held[key]; seen && prev != m[1] {
				conflict[key] = true
			}
			held[key] = m[1]
		}
	}
	for k := range conflict {
		delete(held, k)
	}
	return held
}
