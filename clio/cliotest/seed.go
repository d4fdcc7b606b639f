package cliotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// SeedError says which record of a seed is wrong and why.
type SeedError struct {
	Collection string // the collection named by the caller, e.g. "matters"
	Index      int    // the record's index among those given for the collection; -1 for the collection itself
	Field      string // the offending field, "" when the record or collection as a whole is wrong
	Reason     string
}

// Error reads like "cliotest: seed matters[2].client: no contacts record with id 99".
func (e *SeedError) Error() string {
	at := e.Collection
	if e.Index >= 0 {
		at += fmt.Sprintf("[%d]", e.Index)
	}
	if e.Field != "" {
		at += "." + e.Field
	}
	return "cliotest: seed " + at + ": " + e.Reason
}

// Insert stores records directly in a collection (the path under /api/v4 without ".json",
// e.g. "matters" or "utbms/codes"), as if created through the API but without webhooks,
// and returns their ids. Records get an id (the given one if free), an etag, created_at
// (unless given) and updated_at.
//
// Each record is checked against the document first: the collection must be one of its
// collections; every field one of the record schema's, with a value of its type (where
// the document describes the record's fields at all); a reference ({"client": {"id": 5}})
// must point at a record the fake holds in the collection the field refers to (contacts
// for client, matters for matter, the "type" of a parent, ...), given before it in the
// same call or earlier. The error is a *SeedError naming the collection, the record's
// index and the field; on error nothing of the call is stored.
func (s *Server) Insert(collection string, records ...map[string]any) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var undo []inserted
	ids, err := s.insertCheckedLocked(collection, records, &undo)
	if err != nil {
		s.undoLocked(undo)
		return nil, err
	}
	return ids, nil
}

// MustInsert is Insert for tests: it fails t at once when the records are refused.
func (s *Server) MustInsert(t testing.TB, collection string, records ...map[string]any) []int64 {
	t.Helper()
	ids, err := s.Insert(collection, records...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// LoadSeed inserts the records of a seed document with Insert's checks. The document
// is a JSON object mapping collections to arrays of records:
//
//	{
//	  "contacts": [{"id": 10, "type": "Person", "first_name": "Ada", "last_name": "Lovelace"}],
//	  "matters":  [{"description": "Estate", "status": "Open", "client": {"id": 10}}]
//	}
//
// Collections are inserted in the order the document lists them, so records can refer
// to records of collections listed above them (give those an "id" to refer to). On
// error nothing of the document is stored.
func (s *Server) LoadSeed(r io.Reader) error {
	colls, err := parseSeed(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var undo []inserted
	for _, c := range colls {
		if _, err := s.insertCheckedLocked(c.name, c.records, &undo); err != nil {
			s.undoLocked(undo)
			return err
		}
	}
	return nil
}

type seedCollection struct {
	name    string
	records []map[string]any
}

// parseSeed decodes a seed document keeping the order of its collections, which a map
// would lose.
func parseSeed(r io.Reader) ([]seedCollection, error) {
	dec := json.NewDecoder(r)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cliotest: seed: "+format, args...)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad("want a JSON object of collection -> array of records (%v)", errOr(err, "it starts otherwise"))
	}
	var out []seedCollection
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad("%v", err)
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, bad("%s: %v", name, err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(raw, &recs); err != nil || recs == nil && !bytes.Equal(bytes.TrimSpace(raw), []byte("[]")) {
			return nil, &SeedError{Collection: name, Index: -1, Reason: "want an array of record objects"}
		}
		for i, rec := range recs {
			if rec == nil {
				return nil, &SeedError{Collection: name, Index: i, Reason: "want a record object, got null"}
			}
		}
		out = append(out, seedCollection{name: name, records: recs})
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the seed object")
	}
	return out, nil
}

func errOr(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

// inserted remembers a record stored by a call, to take it back when a later one fails.
type inserted struct {
	collection string
	id         int64
}

func (s *Server) undoLocked(undo []inserted) {
	for _, u := range undo {
		delete(s.stores[u.collection].recs, u.id)
	}
}

func (s *Server) insertCheckedLocked(collection string, records []map[string]any, undo *[]inserted) ([]int64, error) {
	if !s.sp.collections[collection] {
		return nil, &SeedError{Collection: collection, Index: -1, Reason: "the document has no such collection" + s.suggestCollection(collection)}
	}
	schema := s.sp.recordSchema(collection)
	ids := make([]int64, 0, len(records))
	for i, r := range records {
		// Enum values in another case ("open") are stored in Clio's ("Open"), as a request's are.
		r = deepCopy(r)
		normaliseValue(schema, r)
		if err := s.checkSeedRecordLocked(collection, schema, r); err != nil {
			var se *SeedError
			if errors.As(err, &se) {
				se.Index = i
			}
			return nil, err
		}
		rec := deepCopy(r)
		if res := s.applyCreateDefaults(collection, rec); res != nil {
			return nil, &SeedError{Collection: collection, Index: i, Reason: answerMessage(res)}
		}
		id := s.insertLocked(collection, rec)
		*undo = append(*undo, inserted{collection, id})
		ids = append(ids, id)
	}
	return ids, nil
}

// checkSeedRecordLocked checks one record's fields against the record schema and its
// references against the fake's records.
func (s *Server) checkSeedRecordLocked(collection string, schema *openapi3.Schema, rec map[string]any) error {
	fail := func(field, format string, args ...any) error {
		return &SeedError{Collection: collection, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	// The document describes JSON: check what the record becomes once encoded.
	b, err := json.Marshal(rec)
	if err != nil {
		return fail("", "not encodable as JSON: %v", err)
	}
	var norm map[string]any
	_ = json.Unmarshal(b, &norm)
	fields := make([]string, 0, len(norm))
	for k := range norm {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	ps := props(schema)
	for _, k := range fields {
		v := norm[k]
		if len(ps) > 0 {
			p := ps[k]
			if p == nil || p.Value == nil {
				return fail(k, "no such field in the document's %s records", collection)
			}
			if err := p.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.DisableReadOnlyValidation()); err != nil {
				return fail(k, "%s", shortErr(err, ""))
			}
		}
		if k == "id" {
			if id, ok := asInt(v); ok && s.getLocked(collection, id) != nil {
				return fail(k, "a %s record with id %d exists already", collection, id)
			}
		}
		if ref, ok := v.(map[string]any); ok {
			if err := s.checkSeedRefLocked(k, ref); err != "" {
				return fail(k, "%s", err)
			}
		}
	}
	return nil
}

// checkSeedRefLocked checks a reference field; it returns what is wrong, or "".
func (s *Server) checkSeedRefLocked(field string, ref map[string]any) string {
	idv, has := ref["id"]
	if !has {
		return ""
	}
	id, ok := asInt(idv)
	if !ok {
		return fmt.Sprintf("reference id %v is not an integer", idv)
	}
	coll := refStores[field]
	if coll == "" && s.sp.collections[plural(field)] {
		coll = plural(field)
	}
	if t, _ := ref["type"].(string); t != "" && s.sp.collections[snakePlural(t)] {
		if coll != "" && coll != snakePlural(t) && field != "parent" {
			return fmt.Sprintf("type %q is not a record of %s, which %s refers to", t, coll, field)
		}
		coll = snakePlural(t)
	}
	if coll == "" || !s.sp.collections[coll] {
		return ""
	}
	if s.getLocked(coll, id) == nil {
		return fmt.Sprintf("no %s record with id %d (insert it first)", coll, id)
	}
	return ""
}

// recordSchema returns the schema of one record of a collection: what showing a record
// answers, else an item of the list, else what creating one answers.
func (sp *spec) recordSchema(collection string) *openapi3.Schema {
	var list, created *openapi3.Schema
	for _, rt := range sp.routes {
		if rt.store != collection {
			continue
		}
		switch rt.kind {
		case kindRecord:
			if op := rt.operation("GET"); op != nil {
				if sc, _ := dataSchema(op); sc != nil {
					return sc
				}
			}
		case kindCollection:
			if op := rt.operation("GET"); op != nil && list == nil {
				list, _ = dataSchema(op)
			}
			if op := rt.operation("POST"); op != nil && created == nil {
				created, _ = dataSchema(op)
			}
		}
	}
	if list != nil {
		return list
	}
	return created
}

// suggestCollection names a collection of the document close to a wrong name.
func (s *Server) suggestCollection(name string) string {
	want := strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(name), ".json"), "s")
	var exact, near []string
	for c := range s.sp.collections {
		switch {
		case strings.TrimSuffix(c, "s") == want:
			exact = append(exact, c)
		case want != "" && strings.Contains(c, want):
			near = append(near, c)
		}
	}
	best := exact
	if len(best) == 0 {
		best = near
	}
	if len(best) == 0 {
		return ""
	}
	sort.Strings(best)
	if len(best) > 3 {
		best = best[:3]
	}
	return "; did you mean " + strings.Join(best, ", ") + "?"
}

// answerMessage is the message of an error answer the fake built.
func answerMessage(res *resp) string {
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if json.Unmarshal(res.body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return string(res.body)
}
