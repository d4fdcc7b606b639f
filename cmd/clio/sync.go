package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

type syncFlags struct {
	db        string
	dbSet     bool // --db given on the command line, not its default
	postgres  string
	pgSet     bool // --postgres given, even empty
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
		Short: "Keep a copy of the firm in SQLite or PostgreSQL: a full pass, then deltas and deletes; resumable",
		Long: `sync copies the firm's records into a SQLite database (--db) or a PostgreSQL one
(--postgres), one table per collection (firm, id, etag, updated_at, deleted, record as
JSON), with a checkpoint per collection written in the same transaction as each page:
stop it at any point (Ctrl-C, a crash) and run it again to resume. A run after a
complete one fetches only what changed (deltas) and, every --scan-every, looks for
deleted records.

Try it with no account:

  clio sync --fake --db clio.db

Into PostgreSQL (the password, if the DSN has one, is never printed; PGPASSWORD and
~/.pgpass work too):

  clio sync --fake --postgres 'postgres://user@localhost/clio'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s.dbSet = cmd.Flags().Changed("db")
			s.pgSet = cmd.Flags().Changed("postgres")
			return runSync(cmd.Context(), g, s, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.db, "db", "clio.db", "the SQLite database file")
	f.StringVar(&s.postgres, "postgres", "", "a PostgreSQL DSN to copy into instead of SQLite (postgres://user@host/database)")
	f.StringVar(&s.firm, "firm", "default", "the name the firm's rows carry (one database can hold several firms)")
	f.StringSliceVar(&s.resources, "resources", replica.DefaultResources, "the collections to copy")
	f.DurationVar(&s.overlap, "overlap", replica.DefaultOverlap, "how far before the last mark a delta starts (clock skew, same-second updates)")
	f.DurationVar(&s.scanEvery, "scan-every", replica.DefaultScanEvery, "how often to scan ids for deletes (negative: never)")
	f.DurationVar(&s.every, "every", 0, "keep running, one round every this long (0: one round)")
	f.StringVar(&s.progress, "progress", "auto", "progress display: bars, lines, none, or auto (bars on a terminal)")
	return cmd
}

// store is the database a sync writes to, with what the summary needs of it.
type store struct {
	sink   replica.Sink
	counts func(ctx context.Context, r replica.Resource, firm string) (live, deleted int64, err error)
	close  func()
}

// openSQLite opens the SQLite file of --db.
func openSQLite(ctx context.Context, path string) (*store, error) {
	sink, err := sqlitesink.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return &store{
		sink:  sink,
		close: func() { _ = sink.Close() },
		counts: func(ctx context.Context, r replica.Resource, firm string) (live, deleted int64, err error) {
			t, err := replica.TableName(r.Name)
			if err != nil {
				return 0, 0, err
			}
			err = sink.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) FROM "`+t+`" WHERE firm = ?`, firm).Scan(&live, &deleted)
			return live, deleted, err
		},
	}, nil
}

func runSync(ctx context.Context, g *globals, s *syncFlags, stderr io.Writer) error {
	var pg *pgTarget
	if s.pgSet {
		if s.dbSet {
			return errors.New("--postgres and --db both name where to copy to: give one of them")
		}
		if s.postgres == "" {
			return errors.New("--postgres is empty: give a DSN such as postgres://user@localhost/clio")
		}
		var err error
		if pg, err = parsePostgres(s.postgres); err != nil {
			return err
		}
	}
	// Whatever goes wrong below, its text must not carry the DSN's password.
	return pg.scrub(syncTo(ctx, g, s, pg, stderr))
}

// syncTo runs the sync into pg, or into the SQLite file of --db when pg is nil.
func syncTo(ctx context.Context, g *globals, s *syncFlags, pg *pgTarget, stderr io.Writer) error {
	rs, err := replica.LookupResources(s.resources...)
	if err != nil {
		return err
	}
	show, err := newProgress(s.progress, stderr)
	if err != nil {
		return err
	}
	c, done, err := g.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer done()
	src := replica.NewClientSource(c)
	var st *store
	if pg != nil {
		fmt.Fprintf(stderr, "Copying into PostgreSQL at %s\n", pg.where)
		st, err = openPostgres(ctx, pg)
	} else {
		st, err = openSQLite(ctx, s.db)
	}
	if err != nil {
		return err
	}
	defer st.close()
	eng := &replica.Engine{Firm: s.firm, Source: src, Sink: st.sink, Resources: rs,
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
		if err := summarize(ctx, st, s.firm, rs, stderr, time.Since(start)); err != nil {
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
func summarize(ctx context.Context, st *store, firm string, rs []replica.Resource, w io.Writer, took time.Duration) error {
	fmt.Fprintf(w, "In step after %s:\n", took.Round(time.Millisecond))
	for _, r := range rs {
		live, deleted, err := st.counts(ctx, r, firm)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-18s %8d records  %6d deleted\n", r.Name, live, deleted)
	}
	return nil
}
