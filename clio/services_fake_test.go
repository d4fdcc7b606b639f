package clio_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
)

// newFake starts the fake Clio (answers checked against the document) and a Client on it.
func newFake(t *testing.T, opts ...cliotest.Option) (*cliotest.Server, *clio.Client) {
	t.Helper()
	srv := cliotest.NewServer(append([]cliotest.Option{cliotest.WithT(t), cliotest.WithRateLimit(0, 0)}, opts...)...)
	t.Cleanup(srv.Close)
	c, err := clio.NewClient(context.Background(), clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// The generated services, end to end against the fake Clio: create, read with fields, list
// every page, conditional reads and writes, delete.
func TestServicesAgainstFakeClio(t *testing.T) {
	ctx := context.Background()
	srv, c := newFake(t)

	contact, _, err := c.Contacts.Create(ctx, nil,
		gen.ContactCreateInput{Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ada"), LastName: clio.Ptr("Lovelace")}, clio.Fields("id", "name", "etag"))
	if err != nil {
		t.Fatal(err)
	}
	if contact.Id == 0 || contact.Name == "" || contact.Name != "Ada Lovelace" {
		t.Fatalf("created contact = %+v", contact)
	}
	for i := range 5 {
		_, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{
			Client: &gen.IdInput{Id: clio.Ptr(contact.Id)}, Description: clio.Ptr("Matter " + string(rune('A'+i))),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var seen []int64
	for m, err := range c.Matters.All(ctx, nil, clio.PageSize(2), clio.Fields("id", "etag", "description").Nested("client", "id", "name")) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Client == nil || m.Client.Name == "" || m.Client.Name != "Ada Lovelace" || m.Description == "" {
			t.Fatalf("matter fields not selected: %+v", m)
		}
		seen = append(seen, m.Id)
	}
	if len(seen) != 5 {
		t.Fatalf("All yielded %d matters over pages of 2, want 5", len(seen))
	}
	id := seen[0]

	m, _, err := c.Matters.Get(ctx, id, nil, clio.Fields("id", "etag", "description"))
	if err != nil {
		t.Fatal(err)
	}
	again, resp, err := c.Matters.Refresh(ctx, id, nil, m)
	if err != nil || !resp.NotModified || again.Description != m.Description {
		t.Fatalf("conditional get: %v, not modified %v", err, resp != nil && resp.NotModified)
	}
	if _, _, err := c.Matters.Update(ctx, id, nil, gen.MatterUpdateInput{Description: clio.Ptr("changed")}); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Matters.Update(ctx, id, nil, gen.MatterUpdateInput{Description: clio.Ptr("stale")}, clio.IfMatch(m.Etag))
	if !errors.Is(err, clio.ErrPreconditionFailed) {
		t.Fatalf("update with a stale etag: %v, want ErrPreconditionFailed", err)
	}
	if _, err := c.Matters.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Matters.Get(ctx, id, nil)
	var ce *clio.Error
	if !errors.Is(err, clio.ErrNotFound) || !errors.As(err, &ce) || ce.StatusCode != 404 {
		t.Fatalf("get after delete: %v, want a 404 *clio.Error", err)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Fatalf("the fake saw answers that break the document: %v", v)
	}
	me, _, err := c.Users.WhoAmI(ctx, clio.Fields("id", "name"))
	if err != nil || me.Id == 0 {
		t.Fatalf("who_am_i: %+v %v", me, err)
	}
}

// A bad fields value is refused before any request reaches Clio.
func TestBadFieldsNeverLeaveTheClient(t *testing.T) {
	srv, c := newFake(t)
	before := srv.Counters().Requests
	_, _, err := c.Matters.List(context.Background(), nil, clio.Fields("id").Nested("client", "id").Nested("client{x}", "y"))
	if !errors.Is(err, clio.ErrInvalidInput) {
		t.Fatalf("err = %v, want ErrInvalidInput", err)
	}
	if srv.Counters().Requests != before {
		t.Fatalf("a request was sent despite invalid fields")
	}
}

// Options that make no sense on a single-record call are refused, not applied.
func TestSingleRecordCallsRefusePagingOptions(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	before := srv.Counters().Requests
	for name, opt := range map[string]clio.CallOption{
		"PageSize": clio.PageSize(10), "OffsetPagination": clio.OffsetPagination(2), "PageURL": clio.PageURL(srv.URL + "/api/v4/matters.json"),
	} {
		_, _, err := c.Matters.Get(ctx, 1, nil, opt)
		var ie *clio.InputError
		if !errors.As(err, &ie) || ie.Field != name {
			t.Errorf("Get with %s: %v, want an InputError naming it", name, err)
		}
		if _, err := c.Matters.Delete(ctx, 1, opt); !errors.Is(err, clio.ErrInvalidInput) {
			t.Errorf("Delete with %s: %v", name, err)
		}
	}
	// (Refresh takes the cached record of its own type: a mismatch does not compile.)
	if srv.Counters().Requests != before {
		t.Errorf("refused calls reached the server")
	}
}

// Where the reference lists no order=id(asc) for a list (report presets order by other
// fields; comments take no order), All follows Clio's next links without asking for cursor
// order, which the fake, like Clio, would refuse.
func TestAllWithoutCursorOrder(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	for i := range 5 {
		srv.MustInsert(t, "report_presets", map[string]any{"name": fmt.Sprintf("Preset %d", i), "kind": "billing_history", "format": "csv"})
	}
	n := 0
	for p, err := range c.ReportPresets.All(ctx, nil, clio.PageSize(2), clio.Fields("id", "name")) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Name == "" {
			t.Fatalf("preset without its name: %+v", p)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("iterated %d report presets, want 5", n)
	}
	if got := srv.RequestCount("GET", "/api/v4/report_presets.json"); got != 3 {
		t.Errorf("%d requests for 5 presets in pages of 2, want 3", got)
	}
}

// A nil context is an error naming it, not a panic.
func TestNilContextIsAnError(t *testing.T) {
	_, c := newFake(t)
	var nilCtx context.Context
	if _, err := clio.NewClient(nilCtx, clio.WithToken("x")); !errors.Is(err, clio.ErrInvalidInput) {
		t.Errorf("NewClient: %v", err)
	}
	if _, _, err := c.Matters.List(nilCtx, nil); !errors.Is(err, clio.ErrInvalidInput) {
		t.Errorf("List: %v", err)
	}
	for _, err := range c.Matters.All(nilCtx, nil) {
		if !errors.Is(err, clio.ErrInvalidInput) {
			t.Errorf("All: %v", err)
		}
	}
	if _, _, err := c.Documents.Download(nilCtx, 1); !errors.Is(err, clio.ErrInvalidInput) {
		t.Errorf("Download: %v", err)
	}
}
