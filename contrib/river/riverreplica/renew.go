package riverreplica

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/clio-go/clio-go/clio"
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
	list := func(ctx context.Context, editors ...clio.RequestEditor) (*http.Response, error) {
		return send(ctx, c, http.MethodGet, "/api/v4/webhooks.json?fields=id,expires_at", nil, editors)
	}
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
		patch := func(ctx context.Context, editors ...clio.RequestEditor) (*http.Response, error) {
			return send(ctx, c, http.MethodPatch, fmt.Sprintf("/api/v4/webhooks/%d.json", hook.ID), body, editors)
		}
		if _, err := clio.DoNoContent(ctx, c, patch); err != nil {
			return renewed, fmt.Errorf("riverreplica: renewing webhook %d: %w", hook.ID, err)
		}
		renewed++
	}
	return renewed, nil
}

// send is a request on c's stack (token, retries, rate limiter) to a path of its host.
func send(ctx context.Context, c *clio.Client, method, path string, body []byte, editors []clio.RequestEditor) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, ed := range editors {
		if err := ed(ctx, req); err != nil {
			return nil, err
		}
	}
	return c.HTTPClient().Do(req)
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
