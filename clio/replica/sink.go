package replica

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// Sink stores the copy. Apply must be atomic: the records, the deletes and the checkpoint
// of a Batch are all stored or none is, so that a crash never separates a checkpoint from
// the records it covers.
type Sink interface {
	// Checkpoint returns the stored checkpoint of a firm's resource, or the zero
	// Checkpoint when none was stored yet.
	Checkpoint(ctx context.Context, firm, resource string) (Checkpoint, error)
	// Apply stores a Batch in one transaction.
	Apply(ctx context.Context, b *Batch) error
}

// Batch is what one page changes in a Sink, applied in one transaction.
type Batch struct {
	Firm     string
	Resource string
	// Upserts are inserted or replace the stored record of the same id, unless the
	// stored one is newer (a later updated_at) or marked deleted.
	Upserts []Record
	// Deletes are ids to mark deleted. An id not stored yet gets a deleted mark alone
	// (a tombstone), so a page read before the delete cannot insert it afterwards.
	Deletes []int64
	// Gone, when set, marks deleted every stored id in its range that is not in Present:
	// one page of an id scan.
	Gone *Gone
	// Checkpoint, when set, replaces the stored checkpoint.
	Checkpoint *Checkpoint
}

// Gone is one page of an id scan: the ids in (After, Through] that Clio still lists.
// Through is 0 on the last page: the range then has no upper bound.
type Gone struct {
	After   int64
	Through int64
	Present []int64
}

// Record is one record as Clio sent it, with the columns a Sink indexes it by.
type Record struct {
	ID        int64
	ETag      string
	UpdatedAt time.Time
	JSON      json.RawMessage
}

// recordHead is the part of a record the columns come from.
type recordHead struct {
	ID        json.Number `json:"id"`
	ETag      string      `json:"etag"`
	UpdatedAt string      `json:"updated_at"`
}

// ParseRecord reads the id, etag and updated_at of a record as Clio sent it. A record
// without an integer id is refused: it could not be stored without losing it or
// overwriting another.
func ParseRecord(raw json.RawMessage) (Record, error) {
	var h recordHead
	if err := json.Unmarshal(raw, &h); err != nil {
		return Record{}, fmt.Errorf("replica: record is not a JSON object: %w", err)
	}
	id, err := h.ID.Int64()
	if err != nil || id <= 0 {
		return Record{}, fmt.Errorf("replica: record has no positive integer id (id %q)", h.ID)
	}
	r := Record{ID: id, ETag: h.ETag, JSON: raw}
	if h.UpdatedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, h.UpdatedAt)
		if err != nil {
			return Record{}, fmt.Errorf("replica: record %d has an updated_at that is not RFC 3339: %q", id, h.UpdatedAt)
		}
		r.UpdatedAt = t.UTC()
	}
	return r, nil
}

// Tables remembers which tables a Sink created, so that each is created once per process.
// The zero value is ready to use; it is safe for concurrent use.
type Tables struct {
	mu   sync.Mutex
	done map[string]bool
}

// Ensure returns the table of a resource (TableName), calling create the first time.
func (t *Tables) Ensure(resource string, create func(table string) error) (string, error) {
	name, err := TableName(resource)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done[name] {
		return name, nil
	}
	if err := create(name); err != nil {
		return "", err
	}
	if t.done == nil {
		t.done = map[string]bool{}
	}
	t.done[name] = true
	return name, nil
}

var tableName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TableName is the table a Sink keeps a resource in: the collection path with "/" as "_"
// ("utbms/codes" is "utbms_codes"). It refuses names that are not plain identifiers, so
// that a resource name can never inject SQL.
func TableName(resource string) (string, error) {
	b := []byte(resource)
	for i, c := range b {
		if c == '/' {
			b[i] = '_'
		}
	}
	if !tableName.Match(b) {
		return "", fmt.Errorf("replica: resource %q is not a lower-case collection name (letters, digits, _ and /)", resource)
	}
	return string(b), nil
}
