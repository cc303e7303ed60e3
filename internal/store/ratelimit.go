package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// LockRateLimit serialises, until the end of tx, the counted writes of one
// person for one action, across every process: two requests at once cannot
// both see room for one more.
func LockRateLimit(ctx context.Context, q Querier, action string, person uuid.UUID) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('rate_limit:' || $1 || ':' || $2::text, 0))`,
		action, person)
	return translate(err, "lock the rate limit")
}

// RateLimitHits counts a person's hits for action since a moment and
// returns the oldest of them (zero when there is none).
func RateLimitHits(ctx context.Context, q Querier, action string, person uuid.UUID, since time.Time) (int, time.Time, error) {
	var n int
	var oldest *time.Time
	err := q.QueryRow(ctx, `SELECT count(*), min(at) FROM rate_limit_hits
		WHERE action = $1 AND person_id = $2 AND at > $3`, action, person, since).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, translate(err, "count the rate limit")
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, *oldest, nil
}

// AddRateLimitHit counts one write of a person and forgets the person's
// hits older than before, so that the table stays as small as the windows.
func AddRateLimitHit(ctx context.Context, q Querier, action string, person uuid.UUID, at, before time.Time) error {
	if _, err := q.Exec(ctx, `DELETE FROM rate_limit_hits WHERE action = $1 AND person_id = $2 AND at <= $3`,
		action, person, before); err != nil {
		return translate(err, "forget old rate limit hits")
	}
	_, err := q.Exec(ctx, `INSERT INTO rate_limit_hits (action, person_id, at) VALUES ($1, $2, $3)`, action, person, at)
	return translate(err, "count a rate-limited write")
}
