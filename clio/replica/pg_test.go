package replica_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/pgsink"
	"github.com/clio-go/clio-go/internal/pgtest"
)

// openPostgres starts a PostgreSQL for the test and returns a sink on it, and the same
// database through database/sql for the comparisons.
func openPostgres(t testing.TB) (*pgsink.Sink, *sql.DB) {
	t.Helper()
	srv := pgtest.Start(t)
	sink, pool, err := pgsink.Open(context.Background(), srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	return sink, db
}

func pgPH(n int) string { return fmt.Sprintf("$%d", n) }

// forEachSink runs a test on the SQLite sink and on the PostgreSQL sink.
func forEachSink(t *testing.T, test func(t *testing.T, sink replica.Sink, db *sql.DB, ph func(int) string)) {
	t.Run("sqlite", func(t *testing.T) {
		sink := openSQLite(t)
		test(t, sink, sink.DB(), sqlitePH)
	})
	t.Run("postgres", func(t *testing.T) {
		sink, db := openPostgres(t)
		test(t, sink, db, pgPH)
	})
}
