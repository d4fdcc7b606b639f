package clio_test

// Issue 11's findings against the fake's fault injection (hardening_test.go has them
// against httptest servers).

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
)

func TestFakeFindingsHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// 3: truncated JSON with HTTP fine is retried on a GET.
	srv, c, _ := fakeClient(t, nil, testRetries(3))
	contact, ids := seedMatters(t, srv, 3)
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultTruncatedJSON, Method: http.MethodGet, Path: matterPath(ids[0])})
	if m, _, err := c.Matters.Get(ctx, ids[0], nil); err != nil || m.Description != "Matter 1" {
		t.Fatalf("3: %+v %v", m, err)
	}

	// 5: a redirect to another host is not followed; a POST answered 303 is an error.
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRedirect, Method: http.MethodPost, Path: mattersPath})
	before := srv.Count("matters")
	_, _, err := c.Matters.Create(ctx, nil, newMatter(contact, "redirected"))
	if e, ok := errors.AsType[*clio.Error](err); !ok || e.StatusCode != http.StatusSeeOther {
		t.Fatalf("5: POST answered 303: %v", err)
	}
	if srv.Count("matters") != before {
		t.Fatal("5: the redirected POST created a matter")
	}

	// 6: an endless chain of empty pages ends with ErrPaging.
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultEmptyPage, Method: http.MethodGet, Path: mattersPath, Count: -1})
	var last error
	for _, err := range c.Matters.All(ctx, nil) {
		last = err
	}
	srv.ClearFaults()
	if !errors.Is(last, clio.ErrPaging) {
		t.Fatalf("6: %v", last)
	}

	// 9: a 429 storm longer than MaxAttempts is waited out, not a failure.
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Method: http.MethodGet, Path: matterPath(ids[1]), RetryAfter: -1, Burst: 4})
	if _, _, err := c.Matters.Get(ctx, ids[1], nil); err != nil {
		t.Fatalf("9: %v", err)
	}

	// 10: {"data": null} is an error, not an empty record.
	srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultBody, Method: http.MethodGet, Path: matterPath(ids[2]), Body: []byte(`{"data":null}`)})
	if m, _, err := c.Matters.Get(ctx, ids[2], nil); !errors.Is(err, clio.ErrEmptyAnswer) || m.Id != 0 {
		t.Fatalf("10: %+v %v", m, err)
	}
}
