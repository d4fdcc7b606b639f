package clio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRefreshReturnsCachedOn304(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if ims := r.Header.Get("If-Modified-Since"); ims != "" {
			if _, err := time.Parse(time.RFC1123Z, ims); err != nil {
				t.Errorf("If-Modified-Since %q not RFC 2822", ims)
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1, "name": "fresh"}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx := context.Background()
	cached := coreRec{ID: 1, Name: "cached"}
	v, resp, err := Refresh(ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json", nil), cached, `"e1"`)
	if err != nil || !resp.NotModified || v.Name != "cached" {
		t.Fatalf("304: v=%+v resp=%+v err=%v", v, resp, err)
	}
	v, resp, err = Refresh(ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json", nil), cached, `"e0"`)
	if err != nil || resp.NotModified || v.Name != "fresh" {
		t.Fatalf("200: v=%+v err=%v", v, err)
	}
	recs, resp, err := ListPage[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters.json", nil), IfModifiedSince(time.Now().Add(-time.Hour)))
	if err != nil || !resp.NotModified || recs != nil {
		t.Fatalf("list 304: %v %+v %v", recs, resp, err)
	}
	if _, _, err := Refresh(ctx, c, coreReq(c, "GET", "/x", nil), cached, ""); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("empty etag: %v", err)
	}
	// IfModifiedSince on a single record would return an empty record on 304: refused.
	if _, _, err := Do[coreRec](ctx, c, coreReq(c, "GET", "/api/v4/matters/1.json", nil), IfModifiedSince(time.Now())); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("IfModifiedSince on Do: %v", err)
	}
}

func TestIfMatch412IsPreconditionFailed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Match") != `"current"` {
			coreClioError(w, 412, "PreconditionFailed", "record changed")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "PATCH", "/api/v4/matters/1.json", []byte(`{"data":{}}`)), IfMatch(`"stale"`))
	if !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("err = %v", err)
	}
	if _, err := DoNoContent(context.Background(), c, coreReq(c, "DELETE", "/api/v4/matters/1.json", nil), IfMatch(`"current"`)); err != nil {
		t.Fatal(err)
	}
}

func TestGoneForRetiredVersion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-VERSION") == "4.0.1" {
			coreClioError(w, 410, "Gone", "API version 4.0.1 is retired")
			return
		}
		coreJSON(w, 200, map[string]any{"data": map[string]any{"id": 1}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	_, _, err := Do[coreRec](context.Background(), c, coreReq(c, "GET", "/api/v4/users/who_am_i.json", nil), UseAPIVersion("4.0.1"))
	if !errors.Is(err, ErrGone) {
		t.Fatalf("err = %v", err)
	}
}
