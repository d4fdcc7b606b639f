package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// A webhook registered with fields that leave out etag (say id,name) sends
// deliveries with data.id but no data.etag. Two different updates of the
// same record must both reach the event function; only a re-delivery of the
// same body is a duplicate.
func TestDedupeWithoutETagKeepsDistinctUpdates(t *testing.T) {
	h, store, rec := newTestHandler(t)
	store.SetSecret(context.Background(), 1, []byte("k"))
	send := func(name string) {
		body, _ := json.Marshal(map[string]any{
			"data": map[string]any{"id": 9, "name": name},
			"meta": map[string]any{"event": "updated", "webhook_id": 1},
		})
		if resp := post(t, h, "/", body, map[string]string{HeaderSignature: Sign([]byte("k"), body)}); resp.Code != http.StatusOK {
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
