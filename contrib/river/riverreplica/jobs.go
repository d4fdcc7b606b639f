package riverreplica

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/clio-go/clio-go/clio"
	"github.com/clio-go/clio-go/clio/replica"
	"github.com/clio-go/clio-go/clio/replica/pgsink"
)

// uniqueStates are River's required unique states without completed: the job of a
// firm's next page is inserted in the transaction that completes the current one.
var uniqueStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

// SyncArgs is the job that applies the next page of a firm's resource.
type SyncArgs struct {
	Firm     string `json:"firm"`
	Resource string `json:"resource"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "clio_replica_sync" }

// InsertOpts makes the job unique per firm and resource.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// ScheduleArgs is the periodic job that starts a pass of every firm and resource, or with
// Renew set, a renewal of every firm's webhooks.
type ScheduleArgs struct {
	Renew bool `json:"renew,omitempty"`
}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return "clio_replica_schedule" }

// Config is what the workers need.
type Config struct {
	Pool   *pgxpool.Pool
	Tokens *TokenStore
	// Resources are the collections kept in step for every firm.
	Resources []replica.Resource
	// ClientOptions build each firm's client (the host, an HTTP client); the credential
	// comes from Tokens.
	ClientOptions []clio.Option
	// Overlap and ScanEvery tune the engine (see replica.Engine).
	Overlap   time.Duration
	ScanEvery time.Duration
	// Every is how often the periodic job starts passes (default 15 minutes).
	Every time.Duration
	// Workers is how many jobs run at once in this process (default 10).
	Workers int
	// JobTimeout bounds one job, one page (default one minute). RescueAfter is how long
	// a job may stay running before another worker takes it over: the job of a killed
	// worker is rescued after it (default one hour, River's; it must exceed JobTimeout).
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// RetryPolicy says when a failed job runs again (default CappedRetry). River's own
	// waits n⁴ seconds after the nth failure: over four minutes after the fourth, and
	// a page that failed on a hiccup, a rescue and two 503s would hold its firm back for
	// that long.
	RetryPolicy river.ClientRetryPolicy
}

// CappedRetry is the default RetryPolicy: a failed job runs again after 2ⁿ seconds for its
// nth failure, at most MaxRetryDelay, plus up to a tenth of that at random so that jobs
// that failed together do not come back together.
type CappedRetry struct{}

// MaxRetryDelay is the longest CappedRetry waits: a firm's chain is never held back much
// longer than this by a failing page.
const MaxRetryDelay = 5 * time.Minute

// NextRetry implements river.ClientRetryPolicy.
func (CappedRetry) NextRetry(job *rivertype.JobRow) time.Time {
	n := min(len(job.Errors)+1, 10) // 2^10 s is past the cap already
	d := min(time.Duration(1<<n)*time.Second, MaxRetryDelay)
	return time.Now().Add(d + rand.N(d/10+1))
}

// Workers holds the job workers of one process.
type Workers struct {
	cfg     Config
	sink    *pgsink.Sink
	mu      sync.Mutex
	sources map[string]*replica.ClientSource
}

// NewWorkers prepares the workers: the sink's tables and the clients' settings.
func NewWorkers(ctx context.Context, cfg Config) (*Workers, error) {
	if cfg.Pool == nil || cfg.Tokens == nil || len(cfg.Resources) == 0 {
		return nil, errors.New("riverreplica: Config needs a Pool, Tokens and Resources")
	}
	sink, err := pgsink.New(ctx, cfg.Pool)
	if err != nil {
		return nil, err
	}
	for _, r := range cfg.Resources {
		if _, err := sink.Table(ctx, r.Name); err != nil {
			return nil, err
		}
	}
	return &Workers{cfg: cfg, sink: sink, sources: map[string]*replica.ClientSource{}}, nil
}

// Sink is the PostgreSQL sink the workers write to.
func (w *Workers) Sink() *pgsink.Sink { return w.sink }

// Register adds the workers to a River registry.
func (w *Workers) Register(reg *river.Workers) {
	river.AddWorker(reg, &syncWorker{w: w})
	river.AddWorker(reg, &scheduleWorker{w: w})
	river.AddWorker(reg, &renewWorker{w: w})
}

// PeriodicJobs are the jobs River schedules: a pass of every firm every cfg.Every (id
// scans come with them when due), and a renewal of every firm's webhooks every day.
func (w *Workers) PeriodicJobs() []*river.PeriodicJob {
	every := w.cfg.Every
	if every <= 0 {
		every = 15 * time.Minute
	}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{Renew: true}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// NewClient builds a River client that runs the workers.
func (w *Workers) NewClient() (*river.Client[pgx.Tx], error) {
	reg := river.NewWorkers()
	w.Register(reg)
	n := w.cfg.Workers
	if n <= 0 {
		n = 10
	}
	return river.NewClient(driver(w.cfg.Pool), &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}},
		Workers:              reg,
		PeriodicJobs:         w.PeriodicJobs(),
		JobTimeout:           w.cfg.JobTimeout,
		RescueStuckJobsAfter: w.cfg.RescueAfter,
		RetryPolicy:          w.retryPolicy(),
	})
}

func (w *Workers) retryPolicy() river.ClientRetryPolicy {
	if w.cfg.RetryPolicy != nil {
		return w.cfg.RetryPolicy
	}
	return CappedRetry{}
}

// Enqueue starts a pass of every firm with a token and every resource, skipping the
// firms whose chain is still running; with renew, a webhook renewal of every firm.
func (w *Workers) Enqueue(ctx context.Context, client *river.Client[pgx.Tx], renew bool) (int, error) {
	firms, err := w.cfg.Tokens.Firms(ctx)
	if err != nil {
		return 0, err
	}
	params := make([]river.InsertManyParams, 0, len(firms)*len(w.cfg.Resources))
	for _, f := range firms {
		if renew {
			params = append(params, river.InsertManyParams{Args: RenewArgs{Firm: f}})
			continue
		}
		for _, r := range w.cfg.Resources {
			params = append(params, river.InsertManyParams{Args: SyncArgs{Firm: f, Resource: r.Name}})
		}
	}
	if len(params) == 0 {
		return 0, nil
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

// source is the firm's client in this process: one per firm, so one rate limiter per
// token.
func (w *Workers) source(ctx context.Context, firm string) (*replica.ClientSource, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.sources[firm]; s != nil {
		return s, nil
	}
	opts := append([]clio.Option{}, w.cfg.ClientOptions...)
	opts = append(opts, clio.WithTokenSource(w.cfg.Tokens.TokenSource(firm)), clio.WithRetryer(snoozeOn429{}))
	s, err := replica.NewWatchedClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	w.sources[firm] = s
	return s, nil
}

func (w *Workers) resource(name string) (replica.Resource, bool) {
	for _, r := range w.cfg.Resources {
		if r.Name == name {
			return r, true
		}
	}
	return replica.Resource{}, false
}

// snoozeOn429 is the standard retryer, except that a 429 is not waited for in the worker
// slot: it comes back to the job, which snoozes.
type snoozeOn429 struct{}

var standard = &clio.StandardRetryer{MaxAttempts: 4, BaseDelay: 50 * time.Millisecond, MaxDelay: 2 * time.Second}

func (snoozeOn429) RetryDelay(a clio.Attempt) (time.Duration, bool) {
	if a.Response != nil && a.Response.StatusCode == http.StatusTooManyRequests {
		return 0, false
	}
	return standard.RetryDelay(a)
}

type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	w *Workers
}

// Work applies one page. Its Sink applies the page, completes this job and inserts the
// next page's job in one transaction.
func (s *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	r, ok := s.w.resource(job.Args.Resource)
	if !ok {
		return river.JobCancel(fmt.Errorf("riverreplica: resource %q is not configured", job.Args.Resource))
	}
	src, err := s.w.source(ctx, job.Args.Firm)
	if err != nil {
		return err
	}
	eng := &replica.Engine{Firm: job.Args.Firm, Source: src, Sink: &jobSink{w: s.w, job: job}, Resources: []replica.Resource{r},
		Overlap: s.w.cfg.Overlap, ScanEvery: s.w.cfg.ScanEvery}
	_, err = eng.Step(ctx, r)
	return snoozeIfRateLimited(err)
}

// snoozeIfRateLimited turns a 429 into a snooze until Clio's window resets: River then
// runs the job again without counting a failed attempt.
func snoozeIfRateLimited(err error) error {
	var ce *clio.Error
	if errors.As(err, &ce) && ce.StatusCode == http.StatusTooManyRequests {
		wait := ce.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		return river.JobSnooze(wait)
	}
	return err
}

// jobSink commits a page with the job's completion and the next page's job.
type jobSink struct {
	w   *Workers
	job *river.Job[SyncArgs]
}

func (j *jobSink) Checkpoint(ctx context.Context, firm, resource string) (replica.Checkpoint, error) {
	return j.w.sink.Checkpoint(ctx, firm, resource)
}

func (j *jobSink) Apply(ctx context.Context, b *replica.Batch) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, j.w.cfg.Pool, func(tx pgx.Tx) error {
		if err := j.w.sink.ApplyTx(ctx, tx, b); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverDriver](ctx, tx, j.job); err != nil {
			return err
		}
		if b.Checkpoint != nil && b.Checkpoint.Next != "" {
			if _, err := client.InsertTx(ctx, tx, j.job.Args, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	w *Workers
}

func (s *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	_, err = s.w.Enqueue(ctx, client, job.Args.Renew)
	return err
}

func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07")
}
