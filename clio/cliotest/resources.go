package cliotest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RealResources lists the collections with hand-written behaviour on top of the generic,
// document-driven create/read/update/delete/list.
var RealResources = []string{
	"contacts", "matters", "activities", "tasks", "calendar_entries", "notes", "folders",
	"documents", "webhooks", "users",
}

// SeedUserID is the id of the user every token belongs to (who_am_i).
const SeedUserID int64 = 1

func (s *Server) seedDefaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID = SeedUserID
	s.insertLocked("users", map[string]any{
		"id": SeedUserID, "first_name": "Alex", "last_name": "Lawyer", "name": "Alex Lawyer",
		"email": "alex.lawyer@example.com", "enabled": true, "account_owner": true,
		"initials": "AL", "time_zone": "Eastern Time (US & Canada)", "rate": 300.0,
		"subscription_type": "Attorney", "roles": []any{"Admin"}, "clio_connect": false,
		"court_rules_default_attendee": false, "phone_number": "+1 555 0100",
	})
	s.insertLocked("folders", map[string]any{"name": "Documents", "root": true})
}

func (s *Server) today() string { return s.now().Format("2006-01-02") }

func invalid(format string, args ...any) *resp {
	return errResp(http.StatusUnprocessableEntity, "RecordInvalid", fmt.Sprintf(format, args...))
}

var refCollections = map[string]bool{"contacts": true, "matters": true, "users": true, "folders": true, "documents": true, "practice_areas": true}

// checkRefsLocked refuses references to records the fake should hold but does not.
func (s *Server) checkRefsLocked(rec map[string]any) *resp {
	for k, v := range rec {
		ref, ok := v.(map[string]any)
		if !ok {
			continue
		}
		id, ok := asInt(ref["id"])
		if !ok {
			continue
		}
		coll := refStores[k]
		if t, ok := ref["type"].(string); ok && t != "" && k == "parent" {
			coll = snakePlural(t)
		}
		if !refCollections[coll] {
			continue
		}
		if s.getLocked(coll, id) == nil {
			return invalid("%s: no %s record with id %d", k, coll, id)
		}
	}
	return nil
}

// applyCreateDefaults fills in what Clio computes when a record is created.
func (s *Server) applyCreateDefaults(coll string, rec map[string]any) (res *resp) {
	setDefault := func(k string, v any) {
		if _, ok := rec[k]; !ok {
			rec[k] = v
		}
	}
	switch coll {
	case "contacts":
		if _, ok := rec["type"]; !ok {
			if rec["first_name"] != nil || rec["last_name"] != nil {
				rec["type"] = "Person"
			} else {
				rec["type"] = "Company"
			}
		}
		contactNames(rec)
		if rec["name"] == nil || rec["name"] == "" {
			return invalid("name can't be blank")
		}
	case "matters":
		defer func() {
			// Checked last, so that Insert (which ignores the result) still gets defaults.
			if res == nil && rec["description"] == nil {
				res = invalid("description can't be blank")
			}
			if _, ok := refID(rec["client"]); res == nil && !ok {
				res = invalid("client can't be blank")
			}
		}()
		num := int64(len(s.storeLocked("matters").recs) + 1)
		setDefault("number", num)
		setDefault("status", "Open")
		setDefault("billable", true)
		setDefault("open_date", s.today())
		setDefault("responsible_attorney", map[string]any{"id": s.userID})
		// Current Clio's matters carry responsible_staff (platform guide).
		setDefault("responsible_staff", map[string]any{"id": s.userID})
		suffix := "Matter"
		if id, ok := refID(rec["client"]); ok {
			if cl := s.getLocked("contacts", id); cl != nil {
				suffix = asString(cl["last_name"])
				if suffix == "" {
					suffix = asString(cl["name"])
				}
			}
		}
		n, _ := asInt(rec["number"])
		setDefault("display_number", fmt.Sprintf("%05d-%s", n, suffix))
		matterDates(s, nil, rec)
	case "activities":
		setDefault("type", "TimeEntry")
		setDefault("date", s.today())
		setDefault("user", map[string]any{"id": s.userID})
		setDefault("billed", false)
		setDefault("on_bill", false)
		if rec["type"] == "TimeEntry" {
			setDefault("price", 300.0)
		}
		activityTotal(rec)
	case "tasks":
		if rec["name"] == nil {
			return invalid("name can't be blank")
		}
		setDefault("status", "pending")
		setDefault("priority", "Normal")
		setDefault("is_private", false)
		setDefault("assignee", map[string]any{"id": s.userID, "type": "User"})
		taskDates(s, rec)
	case "calendar_entries":
		setDefault("all_day", false)
		if res := calendarTimes(rec); res != nil {
			return res
		}
	case "notes":
		switch {
		case rec["matter"] != nil:
			setDefault("type", "Matter")
		case rec["contact"] != nil:
			setDefault("type", "Contact")
		default:
			return invalid("a note needs a matter or a contact")
		}
		setDefault("date", s.today())
		setDefault("author", map[string]any{"id": s.userID})
	case "folders":
		if rec["name"] == nil {
			return invalid("name can't be blank")
		}
		if rec["parent"] == nil {
			rec["parent"] = map[string]any{"id": int64(1), "type": "Folder"}
		}
		setDefault("root", false)
	}
	return nil
}

// applyUpdateRules keeps derived fields right after an update.
func (s *Server) applyUpdateRules(coll string, old, rec map[string]any) *resp {
	switch coll {
	case "contacts":
		if rec["type"] == "Person" && old["name"] == rec["name"] {
			delete(rec, "name")
		}
		contactNames(rec)
	case "matters":
		matterDates(s, old, rec)
	case "activities":
		activityTotal(rec)
	case "tasks":
		taskDates(s, rec)
	case "calendar_entries":
		return calendarTimes(rec)
	case "users":
		return errResp(http.StatusForbidden, "Forbidden", "users cannot be changed through this fake")
	}
	return nil
}

func contactNames(rec map[string]any) {
	if rec["type"] == "Person" {
		first, last := asString(rec["first_name"]), asString(rec["last_name"])
		if rec["name"] == nil || rec["name"] == "" {
			rec["name"] = strings.TrimSpace(first + " " + last)
		}
		var ini string
		for _, p := range []string{first, last} {
			if p != "" {
				ini += strings.ToUpper(p[:1])
			}
		}
		rec["initials"] = ini
	}
	if arr, ok := rec["email_addresses"].([]any); ok {
		for i, it := range arr {
			if m, ok := it.(map[string]any); ok {
				if p, _ := asBool(m["primary"]); p || i == 0 {
					rec["primary_email_address"] = asString(m["address"])
					if p {
						break
					}
				}
			}
		}
	}
	if arr, ok := rec["phone_numbers"].([]any); ok && len(arr) > 0 {
		if m, ok := arr[0].(map[string]any); ok {
			rec["primary_phone_number"] = asString(m["number"])
		}
	}
}

func matterDates(s *Server, old, rec map[string]any) {
	if old != nil && old["status"] == rec["status"] {
		return
	}
	// A date the request gives is kept; Clio fills in today's only when it is missing.
	key := map[any]string{"Closed": "close_date", "Pending": "pending_date"}[rec["status"]]
	if key != "" && (rec[key] == nil || (old != nil && old[key] == rec[key])) {
		rec[key] = s.today()
	}
}

func activityTotal(rec map[string]any) {
	price, pok := asNumber(rec["price"])
	qty, qok := asNumber(rec["quantity"])
	if !pok || !qok {
		return
	}
	if rec["type"] == "TimeEntry" {
		// Since 4.0.4 quantity is in seconds.
		rec["total"] = price * qty / 3600
	} else {
		rec["total"] = price * qty
	}
}

func taskDates(s *Server, rec map[string]any) {
	if rec["status"] == "complete" {
		if rec["completed_at"] == nil {
			rec["completed_at"] = s.now().Format(time.RFC3339)
		}
	} else {
		delete(rec, "completed_at")
	}
}

func calendarTimes(rec map[string]any) *resp {
	start, err1 := time.Parse(time.RFC3339, asString(rec["start_at"]))
	end, err2 := time.Parse(time.RFC3339, asString(rec["end_at"]))
	if err1 == nil && err2 == nil && end.Before(start) {
		return invalid("end_at must not be before start_at")
	}
	return nil
}
