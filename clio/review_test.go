package clio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A Retry-After too large for a time.Duration must not wrap to a negative
// wait: that turned "wait a very long time" into "retry at once".
func TestReviewHugeRetryAfterDoesNotWrap(t *testing.T) {
	for _, v := range []string{"1e10", "9999999999999", "Inf"} {
		h := http.Header{"Retry-After": {v}}
		if d, ok := retryAfter(h, time.Now()); !ok || d < 0 {
			t.Errorf("retryAfter(%q) = %v, %v; want a non-negative wait", v, d, ok)
		}
		r := &StandardRetryer{}
		for _, elapsed := range []time.Duration{0, time.Second} {
			d, again := r.RetryDelay(Attempt{Response: &http.Response{StatusCode: http.StatusTooManyRequests, Header: h}, Number: 1, Elapsed: elapsed})
			if again {
				t.Errorf("Retry-After %q (elapsed %s): retry after %v; want no retry (beyond MaxElapsed)", v, elapsed, d)
			}
		}
		l := NewRateLimiter()
		l.Observe(http.StatusTooManyRequests, h)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := l.Wait(ctx)
		cancel()
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("Retry-After %q: limiter Wait = %v; want ErrRateLimited (window outlasts the deadline)", v, err)
		}
	}
}

// The answer (and the *Error built from it) must not hold the bearer token
// in Response.Request.Header: errors are logged, dumped and wrapped.
func TestReviewResponseRequestCarriesNoToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/missing.json" {
			coreClioError(w, http.StatusNotFound, "NotFound", "nope")
			return
		}
		coreJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	_, resp, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/missing.json", nil))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	for name, r := range map[string]*http.Response{"Error.Response": e.Response, "Response": resp.Response} {
		if r.Request == nil {
			t.Fatalf("%s.Request is nil", name)
		}
		if got := r.Request.Header.Get("Authorization"); strings.Contains(got, coreToken) {
			t.Errorf("%s.Request.Header carries the token: %q", name, got)
		}
	}
	_, resp, err = Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/ok.json", nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Request.Header.Get("Authorization"); strings.Contains(got, coreToken) {
		t.Errorf("Response.Request.Header carries the token: %q", got)
	}
}

// A transport failure while confirming a custom action must not put the
// custom_action_nonce (a credential, redacted everywhere else) in the error.
func TestReviewConfirmTransportErrorRedactsNonce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	c, _ := newCoreClient(t, srv, WithMaxAttempts(1))
	srv.Close()
	r := httptest.NewRequest("GET", "/cb?custom_action_id=1&user_id=2&subject_url=/api/v4/matters/1.json&custom_action_nonce=NONCE-SECRET", nil)
	_, err := c.CustomActions.Confirm(context.Background(), r, "")
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if strings.Contains(err.Error(), "NONCE-SECRET") {
		t.Fatalf("error leaks the nonce: %v", err)
	}
}

type reviewDocAPI struct{ putURL string }

func (a reviewDocAPI) createDocument(context.Context, documentData, string) (documentInfo, error) {
	var d documentInfo
	d.ID = 7
	d.LatestDocumentVersion.UUID = "u-1"
	d.LatestDocumentVersion.PutURL = a.putURL
	return d, nil
}

func (a reviewDocAPI) updateDocument(context.Context, int64, documentData, string) (documentInfo, error) {
	return documentInfo{}, errors.New("unexpected update")
}

// A storage PUT that fails at the transport level must not put the signed
// put_url (its signature is a credential for the file) in the error, as the
// download path already ensures.
func TestReviewUploadErrorRedactsSignedURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	putURL := srv.URL + "/bucket/obj?X-Amz-Credential=CRED-SECRET&X-Amz-Signature=SIG-SECRET"
	srv.Close()
	u := &uploader{api: reviewDocAPI{putURL: putURL}, storage: &http.Client{}}
	_, err := u.upload(context.Background(), UploadParams{
		Parent: DocumentParent{ID: 1, Type: ParentMatter}, Name: "a.txt",
		Body: struct{ io.Reader }{strings.NewReader("hello")}, Size: 5, // one attempt: no back-off
	})
	if err == nil {
		t.Fatal("no error from a closed storage host")
	}
	if s := err.Error(); strings.Contains(s, "SIG-SECRET") || strings.Contains(s, "CRED-SECRET") {
		t.Fatalf("error leaks the signed URL: %v", err)
	}
}

// reviewPagedList serves ids 1..total, per pages of at most pageCap records
// whatever limit asks, in cursor mode (next URLs) or offset mode. With
// condPer304 it answers 304 to a conditional request for any page after the
// first, as a server evaluating If-Modified-Since per page would.
func reviewPagedList(t *testing.T, total, pageCap int, condPer304 bool) *httptest.Server {
	return pagedList(t, total, pageCap, condPer304, true)
}

// pagedList serves total records, at most pageCap a page, with or without meta.records.
func pagedList(t *testing.T, total, pageCap int, condPer304, withRecords bool) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start := 0
		if v := q.Get("page_token"); v != "" {
			start, _ = strconv.Atoi(v)
		}
		if v := q.Get("offset"); v != "" {
			start, _ = strconv.Atoi(v)
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 || limit > pageCap {
			limit = pageCap
		}
		if condPer304 && start > 0 && (r.Header.Get("If-Modified-Since") != "" || r.Header.Get("If-None-Match") != "") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		var data []map[string]any
		for i := start; i < min(start+limit, total); i++ {
			data = append(data, map[string]any{"id": i + 1})
		}
		paging := map[string]any{}
		if !q.Has("offset") && start+limit < total {
			paging["next"] = fmt.Sprintf("%s/api/v4/list.json?limit=%d&page_token=%d", srv.URL, limit, start+limit)
		}
		meta := map[string]any{"paging": paging}
		if withRecords {
			meta["records"] = total
		}
		coreJSON(w, http.StatusOK, map[string]any{"data": data, "meta": meta})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func reviewCollect(t *testing.T, c *Client, opts ...CallOption) ([]int64, error) {
	t.Helper()
	var ids []int64
	for r, err := range All[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/list.json", nil), opts...) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// A conditional list iteration (IfModifiedSince, IfNoneMatch) is decided by
// its first page; later pages must not be conditional, or a 304 there ends
// the iteration early without an error.
func TestReviewConditionalIterationIsNotTruncated(t *testing.T) {
	srv := reviewPagedList(t, 5, 2, true)
	c, _ := newCoreClient(t, srv)
	for _, mode := range []struct {
		name string
		opts []CallOption
	}{
		{"cursor", nil},
		{"offset", []CallOption{OffsetPagination(2)}},
	} {
		opts := append([]CallOption{PageSize(2), IfModifiedSince(time.Now().Add(-time.Hour))}, mode.opts...)
		ids, err := reviewCollect(t, c, opts...)
		if err != nil || len(ids) != 5 {
			t.Errorf("%s: got ids %v, err %v; want all 5 records", mode.name, ids, err)
		}
	}
}

// When the server serves fewer records per page than the limit asked for,
// offset pagination must not skip the records between its short pages.
func TestReviewOffsetPaginationServerPageCap(t *testing.T) {
	srv := reviewPagedList(t, 10, 3, false)
	c, _ := newCoreClient(t, srv)
	ids, err := reviewCollect(t, c, OffsetPagination(2), PageSize(5))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("got ids %v, want %v", ids, want)
	}
}

// A next URL that goes back to a page already fetched (A → B → A) must stop
// the iteration with an error, not loop forever.
func TestReviewCursorNextCycleStops(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("page_token")
		next := map[string]string{"": "a", "a": "b", "b": "a"}[tok]
		coreJSON(w, http.StatusOK, map[string]any{"data": []map[string]any{{"id": 1}},
			"meta": map[string]any{"paging": map[string]any{"next": srv.URL + "/api/v4/list.json?page_token=" + next}}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 0
	var last error
	for _, err := range All[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/list.json", nil)) {
		if err != nil {
			last = err
			break
		}
		if n++; n > 100 {
			break
		}
	}
	if n > 100 || last == nil || errors.Is(last, context.DeadlineExceeded) {
		t.Fatalf("after %d records, err %v; want a loop error within a few pages", n, last)
	}
}

// Without meta.records the offset walk cannot know the total: a page shorter than asked
// (the server's own cap) must not end it.
func TestOffsetPaginationWithoutRecordsCountKeepsGoing(t *testing.T) {
	srv := pagedList(t, 10, 3, false, false)
	c, _ := newCoreClient(t, srv)
	ids, err := reviewCollect(t, c, OffsetPagination(2), PageSize(5))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("got ids %v, want %v", ids, want)
	}
}
