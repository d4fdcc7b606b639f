package replica_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
)

func TestRunCopiesEveryRecordWithAllFields(t *testing.T) {
	f := newFirm(t, 450)
	sink := openSQLite(t)
	var pages int64
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: sink, Resources: resources(t, testResources...),
		Progress: func(p replica.Progress) { pages++ }}
	if err := eng.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	compareWithFake(t, f, sink.DB(), "acme", sqlitePH)
	// 450 records are 3 pages per resource; no id scan is due right after a full pass.
	if pages != 4*3 {
		t.Errorf("%d pages reported, want %d", pages, 4*3)
	}
	var desc, client string
	if err := sink.DB().QueryRow(`SELECT record->>'description', record->>'client' FROM matters WHERE firm = 'acme' AND id = ?`, f.ids["matters"][7]).Scan(&desc, &client); err != nil {
		t.Fatal(err)
	}
	if desc != "Matter 7" || !strings.Contains(client, `"name":"Ada Lovelace 7"`) {
		t.Errorf("stored matter 7 has description %q and client %s: fields were lost", desc, client)
	}
}

func TestStepAppliesOnePageAtATime(t *testing.T) {
	f := newFirm(t, 450)
	sink := openSQLite(t)
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: sink, Resources: resources(t, "matters"), ScanEvery: time.Nanosecond}
	ctx := context.Background()
	var steps []bool
	for range 6 { // a full pass of 3 pages, then the id scan that is due, 3 pages
		more, err := eng.Step(ctx, eng.Resources[0])
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, more)
		cp, _ := sink.Checkpoint(ctx, "acme", "matters")
		if more != (cp.Next != "") {
			t.Errorf("step %d: more=%v but the checkpoint's next page is %q", len(steps), more, cp.Next)
		}
	}
	if fmt.Sprint(steps) != "[true true false true true false]" {
		t.Errorf("steps said more=%v", steps)
	}
	var n int
	if err := sink.DB().QueryRow(`SELECT COUNT(*) FROM matters WHERE firm = 'acme' AND deleted = 0`).Scan(&n); err != nil || n != 450 {
		t.Errorf("%d matters stored (%v), want 450", n, err)
	}
}

// The engine reports the 429 answers its Source met and the waits they announced, from the
// client's rate limiter: Clio's atypical rate-limit answer counts too.
func TestProgressReportsRateLimitWaits(t *testing.T) {
	f := newFirm(t, 20)
	f.srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Path: "/api/v4/matters*", RetryAfter: time.Second})
	f.srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Path: "/api/v4/contacts*", RetryAfter: -1, OddBody: true})
	var last replica.Progress
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: openSQLite(t), Resources: resources(t, "contacts", "matters"),
		Progress: func(p replica.Progress) { last = p }}
	if err := eng.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if last.RateLimitWaits != 2 || last.RateLimitWaited != time.Second {
		t.Fatalf("the last report says %d waits, %s; want 2 waits, 1s", last.RateLimitWaits, last.RateLimitWaited)
	}
}
