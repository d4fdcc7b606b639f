package clio

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// A call, start to finish: a service method builds its request with a request builder of
// package gen, hands it to Do (or DoNoContent, ListPage, All, Pages, Refresh) with the
// call's options, which become one settings value; the query is completed here, and
// send (pipeline.go) runs the attempts and decodes the answer.

// Request is one operation built by a request builder of package gen, ready to be sent
// through the Client: the generated services build one per call, and so can callers of
// operations no service method fits:
//
//	req := clio.NewRequest(gen.NewGetMatterRequest(c.BaseURL(), id, nil))
//	m, resp, err := clio.Do[gen.Matter](ctx, c, req, clio.MatterFields)
type Request struct {
	// HTTP is the request the builder returned. Its URL must be on the Client's base URL.
	HTTP *http.Request
	// Err is the builder's error: the call returns it without sending anything.
	Err error
	// DefaultFields is sent as the fields parameter when the call names no Fields. Clio
	// answers only id and etag to a call without fields; the services pass the record's
	// default set (MatterFields and the like).
	DefaultFields FieldSet
}

// NewRequest pairs the two results of a gen request builder into a Request.
func NewRequest(req *http.Request, err error) Request { return Request{HTTP: req, Err: err} }

// settingsFor applies a call's options and checks the request against them.
func (c *Client) settingsFor(ctx context.Context, r Request, opts []CallOption) (settings, error) {
	var s settings
	if err := checkContext(ctx); err != nil {
		return s, err
	}
	if r.Err != nil {
		return s, r.Err
	}
	if r.HTTP == nil || r.HTTP.URL == nil {
		return s, &InputError{Field: "Request", Reason: "has no HTTP request; build one with a gen.NewXxxRequest builder"}
	}
	for _, o := range opts {
		switch o := o.(type) {
		case nil:
		case FieldSet:
			o.applyCall(&s) // the common option, called directly: s stays on the stack
		default:
			applyEscaping(o, &s)
		}
	}
	if s.err != nil {
		return s, s.err
	}
	if !c.origin.matches(r.HTTP.URL) {
		return s, fmt.Errorf("%w: %s (client base %s)", ErrUntrustedURL, sanitizeURL(r.HTTP.URL), c.base)
	}
	if s.pageURL != nil && !c.origin.matches(s.pageURL) {
		return s, fmt.Errorf("%w: %s (client base %s)", ErrUntrustedURL, sanitizeURL(s.pageURL), c.base)
	}
	if !s.fieldsSet && len(r.DefaultFields.items) > 0 {
		s.fields, s.fieldsSet = r.DefaultFields, true
	}
	return s, nil
}

// applyEscaping applies an option through the interface, which makes the compiler move
// its target to the heap: a copy is moved, so settingsFor's own stays on the stack.
func applyEscaping(o CallOption, s *settings) {
	c := *s
	o.applyCall(&c)
	*s = c
}

// notAList refuses the paging options on a call that is not a list: they would rewrite its
// URL or add limit and offset to it.
func (s *settings) notAList() error {
	switch {
	case s.pageURL != nil:
		return &InputError{Field: "PageURL", Reason: "only list calls (List, All, Pages) have pages"}
	case s.pageSize != 0:
		return &InputError{Field: "PageSize", Reason: "only list calls (List, All, Pages) have pages"}
	case s.offsetMode:
		return &InputError{Field: "OffsetPagination", Reason: "only iterators (All, Pages) page by offset"}
	case s.ifModifiedSince != "":
		return &InputError{Field: "IfModifiedSince", Reason: "applies to lists; a single record is refreshed with Refresh (If-None-Match)"}
	}
	return nil
}

// pageSpec is how an iterator asks for one page.
type pageSpec struct {
	cursor     bool // first cursor page: order=id(asc), limit
	offset     bool // offset mode: offset and limit below
	off, limit int
}

// prepareQuery completes the request's URL from the settings: the fields, and for a page
// its position. It returns the limit in effect (offset mode steps by it).
func (s *settings) prepareQuery(req *http.Request, p pageSpec) (int, error) {
	if s.pageURL == nil || p.offset {
		// A next page's URL is Clio's own and carries what the first page sent.
		if err := checkRequired(req); err != nil {
			return 0, err
		}
	}
	if s.pageURL != nil && !p.offset {
		// Follow next/previous exactly as given: no re-encoding, no re-sent parameters.
		u := *s.pageURL
		req.URL, req.Host = &u, ""
		return 0, nil
	}
	raw := req.URL.RawQuery
	fields, fieldsSet := s.fields, s.fieldsSet // s is shared by the workers of an iteration: read only
	if strings.Contains(raw, "fields=") {
		// A request built by hand may name fields in its query: checked, and only once.
		f, err := ParseFields(req.URL.Query().Get("fields"))
		switch {
		case err != nil:
			return 0, err
		case s.explicitFields:
			return 0, &InputError{Field: "fields", Reason: "set both in the request's query and with Fields; use one"}
		}
		fields, fieldsSet = f, true
	}
	if !p.cursor && !p.offset && s.pageSize == 0 {
		// A Get, Create or one List page: append, no parse and re-encode.
		if fieldsSet && !strings.Contains(raw, "fields=") {
			if raw != "" {
				raw += "&"
			}
			req.URL.RawQuery = raw + "fields=" + fields.query
		}
		if strings.Contains(raw, "limit=") {
			return 0, checkLimit(req.URL.Query().Get("limit"))
		}
		return 0, nil
	}
	q := req.URL.Query()
	if fieldsSet {
		q.Set("fields", fields.String())
	}
	callerLimit := 0
	if l := q.Get("limit"); l != "" {
		if err := checkLimit(l); err != nil {
			return 0, err
		}
		if s.pageSize != 0 {
			return 0, &InputError{Field: "limit", Reason: "set both in the generated parameters and with PageSize; use one"}
		}
		callerLimit, _ = strconv.Atoi(l)
	}
	if s.pageSize > 0 {
		q.Set("limit", strconv.Itoa(s.pageSize))
	}
	if p.cursor && !s.followNext {
		if o := q.Get("order"); o != "" && o != "id(asc)" {
			return 0, &InputError{Field: "order", Reason: fmt.Sprintf("cursor pagination requires order=id(asc), but the call sets %q; drop the order parameter, or iterate with OffsetPagination to keep it", o)}
		}
		if q.Has("offset") {
			return 0, &InputError{Field: "offset", Reason: "cursor pagination cannot start at an offset; use OffsetPagination"}
		}
		q.Set("order", "id(asc)")
	}
	if p.cursor && !q.Has("limit") {
		q.Set("limit", strconv.Itoa(maxLimit))
	}
	limit := 0
	if p.offset {
		if q.Has("page_token") {
			return 0, &InputError{Field: "page_token", Reason: "offset pagination does not combine with page_token"}
		}
		if q.Has("offset") {
			return 0, &InputError{Field: "offset", Reason: "offset is managed by the iterator in OffsetPagination mode"}
		}
		limit = p.limit
		if limit == 0 {
			limit = cmp.Or(s.pageSize, callerLimit, maxLimit)
		}
		q.Set("offset", strconv.Itoa(p.off))
		q.Set("limit", strconv.Itoa(limit))
	}
	req.URL.RawQuery = q.Encode()
	return limit, nil
}

func checkLimit(l string) error {
	if l == "" {
		return nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > maxLimit {
		return &InputError{Field: "limit", Reason: fmt.Sprintf("%q is outside 1..%d (Clio's maximum page size)", l, maxLimit)}
	}
	return nil
}

// Do sends an operation that answers one record ({"data": {...}}) and decodes it into T.
// It is what the generated Get, Create and Update methods call, and the way to send any
// other operation built with package gen (see Request). An answer whose data is null or
// missing is an error wrapping ErrEmptyAnswer, not a zero record.
func Do[T any](ctx context.Context, c *Client, r Request, opts ...CallOption) (T, *Response, error) {
	x, err := c.single(ctx, r, opts)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return send(ctx, c.pipeline, x, decodeRecord[T])
}

// DoNoContent sends an operation whose answer has no useful body (DELETE answers 204).
// It is what the generated Delete methods call.
func DoNoContent(ctx context.Context, c *Client, r Request, opts ...CallOption) (*Response, error) {
	x, err := c.single(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	_, resp, err := send(ctx, c.pipeline, x, discardAnswer)
	return resp, err
}

// Refresh sends a GET of one record conditional on its etag (If-None-Match): when the
// record has not changed since cached was read, Clio answers 304 without a body and
// Refresh returns cached with Response.NotModified set, not an error, so callers keep
// one code path. The generated Refresh methods call it with the record's Etag, which
// ties cached to the call's record type at compile time:
//
//	m, resp, err := c.Matters.Refresh(ctx, id, nil, old)
func Refresh[T any](ctx context.Context, c *Client, r Request, cached T, etag string, opts ...CallOption) (T, *Response, error) {
	if err := checkETag("If-None-Match", etag); err != nil {
		return cached, nil, err
	}
	opts = append(opts[:len(opts):len(opts)], callOptionFunc(func(s *settings) { s.ifNoneMatch = etag }))
	v, resp, err := Do[T](ctx, c, r, opts...)
	if err == nil && resp.NotModified {
		return cached, resp, nil
	}
	return v, resp, err
}

// single prepares a call that is not a list: its settings, checked, and its query.
func (c *Client) single(ctx context.Context, r Request, opts []CallOption) (exchange, error) {
	s, err := c.settingsFor(ctx, r, opts)
	if err == nil {
		err = s.notAList()
	}
	if err == nil {
		_, err = s.prepareQuery(r.HTTP, pageSpec{})
	}
	if err != nil {
		return exchange{}, err
	}
	return exchange{req: r.HTTP, s: s}, nil
}

// decodeRecord reads a single-record answer. data must be present: {"data": null} is not
// a record.
func decodeRecord[T any](codec Codec, body io.Reader, _ *Response) (T, error) {
	var env struct {
		Data *T `json:"data"`
	}
	if err := decodeAnswer(codec, body, &env); err != nil {
		var zero T
		return zero, err
	}
	if env.Data == nil {
		var zero T
		return zero, ErrEmptyAnswer
	}
	return *env.Data, nil
}

func discardAnswer(Codec, io.Reader, *Response) (struct{}, error) { return struct{}{}, nil }
