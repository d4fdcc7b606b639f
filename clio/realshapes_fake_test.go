package clio_test

import (
	"context"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/gen"
)

// Against the fake Clio, through the client: a calendar entry is read, updated and deleted
// by the string id Clio gives it; enum values come back in Clio's case; a task's due_at
// goes out as a date or a date-time; matters filter by date and by a list of statuses.
func TestRealShapesAgainstFakeClio(t *testing.T) {
	ctx := context.Background()
	_, c := newFake(t)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(time.Hour)
	e, _, err := c.CalendarEntries.Create(ctx, gen.CalendarEntryCreateInput{
		Summary: clio.Ptr("Hearing"), StartAt: &start, EndAt: &end, CalendarOwner: clio.Ref(1),
	}, clio.Fields("id", "summary"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Id == "" {
		t.Fatal("the created calendar entry has no id")
	}
	got, _, err := c.CalendarEntries.Get(ctx, e.Id, clio.Fields("id", "summary"))
	if err != nil || got.Id != e.Id || got.Summary != "Hearing" {
		t.Fatalf("Get(%q) = %+v, %v", e.Id, got, err)
	}
	if _, _, err := c.CalendarEntries.Update(ctx, e.Id, gen.CalendarEntryUpdateInput{Summary: clio.Ptr("Trial")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CalendarEntries.Delete(ctx, e.Id); err != nil {
		t.Fatal(err)
	}

	contact, _, err := c.Contacts.Create(ctx, nil, gen.ContactCreateInput{
		Type: gen.ContactTypePerson, FirstName: clio.Ptr("Ada"), LastName: clio.Ptr("Lovelace")})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []gen.MatterStatus{gen.MatterStatusOpen, gen.MatterStatusPending, gen.MatterStatusClosed} {
		m, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{
			Client: clio.Ref(contact.Id), Description: clio.Ptr("Matter " + string(st)), Status: st,
		}, clio.Fields("id", "status"))
		if err != nil || m.Status != st {
			t.Fatalf("created %+v, %v; want status %s", m, err, st)
		}
	}
	today := time.Now()
	ms, _, err := c.Matters.List(ctx, &gen.ListMattersParams{
		Status:   []gen.ListMattersParamsStatus{gen.ListMattersParamsStatusOpen, gen.ListMattersParamsStatusPending},
		OpenDate: []string{clio.Lte.Date(today.AddDate(0, 0, 1))},
	}, clio.Fields("id", "status"))
	if err != nil || len(ms) != 2 {
		t.Fatalf("open or pending matters: %d, %v", len(ms), err)
	}

	for _, due := range []string{"2026-12-24", "2026-12-24T17:00:00Z"} {
		tk, _, err := c.Tasks.Create(ctx, gen.TaskCreateInput{
			Name: clio.Ptr("File"), DueAt: clio.Ptr(due), Priority: gen.TaskPriorityHigh,
		}, clio.Fields("id", "due_at", "priority"))
		if err != nil || tk.DueAt == nil || tk.DueAt.String() != "2026-12-24" || tk.Priority != gen.TaskPriorityHigh {
			t.Fatalf("task with due_at %s: %+v, %v", due, tk, err)
		}
	}
}
