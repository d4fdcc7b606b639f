package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clio-go/clio-go/internal/pgtest"
)

func TestStartServesQueriesAndStops(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT 40 + 2").Scan(&v); err != nil || v != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", v, err)
	}
	conn.Close(ctx)
	s.Stop()
	if _, err := pgx.Connect(ctx, s.DSN); err == nil {
		t.Error("the server still answers after Stop")
	}
}
