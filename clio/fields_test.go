package clio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestFieldsBuilder(t *testing.T) {
	t.Parallel()
	f := Fields("id", "display_number").Nested("client", "id", "name").Nested("practice_area", "name").With("etag")
	if got, want := f.String(), "id,display_number,client{id,name},practice_area{name},etag"; got != want || f.Err() != nil {
		t.Fatalf("%q %v, want %q", got, f.Err(), want)
	}
	// Immutability: deriving two sets from one base does not alias.
	base := Fields("id")
	a, b := base.With("name"), base.Nested("client", "id")
	if a.String() != "id,name" || b.String() != "id,client{id}" || base.String() != "id" {
		t.Fatalf("aliasing: %q %q %q", a, b, base)
	}
	bad := []struct {
		f    FieldSet
		name string
	}{
		{Fields("id", "Display_Number"), "Display_Number"},
		{Fields("id", ""), "empty"},
		{Fields("id", "id"), `"id" is listed twice`},
		{Fields("client{id}"), "Nested"},
		{Fields("id").Nested("client"), "lists no fields"},
		{Fields("id").Nested("client", "id", "bad-name"), "bad-name"},
		{Fields("id", "a,b"), "a,b"},
	}
	for _, tc := range bad {
		var ie *InputError
		if !errors.As(tc.f.Err(), &ie) || ie.Field != "fields" || !strings.Contains(ie.Reason, tc.name) {
			t.Errorf("%q: err %v, want one naming %q", tc.f.String(), tc.f.Err(), tc.name)
		}
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"id", "id,display_number,client{id,name},practice_area{name}", "client{id},id"} {
		f, err := ParseFields(s)
		if err != nil || f.String() != s {
			t.Errorf("%q: %q %v", s, f.String(), err)
		}
	}
	for s, want := range map[string]string{
		"":                                 "empty",
		"id,":                              "empty field name",
		"id,,name":                         "empty field name",
		"client{id,primary_address{city}}": "only one level of nesting",
		"client{id":                        "unclosed",
		"id}":                              "unbalanced",
		"client{}":                         "lists no fields",
		"client{id}name":                   "expected ','",
		"ID":                               `"ID"`,
	} {
		_, err := ParseFields(s)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%q: %v, want error containing %q", s, err, want)
		}
	}
}

func TestInvalidFieldsNeverReachTheServer(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var gotFields atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		gotFields.Store(r.URL.Query().Get("fields"))
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx := context.Background()
	if _, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json", nil), Fields("id").Nested("client", "Name")); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("builder: %v", err)
	}
	// A bad fields value put directly in the generated params.
	if _, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json?fields=id,client%7Bid,address%7Bcity%7D%7D", nil)); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "one level") {
		t.Fatalf("params: %v", err)
	}
	for range All[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters.json", nil), Fields("")) {
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests sent with invalid fields", hits.Load())
	}
	if _, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json", nil), Fields("id").Nested("client", "id", "name")); err != nil || gotFields.Load() != "id,client{id,name}" {
		t.Fatalf("valid: %v %v", err, gotFields.Load())
	}
}
