package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/internal/apperr"
	"github.com/samverkan/samverkan/internal/ratelimit"
	"github.com/samverkan/samverkan/internal/store"
	"github.com/samverkan/samverkan/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestLimitCountsPerPersonAndWindow(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	sdb := store.New(db.Pool)
	l := ratelimit.New(ratelimit.Limit{Action: "thing.make", Max: 2, Window: time.Hour, WhatSV: "saker", WhatEN: "things"})
	anna, bo := uuid.New(), uuid.New()
	t0 := time.Date(2041, 1, 1, 12, 0, 0, 0, time.UTC)
	take := func(who uuid.UUID, at time.Time) error {
		return sdb.InTx(context.Background(), func(tx pgx.Tx) error { return l.TakeTx(context.Background(), tx, who, at) })
	}
	hits := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rate_limit_hits`).Scan(&n))
		return n
	}

	require.NoError(t, take(anna, t0))
	require.NoError(t, take(anna, t0.Add(20*time.Minute)))
	require.NoError(t, l.Refused(anna, t0.Add(30*time.Minute)))
	err := take(anna, t0.Add(30*time.Minute))
	require.Equal(t, apperr.RateLimited, apperr.CodeOf(err))
	require.Equal(t, "För många saker: högst 2 per timme. Försök igen om 30 minuter. / Too many things: at most 2 per hour. Try again in 30 minutes.",
		err.(*apperr.Error).Message)
	require.Equal(t, 2, hits(), "the refusal was counted")
	// Refused again from memory, until the oldest hit leaves the hour.
	err = l.Refused(anna, t0.Add(50*time.Minute))
	require.Equal(t, apperr.RateLimited, apperr.CodeOf(err))
	require.Contains(t, err.Error(), "Försök igen om 10 minuter")
	require.NoError(t, take(bo, t0.Add(50*time.Minute)), "another person is limited on their own")

	require.NoError(t, l.Refused(anna, t0.Add(time.Hour)))
	require.NoError(t, take(anna, t0.Add(time.Hour)))
	require.Equal(t, 3, hits(), "the hit older than the hour is forgotten")
}
