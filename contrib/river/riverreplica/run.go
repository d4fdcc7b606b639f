package riverreplica

import (
	"context"
	"fmt"

	"github.com/riverqueue/river/rivermigrate"
)

// Migrate brings River's tables up to date. Run it once before the workers start (it is
// what `clio-worker --migrate` does).
func Migrate(ctx context.Context, cfg Config) error {
	m, err := rivermigrate.New(driver(cfg.Pool), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverreplica: migrating River's tables: %w", err)
	}
	return nil
}

// Run works jobs until ctx is cancelled, then stops: jobs in flight finish (or are
// cancelled if stopping takes too long; their pages were not committed, so they run
// again).
func Run(ctx context.Context, cfg Config) error {
	w, err := NewWorkers(ctx, cfg)
	if err != nil {
		return err
	}
	client, err := w.NewClient()
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return client.Stop(context.WithoutCancel(ctx))
}
