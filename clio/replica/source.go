package replica

import (
	"context"
	"encoding/json"
	"time"
)

// Source lists one page of a Clio collection. ClientSource is the one backed by a
// *clio.Client; tests and other transports may supply their own.
type Source interface {
	List(ctx context.Context, q Query) (*Page, error)
}

// Query asks for one page.
type Query struct {
	// Resource is the collection path under /api/v4 without ".json" ("matters").
	Resource string
	// PageURL, when set, is a next URL Clio gave: it is followed as given and the other
	// fields are ignored.
	PageURL string
	// Fields is the fields parameter.
	Fields string
	// UpdatedSince, when set, is the updated_since filter.
	UpdatedSince time.Time
	// Limit is the page size (1..200).
	Limit int
}

// Page is one page of records, as Clio sent them.
type Page struct {
	Records []json.RawMessage
	// Next is meta.paging.next: "" on the last page.
	Next string
	// Total is meta.records (the records the query matches), -1 when unknown.
	Total int
	// Date is Clio's clock when it answered (the Date header), zero when absent.
	Date time.Time
}

// RateLimitWaits is implemented by a Source that can tell how often it had to wait for
// Clio's rate-limit window and for how long; the engine reports it with its progress.
type RateLimitWaits interface {
	RateLimitWaits() (count int64, waited time.Duration)
}
