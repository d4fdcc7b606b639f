// Command clio-worker keeps many Clio firms in step in PostgreSQL, with River jobs. Run it
// on as many machines as you like against one database:
//
//	clio-worker --database-url postgres://... --migrate   # once
//	clio-worker --database-url postgres://...             # on every machine
//
// A firm joins the fleet when its token is stored in the database: someone at the firm
// authorizes the app with `clio login`, then an operator stores the token it saved:
//
//	clio login
//	clio-worker --database-url postgres://... firms add --firm acme --token-file ~/.config/clio/token.json
//	clio-worker --database-url postgres://... firms list
//
// clio login saves to its --token-file, by default clio/token.json in the user's config
// folder ($XDG_CONFIG_HOME, ~/.config on Linux, ~/Library/Application Support on macOS).
// Storing a token needs no app credentials (Go code can call riverreplica.TokenStore.Save
// instead); the workers need them (CLIO_CLIENT_ID, CLIO_CLIENT_SECRET) to refresh the
// tokens.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/contrib/river/riverreplica"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "clio-worker:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var (
		dsn, baseURL, region, clientID, clientSecret string
		resources                                    []string
		workers                                      int
		every, scanEvery, jobTimeout, rescueAfter    time.Duration
		migrate                                      bool
	)
	cmd := &cobra.Command{
		Use:           "clio-worker",
		Short:         "Keep many Clio firms in step in PostgreSQL, with River jobs",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if dsn == "" {
				return fmt.Errorf("--database-url (or DATABASE_URL) is required")
			}
			if migrate {
				pool, err := pgxpool.New(ctx, dsn)
				if err != nil {
					return err
				}
				defer pool.Close()
				return riverreplica.Migrate(ctx, riverreplica.Config{Pool: pool})
			}
			if clientID == "" || clientSecret == "" {
				return fmt.Errorf("the app's credentials are missing: --client-id/--client-secret or CLIO_CLIENT_ID/CLIO_CLIENT_SECRET")
			}
			rs, err := replica.LookupResources(resources...)
			if err != nil {
				return err
			}
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				return err
			}
			defer pool.Close()
			o, err := clio.NewOAuth(clio.OAuthConfig{ClientID: clientID, ClientSecret: clientSecret,
				RedirectURL: "http://127.0.0.1/callback", Region: clio.Region(region), BaseURL: baseURL})
			if err != nil {
				return err
			}
			tokens, err := riverreplica.NewTokenStore(ctx, pool, func(ctx context.Context, rt string) (*oauth2.Token, error) {
				return o.Config().TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
			})
			if err != nil {
				return err
			}
			opts := []clio.Option{clio.WithRegion(clio.Region(region))}
			if baseURL != "" {
				opts = []clio.Option{clio.WithBaseURL(baseURL)}
			}
			cfg := riverreplica.Config{Pool: pool, Tokens: tokens, Resources: rs, ClientOptions: opts,
				Workers: workers, Every: every, ScanEvery: scanEvery, JobTimeout: jobTimeout, RescueAfter: rescueAfter}
			return riverreplica.Run(ctx, cfg)
		},
	}
	// The firms commands are for operators; cobra's completion command would only clutter
	// the help of a daemon.
	cmd.CompletionOptions.DisableDefaultCmd = true
	// Persistent, so that the firms commands take it too.
	cmd.PersistentFlags().StringVar(&dsn, "database-url", os.Getenv("DATABASE_URL"), "the PostgreSQL database of the jobs, tokens and copies")
	cmd.AddCommand(newFirms(&dsn))
	f := cmd.Flags()
	f.StringVar(&baseURL, "base-url", "", "Clio's base URL, replacing the region's")
	f.StringVar(&region, "region", "us", "Clio region: us, ca, eu or au")
	f.StringVar(&clientID, "client-id", os.Getenv("CLIO_CLIENT_ID"), "the OAuth app's client id")
	f.StringVar(&clientSecret, "client-secret", os.Getenv("CLIO_CLIENT_SECRET"), "the OAuth app's client secret")
	f.StringSliceVar(&resources, "resources", replica.DefaultResources, "the collections to keep in step")
	f.IntVar(&workers, "workers", 10, "jobs at once in this process")
	f.DurationVar(&every, "every", 15*time.Minute, "how often every firm gets a delta pass")
	f.DurationVar(&scanEvery, "scan-every", replica.DefaultScanEvery, "how often an id scan looks for deletes")
	f.DurationVar(&jobTimeout, "job-timeout", time.Minute, "how long one job (one page) may take")
	f.DurationVar(&rescueAfter, "rescue-after", 10*time.Minute, "how long a job may stay running before another worker takes it over (a machine died)")
	f.BoolVar(&migrate, "migrate", false, "create or update River's tables, then exit")
	return cmd
}
