package cliotest

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var reservedParams = map[string]bool{
	"fields": true, "limit": true, "page_token": true, "order": true, "offset": true,
	"ids[]": true, "ids": true, "created_since": true, "updated_since": true, "query": true,
	"custom_action_nonce": true, "id": true,
}

// filterLocked applies ids[], created_since, updated_since, query and equality on any
// other parameter that names a field (x_id matches the reference x).
func (s *Server) filterLocked(q url.Values, all []map[string]any) ([]map[string]any, *resp) {
	ids := map[int64]bool{}
	for _, k := range []string{"ids[]", "ids"} {
		for _, v := range q[k] {
			for _, part := range strings.Split(v, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
				if err != nil {
					return nil, errResp(http.StatusBadRequest, "BadRequest", "ids[] must be integers")
				}
				ids[n] = true
			}
		}
	}
	var since = map[string]time.Time{}
	for _, k := range []string{"created_since", "updated_since"} {
		if v := q.Get(k); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, errResp(http.StatusBadRequest, "BadRequest", k+" must be an RFC 3339 time")
			}
			since[strings.TrimSuffix(k, "_since")+"_at"] = t
		}
	}
	query := strings.ToLower(q.Get("query"))
	out := make([]map[string]any, 0, len(all))
next:
	for _, rec := range all {
		if len(ids) > 0 {
			id, _ := asInt(rec["id"])
			if !ids[id] {
				continue
			}
		}
		for k, t := range since {
			rt, err := time.Parse(time.RFC3339, asString(rec[k]))
			if err != nil || rt.Before(t) {
				continue next
			}
		}
		if query != "" && !recordContains(rec, query) {
			continue
		}
		for k, vs := range q {
			if reservedParams[k] || len(vs) == 0 || vs[0] == "" {
				continue
			}
			if base, ok := strings.CutSuffix(k, "[]"); ok {
				// open_date[]=>=2024-01-01: every condition must hold (Clio's text).
				// A record without the field meets no comparison (an open matter has no
				// close_date); a plain value for a field the record lacks is not a filter
				// of this kind (statuses[] on tasks).
				v := asString(rec[base])
				for _, cond := range vs {
					if (v != "" || operatorRE.FindStringSubmatch(cond)[1] != "") && !compareCondition(v, cond) {
						continue next
					}
				}
				continue
			}
			if id, ok := customFieldKey(k); ok {
				if !customFieldMatches(rec, id, vs) {
					continue next
				}
				continue
			}
			want := vs[0]
			if v, ok := rec[k]; ok {
				if _, isMap := v.(map[string]any); !isMap {
					if _, isArr := v.([]any); !isArr && !matchesAny(asString(v), want) {
						continue next
					}
				}
				continue
			}
			if base, ok := strings.CutSuffix(k, "_id"); ok {
				if ref, ok := rec[base].(map[string]any); ok {
					if asString(ref["id"]) != want {
						continue next
					}
				}
			}
		}
		out = append(out, rec)
	}
	return out, nil
}

func matchesAny(have, want string) bool {
	for _, w := range strings.Split(want, ",") {
		if strings.EqualFold(strings.TrimSpace(w), have) {
			return true
		}
	}
	return false
}

func recordContains(rec map[string]any, q string) bool {
	for k, v := range rec {
		if strings.HasPrefix(k, "_") {
			continue
		}
		if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

func (s *Server) sortKey(rec map[string]any, field string) any {
	var v any = rec
	for _, part := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
		if ref, ok := v.(map[string]any); ok {
			v = s.resolve(part, ref)
		}
	}
	return v
}

func compareValues(a, b any) int {
	ai, aok := asNumber(a)
	bi, bok := asNumber(b)
	if aok && bok {
		switch {
		case ai < bi:
			return -1
		case ai > bi:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(asString(a)), strings.ToLower(asString(b)))
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// operatorRE splits a filter condition into its operator and value (">=2024-01-01").
var operatorRE = regexp.MustCompile(`^(<=|>=|<|>|=)?(.*)$`)

// compareCondition says whether have meets a condition such as ">=2024-01-01" or "=5".
// Numbers compare as numbers, anything else as text; a date-time compares with a date by
// its day. A missing value (an open matter's close_date) meets no condition.
func compareCondition(have, cond string) bool {
	if have == "" {
		return false
	}
	m := operatorRE.FindStringSubmatch(cond)
	op, want := m[1], m[2]
	var c int
	hn, herr := strconv.ParseFloat(have, 64)
	wn, werr := strconv.ParseFloat(want, 64)
	switch {
	case herr == nil && werr == nil:
		c = compareValues(hn, wn)
	default:
		if len(want) == len("2006-01-02") && len(have) > len(want) && have[len(want)] == 'T' {
			have = have[:len(want)]
		}
		c = strings.Compare(strings.ToLower(have), strings.ToLower(want))
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return c == 0
}

// customFieldKey reads custom_field_values[12] as the custom field id 12.
func customFieldKey(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, "custom_field_values[")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(strings.TrimSuffix(rest, "[]"), "]")
	return id, ok && id != ""
}

// customFieldMatches says whether a record has a value for the custom field that meets
// every condition.
func customFieldMatches(rec map[string]any, id string, conds []string) bool {
	vals, _ := rec["custom_field_values"].([]any)
	for _, v := range vals {
		cv, _ := v.(map[string]any)
		field, _ := cv["custom_field"].(map[string]any)
		if field == nil || asString(field["id"]) != id {
			continue
		}
		ok := true
		for _, cond := range conds {
			ok = ok && compareCondition(asString(cv["value"]), cond)
		}
		if ok {
			return true
		}
	}
	return false
}
