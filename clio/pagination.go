package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"sync"
)

// offsetCap is the deepest record Clio serves in offset pagination; past it
// Clio answers 422.
const offsetCap = 10000

// All iterates over every record of a generated list operation. It is what
// the generated All methods call:
//
//	for m, err := range clio.All[gen.Matter](ctx, c, listFunc, clio.Fields("id", "display_number")) {
//		if err != nil { return err }
//		...
//	}
//
// Cursor mode (the default) asks for order=id(asc) and follows
// meta.paging.next exactly as given, fetching the next page while the
// current one is being consumed. A call that sets another order fails with
// an *InputError instead of being silently overridden. Unlimited depth.
// For the list operations whose reference lists no order=id(asc), the
// generated All methods follow the next links without asking for an order.
//
// OffsetPagination(workers) fetches pages concurrently (limit/offset added
// by the iterator) and yields them in order; it fails with ErrOffsetLimit,
// without asking, when the list is deeper than Clio's 10,000-record cap.
//
// A next URL on another scheme or host ends the iteration with
// ErrUntrustedURL (the token is never sent there). An error is yielded at
// most once and ends the iteration. Breaking out of the loop or cancelling
// ctx stops all fetching; no goroutine outlives the loop.
func All[T any](ctx context.Context, c *Client, fn RequestFunc, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cc, err := c.callConfig(ctx, opts)
		if err != nil {
			yield(zero, err)
			return
		}
		if cc.offsetMode {
			allOffset(ctx, c, cc, fn, yield)
			return
		}
		allCursor(ctx, c, cc, fn, yield)
	}
}

// laterPage returns the call config for a page after the first. Conditional
// headers (IfNoneMatch, IfModifiedSince) decide the iteration on its first
// page only: on a later page a 304 would end the iteration early.
func laterPage(cc *callConfig) *callConfig {
	nc := *cc
	nc.cursor = false
	nc.ifNoneMatch, nc.ifModifiedSince, nc.cached = "", "", nil
	return &nc
}

// errLatePage304 reports a 304 to an unconditional request for a later page:
// the rest of the list is unknown, so the iteration must not end quietly.
var errLatePage304 = errors.New("clio: 304 Not Modified for a later page of an unconditional list request; the iteration is incomplete")

type pageResult[T any] struct {
	p   *page[T]
	err error
}

// fetchPage fetches and decodes one list page into buf (allocated when
// nil), straight from the response stream. buf's elements are zeroed
// first: encoding/json decodes into existing elements, so stale fields or
// shared pointers from the previous page would otherwise leak through.
func fetchPage[T any](ctx context.Context, c *Client, cc *callConfig, fn RequestFunc, buf *page[T]) (*page[T], *Response, error) {
	if buf == nil {
		buf = &page[T]{}
	}
	return exec(ctx, c, cc, fn, func(body io.Reader, r *Response) (*page[T], error) {
		clear(buf.Data[:cap(buf.Data)])
		buf.Data = buf.Data[:0]
		buf.Meta = pageMeta{}
		if err := decodeAnswer(c.codec, body, buf); err != nil {
			return nil, err
		}
		buf.fill(r)
		return buf, nil
	})
}

func allCursor[T any](ctx context.Context, c *Client, cc *callConfig, fn RequestFunc, yield func(T, error) bool) {
	var zero T
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel: in-flight fetches end promptly
	defer cancel()

	// Two buffers: one being yielded, one being filled by the prefetch.
	bufs := [2]*page[T]{{}, {}}
	fetch := func(cfg *callConfig, buf *page[T]) chan pageResult[T] {
		ch := make(chan pageResult[T], 1) // buffered: the fetcher never blocks
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := fetchPage(ctx, c, cfg, fn, buf)
			ch <- pageResult[T]{p, err}
		}()
		return ch
	}

	first := *cc
	first.cursor = cc.pageURL == nil
	cur := fetch(&first, bufs[0])
	seen := map[string]bool{} // page URLs fetched: a next URL seen before is a loop
	if cc.pageURL != nil {
		seen[cc.pageURL.String()] = true
	}
	for i := 0; ; i++ {
		res := <-cur
		if res.err != nil {
			yield(zero, res.err)
			return
		}
		if res.p == nil { // 304 Not Modified
			if i > 0 {
				yield(zero, errLatePage304)
			}
			return
		}
		var next chan pageResult[T]
		var nextErr error
		nextURL := res.p.Meta.Paging.Next
		if nextURL != "" {
			u, err := url.Parse(nextURL)
			switch {
			case err != nil || !u.IsAbs():
				nextErr = fmt.Errorf("clio: meta.paging.next is not an absolute URL: %s", sanitizeString(nextURL))
			case !c.origin.matches(u):
				nextErr = fmt.Errorf("%w: meta.paging.next points to %s, not %s", ErrUntrustedURL, sanitizeURL(u), c.base)
			case seen[nextURL]:
				nextErr = fmt.Errorf("clio: meta.paging.next repeats the page URL %s already fetched; stopping to avoid a loop", sanitizeURL(u))
			default:
				nc := laterPage(cc)
				nc.pageURL = u
				next = fetch(nc, bufs[(i+1)%2])
			}
		}
		if err := ctx.Err(); err != nil {
			yield(zero, err)
			return
		}
		for _, v := range res.p.Data {
			if !yield(v, nil) {
				return
			}
		}
		if nextErr != nil {
			yield(zero, nextErr)
			return
		}
		if next == nil {
			return
		}
		cur = next
		seen[nextURL] = true
	}
}

func allOffset[T any](ctx context.Context, c *Client, cc *callConfig, fn RequestFunc, yield func(T, error) bool) {
	var zero T
	if cc.pageURL != nil {
		yield(zero, &InputError{Field: "PageURL", Reason: "cannot be combined with OffsetPagination"})
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	limit := 0
	first := *cc
	first.offset, first.limit, first.limitSeen = 0, 0, &limit
	p, _, err := fetchPage[T](ctx, c, &first, fn, nil)
	if err != nil {
		yield(zero, err)
		return
	}
	if p == nil {
		return
	}
	limit = cmpOr(limit, maxLimit)
	total := -1
	if p.Meta.Records != nil {
		total = *p.Meta.Records
	}
	if n := len(p.Data); n > 0 && n < limit && n < total {
		// Clio served a smaller page than asked for: step by what it
		// serves, or the records between short pages would be skipped.
		limit = n
	}
	if total > offsetCap {
		yield(zero, fmt.Errorf("%w (this list has %d records)", ErrOffsetLimit, total))
		return
	}
	if total < 0 {
		offsetSerial(ctx, c, cc, fn, p, limit, yield)
		return
	}

	type span struct{ offset, limit int }
	var spans []span
	for off := limit; off < total; off += limit {
		spans = append(spans, span{off, min(limit, offsetCap-off)})
	}
	workers := cmpOr(cc.workers, 4)
	results := make([]chan pageResult[T], len(spans))
	for i := range results {
		results[i] = make(chan pageResult[T], 1)
	}
	jobs := make(chan int)
	slots := make(chan struct{}, 2*workers) // pages fetched but not yet consumed
	wg.Add(1)
	go func() { // dispatcher: in order, at most 2*workers pages ahead
		defer wg.Done()
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
	}()
	for range min(workers, len(spans)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				pc := laterPage(cc)
				pc.offset, pc.limit = spans[i].offset, spans[i].limit
				p, _, err := fetchPage[T](ctx, c, pc, fn, nil)
				results[i] <- pageResult[T]{p, err}
			}
		}()
	}

	// The first page is consumed while the next ones are in flight.
	for _, v := range p.Data {
		if !yield(v, nil) {
			return
		}
	}
	for i := range spans {
		var res pageResult[T]
		select {
		case res = <-results[i]:
		case <-ctx.Done():
			yield(zero, ctx.Err())
			return
		}
		<-slots
		if res.err != nil {
			yield(zero, res.err)
			return
		}
		if res.p == nil {
			yield(zero, errLatePage304)
			return
		}
		for _, v := range res.p.Data {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// offsetSerial handles the rare answer without meta.records: pages are
// fetched one after another until a short page, never past the cap.
func offsetSerial[T any](ctx context.Context, c *Client, cc *callConfig, fn RequestFunc, p *page[T], limit int, yield func(T, error) bool) {
	var zero T
	off := 0
	for {
		for _, v := range p.Data {
			if !yield(v, nil) {
				return
			}
		}
		got := len(p.Data)
		if got == 0 {
			// Only an empty page ends the walk: a short one may be the server's own cap on
			// limit, and stopping there would drop records silently.
			return
		}
		off += got
		if off >= offsetCap {
			yield(zero, ErrOffsetLimit)
			return
		}
		pc := laterPage(cc)
		pc.offset, pc.limit = off, min(limit, offsetCap-off)
		var err error
		p, _, err = fetchPage(ctx, c, pc, fn, p)
		if err != nil {
			yield(zero, err)
			return
		}
		if p == nil {
			yield(zero, errLatePage304)
			return
		}
	}
}
