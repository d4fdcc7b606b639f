package clio_test

// Bulk reads and writes against the fake while it injects the whole mix of faults
// (cliotest.Chaos): 5xx bursts, resets before and after the work, bodies cut short,
// truncated JSON and 429 storms.

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/gen"
)

// chaosClient is a Client on a fake whose list and create requests meet the fault mix.
func chaosClient(t *testing.T, rate float64, seed uint64) (*cliotest.Server, *clio.Client) {
	t.Helper()
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0), cliotest.WithFaultSeed(seed))
	t.Cleanup(srv.Close)
	c, err := clio.NewClient(context.Background(), clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken),
		clio.WithRetryer(&clio.StandardRetryer{MaxAttempts: 8, BaseDelay: 100_000, MaxDelay: 2_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// Reading 10,000 records under the fault mix delivers every record exactly once, in cursor
// and in offset mode. An iteration that still fails says where to resume, and resuming
// from there loses and repeats nothing.
func TestChaosReadsEveryRecordOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 records")
	}
	t.Parallel()
	const n = 10000
	for _, mode := range []string{"cursor", "offset"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv, c := chaosClient(t, 0.08, 7)
			_, ids := seedMatters(t, srv, n)
			want := map[int64]bool{}
			for _, id := range ids {
				want[id] = true
			}
			for _, f := range cliotest.Chaos(0.08, mattersPath) {
				srv.InjectFault(f)
			}
			opts := []clio.CallOption{clio.Fields("id", "description")}
			if mode == "offset" {
				opts = append(opts, clio.OffsetPagination(4))
			}
			seen := map[int64]int{}
			resumes := 0
			for {
				var perr *clio.PageError
				for m, err := range c.Matters.All(context.Background(), nil, opts...) {
					if err != nil {
						if !errors.As(err, &perr) {
							t.Fatalf("after %d records: %v is not a *PageError", len(seen), err)
						}
						break
					}
					seen[m.Id]++
				}
				if perr == nil {
					break
				}
				if resumes++; resumes > 20 {
					t.Fatalf("still failing after %d resumes: %v", resumes, perr)
				}
				opts = append(opts, perr.Resume())
			}
			srv.ClearFaults()
			if len(seen) != n {
				t.Fatalf("%d distinct records, want %d", len(seen), n)
			}
			for id, k := range seen {
				if k != 1 || !want[id] {
					t.Fatalf("record %d delivered %d times (known: %v)", id, k, want[id])
				}
			}
			t.Logf("%s: %d records once each, %d resumes, %d requests", mode, len(seen), resumes, srv.RequestCount(http.MethodGet, mattersPath))
		})
	}
}

// Writing 300 records under the fault mix creates no duplicate without RetryUnsafe: a POST
// is retried only after a 429 (Clio did not process it); a failure that may have reached
// the server is reported, not repeated.
func TestChaosWritesNoDuplicates(t *testing.T) {
	t.Parallel()
	srv, c := chaosClient(t, 0.1, 11)
	contact, _ := seedMatters(t, srv, 0)
	for _, f := range cliotest.Chaos(0.1, mattersPath) {
		srv.InjectFault(f)
	}
	ctx := context.Background()
	failed := 0
	for i := range 300 {
		_, _, err := c.Matters.Create(ctx, nil, gen.MatterCreateInput{Client: clio.Ref(contact), Description: clio.Ptr("w-" + strconv.Itoa(i))})
		if err != nil {
			failed++
		}
	}
	srv.ClearFaults()
	count := map[string]int{}
	for m, err := range c.Matters.All(ctx, nil, clio.Fields("id", "description")) {
		if err != nil {
			t.Fatal(err)
		}
		count[m.Description]++
	}
	for d, k := range count {
		if k > 1 {
			t.Fatalf("%q created %d times", d, k)
		}
	}
	if failed == 0 || len(count) < 300-failed {
		t.Fatalf("%d failed, %d created: the faults did not bite, or a success was lost", failed, len(count))
	}
	t.Logf("300 creates: %d reported failures, %d records, none twice", failed, len(count))
}
