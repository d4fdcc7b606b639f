package replica_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/webhook"
)

// stubSource answers from a list of records, remembering the queries.
type stubSource struct {
	date    time.Time
	recs    []string
	queries []replica.Query
}

func (s *stubSource) List(_ context.Context, q replica.Query) (*replica.Page, error) {
	s.queries = append(s.queries, q)
	p := &replica.Page{Total: len(s.recs), Date: s.date}
	for _, r := range s.recs {
		p.Records = append(p.Records, json.RawMessage(r))
	}
	return p, nil
}

func rec(id int, etag, updated string) string {
	return fmt.Sprintf(`{"id":%d,"etag":%q,"updated_at":%q,"name":"n%d"}`, id, etag, updated, id)
}

func TestDeltaAsksSinceTheLastMarkMinusTheOverlap(t *testing.T) {
	forEachSink(t, testDeltaOverlap)
}

func testDeltaOverlap(t *testing.T, sink replica.Sink, db *sql.DB, _ func(int) string) {
	mark := time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC)
	src := &stubSource{date: mark, recs: []string{rec(1, "a", "2026-03-01T09:00:00Z"), rec(2, "a", "2026-03-01T10:00:05Z")}}
	eng := &replica.Engine{Firm: "f", Source: src, Sink: sink, Resources: resources(t, "matters"), Overlap: 30 * time.Second, ScanEvery: -1}
	ctx := context.Background()
	if err := eng.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if q := src.queries[0]; !q.UpdatedSince.IsZero() || q.Fields == "" {
		t.Fatalf("the full pass asked %+v, want every field and no updated_since", q)
	}
	// Record 2 was updated again within the same second as the mark, and record 3 created.
	src.date = mark.Add(time.Minute)
	src.recs = []string{rec(2, "b", "2026-03-01T10:00:05Z"), rec(3, "a", "2026-03-01T10:00:30Z")}
	if err := eng.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := src.queries[1].UpdatedSince, mark.Add(-30*time.Second); !got.Equal(want) {
		t.Errorf("the delta asked updated_since=%v, want the mark minus the overlap %v", got, want)
	}
	// Applying the overlap twice changes nothing and duplicates nothing.
	if err := eng.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := src.queries[2].UpdatedSince, mark.Add(time.Minute-30*time.Second); !got.Equal(want) {
		t.Errorf("the second delta asked updated_since=%v, want %v", got, want)
	}
	rows, err := db.Query(`SELECT id, etag FROM matters WHERE firm = 'f' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var etag string
		if err := rows.Scan(&id, &etag); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, etag))
	}
	if fmt.Sprint(got) != "[1a 2b 3a]" {
		t.Errorf("stored %v, want [1a 2b 3a]", got)
	}
}

func TestDeleteBeforeTheRecordArrivesStaysDeleted(t *testing.T) {
	forEachSink(t, testTombstone)
}

func testTombstone(t *testing.T, sink replica.Sink, db *sql.DB, ph func(int) string) {
	src := &stubSource{recs: []string{rec(1, "a", "2026-03-01T09:00:00Z"), rec(2, "a", "2026-03-01T09:00:00Z")}}
	eng := &replica.Engine{Firm: "f", Source: src, Sink: sink, Resources: resources(t, "matters"), ScanEvery: -1}
	ctx := context.Background()
	// The webhook's delete arrives before the page that still lists the record.
	if err := eng.ApplyEvent(ctx, webhook.Event{Name: "deleted", Model: "matter", ID: 2}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var deleted [2]bool
	for i := range deleted {
		if err := db.QueryRow(`SELECT deleted FROM matters WHERE firm = 'f' AND id = `+ph(1), i+1).Scan(&deleted[i]); err != nil {
			t.Fatal(err)
		}
	}
	if deleted != [2]bool{false, true} {
		t.Errorf("deleted marks %v, want [false true]", deleted)
	}
	if err := eng.ApplyEvent(ctx, webhook.Event{Name: "deleted", Model: "matter"}); err == nil {
		t.Error("a deleted event without an id was accepted")
	}
}

func TestBadRecordsAndSettingsAreRefused(t *testing.T) {
	sink := openSQLite(t)
	for _, bad := range []string{`{"etag":"x"}`, `{"id":"7x"}`, `[1]`, `{"id":3,"updated_at":"yesterday"}`} {
		eng := &replica.Engine{Firm: "f", Source: &stubSource{recs: []string{bad}}, Sink: sink, Resources: resources(t, "matters")}
		if err := eng.Run(context.Background()); err == nil {
			t.Errorf("record %s was accepted", bad)
		}
	}
	for _, eng := range []*replica.Engine{
		{Source: &stubSource{}, Sink: sink},
		{Firm: "f", Sink: sink},
		{Firm: "f", Source: &stubSource{}},
		{Firm: "f", Source: &stubSource{}, Sink: sink, PageSize: 500},
		{Firm: "f", Source: &stubSource{}, Sink: sink, Resources: []replica.Resource{{Name: `x"; DROP TABLE y; --`}}},
	} {
		if err := eng.Run(context.Background()); err == nil {
			t.Errorf("engine %+v was accepted", eng)
		}
	}
	if _, err := replica.LookupResources("matters", "no_such_things"); err == nil {
		t.Error("an unknown resource was accepted")
	}
}
