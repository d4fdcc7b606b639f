package cliotest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// normaliseEnums rewrites, in a request body, every enum value sent in another case than
// the document's ("open" for Matter status Open) to the document's: real Clio takes either
// and answers its own. A value that matches no enum value is left for validation to refuse.
// The body is returned unchanged when nothing needed it, or when it is not JSON.
func normaliseEnums(op *openapi3.Operation, raw []byte) []byte {
	if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil || len(raw) == 0 {
		return raw
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids beyond 2^53 stay exact when the body is written again
	var body any
	if err := dec.Decode(&body); err != nil {
		return raw
	}
	v, changed := normaliseValue(mt.Schema.Value, body)
	if !changed {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

func normaliseValue(s *openapi3.Schema, v any) (any, bool) {
	if s == nil {
		return v, false
	}
	switch x := v.(type) {
	case map[string]any:
		changed := false
		for k, pv := range x {
			p := s.Properties[k]
			if p == nil {
				continue
			}
			nv, c := normaliseValue(p.Value, pv)
			if c {
				x[k], changed = nv, true
			}
		}
		return x, changed
	case []any:
		if s.Items == nil {
			return x, false
		}
		changed := false
		for i, e := range x {
			if nv, c := normaliseValue(s.Items.Value, e); c {
				x[i], changed = nv, true
			}
		}
		return x, changed
	case string:
		for _, e := range s.Enum {
			if e == x {
				return x, false
			}
		}
		for _, e := range s.Enum {
			if es, ok := e.(string); ok && strings.EqualFold(es, x) {
				return es, true
			}
		}
	}
	return v, false
}

// conform gives a stored value the type the record's schema says Clio answers with: a
// calendar entry's id (stored as a number) as a string, and a date field sent as a
// date-time (task due_at) as its date.
func conform(v any, s *openapi3.Schema) any {
	if s == nil || !s.Type.Is("string") {
		return v
	}
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case string:
		if s.Format == "date" && len(x) > len("2006-01-02") && x[len("2006-01-02")] == 'T' {
			return x[:len("2006-01-02")]
		}
	}
	return v
}
