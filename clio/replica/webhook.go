package replica

import (
	"context"
	"fmt"

	"github.com/clio-go/clio-go/clio/webhook"
)

// ApplyEvent applies a webhook delivery: a "deleted" event marks the record deleted in
// the Sink at once. Other events change nothing (the next delta pass fetches the record
// with all its fields; a webhook carries only the fields it watches). An event about a
// model none of the Engine's resources has is ignored; one without an id is an error.
//
// Use it as (or from) the function given to webhook.NewHandler.
func (e *Engine) ApplyEvent(ctx context.Context, ev webhook.Event) error {
	if ev.Name != "deleted" {
		return nil
	}
	if err := e.check(); err != nil {
		return err
	}
	for _, r := range e.Resources {
		if r.Model != ev.Model {
			continue
		}
		if ev.ID <= 0 {
			return fmt.Errorf("replica: a deleted %s event of webhook %d carries no record id", ev.Model, ev.WebhookID)
		}
		if err := e.Sink.Apply(ctx, &Batch{Firm: e.Firm, Resource: r.Name, Deletes: []int64{ev.ID}}); err != nil {
			return fmt.Errorf("replica: marking %s %d of %s deleted: %w", r.Name, ev.ID, e.Firm, err)
		}
	}
	return nil
}
