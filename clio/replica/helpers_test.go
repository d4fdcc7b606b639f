package replica_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

// testResources are the collections the tests keep in step.
var testResources = []string{"contacts", "matters", "activities", "tasks"}

// firmFixture is one fake firm with records in several collections.
type firmFixture struct {
	t     testing.TB
	srv   *cliotest.Server
	token string
	ids   map[string][]int64 // live ids per collection
	gone  map[string][]int64 // deleted ids per collection
}

func newFirm(t testing.TB, perResource int, opts ...cliotest.Option) *firmFixture {
	t.Helper()
	srv := cliotest.NewServer(append([]cliotest.Option{cliotest.WithT(t), cliotest.WithRateLimit(0, 0)}, opts...)...)
	t.Cleanup(srv.Close)
	f := &firmFixture{t: t, srv: srv, token: srv.IssueToken().AccessToken, ids: map[string][]int64{}, gone: map[string][]int64{}}
	f.seed(perResource)
	return f
}

func (f *firmFixture) seed(n int) {
	recs := func(mk func(i int) map[string]any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	contacts := f.srv.MustInsert(f.t, "contacts", recs(func(i int) map[string]any {
		return map[string]any{"type": "Person", "first_name": "Ada", "last_name": fmt.Sprint("Lovelace ", i), "name": fmt.Sprint("Ada Lovelace ", i)}
	})...)
	f.ids["contacts"] = append(f.ids["contacts"], contacts...)
	f.ids["matters"] = append(f.ids["matters"], f.srv.MustInsert(f.t, "matters", recs(func(i int) map[string]any {
		return map[string]any{"description": fmt.Sprint("Matter ", i), "status": "open", "client": map[string]any{"id": contacts[i%len(contacts)]}}
	})...)...)
	f.ids["activities"] = append(f.ids["activities"], f.srv.MustInsert(f.t, "activities", recs(func(i int) map[string]any {
		return map[string]any{"type": "TimeEntry", "quantity": float64(600 * (i + 1)), "note": fmt.Sprint("Call ", i)}
	})...)...)
	f.ids["tasks"] = append(f.ids["tasks"], f.srv.MustInsert(f.t, "tasks", recs(func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprint("Task ", i), "description": "Review", "priority": "Normal"}
	})...)...)
}

func (f *firmFixture) source(t testing.TB) *replica.ClientSource {
	t.Helper()
	s, err := replica.NewWatchedClient(context.Background(), clio.WithBaseURL(f.srv.URL), clio.WithToken(f.token),
		clio.WithHTTPClient(f.srv.Client()), clio.WithRetryer(&clio.StandardRetryer{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call sends a request to the fake as an API user would, outside the engine.
func (f *firmFixture) call(t testing.TB, method, path string, body any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, f.srv.URL+"/api/v4/"+path, rd)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, msg)
	}
}

// update changes a record through the API (it gets a new etag and updated_at).
func (f *firmFixture) update(t testing.TB, collection string, id int64, data map[string]any) {
	f.call(t, http.MethodPatch, fmt.Sprintf("%s/%d.json", collection, id), map[string]any{"data": data})
}

// remove deletes a record through the API.
func (f *firmFixture) remove(t testing.TB, collection string, id int64) {
	f.call(t, http.MethodDelete, fmt.Sprintf("%s/%d.json", collection, id), nil)
	live := f.ids[collection][:0]
	for _, v := range f.ids[collection] {
		if v != id {
			live = append(live, v)
		}
	}
	f.ids[collection] = live
	f.gone[collection] = append(f.gone[collection], id)
}

func openSQLite(t testing.TB) *sqlitesink.Sink {
	t.Helper()
	s, err := sqlitesink.Open(context.Background(), filepath.Join(t.TempDir(), "clio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func resources(t testing.TB, names ...string) []replica.Resource {
	t.Helper()
	rs, err := replica.LookupResources(names...)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// compareWithFake checks the sink against the fake: every live record stored once, not
// deleted, with the fake's etag and fields; every deleted record marked deleted.
func compareWithFake(t testing.TB, f *firmFixture, db *sql.DB, firm string, ph func(int) string) {
	t.Helper()
	for _, coll := range testResources {
		rows, err := db.Query(fmt.Sprintf(`SELECT id, etag, deleted, COALESCE(CAST(record AS TEXT), '') FROM %s WHERE firm = %s`, coll, ph(1)), firm)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			etag    string
			deleted bool
			record  string
		}
		stored := map[int64]row{}
		for rows.Next() {
			var id int64
			var r row
			if err := rows.Scan(&id, &r.etag, &r.deleted, &r.record); err != nil {
				t.Fatal(err)
			}
			if _, dup := stored[id]; dup {
				t.Errorf("%s %d stored twice", coll, id)
			}
			stored[id] = r
		}
		rows.Close()
		live := 0
		for _, r := range stored {
			if !r.deleted {
				live++
			}
		}
		if live != len(f.ids[coll]) || f.srv.Count(coll) != len(f.ids[coll]) {
			t.Errorf("%s: %d live records stored, the fake has %d (fixture %d)", coll, live, f.srv.Count(coll), len(f.ids[coll]))
		}
		for _, id := range f.ids[coll] {
			want, _ := f.srv.Record(coll, id)
			got, ok := stored[id]
			switch {
			case !ok:
				t.Errorf("%s %d missing from the sink", coll, id)
			case got.deleted:
				t.Errorf("%s %d marked deleted but Clio has it", coll, id)
			case got.etag != want["etag"]:
				t.Errorf("%s %d: stored etag %q, Clio has %q (update not applied)", coll, id, got.etag, want["etag"])
			default:
				var rec map[string]any
				if err := json.Unmarshal([]byte(got.record), &rec); err != nil {
					t.Errorf("%s %d: stored record is not JSON: %v", coll, id, err)
				} else if rec["updated_at"] != want["updated_at"] || rec["etag"] != want["etag"] {
					t.Errorf("%s %d: stored record %v/%v, Clio has %v/%v", coll, id, rec["etag"], rec["updated_at"], want["etag"], want["updated_at"])
				}
			}
		}
		for _, id := range f.gone[coll] {
			if r, ok := stored[id]; ok && !r.deleted {
				t.Errorf("%s %d deleted in Clio but not in the sink", coll, id)
			}
		}
	}
}

func sqlitePH(int) string { return "?" }
