package riverreplica_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/cliotest"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/contrib/river/riverreplica"
	"github.com/clio-go/clio-go/internal/pgtest"
)

// fleetResources are kept small (a few fields) so that 200 firms sync quickly; the field
// lists do not change what the jobs do.
var fleetResources = []replica.Resource{
	{Name: "matters", Model: "matter", Fields: "id,etag,updated_at,description", UpdatedSince: true},
	{Name: "contacts", Model: "contact", Fields: "id,etag,updated_at,name", UpdatedSince: true},
}

const fleetRecords = 300 // two pages per resource: every firm's chain has a next-page job

// TestMain lets the test binary run as a worker process (see runWorker).
func TestMain(m *testing.M) {
	if os.Getenv("RIVERREPLICA_WORKER_DSN") != "" {
		if err := runWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func config(ctx context.Context, pool *pgxpool.Pool, base string) (riverreplica.Config, error) {
	o, err := clio.NewOAuth(clio.OAuthConfig{ClientID: cliotest.DefaultClientID, ClientSecret: cliotest.DefaultClientSecret,
		RedirectURL: "http://127.0.0.1/callback", BaseURL: base})
	if err != nil {
		return riverreplica.Config{}, err
	}
	tokens, err := riverreplica.NewTokenStore(ctx, pool, func(ctx context.Context, rt string) (*oauth2.Token, error) {
		return o.Config().TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	})
	if err != nil {
		return riverreplica.Config{}, err
	}
	tokens.Early = 500 * time.Millisecond
	// A killed worker's running job is taken over after RescueAfter.
	return riverreplica.Config{Pool: pool, Tokens: tokens, Resources: fleetResources, ScanEvery: -1, Workers: 8, Every: time.Hour,
		JobTimeout: 5 * time.Second, RescueAfter: 6 * time.Second, ClientOptions: []clio.Option{clio.WithBaseURL(base)}}, nil
}

// runWorker is one worker process: it works jobs until it is killed.
func runWorker() error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("RIVERREPLICA_WORKER_DSN"))
	if err != nil {
		return err
	}
	cfg, err := config(ctx, pool, os.Getenv("RIVERREPLICA_WORKER_CLIO"))
	if err != nil {
		return err
	}
	return riverreplica.Run(ctx, cfg)
}

// refreshWatch records the refresh tokens presented to the fake's token endpoint: a
// refresh token presented twice means two workers refreshed one firm's token at once.
type refreshWatch struct {
	mu    sync.Mutex
	seen  map[string]int
	calls int
}

func (w *refreshWatch) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			if rt := form.Get("refresh_token"); rt != "" {
				w.mu.Lock()
				w.seen[rt]++
				w.calls++
				w.mu.Unlock()
			}
		}
		next.ServeHTTP(rw, r)
	})
}

func TestThreeWorkerProcessesSync200Firms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and worker processes")
	}
	ctx := context.Background()
	pg := pgtest.Start(t)
	pool, err := pgxpool.New(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// One fake Clio, a token per firm, tokens that expire during the run and refresh
	// tokens that rotate (a refresh token used twice is refused).
	fake, err := cliotest.New(cliotest.WithRotatingRefreshTokens(), cliotest.WithTokenLifetime(3*time.Second),
		cliotest.WithRateLimit(0, 0), cliotest.WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	watch := &refreshWatch{seen: map[string]int{}}
	hs := httptest.NewServer(watch.wrap(fake.Handler()))
	defer hs.Close()
	contacts, matters := make([]map[string]any, fleetRecords), make([]map[string]any, fleetRecords)
	for i := range contacts {
		contacts[i] = map[string]any{"name": fmt.Sprint("Client ", i), "type": "Person"}
	}
	cids := fake.MustInsert(t, "contacts", contacts...)
	for i := range matters {
		matters[i] = map[string]any{"description": fmt.Sprint("Matter ", i), "client": map[string]any{"id": cids[i]}}
	}
	fake.MustInsert(t, "matters", matters...)
	// 429 storms: the jobs must snooze through them, not fail.
	fake.InjectFault(cliotest.Fault{Kind: cliotest.FaultRateLimit, Method: "GET", Path: "/api/v4/matters.json", Count: 60, RetryAfter: time.Second})
	fake.InjectFault(cliotest.Fault{Kind: cliotest.FaultStatus, Method: "GET", Path: "/api/v4/contacts.json", Count: 10, Status: 503})

	cfg, err := config(ctx, pool, hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := riverreplica.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := riverreplica.NewWorkers(ctx, cfg); err != nil { // the sink's tables
		t.Fatal(err)
	}
	const firms = 200
	for i := range firms {
		tok := fake.IssueToken()
		if err := cfg.Tokens.Save(ctx, fmt.Sprintf("firm-%03d", i), &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
			Expiry: time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}

	var procs []*exec.Cmd
	start := func() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RIVERREPLICA_WORKER_DSN="+pg.DSN, "RIVERREPLICA_WORKER_CLIO="+hs.URL)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	for range 3 {
		start()
	}
	killed := false
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}()

	// Done when every firm's resources completed a full pass and no job is left.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		var synced, open int
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM clio_replica_checkpoints WHERE (state->>'synced')::boolean AND NOT state ? 'pass'),
			(SELECT count(*) FROM river_job WHERE kind = 'clio_replica_sync' AND state NOT IN ('completed'))`).Scan(&synced, &open); err != nil {
			t.Fatal(err)
		}
		if synced == firms*len(fleetResources) && open == 0 {
			break
		}
		if !killed && synced > firms/4 {
			// A machine dies mid-run (its jobs in flight are rescued by the others) and
			// another one joins.
			killed = true
			_ = procs[0].Process.Kill()
			_ = procs[0].Wait()
			start()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4 minutes %d of %d firm resources are synced, %d jobs open:\n%s", synced, firms*len(fleetResources), open, openJobs(ctx, t, pool))
		}
		time.Sleep(300 * time.Millisecond)
	}

	for _, coll := range []string{"matters", "contacts"} {
		rows, err := pool.Query(ctx, `SELECT firm, count(*), count(DISTINCT id) FROM `+coll+` WHERE NOT deleted GROUP BY firm`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var firm string
			var count, distinct int
			if err := rows.Scan(&firm, &count, &distinct); err != nil {
				t.Fatal(err)
			}
			n++
			if count != fleetRecords || distinct != fleetRecords {
				t.Errorf("%s of %s: %d rows, %d ids, want %d", coll, firm, count, distinct, fleetRecords)
			}
		}
		rows.Close()
		if n != firms {
			t.Errorf("%s: %d firms stored, want %d", coll, n, firms)
		}
	}
	var failed, with429 int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state IN ('discarded', 'cancelled')),
		count(*) FILTER (WHERE errors::text LIKE '%429%' OR errors::text LIKE '%Too Many%') FROM river_job`).Scan(&failed, &with429); err != nil {
		t.Fatal(err)
	}
	if failed != 0 || with429 != 0 {
		t.Errorf("%d jobs failed for good, %d jobs recorded a 429 as an error (a 429 must snooze)", failed, with429)
	}
	if left := fake.PendingFaults(); left != 0 {
		t.Errorf("%d injected faults were not hit", left)
	}
	var refreshes int
	if err := pool.QueryRow(ctx, `SELECT COALESCE(sum(refreshes), 0) FROM clio_replica_tokens`).Scan(&refreshes); err != nil {
		t.Fatal(err)
	}
	watch.mu.Lock()
	defer watch.mu.Unlock()
	for rt, n := range watch.seen {
		if n > 1 {
			t.Errorf("refresh token %s… was presented %d times: a token was refreshed twice", rt[:16], n)
		}
	}
	if refreshes == 0 || watch.calls != refreshes {
		t.Errorf("%d refreshes recorded, %d refresh calls seen: the test did not exercise refreshing", refreshes, watch.calls)
	}
	if !killed {
		t.Error("no worker was killed during the run")
	}
	t.Logf("200 firms synced by 3 worker processes, one of them killed and replaced; %d token refreshes", refreshes)
}

// openJobs describes the sync jobs not completed, for a failure message: their state,
// attempts, when they run next and their last error.
func openJobs(ctx context.Context, t *testing.T, pool *pgxpool.Pool) string {
	rows, err := pool.Query(ctx, `SELECT id, state, attempt, max_attempts, args::text,
		extract(epoch FROM scheduled_at - now())::int, coalesce(errors[array_length(errors, 1)]::text, '')
		FROM river_job WHERE kind = 'clio_replica_sync' AND state NOT IN ('completed') ORDER BY id`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var state, args, lastErr string
		var attempt, maxAttempts, inSecs int
		if err := rows.Scan(&id, &state, &attempt, &maxAttempts, &args, &inSecs, &lastErr); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "  job %d %s attempt %d/%d %s, scheduled in %ds, last error %s\n", id, state, attempt, maxAttempts, args, inSecs, lastErr)
	}
	return b.String()
}
