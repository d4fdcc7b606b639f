package cliotest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// requiredQuery builds a query string with a plausible value for each required parameter.
func requiredQuery(op *openapi3.Operation) string {
	q := url.Values{}
	for _, p := range op.Parameters {
		if p.Value == nil || !p.Value.Required || p.Value.In != "query" || p.Value.Schema == nil {
			continue
		}
		sch := p.Value.Schema.Value
		if isType(sch, "array") && sch.Items != nil {
			sch = sch.Items.Value
		}
		v := "x"
		switch {
		case len(sch.Enum) > 0:
			v = asString(sch.Enum[0])
		case isType(sch, "integer"), isType(sch, "number"):
			v = "1"
		case isType(sch, "boolean"):
			v = "true"
		case sch.Format == "date-time":
			v = "2026-01-02T03:04:05Z"
		case sch.Format == "date":
			v = "2026-01-02"
		}
		q.Set(p.Value.Name, v)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// TestSweepDocument calls every operation of api/openapi.yaml through the generic layer:
// lists, creates with an empty body, shows, updates and deletes, and checks that every
// answer conforms to the document.
func TestSweepDocument(t *testing.T) {
	f := newFixture(t, WithInsecureWebhooks())
	sp := f.s.sp
	created := map[string]int64{}
	// Create first, so that shows, updates and sub-resources find records.
	for _, rt := range sp.routes {
		if rt.kind != kindCollection || rt.item.Post == nil || !sp.collections[rt.store] {
			continue
		}
		a := f.do("POST", rt.tmpl, data(map[string]any{}))
		switch a.status {
		case http.StatusCreated:
			created[rt.store] = num(a.data()["id"])
		case http.StatusUnprocessableEntity:
			// real behaviour that needs fields
		default:
			t.Errorf("POST %s: %d %s", rt.tmpl, a.status, a.raw)
		}
	}
	for _, rt := range sp.routes {
		for method, op := range rt.item.Operations() {
			if op == nil || method == http.MethodPost && rt.kind == kindCollection {
				continue
			}
			p := rt.tmpl
			for _, s := range rt.segs {
				if s.param != "" {
					id := created[rt.store]
					if rt.kind == kindSub {
						id = created[rt.parentStore]
					}
					if id == 0 {
						id = 999999
					}
					p = strings.Replace(p, "{"+s.param+"}", itoa(id), 1)
				}
			}
			if method == http.MethodDelete {
				continue
			}
			var body any
			if methodHasBody(method) {
				body = data(map[string]any{})
			}
			p += requiredQuery(op)
			hdr := []string{}
			if strings.HasSuffix(p, "/activate.json") {
				hdr = []string{"X-Hook-Secret", "nope"}
			}
			a := f.do(method, p, body, hdr...)
			if a.status >= 500 || a.status == http.StatusBadRequest || a.status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %s", method, p, a.status, a.raw)
			}
		}
	}
	for _, rt := range sp.routes {
		if rt.kind == kindRecord && rt.item.Delete != nil && created[rt.store] != 0 {
			p := strings.Replace(rt.tmpl, "{"+rt.idParam+"}", itoa(created[rt.store]), 1)
			if a := f.do("DELETE", p, nil); a.status != http.StatusNoContent && a.status != http.StatusOK {
				t.Errorf("DELETE %s: %d %s", p, a.status, a.raw)
			}
		}
	}
	t.Logf("created %d kinds of records; %d requests", len(created), f.s.Counters().Requests)
}
