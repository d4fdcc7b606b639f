package replica_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clio-go/clio-go/clio/replica"
)

func TestRunCopiesEveryRecordWithAllFields(t *testing.T) {
	f := newFirm(t, 450)
	sink := openSQLite(t)
	var pages int64
	eng := &replica.Engine{Firm: "acme", Source: f.source(t), Sink: sink, Resources: resources(t, testResources...),
		Progress: func(p replica.Progress) { pages++ }}
	if err := eng.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	compareWithFake(t, f, sink.DB(), "acme", sqlitePH)
	// 450 records are 3 pages per resource; no id scan is due right after a full pass.
	if pages != 4*3 {
		t.Errorf("%d pages reported, want %d", pages, 4*3)
	}
	var desc, client string
	if err := sink.DB().QueryRow(`SELECT record->>'description', record->>'client' FROM matters WHERE firm = 'acme' AND id = ?`, f.ids["matters"][7]).Scan(&desc, &client); err != nil {
		t.Fatal(err)
	}
	if desc != "Matter 7" || !strings.Contains(client, `"name":"Ada Lovelace 7"`) {
		t.Errorf("stored matter 7 has description %q and client %s: fields were lost", desc, client)
	}
}
