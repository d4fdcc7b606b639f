package clio

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// FieldSet is a validated value for Clio's fields parameter. Without
// fields Clio answers only id and etag, so nearly every call needs one.
// Build it with Fields and Nested, or parse a string with ParseFields:
//
//	clio.Fields("id", "display_number").Nested("client", "id", "name")
//	// id,display_number,client{id,name}
//
// Names must be lowercase snake case ([a-z0-9_]). Clio allows one level of
// nesting inside a nested resource and answers 400 to anything deeper; the
// builder cannot express deeper nesting, and ParseFields rejects it.
// A FieldSet is also a CallOption: passing one to a call sets fields, and
// an invalid one fails the call with an *InputError naming the bad field
// before any request is sent.
//
// FieldSet is an immutable value: Nested returns a new set.
type FieldSet struct {
	items []fieldItem
	err   error
	query string // the rendered set, query-escaped: computed once, sent by every call
}

type fieldItem struct {
	name string
	sub  []string // nil for a plain field
}

// Fields starts a FieldSet with plain (non-nested) field names.
func Fields(names ...string) FieldSet {
	var f FieldSet
	return f.add(names...)
}

func (f FieldSet) add(names ...string) FieldSet {
	items := slices.Clip(f.items)
	for _, n := range names {
		if f.err == nil {
			f.err = f.check(items, n)
		}
		items = append(items, fieldItem{name: n})
	}
	f.items = items
	f.query = url.QueryEscape(f.String())
	return f
}

// Nested adds a nested resource with its fields, e.g.
// Nested("client", "id", "name") renders as client{id,name}.
func (f FieldSet) Nested(resource string, names ...string) FieldSet {
	items := slices.Clip(f.items)
	if f.err == nil {
		f.err = f.check(items, resource)
	}
	if f.err == nil && len(names) == 0 {
		f.err = &InputError{Field: "fields", Reason: fmt.Sprintf("nested resource %q lists no fields", resource)}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if f.err == nil {
			if err := validFieldName(n); err != nil {
				f.err = &InputError{Field: "fields", Reason: fmt.Sprintf("in %s{…}: %v", resource, err)}
			} else if seen[n] {
				f.err = &InputError{Field: "fields", Reason: fmt.Sprintf("%s{%s} is listed twice", resource, n)}
			}
		}
		seen[n] = true
	}
	f.items = append(items, fieldItem{name: resource, sub: slices.Clone(names)})
	f.query = url.QueryEscape(f.String())
	return f
}

// With adds more plain field names.
func (f FieldSet) With(names ...string) FieldSet { return f.add(names...) }

func (f FieldSet) check(items []fieldItem, name string) error {
	if err := validFieldName(name); err != nil {
		return &InputError{Field: "fields", Reason: err.Error()}
	}
	for _, it := range items {
		if it.name == name {
			return &InputError{Field: "fields", Reason: fmt.Sprintf("%q is listed twice", name)}
		}
	}
	return nil
}

func validFieldName(n string) error {
	if n == "" {
		return fmt.Errorf("empty field name")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			if c == '{' || c == '}' {
				return fmt.Errorf("field %q: use Nested (or ParseFields) for nested resources", n)
			}
			return fmt.Errorf("field %q: names are lowercase letters, digits and _", n)
		}
	}
	return nil
}

// Err reports the first validation error, if any.
func (f FieldSet) Err() error { return f.err }

// String renders the fields parameter, e.g. "id,client{id,name}".
func (f FieldSet) String() string {
	var b strings.Builder
	for i, it := range f.items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(it.name)
		if it.sub != nil {
			b.WriteByte('{')
			b.WriteString(strings.Join(it.sub, ","))
			b.WriteByte('}')
		}
	}
	return b.String()
}

// ParseFields validates a fields string such as
// "id,display_number,client{id,name}" and returns it as a FieldSet.
func ParseFields(s string) (FieldSet, error) {
	f := FieldSet{}
	rest := s
	for rest != "" {
		// Next top-level element: up to a ',' outside braces.
		i := strings.IndexAny(rest, ",{}")
		if i < 0 {
			f = f.add(rest)
			break
		}
		switch rest[i] {
		case ',':
			f = f.add(rest[:i])
			rest = rest[i+1:]
			if rest == "" {
				f = f.add("") // trailing comma
			}
		case '}':
			return FieldSet{}, &InputError{Field: "fields", Reason: fmt.Sprintf("unbalanced '}' in %q", s)}
		case '{':
			name := rest[:i]
			body := rest[i+1:]
			j := strings.IndexAny(body, "{}")
			if j < 0 {
				return FieldSet{}, &InputError{Field: "fields", Reason: fmt.Sprintf("unclosed '{' after %q", name)}
			}
			if body[j] == '{' {
				return FieldSet{}, &InputError{Field: "fields", Reason: fmt.Sprintf("%s{%s…}: Clio allows only one level of nesting inside a nested resource", name, body[:j])}
			}
			subs := []string{}
			if body[:j] != "" {
				subs = strings.Split(body[:j], ",")
			}
			f = f.Nested(name, subs...)
			rest = body[j+1:]
			if rest != "" {
				if rest[0] != ',' {
					return FieldSet{}, &InputError{Field: "fields", Reason: fmt.Sprintf("expected ',' after %s{…}", name)}
				}
				rest = rest[1:]
				if rest == "" {
					f = f.add("")
				}
			}
		}
		if f.err != nil {
			return FieldSet{}, f.err
		}
	}
	if f.err != nil {
		return FieldSet{}, f.err
	}
	if len(f.items) == 0 {
		return FieldSet{}, &InputError{Field: "fields", Reason: "empty"}
	}
	return f, nil
}
