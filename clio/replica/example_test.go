package replica_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/sqlitesink"
	"github.com/clio-go/clio-go/clio/webhook"
)

// A firm's matters and contacts copied into SQLite. Run the same program again and it
// resumes, or fetches only what changed.
func ExampleEngine() {
	srv := cliotest.NewServer(cliotest.WithRateLimit(0, 0))
	defer srv.Close()
	ada, _ := srv.Insert("contacts", map[string]any{"type": "Person", "name": "Ada Lovelace"})
	if _, err := srv.Insert("matters", map[string]any{"description": "Estate", "client": map[string]any{"id": ada[0]}}); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	src, err := replica.NewWatchedClient(ctx, clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken))
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "replica-example")
	defer os.RemoveAll(dir)
	sink, err := sqlitesink.Open(ctx, filepath.Join(dir, "clio.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer sink.Close()
	resources, err := replica.LookupResources("contacts", "matters")
	if err != nil {
		log.Fatal(err)
	}
	eng := &replica.Engine{Firm: "acme", Source: src, Sink: sink, Resources: resources,
		Progress: func(p replica.Progress) {
			if p.Done {
				fmt.Printf("%s: %s pass, %d records\n", p.Resource, p.Pass, p.Records)
			}
		}}
	if err := eng.Run(ctx); err != nil {
		log.Fatal(err)
	}

	// Webhook deliveries feed the engine: a deleted event marks the record deleted.
	handler := webhook.NewHandler(webhook.NewMemoryRegistry(), eng.ApplyEvent)
	_ = handler // serve it at the URL the webhooks were registered with

	var client string
	if err := sink.DB().QueryRow(`SELECT record->>'$.client.name' FROM matters WHERE firm = 'acme'`).Scan(&client); err != nil {
		log.Fatal(err)
	}
	fmt.Println("the matter's client:", client)
	// Output:
	// contacts: full pass, 1 records
	// matters: full pass, 1 records
	// the matter's client: Ada Lovelace
}
