package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
)

// run runs the command line as a user would, and returns what it printed.
func run(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestSyncFakeCopiesTheDemoFirmAndResumes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clio.db")
	// A first run stopped after a few pages, as by Ctrl-C.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopAfter := 0
	progressHook = func() {
		if stopAfter++; stopAfter == 4 {
			cancel()
		}
	}
	defer func() { progressHook = nil }()
	_, stderr, err := run(t, ctx, "sync", "--fake", "--fake-records", "300", "--db", db, "--resources", "contacts,matters,activities")
	if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("an interrupted sync said %v\n%s", err, stderr)
	}
	progressHook = nil
	_, stderr, err = run(t, context.Background(), "sync", "--fake", "--fake-records", "300", "--db", db, "--resources", "contacts,matters,activities")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"embedded fake Clio", "matters", "pass done", "In step after", "300 records"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the output lacks %q:\n%s", want, stderr)
		}
	}
	sink, err := sqlitesink.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for _, table := range []string{"contacts", "matters", "activities"} {
		var n, distinct int
		if err := sink.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT id) FROM "`+table+`" WHERE firm = 'default' AND deleted = 0`).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != 300 || distinct != 300 {
			t.Errorf("%s: %d rows, %d ids after the resumed sync, want 300", table, n, distinct)
		}
	}
}

func TestSyncRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"sync", "--fake", "--resources", "no_such_things"},
		{"sync", "--fake", "--resources", "calendar_entries"},
		{"sync", "--fake", "--progress", "rainbow"},
		{"sync", "--token-file", filepath.Join(t.TempDir(), "none.json")},
		{"sync", "extra"},
	} {
		if _, _, err := run(t, context.Background(), args...); err == nil {
			t.Errorf("clio %s was accepted", strings.Join(args, " "))
		}
	}
}
