package clio

import (
	"net/http"
	"strings"
)

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
		// The literal head of the template (up to its first {param}) turns most
		// operations away before the segment walk.
		head, _, _ := strings.Cut(r.path, "{")
		if r.method != req.Method || !strings.HasPrefix(path, head) || !matchTemplate(r.path, path) {
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
// It runs on every request, so it walks both strings without allocating.
func matchTemplate(tmpl, path string) bool {
	for {
		var t, p string
		var tmore, pmore bool
		t, tmpl, tmore = strings.Cut(tmpl, "/")
		p, path, pmore = strings.Cut(path, "/")
		if !segmentMatches(t, p) || tmore != pmore {
			return false
		}
		if !tmore {
			return true
		}
	}
}

// segmentMatches compares one segment: literally, or around a {param}.
func segmentMatches(t, p string) bool {
	open := strings.IndexByte(t, '{')
	if open < 0 {
		return t == p
	}
	end := strings.IndexByte(t, '}')
	if end < open {
		return false
	}
	prefix, suffix := t[:open], t[end+1:]
	return len(p) > len(prefix)+len(suffix) && strings.HasPrefix(p, prefix) && strings.HasSuffix(p, suffix)
}
