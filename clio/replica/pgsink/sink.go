// Package pgsink stores a replica of Clio in PostgreSQL with pgx: one table per resource
// (firm, id, etag, updated_at, deleted, record as jsonb) and one table of checkpoints,
// each page in one transaction. ApplyTx applies a page inside a transaction the caller
// owns, so that a job queue on the same database (contrib/river) commits the next job
// with the records and the checkpoint.
package pgsink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clio-go/clio-go/clio/replica"
)

// DB is what the Sink needs of a pool or a connection.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Sink is a replica.Sink on PostgreSQL. It is safe for concurrent use.
type Sink struct {
	db     DB
	tables replica.Tables
}

// Open connects a pool to dsn and creates the checkpoints table.
func Open(ctx context.Context, dsn string) (*Sink, *pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("pgsink: %w", err)
	}
	s, err := New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return s, pool, nil
}

// New uses db (a *pgxpool.Pool or a *pgx.Conn) and creates the checkpoints table.
func New(ctx context.Context, db DB) (*Sink, error) {
	_, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS clio_replica_checkpoints (
		firm text NOT NULL, resource text NOT NULL, state jsonb NOT NULL, saved_at timestamptz NOT NULL,
		PRIMARY KEY (firm, resource))`)
	if err != nil && !isDuplicate(err) {
		return nil, fmt.Errorf("pgsink: creating the checkpoints table: %w", err)
	}
	return &Sink{db: db}, nil
}

// isDuplicate is true for the error two sessions get when both create the same table at
// once: CREATE ... IF NOT EXISTS is not atomic in PostgreSQL.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07")
}

// Checkpoint implements replica.Sink.
func (s *Sink) Checkpoint(ctx context.Context, firm, resource string) (replica.Checkpoint, error) {
	var cp replica.Checkpoint
	var state []byte
	err := s.db.QueryRow(ctx, `SELECT state FROM clio_replica_checkpoints WHERE firm = $1 AND resource = $2`, firm, resource).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, nil
	}
	if err != nil {
		return cp, err
	}
	if err := json.Unmarshal(state, &cp); err != nil {
		return cp, fmt.Errorf("pgsink: the checkpoint of %s/%s is not valid: %w", firm, resource, err)
	}
	return cp, nil
}

// Table creates the table of a resource once and returns its name.
func (s *Sink) Table(ctx context.Context, resource string) (string, error) {
	return s.tables.Ensure(resource, func(name string) error {
		for _, stmt := range []string{
			`CREATE TABLE IF NOT EXISTS "` + name + `" (
				firm text NOT NULL, id bigint NOT NULL, etag text NOT NULL DEFAULT '', updated_at timestamptz,
				deleted boolean NOT NULL DEFAULT false, record jsonb,
				PRIMARY KEY (firm, id))`,
			`CREATE INDEX IF NOT EXISTS "` + name + `_updated_at" ON "` + name + `" (firm, updated_at)`,
		} {
			if _, err := s.db.Exec(ctx, stmt); err != nil && !isDuplicate(err) {
				return fmt.Errorf("pgsink: creating table %s: %w", name, err)
			}
		}
		return nil
	})
}

// Apply implements replica.Sink: the whole Batch in one transaction.
func (s *Sink) Apply(ctx context.Context, b *replica.Batch) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return s.ApplyTx(ctx, tx, b) })
}

// ApplyTx applies a Batch inside tx, which the caller commits.
func (s *Sink) ApplyTx(ctx context.Context, tx pgx.Tx, b *replica.Batch) error {
	t, err := s.Table(ctx, b.Resource)
	if err != nil {
		return err
	}
	var batch pgx.Batch
	upsert := `INSERT INTO "` + t + `" AS t (firm, id, etag, updated_at, deleted, record) VALUES ($1, $2, $3, $4, false, $5)
		ON CONFLICT (firm, id) DO UPDATE SET etag = excluded.etag, updated_at = excluded.updated_at, record = excluded.record
		WHERE NOT t.deleted AND (t.updated_at IS NULL OR excluded.updated_at IS NULL OR t.updated_at <= excluded.updated_at)`
	for _, r := range b.Upserts {
		batch.Queue(upsert, b.Firm, r.ID, r.ETag, timeArg(r.UpdatedAt), string(r.JSON))
	}
	for _, id := range b.Deletes {
		batch.Queue(`INSERT INTO "`+t+`" (firm, id, deleted) VALUES ($1, $2, true)
			ON CONFLICT (firm, id) DO UPDATE SET deleted = true`, b.Firm, id)
	}
	if g := b.Gone; g != nil {
		batch.Queue(`UPDATE "`+t+`" SET deleted = true
			WHERE firm = $1 AND NOT deleted AND id > $2::bigint AND ($3::bigint = 0 OR id <= $3::bigint) AND id <> ALL($4::bigint[])`,
			b.Firm, g.After, g.Through, g.Present)
	}
	if b.Checkpoint != nil {
		state, err := json.Marshal(b.Checkpoint)
		if err != nil {
			return err
		}
		batch.Queue(`INSERT INTO clio_replica_checkpoints (firm, resource, state, saved_at) VALUES ($1, $2, $3, now())
			ON CONFLICT (firm, resource) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
			b.Firm, b.Resource, string(state))
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("pgsink: storing a page of %s of %s: %w", b.Resource, b.Firm, err)
	}
	return nil
}

func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
