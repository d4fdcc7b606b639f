package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clio-go/clio-go/internal/pgtest"
)

func TestSyncFakeIntoPostgresAndResumes(t *testing.T) {
	srv := pgtest.Start(t)
	args := []string{"sync", "--fake", "--fake-records", "120", "--postgres", srv.DSN, "--resources", "contacts,matters"}
	_, stderr, err := run(t, context.Background(), args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"Copying into PostgreSQL at ", "/postgres", "matters", "pass done", "120 records"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, stderr)
		}
	}
	pool, err := pgxpool.New(context.Background(), srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	count := func() map[string][2]int {
		out := map[string][2]int{}
		for _, table := range []string{"contacts", "matters"} {
			var n, distinct int
			if err := pool.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT id) FROM "`+table+`" WHERE firm = 'default' AND NOT deleted`).Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			out[table] = [2]int{n, distinct}
		}
		return out
	}
	for table, c := range count() {
		if c != [2]int{120, 120} {
			t.Errorf("%s: %d rows, %d ids after the first sync, want 120", table, c[0], c[1])
		}
	}
	// A second run starts from the checkpoints: deltas, not a second full pass.
	_, stderr, err = run(t, context.Background(), args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "full  pass") || !strings.Contains(stderr, "delta pass") {
		t.Errorf("the second run did not resume with deltas:\n%s", stderr)
	}
	for table, c := range count() {
		if c != [2]int{120, 120} {
			t.Errorf("%s: %d rows, %d ids after the second sync, want 120", table, c[0], c[1])
		}
	}
}

func TestSyncRefusesPostgresWithDB(t *testing.T) {
	for _, args := range [][]string{
		{"sync", "--fake", "--postgres", "postgres://u@localhost/clio", "--db", filepath.Join(t.TempDir(), "x.db")},
		{"sync", "--fake", "--db", filepath.Join(t.TempDir(), "x.db"), "--postgres", "postgres://u@localhost/clio"},
	} {
		_, stderr, err := run(t, context.Background(), args...)
		if err == nil || !strings.Contains(err.Error(), "--postgres") || !strings.Contains(err.Error(), "--db") {
			t.Errorf("clio %s said %v, want an error naming --postgres and --db", strings.Join(args, " "), err)
		}
		if strings.Contains(stderr, "fake Clio") {
			t.Errorf("the fake was started before the flags were checked:\n%s", stderr)
		}
	}
	if _, _, err := run(t, context.Background(), "sync", "--fake", "--postgres", ""); err == nil || !strings.Contains(err.Error(), "--postgres") {
		t.Errorf("an empty --postgres said %v", err)
	}
}

func TestSyncNeverPrintsThePostgresPassword(t *testing.T) {
	const pw = "Hunter2-s3cret"
	nowhere := filepath.Join(t.TempDir(), "no-server-here")
	for _, dsn := range []string{
		// Parses, but nothing listens: the error comes from connecting.
		"postgres://clio:" + pw + "@/clio?host=" + nowhere,
		"host=" + nowhere + " user=clio password=" + pw + " dbname=clio",
		"host=" + nowhere + " user=clio password='" + pw + " x' dbname=clio",
		// Does not parse.
		"postgres://clio:" + pw + "@localhost:notaport/clio",
		"postgres://clio:" + pw + "@[::1/clio",
		"host=localhost password=" + pw + " port=abc",
		"postgres://clio@localhost/clio?sslpassword=" + pw + "&connect_timeout=abc",
	} {
		stdout, stderr, err := run(t, context.Background(), "sync", "--fake", "--fake-records", "5", "--progress", "none", "--postgres", dsn)
		if err == nil {
			t.Errorf("%s: no error", dsn)
			continue
		}
		if !strings.Contains(err.Error(), "--postgres") {
			t.Errorf("the error does not say which flag was wrong: %v", err)
		}
		for what, text := range map[string]string{"error": err.Error(), "stdout": stdout, "stderr": stderr} {
			if strings.Contains(text, pw) {
				t.Errorf("the %s shows the password:\n%s", what, text)
			}
		}
	}
}

func TestScrubTakesThePasswordOutOfAnyError(t *testing.T) {
	target, err := parsePostgres("postgres://clio:p%40ss%20word@localhost/clio")
	if err != nil {
		t.Fatal(err)
	}
	inner := context.Canceled
	for _, leak := range []string{"p@ss word", "p%40ss%20word", "p%40ss+word"} {
		got := target.scrub(errors.Join(errors.New("server said: "+leak), inner))
		if strings.Contains(got.Error(), leak) || !strings.Contains(got.Error(), "xxxxx") {
			t.Errorf("scrubbed %q to %q", leak, got)
		}
		if !errors.Is(got, context.Canceled) {
			t.Errorf("scrubbing lost the wrapped error of %q", got)
		}
	}
	if target.where != "localhost:5432/clio" {
		t.Errorf("the target is named %q", target.where)
	}
}
