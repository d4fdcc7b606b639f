package clio

import (
	"cmp"
	"context"
	"fmt"
	"sync"
)

// Offset pagination: the first page says how many records there are (meta.records), the
// others are fetched concurrently by offset and yielded in order. A read whose pages
// disagree with that count fails with ErrCountMismatch instead of ending quietly.

func allOffset[T any](ctx context.Context, c *Client, r Request, s *settings, yield func(*Page[T], error) bool) {
	if s.pageURL != nil {
		yield(nil, &InputError{Field: "PageURL", Reason: "cannot be combined with OffsetPagination"})
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	start := s.startOffset
	fail := func(off, delivered int, err error) {
		yield(nil, &PageError{Offset: off, Delivered: delivered, Err: err, offset: true})
	}
	if start < 0 || start >= offsetCap {
		yield(nil, &InputError{Field: "Resume", Reason: fmt.Sprintf("offset %d is outside 0..%d", start, offsetCap-1)})
		return
	}
	firstReq := r.HTTP.Clone(ctx)
	limit, err := s.prepareQuery(firstReq, pageSpec{offset: true, off: start, limit: 0})
	if err != nil {
		yield(nil, err)
		return
	}
	p, resp, err := fetchPage[T](ctx, c, firstReq, s, nil)
	if err != nil {
		fail(start, 0, err)
		return
	}
	if p == nil {
		return // 304 to a conditional first page: nothing changed
	}
	total := -1
	if p.Meta.Records != nil {
		total = *p.Meta.Records
	}
	if n := len(p.Data); n > 0 && n < limit && start+n < total {
		// Clio served a smaller page than asked for: step by what it serves, or the
		// records between short pages would be skipped.
		limit = n
	}
	if total > offsetCap {
		yield(nil, fmt.Errorf("%w (this list has %d records)", ErrOffsetLimit, total))
		return
	}
	later := laterPage(s)
	if total < 0 {
		offsetSerial(ctx, c, r, later, &Page[T]{Items: p.Data, Response: resp}, start, limit, yield)
		return
	}

	type span struct{ offset, limit int }
	var spans []span
	for off := start + limit; off < total; off += limit {
		spans = append(spans, span{off, min(limit, offsetCap-off)})
	}
	workers := cmp.Or(s.workers, 4)
	results := make([]chan pageResult[T], len(spans))
	for i := range results {
		results[i] = make(chan pageResult[T], 1)
	}
	jobs := make(chan int)
	slots := make(chan struct{}, 2*workers) // pages fetched but not yet consumed
	wg.Go(func() {                          // dispatcher: in order, at most 2*workers pages ahead
		defer close(jobs)
		for i := range spans {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	})
	for range min(workers, len(spans)) {
		wg.Go(func() {
			for i := range jobs {
				req := r.HTTP.Clone(ctx)
				if _, err := later.prepareQuery(req, pageSpec{offset: true, off: spans[i].offset, limit: spans[i].limit}); err != nil {
					results[i] <- pageResult[T]{err: err}
					continue
				}
				p, resp, err := fetchPage[T](ctx, c, req, later, nil)
				results[i] <- pageResult[T]{p, resp, err}
			}
		})
	}

	// The first page is consumed while the next ones are in flight.
	if len(p.Data) < limit && len(spans) > 0 {
		fail(start+len(p.Data), 0, fmt.Errorf("%w: a short first page (%d records) of a list of %d", ErrCountMismatch, len(p.Data), total))
		return
	}
	if !yield(&Page[T]{Items: p.Data, Response: resp}, nil) {
		return
	}
	delivered, next := len(p.Data), start+len(p.Data)
	last := &Page[T]{Items: p.Data, Response: resp}
	for i := range spans {
		var res pageResult[T]
		select {
		case res = <-results[i]:
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
		<-slots
		switch {
		case res.err != nil:
			fail(next, delivered, res.err)
			return
		case res.p == nil:
			fail(next, delivered, errLatePage304)
			return
		case len(res.p.Data) < min(spans[i].limit, total-spans[i].offset):
			fail(next, delivered, fmt.Errorf("%w: meta.records said %d, but the page at offset %d holds %d records",
				ErrCountMismatch, total, spans[i].offset, len(res.p.Data)))
			return
		}
		last = &Page[T]{Items: res.p.Data, Response: res.resp}
		if !yield(last, nil) {
			return
		}
		delivered += len(res.p.Data)
		next += len(res.p.Data)
	}
	// A full last page that still links to a next one says meta.records was stale: look
	// further (serially, as without a count) rather than end quietly.
	if len(last.Items) == limit && last.Response.NextURL != "" && next < offsetCap {
		p2, err := fetchOffsetPage[T](ctx, c, r, later, next, limit)
		if err != nil {
			fail(next, delivered, err)
			return
		}
		if len(p2.Items) > 0 {
			offsetSerial(ctx, c, r, later, p2, next, limit, yield)
		}
	}
}

// fetchOffsetPage fetches the page at off.
func fetchOffsetPage[T any](ctx context.Context, c *Client, r Request, s *settings, off, limit int) (*Page[T], error) {
	req := r.HTTP.Clone(ctx)
	if _, err := s.prepareQuery(req, pageSpec{offset: true, off: off, limit: min(limit, offsetCap-off)}); err != nil {
		return nil, err
	}
	p, resp, err := fetchPage[T](ctx, c, req, s, nil)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errLatePage304
	}
	return &Page[T]{Items: p.Data, Response: resp}, nil
}

// offsetSerial handles the answers without meta.records (and the records past a stale
// count): pages are fetched one after another, from the one at off (already fetched),
// until an empty page, never past the cap.
func offsetSerial[T any](ctx context.Context, c *Client, r Request, s *settings, p *Page[T], off, limit int, yield func(*Page[T], error) bool) {
	delivered := 0
	for {
		if !yield(p, nil) {
			return
		}
		got := len(p.Items)
		if got == 0 {
			// Only an empty page ends the walk: a short one may be the server's own cap on
			// limit, and stopping there would drop records silently.
			return
		}
		off += got
		delivered += got
		if off >= offsetCap {
			yield(nil, ErrOffsetLimit)
			return
		}
		var err error
		p, err = fetchOffsetPage[T](ctx, c, r, s, off, limit)
		if err != nil {
			yield(nil, &PageError{Offset: off, Delivered: delivered, Err: err, offset: true})
			return
		}
	}
}
