// Package jobstest works River jobs made due by a test clock, so that a test
// of timers and yearly work can span months in a moment.
package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/jobs"
)

// Only jobs in the queues the client works count (jobs.Queues): the e-mail
// queue's jobs wait for a client that sends mail.
//
// RunDue asks River to work now every job due at now (scheduled, or
// retryable, at or before it), rather than at its scheduler's next 5-second
// tick, and waits until no job is due; jobs that the worked ones make due at
// once are worked too. It returns the errors of jobs that failed (retryable
// or discarded), for tests that expect none.
func RunDue(tb testing.TB, pool *pgxpool.Pool, client *jobs.Client, now time.Time, timeout time.Duration) string {
	tb.Helper()
	queues := jobs.Queues(client)
	return wait(tb, pool, queues, now, timeout, func(ctx context.Context) {
		rows, err := pool.Query(ctx, `SELECT id FROM river_job WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= $1
			AND queue = ANY($2)`, now, queues)
		require.NoError(tb, err)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(tb, err)
		for _, id := range ids {
			_, err := client.JobRetry(ctx, id)
			require.NoError(tb, err)
		}
	})
}

// Wait waits until no job of the client's queues is due at now (running,
// or scheduled at or before it, or available: a job made available by
// RunDue carries River's clock, a moment after now; one written available
// with a time well ahead, as the e-mail fan-out writes a story's, waits for
// the clock), leaving it to River to start
// them. It returns the errors of jobs that failed.
func Wait(tb testing.TB, pool *pgxpool.Pool, client *jobs.Client, now time.Time, timeout time.Duration) string {
	tb.Helper()
	return wait(tb, pool, jobs.Queues(client), now, timeout, nil)
}

func wait(tb testing.TB, pool *pgxpool.Pool, queues []string, now time.Time, timeout time.Duration, each func(context.Context)) string {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		if each != nil {
			each(ctx)
		}
		var due int
		var failed string
		require.NoError(tb, pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state IN ('running', 'pending')
				OR (state IN ('scheduled', 'retryable') AND scheduled_at <= $1)
				OR (state = 'available' AND scheduled_at <= $1 + interval '1 minute')),
			coalesce(string_agg(errors::text, '; ') FILTER (WHERE state IN ('retryable', 'discarded')), '')
			FROM river_job WHERE queue = ANY($2)`, now, queues).Scan(&due, &failed))
		if due == 0 {
			return failed
		}
		if time.Now().After(deadline) {
			var kinds string
			_ = pool.QueryRow(ctx, `SELECT coalesce(string_agg(kind || ' ' || state || ' ' || queue || ' ' || scheduled_at::text, '; '), '')
				FROM river_job WHERE queue = ANY($2) AND (state IN ('running', 'pending')
				OR (state IN ('scheduled', 'retryable') AND scheduled_at <= $1)
				OR (state = 'available' AND scheduled_at <= $1 + interval '1 minute'))`, now, queues).Scan(&kinds)
			tb.Fatalf("%d jobs still due after %s (failures: %q): %s", due, timeout, failed, kinds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
