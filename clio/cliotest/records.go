package cliotest

import (
	"net/http"
	"strings"
	"time"
)

// matterEvents are the webhook events of a matter's status changes.
var matterEvents = map[string]string{"Open": "matter_opened", "Pending": "matter_pended", "Closed": "matter_closed"}

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
	rec, res := s.writableLocked(c, coll, id)
	if res != nil {
		return res
	}
	return s.applyUpdateLocked(c, coll, rec, c.data)
}

// writableLocked returns the record a write may change: 404 when there is none, 412 when
// the request's If-Match names another version. s.mu is held.
func (s *Server) writableLocked(c *call, coll string, id int64) (map[string]any, *resp) {
	rec := s.getLocked(coll, id)
	if rec == nil {
		return nil, notFound(coll, id)
	}
	if res := preconditionFailed(c, rec); res != nil {
		return nil, res
	}
	return rec, nil
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
	rec, res := s.writableLocked(c, coll, id)
	if res != nil {
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
