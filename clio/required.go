package clio

import (
	"net/http"
	"strings"
)

// requiredParam is one operation's required query and header parameters
// (clio/required_gen.go, written from the document by cmd/servicegen).
type requiredParam struct {
	method, path  string
	query, header []string
}

// checkRequired refuses a request that lacks a parameter Clio requires, with an
// *InputError naming it, before it is sent. The generated client leaves out the
// whole query when params is nil (c.DocumentVersions.List(ctx, id, nil)), and Clio
// would answer 400 after a round trip and a unit of the rate limit.
func checkRequired(req *http.Request) error {
	path := req.URL.Path
	if i := strings.Index(path, "/api/v4/"); i > 0 {
		path = path[i:] // a base URL with a path prefix
	}
	for i := range requiredParams {
		r := &requiredParams[i]
		if r.method != req.Method || !matchTemplate(r.path, path) {
			continue
		}
		q := req.URL.Query()
		for _, name := range r.query {
			if !q.Has(name) {
				return &InputError{Field: name, Reason: "is required by " + r.method + " " + r.path + " (query parameter); pass it in the params"}
			}
		}
		for _, name := range r.header {
			if req.Header.Get(name) == "" {
				return &InputError{Field: name, Reason: "is required by " + r.method + " " + r.path + " (header)"}
			}
		}
		return nil
	}
	return nil
}

// matchTemplate says whether path fits a path template of the document, where each
// {param} stands for one non-empty segment (with the template's suffix, e.g. ".json").
func matchTemplate(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		open := strings.IndexByte(t, '{')
		if open < 0 {
			if t != ps[i] {
				return false
			}
			continue
		}
		end := strings.IndexByte(t, '}')
		prefix, suffix := t[:open], t[end+1:]
		p := ps[i]
		if len(p) <= len(prefix)+len(suffix) || !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) {
			return false
		}
	}
	return true
}
