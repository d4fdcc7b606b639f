package clio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/clio-go/clio-go/gen"
)

// A call without a parameter Clio requires fails with an *InputError naming it, and
// nothing is sent.
func TestRequiredParametersAreCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		coreJSON(w, 200, map[string]any{"data": []any{}, "meta": map[string]any{"paging": map[string]any{}, "records": 0}})
	}))
	defer srv.Close()
	c, _ := newCoreClient(t, srv)
	ctx := context.Background()

	_, _, err := c.DocumentVersions.List(ctx, 7, nil)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "id" || !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("List(ctx, 7, nil) = %v, want an *InputError naming id", err)
	}
	for _, err := range c.DocumentVersions.All(ctx, 7, nil) {
		if !errors.As(err, &ie) || ie.Field != "id" {
			t.Errorf("All(ctx, 7, nil) = %v, want an *InputError naming id", err)
		}
		break
	}
	if _, _, err := c.Notes.List(ctx, nil); !errors.As(err, &ie) || ie.Field != "type" {
		t.Errorf("Notes.List(ctx, nil) = %v, want an *InputError naming type", err)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests sent without the required parameter", n)
	}

	// With the parameter, the call goes out.
	if _, _, err := c.DocumentVersions.List(ctx, 7, &gen.ListDocumentVersionsParams{Id: 7}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Notes.List(ctx, &gen.ListNotesParams{Type: gen.NoteTypeMatter}); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestMatchTemplate(t *testing.T) {
	for _, c := range []struct {
		tmpl, path string
		want       bool
	}{
		{"/api/v4/documents/{id}/versions.json", "/api/v4/documents/12/versions.json", true},
		{"/api/v4/documents/{id}/versions.json", "/api/v4/documents//versions.json", false},
		{"/api/v4/documents/{id}/versions.json", "/api/v4/documents/12/versions", false},
		{"/api/v4/notes.json", "/api/v4/notes.json", true},
		{"/api/v4/notes.json", "/api/v4/notes/1.json", false},
		{"/api/v4/notes/{id}.json", "/api/v4/notes/1.json", true},
		{"/api/v4/notes/{id}.json", "/api/v4/notes/.json", false},
	} {
		if got := matchTemplate(c.tmpl, c.path); got != c.want {
			t.Errorf("matchTemplate(%q, %q) = %v", c.tmpl, c.path, got)
		}
	}
}

// The check runs on every request: matching the table costs no allocation.
func TestMatchTemplateDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		for i := range requiredParams {
			matchTemplate(requiredParams[i].path, "/api/v4/matters/12.json")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per check, want 0", n)
	}
}
