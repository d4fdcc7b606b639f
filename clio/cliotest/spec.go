package cliotest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

const apiPrefix = "/api/v4/"

// routeKind classifies a path template of the document.
type routeKind int

const (
	kindCollection routeKind = iota // /api/v4/matters.json, /api/v4/utbms/codes.json
	kindRecord                      // /api/v4/matters/{id}.json
	kindSub                         // /api/v4/contacts/{contact_id}/email_addresses.json
)

type segment struct {
	lit    string // literal text, when param == ""
	param  string // parameter name
	suffix string // text after the parameter, e.g. ".json"
}

// route is one path of the document, with what the fake makes of it.
type route struct {
	tmpl        string
	segs        []segment
	item        *openapi3.PathItem
	kind        routeKind
	store       string // collection key: literal segments joined by "/"
	parentStore string // kindSub: the collection of the parent record
	parentParam string // kindSub: the name of the parent's path parameter
	idParam     string // kindRecord: the name of the record's path parameter
	sub         string // kindSub: the last literal segment
	literals    int
}

// spec is a loaded, indexed document. It is shared read-only between servers.
type spec struct {
	doc         *openapi3.T
	routes      []*route
	collections map[string]bool
}

var (
	specCacheMu sync.Mutex
	specCache   = map[[32]byte]*spec{}
)

// loadSpec parses and validates an OpenAPI document; parsed documents are cached by content.
func loadSpec(data []byte) (*spec, error) {
	key := sha256.Sum256(data)
	specCacheMu.Lock()
	defer specCacheMu.Unlock()
	if sp, ok := specCache[key]; ok {
		return sp, nil
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("cliotest: load OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("cliotest: OpenAPI document is invalid: %w", err)
	}
	sp := &spec{doc: doc, collections: map[string]bool{}}
	for _, tmpl := range doc.Paths.InMatchingOrder() {
		rt := newRoute(tmpl, doc.Paths.Value(tmpl))
		if rt != nil {
			sp.routes = append(sp.routes, rt)
		}
	}
	// A store is a collection when records are addressed under it, when its GET lists, or
	// when it can only be created into.
	for _, rt := range sp.routes {
		switch rt.kind {
		case kindRecord:
			sp.collections[rt.store] = true
		case kindCollection:
			get, post := rt.item.Get, rt.item.Post
			if get != nil {
				if _, list := dataSchema(get); list {
					sp.collections[rt.store] = true
				}
			}
			if post != nil && get == nil {
				sp.collections[rt.store] = true
			}
		}
	}
	sort.SliceStable(sp.routes, func(i, j int) bool { return sp.routes[i].literals > sp.routes[j].literals })
	specCache[key] = sp
	return sp, nil
}

func newRoute(tmpl string, item *openapi3.PathItem) *route {
	rt := &route{tmpl: tmpl, item: item}
	for _, part := range strings.Split(strings.TrimPrefix(tmpl, "/"), "/") {
		if i := strings.Index(part, "{"); i == 0 {
			j := strings.Index(part, "}")
			if j < 0 {
				return nil
			}
			rt.segs = append(rt.segs, segment{param: part[1:j], suffix: part[j+1:]})
		} else {
			rt.segs = append(rt.segs, segment{lit: part})
			rt.literals++
		}
	}
	if !strings.HasPrefix(tmpl, apiPrefix) {
		rt.kind = kindCollection
		rt.store = strings.TrimSuffix(strings.TrimPrefix(tmpl, "/"), ".json")
		return rt
	}
	// Segments after /api/v4, with ".json" dropped.
	rel := rt.segs[2:]
	var lits []string
	for _, s := range rel {
		if s.param == "" {
			lits = append(lits, strings.TrimSuffix(s.lit, ".json"))
		}
	}
	rt.store = strings.Join(lits, "/")
	last := rel[len(rel)-1]
	switch {
	case last.param != "":
		rt.kind = kindRecord
		rt.idParam = last.param
	case len(rel) >= 2 && rel[len(rel)-2].param != "":
		rt.kind = kindSub
		rt.parentParam = rel[len(rel)-2].param
		rt.sub = strings.TrimSuffix(last.lit, ".json")
		rt.parentStore = strings.Join(lits[:len(lits)-1], "/")
	default:
		rt.kind = kindCollection
	}
	return rt
}

// match returns the path parameters when the request path fits the template.
func (rt *route) match(path string) (map[string]string, bool) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != len(rt.segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, s := range rt.segs {
		if s.param == "" {
			if parts[i] != s.lit {
				return nil, false
			}
			continue
		}
		v, ok := strings.CutSuffix(parts[i], s.suffix)
		if !ok || v == "" {
			return nil, false
		}
		params[s.param] = v
	}
	return params, true
}

// find returns the route of a request path; literal segments win over parameters.
func (sp *spec) find(path string) (*route, map[string]string) {
	for _, rt := range sp.routes {
		if p, ok := rt.match(path); ok {
			return rt, p
		}
	}
	return nil, nil
}

func (rt *route) operation(method string) *openapi3.Operation {
	if rt == nil || rt.item == nil {
		return nil
	}
	return rt.item.GetOperation(method)
}

func (sp *spec) kinRoute(rt *route, method string) *routers.Route {
	var server *openapi3.Server
	if len(sp.doc.Servers) > 0 {
		server = sp.doc.Servers[0]
	}
	return &routers.Route{Spec: sp.doc, Server: server, Path: rt.tmpl, PathItem: rt.item, Method: method, Operation: rt.operation(method)}
}

// successResponse returns the first documented 2xx response of an operation.
func successResponse(op *openapi3.Operation) (int, *openapi3.Response) {
	if op == nil || op.Responses == nil {
		return 0, nil
	}
	for code := 200; code < 300; code++ {
		if r := op.Responses.Value(fmt.Sprint(code)); r != nil && r.Value != nil {
			return code, r.Value
		}
	}
	if r := op.Responses.Value("2XX"); r != nil && r.Value != nil {
		return 200, r.Value
	}
	return 0, nil
}

// dataSchema returns the schema of one record in the operation's success answer
// (the items of `data` for lists) and whether the answer is a list.
func dataSchema(op *openapi3.Operation) (*openapi3.Schema, bool) {
	_, resp := successResponse(op)
	if resp == nil {
		return nil, false
	}
	mt := resp.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, false
	}
	d := props(mt.Schema.Value)["data"]
	if d == nil || d.Value == nil {
		return nil, false
	}
	if isType(d.Value, "array") {
		if d.Value.Items == nil {
			return nil, true
		}
		return d.Value.Items.Value, true
	}
	return d.Value, false
}

func isType(s *openapi3.Schema, typ string) bool {
	if s == nil {
		return false
	}
	if s.Type != nil && s.Type.Is(typ) {
		return true
	}
	for _, a := range s.AllOf {
		if a.Value != nil && isType(a.Value, typ) {
			return true
		}
	}
	return false
}

// props merges the properties of a schema and of its allOf members.
func props(s *openapi3.Schema) map[string]*openapi3.SchemaRef {
	if s == nil {
		return nil
	}
	if len(s.AllOf) == 0 {
		return s.Properties
	}
	out := map[string]*openapi3.SchemaRef{}
	for _, a := range s.AllOf {
		for k, v := range props(a.Value) {
			out[k] = v
		}
	}
	for k, v := range s.Properties {
		out[k] = v
	}
	return out
}

// elem returns the object schema of a property: itself, or its items for an array.
func elem(s *openapi3.Schema) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if isType(s, "array") && s.Items != nil {
		return s.Items.Value
	}
	return s
}

func methodHasBody(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}
