// Package jobs builds the River client that runs the service's background
// work. The job kinds themselves (timers, follow-up openers, reminders) live
// with the workflows that own them and are registered here through Options.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/samverkan/samverkan/internal/clock"
	"github.com/samverkan/samverkan/internal/store"
)

// Client is the River client over pgx.
type Client = river.Client[pgx.Tx]

// MailFetchCooldown is how often, at most, the mail queue fetches new jobs
// while it has work. A queue works at most MaxWorkers jobs per cooldown, so
// River's default of 100 ms would hold 10 mail workers to 100 messages/s
// however fast the server is; the other queues keep River's default.
const MailFetchCooldown = 10 * time.Millisecond

// Options configure the client.
type Options struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	Clock    clock.Clock
	Logger   *slog.Logger
	// WorkerCount is the number of jobs worked at once; 0 makes an
	// insert-only client (the `api` subcommand).
	WorkerCount int
	// FetchCooldown and FetchPollInterval trade latency for load; zero keeps
	// River's defaults. Tests shorten them.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// MailWorkers is the number of e-mail deliveries sent at once (River
	// queue store.DeliveryQueue); 0: this client does not send mail.
	MailWorkers int
	// MailFetchCooldown is the mail queue's own FetchCooldown (0: the
	// client's).
	MailFetchCooldown time.Duration
	// Middleware wraps every job (metrics, traces).
	Middleware []rivertype.Middleware
}

// NewClient builds a River client. Call Start on it to work jobs.
func NewClient(pool *pgxpool.Pool, o Options) (*Client, error) {
	cfg := &river.Config{
		Workers:           o.Workers,
		PeriodicJobs:      o.Periodic,
		Logger:            o.Logger,
		FetchCooldown:     o.FetchCooldown,
		FetchPollInterval: o.FetchPollInterval,
		ErrorHandler:      &errorLogger{log: o.Logger},
		Middleware:        o.Middleware,
		// A job that fails keeps being retried with River's exponential
		// backoff; after this many attempts it is discarded and stays
		// visible to admins in River UI.
		MaxAttempts: 10,
	}
	if o.WorkerCount > 0 {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.WorkerCount}}
		if o.MailWorkers > 0 {
			mail := river.QueueConfig{MaxWorkers: o.MailWorkers, FetchCooldown: o.MailFetchCooldown}
			if o.FetchPollInterval > 0 && o.FetchPollInterval < o.MailFetchCooldown {
				// River wants a queue to poll no more often than it fetches.
				mail.FetchPollInterval = o.MailFetchCooldown
			}
			cfg.Queues[store.DeliveryQueue] = mail
		}
	}
	if _, real := o.Clock.(clock.Real); o.Clock != nil && !real {
		cfg.Test.Time = o.Clock
		// River's stuck-job rescuer compares a job's (test-clock) start with
		// the wall clock; with a story set in 2018 every running job would
		// look stuck for years and be run again.
		cfg.RescueStuckJobsAfter = 100 * 365 * 24 * time.Hour
		// Its cleaner measures a finished job's age by the test clock, which
		// jumps months at a time: it would delete jobs a test still reads.
		cfg.CompletedJobRetentionPeriod = -1
		cfg.DiscardedJobRetentionPeriod = -1
		cfg.CancelledJobRetentionPeriod = -1
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Queues))
	for q := range cfg.Queues {
		names = append(names, q)
	}
	worked.Store(c, names)
	return c, nil
}

// worked remembers the queues each client works, for Queues.
var worked sync.Map // *Client -> []string

// Queues are the River queues a client built by NewClient works (none for
// an insert-only client).
func Queues(c *Client) []string {
	if v, ok := worked.Load(c); ok {
		return v.([]string)
	}
	return nil
}

// errorLogger logs job failures; River retries them.
type errorLogger struct{ log *slog.Logger }

func (h *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.log.WarnContext(ctx, "job failed", "kind", job.Kind, "id", job.ID, "attempt", job.Attempt, "err", err)
	return nil
}

func (h *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	h.log.ErrorContext(ctx, "job panicked", "kind", job.Kind, "id", job.ID, "attempt", job.Attempt, "panic", panicVal, "trace", trace)
	return nil
}
