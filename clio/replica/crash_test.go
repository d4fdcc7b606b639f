package replica_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/webhook"
)

// armFaults arms a random mix of Clio's failures on the list paths.
func armFaults(srv *cliotest.Server, rng *rand.Rand, storms *int) {
	path := "/api/v4/*"
	switch rng.IntN(6) {
	case 0:
		srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultStatus, Method: "GET", Path: path, Count: 1 + rng.IntN(5), Status: 500 + rng.IntN(4)})
	case 1:
		srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultDrop, Method: "GET", Path: path, Count: 1 + rng.IntN(2)})
	case 2:
		srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultTruncate, Method: "GET", Path: path, Count: 1 + rng.IntN(3)})
	case 3:
		if *storms < 1 { // each 429 costs a one-second wait: one storm per phase
			*storms++
			srv.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Method: "GET", Path: path, Count: 2 + rng.IntN(2), RetryAfter: time.Second})
		}
	}
}

// runUntilDone runs the engine until a Run completes, with faults armed before each try
// and the context cancelled after a random number of pages (a crash at a random point:
// the page in flight, or its transaction, is abandoned).
func runUntilDone(t *testing.T, eng *replica.Engine, f *firmFixture, rng *rand.Rand) (crashes int) {
	t.Helper()
	storms := 0
	for try := 0; ; try++ {
		if try == 200 {
			t.Fatal("the sync did not complete in 200 tries")
		}
		armFaults(f.srv, rng, &storms)
		ctx, cancel := context.WithCancel(context.Background())
		crashAfter := int64(-1)
		if try < 12 {
			crashAfter = rng.Int64N(6)
		}
		var pages int64
		eng.Progress = func(replica.Progress) {
			pages++
			if pages == crashAfter {
				cancel()
			}
		}
		err := eng.Run(ctx)
		cancel()
		if err == nil {
			f.srv.ClearFaults()
			return crashes
		}
		if !errors.Is(err, context.Canceled) {
			t.Logf("try %d failed (resuming): %v", try, err)
		}
		crashes++
	}
}

func TestSyncResumesAfterFaultsAndCrashes(t *testing.T) {
	forEachSink(t, testResumes)
}

func testResumes(t *testing.T, sink replica.Sink, db *sql.DB, ph func(int) string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 13))
	f := newFirm(t, 500)
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: sink, Resources: resources(t, testResources...),
		ScanEvery: time.Nanosecond} // a scan after every pass
	crashes := runUntilDone(t, eng, f, rng)
	compareWithFake(t, f, db, "acme", ph)

	// While the copy is idle: updates, creates, deletes reported by a webhook, and
	// deletes no webhook reported (the id scan must find them).
	for _, coll := range testResources {
		ids := f.ids[coll]
		for i := 0; i < 40; i++ {
			id := ids[rng.IntN(len(ids))]
			switch coll {
			case "contacts":
				f.update(t, coll, id, map[string]any{"first_name": "Grace"})
			case "matters":
				f.update(t, coll, id, map[string]any{"description": "Updated"})
			case "activities":
				f.update(t, coll, id, map[string]any{"note": "Updated"})
			case "tasks":
				f.update(t, coll, id, map[string]any{"name": "Updated"})
			}
		}
	}
	// Deletes after every update: a matter whose client is gone cannot be updated.
	for _, coll := range testResources {
		for i := 0; i < 10; i++ {
			id := f.ids[coll][rng.IntN(len(f.ids[coll]))]
			f.remove(t, coll, id)
			if i%2 == 0 {
				model := map[string]string{"contacts": "contact", "matters": "matter", "activities": "activity", "tasks": "task"}[coll]
				if err := eng.ApplyEvent(context.Background(), webhook.Event{Name: "deleted", Model: model, ID: id}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	f.seed(230)
	crashes += runUntilDone(t, eng, f, rng)
	compareWithFake(t, f, db, "acme", ph)
	if crashes == 0 {
		t.Error("no run was interrupted: the test did not exercise resuming")
	}
	t.Logf("%d interrupted runs", crashes)
}
