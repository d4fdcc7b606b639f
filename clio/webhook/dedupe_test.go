package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// A webhook registered with fields that leave out etag (say id,name) sends
// deliveries with data.id but no data.etag. Two different updates of the
// same record must both reach the event function; only a re-delivery of the
// same body is a duplicate.
func TestDedupeWithoutETagKeepsDistinctUpdates(t *testing.T) {
	h, store, rec := newTestHandler(t)
	u := registered(t, store, 1, "k")
	send := func(name string) {
		body, _ := json.Marshal(map[string]any{
			"data": map[string]any{"id": 9, "name": name},
			"meta": map[string]any{"event": "updated", "webhook_id": 1},
		})
		if resp := post(t, h, u, body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusOK {
			t.Fatalf("delivery %q: %d", name, resp.Code)
		}
	}
	send("first")
	send("first") // Clio's re-delivery: deduplicated
	send("second")
	if rec.count() != 2 {
		t.Fatalf("event function ran %d times, want 2 (two distinct updates of record 9)", rec.count())
	}
}

// persistentDeduper stands for a Deduper backed by a database: its table outlives the
// Handler (and the process) that wrote it.
type persistentDeduper struct {
	mu    sync.Mutex
	table map[string]bool // key -> done; absent = never seen
}

func (d *persistentDeduper) Claim(_ context.Context, key string) (ClaimState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	done, ok := d.table[key]
	switch {
	case !ok:
		d.table[key] = false
		return ClaimNew, nil
	case done:
		return ClaimDone, nil
	}
	return ClaimInProgress, nil
}

func (d *persistentDeduper) Finish(_ context.Context, key string, ok bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ok {
		d.table[key] = true
	} else {
		delete(d.table, key)
	}
	return nil
}

// With a Deduper that persists, a re-delivery arriving after a restart (a new Handler
// over the same tables) is acknowledged without running the event function again.
func TestDedupeSurvivesRestart(t *testing.T) {
	db := &persistentDeduper{table: map[string]bool{}}
	reg := NewMemoryRegistry() // the registrations table, shared as well
	u := registered(t, reg, 1, "k")
	body := delivery(1, "updated", 9, `"v1"`)
	sig := map[string]string{HeaderSignature: Sign([]byte("k"), body)}

	first := &recorder{}
	h := NewHandler(reg, first.fn, WithLogger(quiet), WithDeduper(db))
	if resp := post(t, h, u, body, sig); resp.Code != http.StatusOK || first.count() != 1 {
		t.Fatalf("first delivery: %d, %d calls", resp.Code, first.count())
	}

	// Restart: a new Handler, nothing in memory, the same tables.
	second := &recorder{}
	h = NewHandler(reg, second.fn, WithLogger(quiet), WithDeduper(db))
	if resp := post(t, h, u, body, sig); resp.Code != http.StatusOK {
		t.Fatalf("re-delivery after the restart: %d", resp.Code)
	}
	if second.count() != 0 {
		t.Fatalf("the re-delivery ran the event function again after the restart")
	}
	body2 := delivery(1, "updated", 9, `"v2"`)
	if resp := post(t, h, u, body2, map[string]string{HeaderSignature: Sign([]byte("k"), body2)}); resp.Code != http.StatusOK || second.count() != 1 {
		t.Fatalf("a new change after the restart: %d, %d calls", resp.Code, second.count())
	}
}
