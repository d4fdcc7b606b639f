package replica

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clio-go/clio-go/clio"
)

// ClientSource is a Source on a *clio.Client: the client's retries, rate limiter, token
// refresh and host checks all apply. It is this package's only dependence on package clio.
type ClientSource struct {
	c *clio.Client
}

// NewClientSource returns a Source on an existing client.
func NewClientSource(c *clio.Client) *ClientSource { return &ClientSource{c: c} }

// NewWatchedClient builds a client with opts and the Source on it.
func NewWatchedClient(ctx context.Context, opts ...clio.Option) (*ClientSource, error) {
	c, err := clio.NewClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return &ClientSource{c: c}, nil
}

// Client returns the client the Source lists with.
func (s *ClientSource) Client() *clio.Client { return s.c }

// RateLimitWaits implements RateLimitWaits with the client's rate limiter (see
// clio.RateLimiter.Limited): the 429 answers it has seen and the waits they announced.
// A client built WithoutRateLimiter reports none.
func (s *ClientSource) RateLimitWaits() (int64, time.Duration) {
	if l := s.c.RateLimiter(); l != nil {
		return l.Limited()
	}
	return 0, 0
}

// Request is a clio.Request to a URL on c's host, for the operations that have no
// generated call here: sent with clio.Do, ListPage or All, it goes through c's pipeline
// (token, retries, rate limiter, host guard), and the call options (fields, paging) apply
// as to any call. body, when not nil, is sent as JSON. A Request is sent once.
func Request(c *clio.Client, method, url string, body []byte) clio.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err == nil && body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err == nil && !strings.HasPrefix(url, c.BaseURL()) {
		err = fmt.Errorf("replica: %s is not on the client's host %s", url, c.BaseURL())
	}
	return clio.Request{HTTP: req, Err: err}
}

// onBase moves a next URL onto the client's scheme and host. A next URL in a checkpoint
// may come from an earlier process that reached Clio through another address (a proxy,
// a fake on another port); the token only ever goes to the client's own host.
func (s *ClientSource) onBase(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("replica: the checkpoint's next page %q is not an absolute URL", next)
	}
	base, err := url.Parse(s.c.BaseURL())
	if err != nil {
		return "", err
	}
	u.Scheme, u.Host = base.Scheme, base.Host
	return u.String(), nil
}

// shortError renders a *clio.Error without its request URL.
type shortError struct{ e *clio.Error }

func (s *shortError) Error() string {
	msg := fmt.Sprintf("Clio answered %d %s: %s", s.e.StatusCode, s.e.Type, s.e.Message)
	if s.e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", s.e.RetryAfter)
	}
	if s.e.RequestID != "" {
		msg += " [request " + s.e.RequestID + "]"
	}
	return msg
}

func (s *shortError) Unwrap() error { return s.e }

// List implements Source with clio.ListPage: records are decoded as json.RawMessage, so
// they keep every field Clio sent.
func (s *ClientSource) List(ctx context.Context, q Query) (*Page, error) {
	opts := []clio.CallOption{}
	if q.PageURL != "" {
		next, err := s.onBase(q.PageURL)
		if err != nil {
			return nil, err
		}
		opts = append(opts, clio.PageURL(next))
	}
	base := s.c.BaseURL() + "/api/v4/" + q.Resource + ".json"
	v := url.Values{}
	if q.PageURL == "" {
		v.Set("order", "id(asc)")
		if q.Fields != "" {
			v.Set("fields", q.Fields)
		}
		if q.Limit > 0 {
			v.Set("limit", strconv.Itoa(q.Limit))
		}
		if !q.UpdatedSince.IsZero() {
			v.Set("updated_since", q.UpdatedSince.UTC().Format(time.RFC3339))
		}
	}
	recs, resp, err := clio.ListPage[json.RawMessage](ctx, s.c, Request(s.c, http.MethodGet, base+"?"+v.Encode(), nil), opts...)
	if err != nil {
		var ce *clio.Error
		if errors.As(err, &ce) {
			// The URL carries every field of the resource (kilobytes): the error says
			// what Clio answered, and unwraps to the full *clio.Error.
			return nil, &shortError{ce}
		}
		return nil, err
	}
	p := &Page{Records: recs, Next: resp.NextURL, Total: resp.Records}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		p.Date = d.UTC()
	}
	return p, nil
}
