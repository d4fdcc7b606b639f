package main

import (
	"fmt"

	"github.com/clio-go/clio-go/clio/cliotest"
)

// startFake starts the fake Clio with a demo firm of n records per collection. Its rate
// limit is off: the demo shows the sync, not a minute's wait.
func startFake(n int) (*cliotest.Server, error) {
	if n < 1 {
		return nil, fmt.Errorf("--fake-records %d: want at least 1", n)
	}
	srv := cliotest.NewServer(cliotest.WithRateLimit(0, 0), cliotest.WithLogf(func(string, ...any) {}))
	batch := func(mk func(i int) map[string]any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	ref := func(ids []int64, i int) map[string]any { return map[string]any{"id": ids[i%len(ids)]} }
	ids := map[string][]int64{}
	for _, c := range []struct {
		name string
		mk   func(i int) map[string]any
	}{
		{"users", func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("Lawyer %d", i), "email": fmt.Sprintf("lawyer%d@example.com", i), "enabled": true}
		}},
		{"contacts", func(i int) map[string]any {
			return map[string]any{"type": "Person", "first_name": "Client", "last_name": fmt.Sprint(i), "name": fmt.Sprintf("Client %d", i)}
		}},
		{"matters", func(i int) map[string]any {
			return map[string]any{"description": fmt.Sprintf("Matter %d", i), "status": "open", "client": ref(ids["contacts"], i),
				"responsible_attorney": ref(ids["users"], i)}
		}},
		{"activities", func(i int) map[string]any {
			return map[string]any{"type": "TimeEntry", "quantity": float64(360 * (1 + i%20)), "note": fmt.Sprintf("Work %d", i),
				"matter": ref(ids["matters"], i), "user": ref(ids["users"], i)}
		}},
		{"tasks", func(i int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("Task %d", i), "priority": "Normal", "matter": ref(ids["matters"], i)}
		}},
		{"bills", func(i int) map[string]any {
			return map[string]any{"number": fmt.Sprint(1000 + i), "state": "awaiting_payment", "total": float64(100 + i), "client": ref(ids["contacts"], i)}
		}},
	} {
		got, err := srv.Insert(c.name, batch(c.mk)...)
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("seeding the demo firm: %w", err)
		}
		ids[c.name] = got
	}
	return srv, nil
}
