package cliotest

import (
	"errors"
	"strings"
	"testing"
)

func TestInsertRefusesWhatTheDocumentDoesNotHave(t *testing.T) {
	f := newFixture(t)
	ada := f.s.MustInsert(t, "contacts", map[string]any{"id": 10, "type": "Person", "first_name": "Ada", "last_name": "Lovelace"})[0]
	ok := map[string]any{"description": "Estate", "status": "Open", "client": map[string]any{"id": ada}}
	for _, tc := range []struct {
		name, coll string
		recs       []map[string]any
		index      int
		field      string
		says       string
	}{
		{"no such collection", "matter", []map[string]any{ok}, -1, "", "did you mean matters"},
		{"no such field", "matters", []map[string]any{ok, {"description": "X", "colour": "red"}}, 1, "colour", "no such field"},
		{"wrong type", "matters", []map[string]any{{"description": 5}}, 0, "description", "string"},
		{"missing reference", "matters", []map[string]any{ok, ok, {"client": map[string]any{"id": 99}}}, 2, "client", "no contacts record with id 99"},
		{"reference of the wrong collection", "matters", []map[string]any{{"client": map[string]any{"id": ada, "type": "Matter"}}}, 0, "client", "not a record of contacts"},
		{"reference id not an integer", "matters", []map[string]any{{"client": map[string]any{"id": "ten"}}}, 0, "client", ""},
		{"id taken", "contacts", []map[string]any{{"id": 10, "type": "Person", "first_name": "Bob"}}, 0, "id", "exists already"},
		{"not JSON", "matters", []map[string]any{{"description": make(chan int)}}, 0, "", "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.s.Count(tc.coll)
			ids, err := f.s.Insert(tc.coll, tc.recs...)
			var se *SeedError
			if !errors.As(err, &se) || ids != nil {
				t.Fatalf("Insert = %v, %v; want a *SeedError", ids, err)
			}
			if se.Collection != tc.coll || se.Index != tc.index || se.Field != tc.field || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q (%+v); want %s[%d].%s saying %q", err, se, tc.coll, tc.index, tc.field, tc.says)
			}
			if f.s.Count(tc.coll) != before {
				t.Fatal("a refused Insert stored records")
			}
		})
	}
	if !strings.HasPrefix((&SeedError{Collection: "matters", Index: 2, Field: "client", Reason: "r"}).Error(), "cliotest: seed matters[2].client: r") {
		t.Fatal("SeedError text")
	}
}

func TestInsertStoresCheckedRecords(t *testing.T) {
	f := newFixture(t)
	ids, err := f.s.Insert("contacts",
		map[string]any{"type": "Company", "name": "Acme"},
		map[string]any{"id": 500, "type": "Person", "first_name": "Grace", "last_name": "Hopper"})
	if err != nil || len(ids) != 2 || ids[1] != 500 {
		t.Fatalf("Insert = %v, %v", ids, err)
	}
	m := f.s.MustInsert(t, "matters", map[string]any{"description": "Audit", "client": map[string]any{"id": 500}, "user": map[string]any{"id": SeedUserID}})[0]
	a := f.must(200, "GET", "/api/v4/matters/"+itoa(m)+".json?fields=id,description,client{id,name}", nil)
	if c, _ := a.data()["client"].(map[string]any); c["name"] != "Grace Hopper" {
		t.Fatalf("read back: %s", a.raw)
	}
}

func TestLoadSeed(t *testing.T) {
	f := newFixture(t)
	err := f.s.LoadSeed(strings.NewReader(`{
		"contacts": [{"id": 7, "type": "Person", "first_name": "Ada", "last_name": "Lovelace"}],
		"matters": [{"description": "Estate", "status": "Open", "client": {"id": 7}}],
		"practice_areas": []
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.s.Count("matters") != 1 || f.s.Count("contacts") != 1 {
		t.Fatalf("%d matters, %d contacts", f.s.Count("matters"), f.s.Count("contacts"))
	}
	for _, tc := range []struct{ name, seed, says string }{
		{"not an object", `[1]`, "JSON object"},
		{"not an array", `{"matters": {"description": "x"}}`, "seed matters: want an array"},
		{"null record", `{"matters": [null]}`, "seed matters[0]: want a record object"},
		{"bad JSON", `{"matters": [`, "seed"},
		{"trailing data", `{} {}`, "data after"},
		// The order of the file decides: matters before their contact fail.
		{"reference to a later collection", `{"matters": [{"client": {"id": 8}}], "contacts": [{"id": 8, "type": "Person", "first_name": "B"}]}`, "matters[0].client: no contacts record with id 8"},
		{"bad record after good ones", `{"contacts": [{"id": 9, "type": "Person", "first_name": "C"}], "matters": [{"description": "ok", "client": {"id": 9}}, {"nope": 1}]}`, "matters[1].nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.LoadSeed(strings.NewReader(tc.seed))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("LoadSeed = %v; want an error saying %q", err, tc.says)
			}
			if f.s.Count("matters") != 1 || f.s.Count("contacts") != 1 {
				t.Fatal("a refused seed stored records")
			}
		})
	}
}
