package cliotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/clio-go/clio-go/api"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Versions: X-API-VERSION 4.0.4 to LatestAPIVersion are served (DefaultAPIVersion to a
// request without the header, as on Clio); 4.0.0 to 4.0.3 are retired and answer 410
// Gone; anything else is a 400.
const (
	// DefaultAPIVersion is what Clio serves a request without X-API-VERSION.
	DefaultAPIVersion = "4.0.9"
	// LatestAPIVersion is the newest version, the document's (api.Version): the one the
	// client pins by default.
	LatestAPIVersion = api.Version
)

// latestMinor is the x of LatestAPIVersion 4.0.x.
var latestMinor = func() int {
	n, err := strconv.Atoi(strings.TrimPrefix(LatestAPIVersion, "4.0."))
	if err != nil {
		panic("cliotest: api.Version " + LatestAPIVersion + " is not 4.0.x")
	}
	return n
}()

var versionRE = regexp.MustCompile(`^4\.0\.(\d{1,3})$`)

// call is one API request on its way through the fake.
type call struct {
	r       *http.Request
	rt      *route
	op      *openapi3.Operation
	params  map[string]string
	q       url.Values
	tok     *token
	raw     []byte
	data    map[string]any // request body "data"
	schema  *openapi3.Schema
	list    bool
	fields  []field
	version string
	events  []hookEvent
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.Requests++
	s.perRoute[r.Method+" "+r.URL.Path]++
	f := s.takeFaultLocked(r, false)
	s.mu.Unlock()
	if f != nil && s.applyFaultBefore(w, r, f) {
		return
	}
	var res *resp
	switch r.URL.Path {
	case "/oauth/authorize":
		res = s.authorize(r)
	case "/oauth/token":
		res = s.tokenEndpoint(r)
	case "/oauth/deauthorize":
		res = s.deauthorize(r)
	default:
		if strings.HasPrefix(r.URL.Path, apiPrefix) {
			res = s.serveAPI(r)
		} else {
			res = errResp(http.StatusNotFound, "NotFound", "no route for "+r.URL.Path)
		}
	}
	s.mu.Lock()
	switch res.status {
	case http.StatusUnauthorized:
		s.counters.Unauthorized++
	case http.StatusTooManyRequests:
		s.counters.RateLimited++
	}
	s.mu.Unlock()
	s.writeResp(w, r, res, f)
}

func (s *Server) serveAPI(r *http.Request) *resp {
	c := &call{r: r, q: r.URL.Query()}
	c.rt, c.params = s.sp.find(r.URL.Path)
	c.op = c.rt.operation(r.Method)
	extra := s.extraHandler(r)
	tok, res := s.authenticate(r)
	if res != nil {
		return res
	}
	c.tok = tok
	rateHeader, limited := s.spend(tok.access)
	switch {
	case limited != nil:
		res = limited
	case c.op == nil && extra == nil && c.rt != nil:
		res = errResp(http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path)
	case c.op == nil && extra == nil:
		res = errResp(http.StatusNotFound, "NotFound", "no such resource: "+r.URL.Path)
	default:
		res = s.serveCall(c, extra)
	}
	for k, v := range rateHeader {
		res.header[k] = v
	}
	if res.status < 400 && res.status != 0 {
		res.header.Set("X-API-VERSION", c.version)
	}
	if c.op != nil {
		s.checkAnswer(c, res)
	}
	s.deliverEvents(c.events)
	return res
}

func (s *Server) serveCall(c *call, extra func(*call) *resp) *resp {
	r := c.r
	v, res := checkVersion(r.Header.Get("X-API-VERSION"))
	if res != nil {
		return res
	}
	c.version = v
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			return errResp(http.StatusBadRequest, "BadRequest", "cannot read body: "+err.Error())
		}
		c.raw = b
	}
	// Clio takes enum values in any case and answers its own.
	c.raw = normaliseEnums(c.op, c.raw)
	if c.op != nil {
		if res := s.validateRequest(c); res != nil {
			s.mu.Lock()
			s.counters.RejectedRequests++
			s.mu.Unlock()
			return res
		}
		c.schema, c.list = dataSchema(c.op)
	}
	if len(c.raw) > 0 && methodHasBody(r.Method) {
		var body map[string]any
		if err := json.Unmarshal(c.raw, &body); err != nil {
			return errResp(http.StatusBadRequest, "BadRequest", "body is not a JSON object: "+err.Error())
		}
		if d, ok := body["data"].(map[string]any); ok {
			c.data = d
		} else if body["data"] != nil {
			return errResp(http.StatusUnprocessableEntity, "RecordInvalid", `"data" must be an object`)
		}
	}
	if c.data == nil {
		c.data = map[string]any{}
	}
	c.fields = defaultFields
	if fv, ok := c.q["fields"]; ok {
		fs, err := parseFields(strings.Join(fv, ","))
		if err != nil {
			return errResp(http.StatusBadRequest, "InvalidFields", err.Error())
		}
		if err := checkFields(fs, c.schema); err != nil {
			return errResp(http.StatusBadRequest, "InvalidFields", err.Error())
		}
		c.fields = fs
	}
	if extra != nil {
		return extra(c)
	}
	return s.dispatch(c)
}

func checkVersion(v string) (string, *resp) {
	if v == "" {
		return DefaultAPIVersion, nil
	}
	m := versionRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return "", errResp(http.StatusBadRequest, "InvalidApiVersion", fmt.Sprintf("X-API-VERSION %q is not a valid API version (expected 4.0.x)", v))
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < 4:
		return "", errResp(http.StatusGone, "ApiVersionRetired", fmt.Sprintf("API version %s is no longer supported", v))
	case n > latestMinor:
		return "", errResp(http.StatusBadRequest, "InvalidApiVersion", fmt.Sprintf("API version %s does not exist; the newest is %s", v, LatestAPIVersion))
	}
	return "4.0." + strconv.Itoa(n), nil
}

var validationOptions = &openapi3filter.Options{
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	SkipSettingDefaults: true,
}

func (s *Server) requestInput(c *call) *openapi3filter.RequestValidationInput {
	r2 := c.r.Clone(c.r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(c.raw))
	return &openapi3filter.RequestValidationInput{
		Request:    r2,
		PathParams: c.params,
		Route:      s.sp.kinRoute(c.rt, c.r.Method),
		Options:    validationOptions,
	}
}

// validateRequest checks the request against the document: a bad parameter is a 400, a
// body that breaks its schema a 422, in Clio's error shape.
func (s *Server) validateRequest(c *call) *resp {
	err := openapi3filter.ValidateRequest(c.r.Context(), s.requestInput(c))
	if err == nil {
		return nil
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		var se *openapi3.SchemaError
		hasSchemaErr := errors.As(re.Err, &se)
		switch {
		case re.Parameter != nil:
			return errResp(http.StatusBadRequest, "BadRequest", fmt.Sprintf("invalid %s parameter %q: %s", re.Parameter.In, re.Parameter.Name, shortErr(re.Err, re.Reason)))
		case re.RequestBody != nil && hasSchemaErr:
			return errResp(http.StatusUnprocessableEntity, "RecordInvalid", "invalid request body: "+shortErr(re.Err, re.Reason))
		default:
			return errResp(http.StatusBadRequest, "BadRequest", "invalid request: "+shortErr(re.Err, re.Reason))
		}
	}
	return errResp(http.StatusBadRequest, "BadRequest", shortErr(err, ""))
}

func shortErr(err error, reason string) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		p := strings.Join(se.JSONPointer(), "/")
		if p != "" {
			return fmt.Sprintf("%s at /%s", se.Reason, p)
		}
		return se.Reason
	}
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "\nSchema:"); i >= 0 {
			msg = msg[:i]
		}
		return msg
	}
	return reason
}

// checkAnswer validates the fake's own answer against the document.
func (s *Server) checkAnswer(c *call, res *resp) {
	if res.status == http.StatusNotModified {
		return
	}
	var problems []string
	if res.status < 400 && c.op.Responses != nil && c.op.Responses.Status(res.status) == nil {
		problems = append(problems, fmt.Sprintf("status %d is not documented", res.status))
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: s.requestInput(c),
		Status:                 res.status,
		Header:                 res.header,
		Body:                   io.NopCloser(bytes.NewReader(res.body)),
		Options:                validationOptions,
	}
	if err := openapi3filter.ValidateResponse(c.r.Context(), input); err != nil {
		problems = append(problems, shortErr(err, ""))
	}
	if len(problems) == 0 {
		return
	}
	body := res.body
	if len(body) > 300 {
		body = append(body[:300:300], "..."...)
	}
	s.violation(fmt.Sprintf("%s %s (%s) answered %d: %s; body %s", c.r.Method, c.r.URL.RequestURI(), c.rt.tmpl, res.status, strings.Join(problems, "; "), body))
}

func (s *Server) violation(msg string) {
	s.mu.Lock()
	s.counters.ResponseViolations++
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	if s.cfg.t != nil {
		s.cfg.t.Errorf("cliotest: answer breaks the API document: %s", msg)
		return
	}
	s.logf("cliotest: answer breaks the API document: %s", msg)
}
