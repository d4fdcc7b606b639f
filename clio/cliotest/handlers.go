package cliotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// matterEvents are the webhook events of a matter's status changes.
var matterEvents = map[string]string{"Open": "matter_opened", "Pending": "matter_pended", "Closed": "matter_closed"}

// maxOffsetWindow is where offset pagination stops on Clio.
const maxOffsetWindow = 10000

// dispatch runs the generic, document-driven behaviour of a route.
func (s *Server) dispatch(c *call) *resp {
	rt := c.rt
	switch rt.kind {
	case kindRecord:
		id, err := strconv.ParseInt(c.params[rt.idParam], 10, 64)
		if err != nil {
			return errResp(http.StatusNotFound, "RecordNotFound", "no record "+c.params[rt.idParam])
		}
		switch c.r.Method {
		case http.MethodGet, http.MethodHead:
			return s.show(c, rt.store, id)
		case http.MethodPatch, http.MethodPut:
			return s.update(c, rt.store, id)
		case http.MethodDelete:
			return s.destroy(c, rt.store, id)
		}
	case kindCollection:
		if s.sp.collections[rt.store] {
			switch c.r.Method {
			case http.MethodGet, http.MethodHead:
				return s.listStore(c, rt.store, nil)
			case http.MethodPost:
				return s.create(c, rt.store)
			}
			break
		}
		if rt.store == "users/who_am_i" {
			return s.whoAmI(c)
		}
		if parent := path.Dir(rt.store); parent != "." && s.sp.collections[parent] {
			return s.collectionAction(c, parent)
		}
		return s.singleton(c, rt.store)
	case kindSub:
		return s.subResource(c)
	}
	return errResp(http.StatusMethodNotAllowed, "MethodNotAllowed", c.r.Method+" is not supported on "+c.r.URL.Path)
}

// extraHandler serves routes the fake knows even when the document lacks them.
func (s *Server) extraHandler(r *http.Request) func(*call) *resp {
	p := r.URL.Path
	if r.Method == http.MethodPut && strings.HasPrefix(p, apiPrefix+"webhooks/") && strings.HasSuffix(p, "/activate.json") {
		id := strings.TrimSuffix(strings.TrimPrefix(p, apiPrefix+"webhooks/"), "/activate.json")
		return func(c *call) *resp {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				return errResp(http.StatusNotFound, "RecordNotFound", "no webhook "+id)
			}
			return s.activateWebhook(c, n)
		}
	}
	return nil
}

func (s *Server) success(c *call, fallback int) int {
	if code, _ := successResponse(c.op); code != 0 {
		return code
	}
	return fallback
}

func (s *Server) dataResp(status int, data any) *resp {
	return jsonResp(status, map[string]any{"data": data})
}

func notFound(coll string, id int64) *resp {
	return errResp(http.StatusNotFound, "RecordNotFound", fmt.Sprintf("no %s record with id %d", coll, id))
}

func (s *Server) show(c *call, coll string, id int64) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked(coll, id)
	if rec == nil {
		return notFound(coll, id)
	}
	if res := s.notModified(c, rec); res != nil {
		return res
	}
	res := s.dataResp(http.StatusOK, s.project(rec, c.fields, c.schema, false))
	res.header.Set("ETag", asString(rec["etag"]))
	return res
}

// notModified answers 304 to IF-NONE-MATCH matching the record's etag, or to an
// IF-MODIFIED-SINCE not older than the last update.
func (s *Server) notModified(c *call, rec map[string]any) *resp {
	etag := asString(rec["etag"])
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagListMatches(inm, etag) {
		res := emptyResp(http.StatusNotModified)
		res.header.Set("ETag", etag)
		return res
	}
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		since, err := parseHTTPDate(ims)
		upd, err2 := time.Parse(time.RFC3339, asString(rec["updated_at"]))
		if err == nil && err2 == nil && !upd.After(since) {
			return emptyResp(http.StatusNotModified)
		}
	}
	return nil
}

func parseHTTPDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return http.ParseTime(v)
}

func normETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

func etagListMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == "*" || normETag(e) == normETag(etag) {
			return true
		}
	}
	return false
}

// preconditionFailed answers 412 when IF-MATCH does not match the record's etag.
func preconditionFailed(c *call, rec map[string]any) *resp {
	im := c.r.Header.Get("If-Match")
	if im == "" || etagListMatches(im, asString(rec["etag"])) {
		return nil
	}
	return errResp(http.StatusPreconditionFailed, "PreconditionFailed", "the record was changed since the given etag ("+im+")")
}

var readOnlyKeys = map[string]bool{"id": true, "etag": true, "created_at": true, "updated_at": true}

func (s *Server) create(c *call, coll string) *resp {
	switch coll {
	case "documents":
		return s.createDocument(c)
	case "webhooks":
		return s.createWebhook(c)
	}
	rec := map[string]any{}
	for k, v := range c.data {
		if !readOnlyKeys[k] && !strings.HasPrefix(k, "_") {
			rec[k] = copyValue(v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if res := s.checkRefsLocked(rec); res != nil {
		return res
	}
	if res := s.applyCreateDefaults(coll, rec); res != nil {
		return res
	}
	s.insertLocked(coll, rec)
	s.queueEventLocked(c, coll, "created", rec, nil)
	return s.dataResp(http.StatusCreated, s.project(rec, c.fields, c.schema, false))
}

func (s *Server) update(c *call, coll string, id int64) *resp {
	switch coll {
	case "documents":
		return s.updateDocument(c, id)
	case "webhooks":
		return s.updateWebhook(c, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked(coll, id)
	if rec == nil {
		return notFound(coll, id)
	}
	if res := preconditionFailed(c, rec); res != nil {
		return res
	}
	return s.applyUpdateLocked(c, coll, rec, c.data)
}

func (s *Server) applyUpdateLocked(c *call, coll string, rec, changes map[string]any) *resp {
	old := deepCopy(rec)
	next := deepCopy(rec)
	for k, v := range changes {
		if !readOnlyKeys[k] && !strings.HasPrefix(k, "_") {
			next[k] = copyValue(v)
		}
	}
	if res := s.checkRefsLocked(next); res != nil {
		return res
	}
	if res := s.applyUpdateRules(coll, old, next); res != nil {
		return res
	}
	for k := range rec {
		delete(rec, k)
	}
	for k, v := range next {
		rec[k] = v
	}
	rec["updated_at"] = s.now().Format(time.RFC3339)
	s.assignSubIDs(rec)
	setETag(rec)
	s.queueEventLocked(c, coll, "updated", rec, old)
	if coll == "matters" && old["status"] != rec["status"] {
		if ev := matterEvents[asString(rec["status"])]; ev != "" {
			s.queueEventLocked(c, coll, ev, rec, old)
		}
	}
	return s.dataResp(http.StatusOK, s.project(rec, c.fields, c.schema, false))
}

func (s *Server) destroy(c *call, coll string, id int64) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked(coll, id)
	if rec == nil {
		return notFound(coll, id)
	}
	if res := preconditionFailed(c, rec); res != nil {
		return res
	}
	delete(s.stores[coll].recs, id)
	if coll == "webhooks" {
		delete(s.hooks, id)
	}
	s.queueEventLocked(c, coll, "deleted", rec, nil)
	// Clio answers 204; where the document says otherwise (a 2xx with a body and no
	// 204), follow the document and answer the deleted record.
	if code := s.success(c, http.StatusNoContent); code != http.StatusNoContent && c.schema != nil {
		return s.dataResp(code, s.project(rec, c.fields, c.schema, false))
	}
	return emptyResp(http.StatusNoContent)
}

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

func (s *Server) whoAmI(c *call) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.getLocked("users", c.tok.userID)
	if u == nil {
		return errResp(http.StatusNotFound, "RecordNotFound", "the token's user is gone")
	}
	return s.dataResp(http.StatusOK, s.project(u, c.fields, c.schema, false))
}

// collectionAction serves paths like folders/list.json or billable_matters/ids.json.
func (s *Server) collectionAction(c *call, parent string) *resp {
	if c.r.Method != http.MethodGet {
		return s.dataResp(s.success(c, http.StatusOK), map[string]any{})
	}
	if !c.list {
		return s.dataResp(s.success(c, http.StatusOK), map[string]any{})
	}
	if c.schema != nil && (isType(c.schema, "integer") || isType(c.schema, "number")) {
		s.mu.Lock()
		defer s.mu.Unlock()
		ids := []any{}
		if st := s.stores[parent]; st != nil {
			for _, id := range st.sortedIDs() {
				ids = append(ids, id)
			}
		}
		return jsonResp(http.StatusOK, map[string]any{"data": ids, "meta": map[string]any{"paging": map[string]any{}, "records": len(ids)}})
	}
	return s.listStore(c, parent, nil)
}

// singleton serves a resource that exists once per account (timer.json, settings/billing.json).
func (s *Server) singleton(c *call, key string) *resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.singletons[key]
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		if rec == nil {
			rec = map[string]any{"id": int64(1), "created_at": s.now().Format(time.RFC3339), "updated_at": s.now().Format(time.RFC3339)}
			setETag(rec)
			s.singletons[key] = rec
		}
		if res := s.notModified(c, rec); res != nil {
			return res
		}
		return s.dataResp(http.StatusOK, s.project(rec, c.fields, c.schema, false))
	case http.MethodDelete:
		delete(s.singletons, key)
		return emptyResp(http.StatusNoContent)
	default:
		if rec == nil || c.r.Method == http.MethodPost {
			rec = map[string]any{"id": int64(1), "created_at": s.now().Format(time.RFC3339)}
		}
		for k, v := range c.data {
			if !readOnlyKeys[k] {
				rec[k] = copyValue(v)
			}
		}
		rec["updated_at"] = s.now().Format(time.RFC3339)
		setETag(rec)
		s.singletons[key] = rec
		status := http.StatusOK
		if c.r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		return s.dataResp(s.success(c, status), s.project(rec, c.fields, c.schema, false))
	}
}

// subResource serves /{parent}/{id}/{sub}.json paths.
func (s *Server) subResource(c *call) *resp {
	rt := c.rt
	pid, err := strconv.ParseInt(c.params[rt.parentParam], 10, 64)
	if err != nil {
		return errResp(http.StatusNotFound, "RecordNotFound", "no record "+c.params[rt.parentParam])
	}
	switch {
	case rt.sub == "download":
		return s.download(c, rt.parentStore, pid)
	case rt.parentStore == "webhooks" && rt.sub == "activate":
		return s.activateWebhook(c, pid)
	case rt.parentStore == "documents" && rt.sub == "versions":
		return s.documentVersions(c, pid)
	}
	s.mu.Lock()
	parent := s.getLocked(rt.parentStore, pid)
	if parent == nil {
		s.mu.Unlock()
		return notFound(rt.parentStore, pid)
	}
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		defer s.mu.Unlock()
		if c.list {
			if arr, ok := parent[rt.sub].([]any); ok {
				var items []map[string]any
				for _, it := range arr {
					if m, ok := it.(map[string]any); ok {
						items = append(items, m)
					}
				}
				return s.listLocked(c, items)
			}
			var items []map[string]any
			if st := s.stores[rt.store]; st != nil {
				for _, id := range st.sortedIDs() {
					if p, _ := asInt(st.recs[id]["_parent"]); p == pid {
						items = append(items, st.recs[id])
					}
				}
			}
			return s.listLocked(c, items)
		}
		target := parent
		if ref, ok := parent[rt.sub].(map[string]any); ok {
			target = s.resolve(rt.sub, ref)
		}
		return s.dataResp(http.StatusOK, s.project(target, c.fields, c.schema, false))
	case http.MethodPost:
		defer s.mu.Unlock()
		if rt.sub == "copy" {
			rec := deepCopy(parent)
			delete(rec, "id")
			delete(rec, "created_at")
			for k, v := range c.data {
				rec[k] = copyValue(v)
			}
			s.insertLocked(rt.parentStore, rec)
			s.queueEventLocked(c, rt.parentStore, "created", rec, nil)
			return s.dataResp(s.success(c, http.StatusCreated), s.project(rec, c.fields, c.schema, false))
		}
		rec := deepCopy(c.data)
		rec["_parent"] = pid
		s.insertLocked(rt.store, rec)
		return s.dataResp(s.success(c, http.StatusCreated), s.project(rec, c.fields, c.schema, false))
	case http.MethodPatch, http.MethodPut:
		defer s.mu.Unlock()
		if res := preconditionFailed(c, parent); res != nil {
			return res
		}
		return s.applyUpdateLocked(c, rt.parentStore, parent, c.data)
	default:
		s.mu.Unlock()
		return emptyResp(http.StatusNoContent)
	}
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
