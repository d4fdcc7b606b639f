// Package sqlitesink stores a replica of Clio in SQLite, with the pure Go driver
// modernc.org/sqlite (no cgo): one table per resource (firm, id, etag, updated_at,
// deleted, record as JSON) and one table of checkpoints, each page in one transaction.
package sqlitesink

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/clio-go/clio-go/clio/replica"
)

// timeLayout stores times at a fixed width in UTC, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Sink is a replica.Sink on one SQLite database. It is safe for concurrent use; SQLite
// serializes the writers.
type Sink struct {
	db     *sql.DB
	tables replica.Tables
}

// Open opens (or creates) the database file at path in WAL mode, and its checkpoints
// table.
func Open(ctx context.Context, path string) (*Sink, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(on)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: opening %s: %w", path, err)
	}
	// One connection: SQLite has one writer at a time, and a single connection never
	// waits on itself.
	db.SetMaxOpenConns(1)
	s, err := New(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitesink: opening %s: %w", path, err)
	}
	return s, nil
}

// New uses an open database (driver "sqlite") and creates the checkpoints table.
func New(ctx context.Context, db *sql.DB) (*Sink, error) {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS clio_replica_checkpoints (
		firm TEXT NOT NULL, resource TEXT NOT NULL, state TEXT NOT NULL, saved_at TEXT NOT NULL,
		PRIMARY KEY (firm, resource))`)
	if err != nil {
		return nil, fmt.Errorf("sqlitesink: creating the checkpoints table: %w", err)
	}
	return &Sink{db: db}, nil
}

// DB returns the database, to query the copy.
func (s *Sink) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Sink) Close() error { return s.db.Close() }

// Checkpoint implements replica.Sink.
func (s *Sink) Checkpoint(ctx context.Context, firm, resource string) (replica.Checkpoint, error) {
	var cp replica.Checkpoint
	var state string
	err := s.db.QueryRowContext(ctx, `SELECT state FROM clio_replica_checkpoints WHERE firm = ? AND resource = ?`, firm, resource).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, nil
	}
	if err != nil {
		return cp, err
	}
	if err := json.Unmarshal([]byte(state), &cp); err != nil {
		return cp, fmt.Errorf("sqlitesink: the checkpoint of %s/%s is not valid: %w", firm, resource, err)
	}
	return cp, nil
}

// table creates the table of a resource once.
func (s *Sink) table(ctx context.Context, resource string) (string, error) {
	return s.tables.Ensure(resource, func(name string) error {
		for _, stmt := range []string{
			`CREATE TABLE IF NOT EXISTS "` + name + `" (
				firm TEXT NOT NULL, id INTEGER NOT NULL, etag TEXT NOT NULL DEFAULT '', updated_at TEXT,
				deleted INTEGER NOT NULL DEFAULT 0, record TEXT,
				PRIMARY KEY (firm, id))`,
			`CREATE INDEX IF NOT EXISTS "` + name + `_updated_at" ON "` + name + `" (firm, updated_at)`,
		} {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlitesink: creating table %s: %w", name, err)
			}
		}
		return nil
	})
}

// Apply implements replica.Sink: the whole Batch in one transaction.
func (s *Sink) Apply(ctx context.Context, b *replica.Batch) (err error) {
	t, err := s.table(ctx, b.Resource)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if len(b.Upserts) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO "`+t+`" (firm, id, etag, updated_at, deleted, record) VALUES (?, ?, ?, ?, 0, ?)
			ON CONFLICT (firm, id) DO UPDATE SET etag = excluded.etag, updated_at = excluded.updated_at, record = excluded.record
			WHERE deleted = 0 AND (updated_at IS NULL OR excluded.updated_at IS NULL OR updated_at <= excluded.updated_at)`)
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }()
		for _, r := range b.Upserts {
			if _, err := st.ExecContext(ctx, b.Firm, r.ID, r.ETag, timeText(r.UpdatedAt), string(r.JSON)); err != nil {
				return fmt.Errorf("sqlitesink: storing %s %d: %w", b.Resource, r.ID, err)
			}
		}
	}
	for _, id := range b.Deletes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO "`+t+`" (firm, id, deleted) VALUES (?, ?, 1)
			ON CONFLICT (firm, id) DO UPDATE SET deleted = 1`, b.Firm, id); err != nil {
			return fmt.Errorf("sqlitesink: marking %s %d deleted: %w", b.Resource, id, err)
		}
	}
	if g := b.Gone; g != nil {
		present, _ := json.Marshal(g.Present)
		if _, err := tx.ExecContext(ctx, `UPDATE "`+t+`" SET deleted = 1
			WHERE firm = ? AND deleted = 0 AND id > ? AND (? = 0 OR id <= ?)
			AND id NOT IN (SELECT value FROM json_each(?))`, b.Firm, g.After, g.Through, g.Through, string(present)); err != nil {
			return fmt.Errorf("sqlitesink: marking the %s ids gone: %w", b.Resource, err)
		}
	}
	if b.Checkpoint != nil {
		state, err := json.Marshal(b.Checkpoint)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO clio_replica_checkpoints (firm, resource, state, saved_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (firm, resource) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
			b.Firm, b.Resource, string(state), timeText(time.Now())); err != nil {
			return fmt.Errorf("sqlitesink: saving the checkpoint of %s/%s: %w", b.Firm, b.Resource, err)
		}
	}
	return tx.Commit()
}

func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}
