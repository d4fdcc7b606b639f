package cliotest

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

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
