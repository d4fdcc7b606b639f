package replica_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

// TestMain lets the test binary act as a sync worker process (see runChild).
func TestMain(m *testing.M) {
	if os.Getenv("REPLICA_CHILD_DB") != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild syncs the firm at REPLICA_CHILD_URL into REPLICA_CHILD_DB, printing a line per
// page applied, so that the parent can kill it at a chosen point.
func runChild() error {
	ctx := context.Background()
	src, err := replica.NewWatchedClient(ctx, clio.WithBaseURL(os.Getenv("REPLICA_CHILD_URL")),
		clio.WithToken(os.Getenv("REPLICA_CHILD_TOKEN")), clio.WithRetryer(&clio.StandardRetryer{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}))
	if err != nil {
		return err
	}
	sink, err := sqlitesink.Open(ctx, os.Getenv("REPLICA_CHILD_DB"))
	if err != nil {
		return err
	}
	defer sink.Close()
	rs, err := replica.LookupResources(testResources...)
	if err != nil {
		return err
	}
	eng := &replica.Engine{Firm: "acme", Source: src, Sink: sink, Resources: rs, ScanEvery: time.Nanosecond,
		Progress: func(p replica.Progress) { fmt.Printf("%s %s %d\n", p.Resource, p.Pass, p.Pages) }}
	return eng.Run(ctx)
}

func TestSyncResumesAfterTheWorkerProcessIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	f := newFirm(t, 600)
	db := filepath.Join(t.TempDir(), "clio.db")
	kills := 0
	for round := 0; round < 4; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "REPLICA_CHILD_DB="+db, "REPLICA_CHILD_URL="+f.srv.URL, "REPLICA_CHILD_TOKEN="+f.token)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAt := 1 + rng.IntN(8)
		lines := bufio.NewScanner(out)
		for n := 0; n < killAt && lines.Scan(); n++ {
		}
		// Killed while it works on the next page: mid-request or mid-transaction.
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err == nil {
			kills++
		}
		for lines.Scan() {
		}
		_ = cmd.Wait()
		if round == 1 {
			// Changes between two kills: the resumed pass or the next delta must see them.
			f.update(t, "matters", f.ids["matters"][3], map[string]any{"description": "Changed between kills"})
			f.remove(t, "tasks", f.ids["tasks"][5])
		}
	}
	sink, err := sqlitesink.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: sink, Resources: resources(t, testResources...), ScanEvery: time.Nanosecond}
	// The first Run completes the pass a kill interrupted; a change made while that pass
	// ran, behind its cursor, is for the delta of the second.
	for range 2 {
		if err := eng.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	compareWithFake(t, f, sink.DB(), "acme", sqlitePH)
	if kills == 0 {
		t.Error("no worker was killed")
	}
}
