package clio

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"net/http"
	"net/url"
	"sync"
)

// offsetCap is the deepest record Clio serves in offset pagination; past it
// Clio answers 422.
const offsetCap = 10000

// maxEmptyPages is how many empty pages in a row, each with a next link, end an iteration
// with ErrPaging: a real list does not have them, an endless chain of them would run forever.
const maxEmptyPages = 16

// maxVisited bounds the memory used to recognise a next link seen before (a loop): the
// most recent links are remembered, as 8-byte hashes.
const maxVisited = 1 << 14

var (
	// ErrPaging ends an iteration whose pages do not end: a next link seen before, or a
	// run of empty pages that each point to another.
	ErrPaging = errors.New("clio: paging does not end")
	// ErrCountMismatch ends an offset iteration whose pages disagree with meta.records:
	// stopping quietly would lose records or claim ones that are not there.
	ErrCountMismatch = errors.New("clio: the pages disagree with meta.records")
	// errLatePage304 reports a 304 to an unconditional request for a later page:
	// the rest of the list is unknown, so the iteration must not end quietly.
	errLatePage304 = errors.New("clio: 304 Not Modified for a later page of an unconditional list request; the iteration is incomplete")
)

// Page is one page of a list answer, with the Response it came in (meta.records in
// Records, the next page's URL, the rate-limit budget).
type Page[T any] struct {
	Items    []T
	Response *Response
}

// PageError ends an iteration that failed after it started. It says where to resume:
// pass Resume() with the same parameters and options, and the iteration continues with
// the first record not delivered, none lost and none repeated.
type PageError struct {
	// NextURL is the page that failed, in cursor mode ("" when it was the first one).
	NextURL string
	// Offset is the position of the first record not delivered, in offset mode.
	Offset int
	// Delivered counts the records yielded before the error.
	Delivered int
	Err       error
	offset    bool
}

// Error says where the iteration stopped and why.
func (e *PageError) Error() string {
	if e.offset {
		return fmt.Sprintf("clio: iteration stopped at offset %d after %d records: %v", e.Offset, e.Delivered, e.Err)
	}
	if e.NextURL == "" {
		return fmt.Sprintf("clio: iteration stopped at the first page: %v", e.Err)
	}
	return fmt.Sprintf("clio: iteration stopped after %d records, at page %s: %v", e.Delivered, sanitizeString(e.NextURL), e.Err)
}

// Unwrap returns the cause (a *Error, a transport error, ErrPaging...).
func (e *PageError) Unwrap() error { return e.Err }

// Resume returns the option that restarts the iteration where it stopped.
func (e *PageError) Resume() CallOption {
	if e.offset {
		off := e.Offset
		return callOptionFunc(func(s *settings) { s.startOffset = off })
	}
	if e.NextURL == "" {
		return callOptionFunc(func(*settings) {})
	}
	return PageURL(e.NextURL)
}

// ListPage sends a list operation and returns one page, with resp.NextURL / PreviousURL /
// Records filled in. Pass PageURL(resp.NextURL) to get the next page. It is what the
// generated List methods call.
func ListPage[T any](ctx context.Context, c *Client, r Request, opts ...CallOption) ([]T, *Response, error) {
	s, err := c.settingsFor(ctx, r, opts)
	if err == nil {
		_, err = s.prepareQuery(r.HTTP, pageSpec{})
	}
	if err != nil {
		return nil, nil, err
	}
	p, resp, err := fetchPage[T](ctx, c, r.HTTP, &s, nil)
	if err != nil || p == nil {
		return nil, resp, err
	}
	return p.Data, resp, nil
}

// All iterates over every record of a list operation. It is what the generated All
// methods call.
//
// Cursor mode (the default) asks for order=id(asc) and follows meta.paging.next exactly as
// given, fetching the next page while the current one is being consumed. A call that sets
// another order fails with an *InputError instead of being silently overridden. Unlimited
// depth. For the list operations whose reference lists no order=id(asc), the generated
// All methods follow the next links without asking for an order.
//
// OffsetPagination(workers) fetches pages concurrently (limit/offset added by the
// iterator) and yields them in order; it fails with ErrOffsetLimit, without asking, when
// the list is deeper than Clio's 10,000-record cap.
//
// An error is yielded at most once and ends the iteration; once the iteration has started
// it is a *PageError, whose Resume continues where it stopped. A next URL on another
// scheme or host ends the iteration with ErrUntrustedURL (the token is never sent there),
// one seen before or a long run of empty pages with ErrPaging. Breaking out of the loop or
// cancelling ctx stops all fetching; no goroutine outlives the loop.
func All[T any](ctx context.Context, c *Client, r Request, opts ...CallOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for p, err := range pages[T](ctx, c, r, opts, true) {
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range p.Items {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// Pages iterates over the pages of a list operation, as All does over its records; each
// page carries its *Response. It is what the generated Pages methods call.
func Pages[T any](ctx context.Context, c *Client, r Request, opts ...CallOption) iter.Seq2[*Page[T], error] {
	return pages[T](ctx, c, r, opts, false)
}

// pages is the paging engine. With reuse, page buffers are recycled once the consumer
// moves on (All copies the records out); without, every page is its own.
func pages[T any](ctx context.Context, c *Client, r Request, opts []CallOption, reuse bool) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		s, err := c.settingsFor(ctx, r, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		if s.offsetMode {
			allOffset(ctx, c, r, &s, yield)
			return
		}
		if s.startOffset != 0 {
			yield(nil, &InputError{Field: "Resume", Reason: "an offset to resume at needs OffsetPagination"})
			return
		}
		allCursor(ctx, c, r, &s, reuse, yield)
	}
}

// laterPage returns the settings for a page after the first. Conditional headers
// (IfModifiedSince) decide the iteration on its first page only: on a later page a 304
// would end the iteration early.
func laterPage(s *settings) *settings {
	ns := *s
	ns.ifNoneMatch, ns.ifModifiedSince = "", ""
	return &ns
}

type pageResult[T any] struct {
	p    *page[T]
	resp *Response
	err  error
}

// fetchPage fetches and decodes one list page into buf (allocated when nil), straight
// from the response stream. buf's elements are zeroed first: a codec decodes into
// existing elements, so stale fields or shared pointers from the previous page would
// otherwise leak through. A nil page and no error is a 304.
func fetchPage[T any](ctx context.Context, c *Client, req *http.Request, s *settings, buf *page[T]) (*page[T], *Response, error) {
	if buf == nil {
		buf = &page[T]{}
	}
	return send(ctx, c.pipeline, exchange{req: req, s: *s}, func(codec Codec, body io.Reader, r *Response) (*page[T], error) {
		clear(buf.Data[:cap(buf.Data)])
		buf.Data = buf.Data[:0]
		buf.Meta = pageMeta{}
		if err := decodeAnswer(codec, body, buf); err != nil {
			return nil, err
		}
		buf.fill(r)
		return buf, nil
	})
}

// visited remembers the most recent page URLs of an iteration, as hashes, in bounded
// memory.
type visited struct {
	seed maphash.Seed
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newVisited() *visited {
	return &visited{seed: maphash.MakeSeed(), set: map[uint64]struct{}{}}
}

// add records u and reports whether it was seen before.
func (v *visited) add(u string) bool {
	h := maphash.String(v.seed, u)
	if _, ok := v.set[h]; ok {
		return true
	}
	if len(v.ring) < maxVisited {
		v.ring = append(v.ring, h)
	} else {
		delete(v.set, v.ring[v.next])
		v.ring[v.next] = h
		v.next = (v.next + 1) % maxVisited
	}
	v.set[h] = struct{}{}
	return false
}

// checkNext vets a next link before it is fetched.
func (c *Client) checkNext(next string, seen *visited, empties int) (*url.URL, error) {
	u, err := url.Parse(next)
	switch {
	case err != nil || !u.IsAbs():
		return nil, fmt.Errorf("clio: meta.paging.next is not an absolute URL: %s", sanitizeString(next))
	case !c.origin.matches(u):
		return nil, fmt.Errorf("%w: meta.paging.next points to %s, not %s", ErrUntrustedURL, sanitizeURL(u), c.base)
	case seen.add(next):
		return nil, fmt.Errorf("%w: meta.paging.next repeats the page URL %s already fetched", ErrPaging, sanitizeURL(u))
	case empties >= maxEmptyPages:
		return nil, fmt.Errorf("%w: %d empty pages in a row, each with a next link", ErrPaging, empties)
	}
	return u, nil
}

func allCursor[T any](ctx context.Context, c *Client, r Request, s *settings, reuse bool, yield func(*Page[T], error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel: in-flight fetches end promptly
	defer cancel()

	var bufs [2]*page[T] // with reuse: one being yielded, one being filled by the prefetch
	buffer := func(i int) *page[T] {
		if !reuse {
			return nil
		}
		if bufs[i%2] == nil {
			bufs[i%2] = &page[T]{}
		}
		return bufs[i%2]
	}
	fetch := func(req *http.Request, ps *settings, buf *page[T]) chan pageResult[T] {
		ch := make(chan pageResult[T], 1) // buffered: the fetcher never blocks
		wg.Go(func() {
			p, resp, err := fetchPage(ctx, c, req, ps, buf)
			ch <- pageResult[T]{p, resp, err}
		})
		return ch
	}

	first := r.HTTP.Clone(ctx)
	if _, err := s.prepareQuery(first, pageSpec{cursor: s.pageURL == nil}); err != nil {
		yield(nil, err)
		return
	}
	later := laterPage(s)
	seen := newVisited()
	current := ""
	if s.pageURL != nil {
		current = s.pageURL.String()
		seen.add(current)
	}
	cur := fetch(first, s, buffer(0))
	delivered, empties := 0, 0
	for i := 0; ; i++ {
		res := <-cur
		if res.err != nil {
			yield(nil, &PageError{NextURL: current, Delivered: delivered, Err: res.err})
			return
		}
		if res.p == nil { // 304 Not Modified
			if i > 0 {
				yield(nil, &PageError{NextURL: current, Delivered: delivered, Err: errLatePage304})
			}
			return
		}
		if len(res.p.Data) == 0 {
			empties++
		} else {
			empties = 0
		}
		var next chan pageResult[T]
		var nextErr error
		nextURL := res.p.Meta.Paging.Next
		if nextURL != "" {
			u, err := c.checkNext(nextURL, seen, empties)
			if err != nil {
				nextErr = err
			} else {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
				if err != nil {
					nextErr = err
				} else {
					next = fetch(req, later, buffer(i+1))
				}
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		if !yield(&Page[T]{Items: res.p.Data, Response: res.resp}, nil) {
			return
		}
		delivered += len(res.p.Data)
		if nextErr != nil {
			yield(nil, &PageError{NextURL: nextURL, Delivered: delivered, Err: nextErr})
			return
		}
		if next == nil {
			return
		}
		cur, current = next, nextURL
	}
}
