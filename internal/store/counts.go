package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// KindStateCount is a count of rows by kind and state.
type KindStateCount struct {
	Kind, State string
	N           int64
}

func countByKindState(ctx context.Context, q Querier, sql string, args ...any) ([]KindStateCount, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err, "count")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KindStateCount, error) {
		var c KindStateCount
		err := r.Scan(&c.Kind, &c.State, &c.N)
		return c, err
	})
	return out, translate(err, "count")
}

// JobCounts counts River's jobs by kind and state.
func JobCounts(ctx context.Context, q Querier) ([]KindStateCount, error) {
	return countByKindState(ctx, q, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state`)
}

// OpenInstanceCounts counts open workflow instances by kind and state.
func OpenInstanceCounts(ctx context.Context, q Querier) ([]KindStateCount, error) {
	return countByKindState(ctx, q, `SELECT kind, state, count(*) FROM workflow_instances WHERE NOT final GROUP BY kind, state`)
}

// OverdueFollowUps counts follow-ups collecting reports past their deadline.
func OverdueFollowUps(ctx context.Context, q Querier, now time.Time) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT count(*) FROM workflow_instances WHERE kind = 'annual_follow_up'
		AND state = 'collecting_reports' AND (data ->> 'reportDeadline')::timestamptz < $1`, now).Scan(&n)
	return n, translate(err, "count overdue follow-ups")
}
