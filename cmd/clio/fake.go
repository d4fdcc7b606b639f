package main

import (
	"fmt"

	"github.com/clio-go/clio-go/clio/cliotest"
)

// startFake starts the fake Clio with a demo firm of n records per collection. Its rate
// limit is off: the demo shows the sync, not a minute's wait.
func startFake(n int) *cliotest.Server {
	srv := cliotest.NewServer(cliotest.WithRateLimit(0, 0), cliotest.WithLogf(func(string, ...any) {}))
	batch := func(mk func(i int) map[string]any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	users := srv.Insert("users", batch(func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Lawyer %d", i), "email": fmt.Sprintf("lawyer%d@example.com", i), "enabled": true}
	})...)
	contacts := srv.Insert("contacts", batch(func(i int) map[string]any {
		return map[string]any{"type": "Person", "first_name": "Client", "last_name": fmt.Sprint(i), "name": fmt.Sprintf("Client %d", i)}
	})...)
	matters := srv.Insert("matters", batch(func(i int) map[string]any {
		return map[string]any{"description": fmt.Sprintf("Matter %d", i), "status": "open", "client": map[string]any{"id": contacts[i%len(contacts)]},
			"responsible_attorney": map[string]any{"id": users[i%len(users)]}}
	})...)
	ref := func(ids []int64, i int) map[string]any { return map[string]any{"id": ids[i%len(ids)]} }
	srv.Insert("activities", batch(func(i int) map[string]any {
		return map[string]any{"type": "TimeEntry", "quantity": float64(360 * (1 + i%20)), "note": fmt.Sprintf("Work %d", i), "matter": ref(matters, i), "user": ref(users, i)}
	})...)
	srv.Insert("tasks", batch(func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("Task %d", i), "priority": "Normal", "matter": ref(matters, i)}
	})...)
	srv.Insert("calendar_entries", batch(func(i int) map[string]any {
		return map[string]any{"summary": fmt.Sprintf("Hearing %d", i), "start_at": "2026-12-01T09:00:00Z", "end_at": "2026-12-01T10:00:00Z", "matter": ref(matters, i)}
	})...)
	srv.Insert("notes", batch(func(i int) map[string]any {
		return map[string]any{"subject": fmt.Sprintf("Note %d", i), "detail": "Called the client", "type": "Matter", "matter": ref(matters, i)}
	})...)
	srv.Insert("bills", batch(func(i int) map[string]any {
		return map[string]any{"number": fmt.Sprint(1000 + i), "state": "awaiting_payment", "total": float64(100 + i), "matter": ref(matters, i)}
	})...)
	return srv
}
