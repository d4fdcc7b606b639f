package replica

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults of an Engine.
const (
	DefaultOverlap   = 2 * time.Minute
	DefaultScanEvery = 24 * time.Hour
	DefaultPageSize  = 200
)

// Engine keeps one firm's resources in step. An Engine is not safe for concurrent use:
// run one per firm (several firms may share a Sink).
type Engine struct {
	// Firm names the firm in the Sink (several firms can share one).
	Firm string
	// Source lists Clio's pages, Sink stores them.
	Source Source
	Sink   Sink
	// Resources are the collections kept in step (LookupResources).
	Resources []Resource
	// Overlap is subtracted from the mark of the last pass when a delta starts, so that
	// clock skew and records updated in the same second are never missed (default
	// DefaultOverlap).
	Overlap time.Duration
	// ScanEvery is how often an id scan looks for deletes no webhook reported (default
	// DefaultScanEvery; negative: never).
	ScanEvery time.Duration
	// PageSize is the limit of each page (default 200, Clio's maximum).
	PageSize int
	// Progress, when set, is called after every page applied and when a pass ends.
	Progress func(Progress)
	// Now is the engine's clock (default time.Now); it decides when scans are due.
	Now func() time.Time
}

// Progress reports what an Engine did so far in the current pass of a resource.
type Progress struct {
	Firm     string
	Resource string
	Pass     Pass
	// Records read and Pages applied in this pass (since this process resumed it).
	Records int64
	Pages   int64
	// Total is the number of records the pass lists (meta.records), -1 when unknown.
	Total int
	// RateLimitWaits and RateLimitWaited are the 429 answers the Source saw so far and
	// the waits they announced (when the Source implements RateLimitWaits).
	RateLimitWaits  int64
	RateLimitWaited time.Duration
	// Done is true on the last report of a pass.
	Done bool
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) check() error {
	switch {
	case e.Source == nil:
		return errors.New("replica: Engine.Source is nil")
	case e.Sink == nil:
		return errors.New("replica: Engine.Sink is nil")
	case e.Firm == "":
		return errors.New("replica: Engine.Firm is empty; name the firm the records belong to")
	case e.PageSize < 0 || e.PageSize > 200:
		return fmt.Errorf("replica: Engine.PageSize %d is outside 1..200 (Clio's maximum page size)", e.PageSize)
	}
	for _, r := range e.Resources {
		if _, err := TableName(r.Name); err != nil {
			return err
		}
	}
	return nil
}

// Run brings every resource up to date once: it resumes the pass a checkpoint says is in
// progress, else runs the full pass of a resource never synced or a delta pass, then an
// id scan when one is due. It stops at the first error; running it again resumes.
//
// A pass copies Clio as it was when the pass started: a record changed while it ran,
// behind its cursor, is fetched by the delta pass of the next Run (its updated_at is
// after the pass's mark). Run it periodically, or after webhook deliveries.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.check(); err != nil {
		return err
	}
	for _, r := range e.Resources {
		if err := e.SyncResource(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// SyncResource brings one resource up to date, as Run does for each.
func (e *Engine) SyncResource(ctx context.Context, r Resource) error {
	if err := e.check(); err != nil {
		return err
	}
	cp, err := e.checkpoint(ctx, r)
	if err != nil {
		return err
	}
	prog := Progress{Firm: e.Firm, Resource: r.Name, Total: -1}
	if cp.Pass != PassScan {
		for more := true; more; {
			if cp, more, err = e.recordsPage(ctx, r, cp, &prog); err != nil {
				return err
			}
		}
		if !e.scanDue(cp) {
			return nil
		}
	}
	prog = Progress{Firm: e.Firm, Resource: r.Name, Total: -1}
	for more := true; more; {
		if cp, more, err = e.scanPage(ctx, r, cp, &prog); err != nil {
			return err
		}
	}
	return nil
}

// Step applies one page of a resource, for job queues that run one page per job (see
// contrib/river): it resumes the pass in progress, or starts the next pass (an id scan
// when one is due, else a full or delta pass). more is true while the pass has pages
// left.
func (e *Engine) Step(ctx context.Context, r Resource) (more bool, err error) {
	if err := e.check(); err != nil {
		return false, err
	}
	cp, err := e.checkpoint(ctx, r)
	if err != nil {
		return false, err
	}
	prog := Progress{Firm: e.Firm, Resource: r.Name, Total: -1}
	if cp.Pass == PassScan || (cp.Pass == PassNone && e.scanDue(cp)) {
		_, more, err = e.scanPage(ctx, r, cp, &prog)
	} else {
		_, more, err = e.recordsPage(ctx, r, cp, &prog)
	}
	return more, err
}

func (e *Engine) checkpoint(ctx context.Context, r Resource) (Checkpoint, error) {
	cp, err := e.Sink.Checkpoint(ctx, e.Firm, r.Name)
	if err != nil {
		return cp, fmt.Errorf("replica: reading the checkpoint of %s/%s: %w", e.Firm, r.Name, err)
	}
	return cp, nil
}

func (e *Engine) scanDue(cp Checkpoint) bool {
	return e.ScanEvery >= 0 && cp.Synced && e.now().Sub(cp.ScannedAt) >= cmpOr(e.ScanEvery, DefaultScanEvery)
}

// recordsPage applies the next page of the full or delta pass in progress, or the first
// page of a new one, and returns the checkpoint stored with it.
func (e *Engine) recordsPage(ctx context.Context, r Resource, cp Checkpoint, prog *Progress) (Checkpoint, bool, error) {
	q := Query{Resource: r.Name, Fields: r.Fields, Limit: cmpOr(e.PageSize, DefaultPageSize)}
	switch {
	case (cp.Pass == PassFull || cp.Pass == PassDelta) && cp.Next != "":
		q = Query{Resource: r.Name, PageURL: cp.Next}
	case !cp.Synced || !r.UpdatedSince:
		cp.Pass, cp.Mark = PassFull, time.Time{}
	default:
		cp.Pass, cp.Mark = PassDelta, time.Time{}
		q.UpdatedSince = cp.Since.Add(-cmpOr(e.Overlap, DefaultOverlap))
	}
	page, err := e.Source.List(ctx, q)
	if err != nil {
		return cp, false, fmt.Errorf("replica: listing %s of %s (%s pass): %w", r.Name, e.Firm, cp.Pass, err)
	}
	if cp.Mark.IsZero() {
		cp.Mark = cmpOr(page.Date, e.now().UTC().Truncate(time.Second))
	}
	b := &Batch{Firm: e.Firm, Resource: r.Name, Upserts: make([]Record, 0, len(page.Records))}
	for _, raw := range page.Records {
		rec, err := ParseRecord(raw)
		if err != nil {
			return cp, false, fmt.Errorf("replica: %s of %s: %w", r.Name, e.Firm, err)
		}
		b.Upserts = append(b.Upserts, rec)
	}
	next := cp
	next.Next = page.Next
	if page.Next == "" {
		if cp.Pass == PassFull {
			// A full pass lists every id: the next scan is due a period later.
			next.ScannedAt = e.now()
		}
		next.Pass, next.Synced, next.Since, next.Mark = PassNone, true, cp.Mark, time.Time{}
	}
	b.Checkpoint = &next
	if err := e.Sink.Apply(ctx, b); err != nil {
		return cp, false, fmt.Errorf("replica: storing a page of %s of %s: %w", r.Name, e.Firm, err)
	}
	e.report(prog.page(cp.Pass, len(b.Upserts), page))
	return next, page.Next != "", nil
}

// scanPage applies the next page of the id scan in progress, or the first of a new one:
// every stored id that Clio no longer lists is marked deleted.
func (e *Engine) scanPage(ctx context.Context, r Resource, cp Checkpoint, prog *Progress) (Checkpoint, bool, error) {
	q := Query{Resource: r.Name, Fields: "id", Limit: cmpOr(e.PageSize, DefaultPageSize)}
	if cp.Pass == PassScan && cp.Next != "" {
		q = Query{Resource: r.Name, PageURL: cp.Next}
	} else {
		cp.Pass, cp.ScanAfter, cp.Next = PassScan, 0, ""
	}
	page, err := e.Source.List(ctx, q)
	if err != nil {
		return cp, false, fmt.Errorf("replica: scanning the ids of %s of %s: %w", r.Name, e.Firm, err)
	}
	gone := &Gone{After: cp.ScanAfter, Present: make([]int64, 0, len(page.Records))}
	for _, raw := range page.Records {
		rec, err := ParseRecord(raw)
		if err != nil {
			return cp, false, fmt.Errorf("replica: %s of %s: %w", r.Name, e.Firm, err)
		}
		if rec.ID <= max(gone.Through, gone.After) {
			return cp, false, fmt.Errorf("replica: the id scan of %s of %s got id %d after %d: Clio's pages are not in id order", r.Name, e.Firm, rec.ID, max(gone.Through, gone.After))
		}
		gone.Present = append(gone.Present, rec.ID)
		gone.Through = rec.ID
	}
	next := cp
	next.Next = page.Next
	switch {
	case page.Next == "":
		gone.Through = 0 // the last page: everything above is gone too
		next.Pass, next.ScanAfter, next.ScannedAt = PassNone, 0, e.now()
	case gone.Through == 0:
		return cp, false, fmt.Errorf("replica: the id scan of %s of %s got an empty page with a next page", r.Name, e.Firm)
	default:
		next.ScanAfter = gone.Through
	}
	if err := e.Sink.Apply(ctx, &Batch{Firm: e.Firm, Resource: r.Name, Gone: gone, Checkpoint: &next}); err != nil {
		return cp, false, fmt.Errorf("replica: storing an id scan page of %s of %s: %w", r.Name, e.Firm, err)
	}
	e.report(prog.page(PassScan, len(gone.Present), page))
	return next, page.Next != "", nil
}

// page counts a page of n records applied in a pass.
func (p *Progress) page(pass Pass, n int, pg *Page) Progress {
	p.Pass = pass
	p.Records += int64(n)
	p.Pages++
	p.Total = pg.Total
	p.Done = pg.Next == ""
	return *p
}

func (e *Engine) report(p Progress) {
	if e.Progress == nil {
		return
	}
	if w, ok := e.Source.(RateLimitWaits); ok {
		p.RateLimitWaits, p.RateLimitWaited = w.RateLimitWaits()
	}
	e.Progress(p)
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
