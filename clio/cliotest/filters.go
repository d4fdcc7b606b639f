package cliotest

import (
	"net/http"
	"net/url"
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
