package main

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// errorResponses are the shared error answers, by status code.
var errorResponses = map[int]string{
	400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
	410: "Gone", 412: "PreconditionFailed", 422: "UnprocessableEntity", 429: "TooManyRequests",
}

// operation pairs an endpoint with what the reference says of it (nil when it says nothing).
type operation struct {
	ep  endpoint
	raw *rawOperation
}

func (o operation) resource() string { return strings.SplitN(o.ep.Operation, "#", 2)[0] }
func (o operation) action() string {
	p := strings.SplitN(o.ep.Operation, "#", 2)
	if len(p) < 2 {
		return ""
	}
	return p[1]
}

// standard says whether an operation is one of the five CRUD actions.
func standard(o operation) bool {
	switch o.action() {
	case "index", "show", "create", "update", "destroy":
		return true
	}
	return false
}

// operationID derives the operationId from the operation column: "Activity#index" → "Activity_index".
func operationID(op string) string { return strings.ReplaceAll(op, "#", "_") }

// listMeta is the paging envelope every list answer carries (platform guide; the samples omit it).
func listMeta() *node {
	str := &node{Kind: kString, Str: "string"}
	return &node{Kind: kObject, Keys: []string{"paging", "records"}, Fields: []*node{
		{Kind: kObject, Keys: []string{"previous", "next"}, Fields: []*node{str, str}},
		{Kind: kInteger, Str: "0"},
	}}
}

// build turns the operations into the OpenAPI document, and reports the nested shapes the
// identity rule kept apart (see shapes.ident).
func build(ops []operation) (*openapi3.T, *ruleResult, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:   "Clio Manage API",
			Version: "", // the reference's own: see referenceVersion
			Description: "Clio Manage API v4, transcribed from the reference text by cmd/transcribe " +
				"with the curated corrections in api/corrections.yaml.",
		},
		Paths: openapi3.NewPaths(),
		// Every operation needs the token; each operation also says so itself.
		Security: openapi3.SecurityRequirements{{"oauth2": []string{}}},
	}
	for _, s := range []struct{ url, region string }{
		{"https://app.clio.com", "United States"},
		{"https://ca.app.clio.com", "Canada"},
		{"https://eu.app.clio.com", "European Union"},
		{"https://au.app.clio.com", "Australia"},
	} {
		doc.Servers = append(doc.Servers, &openapi3.Server{URL: s.url, Description: s.region})
	}
	comps := openapi3.NewComponents()
	doc.Components = &comps
	doc.Components.SecuritySchemes = openapi3.SecuritySchemes{"oauth2": &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type: "oauth2",
		Description: "OAuth 2.0 authorization-code grant. The URLs are the US region's; each region " +
			"(ca., eu., au.app.clio.com) has its own, and a token is valid only in the region that issued it.",
		Flows: &openapi3.OAuthFlows{AuthorizationCode: &openapi3.OAuthFlow{
			AuthorizationURL: "https://app.clio.com/oauth/authorize",
			TokenURL:         "https://app.clio.com/oauth/token",
			RefreshURL:       "https://app.clio.com/oauth/token",
			Scopes:           map[string]string{},
		}},
	}}}

	records := newShapes("_base")
	inputs := newShapes("_input")
	for _, o := range ops {
		records.resources[o.resource()] = true
		inputs.resources[o.resource()] = true
	}
	records.held = heldResources(ops)
	inputs.held = records.held
	errSample := &node{Kind: kObject, Keys: []string{"error"}, Fields: []*node{{Kind: kObject,
		Keys: []string{"type", "message"}, Fields: []*node{{Kind: kString, Str: "string"}, {Kind: kString, Str: "string"}}}}}
	records.fix(errSample, "Error", "Error")
	records.fix(errSample.Fields[0], "ErrorDetail", "ErrorDetail")
	meta := listMeta()
	records.fix(meta, "ListMeta", "ListMeta")
	records.fix(meta.Fields[0], "Paging", "Paging")
	records.visit(errSample, "Error")
	records.visit(meta, "ListMeta")

	// First pass: name the shapes. A success sample's data is the operation's record; its
	// envelope is <Record>_list or <Record>_show.
	// The standard actions name records first: ReportPreset#generate_report answers a Report,
	// which Report#show should name.
	byAction := append([]operation(nil), ops...)
	sort.SliceStable(byAction, func(a, b int) bool { return standard(byAction[a]) && !standard(byAction[b]) })
	for _, o := range byAction {
		r := o.raw
		if r == nil {
			continue
		}
		if s := r.ResponseSample; s != nil && len(r.ResponseCodes) > 0 && r.ResponseCodes[0] < 300 {
			if d := s.field("data"); d != nil {
				rec := d
				kind := "_show"
				if d.Kind == kArray {
					kind = "_list"
					if s.field("meta") == nil {
						s.Keys = append(s.Keys, "meta")
						s.Fields = append(s.Fields, listMeta())
					}
					if len(d.Fields) > 0 {
						rec = d.Fields[0]
					}
				}
				// An action whose record differs from the resource's usual one (Folder#list
				// answers folders and documents) gets names of its own.
				if isComponent(rec) {
					records.fix(rec, o.resource(), o.resource()+"_"+o.action()+"_record")
				}
				records.fix(s, o.resource()+kind, o.resource()+"_"+o.action()+kind)
			}
		}
	}
	// Then what is nested in them, once every record has its name (shapes.ident tells a
	// record's own shape from a borrowed one by those names).
	for _, o := range byAction {
		if r := o.raw; r != nil && r.ResponseSample != nil && len(r.ResponseCodes) > 0 && r.ResponseCodes[0] < 300 {
			records.visit(r.ResponseSample, o.resource())
		}
	}
	// A request's data is its operation's own schema (<Record>_<action>_input): create and
	// update take the same fields but not the same required ones. What is nested in it is
	// shared by shape.
	for _, o := range byAction {
		if o.raw == nil || o.raw.RequestSample == nil {
			continue
		}
		for i, k := range o.raw.RequestSample.Keys {
			if v := o.raw.RequestSample.Fields[i]; k == "data" && isComponent(v) {
				inputs.visit(v, o.resource()+"_"+o.action())
			} else {
				inputs.visitValue(v, k, o.resource())
			}
		}
	}
	taken := map[string]bool{}
	for _, o := range ops {
		taken[o.resource()] = true
	}
	records.assign(taken)
	inputs.assign(taken)

	// Second pass: the operations.
	tags := map[string]bool{}
	for _, o := range ops {
		op, err := buildOperation(o, records, inputs)
		if err != nil {
			return nil, nil, fmt.Errorf("%s (%s %s): %w", o.ep.Operation, o.ep.Method, o.ep.Path, err)
		}
		item := doc.Paths.Value(o.ep.Path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(o.ep.Path, item)
		}
		if item.GetOperation(o.ep.Method) != nil {
			return nil, nil, fmt.Errorf("%s %s: two operations", o.ep.Method, o.ep.Path)
		}
		item.SetOperation(o.ep.Method, op)
		tags[o.ep.Tag] = true
	}
	var tagNames []string
	for t := range tags {
		tagNames = append(tagNames, t)
	}
	sort.Strings(tagNames)
	for _, t := range tagNames {
		doc.Tags = append(doc.Tags, &openapi3.Tag{Name: t})
	}

	records.schema(errSample, "") // builds Error and ErrorDetail
	records.schema(meta, "")      // builds ListMeta and Paging
	doc.Components.Schemas = openapi3.Schemas{}
	for _, sh := range []*shapes{records, inputs} {
		for name, s := range sh.built {
			doc.Components.Schemas[name] = openapi3.NewSchemaRef("", s)
		}
	}
	doc.Components.Responses = openapi3.ResponseBodies{}
	for code, name := range errorResponses {
		desc := fmt.Sprintf("%d %s", code, httpStatusText(code))
		doc.Components.Responses[name] = &openapi3.ResponseRef{Value: &openapi3.Response{
			Description: &desc,
			Content:     openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/Error", nil)),
		}}
	}
	var nested ruleResult
	records.splits(&nested)
	inputs.splits(&nested)
	return doc, &nested, nil
}

func buildOperation(o operation, records, inputs *shapes) (*openapi3.Operation, error) {
	op := openapi3.NewOperation()
	op.OperationID = operationID(o.ep.Operation)
	op.Summary = o.ep.Summary
	op.Tags = []string{o.ep.Tag}
	op.Security = &openapi3.SecurityRequirements{{"oauth2": []string{}}}
	op.Responses = openapi3.NewResponses()
	op.Responses.Delete("default")
	r := o.raw
	if r == nil {
		// Not in the reference text: the corrections file gives the rest.
		return op, nil
	}
	op.Description = r.Description
	for _, p := range r.Params {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: parameter(p)})
	}
	if s := r.RequestSample; s != nil {
		body := openapi3.NewObjectSchema()
		body.Properties = openapi3.Schemas{}
		for i, k := range s.Keys {
			if v := s.Fields[i]; k == "data" && isComponent(v) {
				name := o.resource() + "_" + o.action() + "_input"
				inputs.built[name] = inputs.object(v)
				body.Properties[k] = openapi3.NewSchemaRef("#/components/schemas/"+name, nil)
				continue
			}
			body.Properties[k] = inputs.schema(s.Fields[i], k)
		}
		for _, f := range r.BodyTopFields {
			if body.Properties[f] != nil {
				body.Required = append(body.Required, f)
			}
		}
		desc := "Request Body for " + o.ep.Tag
		op.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{
			Description: desc,
			Required:    r.BodyRequired,
			Content:     openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("", body)),
		}}
	} else if r.HasBody {
		return nil, fmt.Errorf("the reference announces a request body but shows no sample")
	}
	success := false
	for i, code := range r.ResponseCodes {
		if code < 300 {
			success = true
			resp := openapi3.NewResponse().WithDescription(httpStatusText(code))
			if i == 0 && r.ResponseSample != nil {
				resp.Content = openapi3.NewContentWithJSONSchemaRef(records.schema(r.ResponseSample, ""))
			}
			op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Value: resp})
			continue
		}
		name, ok := errorResponses[code]
		if !ok {
			return nil, fmt.Errorf("no shared response for status %d", code)
		}
		op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Ref: "#/components/responses/" + name})
	}
	if !success && o.ep.Method == "DELETE" {
		// The reference shows no sample for a successful delete; Clio answers 204 No Content.
		op.Responses.Set("204", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(
			"No Content. The reference shows no sample for a successful delete; Clio answers 204 (platform guide).")})
	}
	return op, nil
}

var limitRange = regexp.MustCompile(`between \d+ and \d+`)

// parameter types a parameter row. A name ending in [] is an array of the row's type.
func parameter(p rawParam) *openapi3.Parameter {
	var s *openapi3.Schema
	switch p.Type {
	case "integer":
		s = openapi3.NewIntegerSchema()
	case "number":
		s = &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}}
	case "boolean":
		s = openapi3.NewBoolSchema()
	default:
		s = openapi3.NewStringSchema()
	}
	s.Format = p.Format
	if lo, hi, ok := strings.Cut(limitRange.FindString(p.Description), " and "); ok {
		// "Limit can range between 1 and 200": the range the reference states.
		min, _ := strconv.ParseFloat(strings.TrimPrefix(lo, "between "), 64)
		max, _ := strconv.ParseFloat(hi, 64)
		s.Min, s.Max = &min, &max
	}
	for _, e := range p.Enum {
		s.Enum = append(s.Enum, e)
	}
	if strings.HasSuffix(p.Name, "[]") {
		a := openapi3.NewArraySchema()
		a.Items = openapi3.NewSchemaRef("", s)
		s = a
	}
	param := &openapi3.Parameter{
		Name:        p.Name,
		In:          p.In,
		Required:    p.Required || p.In == "path",
		Description: p.Description,
		Schema:      openapi3.NewSchemaRef("", s),
	}
	if strings.HasSuffix(p.Name, "[]") {
		explode := true
		param.Style, param.Explode = "form", &explode
	}
	return param
}

func httpStatusText(code int) string { return http.StatusText(code) }
