package riverreplica

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/replica"
)

// Webhook renewal: Clio lets a webhook expire (at most 31 days after it was set) and then
// stops delivering, and the deletes it would have reported are only found by the next id
// scan. A daily job per firm pushes the expiry of every webhook that would expire soon.
const (
	// RenewWithin is how close to its expiry a webhook is renewed.
	RenewWithin = 7 * 24 * time.Hour
	// RenewFor is the new lifetime of a renewed webhook (Clio allows 31 days).
	RenewFor = 30 * 24 * time.Hour
)

// RenewArgs is the job that renews one firm's webhooks.
type RenewArgs struct {
	Firm string `json:"firm"`
}

// Kind implements river.JobArgs.
func (RenewArgs) Kind() string { return "clio_replica_renew_webhooks" }

// InsertOpts makes the job unique per firm.
func (RenewArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// RenewWebhooks extends to now+RenewFor the expiry of every webhook of c's firm that
// expires within RenewWithin, and returns how many it renewed.
func RenewWebhooks(ctx context.Context, c *clio.Client, now time.Time) (int, error) {
	list := replica.Request(c, http.MethodGet, c.BaseURL()+"/api/v4/webhooks.json?fields=id,expires_at", nil)
	renewed := 0
	for raw, err := range clio.All[json.RawMessage](ctx, c, list) {
		if err != nil {
			return renewed, fmt.Errorf("riverreplica: listing webhooks: %w", err)
		}
		var hook struct {
			ID        int64     `json:"id"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := json.Unmarshal(raw, &hook); err != nil {
			return renewed, fmt.Errorf("riverreplica: a webhook Clio listed: %w", err)
		}
		if hook.ExpiresAt.IsZero() || hook.ExpiresAt.Sub(now) > RenewWithin {
			continue
		}
		body, _ := json.Marshal(map[string]any{"data": map[string]any{"expires_at": now.Add(RenewFor).UTC().Format(time.RFC3339)}})
		patch := replica.Request(c, http.MethodPatch, fmt.Sprintf("%s/api/v4/webhooks/%d.json", c.BaseURL(), hook.ID), body)
		if _, err := clio.DoNoContent(ctx, c, patch); err != nil {
			return renewed, fmt.Errorf("riverreplica: renewing webhook %d: %w", hook.ID, err)
		}
		renewed++
	}
	return renewed, nil
}

type renewWorker struct {
	river.WorkerDefaults[RenewArgs]
	w *Workers
}

func (r *renewWorker) Work(ctx context.Context, job *river.Job[RenewArgs]) error {
	src, err := r.w.source(ctx, job.Args.Firm)
	if err != nil {
		return err
	}
	_, err = RenewWebhooks(ctx, src.Client(), time.Now())
	return snoozeIfRateLimited(err)
}
