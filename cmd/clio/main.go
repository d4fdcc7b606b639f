// Command clio works with the Clio Manage API v4 from a terminal:
//
//	clio login                      # OAuth in the browser; the token is kept in a file only you can read
//	clio api GET /matters.json --fields id,display_number --paginate
//	clio sync --db clio.db          # keep a copy of the firm in SQLite, resumable
//	clio sync --fake --db clio.db   # the same against an embedded fake Clio: no account needed
//
// Every command takes --fake to talk to the fake Clio of package cliotest, in this
// process, seeded with a demo firm.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "clio:", err)
		os.Exit(1)
	}
}
