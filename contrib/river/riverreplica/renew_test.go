package riverreplica_test

import (
	"context"
	"testing"
	"time"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/contrib/river/riverreplica"
)

func TestRenewWebhooksExtendsThoseAboutToExpire(t *testing.T) {
	srv := cliotest.NewServer(cliotest.WithT(t), cliotest.WithRateLimit(0, 0))
	defer srv.Close()
	now := time.Now().UTC()
	soon := now.Add(2 * 24 * time.Hour).Format(time.RFC3339)
	later := now.Add(20 * 24 * time.Hour).Format(time.RFC3339)
	ids := srv.MustInsert(t, "webhooks",
		map[string]any{"url": "https://example.com/hooks?model=matter", "model": "matter", "events": []any{"deleted"}, "expires_at": soon, "status": "enabled"},
		map[string]any{"url": "https://example.com/hooks?model=contact", "model": "contact", "events": []any{"deleted"}, "expires_at": later, "status": "enabled"})
	c, err := clio.NewClient(context.Background(), clio.WithBaseURL(srv.URL), clio.WithToken(srv.IssueToken().AccessToken), clio.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	n, err := riverreplica.RenewWebhooks(context.Background(), c, now)
	if err != nil || n != 1 {
		t.Fatalf("renewed %d webhooks (%v), want 1", n, err)
	}
	for i, want := range []time.Time{now.Add(riverreplica.RenewFor), now.Add(20 * 24 * time.Hour)} {
		rec, _ := srv.Record("webhooks", ids[i])
		got, err := time.Parse(time.RFC3339, rec["expires_at"].(string))
		if err != nil || got.Sub(want).Abs() > time.Second {
			t.Errorf("webhook %d expires at %v, want %v", i, rec["expires_at"], want)
		}
	}
}
