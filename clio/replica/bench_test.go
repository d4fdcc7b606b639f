package replica_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

// benchRecords is the size of the benchmark firm's matters collection.
const benchRecords = 2000

// benchFirm is a fake firm of benchRecords matters, each with a client, served with every
// field (the pages a full pass reads), without the per-test document checks.
func benchFirm(b *testing.B) *cliotest.Server {
	b.Helper()
	srv := cliotest.NewServer(cliotest.WithRateLimit(0, 0), cliotest.WithLogf(func(string, ...any) {}))
	b.Cleanup(srv.Close)
	contacts := make([]map[string]any, 100)
	for i := range contacts {
		contacts[i] = map[string]any{"type": "Person", "first_name": "Ada", "last_name": fmt.Sprint(i), "name": fmt.Sprint("Ada ", i)}
	}
	cids := srv.MustInsert(b, "contacts", contacts...)
	recs := make([]map[string]any, benchRecords)
	for i := range recs {
		recs[i] = map[string]any{"description": fmt.Sprintf("Matter %d of a long description", i), "status": "open",
			"client": map[string]any{"id": cids[i%len(cids)]}, "display_number": fmt.Sprintf("%05d-Ada", i), "billable": true}
	}
	srv.MustInsert(b, "matters", recs...)
	return srv
}

func benchSource(b *testing.B, srv *cliotest.Server) replica.Source {
	b.Helper()
	s, err := replica.NewWatchedClient(context.Background(), clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken),
		clio.WithHTTPClient(srv.Client()), clio.WithoutRateLimiter())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchSync runs full passes of the matters of firms named per iteration (so each pass
// writes every row anew) and reports records per second.
func benchSync(b *testing.B, sink replica.Sink, workers int) {
	srv := benchFirm(b)
	rs, err := replica.LookupResources("matters")
	if err != nil {
		b.Fatal(err)
	}
	sources := make([]replica.Source, workers)
	for w := range sources {
		sources[w] = benchSource(b, srv) // one token per firm, as in production
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				eng := &replica.Engine{Firm: fmt.Sprintf("firm-%d-%d", i, w), Source: sources[w], Sink: sink, Resources: rs, ScanEvery: -1}
				errs[w] = eng.Run(context.Background())
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*workers*benchRecords)/time.Since(start).Seconds(), "records/s")
}

func BenchmarkSyncToSQLite(b *testing.B) {
	sink, err := sqlitesink.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	benchSync(b, sink, 1)
}

func BenchmarkSyncToPostgres(b *testing.B) {
	sink, _ := openPostgres(b)
	for _, workers := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchSync(b, sink, workers) })
	}
}

// benchPage is one full-field page of 200 matters as Clio sends it.
func benchPage(b *testing.B) []replica.Record {
	srv := benchFirm(b)
	rs, _ := replica.LookupResources("matters")
	p, err := benchSource(b, srv).List(context.Background(), replica.Query{Resource: "matters", Fields: rs[0].Fields, Limit: 200})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]replica.Record, len(p.Records))
	for i, raw := range p.Records {
		if out[i], err = replica.ParseRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(mustJSON(p.Records))))
	return out
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// benchApply measures the sink alone: one page applied per iteration, with its checkpoint.
func benchApply(b *testing.B, sink replica.Sink) {
	page := benchPage(b)
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		firm := fmt.Sprint("f", i)
		if err := sink.Apply(context.Background(), &replica.Batch{Firm: firm, Resource: "matters", Upserts: page,
			Checkpoint: &replica.Checkpoint{Pass: replica.PassFull, Next: "https://app.clio.com/next"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(page))/time.Since(start).Seconds(), "records/s")
}

func BenchmarkApplySQLite(b *testing.B) {
	sink, err := sqlitesink.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	benchApply(b, sink)
}

func BenchmarkApplyPostgres(b *testing.B) {
	sink, _ := openPostgres(b)
	benchApply(b, sink)
}
