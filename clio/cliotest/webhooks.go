package cliotest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// webhookModels are Clio's webhook models, in the order of their numeric ids (1..10),
// with the collection each one watches.
var webhookModels = []struct{ name, coll string }{
	{"matter", "matters"}, {"activity", "activities"}, {"bill", "bills"},
	{"calendar_entry", "calendar_entries"}, {"communication", "communications"},
	{"contact", "contacts"}, {"task", "tasks"}, {"document", "documents"},
	{"folder", "folders"}, {"clio_payments_payment", "clio_payments/payments"},
}

var matterEventNames = map[string]bool{"matter_opened": true, "matter_pended": true, "matter_closed": true}

const (
	webhookDefaultLife = 3 * 24 * time.Hour
	webhookMaxLife     = 31 * 24 * time.Hour
)

type hookState struct {
	secret string
	seen   map[int64]bool
}

type hookEvent struct {
	webhookID int64
	event     string
	url       string
	secret    string
	body      []byte
}

// Delivery is one webhook event POST the server sent.
type Delivery struct {
	WebhookID int64
	Event     string // created, updated, deleted, or matter_opened/matter_pended/matter_closed
	URL       string
	Body      []byte
	Signature string // the X-Hook-Signature header: lowercase hex HMAC-SHA256 of Body
	Status    int    // the receiver's status; 0 when the request failed
	Err       error
}

// Deliveries returns every webhook event delivery attempted so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Sign returns the X-Hook-Signature the server puts on body for a webhook secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) checkHookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("url %q is not a valid URL", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" && s.cfg.insecureWebhooks {
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("url must use the https scheme, got %q", raw)
}

func modelName(v any) (string, bool) {
	if n, ok := asInt(v); ok && n >= 1 && int(n) <= len(webhookModels) {
		if _, isStr := v.(string); !isStr {
			return webhookModels[n-1].name, true
		}
	}
	for _, m := range webhookModels {
		if v == m.name {
			return m.name, true
		}
	}
	return "", false
}

func modelColl(name string) string {
	for _, m := range webhookModels {
		if m.name == name {
			return m.coll
		}
	}
	return ""
}

// recordSchema returns the schema of one record of a collection, from its show operation.
func (s *Server) recordSchema(coll string) *openapi3.Schema {
	for _, rt := range s.sp.routes {
		if rt.kind == kindRecord && rt.store == coll && rt.item.Get != nil {
			sch, _ := dataSchema(rt.item.Get)
			return sch
		}
	}
	return nil
}

func (s *Server) hookFields(model, fields string) ([]field, error) {
	if fields == "" {
		return defaultFields, nil
	}
	if len(fields) > 1000 {
		return nil, fmt.Errorf("fields is longer than 1000 characters")
	}
	fs, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	return fs, checkFields(fs, s.recordSchema(modelColl(model)))
}

func (s *Server) hookExpiry(v any) (string, error) {
	now := s.now()
	if v == nil || v == "" {
		return now.Add(webhookDefaultLife).Format(time.RFC3339), nil
	}
	t, err := time.Parse(time.RFC3339, asString(v))
	if err != nil {
		return "", fmt.Errorf("expires_at must be an RFC 3339 time")
	}
	if !t.After(now) {
		return "", fmt.Errorf("expires_at must be in the future")
	}
	if t.After(now.Add(webhookMaxLife)) {
		return "", fmt.Errorf("expires_at must be at most 31 days away")
	}
	return t.UTC().Format(time.RFC3339), nil
}

func (s *Server) createWebhook(c *call) *resp {
	d := c.data
	u := asString(d["url"])
	if err := s.checkHookURL(u); err != nil {
		return invalid("%v", err)
	}
	model, ok := modelName(d["model"])
	if !ok {
		return invalid("model %v is not a webhook model", d["model"])
	}
	events, ok := d["events"].([]any)
	if !ok || len(events) == 0 {
		events = []any{"created", "updated", "deleted"}
	}
	for _, e := range events {
		if _, matterEvent := matterEventNames[asString(e)]; e != "created" && e != "updated" && e != "deleted" && (!matterEvent || model != "matter") {
			return invalid("event %v is not supported", e)
		}
	}
	fields := asString(d["fields"])
	if _, err := s.hookFields(model, fields); err != nil {
		return invalid("fields: %v", err)
	}
	exp, err := s.hookExpiry(d["expires_at"])
	if err != nil {
		return invalid("%v", err)
	}
	secret := randomHex(20)
	rec := map[string]any{
		"url": u, "model": model, "events": events, "expires_at": exp, "status": "pending",
		"shared_secret": secret, "user": map[string]any{"id": s.userID},
	}
	if fields != "" {
		rec["fields"] = fields
	}
	s.mu.Lock()
	id := s.insertLocked("webhooks", rec)
	s.hooks[id] = &hookState{secret: secret, seen: map[int64]bool{}}
	s.mu.Unlock()
	s.handshake(id, u, secret)
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.getLocked("webhooks", id)
	if cur == nil {
		return notFound("webhooks", id)
	}
	return s.dataResp(http.StatusCreated, s.project(cur, c.fields, c.schema, false))
}

// handshake POSTs the secret to the webhook URL; an answer echoing it enables the webhook.
// As real Clio's, it carries the X-Hook-Secret header alone: no body names the webhook, so
// a receiver knows which one it is only from the URL it registered.
func (s *Server) handshake(id int64, u, secret string) {
	s.mu.Lock()
	s.counters.WebhookHandshakes++
	s.mu.Unlock()
	req, err := http.NewRequest(http.MethodPost, u, http.NoBody)
	if err != nil {
		return
	}
	req.Header.Set("X-Hook-Secret", secret)
	res, err := s.hookClient.Do(req)
	if err != nil {
		s.logf("cliotest: webhook %d handshake to %s failed: %v", id, u, err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if res.StatusCode/100 == 2 && res.Header.Get("X-Hook-Secret") == secret {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rec := s.getLocked("webhooks", id); rec != nil && rec["shared_secret"] == secret {
			s.enableLocked(rec)
		}
	}
}

func (s *Server) enableLocked(rec map[string]any) {
	rec["status"] = "enabled"
	rec["updated_at"] = s.now().Format(time.RFC3339)
	setETag(rec)
}

func (s *Server) updateWebhook(c *call, id int64) *resp {
	s.mu.Lock()
	rec, res := s.writableLocked(c, "webhooks", id)
	if res != nil {
		s.mu.Unlock()
		return res
	}
	changes := map[string]any{}
	var newURL string
	for k, v := range c.data {
		switch k {
		case "url":
			u := asString(v)
			if err := s.checkHookURL(u); err != nil {
				s.mu.Unlock()
				return invalid("%v", err)
			}
			if u != rec["url"] {
				newURL = u
			}
			changes[k] = u
		case "expires_at":
			exp, err := s.hookExpiry(v)
			if err != nil {
				s.mu.Unlock()
				return invalid("%v", err)
			}
			changes[k] = exp
		case "fields":
			if _, err := s.hookFields(asString(rec["model"]), asString(v)); err != nil {
				s.mu.Unlock()
				return invalid("fields: %v", err)
			}
			changes[k] = v
		case "model":
			m, ok := modelName(v)
			if !ok {
				s.mu.Unlock()
				return invalid("model %v is not a webhook model", v)
			}
			changes[k] = m
		case "events":
			changes[k] = v
		}
	}
	secret := asString(rec["shared_secret"])
	if newURL != "" {
		secret = randomHex(20)
		changes["shared_secret"] = secret
		changes["status"] = "pending"
		s.hooks[id] = &hookState{secret: secret, seen: map[int64]bool{}}
	}
	res = s.applyUpdateLocked(c, "webhooks", rec, changes)
	s.mu.Unlock()
	if newURL == "" || res.status != http.StatusOK {
		return res
	}
	s.handshake(id, newURL, secret)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataResp(http.StatusOK, s.project(rec, c.fields, c.schema, false))
}

// activateWebhook serves PUT /api/v4/webhooks/{id}/activate.json with the secret in
// X-Hook-Secret (or in the body as data.secret / data.shared_secret).
func (s *Server) activateWebhook(c *call, id int64) *resp {
	secret := c.r.Header.Get("X-Hook-Secret")
	if secret == "" {
		secret = asString(c.data["secret"])
	}
	if secret == "" {
		secret = asString(c.data["shared_secret"])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.getLocked("webhooks", id)
	if rec == nil {
		return notFound("webhooks", id)
	}
	if secret == "" || !hmac.Equal([]byte(secret), []byte(asString(rec["shared_secret"]))) {
		return invalid("the X-Hook-Secret does not match the webhook's secret")
	}
	s.enableLocked(rec)
	if code := s.success(c, http.StatusOK); code == http.StatusNoContent {
		return emptyResp(code)
	}
	sch := c.schema
	if sch == nil {
		sch = s.recordSchema("webhooks")
	}
	return s.dataResp(http.StatusOK, s.project(rec, c.fields, sch, false))
}

// queueEventLocked prepares the deliveries of an event to the webhooks watching it.
func (s *Server) queueEventLocked(c *call, coll, event string, rec, old map[string]any) {
	st := s.stores["webhooks"]
	if st == nil || c == nil {
		return
	}
	objID, _ := asInt(rec["id"])
	now := s.now()
	for _, wid := range st.sortedIDs() {
		w := st.recs[wid]
		if modelColl(asString(w["model"])) != coll || w["status"] != "enabled" {
			continue
		}
		if exp, err := time.Parse(time.RFC3339, asString(w["expires_at"])); err == nil && !now.Before(exp) {
			continue
		}
		watches := false
		if evs, ok := w["events"].([]any); ok {
			for _, e := range evs {
				watches = watches || e == event
			}
		}
		if !watches {
			continue
		}
		hs := s.hooks[wid]
		if hs == nil {
			continue
		}
		fs, err := s.hookFields(asString(w["model"]), asString(w["fields"]))
		if err != nil {
			fs = defaultFields
		}
		if event == "updated" && hs.seen[objID] && !watchedChanged(fs, old, rec) {
			continue
		}
		hs.seen[objID] = true
		body, _ := json.Marshal(map[string]any{
			"data": s.project(rec, fs, s.recordSchema(coll), false),
			"meta": map[string]any{"event": event, "webhook_id": wid},
		})
		c.events = append(c.events, hookEvent{webhookID: wid, event: event, url: asString(w["url"]), secret: hs.secret, body: body})
	}
}

func watchedChanged(fs []field, old, rec map[string]any) bool {
	for _, f := range fs {
		if f.name == "etag" || f.name == "updated_at" {
			continue
		}
		if !reflect.DeepEqual(old[f.name], rec[f.name]) {
			return true
		}
	}
	return false
}

// deliverEvents POSTs queued events, signed with X-Hook-Signature. A 410 answer disables
// the webhook. Failed deliveries are recorded, not retried.
func (s *Server) deliverEvents(events []hookEvent) {
	for _, ev := range events {
		sig := Sign(ev.secret, ev.body)
		d := Delivery{WebhookID: ev.webhookID, Event: ev.event, URL: ev.url, Body: ev.body, Signature: sig}
		req, err := http.NewRequest(http.MethodPost, ev.url, bytes.NewReader(ev.body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hook-Signature", sig)
			var res *http.Response
			res, err = s.hookClient.Do(req)
			if err == nil {
				d.Status = res.StatusCode
				_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
				_ = res.Body.Close()
			}
		}
		d.Err = err
		s.mu.Lock()
		s.counters.WebhookDeliveries++
		s.deliveries = append(s.deliveries, d)
		if d.Status == http.StatusGone {
			if rec := s.getLocked("webhooks", ev.webhookID); rec != nil {
				rec["status"] = "suspended"
				setETag(rec)
			}
		}
		s.mu.Unlock()
	}
}
