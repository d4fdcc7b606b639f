package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The README's first command: with no configuration the quickstart walks every step
// against the embedded fake and says so.
func TestQuickstartAgainstTheFake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, func(string) string { return "" }); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"1. Authorized through the authorization-code flow",
		"2. Created contact \"Ada Lovelace\"",
		"3. Listed 3 matters in 2 pages with fields=id,display_number,description,client{id,name}",
		"yields the same 3 matters",
		"4. Uploaded",
		"downloaded them back identical",
		"5. Received and verified a signed \"created\" webhook",
		"Done: 5 steps against the embedded fake Clio",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickstartRefusesHalfCredentials(t *testing.T) {
	env := map[string]string{"CLIO_CLIENT_ID": "id"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "CLIO_CLIENT_SECRET") {
		t.Fatalf("err = %v, want one naming CLIO_CLIENT_SECRET", err)
	}
}

func TestQuickstartRefusesAnUnknownRegion(t *testing.T) {
	env := map[string]string{"CLIO_CLIENT_ID": "id", "CLIO_CLIENT_SECRET": "s", "CLIO_REGION": "mars"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "mars") {
		t.Fatalf("err = %v, want one naming the region", err)
	}
}
