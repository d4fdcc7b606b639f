// Package payload builds JSON documents from the schemas of the Clio OpenAPI
// document (gen/openapi.json), for the codec differential tests, the fuzz
// seed corpus and the decoding benchmarks.
//
// Everything is deterministic: the same schema, variant and seed always give
// the same bytes, so a failing test can be reproduced and benchmark inputs
// do not drift between runs.
package payload

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// Variant selects how a payload fills the schema's fields.
type Variant int

// The variants. Those before Overflow are valid answers that every decoder
// must accept; Overflow and WrongType must be rejected (encoding/json reports
// an error for them).
const (
	// Full fills every field with a deterministic value of its type and
	// format; arrays hold two elements.
	Full Variant = iota
	// Nulls keeps every object and array but makes every scalar leaf null.
	Nulls
	// NullObjects makes every property of the top-level object null.
	NullObjects
	// Unknown is Full plus unknown extra fields (scalars, arrays, nested
	// objects) in every object.
	Unknown
	// BigInts is Full with integers near 2^53, 2^62 and math.MaxInt64 and
	// floats with large exponents.
	BigInts
	// Unicode is Full with strings full of escapes: \u00e9, surrogate pairs
	// (\ud83d\ude00), \n, \", \\, \/, U+2028 and raw multibyte UTF-8.
	Unicode
	// EmptyArrays is Full with every array empty.
	EmptyArrays
	// CaseKeys is Full with every key in another case (UPPER, Title, mIxEd);
	// encoding/json matches field names case-insensitively.
	CaseKeys
	// DupKeys is Full with every key given twice, first with a decoy value and
	// then, in another case, with the real one; the last one wins.
	DupKeys
	// BadUTF8 is Full with invalid UTF-8 bytes and lone surrogate escapes in
	// strings; encoding/json replaces them with U+FFFD.
	BadUTF8
	// Overflow is Full with integers one past math.MaxInt64 (an error).
	Overflow
	// WrongType is Full with strings where numbers belong and a malformed
	// date (an error).
	WrongType
	numVariants
)

// Variants lists every variant, valid ones first.
func Variants() []Variant {
	vs := make([]Variant, numVariants)
	for i := range vs {
		vs[i] = Variant(i)
	}
	return vs
}

// WantError reports whether encoding/json rejects payloads of this variant.
func (v Variant) WantError() bool { return v == Overflow || v == WrongType }

// String names the variant, as test names show it.
func (v Variant) String() string {
	switch v {
	case Full:
		return "full"
	case Nulls:
		return "nulls"
	case NullObjects:
		return "null-objects"
	case Unknown:
		return "unknown-fields"
	case BigInts:
		return "big-ints"
	case Unicode:
		return "unicode"
	case EmptyArrays:
		return "empty-arrays"
	case CaseKeys:
		return "case-keys"
	case DupKeys:
		return "dup-keys"
	case BadUTF8:
		return "bad-utf8"
	case Overflow:
		return "int-overflow"
	case WrongType:
		return "wrong-type"
	}
	return "variant(" + strconv.Itoa(int(v)) + ")"
}

// Doc is a loaded OpenAPI document.
type Doc struct {
	T *openapi3.T
}

// Load parses an OpenAPI 3 document (JSON or YAML) and resolves its references.
func Load(data []byte) (*Doc, error) {
	l := openapi3.NewLoader()
	t, err := l.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("payload: load document: %w", err)
	}
	return &Doc{T: t}, nil
}

// LoadFile is Load on the contents of path.
func LoadFile(path string) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return Load(data)
}

// Schema returns the component schema name, or nil.
func (d *Doc) Schema(name string) *openapi3.Schema {
	if r := d.T.Components.Schemas[name]; r != nil {
		return r.Value
	}
	return nil
}

// Body is one JSON body of an operation in the document: a 200/201 response
// or a request body.
type Body struct {
	Operation string // operationId as written in the document
	Method    string
	Path      string
	Status    string // "200" or "201"; "" for a request body
	// Schema is the component schema name when the body is a $ref to one,
	// "" when the schema is written inline.
	Schema string
	Value  *openapi3.Schema
}

// Responses lists every 200/201 application/json response of every
// operation, in path and method order.
func (d *Doc) Responses() []Body {
	var out []Body
	d.eachOp(func(method, path string, op *openapi3.Operation) {
		for _, code := range []string{"200", "201"} {
			r := op.Responses.Value(code)
			if r == nil || r.Value == nil {
				continue
			}
			mt := r.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				continue
			}
			out = append(out, Body{Operation: op.OperationID, Method: method, Path: path, Status: code,
				Schema: refName(mt.Schema.Ref), Value: mt.Schema.Value})
		}
	})
	return out
}

// RequestBodies lists every application/json request body.
func (d *Doc) RequestBodies() []Body {
	var out []Body
	d.eachOp(func(method, path string, op *openapi3.Operation) {
		if op.RequestBody == nil || op.RequestBody.Value == nil {
			return
		}
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil {
			return
		}
		out = append(out, Body{Operation: op.OperationID, Method: method, Path: path,
			Schema: refName(mt.Schema.Ref), Value: mt.Schema.Value})
	})
	return out
}

func (d *Doc) eachOp(f func(method, path string, op *openapi3.Operation)) {
	paths := d.T.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		ops := paths[p].Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			f(m, p, ops[m])
		}
	}
}

func refName(ref string) string {
	const prefix = "#/components/schemas/"
	if strings.HasPrefix(ref, prefix) {
		return ref[len(prefix):]
	}
	return ""
}

// Generate builds one payload for s. seed varies the values (two seeds give
// different ids, names and dates).
func Generate(s *openapi3.Schema, v Variant, seed int) []byte {
	return GenerateShallow(s, v, seed, defaultDepth)
}

// defaultDepth bounds nesting (the schemas nest contacts in matters in
// bills...); cycles stop earlier, at the first repeated schema.
const defaultDepth = 6

// GenerateShallow is Generate with objects nested deeper than maxDepth
// written as null and arrays of one element: small payloads for fuzz seed
// corpora, where big inputs slow the mutator down.
func GenerateShallow(s *openapi3.Schema, v Variant, seed, maxDepth int) []byte {
	g := &builder{v: v, n: seed * 7919, maxDepth: maxDepth, stack: map[*openapi3.Schema]bool{}}
	g.value(s, 0, true)
	return g.buf.Bytes()
}

// GenerateNamed is Generate for the component schema name.
func (d *Doc) GenerateNamed(name string, v Variant, seed int) ([]byte, error) {
	s := d.Schema(name)
	if s == nil {
		return nil, fmt.Errorf("payload: no schema %q", name)
	}
	return Generate(s, v, seed), nil
}

// Page builds a list envelope of the component schema name (such as
// "Matter_list": {"data": [...], "meta": {...}}) holding n fully populated
// records, each with its own values.
func (d *Doc) Page(name string, n int) ([]byte, error) {
	s := d.Schema(name)
	if s == nil {
		return nil, fmt.Errorf("payload: no schema %q", name)
	}
	data := s.Properties["data"]
	if data == nil || data.Value == nil || !data.Value.Type.Is("array") || data.Value.Items == nil {
		return nil, fmt.Errorf("payload: %q is not a list envelope", name)
	}
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(Generate(data.Value.Items.Value, Full, i+1))
	}
	b.WriteString(`]`)
	if meta := s.Properties["meta"]; meta != nil {
		b.WriteString(`,"meta":`)
		b.Write(Generate(meta.Value, Full, n))
	}
	b.WriteString(`}`)
	return b.Bytes(), nil
}

type builder struct {
	buf      bytes.Buffer
	v        Variant
	n        int // counter that varies the values
	maxDepth int
	stack    map[*openapi3.Schema]bool
}

func (g *builder) next() int { g.n++; return g.n }

// value writes a value of schema s. top is true for the root object.
func (g *builder) value(s *openapi3.Schema, depth int, top bool) {
	if s == nil {
		g.buf.WriteString("null")
		return
	}
	switch {
	case s.Type.Is("object") || (s.Type.IsEmpty() && len(s.Properties) > 0):
		if g.stack[s] || depth > g.maxDepth {
			g.buf.WriteString("null") // a cycle: stop here
			return
		}
		g.stack[s] = true
		g.object(s, depth, top)
		delete(g.stack, s)
	case s.Type.Is("array"):
		g.array(s, depth)
	case s.Type.Is("string"):
		g.str(s)
	case s.Type.Is("integer"):
		g.integer()
	case s.Type.Is("number"):
		g.number()
	case s.Type.Is("boolean"):
		if g.v == Nulls {
			g.buf.WriteString("null")
		} else if g.next()%2 == 0 {
			g.buf.WriteString("true")
		} else {
			g.buf.WriteString("false")
		}
	default:
		g.buf.WriteString("null")
	}
}

func (g *builder) object(s *openapi3.Schema, depth int, top bool) {
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	g.buf.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			g.buf.WriteByte(',')
		}
		first = false
	}
	if g.v == Unknown {
		sep()
		g.buf.WriteString(`"x_unknown_first":{"a":[1,2.5e10,"s",null,true,{"b":{}}],"c":"\u00e9"}`)
	}
	for i, name := range names {
		p := s.Properties[name].Value
		if g.v == DupKeys {
			sep()
			g.key(name)
			g.decoy(p)
		}
		sep()
		key := name
		switch g.v {
		case CaseKeys:
			key = recase(name, i+g.n)
		case DupKeys:
			key = recase(name, 1)
		}
		g.key(key)
		if g.v == NullObjects && top {
			g.buf.WriteString("null")
			continue
		}
		g.value(p, depth+1, false)
	}
	if g.v == Unknown {
		sep()
		g.buf.WriteString(`"x_unknown_last":[[],{},-0.0,1E+2,"\ud83d\ude00"],"X_Unknown_Null":null`)
	}
	g.buf.WriteByte('}')
}

// decoy writes a value of the right JSON kind that a later duplicate replaces.
func (g *builder) decoy(s *openapi3.Schema) {
	switch {
	case s == nil:
		g.buf.WriteString("null")
	case s.Type.Is("object"):
		g.buf.WriteString(`{"x_decoy":{"id":1}}`)
	case s.Type.Is("array"):
		g.buf.WriteString(`[null]`)
	case s.Type.Is("string"):
		if s.Format == "date" || s.Format == "date-time" {
			g.buf.WriteString(`null`)
		} else {
			g.buf.WriteString(`"decoy"`)
		}
	case s.Type.Is("integer"), s.Type.Is("number"):
		g.buf.WriteString("7")
	case s.Type.Is("boolean"):
		g.buf.WriteString("true")
	default:
		g.buf.WriteString("null")
	}
}

// recase returns name in another case, chosen by i.
func recase(name string, i int) string {
	switch i % 3 {
	case 0:
		return strings.ToUpper(name)
	case 1:
		r := []rune(name)
		r[0] = unicode.ToUpper(r[0])
		return string(r)
	default:
		r := []rune(name)
		for j := range r {
			if j%2 == 1 {
				r[j] = unicode.ToUpper(r[j])
			}
		}
		return string(r)
	}
}

func (g *builder) key(name string) {
	g.buf.WriteString(strconv.Quote(name)) // property names are plain ASCII
	g.buf.WriteByte(':')
}

func (g *builder) array(s *openapi3.Schema, depth int) {
	if g.v == EmptyArrays {
		g.buf.WriteString("[]")
		return
	}
	n := 2
	if depth > 2 || g.maxDepth < defaultDepth {
		n = 1
	}
	g.buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			g.buf.WriteByte(',')
		}
		var items *openapi3.Schema
		if s.Items != nil {
			items = s.Items.Value
		}
		g.value(items, depth+1, false)
	}
	g.buf.WriteByte(']')
}

var zones = []string{"Z", "-07:00", "+05:30", "+00:00", "-03:30"}

func (g *builder) str(s *openapi3.Schema) {
	if g.v == Nulls {
		g.buf.WriteString("null")
		return
	}
	n := g.next()
	switch s.Format {
	case "date":
		if g.v == WrongType {
			g.buf.WriteString(`"2019-13-45"`)
			return
		}
		fmt.Fprintf(&g.buf, `"%04d-%02d-%02d"`, 2000+n%30, 1+n%12, 1+n%28)
		return
	case "date-time":
		frac := ""
		switch n % 4 {
		case 1:
			frac = ".5"
		case 2:
			frac = ".123456789"
		case 3:
			frac = ".000001"
		}
		fmt.Fprintf(&g.buf, `"%04d-%02d-%02dT%02d:%02d:%02d%s%s"`, 2000+n%30, 1+n%12, 1+n%28, n%24, n%60, (n*7)%60, frac, zones[n%len(zones)])
		return
	}
	switch g.v {
	case Unicode:
		texts := []string{
			`"caf\u00e9 na\u00efve \ud83d\ude00 \"quoted\" back\\slash\/ line\nbreak\ttab\r\b\f %d"`,
			`"raw café 😀 日本語 \u2028\u2029 <a href=\"x\">&amp;</a> %d"`,
			`"\u0000nul \u001f ctl \uD83D\uDE00 upper-hex %d"`,
			`"%d"`,
		}
		fmt.Fprintf(&g.buf, texts[n%len(texts)], n)
	case BadUTF8:
		texts := []string{
			"\"bad \xff\xfe byte %d\"",
			`"lone \ud800 surrogate %d"`,
			`"reversed \udc00\ud800 pair %d"`,
			"\"truncated \xe2\x82 seq %d\"",
			"\"overlong \xc0\xaf %d\"",
			`"ok %d"`,
		}
		fmt.Fprintf(&g.buf, texts[n%len(texts)], n)
	default:
		fmt.Fprintf(&g.buf, `"value %d of a string field, <b>&co</b>"`, n)
	}
}

func (g *builder) integer() {
	if g.v == Nulls {
		g.buf.WriteString("null")
		return
	}
	n := g.next()
	switch g.v {
	case BigInts:
		big := []string{"9007199254740993", "9007199254740991", "4611686018427387904", "4611686018427387903",
			"9223372036854775807", "-9223372036854775808", "-9007199254740993"}
		g.buf.WriteString(big[n%len(big)])
	case Overflow:
		g.buf.WriteString("9223372036854775808")
	case WrongType:
		fmt.Fprintf(&g.buf, `"%d"`, n)
	default:
		fmt.Fprintf(&g.buf, "%d", 1000000+n)
	}
}

func (g *builder) number() {
	if g.v == Nulls {
		g.buf.WriteString("null")
		return
	}
	n := g.next()
	switch g.v {
	case BigInts:
		big := []string{"1.7976931348623157e308", "9007199254740993", "4.611686018427388e18", "5e-324", "-1E+300", "123456789012345678901234567890"}
		g.buf.WriteString(big[n%len(big)])
	case WrongType:
		g.buf.WriteString(`"12.5"`)
	default:
		small := []string{"%d.25", "%d", "-%d.5", "%de-3", "0.1", "1E2", "-0"}
		f := small[n%len(small)]
		if strings.Contains(f, "%") {
			fmt.Fprintf(&g.buf, f, n)
		} else {
			g.buf.WriteString(f)
		}
	}
}
