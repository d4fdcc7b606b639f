package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

type syncFlags struct {
	db        string
	firm      string
	resources []string
	overlap   time.Duration
	scanEvery time.Duration
	every     time.Duration
	progress  string
}

func newSync(g *globals) *cobra.Command {
	s := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Keep a copy of the firm in SQLite: a full pass, then deltas and deletes; resumable",
		Long: `sync copies the firm's records into a SQLite database, one table per collection
(firm, id, etag, updated_at, deleted, record as JSON), with a checkpoint per collection
written in the same transaction as each page: stop it at any point (Ctrl-C, a crash) and
run it again to resume. A run after a complete one fetches only what changed (deltas)
and, every --scan-every, looks for deleted records.

Try it with no account:

  clio sync --fake --db clio.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSync(cmd.Context(), g, s, cmd.ErrOrStderr()) },
	}
	f := cmd.Flags()
	f.StringVar(&s.db, "db", "clio.db", "the SQLite database file")
	f.StringVar(&s.firm, "firm", "default", "the name the firm's rows carry (one database can hold several firms)")
	f.StringSliceVar(&s.resources, "resources", replica.DefaultResources, "the collections to copy")
	f.DurationVar(&s.overlap, "overlap", replica.DefaultOverlap, "how far before the last mark a delta starts (clock skew, same-second updates)")
	f.DurationVar(&s.scanEvery, "scan-every", replica.DefaultScanEvery, "how often to scan ids for deletes (negative: never)")
	f.DurationVar(&s.every, "every", 0, "keep running, one round every this long (0: one round)")
	f.StringVar(&s.progress, "progress", "auto", "progress display: bars, lines, none, or auto (bars on a terminal)")
	return cmd
}

func runSync(ctx context.Context, g *globals, s *syncFlags, stderr io.Writer) error {
	rs, err := replica.LookupResources(s.resources...)
	if err != nil {
		return err
	}
	show, err := newProgress(s.progress, stderr)
	if err != nil {
		return err
	}
	h, err := g.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer h.close()
	src, err := replica.NewWatchedClient(ctx, h.opts...)
	if err != nil {
		return err
	}
	sink, err := sqlitesink.Open(ctx, s.db)
	if err != nil {
		return err
	}
	defer func() { _ = sink.Close() }()
	eng := &replica.Engine{Firm: s.firm, Source: src, Sink: sink, Resources: rs,
		Overlap: s.overlap, ScanEvery: s.scanEvery, Progress: show.update}
	for {
		start := time.Now()
		err := eng.Run(ctx)
		show.finish()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted; run the same command again to resume (%w)", ctx.Err())
			}
			return fmt.Errorf("%w\nrun the same command again to resume", err)
		}
		if err := summarize(ctx, sink, s.firm, rs, stderr, time.Since(start)); err != nil {
			return err
		}
		if s.every <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.every):
		}
	}
}

// summarize prints what the copy holds.
func summarize(ctx context.Context, sink *sqlitesink.Sink, firm string, rs []replica.Resource, w io.Writer, took time.Duration) error {
	fmt.Fprintf(w, "In step after %s:\n", took.Round(time.Millisecond))
	for _, r := range rs {
		t, err := replica.TableName(r.Name)
		if err != nil {
			return err
		}
		var live, deleted int64
		err = sink.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) FROM "`+t+`" WHERE firm = ?`, firm).Scan(&live, &deleted)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-18s %8d records  %6d deleted\n", r.Name, live, deleted)
	}
	return nil
}
