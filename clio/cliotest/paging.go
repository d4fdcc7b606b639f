package cliotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxOffsetWindow is where offset pagination stops on Clio.
const maxOffsetWindow = 10000

// listStore lists a collection; keep, when non-nil, selects records.
func (s *Server) listStore(c *call, coll string, keep func(map[string]any) bool) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	if st := s.stores[coll]; st != nil {
		for _, id := range st.sortedIDs() {
			if rec := st.recs[id]; keep == nil || keep(rec) {
				all = append(all, rec)
			}
		}
	}
	return s.listLocked(c, all)
}

type pageToken struct {
	After int64 `json:"a"`
	Desc  bool  `json:"d,omitempty"`
}

// listLocked filters, orders and pages records, Clio style.
func (s *Server) listLocked(c *call, all []map[string]any) *resp {
	q := c.q
	limit := 200
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return errResp(http.StatusBadRequest, "BadRequest", "limit must be between 1 and 200")
		}
		limit = n
	}
	_, hasOffset := q["offset"]
	offset := 0
	if hasOffset {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			return errResp(http.StatusBadRequest, "BadRequest", "offset must be a non-negative integer")
		}
		offset = n
	}
	var pt *pageToken
	if v := q.Get("page_token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		pt = &pageToken{}
		if err != nil || json.Unmarshal(b, pt) != nil {
			return errResp(http.StatusBadRequest, "InvalidPageToken", "page_token is not valid")
		}
		if hasOffset {
			return errResp(http.StatusBadRequest, "BadRequest", "page_token cannot be combined with offset")
		}
	}
	order := q.Get("order")
	orderField, desc := "id", false
	if order != "" {
		f, dir, ok := strings.Cut(strings.TrimSuffix(order, ")"), "(")
		if !ok || (dir != "asc" && dir != "desc") || f == "" {
			return errResp(http.StatusBadRequest, "BadRequest", "order must look like field(asc) or field(desc)")
		}
		orderField, desc = f, dir == "desc"
	}
	cursor := !hasOffset && (pt != nil || (orderField == "id" && order != ""))
	if pt != nil && (orderField != "id" || pt.Desc != desc) {
		return errResp(http.StatusBadRequest, "InvalidPageToken", "page_token does not belong to this order")
	}
	if !cursor && offset+limit > maxOffsetWindow {
		return errResp(http.StatusUnprocessableEntity, "ArgumentError", fmt.Sprintf("offset pagination stops at %d records (offset %d + limit %d); use cursor pagination with order=id(asc)", maxOffsetWindow, offset, limit))
	}
	recs, res := s.filterLocked(q, all)
	if res != nil {
		return res
	}
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		if since, err := parseHTTPDate(ims); err == nil && !modifiedSince(recs, since) {
			return emptyResp(http.StatusNotModified)
		}
	}
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := s.sortKey(recs[i], orderField), s.sortKey(recs[j], orderField)
		cmp := compareValues(a, b)
		if cmp == 0 {
			ai, _ := asInt(recs[i]["id"])
			bi, _ := asInt(recs[j]["id"])
			return ai < bi
		}
		if desc {
			return cmp > 0
		}
		return cmp < 0
	})
	total := len(recs)
	paging := map[string]any{}
	var page []map[string]any
	if cursor {
		start := 0
		if pt != nil {
			for start < len(recs) {
				id, _ := asInt(recs[start]["id"])
				if (!desc && id > pt.After) || (desc && id < pt.After) {
					break
				}
				start++
			}
		}
		end := min(start+limit, len(recs))
		page = recs[start:end]
		if end < len(recs) && len(page) > 0 {
			last, _ := asInt(page[len(page)-1]["id"])
			b, _ := json.Marshal(pageToken{After: last, Desc: desc})
			paging["next"] = s.pageURL(c, map[string]string{"page_token": base64.RawURLEncoding.EncodeToString(b)}, "offset")
		}
	} else {
		start := min(offset, len(recs))
		end := min(offset+limit, len(recs))
		page = recs[start:end]
		if end < len(recs) {
			paging["next"] = s.pageURL(c, map[string]string{"offset": strconv.Itoa(end)}, "page_token")
		}
		if offset > 0 {
			paging["previous"] = s.pageURL(c, map[string]string{"offset": strconv.Itoa(max(0, offset-limit))}, "page_token")
		}
	}
	data := make([]any, 0, len(page))
	for _, rec := range page {
		data = append(data, s.project(rec, c.fields, c.schema, false))
	}
	return jsonResp(http.StatusOK, map[string]any{"data": data, "meta": map[string]any{"paging": paging, "records": total}})
}

// pageURL builds a full paging URL on the host the request came to.
func (s *Server) pageURL(c *call, set map[string]string, drop string) string {
	q := url.Values{}
	for k, v := range c.q {
		q[k] = append([]string(nil), v...)
	}
	q.Del(drop)
	for k, v := range set {
		q.Set(k, v)
	}
	base := s.cfg.nextURLBase
	if base == "" {
		scheme := "http"
		if c.r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.r.Host
	}
	return strings.TrimSuffix(base, "/") + c.r.URL.Path + "?" + q.Encode()
}

// modifiedSince reports whether any record was updated after t.
func modifiedSince(recs []map[string]any, t time.Time) bool {
	for _, rec := range recs {
		upd, err := time.Parse(time.RFC3339, asString(rec["updated_at"]))
		if err != nil || upd.After(t) {
			return true
		}
	}
	return false
}
