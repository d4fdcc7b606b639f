package webhook

import (
	"container/list"
	"context"
	"sync"
)

// ClaimState is the answer of Deduper.Claim.
type ClaimState int

const (
	// ClaimNew means the delivery has not been seen: the caller now owns it
	// and must call Deduper.Finish when done.
	ClaimNew ClaimState = iota
	// ClaimDone means an identical delivery was already handled successfully:
	// it is acknowledged without calling the handler again.
	ClaimDone
	// ClaimInProgress means an identical delivery is being handled right now
	// (Clio retried before the first attempt answered). The Handler answers
	// 409 so that Clio retries later, by which time the first attempt has
	// either succeeded (the retry is then acknowledged as a duplicate) or
	// failed (the retry is then processed).
	ClaimInProgress
)

// Deduper remembers which deliveries were handled, so that Clio's retries of
// an event that was in fact processed (the answer was lost or came too late)
// do not run the handler twice. Keys are built by the Handler from a hash
// of the registration's token, the webhook id, the event name, the record
// id and its etag: the etag changes
// with every modification of a record, so two different updates never share a
// key, while a re-delivery of the same one always does. A payload without an
// etag (the webhook's fields leave it out) is keyed by a hash of its body.
//
// Implementations must be safe for concurrent use. The default,
// MemoryDeduper, forgets everything on restart, so a re-delivery that
// arrives after one runs the event function again. A store that survives
// restarts, and is shared by all replicas when more than one process
// receives the same webhook, is a table such as
//
//	CREATE TABLE clio_webhook_deliveries (
//	    key        text PRIMARY KEY,
//	    done       boolean NOT NULL DEFAULT false,
//	    claimed_at timestamptz NOT NULL DEFAULT now()
//	);
//
// with Claim as INSERT ... ON CONFLICT DO NOTHING (a row inserted is
// ClaimNew; otherwise done tells ClaimDone from ClaimInProgress), Finish as
// UPDATE ... SET done = true, or DELETE when ok is false, and a periodic
// DELETE of rows older than Clio's retry window (hours; a day is ample).
// Redis SET NX with a TTL does the same.
type Deduper interface {
	// Claim reports whether key is new, already done or in progress, and
	// marks it in progress when it is new.
	Claim(ctx context.Context, key string) (ClaimState, error)
	// Finish ends a claim. With ok true the key is remembered as done; with
	// ok false it is forgotten, so Clio's retry of a failed delivery is
	// processed again.
	Finish(ctx context.Context, key string, ok bool) error
}

// DefaultDedupeSize is the number of keys NewMemoryDeduper keeps when given
// a size of zero or less. Clio retries with back-off over hours; this is room
// for that many distinct events in the retry window.
const DefaultDedupeSize = 10000

// MemoryDeduper is a bounded, in-memory, goroutine-safe Deduper. Completed
// keys are evicted least recently used first once size is reached; keys in
// progress are never evicted, so a concurrent re-delivery can't slip through.
type MemoryDeduper struct {
	mu    sync.Mutex
	size  int
	ll    *list.List // of *dedupeEntry, front = most recent; only done keys
	items map[string]*dedupeEntry
}

type dedupeEntry struct {
	key  string
	done bool
	elem *list.Element // nil while in progress
}

// NewMemoryDeduper returns a MemoryDeduper remembering at most size
// completed deliveries (DefaultDedupeSize when size <= 0).
func NewMemoryDeduper(size int) *MemoryDeduper {
	if size <= 0 {
		size = DefaultDedupeSize
	}
	return &MemoryDeduper{size: size, ll: list.New(), items: make(map[string]*dedupeEntry)}
}

// Claim implements Deduper.
func (d *MemoryDeduper) Claim(_ context.Context, key string) (ClaimState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.items[key]; ok {
		if !e.done {
			return ClaimInProgress, nil
		}
		d.ll.MoveToFront(e.elem)
		return ClaimDone, nil
	}
	d.items[key] = &dedupeEntry{key: key}
	return ClaimNew, nil
}

// Finish implements Deduper.
func (d *MemoryDeduper) Finish(_ context.Context, key string, ok bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, found := d.items[key]
	if !found || e.done {
		return nil
	}
	if !ok {
		delete(d.items, key)
		return nil
	}
	e.done = true
	e.elem = d.ll.PushFront(e)
	for d.ll.Len() > d.size {
		old := d.ll.Remove(d.ll.Back()).(*dedupeEntry)
		delete(d.items, old.key)
	}
	return nil
}

// Len returns the number of keys held (done and in progress).
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.items)
}
